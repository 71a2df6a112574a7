//! A single cluster-enabled node that owns every slot.

use std::time::Duration;

use redis_test_harness::{info_field, text, wait_until, RawConnection, Server, ServerKind};

fn check_single_node_cluster(kind: ServerKind) {
    let server = Server::builder(kind).cluster().start();
    assert!(server.cluster_port().is_some());
    let mut conn = RawConnection::connect_to(&server).unwrap();
    let info = text(&conn.call_ok(&["CLUSTER", "INFO"]).unwrap()).unwrap();
    assert_eq!(info_field(&info, "cluster_state"), Some("ok"), "{info}");
    assert_eq!(
        info_field(&info, "cluster_slots_assigned"),
        Some("16384"),
        "{info}"
    );
    assert_eq!(
        info_field(&info, "cluster_known_nodes"),
        Some("1"),
        "{info}"
    );
    // Any key is served here, no redirection.
    for key in ["a", "b", "{user}:1", "zzz"] {
        conn.call_ok(&["SET", key, "v"]).unwrap();
    }
    assert!(server.dir().join("nodes.conf").exists());
}

#[test]
fn redis_cluster_node_is_ok() {
    check_single_node_cluster(ServerKind::Redis);
}

#[test]
fn valkey_cluster_node_is_ok() {
    check_single_node_cluster(ServerKind::Valkey);
}

#[test]
fn empty_node_joins_as_replica_over_the_default_bus_port() {
    let master = Server::builder(ServerKind::Redis).cluster().start();
    let replica = Server::builder(ServerKind::Redis).cluster_empty().start();
    assert_eq!(replica.cluster_port(), Some(replica.port() + 10000));
    let mut on_master = RawConnection::connect_to(&master).unwrap();
    let mut on_replica = RawConnection::connect_to(&replica).unwrap();
    let info = text(&on_replica.call_ok(&["CLUSTER", "INFO"]).unwrap()).unwrap();
    assert_eq!(
        info_field(&info, "cluster_slots_assigned"),
        Some("0"),
        "{info}"
    );

    let master_id = text(&on_master.call_ok(&["CLUSTER", "MYID"]).unwrap()).unwrap();
    // No bus port given: the node is reached on port + 10000.
    on_replica
        .call_ok(&["CLUSTER", "MEET", "127.0.0.1", &master.port().to_string()])
        .unwrap();
    wait_until(
        "the replica to learn the master",
        Duration::from_secs(15),
        || {
            on_replica
                .call_ok(&["CLUSTER", "REPLICATE", &master_id])
                .map_err(|e| e.to_string())
        },
    )
    .unwrap();
    wait_until("the replica to sync", Duration::from_secs(15), || {
        let info = on_replica.info("replication").map_err(|e| e.to_string())?;
        match info_field(&info, "master_link_status") {
            Some("up") => Ok(()),
            other => Err(format!("master_link_status {other:?}")),
        }
    })
    .unwrap();
}
