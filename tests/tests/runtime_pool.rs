//! `ConnectionPool` and `BlockingConnectionPool` against a real server: limits, waiting,
//! discarding broken or altered connections, disconnect, and health checks on checkout.

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use redis_client::{BlockingConnectionPool, Config, Connection, ConnectionPool, Error, Value};
use redis_test_harness::Server;

fn config(server: &Server, max: usize) -> Config {
    Config::from_url(&server.url())
        .unwrap()
        .to_builder()
        .max_connections(max)
        .socket_timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

fn client_id(conn: &mut Connection) -> i64 {
    conn.query(["CLIENT", "ID"]).unwrap()
}

#[test]
fn connection_pool_fails_when_exhausted_and_reuses_returned_connections() {
    let server = Server::redis();
    let pool = ConnectionPool::new(config(&server, 2)).unwrap();
    let mut a = pool.get().unwrap();
    let b = pool.get().unwrap();
    let err = pool.get().unwrap_err();
    assert!(
        matches!(
            err,
            Error::PoolExhausted {
                max_connections: 2,
                waited: None
            }
        ),
        "{err:?}"
    );
    let id_a = client_id(&mut a);
    drop(a);
    assert_eq!(pool.stats().idle, 1);
    let mut again = pool.get().unwrap();
    assert_eq!(
        client_id(&mut again),
        id_a,
        "the returned connection is reused"
    );
    drop((again, b));
    assert_eq!(pool.stats().open, 2);
    assert_eq!(pool.stats().idle, 2);
}

#[test]
fn blocking_pool_waits_for_a_returned_connection_then_times_out() {
    let server = Server::redis();
    let pool =
        BlockingConnectionPool::new(config(&server, 1), Some(Duration::from_millis(300))).unwrap();
    let held = pool.get().unwrap();

    // Nobody returns it: the wait ends with an error after the timeout.
    let started = Instant::now();
    let err = pool.get().unwrap_err();
    let waited = started.elapsed();
    assert!(
        matches!(
            err,
            Error::PoolExhausted {
                waited: Some(_),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(waited >= Duration::from_millis(300), "{waited:?}");
    assert!(waited < Duration::from_secs(3), "{waited:?}");

    // Returned by another thread while we wait: the waiter gets it.
    let (tx, rx) = mpsc::channel();
    let other = pool.clone();
    let waiter = thread::spawn(move || {
        tx.send(()).unwrap();
        let started = Instant::now();
        let mut conn = other.get().unwrap();
        assert_eq!(
            conn.execute(["PING"]).unwrap(),
            Value::Simple("PONG".into())
        );
        started.elapsed()
    });
    rx.recv().unwrap();
    thread::sleep(Duration::from_millis(100));
    drop(held);
    let waited = waiter.join().unwrap();
    assert!(waited >= Duration::from_millis(50), "{waited:?}");
}

#[test]
fn blocking_pool_without_timeout_waits_until_a_connection_returns() {
    let server = Server::redis();
    let pool = BlockingConnectionPool::new(config(&server, 1), None).unwrap();
    let held = pool.get().unwrap();
    let other = pool.clone();
    let waiter = thread::spawn(move || other.get().map(|_| ()));
    thread::sleep(Duration::from_millis(400));
    assert!(!waiter.is_finished(), "the waiter must still be blocked");
    drop(held);
    waiter.join().unwrap().unwrap();
}

#[test]
fn broken_and_reselected_connections_are_not_returned() {
    let server = Server::redis();
    let pool = ConnectionPool::new(config(&server, 4)).unwrap();

    // A connection killed by the server breaks on its next command and is dropped on return.
    let mut conn = pool.get().unwrap();
    let id = client_id(&mut conn);
    let mut admin = Connection::open(&config(&server, 1)).unwrap();
    admin.execute(("CLIENT", "KILL", "ID", id)).unwrap();
    assert!(conn.execute(["PING"]).unwrap_err().is_connection_error());
    assert!(conn.is_broken());
    drop(conn);
    assert_eq!(pool.stats().open, 0, "the broken connection freed its slot");
    let mut fresh = pool.get().unwrap();
    assert_ne!(client_id(&mut fresh), id);

    // A connection switched to another database is closed rather than reused.
    fresh.select(5).unwrap();
    drop(fresh);
    assert_eq!(pool.stats().open, 0);
    let mut next = pool.get().unwrap();
    assert_eq!(next.db(), 0);

    // A connection with unread pipelined replies is closed too.
    next.write_command(&["PING"]).unwrap();
    next.flush().unwrap();
    drop(next);
    assert_eq!(pool.stats().open, 0);
}

#[test]
fn disconnect_closes_idle_and_optionally_inflight_connections() {
    let server = Server::redis();
    let pool = ConnectionPool::new(config(&server, 4)).unwrap();
    let a = pool.get().unwrap();
    let b = pool.get().unwrap();
    drop(a);
    assert_eq!(pool.stats().idle, 1);
    pool.disconnect(false);
    assert_eq!(pool.stats().idle, 0);
    assert_eq!(pool.stats().open, 1, "b is still checked out");
    drop(b);
    assert_eq!(pool.stats().idle, 1, "without inflight, b comes back");

    let c = pool.get().unwrap();
    pool.disconnect(true);
    drop(c);
    assert_eq!(pool.stats().open, 0, "with inflight, c is closed on return");
}

fn ping_calls(admin: &mut Connection) -> u64 {
    let info: String = admin.query(["INFO", "commandstats"]).unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("cmdstat_ping:calls="))
        .and_then(|rest| rest.split(',').next())
        .map_or(0, |n| n.parse().unwrap())
}

#[test]
fn checkout_pings_idle_connections_and_replaces_dead_ones() {
    let server = Server::redis();
    let config = config(&server, 2)
        .to_builder()
        .health_check_interval(Duration::from_millis(100))
        .build()
        .unwrap();
    let pool = ConnectionPool::new(config).unwrap();
    // The admin connection has no health check, so it adds no PINGs of its own.
    let mut admin = Connection::open(&self::config(&server, 1)).unwrap();

    let mut conn = pool.get().unwrap();
    let id = client_id(&mut conn);
    drop(conn);
    // Fresh from use: no PING on checkout.
    let before = ping_calls(&mut admin);
    drop(pool.get().unwrap());
    assert_eq!(ping_calls(&mut admin), before);

    // Idle past the interval: checkout PINGs first.
    thread::sleep(Duration::from_millis(200));
    let mut conn = pool.get().unwrap();
    assert_eq!(ping_calls(&mut admin), before + 1);
    assert_eq!(client_id(&mut conn), id, "a healthy connection is kept");
    drop(conn);

    // Idle and killed meanwhile: the check fails, a new connection replaces it, no error.
    thread::sleep(Duration::from_millis(200));
    admin.execute(("CLIENT", "KILL", "ID", id)).unwrap();
    let mut conn = pool.get().unwrap();
    assert_ne!(client_id(&mut conn), id);
    assert_eq!(pool.stats().open, 1);
}
