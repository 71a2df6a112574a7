//! Sentinels that see their master, and a master/replica/sentinel setup that fails over.

use std::time::{Duration, Instant};

use redis_test_harness::{
    field, info_field, RawConnection, SentinelServer, SentinelSetup, Server, MASTER_NAME,
};

#[test]
fn single_sentinel_sees_its_master() {
    let master = Server::redis();
    let sentinel = SentinelServer::monitor(&master).unwrap();
    assert_eq!(
        sentinel.sentinel_id(),
        format!("sentinel-{}", sentinel.version())
    );
    assert!(sentinel.sentinel_id().starts_with("sentinel-7."));
    assert_eq!(sentinel.master_name(), MASTER_NAME);
    assert_eq!(sentinel.reported_master().unwrap(), master.addr());
    let state = sentinel.master_state().unwrap();
    assert_eq!(field(&state, "flags"), Some("master"));
    assert_eq!(field(&state, "quorum"), Some("1"));
    let mut conn = RawConnection::connect_to_sentinel(&sentinel).unwrap();
    let info = conn.info("server").unwrap();
    assert_eq!(info_field(&info, "redis_mode"), Some("sentinel"), "{info}");
}

#[test]
fn setup_sees_replicas_and_fails_over() {
    let started = Instant::now();
    let mut setup = SentinelSetup::start();
    assert_eq!(setup.replicas().len(), 2);
    assert_eq!(setup.sentinel_addrs().len(), 3);
    for sentinel in setup.sentinels() {
        let state = sentinel.master_state().unwrap();
        assert_eq!(field(&state, "num-slaves"), Some("2"));
        assert_eq!(field(&state, "num-other-sentinels"), Some("2"));
        assert_eq!(field(&state, "quorum"), Some("2"));
    }
    let old = setup.master().addr();
    assert_eq!(setup.current_master().unwrap(), old);
    eprintln!("sentinel setup ready after {:?}", started.elapsed());

    setup.master_mut().kill();
    let new = setup
        .wait_for_failover(old, Duration::from_secs(30))
        .unwrap();
    eprintln!("failed over to {new} after {:?}", started.elapsed());
    assert!(
        setup.replicas().iter().any(|r| r.addr() == new),
        "{new} is not one of the replicas"
    );
}
