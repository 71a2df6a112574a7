//! `Client` against real servers: sharing across clones and threads, recovery after cut
//! replies and protocol errors, decode_responses, response callbacks, single-connection mode.

use std::thread;
use std::time::{Duration, Instant};

use redis_client::{
    Backoff, BlockingConnectionPool, Client, Config, Error, Protocol, Retry, Value,
};
use redis_test_harness::{Proxy, Server, ServerKind};

fn config(url: &str) -> Config {
    Config::from_url(url)
        .unwrap()
        .to_builder()
        .socket_timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

#[test]
fn open_execute_query_and_clones_share_the_pool() {
    let server = Server::valkey();
    for protocol in [Protocol::Resp2, Protocol::Resp3] {
        let client = Client::new(
            config(&server.url())
                .to_builder()
                .protocol(protocol)
                .build()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            client.execute(["SET", "k", "v"]).unwrap(),
            Value::Simple("OK".into())
        );
        let v: Option<String> = client.query(["GET", "k"]).unwrap();
        assert_eq!(v.as_deref(), Some("v"));
        let missing: Option<String> = client.query(["GET", "nope"]).unwrap();
        assert_eq!(missing, None);
        let clone = client.clone();
        clone.execute(["PING"]).unwrap();
        assert_eq!(
            client.pool_stats().unwrap().open,
            1,
            "the clone used the same pool"
        );
        let err = client.execute(["INCR", "k"]).unwrap_err();
        assert_eq!(err.code(), Some("ERR"));
        assert_eq!(err.server_error().unwrap().command(), Some("INCR"));
    }
    let client = Client::open(&format!("{}/4", server.url())).unwrap();
    let mut conn = client.get_connection().unwrap();
    assert_eq!(conn.db(), 4);
    let info: String = conn.query(["CLIENT", "INFO"]).unwrap();
    assert!(info.contains(" db=4 "), "{info}");
}

#[test]
fn sixteen_threads_share_a_pool_of_four() {
    const THREADS: usize = 16;
    const COMMANDS: usize = 10_000;
    let server = Server::redis();
    let pool = BlockingConnectionPool::new(
        config(&server.url())
            .to_builder()
            .max_connections(4)
            .build()
            .unwrap(),
        Some(Duration::from_secs(10)),
    )
    .unwrap();
    let client = Client::with_blocking_pool(pool);
    let started = Instant::now();
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let client = client.clone();
            thread::spawn(move || {
                let key = format!("thread:{t}");
                for i in 0..COMMANDS / 2 {
                    let value = format!("{t}-{i}");
                    client
                        .execute(["SET", key.as_str(), value.as_str()])
                        .unwrap();
                    let got: String = client.query(["GET", key.as_str()]).unwrap();
                    assert_eq!(got, value, "thread {t} read another thread's value");
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    let elapsed = started.elapsed();
    let stats = client.pool_stats().unwrap();
    assert!(stats.open <= 4, "{stats:?}");
    eprintln!("{} commands in {elapsed:?}", THREADS * COMMANDS);
    assert!(elapsed < Duration::from_secs(60), "{elapsed:?}");
}

#[test]
fn a_reply_cut_mid_frame_fails_and_the_next_command_succeeds() {
    let server = Server::redis();
    let proxy = Proxy::to(&server).unwrap();
    // No retries, so the cut surfaces whatever the command table says about GET.
    let client = Client::new(
        config(&proxy.url())
            .to_builder()
            .retry(Retry::none())
            .build()
            .unwrap(),
    )
    .unwrap();
    let big = "x".repeat(64 * 1024);
    client.execute(["SET", "big", big.as_str()]).unwrap();
    proxy.cut_after(1000);
    let err = client.execute(["GET", "big"]).unwrap_err();
    assert!(err.is_connection_error(), "{err:?}");
    assert_eq!(
        client.pool_stats().unwrap().open,
        0,
        "the cut connection was dropped"
    );
    let got: String = client.query(["GET", "big"]).unwrap();
    assert_eq!(got.len(), big.len());
}

#[test]
fn idempotent_commands_are_retried_after_a_cut() {
    let server = Server::redis();
    let proxy = Proxy::to(&server).unwrap();
    let client = Client::new(config(&proxy.url())).unwrap();
    let big = "y".repeat(64 * 1024);
    client.execute(["SET", "big", big.as_str()]).unwrap();
    proxy.cut_after(1000);
    let got = client.execute_idempotent(["GET", "big"]).unwrap();
    assert_eq!(got, Value::Bulk(big.into()));
    assert_eq!(
        proxy.accepted_connections(),
        2,
        "the retry used a new connection"
    );

    // A write that may have run is not resent.
    proxy.cut_after(3);
    let err = client.execute(["INCRBY", "counter", "100"]).unwrap_err();
    assert!(err.is_connection_error(), "{err:?}");
    let n: i64 = client.query(["GET", "counter"]).unwrap();
    assert_eq!(n, 100, "INCRBY ran exactly once");
}

#[test]
fn connection_failures_before_sending_are_retried_for_any_command() {
    let mut server = Server::redis();
    Client::new(config(&server.url()))
        .unwrap()
        .execute(["SET", "n", "10"])
        .unwrap();
    server.kill();
    // A new client holds no connection, so every attempt must connect first.
    let client = Client::new(
        config(&server.url())
            .to_builder()
            .retry(Retry::new(
                20,
                Backoff::Constant(Duration::from_millis(100)),
            ))
            .build()
            .unwrap(),
    )
    .unwrap();
    // While the server is down every attempt fails to connect, so INCR never reached it and
    // may be retried although it is a write; it runs once the server is back.
    let restarter = thread::spawn(move || {
        thread::sleep(Duration::from_millis(300));
        server.restart().unwrap();
        server
    });
    let n: i64 = client.query(["INCR", "n"]).unwrap();
    assert_eq!(n, 1, "the restarted server starts empty and INCR ran once");
    let _server = restarter.join().unwrap();
}

#[test]
fn a_protocol_error_discards_the_connection_and_the_pool_opens_a_new_one() {
    let server = Server::builder(ServerKind::Redis)
        .config("repl-diskless-sync yes")
        .config("repl-diskless-sync-delay 0")
        .start();
    let client = Client::new(
        config(&server.url())
            .to_builder()
            .protocol(Protocol::Resp2)
            .max_connections(1)
            .retry(Retry::none())
            .build()
            .unwrap(),
    )
    .unwrap();
    let id: i64 = client.query(["CLIENT", "ID"]).unwrap();
    let mut conn = client.get_connection().unwrap();
    conn.execute(["REPLCONF", "capa", "eof"]).unwrap();
    conn.execute(["PSYNC", "?", "-1"]).unwrap();
    // The master now streams `$EOF:<mark>…` on that connection: the next frame is garbage.
    let err = conn.read_reply().unwrap_err();
    assert!(matches!(err, Error::Protocol(_)), "{err:?}");
    assert!(conn.is_broken());
    drop(conn);
    assert_eq!(
        client.pool_stats().unwrap().open,
        0,
        "the broken connection was not returned"
    );
    let new_id: i64 = client.query(["CLIENT", "ID"]).unwrap();
    assert_ne!(new_id, id);
}

#[test]
fn decode_responses_requires_utf8_strings() {
    let server = Server::redis();
    let client = Client::new(
        config(&server.url())
            .to_builder()
            .decode_responses(true)
            .build()
            .unwrap(),
    )
    .unwrap();
    client.execute(["SET", "text", "grüße"]).unwrap();
    let text: String = client.query(["GET", "text"]).unwrap();
    assert_eq!(text, "grüße");
    client
        .execute(("SET", "binary", &[0xffu8, 0xfe][..]))
        .unwrap();
    let err = client.execute(["GET", "binary"]).unwrap_err();
    assert!(matches!(err, Error::Data(_)), "{err:?}");
    assert!(err.to_string().contains("GET"), "{err}");
    client.execute(["RPUSH", "list", "ok"]).unwrap();
    client.execute(("RPUSH", "list", &[0xc3u8][..])).unwrap();
    let err = client.execute(["LRANGE", "list", "0", "-1"]).unwrap_err();
    assert!(err.to_string().contains("LRANGE"), "{err}");
}

#[test]
fn response_callbacks_rewrite_replies_before_conversion() {
    let server = Server::redis();
    let mut client = Client::new(config(&server.url())).unwrap();
    let before = client.clone();
    client.set_response_callback("get", |value| {
        let text = value.as_str().unwrap_or_default().to_uppercase();
        Ok(Value::Bulk(text.into()))
    });
    client.set_response_callback("CONFIG GET", |value| match value {
        Value::Map(pairs) => Ok(Value::Integer(pairs.len() as i64)),
        Value::Array(items) => Ok(Value::Integer(items.len() as i64 / 2)),
        other => Ok(other),
    });
    client.execute(["SET", "k", "shout"]).unwrap();
    let got: String = client.query(["GET", "k"]).unwrap();
    assert_eq!(got, "SHOUT");
    let n: i64 = client.query(["CONFIG", "GET", "maxmemory"]).unwrap();
    assert_eq!(n, 1);
    let plain: String = before.query(["GET", "k"]).unwrap();
    assert_eq!(plain, "shout", "clones made earlier keep their callbacks");
    let after = client.clone();
    let got: String = after.query(["GET", "k"]).unwrap();
    assert_eq!(got, "SHOUT", "later clones inherit callbacks");
    client.set_response_callback("SET", |_| Err(Error::Data("refused by callback".into())));
    assert!(client.execute(["SET", "k", "v"]).is_err());
    client.remove_response_callback("set");
    client.execute(["SET", "k", "v"]).unwrap();
}

#[test]
fn single_connection_mode_shares_one_connection_and_replaces_it_when_broken() {
    let server = Server::redis();
    let client = Client::single_connection(config(&server.url())).unwrap();
    assert!(client.pool_stats().is_none());
    let id: i64 = client.query(["CLIENT", "ID"]).unwrap();
    let workers: Vec<_> = (0..4)
        .map(|t| {
            let client = client.clone();
            thread::spawn(move || {
                for i in 0..200 {
                    let n: i64 = client.query(("INCR", format!("c{t}"))).unwrap();
                    assert_eq!(n, i + 1);
                }
                client.query::<i64>(["CLIENT", "ID"]).unwrap()
            })
        })
        .collect();
    for worker in workers {
        assert_eq!(
            worker.join().unwrap(),
            id,
            "every thread used the one connection"
        );
    }
    let admin = Client::new(config(&server.url())).unwrap();
    admin.execute(("CLIENT", "KILL", "ID", id)).unwrap();
    // The dead connection fails once (PING may have run, so it is not resent) …
    let first = client.execute(["PING"]);
    // … and the next command reconnects.
    let new_id: i64 = client.query(["CLIENT", "ID"]).unwrap();
    assert_ne!(new_id, id);
    if let Err(e) = first {
        assert!(e.is_connection_error(), "{e:?}");
    }
}

#[test]
fn health_check_pings_after_idle_through_the_client() {
    let server = Server::redis();
    let client = Client::new(
        config(&server.url())
            .to_builder()
            .health_check_interval(Duration::from_millis(100))
            .build()
            .unwrap(),
    )
    .unwrap();
    let admin = Client::new(config(&server.url())).unwrap();
    let pings = || -> u64 {
        let info: String = admin.query(["INFO", "commandstats"]).unwrap();
        info.lines()
            .find_map(|l| l.strip_prefix("cmdstat_ping:calls="))
            .and_then(|rest| rest.split(',').next())
            .map_or(0, |n| n.parse().unwrap())
    };
    client.execute(["SET", "a", "1"]).unwrap();
    let before = pings();
    client.execute(["GET", "a"]).unwrap();
    assert_eq!(pings(), before, "no PING right after use");
    thread::sleep(Duration::from_millis(250));
    client.execute(["GET", "a"]).unwrap();
    assert_eq!(pings(), before + 1, "one PING after sitting idle");
}
