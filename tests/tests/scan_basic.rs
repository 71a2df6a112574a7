//! Scan iterators against real servers: 10 000 keys with MATCH, COUNT and TYPE, every key
//! present throughout seen while another client adds keys, and typed SSCAN/HSCAN/ZSCAN.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use bytes::Bytes;
use redis_client::{Client, Error, Protocol};
use redis_test_harness::{client, Server};

const KEYS: usize = 10_000;

fn fill(client: &Client) {
    client.execute(["FLUSHALL"]).unwrap();
    let mut pipe = client.pipeline();
    pipe.transaction(false);
    for i in 0..KEYS {
        pipe.raw(("SET", format!("str:{i}"), i));
    }
    for i in 0..100 {
        pipe.raw(("HSET", format!("hash:{i}"), "f", i));
    }
    pipe.execute().unwrap();
}

#[test]
fn scan_returns_every_key_once_filtered_by_match_and_type() {
    for (server, protocol) in [
        (Server::redis(), Protocol::Resp2),
        (Server::valkey(), Protocol::Resp3),
    ] {
        let client = client(&server, protocol);
        fill(&client);
        let id = server.server_id();

        let all: Vec<String> = client
            .scan_iter::<String>()
            .count(1000)
            .collect::<Result<_, _>>()
            .unwrap();
        let unique: HashSet<&String> = all.iter().collect();
        assert_eq!(unique.len(), KEYS + 100, "{id}");

        let strings: HashSet<String> = client
            .scan_iter()
            .matching("str:*")
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(strings.len(), KEYS, "{id}");
        assert!((0..KEYS).all(|i| strings.contains(&format!("str:{i}"))));

        let hashes: HashSet<Bytes> = client
            .scan_iter()
            .of_type("hash")
            .count(500)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(hashes.len(), 100, "{id}");
        assert!(hashes.iter().all(|k| k.starts_with(b"hash:")));

        let narrow: Vec<String> = client
            .scan_iter()
            .matching("str:99*")
            .of_type("string")
            .collect::<Result<_, _>>()
            .unwrap();
        // str:99, str:990..str:999, str:9900..str:9999
        assert_eq!(narrow.len(), 1 + 10 + 100, "{id}");

        let none: Vec<String> = client
            .scan_iter()
            .matching("nothing:*")
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(none.is_empty());
    }
}

#[test]
fn keys_present_for_the_whole_scan_are_seen_while_another_client_adds_keys() {
    let server = Server::redis();
    let client = client(&server, Protocol::Resp3);
    fill(&client);
    let writer = self::client(&server, Protocol::Resp2);
    let done = AtomicBool::new(false);
    let written = AtomicUsize::new(0);
    let (seen, during): (HashSet<String>, usize) = thread::scope(|s| {
        s.spawn(|| {
            let mut i = 0;
            // Enough new keys to make the server grow its table under the scan.
            while !done.load(Ordering::Relaxed) && i < 200_000 {
                let mut pipe = writer.pipeline();
                pipe.transaction(false);
                for _ in 0..500 {
                    pipe.raw(("SET", format!("new:{i}"), i));
                    i += 1;
                }
                pipe.execute().unwrap();
                written.store(i, Ordering::Relaxed);
            }
        });
        while written.load(Ordering::Relaxed) == 0 {
            thread::sleep(Duration::from_millis(1));
        }
        let before = written.load(Ordering::Relaxed);
        let seen = client
            .scan_iter::<String>()
            .count(20)
            .collect::<Result<_, _>>()
            .unwrap();
        let during = written.load(Ordering::Relaxed) - before;
        done.store(true, Ordering::Relaxed);
        (seen, during)
    });
    let missing: Vec<usize> = (0..KEYS)
        .filter(|i| !seen.contains(&format!("str:{i}")))
        .collect();
    assert!(missing.is_empty(), "{} keys never returned", missing.len());
    assert!(during > 0, "the writer added keys during the scan");
}

#[test]
fn sscan_hscan_and_zscan_give_typed_items() {
    for protocol in [Protocol::Resp2, Protocol::Resp3] {
        let server = Server::valkey();
        let client = client(&server, protocol);
        let mut pipe = client.pipeline();
        for i in 0..2_000 {
            pipe.raw(("SADD", "set", i))
                .raw(("HSET", "hash", format!("field:{i}"), i))
                .raw(("ZADD", "zset", f64::from(i) / 2.0, format!("m{i}")));
        }
        pipe.execute().unwrap();

        let members: HashSet<u32> = client.sscan_iter("set").collect::<Result<_, _>>().unwrap();
        assert_eq!(members, (0..2_000).collect(), "{protocol:?}");

        let fields: HashMap<String, i64> = client
            .hscan_iter("hash")
            .count(100)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(fields.len(), 2_000);
        assert_eq!(fields["field:1234"], 1234);
        let some: Vec<(String, i64)> = client
            .hscan_iter("hash")
            .matching("field:1*")
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(some.len(), 1 + 10 + 100 + 1000, "{protocol:?}");

        let scores: HashMap<String, f64> =
            client.zscan_iter("zset").collect::<Result<_, _>>().unwrap();
        assert_eq!(scores.len(), 2_000);
        assert_eq!(scores["m7"], 3.5, "{protocol:?}");

        let empty: Vec<(Bytes, Bytes)> = client
            .hscan_iter("no-such-hash")
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(empty.is_empty());
    }
}

#[test]
fn errors_end_the_iteration() {
    let server = Server::redis();
    let client = client(&server, Protocol::Resp3);
    client.execute(["SET", "plain", "x"]).unwrap();
    let mut iter = client.sscan_iter::<String>("plain");
    let err = iter.next().unwrap().unwrap_err();
    assert_eq!(err.code(), Some("WRONGTYPE"), "{err}");
    assert!(iter.next().is_none());

    let mut iter = client.sscan_iter::<String>("plain").of_type("set");
    let err = iter.next().unwrap().unwrap_err();
    assert!(
        matches!(&err, Error::Data(m) if m.contains("SCAN only")),
        "{err}"
    );

    client.execute(["SADD", "words", "not-a-number"]).unwrap();
    let err = client
        .sscan_iter::<i64>("words")
        .next()
        .unwrap()
        .unwrap_err();
    assert!(err.to_string().contains("SSCAN"), "{err}");
}
