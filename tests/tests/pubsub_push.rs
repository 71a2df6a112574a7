//! Client-side-caching invalidations: in RESP3 they reach an ordinary connection as push frames,
//! which go to its push handler and never become a reply; in RESP2 they are redirected to a
//! pub/sub connection as `__redis__:invalidate` messages carrying the key list.

mod pubsub_support;

use std::sync::mpsc;
use std::time::Duration;

use redis_client::pubsub::Data;
use redis_client::pubsub::MessageKind;
use redis_client::{Client, Connection, Protocol, Value};
use redis_test_harness::Server;

use pubsub_support::{client_field, config, expect, recv, WAIT};

fn bulk(s: &str) -> Value {
    Value::Bulk(bytes::Bytes::copy_from_slice(s.as_bytes()))
}

#[test]
fn resp3_invalidation_push_goes_to_the_push_handler() {
    for server in [Server::redis(), Server::valkey()] {
        let config = config(&server.url(), Protocol::Resp3);
        let mut conn = Connection::open(&config).unwrap();
        let (tx, rx) = mpsc::channel();
        conn.set_push_handler(move |push| {
            let _ = tx.send(push);
        });
        conn.execute(["CLIENT", "TRACKING", "ON"]).unwrap();
        conn.execute(["SET", "cached", "1"]).unwrap();
        let cached: String = conn.query(["GET", "cached"]).unwrap();
        assert_eq!(cached, "1");

        let other = Client::new(config.clone()).unwrap();
        other.execute(["SET", "cached", "2"]).unwrap();
        // The invalidation was written to our socket before the SET returned, so it arrives
        // ahead of the PING's reply, which must still be the PONG.
        assert_eq!(
            conn.execute(["PING"]).unwrap(),
            Value::Simple("PONG".into())
        );
        let push = rx.recv_timeout(WAIT).unwrap();
        assert_eq!(
            push,
            Value::Push(vec![bulk("invalidate"), Value::Array(vec![bulk("cached")])]),
            "{}",
            server.server_id()
        );
        let now: String = conn.query(["GET", "cached"]).unwrap();
        assert_eq!(now, "2");
        assert!(rx.try_recv().is_err(), "one invalidation only");
    }
}

#[test]
fn resp2_invalidations_redirected_to_a_pubsub_arrive_as_messages() {
    let server = Server::redis();
    let name = "invalidation-listener";
    let pubsub_config = config(&server.url(), Protocol::Resp2)
        .to_builder()
        .client_name(name)
        .build()
        .unwrap();
    let pubsub = Client::new(pubsub_config).unwrap().pubsub().unwrap();
    pubsub.subscribe(["__redis__:invalidate"]).unwrap();
    expect(
        &pubsub,
        MessageKind::Subscribe,
        "__redis__:invalidate",
        Data::Count(1),
    );
    let config = config(&server.url(), Protocol::Resp2);
    let admin = Client::new(config.clone()).unwrap();
    let id = client_field(&admin, name, "id").expect("the pub/sub connection is listed");

    let mut tracked = Connection::open(&config).unwrap();
    tracked
        .execute(["CLIENT", "TRACKING", "ON", "REDIRECT", &id])
        .unwrap();
    tracked.execute(["SET", "k2", "a"]).unwrap();
    tracked.execute(["GET", "k2"]).unwrap();
    admin.execute(["SET", "k2", "b"]).unwrap();
    let m = recv(&pubsub);
    assert_eq!(m.kind, MessageKind::Message);
    assert_eq!(m.channel_str(), Some("__redis__:invalidate"));
    assert_eq!(m.data, Data::Value(Value::Array(vec![bulk("k2")])));
    assert!(pubsub
        .get_message(Duration::from_millis(100))
        .unwrap()
        .is_none());
}
