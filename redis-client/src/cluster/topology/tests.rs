use super::*;
use crate::resp::Value;

fn bulk(s: &str) -> Value {
    Value::Bulk(bytes::Bytes::copy_from_slice(s.as_bytes()))
}

fn node(ip: &str, port: i64, role: &str, health: &str) -> Value {
    Value::Map(vec![
        (bulk("id"), bulk("x")),
        (bulk("port"), Value::Integer(port)),
        (bulk("ip"), bulk(ip)),
        (bulk("endpoint"), bulk(ip)),
        (bulk("role"), bulk(role)),
        (bulk("replication-offset"), Value::Integer(1)),
        (bulk("health"), bulk(health)),
    ])
}

fn shard(slots: &[i64], nodes: Vec<Value>) -> Value {
    // RESP2 shape: a flat field list.
    Value::Array(vec![
        bulk("slots"),
        Value::Array(slots.iter().map(|&s| Value::Integer(s)).collect()),
        bulk("nodes"),
        Value::Array(nodes),
    ])
}

fn three_shards() -> Value {
    Value::Array(vec![
        shard(
            &[0, 5460],
            vec![
                node("127.0.0.1", 7000, "master", "online"),
                node("127.0.0.1", 7003, "replica", "online"),
            ],
        ),
        shard(
            &[5461, 10922],
            vec![
                node("127.0.0.1", 7001, "master", "online"),
                node("127.0.0.1", 7004, "replica", "failed"),
            ],
        ),
        shard(
            &[10923, 16000, 16001, 16383],
            vec![
                node("?", 7002, "master", "online"),
                node("127.0.0.1", 7005, "replica", "online"),
            ],
        ),
    ])
}

#[test]
fn shards_reply_maps_every_slot() {
    let t = from_shards(&three_shards(), "10.0.0.9").unwrap();
    assert!(t.is_complete());
    assert_eq!(t.primary_of(0), Some("127.0.0.1:7000"));
    assert_eq!(t.primary_of(5461), Some("127.0.0.1:7001"));
    // A node that does not know its address is reached where it was asked.
    assert_eq!(t.primary_of(16383), Some("10.0.0.9:7002"));
    assert_eq!(t.shard_of(0).unwrap().replicas, vec!["127.0.0.1:7003"]);
    assert!(
        t.shard_of(6000).unwrap().replicas.is_empty(),
        "failed replicas are left out"
    );
    assert_eq!(t.ranges().len(), 3);
    assert_eq!(t.nodes().len(), 5);
}

#[test]
fn slots_reply_maps_the_same() {
    let range = |a: i64, b: i64, ports: &[i64]| {
        let mut items = vec![Value::Integer(a), Value::Integer(b)];
        for &p in ports {
            items.push(Value::Array(vec![
                bulk("127.0.0.1"),
                Value::Integer(p),
                bulk("id"),
            ]));
        }
        Value::Array(items)
    };
    let reply = Value::Array(vec![
        range(0, 5460, &[7000, 7003]),
        range(5461, 10922, &[7001]),
        range(10923, 16383, &[7002, 7005]),
    ]);
    let t = from_slots(&reply, "127.0.0.1").unwrap();
    assert!(t.is_complete());
    assert_eq!(t.primary_of(10923), Some("127.0.0.1:7002"));
    assert_eq!(t.shard_of(10923).unwrap().replicas, vec!["127.0.0.1:7005"]);
}

#[test]
fn malformed_replies_are_protocol_errors() {
    let e = from_shards(&Value::Integer(1), "h").unwrap_err();
    assert!(e.to_string().contains("CLUSTER SHARDS"), "{e}");
    let e = from_slots(
        &Value::Array(vec![Value::Array(vec![Value::Integer(0)])]),
        "h",
    )
    .unwrap_err();
    assert!(e.to_string().contains("CLUSTER SLOTS"), "{e}");
    let bad_slot = Value::Array(vec![shard(
        &[0, 20000],
        vec![node("h", 1, "master", "online")],
    )]);
    assert!(from_shards(&bad_slot, "h").is_err());
}

#[test]
fn moved_patches_one_slot() {
    let mut t = from_shards(&three_shards(), "127.0.0.1").unwrap();
    t.move_slot(100, "127.0.0.1:7001");
    assert_eq!(t.primary_of(100), Some("127.0.0.1:7001"));
    assert_eq!(t.primary_of(101), Some("127.0.0.1:7000"));
    // A promoted replica takes its old primary as replica.
    for s in 0..=5460 {
        t.move_slot(s, "127.0.0.1:7003");
    }
    let shard = t.shard_of(0).unwrap();
    assert_eq!(shard.primary, "127.0.0.1:7003");
    assert_eq!(shard.replicas, vec!["127.0.0.1:7000"]);
    assert!(t.shards().iter().all(|s| s.primary != "127.0.0.1:7000"));
}

#[test]
fn the_majority_view_wins() {
    let good = from_shards(&three_shards(), "127.0.0.1").unwrap();
    let mut stale = good.clone();
    stale.move_slot(0, "127.0.0.1:7002");
    let (winner, votes) = vote(vec![stale.clone(), good.clone(), good.clone()]).unwrap();
    assert!(winner.same_as(&good));
    assert_eq!(votes, 2);
    assert!(vote(Vec::new()).is_none());
    // Shard order does not matter.
    let reordered = Topology::from_ranges(
        good.ranges()
            .into_iter()
            .rev()
            .map(|(a, b, _)| (a, b, good.shard_of(a).unwrap().clone()))
            .collect(),
    );
    assert!(reordered.same_as(&good));
}
