//! `AsyncSentinel` against real sentinels (the harness's `SentinelSetup`): discovery of the
//! master and replicas over tokio connections, with the blocking `Sentinel`'s rules.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redis_client::aio::{AsyncSentinel, AsyncSentinelClient};
use redis_client::sentinel::SentinelOptions;
use redis_client::{Commands, Config, Error, Protocol};
use redis_test_harness::{follows_in_turn, RawConnection, SentinelSetup, ServerKind, MASTER_NAME};

fn options(protocol: Protocol) -> SentinelOptions {
    let timeouts = |t: Duration| {
        Config::builder()
            .protocol(protocol)
            .connect_timeout(t)
            .socket_timeout(t)
            .build()
            .unwrap()
    };
    SentinelOptions::new()
        .sentinel_config(timeouts(Duration::from_millis(500)))
        .data_config(timeouts(Duration::from_secs(2)))
}

fn sentinel(setup: &SentinelSetup, protocol: Protocol) -> AsyncSentinel {
    let addrs: Vec<(String, u16)> = setup
        .sentinel_addrs()
        .iter()
        .map(|a| (a.ip().to_string(), a.port()))
        .collect();
    AsyncSentinel::new(&addrs, options(protocol)).unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Waits until the sentinels list `n` usable replicas (new ones stay flagged disconnected
/// until the sentinels reach them).
async fn wait_for_replicas(sentinel: &AsyncSentinel, n: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match sentinel.discover_slaves(MASTER_NAME).await {
            Ok(found) if found.len() == n => {
                return found.iter().map(ToString::to_string).collect();
            }
            other => assert!(Instant::now() < deadline, "{n} replicas: {other:?}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[test]
fn discovers_the_master_and_replicas_on_redis_and_valkey_in_both_protocols() {
    for kind in [ServerKind::Redis, ServerKind::Valkey] {
        discovers(SentinelSetup::builder().kind(kind).start());
    }
}

fn discovers(setup: SentinelSetup) {
    for protocol in [Protocol::Resp2, Protocol::Resp3] {
        runtime().block_on(async {
            let sentinel = sentinel(&setup, protocol);
            let master = sentinel.discover_master(MASTER_NAME).await.unwrap();
            assert_eq!(master.to_string(), setup.master().addr().to_string());
            let mut replicas = wait_for_replicas(&sentinel, 2).await;
            let mut expected: Vec<String> = setup
                .replicas()
                .iter()
                .map(|r| r.addr().to_string())
                .collect();
            replicas.sort();
            expected.sort();
            assert_eq!(replicas, expected);

            let err = sentinel
                .discover_master("no-such-master")
                .await
                .unwrap_err();
            assert!(matches!(err, Error::MasterNotFound(_)), "{err:?}");
            assert!(err.to_string().contains("no-such-master"), "{err}");
            // The blocking Sentinel it wraps asks in the same order and knows the same.
            let sync = sentinel.sentinel().clone();
            let found = tokio::task::spawn_blocking(move || sync.discover_master(MASTER_NAME))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(found, master);
        });
    }
}

#[test]
fn master_and_replica_clients_reach_the_right_servers() {
    let setup = SentinelSetup::start();
    runtime().block_on(async {
        let sentinel = sentinel(&setup, Protocol::Resp3);
        wait_for_replicas(&sentinel, 2).await;
        let master = sentinel.master_for(MASTER_NAME).unwrap();
        assert_eq!(master.current_addr(), None, "connects lazily");
        master.set("aio-sentinel-key", "v1").await.unwrap();
        assert_eq!(
            master.current_addr(),
            Some(setup.master().addr().to_string())
        );
        let got: Option<String> = master.query(["GET", "aio-sentinel-key"]).await.unwrap();
        assert_eq!(got.as_deref(), Some("v1"));
        // Pub/sub from a master client goes to the master, not to the config's placeholder.
        let mut pubsub = master.pubsub();
        pubsub.set_ignore_subscribe_messages(true);
        pubsub.subscribe(["aio-sentinel-channel"]).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while master
            .query::<i64>(["PUBLISH", "aio-sentinel-channel", "hi"])
            .await
            .unwrap()
            == 0
        {
            assert!(Instant::now() < deadline, "never subscribed on the master");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let message = pubsub
            .get_message(Duration::from_secs(5))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(message.payload(), Some(&b"hi"[..]));
        let err = master.execute(["WATCH", "k"]).await.unwrap_err();
        assert!(err.to_string().contains("WATCH"), "refused: {err}");

        let replicas = sentinel.slave_for(MASTER_NAME).unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let got = replicas.get("aio-sentinel-key").await.unwrap();
            if got.as_deref() == Some(&b"v1"[..]) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the write never reached the replica"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let used = replicas.current_addr().unwrap();
        assert!(
            setup
                .replicas()
                .iter()
                .any(|r| r.addr().to_string() == used),
            "{used} is a replica"
        );
        let err = replicas.set("aio-sentinel-key", "v2").await.unwrap_err();
        assert!(matches!(err, Error::ReadOnly(_)), "{err:?}");

        let err = sentinel
            .master_for("no-such-master")
            .unwrap()
            .execute(["PING"])
            .await
            .unwrap_err();
        assert!(matches!(err, Error::MasterNotFound(_)), "{err:?}");
        let err = sentinel
            .slave_for("no-such-master")
            .unwrap()
            .execute(["PING"])
            .await
            .unwrap_err();
        assert!(matches!(err, Error::SlaveNotFound(_)), "{err:?}");
        assert!(err.to_string().contains("no-such-master"), "{err}");
    });
}

/// Writes `INCR` through `client` until `stop`, logging (server, value, when) of each success.
async fn writer(
    client: AsyncSentinelClient,
    stop: Arc<AtomicBool>,
) -> (Vec<(String, i64, Instant)>, Vec<String>) {
    let mut done = Vec::new();
    let mut errors = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        match client.incr("aio-failover-counter").await {
            // The server in use right after the write (empty when a failover announcement
            // just dropped it).
            Ok(value) => done.push((
                client.current_addr().unwrap_or_default(),
                value,
                Instant::now(),
            )),
            Err(e) => {
                errors.push(e.to_string());
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
    (done, errors)
}

#[test]
fn writes_follow_a_sentinel_failover() {
    writes_survive(SentinelSetup::start(), "SENTINEL FAILOVER", |setup| {
        let mut raw = RawConnection::connect_to_sentinel(&setup.sentinels()[0]).unwrap();
        raw.call_ok(&["SENTINEL", "FAILOVER", MASTER_NAME]).unwrap();
    });
}

#[test]
fn writes_follow_a_failover_after_the_master_dies() {
    writes_survive(SentinelSetup::start(), "master killed", |setup| {
        setup.master_mut().kill();
    });
}

/// Writes through a master client around `fail_over` and checks that the writes resume on
/// the new master, none going back to the old one.
fn writes_survive(
    mut setup: SentinelSetup,
    what: &str,
    fail_over: impl FnOnce(&mut SentinelSetup),
) {
    let rt = runtime();
    let sentinel = sentinel(&setup, Protocol::Resp2);
    rt.block_on(wait_for_replicas(&sentinel, 2));
    let old = setup.master().addr();
    let client = rt
        .block_on(async { sentinel.master_for(MASTER_NAME) })
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let task = rt.spawn(writer(client.clone(), Arc::clone(&stop)));
    std::thread::sleep(Duration::from_millis(500));
    let triggered = Instant::now();
    fail_over(&mut setup);
    setup
        .wait_for_failover(old, Duration::from_secs(15))
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    stop.store(true, Ordering::SeqCst);
    let (done, errors) = rt.block_on(task).unwrap();
    // Usually one failover; on a loaded machine the sentinels sometimes fail the promoted
    // master over again, and the client must follow them both.
    let masters = setup.masters_in_turn();
    assert!(
        masters.len() >= 2,
        "the sentinels logged no switch: {masters:?}"
    );
    let old = old.to_string();
    let before = done.iter().filter(|(s, _, _)| *s == old).count();
    assert!(before > 10, "hardly wrote before the failover: {before}");
    let first_new = done
        .iter()
        .find(|(s, _, _)| *s != old)
        .unwrap_or_else(|| panic!("no write after {old}; errors: {:?}", errors.last()));
    let resumed = first_new.2 - triggered;
    assert!(
        resumed < Duration::from_secs(10),
        "resumed after {resumed:?}"
    );
    // The client went from master to master as the sentinels switched, never back.
    let seen: Vec<SocketAddr> = done.iter().filter_map(|(s, _, _)| s.parse().ok()).collect();
    let mut in_turn = seen.clone();
    in_turn.dedup();
    assert!(
        follows_in_turn(&seen, &masters),
        "the writes went to {in_turn:?}, not along the masters {masters:?}"
    );
    let current: SocketAddr = client.current_addr().unwrap().parse().unwrap();
    assert!(
        follows_in_turn(&[*seen.last().unwrap(), current], &masters),
        "the client is on {current} after writing to {:?} (masters {masters:?})",
        seen.last()
    );
    eprintln!(
        "async, {what}: masters in turn {masters:?}: writes resumed after {resumed:?}; {} writes, \
         {} errors, last: {:?}",
        done.len(),
        errors.len(),
        errors.last()
    );
}

/// How many connections the sentinel at `addr` has accepted so far.
async fn connections_received(addr: std::net::SocketAddr) -> u64 {
    let config = Config::builder()
        .addr(redis_client::ConnectionAddr::Tcp {
            host: addr.ip().to_string(),
            port: addr.port(),
        })
        .build()
        .unwrap();
    let mut conn = redis_client::AsyncConnection::open(&config).await.unwrap();
    let info: String = conn.query(("INFO", "stats")).await.unwrap();
    info.lines()
        .find_map(|line| line.strip_prefix("total_connections_received:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn many_tasks_needing_the_master_at_once_ask_the_sentinels_once() {
    let setup = SentinelSetup::builder().replicas(0).sentinels(1).start();
    runtime().block_on(async {
        let options = options(Protocol::Resp3).listen_for_switch(false);
        let addrs: Vec<(String, u16)> = setup
            .sentinel_addrs()
            .iter()
            .map(|a| (a.ip().to_string(), a.port()))
            .collect();
        let sentinel = AsyncSentinel::new(&addrs, options).unwrap();
        let client = sentinel.master_for(MASTER_NAME).unwrap();
        let sentinel_addr = setup.sentinel_addrs()[0];
        let before = connections_received(sentinel_addr).await;
        let tasks: Vec<_> = (0..200)
            .map(|i| {
                let client = client.clone();
                tokio::spawn(async move { client.set(format!("many:{i}"), i).await })
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        // One connection for the one discovery, one for the count itself.
        let opened = connections_received(sentinel_addr).await - before;
        assert!(
            opened <= 2,
            "{opened} connections to the sentinel for 200 tasks"
        );
        // Scans run on the server the client follows.
        let keys: Vec<String> = client
            .scan_iter()
            .matching("many:*")
            .collect()
            .await
            .unwrap();
        assert_eq!(keys.len(), 200);
        // So do locks.
        let lock = client.lock("many:lock").timeout(Duration::from_secs(5));
        let guard = lock.acquire().await.unwrap();
        assert!(lock.try_acquire().await.unwrap().is_none());
        assert!(guard.owned().await.unwrap());
        guard.release().await.unwrap();
        assert!(!lock.locked().await.unwrap());
    });
}
