//! `Sentinel::master_for` / `slave_for`: ordinary clients whose pools ask the sentinels on
//! every new connection (issue 7, item 2).

mod sentinel_support;

use std::collections::BTreeMap;
use std::time::Duration;

use redis_client::{Error, Protocol};
use redis_test_harness::{wait_until, SentinelSetup, MASTER_NAME};
use sentinel_support::{options, sentinel, wait_for_usable_replicas};

#[test]
fn master_and_replica_clients_reach_the_right_servers() {
    let setup = SentinelSetup::start();
    let sentinel = sentinel(&setup, options(Protocol::Resp3));
    let master_addr = setup.master().addr().to_string();

    let master = sentinel.master_for(MASTER_NAME).unwrap();
    master.execute(["SET", "sentinel-key", "v1"]).unwrap();
    assert_eq!(master.get_connection().unwrap().addr(), master_addr);

    wait_for_usable_replicas(&sentinel, 2);
    // Pub/sub from a master client goes to the master too, not to the config's placeholder.
    let pubsub = master.pubsub().unwrap();
    pubsub.set_ignore_subscribe_messages(true);
    pubsub.subscribe(["sentinel-channel"]).unwrap();
    assert_eq!(
        master
            .query::<i64>(["PUBLISH", "sentinel-channel", "hi"])
            .unwrap(),
        1
    );
    let message = pubsub.get_message(Duration::from_secs(5)).unwrap().unwrap();
    assert_eq!(message.payload(), Some(&b"hi"[..]));

    let replicas = sentinel.slave_for(MASTER_NAME).unwrap();
    // Four connections at once: round-robin over the two replicas, two each, none to the master.
    let held: Vec<_> = (0..4).map(|_| replicas.get_connection().unwrap()).collect();
    let mut used = BTreeMap::new();
    for conn in &held {
        *used.entry(conn.addr().to_owned()).or_insert(0) += 1;
    }
    drop(held);
    let expected: BTreeMap<String, i32> = setup
        .replicas()
        .iter()
        .map(|r| (r.addr().to_string(), 2))
        .collect();
    assert_eq!(used, expected);

    let value = wait_until(
        "the write to reach a replica",
        Duration::from_secs(5),
        || match replicas.query::<Option<String>>(["GET", "sentinel-key"]) {
            Ok(Some(v)) => Ok(v),
            other => Err(format!("{other:?}")),
        },
    )
    .unwrap();
    assert_eq!(value, "v1");
    let err = replicas.execute(["SET", "sentinel-key", "v2"]).unwrap_err();
    assert!(matches!(err, Error::ReadOnly(_)), "{err:?}");

    let err = sentinel
        .master_for("no-such-master")
        .unwrap()
        .execute(["PING"])
        .unwrap_err();
    assert!(matches!(err, Error::MasterNotFound(_)), "{err:?}");
    assert!(err.is_connection_error(), "{err:?}");
    let err = sentinel
        .slave_for("no-such-master")
        .unwrap()
        .execute(["PING"])
        .unwrap_err();
    assert!(matches!(err, Error::SlaveNotFound(_)), "{err:?}");
    assert!(err.is_connection_error(), "{err:?}");
    assert!(err.to_string().contains("no-such-master"), "{err}");
}

#[test]
fn replica_client_falls_back_to_the_master_when_no_replica_answers() {
    // Quorum 2 with one sentinel: the killed replica is never failed over to anything.
    let mut setup = SentinelSetup::builder()
        .replicas(1)
        .sentinels(1)
        .quorum(2)
        .start();
    let sentinel = sentinel(&setup, options(Protocol::Resp2));
    let master_addr = setup.master().addr().to_string();
    let replica_addr = setup.replicas()[0].addr().to_string();
    let addr_of_new_connection = || {
        let client = sentinel.slave_for(MASTER_NAME).unwrap();
        let conn = client.get_connection().map_err(|e| e.to_string())?;
        Ok::<_, String>(conn.addr().to_owned())
    };
    wait_for_usable_replicas(&sentinel, 1);
    assert_eq!(addr_of_new_connection().unwrap(), replica_addr);

    setup.replicas_mut()[0].kill();
    // Listed but refusing connections at first, left out once flagged down: the master either way.
    for _ in 0..3 {
        assert_eq!(addr_of_new_connection().unwrap(), master_addr);
        std::thread::sleep(Duration::from_millis(700));
    }

    setup.replicas_mut()[0].restart().unwrap();
    wait_until(
        "reads to go to the replica again",
        Duration::from_secs(10),
        || match addr_of_new_connection()? {
            addr if addr == replica_addr => Ok(()),
            addr => Err(format!("connected to {addr}")),
        },
    )
    .unwrap();
}
