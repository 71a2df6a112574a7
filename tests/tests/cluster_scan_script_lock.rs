//! Scan, scripts, functions and locks on a `ClusterClient`, on real 3-primary clusters of Redis
//! (SCAN per primary) and of Valkey (CLUSTERSCAN).

use std::collections::HashSet;
use std::time::Duration;

use redis_client::cluster::{key_slot, ClusterClient};
use redis_client::{Commands, Error};
use redis_test_harness::{ClusterSetup, ServerKind};

fn client(setup: &ClusterSetup) -> ClusterClient {
    ClusterClient::open(setup.urls().iter().map(String::as_str)).unwrap()
}

fn scan_sees_every_primary(setup: &ClusterSetup) {
    let cluster = client(setup);
    let mut pipe = cluster.pipeline();
    let written: HashSet<String> = (0..500).map(|i| format!("scan:{i}")).collect();
    for key in &written {
        pipe.set(key, 1);
    }
    pipe.execute().unwrap();
    pipe.hset("scan:hash", [("f", "v")]).set("other:1", 1);
    pipe.execute().unwrap();
    let owners: HashSet<usize> = written
        .iter()
        .map(|k| setup.owner_of(key_slot(k.as_bytes())).unwrap())
        .collect();
    assert_eq!(owners.len(), 3);

    let seen: HashSet<String> = cluster
        .scan_iter::<String>()
        .matching("scan:*")
        .count(50)
        .collect::<Result<_, _>>()
        .unwrap();
    let mut expected = written.clone();
    expected.insert("scan:hash".into());
    assert_eq!(seen, expected);
    let hashes: Vec<String> = cluster
        .scan_iter::<String>()
        .of_type("hash")
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(hashes, vec!["scan:hash".to_string()]);
    let all = Iterator::count(cluster.scan_iter::<String>());
    assert_eq!(all, 502);

    // Valkey walked with CLUSTERSCAN, Redis with SCAN on every primary.
    let command = match setup.kind() {
        ServerKind::Valkey => "clusterscan",
        _ => "scan",
    };
    for node in 0..3 {
        let stats = setup
            .connect(node)
            .unwrap()
            .call(&["INFO", "commandstats"])
            .unwrap();
        let stats = redis_test_harness::text(&stats).unwrap_or_default();
        assert!(
            stats.contains(&format!("cmdstat_{command}:calls=")),
            "node {node} ran no {command}: {stats}"
        );
    }
}

fn scripts_follow_their_first_key(setup: &ClusterSetup) {
    let cluster = client(setup);
    let script = cluster.register_script("return redis.call('INCRBY', KEYS[1], ARGV[1])");
    let keys = ["script:a", "script:b", "script:c", "script:d", "script:e"];
    // First use: NOSCRIPT on every node, loaded where it was missing, sent again.
    for (i, key) in keys.iter().enumerate() {
        let n: i64 = script.key(*key).arg(i as i64 + 1).call(&cluster).unwrap();
        assert_eq!(n, i as i64 + 1);
    }
    // SCRIPT FLUSH goes to every node (its tip); the next calls reload.
    cluster.execute(["SCRIPT", "FLUSH"]).unwrap();
    let exists: Vec<bool> = cluster.query(("SCRIPT", "EXISTS", script.sha())).unwrap();
    assert_eq!(exists, vec![false], "flushed everywhere");
    for (i, key) in keys.iter().enumerate() {
        let n: i64 = script.key(*key).arg(10).call(&cluster).unwrap();
        assert_eq!(n, i as i64 + 11);
    }
    // Queued on a cluster pipeline, after a flush: each node lacking it loads it and the
    // calls go again; in a transaction too (the node's pipeline loads it first).
    cluster.execute(["SCRIPT", "FLUSH"]).unwrap();
    let mut pipe = cluster.pipeline();
    for key in keys {
        script.key(key).arg(100).queue_cluster(&mut pipe);
    }
    let sums: Vec<i64> = pipe.execute_typed().unwrap();
    assert_eq!(sums, (0..5).map(|i| i + 111).collect::<Vec<i64>>());
    cluster.execute(["SCRIPT", "FLUSH"]).unwrap();
    pipe.transaction(true);
    script.key("{s}a").arg(1).queue_cluster(&mut pipe);
    script.key("{s}b").arg(2).queue_cluster(&mut pipe);
    let (a, b): (i64, i64) = pipe.execute_typed().unwrap();
    assert_eq!((a, b), (1, 2));

    // Keys of two slots in one script call: the server's CROSSSLOT, not retried.
    let err = script
        .key(["script:a", "script:b"])
        .arg(1)
        .call::<i64>(&cluster)
        .unwrap_err();
    assert!(
        err.code() == Some("CROSSSLOT") || matches!(err, Error::Usage(_)),
        "{err}"
    );
}

fn functions_load_on_every_shard(setup: &ClusterSetup) {
    let cluster = client(setup);
    let library = "#!lua name=cluster2lib\n\
        redis.register_function('bump', function(keys, args) return redis.call('INCR', keys[1]) end)";
    let name: String = cluster
        .query(("FUNCTION", "LOAD", "REPLACE", library))
        .unwrap();
    assert_eq!(name, "cluster2lib");
    let keys: Vec<String> = (0..30).map(|i| format!("fn:{i}")).collect();
    let owners: HashSet<usize> = keys
        .iter()
        .map(|k| setup.owner_of(key_slot(k.as_bytes())).unwrap())
        .collect();
    assert_eq!(owners.len(), 3);
    for key in &keys {
        let n: i64 = cluster.query(("FCALL", "bump", 1, key)).unwrap();
        assert_eq!(n, 1, "{key}");
    }
    cluster
        .execute(["FUNCTION", "DELETE", "cluster2lib"])
        .unwrap();
}

fn locks_on_a_cluster(setup: &ClusterSetup) {
    let cluster = client(setup);
    let lock = cluster
        .lock("locks:{report}")
        .timeout(Duration::from_secs(5))
        .blocking_timeout(Duration::from_millis(200));
    let guard = lock.acquire().unwrap();
    assert!(lock.locked().unwrap());
    assert!(guard.owned().unwrap());
    assert!(lock.try_acquire().unwrap().is_none(), "held");
    let err = lock.acquire().unwrap_err();
    assert!(matches!(err, Error::Lock(_)), "{err}");
    guard.extend(Duration::from_secs(5), false).unwrap();
    let ttl: i64 = cluster.query(("PTTL", "locks:{report}")).unwrap();
    assert!(ttl > 5_000, "{ttl}");
    guard.reacquire().unwrap();
    guard.release().unwrap();
    assert!(!lock.locked().unwrap());
    let other = cluster.lock("locks:other").acquire().unwrap();
    drop(other);
    assert!(!cluster.lock("locks:other").locked().unwrap());
}

fn scenarios(kind: ServerKind) {
    let setup = ClusterSetup::builder(kind).replicas_per_primary(0).start();
    scan_sees_every_primary(&setup);
    scripts_follow_their_first_key(&setup);
    functions_load_on_every_shard(&setup);
    locks_on_a_cluster(&setup);
}

#[test]
fn scan_script_lock_on_redis() {
    scenarios(ServerKind::Redis);
}

#[test]
fn scan_script_lock_on_valkey() {
    scenarios(ServerKind::Valkey);
}
