//! The 3-primary, 3-replica cluster harness and its helpers: migrate a slot, fail over, kill.

use redis_client::Value;
use redis_test_harness::{text, ClusterSetup, ServerKind};

fn get(cluster: &ClusterSetup, node: usize, key: &str) -> Value {
    cluster.connect(node).unwrap().call(&["GET", key]).unwrap()
}

fn error_text(value: &Value) -> String {
    match value {
        Value::Error(e) => String::from_utf8_lossy(e).into_owned(),
        other => panic!("expected an error reply, got {other:?}"),
    }
}

fn forms_and_migrates(kind: ServerKind) {
    let cluster = ClusterSetup::start(kind);
    assert_eq!(cluster.nodes().len(), 6);
    let mut primaries = cluster.primaries().unwrap();
    primaries.sort();
    assert_eq!(primaries, vec![0, 1, 2]);
    for p in 0..3 {
        assert_eq!(cluster.replicas_of(p).unwrap(), vec![p + 3]);
    }

    let slot = cluster.key_slot("migrating-key").unwrap();
    let from = cluster.owner_of(slot).unwrap();
    let to = (from + 1) % 3;
    cluster
        .connect(from)
        .unwrap()
        .call_ok(&["SET", "migrating-key", "v"])
        .unwrap();

    // Half way: the key moved, the slot did not; the source sends ASK for it.
    let migration = cluster.begin_migration(slot, to).unwrap();
    migration.move_keys(&["migrating-key"]).unwrap();
    let ask = error_text(&get(&cluster, from, "migrating-key"));
    assert!(ask.starts_with(&format!("ASK {slot} ")), "{ask}");
    migration.finish().unwrap();

    assert_eq!(cluster.owner_of(slot).unwrap(), to);
    let moved = error_text(&get(&cluster, from, "migrating-key"));
    assert!(moved.starts_with(&format!("MOVED {slot} ")), "{moved}");
    let port = cluster.nodes()[to].port();
    assert!(moved.ends_with(&format!(":{port}")), "{moved}");
    assert_eq!(
        text(&get(&cluster, to, "migrating-key")).as_deref(),
        Some("v")
    );

    // Moving a whole slot carries its keys.
    let mut owner = cluster.connect(to).unwrap();
    for i in 0..5 {
        owner
            .call_ok(&["SET", &format!("{{migrating-key}}{i}"), "x"])
            .unwrap();
    }
    assert_eq!(cluster.migrate_slot(slot, from).unwrap(), 6);
    assert_eq!(cluster.owner_of(slot).unwrap(), from);
    cluster.wait_healthy(&[]).unwrap();
}

#[test]
fn redis_cluster_forms_and_migrates() {
    forms_and_migrates(ServerKind::Redis);
}

#[test]
fn valkey_cluster_forms_and_migrates() {
    forms_and_migrates(ServerKind::Valkey);
}

fn fails_over_and_survives_a_kill(kind: ServerKind) {
    let mut cluster = ClusterSetup::start(kind);
    let promoted = cluster.failover(0).unwrap();
    assert_eq!(promoted, 3);
    let mut primaries = cluster.primaries().unwrap();
    primaries.sort();
    assert_eq!(primaries, vec![1, 2, 3]);
    assert_eq!(cluster.replicas_of(3).unwrap(), vec![0]);

    let replicas = cluster.kill_primary(1).unwrap();
    assert_eq!(replicas, vec![4]);
    let (new_primary, took) = cluster.wait_promoted(&replicas, &[1]).unwrap();
    assert_eq!(new_primary, 4);
    eprintln!("{kind:?}: replica promoted {took:?} after SIGKILL");
    assert!(took < cluster.node_timeout() * 10, "{took:?}");
}

#[test]
fn redis_cluster_fails_over_and_survives_a_kill() {
    fails_over_and_survives_a_kill(ServerKind::Redis);
}

#[test]
fn valkey_cluster_fails_over_and_survives_a_kill() {
    fails_over_and_survives_a_kill(ServerKind::Valkey);
}
