//! Scans, scripts and locks on the tokio front end, against Redis 7.0 and Valkey 9 in both
//! protocols: SCAN/SSCAN/HSCAN/ZSCAN with MATCH/COUNT/TYPE, EVALSHA with NOSCRIPT recovery,
//! and `AsyncLock`'s tokens, timeouts and blocking acquire.

use std::collections::HashSet;
use std::future::Future;
use std::time::{Duration, Instant};

use redis_client::aio::AsyncClient;
use redis_client::{AsyncConnection, Config, Error, Protocol, Script};
use redis_test_harness::{Proxy, Server, ServerKind};

fn config(url: &str, protocol: Protocol) -> Config {
    Config::from_url(url)
        .unwrap()
        .to_builder()
        .protocol(protocol)
        .socket_timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Runs `test` with the URL of a Redis and of a Valkey server, in both protocols.
fn each_setup<F: Future<Output = ()>>(test: impl Fn(String, Protocol) -> F) {
    for kind in [ServerKind::Redis, ServerKind::Valkey] {
        let server = Server::builder(kind).start();
        for protocol in [Protocol::Resp2, Protocol::Resp3] {
            runtime().block_on(test(server.url(), protocol));
        }
    }
}

async fn connection(url: &str, protocol: Protocol) -> AsyncConnection {
    AsyncConnection::open(&config(url, protocol)).await.unwrap()
}

#[test]
fn scans_return_every_element_once_with_match_count_and_type() {
    each_setup(|url, protocol| async move {
        let mut conn = connection(&url, protocol).await;
        conn.execute(["FLUSHDB"]).await.unwrap();
        for i in 0..300 {
            conn.execute(("SET", format!("user:{i}"), i)).await.unwrap();
        }
        for i in 0..50 {
            conn.execute(("HSET", format!("hash:{i}"), "f", i))
                .await
                .unwrap();
        }
        let keys: Vec<String> = conn.scan_iter().count(7).collect().await.unwrap();
        let unique: HashSet<&String> = keys.iter().collect();
        assert_eq!(unique.len(), 350, "every key, {} with repeats", keys.len());
        let users: HashSet<String> = conn
            .scan_iter()
            .matching("user:1*")
            .count(50)
            .collect()
            .await
            .unwrap()
            .into_iter()
            .collect();
        let expected: HashSet<String> = (0..300)
            .map(|i| format!("user:{i}"))
            .filter(|k| k.starts_with("user:1"))
            .collect();
        assert_eq!(users, expected);
        let hashes: HashSet<String> = conn
            .scan_iter()
            .of_type("hash")
            .collect()
            .await
            .unwrap()
            .into_iter()
            .collect();
        assert_eq!(hashes.len(), 50);
        assert!(hashes.iter().all(|k| k.starts_with("hash:")));

        conn.execute(("SADD", "set", "a", "b", "c")).await.unwrap();
        let mut members: Vec<String> = conn.sscan_iter("set").collect().await.unwrap();
        members.sort();
        assert_eq!(members, ["a", "b", "c"]);
        for i in 0..200 {
            conn.execute(("HSET", "big", format!("f{i}"), i))
                .await
                .unwrap();
            conn.execute(("ZADD", "z", i, format!("m{i}")))
                .await
                .unwrap();
        }
        let mut fields: Vec<(String, i64)> = conn
            .hscan_iter("big")
            .matching("f1?")
            .collect()
            .await
            .unwrap();
        fields.sort();
        assert_eq!(fields.len(), 10);
        assert_eq!(fields[0], ("f10".to_string(), 10));
        let mut scan = conn.zscan_iter::<String>("z").count(20);
        let mut seen = HashSet::new();
        while let Some(item) = scan.next().await {
            let (member, score) = item.unwrap();
            assert_eq!(member, format!("m{score}"));
            seen.insert(member);
        }
        assert_eq!(seen.len(), 200);
        assert!(scan.next().await.is_none(), "done stays done");
    });
}

#[test]
fn scan_errors_end_the_iteration_and_name_the_command() {
    each_setup(|url, protocol| async move {
        let mut conn = connection(&url, protocol).await;
        conn.execute(("SET", "str", "x")).await.unwrap();
        let mut scan = conn.hscan_iter::<String, String>("str");
        let e = scan.next().await.unwrap().unwrap_err();
        assert!(e.to_string().contains("WRONGTYPE"), "{e}");
        assert!(scan.next().await.is_none());
        let mut scan = conn.sscan_iter::<String>("str").of_type("set");
        let e = scan.next().await.unwrap().unwrap_err();
        assert!(e.to_string().contains("SSCAN: TYPE"), "{e}");
        assert!(scan.next().await.is_none());
        // The connection is still in step.
        let v: String = conn.query(["GET", "str"]).await.unwrap();
        assert_eq!(v, "x");
    });
}

#[test]
fn scripts_load_on_noscript_and_survive_script_flush() {
    each_setup(|url, protocol| async move {
        let mut conn = connection(&url, protocol).await;
        conn.execute(["SCRIPT", "FLUSH"]).await.unwrap();
        conn.execute(["DEL", "n"]).await.unwrap();
        let script = Script::new("return redis.call('INCRBY', KEYS[1], ARGV[1])");
        let cached = |v: Vec<bool>| v[0];
        let exists: Vec<bool> = conn
            .query(("SCRIPT", "EXISTS", script.sha()))
            .await
            .unwrap();
        assert!(!cached(exists));
        let n: i64 = script.key("n").arg(5).call_async(&mut conn).await.unwrap();
        assert_eq!(n, 5);
        let exists: Vec<bool> = conn
            .query(("SCRIPT", "EXISTS", script.sha()))
            .await
            .unwrap();
        assert!(cached(exists), "loaded on NOSCRIPT");
        conn.execute(["SCRIPT", "FLUSH"]).await.unwrap();
        let n: i64 = script.key("n").arg(2).call_async(&mut conn).await.unwrap();
        assert_eq!(n, 7, "reloaded after SCRIPT FLUSH");
        let pair = Script::new("return {KEYS[1], ARGV[1], #KEYS, #ARGV}");
        let got: (String, String, i64, i64) = pair
            .key(["k1", "k2"])
            .arg("a")
            .call_async(&mut conn)
            .await
            .unwrap();
        assert_eq!(got, ("k1".into(), "a".into(), 2, 1));
        let one: i64 = Script::new("return 1").call_async(&mut conn).await.unwrap();
        assert_eq!(one, 1);
        Script::new("return 2").load_async(&mut conn).await.unwrap();
        let failing = Script::new("return redis.error_reply('MYERR custom')");
        let e = failing.call_async::<i64>(&mut conn).await.unwrap_err();
        assert!(e.to_string().contains("MYERR"), "{e}");
        let wrong = Script::new("return 'text'");
        let e = wrong.call_async::<i64>(&mut conn).await.unwrap_err();
        assert!(matches!(e, Error::Data(_)), "{e:?}");
        assert!(e.to_string().contains("expected i64"), "{e}");
    });
}

fn client(url: &str, protocol: Protocol) -> AsyncClient {
    AsyncClient::new(config(url, protocol)).unwrap()
}

#[test]
fn scans_and_scripts_run_on_the_async_client_too() {
    each_setup(|url, protocol| async move {
        let client = client(&url, protocol);
        client.execute(["FLUSHDB"]).await.unwrap();
        for i in 0..120 {
            client.execute(("SADD", "cs", i)).await.unwrap();
        }
        let members: HashSet<i64> = client
            .sscan_iter("cs")
            .count(10)
            .collect()
            .await
            .unwrap()
            .into_iter()
            .collect();
        assert_eq!(members, (0..120).collect());
        let keys: Vec<String> = client.scan_iter().collect().await.unwrap();
        assert_eq!(keys, ["cs"]);
        client.execute(["SCRIPT", "FLUSH"]).await.unwrap();
        let script = Script::new("return redis.call('SCARD', KEYS[1])");
        let n: i64 = script.key("cs").call_async(&client).await.unwrap();
        assert_eq!(n, 120);
    });
}

#[test]
fn tasks_increment_a_counter_under_the_lock_without_losing_an_update() {
    each_setup(|url, protocol| async move {
        let client = client(&url, protocol);
        client.execute(["DEL", "counter"]).await.unwrap();
        let lock = client
            .lock("locks:counter")
            .timeout(Duration::from_secs(10))
            .sleep(Duration::from_millis(1));
        const ROUNDS: i64 = 60;
        let tasks: Vec<_> = (0..3)
            .map(|_| {
                let (lock, client) = (lock.clone(), client.clone());
                tokio::spawn(async move {
                    for _ in 0..ROUNDS {
                        let guard = lock.acquire().await.unwrap();
                        // Read, yield, write: without the lock another task's update in
                        // between would be lost.
                        let n: Option<i64> = client.query(["GET", "counter"]).await.unwrap();
                        tokio::task::yield_now().await;
                        client
                            .execute(("SET", "counter", n.unwrap_or(0) + 1))
                            .await
                            .unwrap();
                        guard.release().await.unwrap();
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let n: i64 = client.query(["GET", "counter"]).await.unwrap();
        assert_eq!(n, 3 * ROUNDS);
        assert!(!lock.locked().await.unwrap());
    });
}

#[test]
fn lock_tokens_timeouts_blocking_extend_and_release_on_drop() {
    each_setup(|url, protocol| async move {
        let client = client(&url, protocol);
        client.execute(["DEL", "locks:a"]).await.unwrap();
        let lock = client.lock("locks:a").timeout(Duration::from_millis(300));
        let guard = lock.acquire().await.unwrap();
        assert_eq!(guard.token().len(), 32);
        assert!(guard.owned().await.unwrap());
        // Not blocking: fails at once. Blocking with a bound: fails after it.
        let e = lock.clone().blocking(false).acquire().await.unwrap_err();
        assert!(matches!(e, Error::Lock(_)), "{e:?}");
        assert!(lock.try_acquire().await.unwrap().is_none());
        let started = Instant::now();
        let e = lock
            .clone()
            .blocking_timeout(Duration::from_millis(100))
            .sleep(Duration::from_millis(20))
            .acquire()
            .await
            .unwrap_err();
        assert!(e.to_string().contains("not acquired within"), "{e}");
        assert!(started.elapsed() >= Duration::from_millis(100));
        // Extend adds to the TTL, replace sets it, reacquire resets it to the timeout.
        guard.extend(Duration::from_secs(10), false).await.unwrap();
        let pttl: i64 = client.query(("PTTL", "locks:a")).await.unwrap();
        assert!(pttl > 10_000, "{pttl}");
        guard.extend(Duration::from_secs(2), true).await.unwrap();
        let pttl: i64 = client.query(("PTTL", "locks:a")).await.unwrap();
        assert!((1_000..=2_000).contains(&pttl), "{pttl}");
        guard.reacquire().await.unwrap();
        let pttl: i64 = client.query(("PTTL", "locks:a")).await.unwrap();
        assert!(pttl <= 300, "{pttl}");
        // It expires under its holder: someone else takes it, and ours is not ours.
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(!guard.owned().await.unwrap());
        let other = lock.acquire().await.unwrap();
        let e = guard
            .extend(Duration::from_secs(1), false)
            .await
            .unwrap_err();
        assert!(matches!(e, Error::LockNotOwned(_)), "{e:?}");
        let e = guard.release().await.unwrap_err();
        assert!(matches!(e, Error::LockNotOwned(_)), "{e:?}");
        assert!(other.owned().await.unwrap());
        // Dropped unreleased: a task releases it.
        drop(other);
        let deadline = Instant::now() + Duration::from_secs(2);
        while lock.locked().await.unwrap() {
            assert!(Instant::now() < deadline, "not released on drop");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // Without a timeout there is nothing to extend.
        let forever = client.lock("locks:forever").acquire().await.unwrap();
        let e = forever
            .extend(Duration::from_secs(1), false)
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Lock(_)), "{e:?}");
        let e = forever.reacquire().await.unwrap_err();
        assert!(matches!(e, Error::Lock(_)), "{e:?}");
        forever.release().await.unwrap();
    });
}

#[test]
fn a_scan_whose_fetches_are_cancelled_at_random_points_still_sees_every_key() {
    for kind in [ServerKind::Redis, ServerKind::Valkey] {
        let server = Server::builder(kind).start();
        // Each chunk waits a little in the proxy, so fetches are still under way when the
        // timeouts fire.
        let proxy = Proxy::to(&server).unwrap();
        proxy.delay(Duration::from_millis(1));
        for protocol in [Protocol::Resp2, Protocol::Resp3] {
            runtime().block_on(scan_cancelled(&proxy.url(), protocol));
        }
    }
}

async fn scan_cancelled(url: &str, protocol: Protocol) {
    let client = client(url, protocol);
    client.execute(["FLUSHDB"]).await.unwrap();
    let mut pipe = client.pipeline();
    for i in 0..2000 {
        pipe.raw(("SET", format!("c:{i}"), i));
    }
    pipe.execute().await.unwrap();
    let mut scan = client.scan_iter::<String>().count(50);
    let mut seen = HashSet::new();
    let (mut cancelled, mut seed) = (0, 7u64);
    loop {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let micros = (seed >> 33) % 4000;
        match tokio::time::timeout(Duration::from_micros(micros), scan.next()).await {
            Err(_) => cancelled += 1,
            Ok(None) => break,
            Ok(Some(key)) => {
                seen.insert(key.unwrap());
            }
        }
    }
    assert_eq!(seen.len(), 2000, "{cancelled} fetches cancelled");
    assert!(cancelled > 5, "only {cancelled} fetches were cancelled");
}
