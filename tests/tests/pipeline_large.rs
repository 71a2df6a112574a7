//! A pipeline of 100 000 commands, plain and as one transaction, with replies far larger than
//! any socket buffer: nothing deadlocks, every reply arrives in order, the connection is clean.

use std::time::{Duration, Instant};

use bytes::Bytes;
use redis_client::{Client, Config, Protocol, Value};
use redis_test_harness::Server;

const COMMANDS: usize = 100_000;

fn client(server: &Server, protocol: Protocol) -> Client {
    let config = Config::from_url(&server.url())
        .unwrap()
        .to_builder()
        .protocol(protocol)
        .socket_timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    Client::new(config).unwrap()
}

#[test]
fn a_hundred_thousand_commands_plain_and_as_a_transaction() {
    let server = Server::redis();
    let value = Bytes::from(vec![b'v'; 200]);
    for (protocol, transaction) in [(Protocol::Resp2, false), (Protocol::Resp3, true)] {
        let client = client(&server, protocol);
        client.execute(["FLUSHALL"]).unwrap();
        let started = Instant::now();

        let mut pipe = client.pipeline();
        pipe.transaction(transaction);
        for i in 0..COMMANDS {
            pipe.raw(("SET", format!("key:{i}"), &value));
        }
        let replies = pipe.execute().unwrap();
        assert_eq!(replies.len(), COMMANDS);
        assert!(replies.iter().all(|r| *r == Value::Simple("OK".into())));

        // 100 000 replies of 200 bytes: about 20 MB coming back while commands still go out.
        for i in 0..COMMANDS {
            pipe.raw(("GET", format!("key:{i}")));
        }
        let replies: Vec<Bytes> = pipe.execute_typed().unwrap();
        assert_eq!(replies.len(), COMMANDS);
        assert!(replies.iter().all(|r| *r == value), "{protocol:?}");

        // Mixed: each INCR sees the one before, so the order is kept.
        for _ in 0..COMMANDS {
            pipe.raw(["INCR", "counter"]);
        }
        let counts: Vec<i64> = pipe.execute_typed().unwrap();
        assert!(
            counts.iter().copied().eq(1..=COMMANDS as i64),
            "{protocol:?}"
        );

        let elapsed = started.elapsed();
        assert!(
            elapsed < Duration::from_secs(60),
            "{protocol:?} transaction={transaction}: 300 000 commands took {elapsed:?}"
        );
        let stats = client.pool_stats().unwrap();
        assert_eq!(
            (stats.open, stats.idle),
            (1, 1),
            "one clean connection left"
        );
        assert_eq!(
            client.query::<i64>(["DBSIZE"]).unwrap(),
            COMMANDS as i64 + 1
        );
    }
}

#[test]
fn one_huge_reply_and_one_huge_command_in_a_pipeline() {
    let server = Server::valkey();
    let client = client(&server, Protocol::Resp3);
    // A single 8 MB argument is written as one slice of its own.
    let big = Bytes::from(vec![b'x'; 8 << 20]);
    let mut pipe = client.pipeline();
    pipe.transaction(false)
        .raw(["SET", "small", "1"])
        .raw(("SET", "big", &big))
        .raw(["GET", "big"])
        .raw(["GET", "small"]);
    let (_, _, got, small): ((), (), Bytes, String) = pipe.execute_typed().unwrap();
    assert_eq!(got, big);
    assert_eq!(small, "1");
}
