//! PubSub against real servers (redis and valkey, RESP2 and RESP3): confirmations, channels,
//! patterns, shard channels, get_message timeouts, handlers mixed with plain reads,
//! ignore_subscribe_messages, listen, ping, decode_responses and close.

mod pubsub_support;

use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use redis_client::pubsub::Data;
use redis_client::pubsub::MessageKind;
use redis_client::{Client, Error, Protocol};
use redis_test_harness::{Server, ServerKind};

use pubsub_support::{bytes, client_field, config, expect, recv, wait_subscribed, WAIT};

fn each_setup(test: impl Fn(&Server, Protocol)) {
    for kind in [ServerKind::Redis, ServerKind::Valkey] {
        let server = Server::builder(kind).start();
        for protocol in [Protocol::Resp2, Protocol::Resp3] {
            test(&server, protocol);
        }
    }
}

#[test]
fn channels_patterns_and_shard_channels_with_confirmations() {
    each_setup(|server, protocol| {
        let client = Client::new(config(&server.url(), protocol)).unwrap();
        let pubsub = client.pubsub().unwrap();
        assert!(!pubsub.is_connected(), "connects lazily");
        assert_eq!(
            client.pool_stats().unwrap().open,
            0,
            "no pooled connection used"
        );
        assert!(pubsub.get_message(Duration::ZERO).unwrap().is_none());

        pubsub.subscribe(["a", "b"]).unwrap();
        expect(&pubsub, MessageKind::Subscribe, "a", Data::Count(1));
        expect(&pubsub, MessageKind::Subscribe, "b", Data::Count(2));
        pubsub.psubscribe(["p.*"]).unwrap();
        expect(&pubsub, MessageKind::PSubscribe, "p.*", Data::Count(3));
        pubsub.ssubscribe(["s1"]).unwrap();
        expect(&pubsub, MessageKind::SSubscribe, "s1", Data::Count(1));
        assert!(pubsub.is_subscribed());

        let receivers: i64 = client.query(("PUBLISH", "a", "hello")).unwrap();
        assert_eq!(receivers, 1);
        let m = expect(&pubsub, MessageKind::Message, "a", bytes("hello"));
        assert_eq!(m.pattern, None);
        client.execute(("PUBLISH", "p.x", "to pattern")).unwrap();
        let m = expect(&pubsub, MessageKind::PMessage, "p.x", bytes("to pattern"));
        assert_eq!(m.pattern_str(), Some("p.*"));
        client
            .execute(("SPUBLISH", "s1", &b"\x00\xffbinary"[..]))
            .unwrap();
        let m = recv(&pubsub);
        assert_eq!(
            (m.kind, m.channel_str()),
            (MessageKind::SMessage, Some("s1"))
        );
        assert_eq!(m.payload(), Some(&b"\x00\xffbinary"[..]));

        let started = Instant::now();
        assert!(pubsub
            .get_message(Duration::from_millis(200))
            .unwrap()
            .is_none());
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(190) && waited < Duration::from_secs(2),
            "{waited:?}"
        );

        // A zero timeout polls: it returns what has already arrived.
        client.execute(("PUBLISH", "b", "polled")).unwrap();
        thread::sleep(Duration::from_millis(100));
        let polled = pubsub.get_message(Duration::ZERO).unwrap();
        assert_eq!(polled.map(|m| m.data), Some(bytes("polled")));
        assert!(pubsub.get_message(Duration::ZERO).unwrap().is_none());

        pubsub.unsubscribe(["a"]).unwrap();
        expect(&pubsub, MessageKind::Unsubscribe, "a", Data::Count(2));
        pubsub.unsubscribe(Vec::<&str>::new()).unwrap();
        expect(&pubsub, MessageKind::Unsubscribe, "b", Data::Count(1));
        pubsub.punsubscribe(Vec::<&str>::new()).unwrap();
        expect(&pubsub, MessageKind::PUnsubscribe, "p.*", Data::Count(0));
        assert!(pubsub.is_subscribed(), "the shard channel is left");
        assert_eq!(pubsub.shard_channels(), vec![bytes::Bytes::from("s1")]);
        pubsub.sunsubscribe(Vec::<&str>::new()).unwrap();
        expect(&pubsub, MessageKind::SUnsubscribe, "s1", Data::Count(0));
        assert!(!pubsub.is_subscribed());
        assert!(pubsub.channels().is_empty() && pubsub.patterns().is_empty());

        // Nothing subscribed: returns at the deadline, the connection stays open for reuse.
        assert!(pubsub
            .get_message(Duration::from_millis(50))
            .unwrap()
            .is_none());
        assert!(pubsub.is_connected());
        let err = pubsub.subscribe(Vec::<String>::new()).unwrap_err();
        assert!(
            err.to_string()
                .contains("SUBSCRIBE needs at least one channel"),
            "{err}"
        );
    });
}

#[test]
fn handlers_and_plain_reads_mixed_on_one_pubsub() {
    each_setup(|server, protocol| {
        let client = Client::new(config(&server.url(), protocol)).unwrap();
        let pubsub = client.pubsub().unwrap();
        let (tx, rx) = mpsc::channel();
        let (tx2, tx3) = (tx.clone(), tx.clone());
        pubsub
            .subscribe_with("handled", move |m| tx.send(m).unwrap())
            .unwrap();
        pubsub
            .psubscribe_with("hp.*", move |m| tx2.send(m).unwrap())
            .unwrap();
        pubsub
            .ssubscribe_with("hs", move |m| tx3.send(m).unwrap())
            .unwrap();
        pubsub.subscribe(["plain"]).unwrap();
        pubsub.set_ignore_subscribe_messages(true);
        assert!(pubsub.ignore_subscribe_messages());
        wait_subscribed(&client, "NUMSUB", &["handled", "plain"]);

        for i in 0..3 {
            client.execute(("PUBLISH", "handled", i)).unwrap();
            client.execute(("PUBLISH", "plain", i)).unwrap();
            client.execute(("PUBLISH", "hp.x", i)).unwrap();
            client.execute(("SPUBLISH", "hs", i)).unwrap();
        }
        // Confirmations are skipped and handled messages are not returned.
        for i in 0..3 {
            expect(
                &pubsub,
                MessageKind::Message,
                "plain",
                bytes(&i.to_string()),
            );
        }
        // What is left goes to the handlers while this waits.
        let left = pubsub.get_message(Duration::from_millis(200)).unwrap();
        assert!(left.is_none(), "only handled messages are left: {left:?}");
        let handled: Vec<(MessageKind, String, String)> = rx
            .try_iter()
            .map(|m| {
                (
                    m.kind,
                    m.channel_str().unwrap().to_owned(),
                    m.data.as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let expected: Vec<(MessageKind, String, String)> = (0..3)
            .flat_map(|i| {
                [
                    (MessageKind::Message, "handled".to_owned(), i.to_string()),
                    (MessageKind::PMessage, "hp.x".to_owned(), i.to_string()),
                    (MessageKind::SMessage, "hs".to_owned(), i.to_string()),
                ]
            })
            .collect();
        assert_eq!(handled, expected);

        // A new handler replaces the old one.
        let (tx, rx) = mpsc::channel();
        pubsub
            .subscribe_with("handled", move |m| tx.send(m).unwrap())
            .unwrap();
        client.execute(("PUBLISH", "handled", "again")).unwrap();
        assert!(pubsub
            .get_message(Duration::from_millis(300))
            .unwrap()
            .is_none());
        assert_eq!(rx.recv_timeout(WAIT).unwrap().data, bytes("again"));
    });
}

#[test]
fn listen_yields_until_nothing_is_subscribed() {
    let server = Server::redis();
    for protocol in [Protocol::Resp2, Protocol::Resp3] {
        let client = Client::new(config(&server.url(), protocol)).unwrap();
        let pubsub = Arc::new(client.pubsub().unwrap());
        pubsub.subscribe(["feed"]).unwrap();
        wait_subscribed(&client, "NUMSUB", &["feed"]);
        for i in 0..3 {
            client.execute(("PUBLISH", "feed", i)).unwrap();
        }
        // A watchdog closes the pub/sub, which ends listen(), should a message never come.
        let (done, watchdog_done) = mpsc::channel::<()>();
        let watched = Arc::clone(&pubsub);
        let watchdog = thread::spawn(move || {
            if watchdog_done.recv_timeout(WAIT * 2).is_err() {
                watched.close();
            }
        });
        let mut seen = Vec::new();
        for message in pubsub.listen() {
            let message = message.unwrap();
            seen.push((message.kind, message.data.clone()));
            if message.kind == MessageKind::Message && message.data == bytes("2") {
                pubsub.unsubscribe(["feed"]).unwrap();
            }
        }
        done.send(()).unwrap();
        watchdog.join().unwrap();
        assert_eq!(
            seen,
            vec![
                (MessageKind::Subscribe, Data::Count(1)),
                (MessageKind::Message, bytes("0")),
                (MessageKind::Message, bytes("1")),
                (MessageKind::Message, bytes("2")),
                (MessageKind::Unsubscribe, Data::Count(0)),
            ]
        );
    }
}

#[test]
fn ping_answers_with_a_pong_message() {
    each_setup(|server, protocol| {
        let client = Client::new(config(&server.url(), protocol)).unwrap();
        let pubsub = client.pubsub().unwrap();
        // Before any subscription the server answers as to any client.
        pubsub.ping("").unwrap();
        let m = recv(&pubsub);
        assert_eq!((m.kind, m.payload()), (MessageKind::Pong, Some(&b""[..])));
        pubsub.subscribe(["c"]).unwrap();
        expect(&pubsub, MessageKind::Subscribe, "c", Data::Count(1));
        // In subscribed mode RESP2 answers ["pong", message].
        pubsub.ping("hi there").unwrap();
        let m = recv(&pubsub);
        assert_eq!(
            (m.kind, m.payload(), m.channel.is_empty()),
            (MessageKind::Pong, Some(&b"hi there"[..]), true)
        );
        pubsub.ping("").unwrap();
        let m = recv(&pubsub);
        assert_eq!((m.kind, m.payload()), (MessageKind::Pong, Some(&b""[..])));
    });
}

#[test]
fn decode_responses_checks_utf8_per_message() {
    let server = Server::valkey();
    for protocol in [Protocol::Resp2, Protocol::Resp3] {
        let config = config(&server.url(), protocol)
            .to_builder()
            .decode_responses(true)
            .build()
            .unwrap();
        let client = Client::new(config).unwrap();
        let pubsub = client.pubsub().unwrap();
        pubsub.subscribe(["text"]).unwrap();
        recv(&pubsub);
        client.execute(("PUBLISH", "text", "héllo")).unwrap();
        client
            .execute(("PUBLISH", "text", &b"\xff\xfe"[..]))
            .unwrap();
        client.execute(("PUBLISH", "text", "after")).unwrap();
        let m = recv(&pubsub);
        match &m.data {
            Data::Text(text) => assert_eq!(text.as_str(), "héllo"),
            other => panic!("expected text, got {other:?}"),
        }
        let err = pubsub.get_message(WAIT).unwrap_err();
        assert!(matches!(err, Error::Data(_)), "{err:?}");
        assert!(err.to_string().contains("\"text\""), "{err}");
        let m = recv(&pubsub);
        assert_eq!(
            m.data.as_str(),
            Some("after"),
            "the connection is still fine"
        );
    }
}

#[test]
fn close_drops_the_connection_and_every_subscription() {
    let server = Server::redis();
    let config = config(&server.url(), Protocol::Resp3)
        .to_builder()
        .client_name("closing-pubsub")
        .build()
        .unwrap();
    let pubsub = Client::new(config).unwrap().pubsub().unwrap();
    // Queries go through a client without the name.
    let client = Client::new(pubsub_support::config(&server.url(), Protocol::Resp3)).unwrap();
    pubsub.subscribe(["x"]).unwrap();
    pubsub.psubscribe(["y*"]).unwrap();
    recv(&pubsub);
    assert_eq!(
        client_field(&client, "closing-pubsub", "psub").as_deref(),
        Some("1")
    );
    pubsub.close();
    assert!(!pubsub.is_connected() && !pubsub.is_subscribed());
    assert!(pubsub.channels().is_empty() && pubsub.patterns().is_empty());
    redis_test_harness::wait_until(
        "the pub/sub connection to close",
        WAIT,
        || match client_field(&client, "closing-pubsub", "id") {
            None => Ok(()),
            Some(id) => Err(format!("client {id} is still connected")),
        },
    )
    .unwrap();
    assert!(pubsub.get_message(Duration::ZERO).unwrap().is_none());
    // It can be used again.
    pubsub.subscribe(["x"]).unwrap();
    expect(&pubsub, MessageKind::Subscribe, "x", Data::Count(1));
}
