//! `Connection` against real servers: round trips, handshake, authentication, timeouts and
//! broken-connection handling, over RESP2 and RESP3, on Redis and Valkey.

use std::time::{Duration, Instant};

use redis_client::{Config, Connection, Error, Protocol, Value};
use redis_test_harness::{Server, ServerKind};

fn config(server: &Server, protocol: Protocol) -> Config {
    Config::from_url(&server.url())
        .unwrap()
        .to_builder()
        .protocol(protocol)
        .socket_timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

fn client_info(conn: &mut Connection) -> String {
    let info: String = conn.query(["CLIENT", "INFO"]).unwrap();
    info
}

fn info_field<'a>(info: &'a str, name: &str) -> Option<&'a str> {
    info.split_whitespace()
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
}

#[test]
fn round_trips_on_redis_and_valkey_in_both_protocols() {
    for kind in [ServerKind::Redis, ServerKind::Valkey] {
        let server = Server::builder(kind).start();
        for protocol in [Protocol::Resp2, Protocol::Resp3] {
            let mut conn = Connection::open(&config(&server, protocol)).unwrap();
            assert_eq!(conn.protocol(), protocol);
            let key = format!("k:{protocol:?}");
            assert_eq!(
                conn.execute(["SET", &key, "v\r\nwith crlf"]).unwrap(),
                Value::Simple("OK".into())
            );
            let got: String = conn.query(["GET", key.as_str()]).unwrap();
            assert_eq!(got, "v\r\nwith crlf");
            let n: i64 = conn.query(("INCRBY", "counter", 5)).unwrap();
            assert!(n >= 5);
            // A map reply: RESP3 sends a map, RESP2 a flat array.
            conn.execute(["HSET", "h", "f", "1"]).unwrap();
            let reply = conn.execute(["HGETALL", "h"]).unwrap();
            match protocol {
                Protocol::Resp3 => assert!(matches!(reply, Value::Map(_)), "{reply:?}"),
                Protocol::Resp2 => assert!(matches!(reply, Value::Array(_)), "{reply:?}"),
            }
            let info = client_info(&mut conn);
            let expected_resp = if protocol == Protocol::Resp3 {
                "3"
            } else {
                "2"
            };
            assert_eq!(info_field(&info, "resp"), Some(expected_resp), "{info}");
            assert!(!conn.is_broken());
        }
    }
}

#[test]
fn handshake_selects_db_names_the_client_and_sets_lib_info_when_supported() {
    for kind in [ServerKind::Redis, ServerKind::Valkey] {
        let server = Server::builder(kind).start();
        for protocol in [Protocol::Resp2, Protocol::Resp3] {
            let config = config(&server, protocol)
                .to_builder()
                .db(3)
                .client_name("runtime-test")
                .build()
                .unwrap();
            let mut conn = Connection::open(&config).unwrap();
            let info = client_info(&mut conn);
            assert_eq!(info_field(&info, "db"), Some("3"), "{info}");
            assert_eq!(info_field(&info, "name"), Some("runtime-test"), "{info}");
            if kind == ServerKind::Valkey {
                // Redis 7.0 lacks CLIENT SETINFO; the handshake skipped it there.
                assert_eq!(
                    info_field(&info, "lib-name"),
                    Some("redis-client"),
                    "{info}"
                );
                assert_eq!(
                    info_field(&info, "lib-ver"),
                    Some(env!("CARGO_PKG_VERSION")),
                    "{info}"
                );
            }
        }
    }
}

#[test]
fn select_switches_database() {
    let server = Server::redis();
    let mut conn = Connection::open(&config(&server, Protocol::Resp3)).unwrap();
    conn.execute(["SET", "where", "db0"]).unwrap();
    conn.select(2).unwrap();
    assert_eq!(conn.db(), 2);
    assert_eq!(conn.execute(["GET", "where"]).unwrap(), Value::Nil);
    let err = conn.select(100_000).unwrap_err();
    assert!(matches!(err, Error::Response(_)), "{err:?}");
    assert_eq!(conn.db(), 2, "a failed SELECT keeps the old db");
}

#[test]
fn acl_user_authenticates_and_wrong_passwords_are_authentication_errors() {
    let server = Server::builder(ServerKind::Redis)
        .requirepass("default-pw")
        .user("alice", "alice-pw")
        .start();
    let base = config(&server, Protocol::Resp3);
    for protocol in [Protocol::Resp2, Protocol::Resp3] {
        let good = base
            .to_builder()
            .protocol(protocol)
            .username("alice")
            .password("alice-pw")
            .build()
            .unwrap();
        let mut conn = Connection::open(&good).unwrap();
        let who: String = conn.query(["ACL", "WHOAMI"]).unwrap();
        assert_eq!(who, "alice");

        let default_user = base
            .to_builder()
            .protocol(protocol)
            .password("default-pw")
            .build()
            .unwrap();
        let mut conn = Connection::open(&default_user).unwrap();
        let who: String = conn.query(["ACL", "WHOAMI"]).unwrap();
        assert_eq!(who, "default");

        let wrong = base
            .to_builder()
            .protocol(protocol)
            .username("alice")
            .password("not-her-password")
            .build()
            .unwrap();
        let err = Connection::open(&wrong).unwrap_err();
        assert!(matches!(err, Error::Authentication(_)), "{err:?}");
        let text = format!("{err} {err:?}");
        assert!(!text.contains("not-her-password"), "{text}");

        let missing = base.to_builder().protocol(protocol).build().unwrap();
        match Connection::open(&missing) {
            // RESP3: HELLO itself is refused with NOAUTH.
            Err(err) => assert!(matches!(err, Error::Authentication(_)), "{err:?}"),
            // RESP2: connecting works; the first command is refused.
            Ok(mut conn) => {
                let err = conn.execute(["GET", "k"]).unwrap_err();
                assert!(matches!(err, Error::Authentication(_)), "{err:?}");
                assert_eq!(err.code(), Some("NOAUTH"));
            }
        }
    }
}

#[test]
fn server_errors_keep_code_and_command_and_leave_the_connection_usable() {
    let server = Server::redis();
    let mut conn = Connection::open(&config(&server, Protocol::Resp3)).unwrap();
    conn.execute(["LPUSH", "list", "x"]).unwrap();
    let err = conn.execute(["GET", "list"]).unwrap_err();
    assert_eq!(err.code(), Some("WRONGTYPE"));
    assert_eq!(err.server_error().unwrap().command(), Some("GET"));
    let err = conn.execute(["EVALSHA", "0123456789012345678901234567890123456789", "0"]);
    assert_eq!(err.unwrap_err().code(), Some("NOSCRIPT"));
    assert!(!conn.is_broken());
    assert_eq!(
        conn.execute(["PING"]).unwrap(),
        Value::Simple("PONG".into())
    );
}

#[test]
fn pipelined_writes_and_reads_keep_order() {
    let server = Server::valkey();
    let mut conn = Connection::open(&config(&server, Protocol::Resp2)).unwrap();
    let commands: Vec<Vec<String>> = (0..100)
        .map(|i| vec!["SET".into(), format!("p{i}"), i.to_string()])
        .collect();
    conn.write_commands(&commands).unwrap();
    assert_eq!(conn.pending_replies(), 100);
    for _ in 0..100 {
        assert_eq!(conn.read_reply().unwrap(), Value::Simple("OK".into()));
    }
    conn.write_command(&["GET", "p7"]).unwrap();
    conn.write_command(&["INCR", "p8"]).unwrap();
    conn.write_command(&["LPUSH", "p9", "x"]).unwrap();
    conn.flush().unwrap();
    assert_eq!(conn.read_reply().unwrap(), Value::Bulk("7".into()));
    assert_eq!(conn.read_reply().unwrap(), Value::Integer(9));
    assert!(matches!(conn.read_reply().unwrap(), Value::Error(_)));
    assert_eq!(conn.pending_replies(), 0);
}

#[test]
fn execute_refuses_while_pipelined_replies_are_unread() {
    let server = Server::redis();
    let mut conn = Connection::open(&config(&server, Protocol::Resp3)).unwrap();
    conn.write_command(&["PING"]).unwrap();
    conn.flush().unwrap();
    assert!(conn.execute(["PING"]).is_err());
    conn.read_reply().unwrap();
    conn.execute(["PING"]).unwrap();
}

#[test]
fn socket_timeout_breaks_the_connection() {
    let server = Server::redis();
    let config = config(&server, Protocol::Resp3)
        .to_builder()
        .socket_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let mut conn = Connection::open(&config).unwrap();
    let started = Instant::now();
    // DEBUG SLEEP is not a blocking command, so only the socket timeout applies.
    let err = conn.execute(["DEBUG", "SLEEP", "1"]).unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(started.elapsed() < Duration::from_millis(900));
    assert!(err.to_string().contains("DEBUG"), "{err}");
    assert!(conn.is_broken());
    assert!(conn.execute(["PING"]).unwrap_err().is_connection_error());
}

#[test]
fn connect_refused_names_the_address() {
    let port = redis_test_harness::free_port([127, 0, 0, 1].into()).unwrap();
    let config = Config::from_url(&format!("redis://127.0.0.1:{port}")).unwrap();
    let err = Connection::open(&config).unwrap_err();
    assert!(err.is_connection_error() && err.is_retryable(), "{err:?}");
    assert!(
        err.to_string().contains(&format!("127.0.0.1:{port}")),
        "{err}"
    );
}

#[test]
fn push_frames_go_to_the_handler_not_to_replies() {
    let server = Server::redis();
    let mut conn = Connection::open(&config(&server, Protocol::Resp3)).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    conn.set_push_handler(move |push| tx.send(push).unwrap());
    // Client-side caching: reading a key and then changing it sends an invalidation push.
    conn.execute(["CLIENT", "TRACKING", "on"]).unwrap();
    conn.execute(["SET", "tracked", "1"]).unwrap();
    conn.execute(["GET", "tracked"]).unwrap();
    conn.execute(["SET", "tracked", "2"]).unwrap();
    assert_eq!(
        conn.execute(["PING"]).unwrap(),
        Value::Simple("PONG".into())
    );
    let push = rx.try_recv().expect("an invalidation push");
    let Value::Push(items) = push else {
        panic!("{push:?}")
    };
    assert_eq!(items[0], Value::Bulk("invalidate".into()));
}

#[test]
fn a_protocol_error_breaks_the_connection() {
    // A replica that announces `capa eof` gets the RDB as `$EOF:<40-byte mark>\r\n…`: real
    // server bytes that are not a valid RESP reply.
    let server = Server::builder(ServerKind::Redis)
        .config("repl-diskless-sync yes")
        .config("repl-diskless-sync-delay 0")
        .start();
    let mut conn = Connection::open(&config(&server, Protocol::Resp2)).unwrap();
    conn.execute(["REPLCONF", "capa", "eof"]).unwrap();
    let reply = conn.execute(["PSYNC", "?", "-1"]).unwrap();
    assert!(
        matches!(&reply, Value::Simple(s) if s.starts_with(b"FULLRESYNC")),
        "{reply:?}"
    );
    let err = conn.read_reply().unwrap_err();
    assert!(matches!(err, Error::Protocol(_)), "{err:?}");
    assert!(conn.is_broken());
    assert!(conn.execute(["PING"]).is_err());
}

#[test]
fn poll_frame_times_out_without_breaking_and_reads_later_frames() {
    let server = Server::redis();
    for protocol in [Protocol::Resp2, Protocol::Resp3] {
        let mut sub = Connection::open(&config(&server, protocol)).unwrap();
        let mut publisher = Connection::open(&config(&server, protocol)).unwrap();
        sub.write_command(&["SUBSCRIBE", "news"]).unwrap();
        sub.flush().unwrap();
        let confirmation = sub.poll_frame(Duration::from_secs(2)).unwrap().unwrap();
        assert!(
            matches!(confirmation, Value::Push(_) | Value::Array(_)),
            "{confirmation:?}"
        );
        let started = Instant::now();
        assert_eq!(sub.poll_frame(Duration::from_millis(100)).unwrap(), None);
        assert!(started.elapsed() >= Duration::from_millis(90));
        assert!(!sub.is_broken());
        publisher.execute(["PUBLISH", "news", "hello"]).unwrap();
        let message = sub.poll_frame(Duration::from_secs(2)).unwrap().unwrap();
        let items = match message {
            Value::Push(items) | Value::Array(items) => items,
            other => panic!("{other:?}"),
        };
        assert_eq!(items[0], Value::Bulk("message".into()));
        assert_eq!(items[2], Value::Bulk("hello".into()));
    }
}
