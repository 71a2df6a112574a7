//! Reads from replicas: READONLY on their connections, the strategies, the fall back to the
//! primary when a replica is gone.

mod cluster_support;

use bytes::Bytes;
use cluster_support::{builder, KINDS};
use redis_client::cluster::{key_slot, ReadFrom};
use redis_client::Commands;
use redis_test_harness::{info_field, ClusterSetup, RawConnection, ServerKind};

/// How many GETs node `index` executed (rejected ones, such as MOVED, are not counted).
fn gets_on(cluster: &ClusterSetup, index: usize) -> u64 {
    let mut conn: RawConnection = cluster.connect(index).unwrap();
    let stats = conn.info("commandstats").unwrap();
    info_field(&stats, "cmdstat_get")
        .and_then(|v| v.split(',').next())
        .and_then(|calls| calls.strip_prefix("calls="))
        .map_or(0, |n| n.parse().unwrap())
}

fn reads_from_replicas(kind: ServerKind) {
    let mut cluster = ClusterSetup::start(kind);
    let c = builder(&cluster)
        .read_from(ReadFrom::PreferReplica)
        .build()
        .unwrap();
    let key = "replicated";
    c.set(key, "v").unwrap();
    let primary = cluster.owner_of(key_slot(key.as_bytes())).unwrap();
    let replica = cluster.replicas_of(primary).unwrap()[0];
    // The write reached the replica before we read there.
    cluster
        .connect(primary)
        .unwrap()
        .call_ok(&["WAIT", "1", "5000"])
        .unwrap();
    let before = (gets_on(&cluster, primary), gets_on(&cluster, replica));
    for _ in 0..20 {
        assert_eq!(c.get(key).unwrap(), Some(Bytes::from("v")));
    }
    let after = (gets_on(&cluster, primary), gets_on(&cluster, replica));
    assert_eq!(after.0, before.0, "no read went to the primary");
    assert_eq!(
        after.1,
        before.1 + 20,
        "every read ran on the replica (READONLY sent)"
    );
    // Writes still go to the primary.
    c.set(key, "w").unwrap();

    // Primary and replicas in turn.
    let both = builder(&cluster)
        .read_from(ReadFrom::PrimaryAndReplicas)
        .build()
        .unwrap();
    let before = (gets_on(&cluster, primary), gets_on(&cluster, replica));
    for _ in 0..20 {
        both.get(key).unwrap();
    }
    let after = (gets_on(&cluster, primary), gets_on(&cluster, replica));
    assert_eq!((after.0 - before.0) + (after.1 - before.1), 20);
    assert!(
        after.0 > before.0 && after.1 > before.1,
        "{before:?} {after:?}"
    );

    // The replica dies: reads fall back to the primary.
    cluster.node_mut(replica).kill();
    let started = std::time::Instant::now();
    for _ in 0..20 {
        assert_eq!(c.get(key).unwrap(), Some(Bytes::from("w")));
    }
    // Only the first read pays for the dead replica; the others skip it.
    let took = started.elapsed();
    eprintln!("{kind:?}: 20 reads with the replica dead took {took:?}");
    assert!(took < std::time::Duration::from_millis(800), "{took:?}");
    assert_eq!(c.get(key).unwrap(), Some(Bytes::from("w")));
}

#[test]
fn reads_from_replicas_on_both_servers() {
    for kind in KINDS {
        reads_from_replicas(kind);
    }
}
