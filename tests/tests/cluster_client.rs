//! ClusterClient on a 3+3 cluster: routing by slot, splits, fan-outs, targets, refusals.

mod cluster_support;

use bytes::Bytes;
use cluster_support::{addr, client, KINDS};
use redis_client::cluster::{key_slot, ClusterClient, Nodes};
use redis_client::{cmd, Commands, Error, Executor, Value};
use redis_test_harness::{ClusterSetup, ServerKind};

fn routes_by_slot(kind: ServerKind) {
    let cluster = ClusterSetup::start(kind);
    let c = client(&cluster);
    assert_eq!(c.primaries().len(), 3, "{c:?}");
    assert!(c.topology().is_complete());

    // The client's slots are the server's.
    let mut server = cluster.connect(0).unwrap();
    for i in 0..200 {
        let key = format!("key:{i}:{{tag{}}}", i % 7);
        let reply = server.call_ok(&["CLUSTER", "KEYSLOT", &key]).unwrap();
        assert_eq!(
            reply,
            Value::Integer(i64::from(key_slot(key.as_bytes()))),
            "{key}"
        );
    }

    // Keys land on their owners: nothing is redirected by a node asked directly.
    for i in 0..50 {
        let key = format!("k{i}");
        c.set(key.as_str(), i).unwrap();
        let owner = c.slot_owner(key_slot(key.as_bytes())).unwrap();
        let index = cluster
            .index_of_port(owner.rsplit(':').next().unwrap().parse().unwrap())
            .unwrap();
        let reply = cluster
            .connect(index)
            .unwrap()
            .call(&["GET", &key])
            .unwrap();
        assert_eq!(
            reply,
            Value::Bulk(Bytes::from(i.to_string())),
            "{key} on {owner}"
        );
        let got: Option<i64> = c.query(["GET", key.as_str()]).unwrap();
        assert_eq!(got, Some(i));
        assert_eq!(
            c.get(key.as_str()).unwrap(),
            Some(Bytes::from(i.to_string()))
        );
    }

    // Raw commands route the same way.
    c.execute(["SET", "raw", "1"]).unwrap();
    assert_eq!(
        c.execute(["GET", "raw"]).unwrap(),
        Value::Bulk(Bytes::from("1"))
    );
}

#[test]
fn routes_by_slot_on_both_servers() {
    for kind in KINDS {
        routes_by_slot(kind);
    }
}

fn splits_and_fans_out(kind: ServerKind) {
    let cluster = ClusterSetup::start(kind);
    let c = client(&cluster);
    let keys: Vec<String> = (0..30).map(|i| format!("m{i}")).collect();
    let slots: std::collections::HashSet<u16> =
        keys.iter().map(|k| key_slot(k.as_bytes())).collect();
    assert!(slots.len() > 3);

    // MSET split by slot, MGET reassembled in argument order.
    let pairs: Vec<(String, String)> = keys.iter().map(|k| (k.clone(), format!("v-{k}"))).collect();
    c.mset(pairs.clone()).unwrap();
    let mut asked: Vec<&str> = keys.iter().map(String::as_str).collect();
    asked.insert(5, "missing");
    let got = c.mget(asked.clone()).unwrap();
    assert_eq!(got.len(), asked.len());
    for (key, value) in asked.iter().zip(&got) {
        let expected = (*key != "missing").then(|| Bytes::from(format!("v-{key}")));
        assert_eq!(value, &expected, "{key}");
    }
    // EXISTS and DEL sum the parts; DBSIZE sums the primaries.
    assert_eq!(c.exists(asked.clone()).unwrap(), 30);
    assert_eq!(c.dbsize().unwrap(), 30);
    assert_eq!(c.del(keys[..10].to_vec()).unwrap(), 10);
    assert_eq!(c.dbsize().unwrap(), 20);

    // KEYS has no policy: the primaries' arrays are concatenated.
    let mut all: Vec<Bytes> = c.keys("m*").unwrap();
    all.sort();
    let mut expected: Vec<Bytes> = keys[10..].iter().map(|k| Bytes::from(k.clone())).collect();
    expected.sort();
    assert_eq!(all, expected);

    // A single-slot command over several slots fails before sending, naming the slots.
    let e = c.sunionstore("dest", ["m10", "m11"]).unwrap_err();
    assert!(matches!(e, Error::Usage(_)), "{e}");
    assert!(e.to_string().contains("slot"), "{e}");
    c.sadd("{s}a", ["x"]).unwrap();
    c.sadd("{s}b", ["y"]).unwrap();
    assert_eq!(c.sunionstore("{s}dest", ["{s}a", "{s}b"]).unwrap(), 2);

    if kind == ServerKind::Valkey {
        // A counted multi-key write: each part gets its own key count and the options.
        assert_ne!(key_slot(b"x1"), key_slot(b"x2"));
        c.execute([
            "MSETEX", "3", "x1", "a", "x2", "b", "x3", "c", "PX", "100000",
        ])
        .unwrap();
        let ttls: Vec<i64> = ["x1", "x2", "x3"]
            .iter()
            .map(|k| c.pttl(*k).unwrap())
            .collect();
        assert!(ttls.iter().all(|&t| t > 0 && t <= 100_000), "{ttls:?}");
        assert_eq!(c.del(["x1", "x2", "x3"]).unwrap(), 3);
    }

    // Per-node reports: one reply per node with its address.
    let infos = c.on(Nodes::All).info().unwrap();
    assert_eq!(infos.len(), 6);
    assert!(infos
        .iter()
        .all(|(_, info)| info.contains("cluster_enabled:1")));
    let e = c.info().unwrap_err();
    assert!(e.to_string().contains("Nodes::All"), "{e}");
    // The raw form answers a map from node to report.
    let Value::Map(per_node) = c.execute(["INFO", "server"]).unwrap() else {
        panic!("INFO on a cluster client answers per node");
    };
    assert_eq!(per_node.len(), 3);
    let sizes = c.on(Nodes::Primaries).dbsize().unwrap();
    assert_eq!(sizes.iter().map(|(_, n)| n).sum::<i64>(), 23);
    assert_eq!(c.on(Nodes::Replicas).execute(["ROLE"]).unwrap().len(), 3);

    // One named node, and a random primary.
    let first = addr(&cluster, 0);
    let role: Value = c.on_node(&first).execute(["ROLE"]).unwrap();
    assert!(format!("{role:?}").contains("master"));
    assert!(c.on_random().dbsize().unwrap() >= 0);
    assert!(c.randomkey().unwrap().is_some());
}

#[test]
fn splits_and_fans_out_on_both_servers() {
    for kind in KINDS {
        splits_and_fans_out(kind);
    }
}

#[test]
fn refuses_what_cannot_work_on_a_cluster() {
    let cluster = ClusterSetup::start(ServerKind::Redis);
    let c = client(&cluster);
    let e = c.scan(0).unwrap_err();
    assert!(e.to_string().contains("cluster scan iterator"), "{e}");
    let e = c.execute(["SELECT", "0"]).unwrap_err();
    assert!(matches!(e, Error::Usage(_)), "{e}");
    let e = c.execute(["WATCH", "a"]).unwrap_err();
    assert!(e.to_string().contains("cluster client"), "{e}");
    // A server error reply is the caller's, named.
    c.set("str", "x").unwrap();
    let e = c.run(cmd::Lpush::new("str", ["a"])).unwrap_err();
    assert_eq!(e.code(), Some("WRONGTYPE"), "{e}");
    // A seed that is no cluster node says so.
    let plain = redis_test_harness::Server::redis();
    let e = ClusterClient::open([plain.url()]).unwrap_err();
    assert!(e.to_string().contains("cluster"), "{e}");
    // No seed at all.
    assert!(ClusterClient::open(Vec::<String>::new()).is_err());
}

#[test]
fn is_send_sync_clone() {
    fn check<T: Send + Sync + Clone + 'static>() {}
    check::<ClusterClient>();
}

/// Times MGET and MSET of 100 keys spread over ~100 slots (printed for the report), checking
/// every reply.
#[test]
fn multi_slot_commands_timing() {
    let cluster = ClusterSetup::start(ServerKind::Redis);
    let c = client(&cluster);
    let keys: Vec<String> = (0..100).map(|i| format!("timing:{i}")).collect();
    let pairs: Vec<(String, String)> = keys.iter().map(|k| (k.clone(), k.clone())).collect();
    let rounds = 200;
    let started = std::time::Instant::now();
    for _ in 0..rounds {
        c.mset(pairs.clone()).unwrap();
    }
    let mset = started.elapsed() / rounds;
    let started = std::time::Instant::now();
    for _ in 0..rounds {
        let got = c.mget(keys.clone()).unwrap();
        assert!(got
            .iter()
            .zip(&keys)
            .all(|(v, k)| v.as_deref() == Some(k.as_bytes())));
    }
    let mget = started.elapsed() / rounds;
    eprintln!(
        "100 keys over {} slots: MSET {mset:?}, MGET {mget:?} per call",
        {
            keys.iter()
                .map(|k| key_slot(k.as_bytes()))
                .collect::<std::collections::HashSet<_>>()
                .len()
        }
    );
}
