//! `Sentinel::discover_master` / `discover_slaves` against real sentinels (issue 7, item 1).

mod sentinel_support;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use redis_client::sentinel::{Sentinel, SentinelOptions};
use redis_client::{Config, Error, Protocol};
use redis_test_harness::{free_port, wait_until, RawConnection, SentinelSetup, MASTER_NAME};
use sentinel_support::{data_config, host_ports, options, sentinel, sentinel_config};

fn sorted(mut addrs: Vec<String>) -> Vec<String> {
    addrs.sort();
    addrs
}

#[test]
fn master_and_replicas_are_discovered_in_both_protocols() {
    let mut setup = SentinelSetup::start();
    let master = setup.master().addr().to_string();
    let replicas = sorted(
        setup
            .replicas()
            .iter()
            .map(|r| r.addr().to_string())
            .collect(),
    );
    for protocol in [Protocol::Resp2, Protocol::Resp3] {
        let sentinel = sentinel(&setup, options(protocol));
        let found = sentinel.discover_master(MASTER_NAME).unwrap();
        assert_eq!(found.to_string(), master, "{protocol:?}");
        let found = sentinel.discover_slaves(MASTER_NAME).unwrap();
        let found = sorted(found.iter().map(ToString::to_string).collect());
        assert_eq!(found, replicas, "{protocol:?}");

        let err = sentinel.discover_master("no-such-master").unwrap_err();
        assert!(matches!(err, Error::MasterNotFound(_)), "{err:?}");
        assert!(err.is_connection_error() && err.is_retryable(), "{err:?}");
        let text = err.to_string();
        assert!(
            text.contains("no-such-master") && text.contains("No such master"),
            "{text}"
        );
        let err = sentinel.discover_slaves("no-such-master").unwrap_err();
        assert!(matches!(err, Error::SlaveNotFound(_)), "{err:?}");
        assert!(err.is_connection_error(), "{err:?}");
    }

    // A replica the sentinels flag as down is left out (down-after is 1 s).
    let sentinel = sentinel(&setup, options(Protocol::Resp3));
    let gone = setup.replicas()[0].addr().to_string();
    let kept = setup.replicas()[1].addr().to_string();
    setup.replicas_mut()[0].kill();
    wait_until(
        "the killed replica to be left out",
        Duration::from_secs(10),
        || {
            let found: Vec<String> = sentinel
                .discover_slaves(MASTER_NAME)
                .map_err(|e| e.to_string())?
                .iter()
                .map(ToString::to_string)
                .collect();
            if found == [kept.clone()] {
                Ok(())
            } else {
                Err(format!("replicas {found:?}, {gone} was killed"))
            }
        },
    )
    .unwrap();
}

#[test]
fn the_sentinel_that_answers_moves_to_the_front() {
    let setup = SentinelSetup::builder()
        .replicas(0)
        .sentinels(2)
        .quorum(1)
        .start();
    let localhost = IpAddr::V4(Ipv4Addr::LOCALHOST);
    // Nothing listens on a free port: the first sentinel in the list cannot be reached.
    let dead = SocketAddr::new(localhost, free_port(localhost).unwrap());
    let mut addrs = vec![dead];
    addrs.extend(setup.sentinel_addrs());
    let sentinel = Sentinel::new(&host_ports(&addrs), options(Protocol::Resp3)).unwrap();
    assert_eq!(sentinel.sentinels()[0].to_string(), dead.to_string());

    let found = sentinel.discover_master(MASTER_NAME).unwrap();
    assert_eq!(found.to_string(), setup.master().addr().to_string());
    let order: Vec<String> = sentinel
        .sentinels()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        order,
        [addrs[1], addrs[0], addrs[2]].map(|a| a.to_string()),
        "the sentinel that answered goes first, the rest keep their order"
    );

    let err = Sentinel::new(&[] as &[(&str, u16)], SentinelOptions::new()).unwrap_err();
    assert!(
        matches!(&err, Error::Config { param, .. } if param == "sentinels"),
        "{err:?}"
    );
}

#[test]
fn a_master_flagged_down_is_not_accepted() {
    // One sentinel with quorum 2 never reaches o_down, so no failover replaces the master:
    // the sentinel keeps reporting it, flagged s_down.
    let mut setup = SentinelSetup::builder()
        .replicas(0)
        .sentinels(1)
        .quorum(2)
        .start();
    let sentinel = sentinel(&setup, options(Protocol::Resp2));
    let master = setup.master().addr().to_string();
    assert_eq!(
        sentinel.discover_master(MASTER_NAME).unwrap().to_string(),
        master
    );

    setup.master_mut().kill();
    let err = wait_until(
        "the sentinel to flag the master s_down",
        Duration::from_secs(10),
        || match sentinel.discover_master(MASTER_NAME) {
            Err(e) => Ok(e),
            Ok(addr) => Err(format!("still accepted {addr}")),
        },
    )
    .unwrap();
    assert!(matches!(err, Error::MasterNotFound(_)), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("s_down") && text.contains(&master), "{text}");

    setup.master_mut().restart().unwrap();
    let back = wait_until(
        "the master to be accepted again",
        Duration::from_secs(10),
        || {
            sentinel
                .discover_master(MASTER_NAME)
                .map_err(|e| e.to_string())
        },
    )
    .unwrap();
    assert_eq!(back.to_string(), master);
}

#[test]
fn sentinel_and_data_connections_have_their_own_credentials_and_db() {
    let setup = SentinelSetup::builder()
        .replicas(0)
        .sentinels(1)
        .quorum(1)
        .requirepass("data-secret")
        .start();
    let data = data_config(Protocol::Resp3)
        .to_builder()
        .password("data-secret")
        .db(3)
        .build()
        .unwrap();
    let options = SentinelOptions::new()
        .sentinel_config(sentinel_config(Protocol::Resp3))
        .data_config(data.clone());
    let master = sentinel(&setup, options).master_for(MASTER_NAME).unwrap();
    master
        .execute(["SET", "sentinel-db-key", "in-db-3"])
        .unwrap();
    let mut raw = RawConnection::connect_to(setup.master()).unwrap();
    raw.call_ok(&["SELECT", "3"]).unwrap();
    let value = raw.call_ok(&["GET", "sentinel-db-key"]).unwrap();
    assert_eq!(redis_test_harness::text(&value).as_deref(), Some("in-db-3"));

    // The sentinel credentials go to the sentinels only: a user they do not know fails there.
    let wrong = SentinelOptions::new()
        .sentinel_config(
            sentinel_config(Protocol::Resp3)
                .to_builder()
                .username("no-such-user")
                .password("data-secret")
                .build()
                .unwrap(),
        )
        .data_config(data);
    let err = sentinel(&setup, wrong)
        .discover_master(MASTER_NAME)
        .unwrap_err();
    assert!(matches!(err, Error::MasterNotFound(_)), "{err:?}");
    assert!(err.to_string().contains("authentication failed"), "{err}");

    // Without the data password the master refuses: not a connection error, not retried.
    let no_password = SentinelOptions::new()
        .sentinel_config(sentinel_config(Protocol::Resp3))
        .data_config(Config::default());
    let err = sentinel(&setup, no_password)
        .master_for(MASTER_NAME)
        .unwrap()
        .execute(["PING"])
        .unwrap_err();
    assert!(matches!(err, Error::Authentication(_)), "{err:?}");
}
