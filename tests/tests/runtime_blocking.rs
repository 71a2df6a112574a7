//! Blocking commands wait on the server for their own timeout; the socket timeout is extended by
//! that much (from the generated command table), so they do not time out on the client.

use std::thread;
use std::time::{Duration, Instant};

use redis_client::command::lookup;
use redis_client::{Client, Commands, Config, Connection, Protocol, Value};
use redis_test_harness::Server;

const SOCKET_TIMEOUT: Duration = Duration::from_millis(200);

fn config(server: &Server, protocol: Protocol) -> Config {
    Config::from_url(&server.url())
        .unwrap()
        .to_builder()
        .protocol(protocol)
        .socket_timeout(SOCKET_TIMEOUT)
        .build()
        .unwrap()
}

fn assert_table_knows_blocking_commands() {
    for name in ["BLPOP", "XREAD", "BLMPOP"] {
        let meta = lookup(name.as_bytes()).unwrap_or_else(|| {
            panic!("the generated command table lacks {name}; run `cargo xtask codegen`")
        });
        assert!(meta.blocking_timeout.is_some(), "{name}: {meta:?}");
    }
}

#[test]
fn blpop_waits_past_the_socket_timeout() {
    assert_table_knows_blocking_commands();
    let server = Server::redis();
    for protocol in [Protocol::Resp2, Protocol::Resp3] {
        let mut conn = Connection::open(&config(&server, protocol)).unwrap();
        let started = Instant::now();
        let reply = conn.execute(["BLPOP", "empty", "1"]).unwrap();
        let waited = started.elapsed();
        assert_eq!(reply, Value::Nil, "{protocol:?}");
        assert!(waited >= Duration::from_millis(900), "{waited:?}");
        assert!(!conn.is_broken());
        assert_eq!(
            conn.execute(["PING"]).unwrap(),
            Value::Simple("PONG".into())
        );
    }
    // The extension was for that command only: a plain command is back to 200 ms. (Last,
    // since the sleeping server answers nobody for a while.)
    let mut conn = Connection::open(&config(&server, Protocol::Resp3)).unwrap();
    conn.execute(["BLPOP", "empty", "0.3"]).unwrap();
    let err = conn.execute(["DEBUG", "SLEEP", "0.6"]).unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
}

#[test]
fn blocking_commands_get_their_element_or_time_out_on_the_server() {
    assert_table_knows_blocking_commands();
    let server = Server::valkey();
    let client = Client::new(config(&server, Protocol::Resp3)).unwrap();
    let pusher = {
        let client = client.clone();
        thread::spawn(move || {
            thread::sleep(Duration::from_millis(500));
            client.execute(["RPUSH", "jobs", "job-1"]).unwrap();
        })
    };
    // Timeout 0 blocks forever: no read timeout at all while waiting.
    let got: (String, String) = client.query(["BLPOP", "jobs", "0"]).unwrap();
    assert_eq!(got, ("jobs".to_owned(), "job-1".to_owned()));
    pusher.join().unwrap();

    // Milliseconds after a token: XREAD … BLOCK 700.
    let started = Instant::now();
    let reply = client
        .execute(["XREAD", "BLOCK", "700", "STREAMS", "stream", "$"])
        .unwrap();
    assert_eq!(reply, Value::Nil);
    assert!(started.elapsed() >= Duration::from_millis(650));

    // Seconds as the first argument: BLMPOP 0.5 1 key LEFT.
    let reply = client
        .execute(["BLMPOP", "0.5", "1", "nothing", "LEFT"])
        .unwrap();
    assert_eq!(reply, Value::Nil);
}

/// The typed surface finds a command's facts by its generated name rather than by reading the
/// frame; the timeout extension must hold on that path too, on a connection and on a client.
#[test]
fn typed_blpop_waits_past_the_socket_timeout() {
    assert_table_knows_blocking_commands();
    let server = Server::valkey();
    let config = config(&server, Protocol::Resp3);
    let mut conn = Connection::open(&config).unwrap();
    let client = Client::new(config).unwrap();
    let started = Instant::now();
    let popped = (&mut conn).blpop(["empty"], 0.6).unwrap();
    assert_eq!(popped, None);
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
    assert!(!conn.is_broken());
    let started = Instant::now();
    let popped = client.blpop(["empty"], Duration::from_millis(600)).unwrap();
    assert_eq!(popped, None);
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
}
