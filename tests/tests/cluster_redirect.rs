//! Redirections and topology changes: MOVED after a migration, ASK during one, a failover, a
//! killed primary, periodic refresh; on Redis and Valkey.

mod cluster_support;

use std::time::{Duration, Instant};

use bytes::Bytes;
use cluster_support::{addr, builder, client, KINDS};
use redis_client::cluster::key_slot;
use redis_client::Commands;
use redis_test_harness::{ClusterSetup, ServerKind};

fn owner_index(cluster: &ClusterSetup, key: &str) -> usize {
    cluster.owner_of(key_slot(key.as_bytes())).unwrap()
}

fn follows_moved_after_a_migration(kind: ServerKind) {
    let cluster = ClusterSetup::start(kind);
    let c = builder(&cluster).refresh_interval(None).build().unwrap();
    let stale = builder(&cluster).refresh_interval(None).build().unwrap();
    c.set("moving", "v1").unwrap();
    // Keys on every primary, so a split sends a part to the node that lost the slot.
    let others: Vec<String> = (0..12).map(|i| format!("other{i}")).collect();
    for k in &others {
        c.set(k.as_str(), k.as_str()).unwrap();
    }
    let slot = key_slot(b"moving");
    let from = owner_index(&cluster, "moving");
    let to = (from + 1) % 3;
    assert_eq!(cluster.migrate_slot(slot, to).unwrap(), 1);
    let epoch = c.topology_epoch();
    // The client still has the old owner: MOVED, followed, and the map patched.
    assert_eq!(c.get("moving").unwrap(), Some(Bytes::from("v1")));
    assert_eq!(c.slot_owner(slot), Some(addr(&cluster, to)));
    assert!(c.topology_epoch() > epoch);
    // A split command whose part meets MOVED resends that part to the new owner.
    let mut asked: Vec<&str> = others.iter().map(String::as_str).collect();
    asked.push("moving");
    let got = stale.mget(asked.clone()).unwrap();
    for (k, v) in asked.iter().zip(&got) {
        let expected = if *k == "moving" { "v1" } else { k };
        assert_eq!(v.as_deref(), Some(expected.as_bytes()), "{k}");
    }
    c.set("moving", "v2").unwrap();
    let mut direct = cluster.connect(to).unwrap();
    assert_eq!(
        direct.call(&["GET", "moving"]).unwrap(),
        redis_client::Value::Bulk(Bytes::from("v2"))
    );
}

#[test]
fn follows_moved_after_a_migration_on_both_servers() {
    for kind in KINDS {
        follows_moved_after_a_migration(kind);
    }
}

fn follows_ask_during_a_migration(kind: ServerKind) {
    let cluster = ClusterSetup::start(kind);
    let c = client(&cluster);
    c.set("{mig}old", "here").unwrap();
    c.set("{mig}stays", "there").unwrap();
    let slot = key_slot(b"mig");
    let from = owner_index(&cluster, "{mig}old");
    let to = (from + 1) % 3;
    let migration = cluster.begin_migration(slot, to).unwrap();
    migration.move_keys(&["{mig}old"]).unwrap();
    // Moved key: ASK to the target; unmoved key: served by the source.
    assert_eq!(c.get("{mig}old").unwrap(), Some(Bytes::from("here")));
    assert_eq!(c.get("{mig}stays").unwrap(), Some(Bytes::from("there")));
    // A new key of a migrating slot is created on the target (ASK).
    c.set("{mig}new", "fresh").unwrap();
    let mut target = cluster.connect(to).unwrap();
    target.call_ok(&["ASKING"]).unwrap();
    assert_eq!(
        target.call(&["GET", "{mig}new"]).unwrap(),
        redis_client::Value::Bulk(Bytes::from("fresh"))
    );
    // ASK leaves the slot map alone: the slot is still the source's.
    assert_eq!(c.slot_owner(slot), Some(addr(&cluster, from)));
    migration.move_all().unwrap();
    migration.finish().unwrap();
    let got = c.mget(["{mig}old", "{mig}stays", "{mig}new"]).unwrap();
    assert_eq!(
        got,
        vec![
            Some(Bytes::from("here")),
            Some(Bytes::from("there")),
            Some(Bytes::from("fresh"))
        ]
    );
}

/// A multi-key command whose keys a migration has split gets TRYAGAIN; the client waits and
/// retries until the migration ends.
fn retries_tryagain(kind: ServerKind) {
    let cluster = ClusterSetup::start(kind);
    let c = client(&cluster);
    c.set("{try}a", "1").unwrap();
    c.set("{try}b", "2").unwrap();
    let slot = key_slot(b"try");
    let from = owner_index(&cluster, "{try}a");
    let migration = cluster.begin_migration(slot, (from + 1) % 3).unwrap();
    migration.move_keys(&["{try}a"]).unwrap();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            std::thread::sleep(Duration::from_millis(500));
            migration.move_all().unwrap();
            migration.finish().unwrap();
        });
        let started = Instant::now();
        let got = c.mget(["{try}a", "{try}b"]).unwrap();
        assert_eq!(got, vec![Some(Bytes::from("1")), Some(Bytes::from("2"))]);
        assert!(
            started.elapsed() >= Duration::from_millis(400),
            "{:?}",
            started.elapsed()
        );
    });
}

#[test]
fn retries_tryagain_on_both_servers() {
    for kind in KINDS {
        retries_tryagain(kind);
    }
}

#[test]
fn follows_ask_during_a_migration_on_both_servers() {
    for kind in KINDS {
        follows_ask_during_a_migration(kind);
    }
}

fn survives_failover_and_kill(kind: ServerKind) {
    let mut cluster = ClusterSetup::start(kind);
    let c = builder(&cluster).refresh_interval(None).build().unwrap();
    let keys: Vec<String> = (0..40).map(|i| format!("f{i}")).collect();
    for k in &keys {
        c.set(k.as_str(), k.as_str()).unwrap();
    }
    // Coordinated failover: writes to the old primary now get MOVED or READONLY.
    let new_primary = cluster.failover(0).unwrap();
    for k in &keys {
        assert_eq!(
            c.get(k.as_str()).unwrap(),
            Some(Bytes::from(k.clone())),
            "{k}"
        );
        c.set(k.as_str(), format!("{k}!")).unwrap();
    }
    assert!(
        c.primaries().contains(&addr(&cluster, new_primary)),
        "{c:?}"
    );

    // A primary killed: commands for its slots fail over once a replica is promoted.
    let stale = builder(&cluster).refresh_interval(None).build().unwrap();
    let victim = 1;
    let replicas = cluster.kill_primary(victim).unwrap();
    let killed = Instant::now();
    let (promoted, _) = cluster.wait_promoted(&replicas, &[victim]).unwrap();
    let mut ok = 0;
    for k in &keys {
        // Within the command's retry budget, the client finds the promoted replica.
        assert_eq!(
            c.get(k.as_str()).unwrap(),
            Some(Bytes::from(format!("{k}!"))),
            "{k}"
        );
        ok += 1;
    }
    assert_eq!(ok, keys.len());
    assert!(c.primaries().contains(&addr(&cluster, promoted)), "{c:?}");
    // A fan-out from a client that still knows the dead primary: refreshed, then the promoted
    // node is asked too.
    assert!(stale.primaries().contains(&addr(&cluster, victim)));
    assert_eq!(stale.dbsize().unwrap(), keys.len() as i64);
    assert!(
        stale.primaries().contains(&addr(&cluster, promoted)),
        "{stale:?}"
    );
    eprintln!(
        "{kind:?}: all keys readable {:?} after SIGKILL",
        killed.elapsed()
    );
}

#[test]
fn survives_failover_and_kill_on_both_servers() {
    for kind in KINDS {
        survives_failover_and_kill(kind);
    }
}

fn refreshes_periodically(kind: ServerKind) {
    let cluster = ClusterSetup::start(kind);
    let c = builder(&cluster)
        .refresh_interval(Some(Duration::from_millis(200)))
        .build()
        .unwrap();
    let slot = key_slot(b"periodic");
    let from = cluster.owner_of(slot).unwrap();
    let to = (from + 2) % 3;
    cluster.migrate_slot(slot, to).unwrap();
    // No command touches the slot; unrelated ones let the due refresh start.
    let deadline = Instant::now() + Duration::from_secs(10);
    while c.slot_owner(slot) != Some(addr(&cluster, to)) {
        assert!(Instant::now() < deadline, "never refreshed: {c:?}");
        c.echo("tick").unwrap();
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn refreshes_periodically_on_both_servers() {
    for kind in KINDS {
        refreshes_periodically(kind);
    }
}

#[test]
fn one_seed_of_many_is_enough() {
    let cluster = ClusterSetup::start(ServerKind::Redis);
    let dead = "redis://127.0.0.1:1".to_string();
    let c = redis_client::cluster::ClusterClient::open([dead, cluster.nodes()[4].url()]).unwrap();
    assert_eq!(c.primaries().len(), 3);
    assert_eq!(c.topology().nodes().len(), 6);
    c.set("x", 1).unwrap();
}
