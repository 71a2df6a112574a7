//! `ClusterPipeline` on real 3-primary clusters of Redis and of Valkey: grouping by node with
//! replies in call order, errors in place or first, commands spanning slots split by slot,
//! MOVED and ASK retried for the affected commands only, transactions in one slot (and refused across slots before sending), WATCH.
//!
//! One cluster per server program; the scenarios run one after the other on it, each on keys
//! of its own.

use bytes::Bytes;
use redis_client::cluster::{key_slot, ClusterClient};
use redis_client::{Commands, Error, Value};
use redis_test_harness::{ClusterSetup, ServerKind};

fn client(setup: &ClusterSetup) -> ClusterClient {
    ClusterClient::open(setup.urls().iter().map(String::as_str)).unwrap()
}

/// Keys `prefix:0` … spread over the three primaries (each owner appears).
fn spread_keys(setup: &ClusterSetup, prefix: &str, n: usize) -> Vec<String> {
    let keys: Vec<String> = (0..n).map(|i| format!("{prefix}:{i}")).collect();
    let mut owners: Vec<usize> = keys
        .iter()
        .map(|k| setup.owner_of(key_slot(k.as_bytes())).unwrap())
        .collect();
    owners.sort();
    owners.dedup();
    assert_eq!(owners.len(), 3, "the keys reach every primary");
    keys
}

fn replies_in_call_order_across_nodes(setup: &ClusterSetup) {
    let cluster = client(setup);
    let keys = spread_keys(setup, "order", 60);
    let mut pipe = cluster.pipeline();
    for (i, key) in keys.iter().enumerate() {
        pipe.set(key, i as i64);
    }
    for key in &keys {
        pipe.incr(key);
    }
    for key in &keys {
        pipe.get(key);
    }
    let replies = pipe.execute().unwrap();
    assert_eq!(replies.len(), 180);
    for (i, key) in keys.iter().enumerate() {
        assert_eq!(replies[60 + i], Value::Integer(i as i64 + 1), "INCR {key}");
        assert_eq!(
            replies[120 + i],
            Value::Bulk(Bytes::from((i + 1).to_string())),
            "GET {key}"
        );
    }
    // Typed, and the pipeline is reusable.
    pipe.get(&keys[0])
        .get(&keys[1])
        .raw(["GET", keys[2].as_str()]);
    let (a, b, c): (i64, i64, String) = pipe.execute_typed().unwrap();
    assert_eq!((a, b, c.as_str()), (1, 2, "3"));
    assert!(pipe.is_empty());
    assert!(cluster.pipeline().execute().unwrap().is_empty());
}

fn errors_in_place_or_first(setup: &ClusterSetup) {
    let cluster = client(setup);
    let keys = spread_keys(setup, "errors", 30);
    cluster.set(&keys[0], "text").unwrap();
    let mut pipe = cluster.pipeline();
    pipe.incr(&keys[0]).set(&keys[1], 5).incr(&keys[1]);
    let results = pipe.execute_results().unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0].as_ref().unwrap_err().code(), Some("ERR"));
    assert!(results[1].is_ok());
    assert_eq!(results[2].as_ref().unwrap(), &Value::Integer(6));

    pipe.incr(&keys[0]).incr(&keys[1]);
    let err = pipe.execute().unwrap_err();
    assert_eq!(err.code(), Some("ERR"), "{err}");
    assert_eq!(
        cluster.query::<i64>(("GET", &keys[1])).unwrap(),
        7,
        "the rest ran all the same"
    );
}

fn commands_spanning_slots_are_split_and_fan_outs_refused(setup: &ClusterSetup) {
    let cluster = client(setup);
    let keys = spread_keys(setup, "span", 30);
    let (a, b, c) = (&keys[0], &keys[1], &keys[2]);
    let mut pipe = cluster.pipeline();
    pipe.mset([(a, "1"), (b, "2"), (c, "3")])
        .mget([c, a, "span:missing", b])
        .exists([a, b, c, "span:missing"])
        .del([a, c])
        .mget([a, b, c]);
    let ((), got, exists, deleted, after): (
        (),
        Vec<Option<String>>,
        i64,
        i64,
        Vec<Option<String>>,
    ) = pipe.execute_typed().unwrap();
    assert_eq!(
        got,
        [Some("3"), Some("1"), None, Some("2")].map(|v| v.map(String::from))
    );
    assert_eq!((exists, deleted), (3, 2));
    assert_eq!(after, [None, Some("2".to_string()), None]);

    // A fan-out is the ClusterClient's job: refused before anything is sent.
    pipe.set("span:sent?", 1).dbsize();
    let err = pipe.execute().unwrap_err();
    assert!(matches!(err, Error::Usage(_)), "{err}");
    assert!(err.to_string().contains("DBSIZE"), "{err}");
    assert_eq!(
        cluster.exists(["span:sent?"]).unwrap(),
        0,
        "nothing was sent"
    );
}

fn moved_retries_only_the_moved_commands(setup: &ClusterSetup) {
    let cluster = client(setup);
    let keys = spread_keys(setup, "moved", 30);
    let key = &keys[0];
    cluster.set(key, "before").unwrap();
    let others: Vec<&String> = keys[1..].iter().collect();
    for other in &others {
        cluster.set(*other, 0).unwrap();
    }
    // The client's slot map now places `key` on its old owner.
    let slot = key_slot(key.as_bytes());
    let from = setup.owner_of(slot).unwrap();
    setup.migrate_slot(slot, (from + 1) % 3).unwrap();

    let mut pipe = cluster.pipeline();
    pipe.get(key).set(key, "after");
    for other in &others {
        pipe.incr(*other);
    }
    pipe.get(key);
    let replies = pipe.execute().unwrap();
    assert_eq!(replies[0], Value::Bulk(Bytes::from("before")));
    assert_eq!(replies.last().unwrap(), &Value::Bulk(Bytes::from("after")));
    for other in &others {
        assert_eq!(
            cluster.query::<i64>(("GET", *other)).unwrap(),
            1,
            "{other} ran once"
        );
    }
}

fn ask_during_a_migration(setup: &ClusterSetup) {
    let cluster = client(setup);
    let (moved, stayed) = ("{ask}moved", "{ask}stayed");
    cluster.set(moved, "m").unwrap();
    cluster.set(stayed, "s").unwrap();
    let slot = key_slot(moved.as_bytes());
    let from = setup.owner_of(slot).unwrap();
    let migration = setup.begin_migration(slot, (from + 1) % 3).unwrap();
    migration.move_keys(&[moved]).unwrap();

    let mut pipe = cluster.pipeline();
    pipe.get(moved).get(stayed).incr("ask:counter").get(moved);
    let replies = pipe.execute().unwrap();
    assert_eq!(replies[0], Value::Bulk(Bytes::from("m")), "ASK followed");
    assert_eq!(replies[1], Value::Bulk(Bytes::from("s")));
    assert_eq!(replies[2], Value::Integer(1));
    assert_eq!(replies[3], Value::Bulk(Bytes::from("m")));
    migration.move_all().unwrap();
    migration.finish().unwrap();
    assert_eq!(cluster.query::<i64>(("GET", "ask:counter")).unwrap(), 1);
}

fn transactions_in_one_slot(setup: &ClusterSetup) {
    let cluster = client(setup);
    let mut pipe = cluster.pipeline();
    pipe.transaction(true)
        .set("{tx}a", 1)
        .incr("{tx}a")
        .get("{tx}a");
    let (set, n, a): ((), i64, String) = pipe.execute_typed().unwrap();
    assert_eq!((set, n, a.as_str()), ((), 2, "2"));

    // Keys of two slots: refused before anything is sent.
    let (x, y) = ("tx-x", "tx-y");
    assert_ne!(key_slot(x.as_bytes()), key_slot(y.as_bytes()));
    pipe.transaction(true).set(x, 1).set(y, 1);
    let err = pipe.execute().unwrap_err();
    assert!(matches!(err, Error::Usage(_)), "{err}");
    assert!(err.to_string().contains("slot"), "{err}");
    assert_eq!(cluster.exists([x, y]).unwrap(), 0);

    // A transaction whose slot moved under a stale map goes where it went.
    let slot = key_slot(b"{tx}a");
    let from = setup.owner_of(slot).unwrap();
    setup.migrate_slot(slot, (from + 1) % 3).unwrap();
    pipe.transaction(true).incr("{tx}a").incr("{tx}b");
    let (a, b): (i64, i64) = pipe.execute_typed().unwrap();
    assert_eq!((a, b), (3, 1));
}

fn watch_through_cluster_transaction(setup: &ClusterSetup) {
    let cluster = client(setup);
    cluster.set("{w}n", 10).unwrap();
    let doubled: i64 = cluster
        .transaction(
            |pipe| {
                let n: Option<i64> = pipe.immediate()?.query(["GET", "{w}n"])?;
                let doubled = n.unwrap_or(1) * 2;
                pipe.multi()?.raw(("SET", "{w}n", doubled));
                Ok(doubled)
            },
            ["{w}n", "{w}other"],
        )
        .unwrap();
    assert_eq!(doubled, 20);
    assert_eq!(cluster.query::<i64>(("GET", "{w}n")).unwrap(), 20);
    let err = cluster.transaction(|_| Ok(()), ["w-a", "w-b"]).unwrap_err();
    assert!(err.to_string().contains("slot"), "{err}");
}

fn large_pipelines_over_every_node(setup: &ClusterSetup) {
    let cluster = client(setup);
    let mut pipe = cluster.pipeline();
    for i in 0..20_000 {
        pipe.set(format!("large:{i}"), i);
    }
    let done: Vec<()> = pipe.execute_typed().unwrap();
    assert_eq!(done.len(), 20_000);
    for i in 0..20_000 {
        pipe.get(format!("large:{i}"));
    }
    let values: Vec<i64> = pipe.execute_typed().unwrap();
    assert!(values.iter().enumerate().all(|(i, v)| *v == i as i64));
}

fn scenarios(kind: ServerKind) {
    let setup = ClusterSetup::builder(kind).replicas_per_primary(0).start();
    replies_in_call_order_across_nodes(&setup);
    errors_in_place_or_first(&setup);
    commands_spanning_slots_are_split_and_fan_outs_refused(&setup);
    moved_retries_only_the_moved_commands(&setup);
    ask_during_a_migration(&setup);
    transactions_in_one_slot(&setup);
    watch_through_cluster_transaction(&setup);
    large_pipelines_over_every_node(&setup);
}

#[test]
fn cluster_pipeline_on_redis() {
    scenarios(ServerKind::Redis);
}

#[test]
fn cluster_pipeline_on_valkey() {
    scenarios(ServerKind::Valkey);
}
