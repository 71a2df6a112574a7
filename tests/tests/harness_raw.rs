//! The tooling client: commands, error replies, RESP3, pipelining, and every transport.

use std::time::Duration;

use redis_client::Value;
use redis_test_harness::{text, Endpoint, RawConnection, Server, ServerKind};

fn bulk(data: &[u8]) -> Value {
    Value::Bulk(data.to_vec().into())
}

#[test]
fn commands_binary_data_and_error_replies() {
    let server = Server::redis();
    let mut conn = RawConnection::connect(server.addr()).unwrap();
    assert_eq!(conn.call(&["PING"]).unwrap(), Value::Simple("PONG".into()));
    let key: &[u8] = b"bin\x00key";
    let value: &[u8] = b"\r\n\xff\x00";
    assert_eq!(
        conn.call(&[b"SET".as_slice(), key, value]).unwrap(),
        Value::Simple("OK".into())
    );
    assert_eq!(conn.call(&[b"GET".as_slice(), key]).unwrap(), bulk(value));
    let error = conn.call(&["INCR", "bin\0key"]).unwrap();
    assert!(
        matches!(&error, Value::Error(m) if m.starts_with(b"ERR")),
        "{error:?}"
    );
    let err = conn
        .call_ok(&["NOSUCHCOMMAND", "x"])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("NOSUCHCOMMAND x") && err.contains("unknown command"),
        "{err}"
    );
    // The connection is still in step after error replies.
    assert_eq!(conn.call(&["ECHO", "after"]).unwrap(), bulk(b"after"));
}

#[test]
fn hello_3_switches_to_resp3() {
    let server = Server::valkey();
    let mut conn = RawConnection::connect_to(&server).unwrap();
    let hello = conn.hello(3).unwrap();
    let fields = redis_test_harness::fields(&hello);
    assert!(matches!(hello, Value::Map(_)), "{hello:?}");
    assert_eq!(redis_test_harness::field(&fields, "proto"), Some("3"));
    conn.call(&["HSET", "h", "f", "v"]).unwrap();
    assert_eq!(
        conn.call(&["HGETALL", "h"]).unwrap(),
        Value::Map(vec![(bulk(b"f"), bulk(b"v"))])
    );
    assert_eq!(
        conn.call(&["INCRBYFLOAT", "n", "1.5"]).unwrap(),
        bulk(b"1.5")
    );
}

#[test]
fn pipelined_replies_arrive_in_order() {
    let server = Server::redis();
    let mut conn = RawConnection::connect_to(&server).unwrap();
    for i in 0..50 {
        conn.send(&["RPUSH", "list", &i.to_string()]).unwrap();
    }
    for i in 1..=50 {
        assert_eq!(conn.read_reply().unwrap(), Value::Integer(i));
    }
    let big = "x".repeat(200_000);
    conn.call(&["SET", "big", &big]).unwrap();
    assert_eq!(conn.call(&["GET", "big"]).unwrap(), bulk(big.as_bytes()));
}

#[test]
fn connect_to_authenticates_and_info_reads_text() {
    let server = Server::builder(ServerKind::Redis).requirepass("pw").start();
    let mut conn = RawConnection::connect_to(&server).unwrap();
    let info = conn.info("server").unwrap();
    assert_eq!(
        redis_test_harness::info_field(&info, "redis_version"),
        Some(server.version())
    );
    let mut anonymous = RawConnection::connect(server.addr()).unwrap();
    let reply = anonymous.call(&["GET", "k"]).unwrap();
    assert!(text(&reply).is_none() && reply.is_error(), "{reply:?}");
}

#[test]
fn unix_socket_and_tls_transports() {
    let unix = Server::builder(ServerKind::Redis).unix_socket().start();
    let path = unix.unix_path().unwrap().to_path_buf();
    let mut conn = RawConnection::open(&Endpoint::Unix(path)).unwrap();
    assert_eq!(conn.call(&["PING"]).unwrap(), Value::Simple("PONG".into()));

    let tls = Server::builder(ServerKind::Redis).tls().start();
    let mut conn = RawConnection::connect_to(&tls).unwrap();
    conn.call(&["SET", "k", "over tls"]).unwrap();
    assert_eq!(conn.call(&["GET", "k"]).unwrap(), bulk(b"over tls"));
}

#[test]
fn read_timeout_and_closed_connection_are_io_errors() {
    let mut server = Server::redis();
    let mut conn = RawConnection::connect_to(&server).unwrap();
    conn.set_timeout(Some(Duration::from_millis(100))).unwrap();
    let err = conn.call(&["BLPOP", "nothing", "0"]).unwrap_err();
    assert!(
        matches!(
            err.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
        "{err}"
    );
    server.kill();
    let mut conn = RawConnection::connect(server.addr());
    assert!(conn.is_err() || conn.as_mut().unwrap().call(&["PING"]).is_err());
}
