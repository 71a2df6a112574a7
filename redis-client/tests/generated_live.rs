//! The generated commands against real servers (Redis 7.0 and Valkey 9), each scenario run
//! once over RESP2 and once over RESP3 on a flushed database: both must give the same Rust
//! values, and the values the server documents.

use std::collections::HashMap;
use std::fmt::Debug;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use redis_client::cmd::{self, *};
use redis_client::{Client, Commands, Error, Executor, Protocol, Value};
use redis_test_harness::{client, Server};

/// Runs `scenario` over RESP2 and over RESP3, each on a flushed database, and returns its
/// result after checking that both protocols gave the same one.
fn same_in_both<T: PartialEq + Debug>(server: &Server, scenario: impl Fn(&Client) -> T) -> T {
    let mut results = Vec::new();
    for protocol in [Protocol::Resp2, Protocol::Resp3] {
        let c = client(server, protocol);
        c.flushall().unwrap();
        results.push(scenario(&c));
    }
    let resp3 = results.pop().unwrap();
    let resp2 = results.pop().unwrap();
    assert_eq!(
        resp2,
        resp3,
        "RESP2 and RESP3 differ on {}",
        server.server_id()
    );
    resp3
}

fn b(text: &str) -> Bytes {
    Bytes::copy_from_slice(text.as_bytes())
}

#[test]
fn set_zadd_zrange_lpos_sort_and_bitfield() {
    for server in [Server::redis(), Server::valkey()] {
        let set = same_in_both(&server, |c| {
            c.set("k", "v").unwrap();
            let old = c.run(cmd::Set::new("k", "w").get()).unwrap();
            let missing = c.run(cmd::Set::new("new", "x").get()).unwrap();
            let refused = c.run(cmd::Set::new("k", "z").nx()).unwrap();
            let done = c
                .run(cmd::Set::new("k", "z").xx().ex(Duration::from_secs(100)))
                .unwrap();
            let ttl = c.ttl("k").unwrap();
            c.run(cmd::Set::new("k", "y").keepttl()).unwrap();
            let kept = c.ttl("k").unwrap();
            c.run(cmd::Set::new("k", "y").pxat(SystemTime::now() + Duration::from_secs(60)))
                .unwrap();
            let pttl = c.pttl("k").unwrap();
            let value = c.get("k").unwrap();
            (
                old,
                missing,
                refused,
                done,
                (99..=100).contains(&ttl),
                kept > 0,
                (59_000..=60_001).contains(&pttl),
                value,
            )
        });
        assert_eq!(
            set,
            (
                Some(b("v")),
                None,
                None,
                Some(()),
                true,
                true,
                true,
                Some(b("y"))
            )
        );

        let zadd = same_in_both(&server, |c| {
            let added = c.zadd("z", [(1.0, "a"), (2.0, "b")]).unwrap();
            let nx = c
                .run(cmd::Zadd::new("z", [(5.0, "a"), (3.0, "c")]).nx())
                .unwrap();
            let gt_ch = c
                .run(cmd::Zadd::new("z", [(0.5, "a"), (4.0, "b")]).xx().gt().ch())
                .unwrap();
            let lt = c.run(cmd::Zadd::new("z", [(10.0, "a")]).lt().ch()).unwrap();
            let incr = c.run(cmd::Zadd::new("z", [(2.5, "a")]).incr()).unwrap();
            let refused = c
                .run(cmd::Zadd::new("z", [(1.0, "a")]).nx().incr())
                .unwrap();
            let by_score = c
                .run(
                    cmd::Zrange::new("z", "+inf", "(1")
                        .byscore()
                        .rev()
                        .limit(0, 2)
                        .withscores(),
                )
                .unwrap();
            c.zadd("lex", [(0.0, "a"), (0.0, "b"), (0.0, "c"), (0.0, "d")])
                .unwrap();
            let by_lex = c.run(cmd::Zrange::new("lex", "[b", "(d").bylex()).unwrap();
            let by_lex_rev = c
                .run(
                    cmd::Zrange::new("lex", "(d", "[b")
                        .bylex()
                        .rev()
                        .limit(0, 1),
                )
                .unwrap();
            (
                added, nx, gt_ch, lt, incr, refused, by_score, by_lex, by_lex_rev,
            )
        });
        assert_eq!(
            zadd,
            (
                2,
                1,
                1,
                0,
                Some(3.5),
                None,
                vec![(b("b"), 4.0), (b("a"), 3.5)],
                vec![b("b"), b("c")],
                vec![b("c")],
            )
        );

        let lists = same_in_both(&server, |c| {
            c.rpush("l", ["a", "b", "c", "1", "2", "3", "c", "c"])
                .unwrap();
            let first = c.lpos("l", "c").unwrap();
            let last = c.run(cmd::Lpos::new("l", "c").rank(-1)).unwrap();
            let all = c.run(cmd::Lpos::new("l", "c").count(0)).unwrap();
            let bounded = c.run(cmd::Lpos::new("l", "c").count(0).maxlen(4)).unwrap();
            let none = c.run(cmd::Lpos::new("l", "zz")).unwrap();
            (first, last, all, bounded, none)
        });
        assert_eq!(lists, (Some(2), Some(7), vec![2, 6, 7], vec![2], None));

        let sort = same_in_both(&server, |c| {
            c.rpush("ids", ["3", "1", "2"]).unwrap();
            c.mset([
                ("weight_1", "30"),
                ("weight_2", "10"),
                ("weight_3", "20"),
                ("object_1", "one"),
                ("object_2", "two"),
                ("object_3", "three"),
            ])
            .unwrap();
            let sorted = c
                .run(
                    cmd::Sort::new("ids")
                        .by("weight_*")
                        .limit(0, 2)
                        .get(["#", "object_*"]),
                )
                .unwrap();
            let stored = c
                .run(
                    cmd::Sort::new("ids")
                        .by("weight_*")
                        .get(["object_*"])
                        .desc()
                        .store("dst"),
                )
                .unwrap();
            let dst = c.lrange("dst", 0, -1).unwrap();
            (sorted, stored, dst)
        });
        assert_eq!(
            sort,
            (
                vec![Some(b("2")), Some(b("two")), Some(b("3")), Some(b("three"))],
                3,
                vec![b("one"), b("three"), b("two")],
            )
        );

        let bitfield = same_in_both(&server, |c| {
            c.run(
                cmd::Bitfield::new("bf")
                    .write(BitfieldWrite::new(BitfieldWriteOperation::set(
                        "u8", 0, 200,
                    )))
                    .write(
                        BitfieldWrite::new(BitfieldWriteOperation::incrby("u8", 0, 100))
                            .overflow(BitfieldOverflow::Sat),
                    )
                    .get("u8", 0)
                    .write(
                        BitfieldWrite::new(BitfieldWriteOperation::incrby("u8", 0, 1))
                            .overflow(BitfieldOverflow::Fail),
                    ),
            )
            .unwrap()
        });
        assert_eq!(bitfield, [Some(0), Some(255), Some(255), None]);
    }
}

#[test]
fn set_ifeq_and_hash_field_expiry_on_valkey() {
    let server = Server::valkey();
    let ifeq = same_in_both(&server, |c| {
        c.set("k", "old").unwrap();
        let other = c.run(cmd::Set::new("k", "new").ifeq("other")).unwrap();
        let matched = c.run(cmd::Set::new("k", "new").ifeq("old").get()).unwrap();
        (other, matched, c.get("k").unwrap())
    });
    assert_eq!(ifeq, (None, Some(b("old")), Some(b("new"))));

    let hashes = same_in_both(&server, |c| {
        let set = c
            .run(
                cmd::Hsetex::new("h", [("f1", "v1"), ("f2", "v2")])
                    .fnx()
                    .ex(100),
            )
            .unwrap();
        let again = c.run(cmd::Hsetex::new("h", [("f1", "x")]).fnx()).unwrap();
        let ttls = c.httl("h", ["f1", "f2", "nope"]).unwrap();
        let got = c
            .run(cmd::Hgetex::new("h", ["f1", "nope"]).px(Duration::from_secs(50)))
            .unwrap();
        let after = c.httl("h", ["f1", "f2"]).unwrap();
        let persisted = c.run(cmd::Hgetex::new("h", ["f2"]).persist()).unwrap();
        let last = c.httl("h", ["f2"]).unwrap();
        (
            set,
            again,
            ttls.iter().take(2).all(|t| (99..=100).contains(t)),
            ttls[2],
            got,
            (49..=50).contains(&after[0]) && after[1] > 50,
            persisted,
            last,
        )
    });
    assert_eq!(
        hashes,
        (
            true,
            false,
            true,
            -2,
            vec![Some(b("v1")), None],
            true,
            vec![Some(b("v2"))],
            vec![-1]
        )
    );
}

#[test]
fn xadd_and_xreadgroup() {
    for server in [Server::redis(), Server::valkey()] {
        let streams = same_in_both(&server, |c| {
            let none = c
                .run(cmd::Xadd::new("missing", XaddIdSelector::AutoId, [("f", "v")]).nomkstream())
                .unwrap();
            let explicit = c
                .xadd("s1", XaddIdSelector::id("1-1"), [("f", "a")])
                .unwrap();
            let auto = c
                .run(
                    cmd::Xadd::new("s1", XaddIdSelector::AutoId, [("f", "b"), ("g", "c")]).trim(
                        XaddTrim::new(XaddStrategy::Maxlen, 1000)
                            .approximately()
                            .limit(10),
                    ),
                )
                .unwrap();
            c.xadd("s1", XaddIdSelector::id("9999999999999-0"), [("f", "d")])
                .unwrap();
            let trimmed = c
                .run(
                    cmd::Xadd::new("s1", XaddIdSelector::id("9999999999999-1"), [("f", "e")])
                        .trim(XaddTrim::new(XaddStrategy::Minid, "9999999999999-0").equal()),
                )
                .unwrap();
            let len = c.xlen("s1").unwrap();
            c.xadd("s2", XaddIdSelector::id("5-5"), [("x", "y")])
                .unwrap();
            c.run(cmd::XgroupCreate::new(
                "s1",
                "g",
                XgroupCreateIdSelector::id("0"),
            ))
            .unwrap();
            c.run(cmd::XgroupCreate::new(
                "s2",
                "g",
                XgroupCreateIdSelector::id("0"),
            ))
            .unwrap();
            let read = c
                .run(cmd::Xreadgroup::new("g", "alice", [("s1", ">"), ("s2", ">")]).count(1))
                .unwrap()
                .expect("entries");
            let empty = c
                .run(
                    cmd::Xreadgroup::new("g", "alice", [("s2", ">")])
                        .block(Duration::from_millis(10)),
                )
                .unwrap();
            (
                none,
                explicit,
                auto.contains('-'),
                trimmed,
                len,
                read,
                empty,
            )
        });
        let mut expected = HashMap::new();
        expected.insert(
            b("s1"),
            vec![("9999999999999-0".to_string(), Some(vec![b("f"), b("d")]))],
        );
        expected.insert(
            b("s2"),
            vec![("5-5".to_string(), Some(vec![b("x"), b("y")]))],
        );
        assert_eq!(
            streams,
            (
                None,
                "1-1".to_string(),
                true,
                "9999999999999-1".to_string(),
                2,
                expected,
                None
            )
        );
    }
}

#[test]
fn geosearch_from_member_or_point_by_radius_or_box() {
    for server in [Server::redis(), Server::valkey()] {
        let geo = same_in_both(&server, |c| {
            c.geoadd(
                "sicily",
                [
                    (13.361389, 38.115556, "Palermo"),
                    (15.087269, 37.502669, "Catania"),
                ],
            )
            .unwrap();
            let near = c
                .run(
                    cmd::Geosearch::new("sicily", GeosearchBy::circle(200.0, GeosearchUnit::Km))
                        .frommember("Palermo")
                        .asc()
                        .withdist(),
                )
                .unwrap();
            let boxed = c
                .run(
                    cmd::Geosearch::new(
                        "sicily",
                        GeosearchBy::box_(400.0, 400.0, GeosearchUnit::Km),
                    )
                    .fromlonlat(15.0, 37.0)
                    .desc()
                    .count(GeosearchCount::new(1))
                    .withcoord(),
                )
                .unwrap();
            let names = c
                .run(
                    cmd::Geosearch::new("sicily", GeosearchBy::circle(100.0, GeosearchUnit::Mi))
                        .fromlonlat(15.0, 37.0),
                )
                .unwrap();
            (near, boxed, names)
        });
        let (near, boxed, names) = geo;
        assert_eq!(near.len(), 2);
        assert_eq!((near[0].0.clone(), near[0].1), (b("Palermo"), 0.0));
        assert_eq!(near[1].0, b("Catania"));
        assert!((near[1].1 - 166.2742).abs() < 0.01, "{near:?}");
        assert_eq!(boxed.len(), 1);
        assert_eq!(boxed[0].0, b("Palermo"), "DESC puts the farthest first");
        assert!((boxed[0].1 .0 - 13.361389).abs() < 0.001, "{boxed:?}");
        assert_eq!(names, [b("Catania")]);
    }
}

#[test]
fn eval_fcall_config_set_and_client_kill() {
    for server in [Server::redis(), Server::valkey()] {
        let scripted = same_in_both(&server, |c| {
            let eval = c
                .run(
                    cmd::Eval::new("return {KEYS[1], KEYS[2], ARGV[1], #ARGV, tonumber(ARGV[2])}")
                        .key(["k1", "k2"])
                        .arg(["a", "7"]),
                )
                .unwrap();
            let library = c
                .run(
                    cmd::FunctionLoad::new(
                        "#!lua name=genlib\n\
                         redis.register_function('join', function(keys, args) \
                         return keys[1] .. ':' .. args[1] end)",
                    )
                    .replace(),
                )
                .unwrap();
            let fcall = c
                .run(cmd::Fcall::new("join").key(["key"]).arg(["arg"]))
                .unwrap();
            c.run(cmd::FunctionFlush::new()).unwrap();
            (eval, library, fcall)
        });
        assert_eq!(
            scripted,
            (
                Value::Array(vec![
                    Value::Bulk(b("k1")),
                    Value::Bulk(b("k2")),
                    Value::Bulk(b("a")),
                    Value::Integer(2),
                    Value::Integer(7),
                ]),
                "genlib".to_string(),
                Value::Bulk(b("key:arg")),
            )
        );

        let config = same_in_both(&server, |c| {
            c.config_set([("hz", "15"), ("maxmemory-policy", "allkeys-lru")])
                .unwrap();
            let got = c.config_get(["hz", "maxmemory-policy"]).unwrap();
            c.config_set([("hz", "10"), ("maxmemory-policy", "noeviction")])
                .unwrap();
            got
        });
        let expected: HashMap<String, String> = [
            ("hz".to_string(), "15".to_string()),
            ("maxmemory-policy".to_string(), "allkeys-lru".to_string()),
        ]
        .into();
        assert_eq!(config, expected);

        let killed = same_in_both(&server, |c| {
            let victim = client(&server, Protocol::Resp3);
            let mut conn = victim.get_connection().unwrap();
            let id = conn.client_id().unwrap();
            let killed = c
                .run(cmd::ClientKill::new_format([
                    ClientKillNewFormat::id([id]),
                    ClientKillNewFormat::type_(ClientKillClientType::Normal),
                    ClientKillNewFormat::skipme(ClientKillSkipme::Yes),
                ]))
                .unwrap();
            let after = conn.ping().map(drop);
            (killed, after.is_err())
        });
        assert_eq!(killed, (1, true));
    }
}

#[test]
fn migrate_keys_with_the_empty_key() {
    for (source, target) in [
        (Server::redis(), Server::redis()),
        (Server::valkey(), Server::valkey()),
    ] {
        let moved = same_in_both(&source, |c| {
            let dest = client(&target, Protocol::Resp3);
            dest.flushall().unwrap();
            c.mset([("a", "1"), ("b", "2")]).unwrap();
            let status = c
                .run(
                    cmd::Migrate::new(
                        target.host().to_string(),
                        i64::from(target.port()),
                        MigrateKeySelector::EmptyString,
                        0,
                        5000,
                    )
                    .copy()
                    .keys(["a", "b"]),
                )
                .unwrap();
            let nokey = c
                .run(cmd::Migrate::new(
                    target.host().to_string(),
                    i64::from(target.port()),
                    MigrateKeySelector::key("missing"),
                    0,
                    5000,
                ))
                .unwrap();
            let copied = dest.mget(["a", "b"]).unwrap();
            let kept = c.exists(["a", "b"]).unwrap();
            (status, nokey, copied, kept)
        });
        assert_eq!(
            moved,
            (
                "OK".to_string(),
                "NOKEY".to_string(),
                vec![Some(b("1")), Some(b("2"))],
                2
            )
        );
    }
}

#[test]
fn errors_name_the_command() {
    let server = Server::redis();
    let c = client(&server, Protocol::Resp3);
    // Refused before sending: nothing reaches the server.
    let err = c.run(cmd::Del::new(Vec::<&str>::new())).unwrap_err();
    assert!(matches!(err, Error::Data(_)), "{err:?}");
    assert!(err.to_string().contains("DEL"), "{err}");
    c.set("text", "not a number").unwrap();
    let err = c.incr("text").unwrap_err();
    assert_eq!(err.code(), Some("ERR"));
    assert_eq!(err.server_error().unwrap().command(), Some("INCR"));
    // The same connection type works through `&mut Connection`.
    let mut conn = c.get_connection().unwrap();
    conn.set("n", 41).unwrap();
    assert_eq!(conn.incr("n").unwrap(), 42);
}
