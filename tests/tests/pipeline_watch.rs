//! Optimistic transactions: WATCH and immediate mode, a conflict made by a second client,
//! `Client::transaction` retrying through conflicts, and connections given back unwatched.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use redis_client::{Client, Config, Error, Protocol, TransactionOptions, Value};
use redis_test_harness::{client, Server};

fn each_setup(mut f: impl FnMut(&Client, &Client, &str)) {
    for server in [Server::redis(), Server::valkey()] {
        for protocol in [Protocol::Resp2, Protocol::Resp3] {
            let client = client(&server, protocol);
            let other = self::client(&server, protocol);
            client.execute(["FLUSHALL"]).unwrap();
            f(
                &client,
                &other,
                &format!("{} {protocol:?}", server.server_id()),
            );
        }
    }
}

#[test]
fn a_watched_key_changed_by_another_client_aborts_the_transaction() {
    each_setup(|client, other, setup| {
        client.execute(["SET", "balance", "10"]).unwrap();
        let mut pipe = client.pipeline();
        let mut watched = pipe.watch("balance").unwrap();
        // Immediate mode: the read runs now, on the watching connection.
        let balance: i64 = watched.query(["GET", "balance"]).unwrap();
        assert_eq!(balance, 10);
        other.execute(["SET", "balance", "1000"]).unwrap();
        watched
            .multi()
            .unwrap()
            .raw(("SET", "balance", balance + 5));
        let err = pipe.execute().unwrap_err();
        assert!(matches!(err, Error::Watch), "{setup}: {err:?}");
        assert!(!pipe.is_watching());
        assert_eq!(
            client.query::<i64>(["GET", "balance"]).unwrap(),
            1000,
            "{setup}: the other client's write stands"
        );

        // Without interference the same transaction commits.
        let mut watched = pipe.watch("balance").unwrap();
        let balance: i64 = watched.query(["GET", "balance"]).unwrap();
        watched
            .multi()
            .unwrap()
            .raw(("SET", "balance", balance + 5))
            .raw(["GET", "balance"]);
        let replies = pipe.execute().unwrap();
        assert_eq!(replies[1], Value::Bulk("1005".into()), "{setup}");
        let stats = client.pool_stats().unwrap();
        assert_eq!((stats.open, stats.idle), (1, 1), "{setup}");
    });
}

#[test]
fn transaction_retries_through_a_conflict_and_returns_the_closure_result() {
    each_setup(|client, other, setup| {
        client.execute(["SET", "n", "1"]).unwrap();
        let attempts = Cell::new(0);
        let doubled = client
            .transaction(
                |pipe| {
                    attempts.set(attempts.get() + 1);
                    let n: i64 = pipe.immediate()?.query(["GET", "n"])?;
                    if attempts.get() == 1 {
                        // A second client changes the key between our read and our EXEC.
                        other.execute(["SET", "n", "50"])?;
                    }
                    pipe.multi()?.raw(("SET", "n", n * 2));
                    Ok(n * 2)
                },
                "n",
            )
            .unwrap();
        assert_eq!(attempts.get(), 2, "{setup}");
        assert_eq!(
            doubled, 100,
            "{setup}: the retry read the other client's value"
        );
        assert_eq!(client.query::<i64>(["GET", "n"]).unwrap(), 100);
    });
}

#[test]
fn transaction_gives_up_after_its_retry_bound() {
    let server = Server::redis();
    let client = client(&server, Protocol::Resp3);
    let other = self::client(&server, Protocol::Resp3);
    let attempts = Cell::new(0);
    let err = client
        .transaction_with(
            TransactionOptions::new()
                .max_retries(3)
                .retry_delay(Duration::from_millis(1)),
            |pipe| {
                attempts.set(attempts.get() + 1);
                other.execute(["INCR", "hot"])?;
                pipe.multi()?.raw(["SET", "hot", "0"]);
                Ok(())
            },
            ["hot", "cold"],
        )
        .unwrap_err();
    assert!(matches!(err, Error::Watch), "{err:?}");
    assert_eq!(attempts.get(), 4, "the first attempt and 3 retries");
    assert_eq!(client.query::<i64>(["GET", "hot"]).unwrap(), 4);

    // An error from the closure ends the transaction at once, and nothing is left watched.
    let err = client
        .transaction(
            |pipe| -> redis_client::Result<()> {
                pipe.immediate()?.query::<i64>(["INCR", "hot"])?;
                Err(Error::Data("changed my mind".into()))
            },
            "hot",
        )
        .unwrap_err();
    assert!(err.to_string().contains("changed my mind"));
}

#[test]
fn counters_incremented_by_racing_transactions_lose_no_update() {
    let server = Server::valkey();
    let client = client(&server, Protocol::Resp2);
    let retries = AtomicUsize::new(0);
    const THREADS: usize = 4;
    const ROUNDS: usize = 100;
    thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                for _ in 0..ROUNDS {
                    let mut first = true;
                    client
                        .transaction(
                            |pipe| {
                                if !first {
                                    retries.fetch_add(1, Ordering::Relaxed);
                                }
                                first = false;
                                let n: Option<i64> = pipe.immediate()?.query(["GET", "c"])?;
                                pipe.multi()?.raw(("SET", "c", n.unwrap_or(0) + 1));
                                Ok(())
                            },
                            "c",
                        )
                        .unwrap();
                }
            });
        }
    });
    assert_eq!(
        client.query::<i64>(["GET", "c"]).unwrap(),
        (THREADS * ROUNDS) as i64,
        "{} conflicts were retried",
        retries.load(Ordering::Relaxed)
    );
}

#[test]
fn dropping_or_resetting_a_watching_pipeline_unwatches_its_connection() {
    let server = Server::redis();
    // One connection only: whatever the pipeline gives back is what the next user gets.
    let config = Config::from_url(&server.url())
        .unwrap()
        .to_builder()
        .max_connections(1)
        .build()
        .unwrap();
    let client = Client::new(config).unwrap();
    let other = self::client(&server, Protocol::Resp3);
    for reset in [false, true] {
        let mut pipe = client.pipeline();
        pipe.watch(["w1", "w2"]).unwrap();
        assert!(pipe.is_watching());
        if reset {
            pipe.reset();
            assert!(!pipe.is_watching());
        } else {
            drop(pipe);
        }
        other.execute(["SET", "w1", "changed"]).unwrap();
        // The same connection, now in a raw MULTI/EXEC: a stale WATCH would abort it.
        let mut conn = client.get_connection().unwrap();
        conn.execute(["MULTI"]).unwrap();
        conn.execute(["SET", "w2", "x"]).unwrap();
        let exec = conn.execute(["EXEC"]).unwrap();
        assert!(
            matches!(exec, Value::Array(_)),
            "reset={reset}: EXEC aborted by a WATCH left behind: {exec:?}"
        );
    }
    assert_eq!(client.pool_stats().unwrap().open, 1);
}

#[test]
fn watch_rules_follow_redis_py() {
    let server = Server::redis();
    let client = client(&server, Protocol::Resp3);
    let mut pipe = client.pipeline();
    assert!(pipe.immediate().is_err(), "no immediate mode without WATCH");
    pipe.multi().unwrap();
    assert!(pipe.multi().is_err(), "multi twice");
    assert!(pipe.watch("k").is_err(), "WATCH after MULTI");
    pipe.reset();
    pipe.raw(["PING"]);
    assert!(pipe.multi().is_err(), "multi after queued commands");
    pipe.reset();

    // A watch with nothing queued still checks the watched keys on execute.
    let other = self::client(&server, Protocol::Resp2);
    pipe.watch("k").unwrap();
    other.execute(["SET", "k", "v"]).unwrap();
    assert!(matches!(pipe.execute(), Err(Error::Watch)));
    pipe.watch("k").unwrap();
    assert_eq!(pipe.execute().unwrap(), Vec::<Value>::new());

    // Watching with transaction(false) and no multi(): the queued commands run plainly.
    pipe.transaction(false);
    pipe.watch("k").unwrap();
    other.execute(["SET", "k", "v2"]).unwrap();
    pipe.raw(["GET", "k"]);
    assert_eq!(pipe.execute().unwrap(), [Value::Bulk("v2".into())]);
    assert!(pipe.is_empty() && !pipe.is_watching());

    // unwatch() gives the connection back and keeps the queue.
    let mut pipe = client.pipeline();
    pipe.watch("k").unwrap();
    pipe.raw(["GET", "k"]);
    pipe.unwatch().unwrap();
    other.execute(["SET", "k", "v3"]).unwrap();
    assert_eq!(pipe.execute().unwrap(), [Value::Bulk("v3".into())]);
}

#[test]
fn a_run_cut_short_by_a_panicking_callback_closes_the_watching_connection() {
    let server = Server::valkey();
    let config = Config::from_url(&server.url())
        .unwrap()
        .to_builder()
        .max_connections(1)
        .build()
        .unwrap();
    let mut client = Client::new(config).unwrap();
    client.set_response_callback("GET", |_| panic!("callback refuses GET"));
    let other = self::client(&server, Protocol::Resp3);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut pipe = client.pipeline();
        pipe.watch("w").unwrap();
        pipe.transaction(false)
            .raw(["GET", "w"])
            .raw(["SET", "x", "1"]);
        pipe.execute()
    }));
    assert!(result.is_err(), "the callback panicked");
    assert_eq!(
        client.pool_stats().unwrap().open,
        0,
        "the half-read, watching connection was closed"
    );
    client.remove_response_callback("GET");
    other.execute(["SET", "w", "changed"]).unwrap();
    let mut conn = client.get_connection().unwrap();
    conn.execute(["MULTI"]).unwrap();
    conn.execute(["SET", "y", "1"]).unwrap();
    assert!(matches!(conn.execute(["EXEC"]).unwrap(), Value::Array(_)));
}
