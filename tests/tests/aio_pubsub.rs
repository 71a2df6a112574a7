//! `AsyncPubSub` against real servers (Redis 7.0 and Valkey 9, RESP2 and RESP3): channels,
//! patterns and shard channels, subscriptions changed from another task while a read waits,
//! ping and health checks, resubscription after the connection is killed or stalled, reads
//! cancelled at random points.

use std::future::Future;
use std::time::{Duration, Instant};

use bytes::Bytes;
use redis_client::aio::{AsyncClient, AsyncPubSub};
use redis_client::pubsub::{Data, Message, MessageKind};
use redis_client::{AsyncConnection, Config, Error, Protocol, Retry};
use redis_test_harness::{Proxy, Server, ServerKind};

const WAIT: Duration = Duration::from_secs(5);

fn config(url: &str, protocol: Protocol) -> Config {
    Config::from_url(url)
        .unwrap()
        .to_builder()
        .protocol(protocol)
        .socket_timeout(WAIT)
        .build()
        .unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
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

fn bytes(s: &str) -> Data {
    Data::Bytes(Bytes::copy_from_slice(s.as_bytes()))
}

/// The next message, which must come within [`WAIT`].
async fn recv(pubsub: &mut AsyncPubSub) -> Message {
    match pubsub.get_message(WAIT).await {
        Ok(Some(message)) => message,
        Ok(None) => panic!("no message within {WAIT:?}"),
        Err(e) => panic!("get_message failed: {e}"),
    }
}

async fn expect(pubsub: &mut AsyncPubSub, kind: MessageKind, channel: &str, data: Data) {
    let message = recv(pubsub).await;
    assert_eq!(
        (message.kind, message.channel_str(), &message.data),
        (kind, Some(channel), &data),
        "{message:?}"
    );
}

async fn publisher(url: &str) -> AsyncConnection {
    AsyncConnection::open(&config(url, Protocol::Resp2))
        .await
        .unwrap()
}

#[test]
fn channels_patterns_and_shard_channels_with_confirmations() {
    each_setup(|url, protocol| async move {
        let server = url.as_str();
        let mut publish = publisher(server).await;
        let client = AsyncClient::new(config(server, protocol)).unwrap();
        let mut pubsub = client.pubsub();
        assert!(!pubsub.is_connected(), "connects lazily");
        assert!(
            pubsub.next_message().await.unwrap().is_none(),
            "nothing subscribed"
        );

        pubsub.subscribe(["a", "b"]).await.unwrap();
        expect(&mut pubsub, MessageKind::Subscribe, "a", Data::Count(1)).await;
        expect(&mut pubsub, MessageKind::Subscribe, "b", Data::Count(2)).await;
        pubsub.psubscribe(["p.*"]).await.unwrap();
        expect(&mut pubsub, MessageKind::PSubscribe, "p.*", Data::Count(3)).await;
        pubsub.ssubscribe(["s1"]).await.unwrap();
        expect(&mut pubsub, MessageKind::SSubscribe, "s1", Data::Count(1)).await;
        assert!(pubsub.is_subscribed());

        let receivers: i64 = publish.query(("PUBLISH", "a", "hello")).await.unwrap();
        assert_eq!(receivers, 1);
        expect(&mut pubsub, MessageKind::Message, "a", bytes("hello")).await;
        publish
            .execute(("PUBLISH", "p.x", "to pattern"))
            .await
            .unwrap();
        let m = recv(&mut pubsub).await;
        assert_eq!(
            (m.kind, m.pattern_str()),
            (MessageKind::PMessage, Some("p.*"))
        );
        assert_eq!(
            (m.channel_str(), &m.data),
            (Some("p.x"), &bytes("to pattern"))
        );
        publish
            .execute(("SPUBLISH", "s1", &b"\x00\xffbinary"[..]))
            .await
            .unwrap();
        expect(
            &mut pubsub,
            MessageKind::SMessage,
            "s1",
            Data::Bytes(Bytes::from_static(b"\x00\xffbinary")),
        )
        .await;

        pubsub.unsubscribe(["a"]).await.unwrap();
        expect(&mut pubsub, MessageKind::Unsubscribe, "a", Data::Count(2)).await;
        let mut channels = pubsub.channels();
        channels.sort();
        assert_eq!(channels, [Bytes::from("b")]);
        pubsub.unsubscribe(Vec::<&str>::new()).await.unwrap();
        pubsub.punsubscribe(Vec::<&str>::new()).await.unwrap();
        pubsub.sunsubscribe(Vec::<&str>::new()).await.unwrap();
        pubsub.set_ignore_subscribe_messages(true);
        // The stream ends once the last confirmation is read.
        assert!(pubsub.next_message().await.unwrap().is_none());
        assert!(!pubsub.is_subscribed());
        assert!(pubsub.channels().is_empty() && pubsub.patterns().is_empty());
        assert!(pubsub.shard_channels().is_empty());
        assert!(
            pubsub.subscribe(Vec::<&str>::new()).await.is_err(),
            "a subscribe needs a name"
        );
    });
}

#[test]
fn a_handle_subscribes_while_another_task_reads() {
    each_setup(|url, protocol| async move {
        let server = url.as_str();
        let mut pubsub = AsyncPubSub::new(config(server, protocol));
        pubsub.set_ignore_subscribe_messages(true);
        pubsub.subscribe(["first"]).await.unwrap();
        let handle = pubsub.handle();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let reader = tokio::spawn(async move {
            while let Some(message) = pubsub.next_message().await.unwrap() {
                if tx.send(message).is_err() {
                    break;
                }
            }
        });
        // Give the reader time to start waiting before the request comes.
        tokio::time::sleep(Duration::from_millis(50)).await;
        handle.subscribe(["late"]).unwrap();
        handle.psubscribe(["late.*"]).unwrap();
        let mut publish = publisher(server).await;
        let deadline = Instant::now() + WAIT;
        loop {
            let n: i64 = publish.query(("PUBLISH", "late.1", "x")).await.unwrap();
            if n == 1 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the handle's PSUBSCRIBE never took effect"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let m = tokio::time::timeout(WAIT, rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (m.kind, m.channel_str()),
            (MessageKind::PMessage, Some("late.1"))
        );
        let n: i64 = publish.query(("PUBLISH", "late", "y")).await.unwrap();
        assert_eq!(
            n, 1,
            "the handle's SUBSCRIBE went out before its PSUBSCRIBE"
        );
        let m = tokio::time::timeout(WAIT, rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!((m.channel_str(), &m.data), (Some("late"), &bytes("y")));
        handle.ping("hey").unwrap();
        let m = tokio::time::timeout(WAIT, rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!((m.kind, &m.data), (MessageKind::Pong, &bytes("hey")));
        // Unsubscribing from everything through the handle ends the reader's stream.
        handle.unsubscribe(Vec::<&str>::new()).unwrap();
        handle.punsubscribe(Vec::<&str>::new()).unwrap();
        tokio::time::timeout(WAIT, reader).await.unwrap().unwrap();
        assert!(
            handle.subscribe(["gone"]).is_err(),
            "the pub/sub was dropped"
        );
    });
}

async fn ping_calls(conn: &mut AsyncConnection) -> u64 {
    let info: String = conn.query(("INFO", "commandstats")).await.unwrap();
    info.lines()
        .find_map(|line| line.strip_prefix("cmdstat_ping:calls="))
        .map(|rest| rest.split(',').next().unwrap().parse().unwrap())
        .unwrap_or(0)
}

#[test]
fn ping_and_health_checks() {
    each_setup(|url, protocol| async move {
        let server = url.as_str();
        let mut pubsub = AsyncPubSub::new(config(server, protocol));
        pubsub.subscribe(["h"]).await.unwrap();
        expect(&mut pubsub, MessageKind::Subscribe, "h", Data::Count(1)).await;
        pubsub.ping("").await.unwrap();
        let m = recv(&mut pubsub).await;
        assert_eq!((m.kind, m.payload()), (MessageKind::Pong, Some(&b""[..])));
        pubsub.ping("msg").await.unwrap();
        let m = recv(&mut pubsub).await;
        assert_eq!((m.kind, &m.data), (MessageKind::Pong, &bytes("msg")));

        let mut admin = publisher(server).await;
        let checked = config(server, protocol)
            .to_builder()
            .health_check_interval(Duration::from_millis(100))
            .build()
            .unwrap();
        let mut pubsub = AsyncPubSub::new(checked);
        pubsub.set_ignore_subscribe_messages(true);
        pubsub.subscribe(["idle"]).await.unwrap();
        let before = ping_calls(&mut admin).await;
        // Idle for 0.5 s: health checks go out and their pongs are swallowed.
        let got = pubsub
            .get_message(Duration::from_millis(500))
            .await
            .unwrap();
        assert!(got.is_none(), "{got:?}");
        let pings = ping_calls(&mut admin).await - before;
        assert!(
            (2..=6).contains(&pings),
            "{pings} health-check PINGs in 0.5 s at 100 ms"
        );
        // Still subscribed and reading.
        admin.execute(("PUBLISH", "idle", "after")).await.unwrap();
        let m = recv(&mut pubsub).await;
        assert_eq!(m.data, bytes("after"));
    });
}

#[test]
fn a_killed_connection_is_reopened_and_resubscribed() {
    each_setup(|url, protocol| async move {
        let server = url.as_str();
        let mut admin = publisher(server).await;
        let mut pubsub = AsyncPubSub::new(config(server, protocol));
        pubsub.set_ignore_subscribe_messages(true);
        pubsub.subscribe(["c"]).await.unwrap();
        pubsub.psubscribe(["p*"]).await.unwrap();
        pubsub.ssubscribe(["s"]).await.unwrap();
        admin.execute(("PUBLISH", "c", "before")).await.unwrap();
        assert_eq!(recv(&mut pubsub).await.data, bytes("before"));

        let killed: i64 = admin
            .query(("CLIENT", "KILL", "TYPE", "pubsub"))
            .await
            .unwrap();
        assert_eq!(killed, 1);
        let publish = async {
            // Publish until every kind of subscription reaches the new connection.
            let deadline = Instant::now() + WAIT;
            loop {
                let c: i64 = admin.query(("PUBLISH", "c", "again")).await.unwrap();
                let p: i64 = admin.query(("PUBLISH", "px", "again")).await.unwrap();
                let s: i64 = admin.query(("SPUBLISH", "s", "again")).await.unwrap();
                if c + p + s == 3 {
                    return;
                }
                assert!(Instant::now() < deadline, "not resubscribed in time");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        let mut kinds = Vec::new();
        let read = async {
            while kinds.len() < 3 {
                let m = recv(&mut pubsub).await;
                assert_eq!(m.data, bytes("again"));
                if !kinds.contains(&m.kind) {
                    kinds.push(m.kind);
                }
            }
        };
        tokio::join!(publish, read);
        assert!(pubsub.is_connected());
    });
}

#[test]
fn reads_cancelled_at_random_points_lose_and_repeat_nothing() {
    each_setup(|url, protocol| async move {
        let server = url.as_str();
        let mut pubsub = AsyncPubSub::new(config(server, protocol));
        pubsub.set_ignore_subscribe_messages(true);
        pubsub.subscribe(["big"]).await.unwrap();
        let mut admin = publisher(server).await;
        // Wait for the subscription before publishing.
        admin.execute(("PUBLISH", "big", "start")).await.unwrap();
        assert_eq!(recv(&mut pubsub).await.data, bytes("start"));
        const COUNT: usize = 300;
        let payload = |i: usize| format!("{i:05}").repeat(4000 + i * 37 % 3000);
        let publish = tokio::spawn({
            let mut admin = admin;
            async move {
                for i in 0..COUNT {
                    if i % 10 == 0 {
                        // Paced, so that reads wait (and get cancelled) midway.
                        tokio::time::sleep(Duration::from_millis(2)).await;
                    }
                    admin.execute(("PUBLISH", "big", payload(i))).await.unwrap();
                }
            }
        });
        let mut received = 0;
        let mut cancelled = 0;
        let mut seed = 12345u64;
        while received < COUNT {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let micros = (seed >> 33) % 3000;
            match tokio::time::timeout(Duration::from_micros(micros), pubsub.next_message()).await {
                Err(_) => cancelled += 1,
                Ok(message) => {
                    let message = message.unwrap().unwrap();
                    assert_eq!(
                        message.data,
                        bytes(&payload(received)),
                        "message {received}"
                    );
                    received += 1;
                }
            }
        }
        publish.await.unwrap();
        assert!(cancelled > 10, "only {cancelled} reads were cancelled");
        eprintln!("{cancelled} reads cancelled; {COUNT} messages came whole, once, in order");
        assert!(pubsub
            .get_message(Duration::from_millis(50))
            .await
            .unwrap()
            .is_none());
    });
}

#[test]
fn a_subscribe_dropped_midway_keeps_the_state_in_step_with_the_server() {
    each_setup(|url, protocol| async move {
        let server = url.as_str();
        let mut admin = publisher(server).await;
        for connected in [false, true] {
            let mut pubsub = AsyncPubSub::new(config(server, protocol));
            pubsub.set_ignore_subscribe_messages(true);
            if connected {
                pubsub.subscribe(["warm"]).await.unwrap();
            }
            // Polled once, then dropped: connecting (or flushing) had not finished. Dropped
            // while connecting, the subscribe did not happen; dropped once the command was
            // queued, it takes effect at the next read.
            let mut subscribe = Box::pin(pubsub.subscribe(["dropped"]));
            let polled = std::future::poll_fn(|cx| {
                std::task::Poll::Ready(subscribe.as_mut().poll(cx).is_ready())
            })
            .await;
            drop(subscribe);
            if !pubsub.channels().contains(&Bytes::from("dropped")) {
                assert!(
                    !connected && !polled,
                    "only a subscribe dropped while connecting is lost"
                );
                assert!(!pubsub.is_connected());
                pubsub.subscribe(["dropped"]).await.unwrap();
            }
            // The next read sends what is buffered (or connects and subscribes afresh).
            let deadline = Instant::now() + WAIT;
            loop {
                assert!(pubsub
                    .get_message(Duration::from_millis(10))
                    .await
                    .unwrap()
                    .is_none());
                let n: i64 = admin.query(("PUBLISH", "dropped", "m")).await.unwrap();
                if n == 1 {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "the dropped subscribe never took effect"
                );
            }
            assert_eq!(recv(&mut pubsub).await.data, bytes("m"));
        }
    });
}

#[test]
fn a_stalled_connection_is_caught_by_the_health_check_and_replaced() {
    let server = Server::redis();
    let proxy = Proxy::to(&server).unwrap();
    let config = config(&proxy.url(), Protocol::Resp3)
        .to_builder()
        .health_check_interval(Duration::from_millis(200))
        .socket_timeout(Duration::from_millis(500))
        .retry(Retry::none())
        .build()
        .unwrap();
    runtime().block_on(async {
        let mut pubsub = AsyncPubSub::new(config);
        pubsub.set_ignore_subscribe_messages(true);
        pubsub.subscribe(["beat"]).await.unwrap();
        let mut publish = publisher(&server.url()).await;
        let deadline = Instant::now() + WAIT;
        while publish
            .query::<i64>(("PUBLISH", "beat", "1"))
            .await
            .unwrap()
            == 0
        {
            assert!(Instant::now() < deadline);
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(recv(&mut pubsub).await.data, bytes("1"));

        proxy.stall(true);
        let started = Instant::now();
        let e = loop {
            match pubsub.get_message(WAIT).await {
                Err(e) => break e,
                Ok(got) => assert!(got.is_none(), "{got:?}"),
            }
            assert!(started.elapsed() < WAIT * 2, "the stall was never noticed");
        };
        assert!(
            matches!(&e, Error::Timeout { command: Some(c), .. } if c == "PING (health check)"),
            "{e:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        proxy.stall(false);
        // The next read reconnects through the proxy and subscribes again.
        let deadline = Instant::now() + WAIT;
        loop {
            publish.execute(("PUBLISH", "beat", "2")).await.unwrap();
            if let Some(m) = pubsub
                .get_message(Duration::from_millis(100))
                .await
                .unwrap()
            {
                assert_eq!(m.data, bytes("2"));
                break;
            }
            assert!(
                Instant::now() < deadline,
                "no message after the stall ended"
            );
        }
        assert!(proxy.accepted_connections() >= 2);
    });
}
