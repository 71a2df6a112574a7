//! Master clients following failovers (issue 7, item 3): a writer doing `INCR` then `WAIT 1`
//! keeps every acknowledged increment and resumes on the new master, after a `SENTINEL
//! FAILOVER` and after the master is killed; `READONLY` from a demoted master is retried there.

mod sentinel_support;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use redis_client::{Client, Error, Protocol, Retry};
use redis_test_harness::{
    follows_in_turn, text, RawConnection, SentinelSetup, Server, MASTER_NAME,
};
use sentinel_support::{data_config, options, sentinel, wait_for_usable_replicas};

const KEY: &str = "sentinel-failover-counter";
/// A second counter, incremented through `Client::query` (its retries and failover handling).
const PLAIN_KEY: &str = "sentinel-failover-plain";
/// The brief's bound on how long writes may stop.
const RESUME_LIMIT: Duration = Duration::from_secs(10);

/// One successful `INCR` of [`KEY`]: its reply, the server, when, and whether a replica
/// acknowledged it (`WAIT 1` on the same connection returned at least 1).
#[derive(Debug)]
struct Incr {
    value: i64,
    server: String,
    at: Instant,
    acked: bool,
}

#[derive(Debug, Default)]
struct Log {
    incrs: Vec<Incr>,
    /// When `INCR`s of [`PLAIN_KEY`] through the client succeeded.
    plain: Vec<Instant>,
    errors: Vec<(Instant, String)>,
}

/// Writes until `stop`: `INCR` + `WAIT 1` on one borrowed connection (WAIT covers the writes
/// of its own connection), then one `INCR` through the client itself.
fn writer(client: Client, stop: Arc<AtomicBool>) -> Log {
    let mut log = Log::default();
    while !stop.load(Ordering::SeqCst) {
        let pair = (|| -> Result<(), Error> {
            let mut conn = client.get_connection()?;
            let server = conn.addr().to_owned();
            let value: i64 = conn.query(["INCR", KEY])?;
            let mut incr = Incr {
                value,
                server,
                at: Instant::now(),
                acked: false,
            };
            let waited = conn.query::<i64>(["WAIT", "1", "500"]);
            incr.acked = matches!(waited, Ok(n) if n >= 1);
            log.incrs.push(incr);
            waited.map(drop)
        })();
        let plain = pair.and_then(|()| client.query::<i64>(["INCR", PLAIN_KEY]).map(drop));
        match plain {
            Ok(()) => log.plain.push(Instant::now()),
            Err(e) => {
                log.errors.push((Instant::now(), e.to_string()));
                thread::sleep(Duration::from_millis(20));
            }
        }
    }
    log
}

/// Runs the writer around `fail_over` (which returns when it triggered the failover) and checks
/// what the brief asks; returns the time from the trigger to the first acknowledged increment
/// on the new master.
fn writes_survive(
    mut setup: SentinelSetup,
    fail_over: impl FnOnce(&mut SentinelSetup),
) -> Duration {
    let sentinel = sentinel(&setup, options(Protocol::Resp3));
    wait_for_usable_replicas(&sentinel, 2);
    let old = setup.master().addr();
    let client = sentinel.master_for(MASTER_NAME).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let handle = {
        let (client, stop) = (client.clone(), Arc::clone(&stop));
        thread::spawn(move || writer(client, stop))
    };
    thread::sleep(Duration::from_millis(1000));
    let triggered = Instant::now();
    fail_over(&mut setup);
    setup
        .wait_for_failover(old, Duration::from_secs(15))
        .unwrap();
    // Keep writing a while on the new master, then stop.
    let deadline = triggered + RESUME_LIMIT + Duration::from_secs(2);
    while Instant::now() < deadline {
        thread::sleep(Duration::from_millis(100));
    }
    stop.store(true, Ordering::SeqCst);
    let log = handle.join().unwrap();
    // Usually one failover; on a loaded machine the sentinels sometimes fail the promoted
    // master over again, and the client must follow them both.
    let masters = setup.masters_in_turn();
    assert!(
        masters.len() >= 2,
        "the sentinels logged no switch: {masters:?}"
    );
    let (old, new) = (old.to_string(), masters[1].to_string());

    let before = log
        .incrs
        .iter()
        .filter(|i| i.server == old && i.acked)
        .count();
    assert!(
        before > 10,
        "the writer hardly wrote before the failover: {before}"
    );
    let resumed = log
        .incrs
        .iter()
        .find(|i| i.server != old && i.acked)
        .unwrap_or_else(|| {
            panic!(
                "no acknowledged write after {old}; errors: {:?}",
                last(&log.errors)
            )
        })
        .at
        - triggered;
    assert!(resumed < RESUME_LIMIT, "resumed after {resumed:?}");
    let plain_resumed = log
        .plain
        .iter()
        .find(|&&at| at > triggered + resumed)
        .map(|&at| at - triggered);
    assert!(
        plain_resumed.is_some_and(|d| d < RESUME_LIMIT),
        "client writes resumed after {plain_resumed:?}"
    );

    // Every acknowledged increment made on the old master is on the new one: its first INCR
    // continues above all of them.
    let max_acked_old = log
        .incrs
        .iter()
        .filter(|i| i.server == old && i.acked)
        .map(|i| i.value)
        .max()
        .unwrap();
    let first_new = log.incrs.iter().find(|i| i.server != old).unwrap();
    assert!(
        first_new.value > max_acked_old,
        "acknowledged increments were lost: the last one on {old} gave {max_acked_old}, the \
         first on {} gave {}",
        first_new.server,
        first_new.value
    );
    // The client went from master to master as the sentinels switched, never back.
    let seen: Vec<SocketAddr> = log
        .incrs
        .iter()
        .map(|i| i.server.parse().unwrap())
        .collect();
    assert!(
        follows_in_turn(&seen, &masters),
        "the writes went to {:?}, not along the masters {masters:?}",
        servers_in_turn(&seen)
    );
    let last_master = masters.last().unwrap().to_string();
    let server = std::iter::once(setup.master())
        .chain(setup.replicas())
        .find(|r| r.addr().to_string() == last_master)
        .unwrap();
    let final_value = get_int(server, KEY);
    let max_acked = log
        .incrs
        .iter()
        .filter(|i| i.acked)
        .map(|i| i.value)
        .max()
        .unwrap();
    assert!(final_value >= max_acked, "{final_value} < {max_acked}");
    eprintln!(
        "failover {old} -> {new} (masters in turn: {masters:?}): writes acknowledged again after {resumed:?} (client path \
         {plain_resumed:?}); {} increments, {} acknowledged, {} errors, last: {:?}",
        log.incrs.len(),
        log.incrs.iter().filter(|i| i.acked).count(),
        log.errors.len(),
        last(&log.errors)
    );
    resumed
}

/// `seen` without repeats in a row: the servers a writer moved between.
fn servers_in_turn(seen: &[SocketAddr]) -> Vec<SocketAddr> {
    let mut servers = seen.to_vec();
    servers.dedup();
    servers
}

fn last(errors: &[(Instant, String)]) -> Option<&str> {
    errors.last().map(|(_, e)| e.as_str())
}

fn get_int(server: &Server, key: &str) -> i64 {
    let mut raw = RawConnection::connect_to(server).unwrap();
    let value = raw.call_ok(&["GET", key]).unwrap();
    text(&value).unwrap().parse().unwrap()
}

#[test]
fn writes_follow_a_sentinel_failover() {
    let resumed = writes_survive(SentinelSetup::start(), |setup| {
        let mut raw = RawConnection::connect_to_sentinel(&setup.sentinels()[0]).unwrap();
        raw.call_ok(&["SENTINEL", "FAILOVER", MASTER_NAME]).unwrap();
    });
    eprintln!("SENTINEL FAILOVER: resumed after {resumed:?}");
}

#[test]
fn writes_follow_a_failover_after_the_master_dies() {
    let resumed = writes_survive(SentinelSetup::start(), |setup| setup.master_mut().kill());
    eprintln!("master killed: resumed after {resumed:?}");
}

#[test]
fn readonly_from_a_demoted_master_moves_the_client() {
    let mut setup = SentinelSetup::start();
    // Without +switch-master, the clients learn of the failover only from the old master.
    let options = options(Protocol::Resp2).listen_for_switch(false);
    let sentinel = sentinel(&setup, options.clone());
    wait_for_usable_replicas(&sentinel, 2);
    let retrying = sentinel.master_for(MASTER_NAME).unwrap();
    let once = sentinel_support::sentinel(
        &setup,
        options.data_config(
            data_config(Protocol::Resp2)
                .to_builder()
                .retry(Retry::none())
                .build()
                .unwrap(),
        ),
    )
    .master_for(MASTER_NAME)
    .unwrap();
    retrying.execute(["SET", "ro-key", "10"]).unwrap();
    once.execute(["SET", "ro-key-2", "20"]).unwrap();
    assert_eq!(retrying.query::<i64>(["WAIT", "2", "2000"]).unwrap(), 2);

    let old = setup.master().addr();
    let mut raw = RawConnection::connect_to_sentinel(&setup.sentinels()[0]).unwrap();
    raw.call_ok(&["SENTINEL", "FAILOVER", MASTER_NAME]).unwrap();
    let new = setup
        .wait_for_failover(old, Duration::from_secs(15))
        .unwrap();
    // Demote the old master now, without closing its clients' connections (the sentinels
    // would only get to it seconds later, and would close them).
    let mut raw = RawConnection::connect_to(setup.master()).unwrap();
    let (host, port) = (new.ip().to_string(), new.port().to_string());
    raw.call_ok(&["REPLICAOF", &host, &port]).unwrap();

    // The pooled connection meets READONLY; the client drops it, asks the sentinels, retries.
    assert_eq!(retrying.query::<i64>(["INCR", "ro-key"]).unwrap(), 11);
    assert_eq!(retrying.get_connection().unwrap().addr(), new.to_string());
    // With no retries READONLY comes back, but the connections to the old master are gone.
    let err = once.query::<i64>(["INCR", "ro-key-2"]).unwrap_err();
    assert!(matches!(err, Error::ReadOnly(_)), "{err:?}");
    assert_eq!(once.query::<i64>(["INCR", "ro-key-2"]).unwrap(), 21);
    assert_eq!(once.get_connection().unwrap().addr(), new.to_string());
}
