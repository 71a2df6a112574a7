//! PubSub through failures: a server restart under run_in_thread, a cut connection under
//! get_message (resubscribed, nothing duplicated), health checks (the pong consumed in RESP2 and
//! RESP3, a stalled connection detected and replaced).

mod pubsub_support;

use std::collections::HashSet;
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use redis_client::pubsub::Data;
use redis_client::pubsub::MessageKind;
use redis_client::{Backoff, Client, Config, Error, Protocol, Retry};
use redis_test_harness::{wait_until, Proxy, Server, ServerKind};

use pubsub_support::{client_field, config, expect, recv, wait_subscribed, WAIT};

/// A pub/sub config with a fast backoff, so reconnecting is quick but not a spin.
fn fault_config(url: &str, protocol: Protocol) -> Config {
    config(url, protocol)
        .to_builder()
        .connect_timeout(Duration::from_millis(500))
        .retry(Retry::new(
            3,
            Backoff::ExponentialJitter {
                base: Duration::from_millis(20),
                cap: Duration::from_millis(200),
            },
        ))
        .build()
        .unwrap()
}

#[test]
fn server_restart_while_subscribed_resubscribes_everything() {
    for (kind, protocol) in [
        (ServerKind::Redis, Protocol::Resp3),
        (ServerKind::Valkey, Protocol::Resp2),
    ] {
        let mut server = Server::builder(kind).start();
        let pubsub = Client::new(fault_config(&server.url(), protocol))
            .unwrap()
            .pubsub()
            .unwrap();
        let (tx, rx) = mpsc::channel::<(MessageKind, String)>();
        let sender = |tx: &mpsc::Sender<(MessageKind, String)>| {
            let tx = tx.clone();
            move |m: redis_client::pubsub::Message| {
                let _ = tx.send((m.kind, m.data.as_str().unwrap_or_default().to_owned()));
            }
        };
        pubsub.subscribe_with("news", sender(&tx)).unwrap();
        pubsub.psubscribe_with("alerts.*", sender(&tx)).unwrap();
        pubsub.ssubscribe_with("shard", sender(&tx)).unwrap();
        let errors = Arc::new(Mutex::new(Vec::<String>::new()));
        let seen = Arc::clone(&errors);
        let worker = pubsub
            .run_in_thread(
                Duration::from_millis(50),
                Some(Box::new(move |e, _| {
                    seen.lock().unwrap().push(e.to_string())
                })),
            )
            .unwrap();

        // Publishes one message per subscription until each arrived; returns how long it took.
        let url = server.url();
        let deliver_all = |label: &str, limit: Duration| -> Duration {
            let started = Instant::now();
            let publisher = Client::new(config(&url, Protocol::Resp3)).unwrap();
            let mut missing: HashSet<MessageKind> = [
                MessageKind::Message,
                MessageKind::PMessage,
                MessageKind::SMessage,
            ]
            .into();
            while !missing.is_empty() {
                assert!(
                    started.elapsed() < limit,
                    "{label}: {missing:?} still missing after {limit:?}; errors {:?}",
                    errors.lock().unwrap()
                );
                // The publisher's own connection may still be the one the restart broke.
                let _ = publisher.execute(("PUBLISH", "news", label));
                let _ = publisher.execute(("PUBLISH", "alerts.fire", label));
                let _ = publisher.execute(("SPUBLISH", "shard", label));
                while let Ok((kind, data)) = rx.recv_timeout(Duration::from_millis(100)) {
                    if data == label {
                        missing.remove(&kind);
                    }
                }
            }
            started.elapsed()
        };
        deliver_all("before", WAIT);
        server.restart().unwrap();
        let after = deliver_all("after", Duration::from_secs(5));
        println!(
            "{}: messages flow again {after:?} after the restart",
            server.server_id()
        );
        worker.stop();
        worker.join().unwrap();
        let errors = errors.lock().unwrap();
        assert!(!errors.is_empty(), "the lost connection was reported");
    }
}

#[test]
fn cut_connection_under_get_message_reconnects_without_duplicates() {
    let server = Server::redis();
    for protocol in [Protocol::Resp2, Protocol::Resp3] {
        let proxy = Proxy::to(&server).unwrap();
        let pubsub = Client::new(fault_config(&proxy.url(), protocol))
            .unwrap()
            .pubsub()
            .unwrap();
        let publisher = Client::new(config(&server.url(), protocol)).unwrap();
        pubsub.subscribe(["seq"]).unwrap();
        pubsub.psubscribe(["seq*"]).unwrap();
        pubsub.set_ignore_subscribe_messages(true);
        wait_subscribed(&publisher, "NUMSUB", &["seq"]);

        let mut received: Vec<(MessageKind, u64)> = Vec::new();
        let mut next = 0u64;
        let publish = |n: &mut u64| {
            publisher.execute(("PUBLISH", "seq", *n)).unwrap();
            *n += 1;
        };
        let read_all = |received: &mut Vec<(MessageKind, u64)>| {
            while let Some(m) = pubsub.get_message(Duration::from_millis(200)).unwrap() {
                received.push((m.kind, m.data.as_str().unwrap().parse().unwrap()));
            }
        };
        for _ in 0..3 {
            publish(&mut next);
        }
        read_all(&mut received);
        proxy.cut();
        // Published while the connection is down: may be lost, never duplicated.
        for _ in 0..3 {
            publish(&mut next);
        }
        let started = Instant::now();
        loop {
            publish(&mut next);
            read_all(&mut received);
            let after_cut = received.iter().filter(|(_, n)| *n >= 6).count();
            if after_cut >= 4 {
                break;
            }
            assert!(started.elapsed() < WAIT, "{received:?}");
        }
        assert_eq!(proxy.accepted_connections(), 2, "one reconnect");
        for kind in [MessageKind::Message, MessageKind::PMessage] {
            let numbers: Vec<u64> = received
                .iter()
                .filter(|(k, _)| *k == kind)
                .map(|(_, n)| *n)
                .collect();
            assert!(
                numbers.windows(2).all(|w| w[0] < w[1]),
                "{kind}: strictly increasing, no duplicates: {numbers:?}"
            );
            assert_eq!(&numbers[..3], &[0, 1, 2]);
            assert_eq!(numbers.last(), Some(&(next - 1)));
        }
        assert_eq!(pubsub.channels(), vec![bytes::Bytes::from("seq")]);
    }
}

#[test]
fn reconnect_gives_up_under_the_policy_and_the_next_call_tries_again() {
    let server = Server::redis();
    let proxy = Proxy::to(&server).unwrap();
    let config = fault_config(&proxy.url(), Protocol::Resp3)
        .to_builder()
        .retry(Retry::new(1, Backoff::Constant(Duration::from_millis(10))))
        .build()
        .unwrap();
    let pubsub = Client::new(config).unwrap().pubsub().unwrap();
    pubsub.subscribe(["c"]).unwrap();
    recv(&pubsub);
    // Stalled: the cut is noticed, the reconnect's handshake times out.
    proxy.stall(true);
    proxy.cut();
    let err = pubsub.get_message(WAIT).unwrap_err();
    assert!(err.is_connection_error(), "{err:?}");
    proxy.stall(false);
    let publisher = Client::new(config_for(&server)).unwrap();
    expect(&pubsub, MessageKind::Subscribe, "c", Data::Count(1));
    publisher.execute(("PUBLISH", "c", "back")).unwrap();
    expect(
        &pubsub,
        MessageKind::Message,
        "c",
        pubsub_support::bytes("back"),
    );
}

#[test]
fn unsubscribing_during_an_outage_is_not_undone_by_the_reconnect() {
    let server = Server::valkey();
    for protocol in [Protocol::Resp2, Protocol::Resp3] {
        let proxy = Proxy::to(&server).unwrap();
        let pubsub = Client::new(fault_config(&proxy.url(), protocol))
            .unwrap()
            .pubsub()
            .unwrap();
        pubsub.subscribe(["gone", "kept"]).unwrap();
        recv(&pubsub);
        recv(&pubsub);
        proxy.cut();
        // The cut is not noticed yet: the UNSUBSCRIBE may even be written, but is never confirmed.
        pubsub.unsubscribe(["gone"]).unwrap();
        expect(&pubsub, MessageKind::Subscribe, "kept", Data::Count(1));
        assert_eq!(pubsub.channels(), vec![bytes::Bytes::from("kept")]);
        let publisher = Client::new(config_for(&server)).unwrap();
        publisher.execute(("PUBLISH", "gone", "no")).unwrap();
        publisher.execute(("PUBLISH", "kept", "yes")).unwrap();
        expect(
            &pubsub,
            MessageKind::Message,
            "kept",
            pubsub_support::bytes("yes"),
        );
    }
}

fn config_for(server: &Server) -> Config {
    config(&server.url(), Protocol::Resp3)
}

#[test]
fn health_check_pong_is_consumed_in_both_protocols() {
    let server = Server::valkey();
    let admin = Client::new(config_for(&server)).unwrap();
    for protocol in [Protocol::Resp2, Protocol::Resp3] {
        let name = format!("health-{protocol:?}");
        let config = config(&server.url(), protocol)
            .to_builder()
            .client_name(&name)
            .health_check_interval(Duration::from_millis(100))
            .build()
            .unwrap();
        let pubsub = Client::new(config).unwrap().pubsub().unwrap();
        let err = pubsub.check_health().unwrap_err();
        assert!(err.to_string().contains("subscribe first"), "{err}");
        pubsub.subscribe(["h"]).unwrap();
        expect(&pubsub, MessageKind::Subscribe, "h", Data::Count(1));
        assert_eq!(
            client_field(&admin, &name, "cmd").as_deref(),
            Some("subscribe")
        );
        thread::sleep(Duration::from_millis(150));
        pubsub.check_health().unwrap();
        wait_until("the health check PING", WAIT, || {
            match client_field(&admin, &name, "cmd") {
                Some(cmd) if cmd == "ping" => Ok(()),
                other => Err(format!("{other:?}")),
            }
        })
        .unwrap();
        // Its pong is consumed, not returned; reads keep checking while idle.
        assert_eq!(
            pubsub.get_message(Duration::from_millis(400)).unwrap(),
            None
        );
        admin.execute(("PUBLISH", "h", "still here")).unwrap();
        expect(
            &pubsub,
            MessageKind::Message,
            "h",
            pubsub_support::bytes("still here"),
        );
        let connections: i64 = admin
            .query::<String>(["CLIENT", "LIST"])
            .unwrap()
            .lines()
            .filter(|l| l.contains(&format!("name={name} ")))
            .count() as i64;
        assert_eq!(connections, 1, "the same connection throughout");
    }
}

#[test]
fn stalled_connection_is_detected_by_the_health_check_and_replaced() {
    let server = Server::redis();
    let proxy = Proxy::to(&server).unwrap();
    let config = fault_config(&proxy.url(), Protocol::Resp3)
        .to_builder()
        .health_check_interval(Duration::from_millis(200))
        .socket_timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let pubsub = Client::new(config).unwrap().pubsub().unwrap();
    let (tx, rx) = mpsc::channel();
    pubsub
        .subscribe_with("beat", move |m| {
            let _ = tx.send(m.data);
        })
        .unwrap();
    let errors = Arc::new(Mutex::new(Vec::<Error>::new()));
    let seen = Arc::clone(&errors);
    let worker = pubsub
        .run_in_thread(
            Duration::from_millis(50),
            Some(Box::new(move |e, _| seen.lock().unwrap().push(e))),
        )
        .unwrap();
    let publisher = Client::new(config_for(&server)).unwrap();
    wait_subscribed(&publisher, "NUMSUB", &["beat"]);
    publisher.execute(("PUBLISH", "beat", "1")).unwrap();
    assert_eq!(rx.recv_timeout(WAIT).unwrap().as_str(), Some("1"));

    proxy.stall(true);
    wait_until("the health check to give up", WAIT, || {
        let errors = errors.lock().unwrap();
        match errors.first() {
            Some(Error::Timeout { command, .. }) => {
                assert_eq!(command.as_deref(), Some("PING (health check)"));
                Ok(())
            }
            other => Err(format!("{other:?}")),
        }
    })
    .unwrap();
    proxy.stall(false);
    let started = Instant::now();
    loop {
        publisher.execute(("PUBLISH", "beat", "2")).unwrap();
        if let Ok(data) = rx.recv_timeout(Duration::from_millis(100)) {
            if data.as_str() == Some("2") {
                break;
            }
        }
        assert!(started.elapsed() < WAIT, "no message after the stall ended");
    }
    assert!(proxy.accepted_connections() >= 2);
    worker.stop();
    worker.join().unwrap();
}
