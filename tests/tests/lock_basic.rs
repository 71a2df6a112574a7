//! Distributed locks against real servers: mutual exclusion around a read-modify-write counter,
//! a lock expiring under its holder, blocking limits, extend/reacquire and release on drop.

use std::thread;
use std::time::{Duration, Instant};

use redis_client::{Client, Error, Protocol};
use redis_test_harness::{client, Server};

fn pttl(client: &Client, key: &str) -> i64 {
    client.query(("PTTL", key)).unwrap()
}

#[test]
fn two_threads_increment_a_counter_under_the_lock_without_losing_an_update() {
    for (server, protocol) in [
        (Server::redis(), Protocol::Resp2),
        (Server::valkey(), Protocol::Resp3),
    ] {
        let client = client(&server, protocol);
        let lock = client
            .lock("locks:counter")
            .timeout(Duration::from_secs(10))
            .sleep(Duration::from_millis(1));
        const ROUNDS: i64 = 150;
        thread::scope(|s| {
            for _ in 0..2 {
                let lock = lock.clone();
                let client = client.clone();
                s.spawn(move || {
                    for _ in 0..ROUNDS {
                        let guard = lock.acquire().unwrap();
                        // Read, yield, write: without the lock the other thread's update
                        // in between would be lost.
                        let n: Option<i64> = client.query(["GET", "counter"]).unwrap();
                        thread::yield_now();
                        client
                            .execute(("SET", "counter", n.unwrap_or(0) + 1))
                            .unwrap();
                        guard.release().unwrap();
                    }
                });
            }
        });
        assert_eq!(
            client.query::<i64>(["GET", "counter"]).unwrap(),
            2 * ROUNDS,
            "{}",
            server.server_id()
        );
        assert!(!lock.locked().unwrap());
    }
}

#[test]
fn a_lock_expiring_under_its_holder_is_no_longer_theirs() {
    let server = Server::redis();
    let client = client(&server, Protocol::Resp3);
    let lock = client
        .lock("locks:short")
        .timeout(Duration::from_millis(100));
    let first = lock.acquire().unwrap();
    assert!(first.owned().unwrap());
    thread::sleep(Duration::from_millis(200));
    assert!(!lock.locked().unwrap(), "expired");
    assert!(!first.owned().unwrap());

    // Someone else takes it; the first holder must not touch their lock.
    let second = lock
        .clone()
        .timeout(Duration::from_secs(10))
        .acquire()
        .unwrap();
    assert_ne!(first.token(), second.token());
    let err = first.extend(Duration::from_secs(1), false).unwrap_err();
    assert!(matches!(err, Error::LockNotOwned(_)), "{err:?}");
    let err = first.reacquire().unwrap_err();
    assert!(matches!(err, Error::LockNotOwned(_)), "{err:?}");
    let err = first.release().unwrap_err();
    assert!(matches!(err, Error::LockNotOwned(_)), "{err:?}");
    assert!(err.to_string().contains("locks:short"), "{err}");
    assert!(second.owned().unwrap(), "the second holder still has it");
    second.release().unwrap();
    assert!(!lock.locked().unwrap());
}

#[test]
fn blocking_limits_and_non_blocking_attempts() {
    let server = Server::valkey();
    let client = client(&server, Protocol::Resp2);
    let lock = client
        .lock("locks:busy")
        .timeout(Duration::from_secs(10))
        .sleep(Duration::from_millis(20));
    let held = lock.acquire().unwrap();

    let started = Instant::now();
    let err = lock
        .clone()
        .blocking_timeout(Duration::from_millis(150))
        .acquire()
        .unwrap_err();
    let waited = started.elapsed();
    assert!(matches!(err, Error::Lock(_)), "{err:?}");
    assert!(err.to_string().contains("within 150ms"), "{err}");
    assert!(
        waited >= Duration::from_millis(150) && waited < Duration::from_secs(2),
        "{waited:?}"
    );

    let err = lock.clone().blocking(false).acquire().unwrap_err();
    assert!(matches!(err, Error::Lock(_)), "{err:?}");
    assert!(lock.try_acquire().unwrap().is_none());

    // A blocked acquire gets the lock as soon as the holder lets go.
    thread::scope(|s| {
        let waiter = s.spawn(|| {
            lock.clone()
                .blocking_timeout(Duration::from_secs(5))
                .acquire()
        });
        thread::sleep(Duration::from_millis(100));
        drop(held); // the guard releases on drop
        let guard = waiter.join().unwrap().unwrap();
        assert!(guard.owned().unwrap());
    });
    assert!(!lock.locked().unwrap(), "the waiter's guard dropped too");
}

#[test]
fn extend_adds_to_or_replaces_the_ttl_and_reacquire_resets_it() {
    let server = Server::redis();
    let client = client(&server, Protocol::Resp2);
    let lock = client.lock("locks:ttl").timeout(Duration::from_secs(10));
    let guard = lock.acquire().unwrap();
    let before = pttl(&client, "locks:ttl");
    assert!(before > 9_000 && before <= 10_000, "{before}");

    guard.extend(Duration::from_secs(20), false).unwrap();
    let added = pttl(&client, "locks:ttl");
    assert!(added > 29_000 && added <= 30_000, "added: {added}");

    guard.extend(Duration::from_secs(3), true).unwrap();
    let replaced = pttl(&client, "locks:ttl");
    assert!(
        replaced > 2_000 && replaced <= 3_000,
        "replaced: {replaced}"
    );

    guard.reacquire().unwrap();
    let reset = pttl(&client, "locks:ttl");
    assert!(reset > 9_000 && reset <= 10_000, "reacquired: {reset}");
    guard.release().unwrap();

    // Without a timeout the key never expires, and there is nothing to extend.
    let forever = client.lock("locks:forever");
    let guard = forever.acquire().unwrap();
    assert_eq!(pttl(&client, "locks:forever"), -1);
    let err = guard.extend(Duration::from_secs(1), false).unwrap_err();
    assert!(matches!(err, Error::Lock(_)), "{err:?}");
    assert!(matches!(guard.reacquire(), Err(Error::Lock(_))));
    drop(guard);
    assert!(!forever.locked().unwrap());

    let err = client
        .lock("locks:zero")
        .timeout(Duration::from_micros(10))
        .acquire()
        .unwrap_err();
    assert!(err.to_string().contains("at least 1 ms"), "{err}");
}
