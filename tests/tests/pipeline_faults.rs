//! Pipelines when the connection fails (through the harness's TCP proxy): what is retried on a
//! fresh connection and what is not, and that broken connections never go back to the pool.
//! Blocking commands in a plain pipeline get their own read timeout.

use std::thread;
use std::time::{Duration, Instant};

use redis_client::{Backoff, Client, Config, Error, Retry, Value};
use redis_test_harness::{Proxy, Server};

fn client(url: &str, socket_timeout: Duration) -> Client {
    let config = Config::from_url(url)
        .unwrap()
        .to_builder()
        .socket_timeout(socket_timeout)
        .retry(Retry::new(2, Backoff::None))
        .build()
        .unwrap();
    Client::new(config).unwrap()
}

#[test]
fn a_read_only_pipeline_is_sent_again_on_a_fresh_connection_after_a_cut() {
    let server = Server::redis();
    let proxy = Proxy::to(&server).unwrap();
    let client = client(&proxy.url(), Duration::from_secs(5));
    client.execute(["SET", "k", "v"]).unwrap();
    proxy.cut(); // the pooled connection is dead, the pool does not know yet
    let mut pipe = client.pipeline();
    pipe.transaction(false)
        .raw(["GET", "k"])
        .raw(["EXISTS", "k"]);
    let replies = pipe.execute().unwrap();
    assert_eq!(replies, [Value::Bulk("v".into()), Value::Integer(1)]);
    assert_eq!(
        proxy.accepted_connections(),
        2,
        "one retry, on a new connection"
    );
}

#[test]
fn a_writing_pipeline_that_may_have_run_is_not_sent_again() {
    let server = Server::redis();
    let proxy = Proxy::to(&server).unwrap();
    let client = client(&proxy.url(), Duration::from_secs(5));
    client.execute(["PING"]).unwrap();
    // Let the INCRs reach the server, then cut the connection in the middle of the replies.
    proxy.cut_after(20);
    let mut pipe = client.pipeline();
    pipe.transaction(false);
    for _ in 0..100 {
        pipe.raw(["INCR", "n"]);
    }
    let err = pipe.execute().unwrap_err();
    assert!(err.is_connection_error(), "{err:?}");
    let stats = client.pool_stats().unwrap();
    assert_eq!(
        stats.open, 0,
        "the broken connection was closed, not pooled"
    );
    assert_eq!(
        client.query::<i64>(["GET", "n"]).unwrap(),
        100,
        "each INCR ran once"
    );
}

#[test]
fn a_transaction_cut_before_exec_was_written_runs_once_on_a_fresh_connection() {
    let server = Server::valkey();
    let proxy = Proxy::to(&server).unwrap();
    let client = client(&proxy.url(), Duration::from_secs(5));
    client.execute(["PING"]).unwrap();
    proxy.cut();
    // Big enough to go out in several slices: the first one fails, EXEC was never sent.
    let value = "x".repeat(100);
    let mut pipe = client.pipeline();
    for i in 0..10_000 {
        pipe.raw(("SET", format!("key:{i}"), &value));
    }
    pipe.raw(["INCR", "runs"]);
    let replies = pipe.execute().unwrap();
    assert_eq!(replies.len(), 10_001);
    assert_eq!(
        replies[10_000],
        Value::Integer(1),
        "the transaction ran once"
    );
    assert_eq!(proxy.accepted_connections(), 2);
}

#[test]
fn a_stalled_server_times_the_pipeline_out_and_the_connection_is_dropped() {
    let server = Server::redis();
    let proxy = Proxy::to(&server).unwrap();
    let config = Config::from_url(&proxy.url())
        .unwrap()
        .to_builder()
        .socket_timeout(Duration::from_millis(300))
        .retry(Retry::none())
        .build()
        .unwrap();
    let client = Client::new(config).unwrap();
    client.execute(["PING"]).unwrap();
    proxy.stall(true);
    let mut pipe = client.pipeline();
    pipe.raw(["SET", "a", "1"]).raw(["GET", "a"]);
    let started = Instant::now();
    let err = pipe.execute().unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(client.pool_stats().unwrap().open, 0);
    proxy.stall(false);
    pipe.raw(["GET", "a"]);
    // The stalled transaction reached the server in the end; a new connection sees it.
    assert_eq!(pipe.execute().unwrap().len(), 1);
}

#[test]
fn a_lost_watch_is_an_error_and_never_retried() {
    let server = Server::redis();
    let proxy = Proxy::to(&server).unwrap();
    let client = client(&proxy.url(), Duration::from_secs(5));
    let mut pipe = client.pipeline();
    pipe.watch(["w"])
        .unwrap()
        .multi()
        .unwrap()
        .raw(["SET", "w", "1"]);
    proxy.cut();
    let err = pipe.execute().unwrap_err();
    assert!(err.is_connection_error(), "{err:?}");
    assert!(!pipe.is_watching());
    assert_eq!(proxy.accepted_connections(), 1, "no second attempt");
    assert_eq!(client.query::<Option<String>>(["GET", "w"]).unwrap(), None);
    assert_eq!(
        client.pool_stats().unwrap().open,
        1,
        "only the new connection"
    );
}

#[test]
fn blocking_commands_in_a_plain_pipeline_wait_past_the_socket_timeout() {
    let server = Server::redis();
    let client = client(&server.url(), Duration::from_millis(200));
    let pusher = self::client(&server.url(), Duration::from_secs(5));
    let mut pipe = client.pipeline();
    pipe.transaction(false)
        .raw(["BLPOP", "empty", "0.6"])
        .raw(["BLPOP", "later", "5"])
        .raw(["PING"]);
    let started = Instant::now();
    let replies = thread::scope(|s| {
        s.spawn(|| {
            thread::sleep(Duration::from_millis(900));
            pusher.execute(["RPUSH", "later", "item"]).unwrap();
        });
        pipe.execute()
    })
    .unwrap();
    let waited = started.elapsed();
    assert_eq!(replies[0], Value::Nil, "BLPOP timed out on the server");
    assert_eq!(
        replies[1],
        Value::Array(vec![
            Value::Bulk("later".into()),
            Value::Bulk("item".into())
        ])
    );
    assert!(waited >= Duration::from_millis(900), "{waited:?}");

    // Past its own timeout plus the socket timeout, a blocked reply is a timeout.
    let mut pipe = client.pipeline();
    pipe.transaction(false).raw(["DEBUG", "SLEEP", "1"]);
    let err = pipe.execute().unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
}
