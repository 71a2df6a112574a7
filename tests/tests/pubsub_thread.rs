//! `run_in_thread` against real servers: 100 000 messages with none lost and order kept per
//! channel (RESP2 and RESP3), refusal without handlers, subscribing while it runs, the
//! exception handler, stop/join and handler panics.

mod pubsub_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use redis_client::pubsub::Data;
use redis_client::pubsub::PubSub;
use redis_client::{Client, Error, Protocol};
use redis_test_harness::{wait_until, Server, ServerKind};

use pubsub_support::{config, wait_subscribed, WAIT};

const CHANNELS: usize = 4;
const MESSAGES: usize = 100_000;
const BATCH: usize = 1_000;

/// Counts messages per channel and notes any that arrive out of order.
#[derive(Default)]
struct Tally {
    received: AtomicUsize,
    out_of_order: AtomicUsize,
}

fn counting_handler(
    tally: &Arc<Tally>,
) -> impl FnMut(redis_client::pubsub::Message) + Send + 'static {
    let tally = Arc::clone(tally);
    let mut expected: u64 = 0;
    move |message| {
        let n: u64 = message
            .data
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or(u64::MAX);
        if n != expected {
            tally.out_of_order.fetch_add(1, Ordering::SeqCst);
        }
        expected = n + 1;
        tally.received.fetch_add(1, Ordering::SeqCst);
    }
}

/// Publishes `MESSAGES` messages round-robin over the channels, pipelined in batches through
/// `Connection::write_command`; message `i` on a channel carries its per-channel sequence number.
fn publish_all(publisher: &Client, channels: &[String]) {
    let mut conn = publisher.get_connection().unwrap();
    let mut sent = 0;
    while sent < MESSAGES {
        let batch = BATCH.min(MESSAGES - sent);
        for i in sent..sent + batch {
            let channel = &channels[i % CHANNELS];
            conn.write_command(&("PUBLISH", channel, (i / CHANNELS) as u64))
                .unwrap();
        }
        conn.flush().unwrap();
        for _ in 0..batch {
            let receivers = conn.read_reply().unwrap();
            assert_eq!(receivers.as_int(), Some(1), "{receivers:?}");
        }
        sent += batch;
    }
}

fn hundred_thousand_messages(server: &Server, protocol: Protocol) {
    let publisher = Client::new(config(&server.url(), protocol)).unwrap();
    let pubsub = publisher.pubsub().unwrap();
    let tallies: Vec<Arc<Tally>> = (0..CHANNELS).map(|_| Arc::default()).collect();
    let channels: Vec<String> = (0..CHANNELS).map(|c| format!("bulk:{c}")).collect();
    for (channel, tally) in channels.iter().zip(&tallies) {
        pubsub
            .subscribe_with(channel, counting_handler(tally))
            .unwrap();
    }
    let worker = pubsub
        .run_in_thread(Duration::from_millis(50), None)
        .unwrap();
    let names: Vec<&str> = channels.iter().map(String::as_str).collect();
    wait_subscribed(&publisher, "NUMSUB", &names);

    let started = Instant::now();
    publish_all(&publisher, &channels);
    let published = started.elapsed();
    let total = || {
        tallies
            .iter()
            .map(|t| t.received.load(Ordering::SeqCst))
            .sum::<usize>()
    };
    wait_until(
        "every message to arrive",
        Duration::from_secs(60),
        || match total() {
            MESSAGES => Ok(()),
            n => Err(format!("{n} of {MESSAGES}")),
        },
    )
    .unwrap();
    let elapsed = started.elapsed();
    println!(
        "{} {protocol:?}: {MESSAGES} messages published in {published:?}, all received after {elapsed:?} ({:.0} msg/s)",
        server.server_id(),
        MESSAGES as f64 / elapsed.as_secs_f64()
    );
    for tally in &tallies {
        assert_eq!(tally.received.load(Ordering::SeqCst), MESSAGES / CHANNELS);
        assert_eq!(tally.out_of_order.load(Ordering::SeqCst), 0);
    }
    worker.stop();
    worker.join().unwrap();
    assert!(!pubsub.is_connected(), "the worker closes the pub/sub");
    assert!(pubsub.channels().is_empty());
}

#[test]
fn hundred_thousand_messages_none_lost_order_kept_resp3() {
    hundred_thousand_messages(&Server::redis(), Protocol::Resp3);
}

#[test]
fn hundred_thousand_messages_none_lost_order_kept_resp2() {
    hundred_thousand_messages(
        &Server::builder(ServerKind::Valkey).start(),
        Protocol::Resp2,
    );
}

#[test]
fn refuses_to_start_while_a_subscription_has_no_handler() {
    let server = Server::redis();
    let client = Client::new(config(&server.url(), Protocol::Resp3)).unwrap();
    type Subscribe = fn(&PubSub) -> redis_client::Result<()>;
    let cases: [(&str, Subscribe); 3] = [
        ("channel", |p| p.subscribe(["bare"])),
        ("pattern", |p| p.psubscribe(["bare*"])),
        ("shard channel", |p| p.ssubscribe(["bare"])),
    ];
    for (family, subscribe) in cases {
        let pubsub = client.pubsub().unwrap();
        pubsub.subscribe_with("fine", |_| {}).unwrap();
        subscribe(&pubsub).unwrap();
        let err = pubsub
            .run_in_thread(Duration::from_millis(10), None)
            .unwrap_err();
        assert!(matches!(err, Error::PubSub(_)), "{err:?}");
        assert!(
            err.to_string().contains(&format!("{family} \"bare")),
            "{err}"
        );
    }
}

#[test]
fn subscribing_while_the_worker_runs() {
    let server = Server::valkey();
    for protocol in [Protocol::Resp2, Protocol::Resp3] {
        let client = Client::new(config(&server.url(), protocol)).unwrap();
        let pubsub = client.pubsub().unwrap();
        let (tx, rx) = mpsc::channel();
        let first = tx.clone();
        pubsub
            .subscribe_with("first", move |m| first.send(m).unwrap())
            .unwrap();
        // A long sleep_time: the late subscribe must not wait for it.
        let worker = pubsub.run_in_thread(Duration::from_secs(2), None).unwrap();
        wait_subscribed(&client, "NUMSUB", &["first"]);
        let started = Instant::now();
        pubsub
            .psubscribe_with("late.*", move |m| tx.send(m).unwrap())
            .unwrap();
        assert!(
            started.elapsed() < Duration::from_millis(500),
            "{:?}",
            started.elapsed()
        );
        wait_until("the pattern subscription", WAIT, || {
            match client.query::<i64>(["PUBSUB", "NUMPAT"]) {
                Ok(1) => Ok(()),
                other => Err(format!("{other:?}")),
            }
        })
        .unwrap();
        client.execute(("PUBLISH", "first", "one")).unwrap();
        client.execute(("PUBLISH", "late.x", "two")).unwrap();
        let got: Vec<Data> = (0..2)
            .map(|_| rx.recv_timeout(WAIT).unwrap().data)
            .collect();
        assert_eq!(
            got,
            vec![Data::Bytes("one".into()), Data::Bytes("two".into())]
        );
        let stopping = Instant::now();
        worker.stop();
        worker.join().unwrap();
        assert!(stopping.elapsed() < Duration::from_secs(4));
    }
}

#[test]
fn exception_handler_sees_errors_and_the_worker_goes_on() {
    let server = Server::redis();
    let config = config(&server.url(), Protocol::Resp3)
        .to_builder()
        .decode_responses(true)
        .build()
        .unwrap();
    let client = Client::new(config).unwrap();

    // With a handler: the bad message is reported, the next one handled.
    let pubsub = client.pubsub().unwrap();
    let (tx, rx) = mpsc::channel();
    pubsub
        .subscribe_with("text", move |m| tx.send(m.data).unwrap())
        .unwrap();
    let errors = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&errors);
    let worker = pubsub
        .run_in_thread(
            Duration::from_millis(20),
            Some(Box::new(move |error, control| {
                assert!(control.pubsub().is_connected());
                seen.lock().unwrap().push(error.to_string());
            })),
        )
        .unwrap();
    wait_subscribed(&client, "NUMSUB", &["text"]);
    client.execute(("PUBLISH", "text", &b"\xff"[..])).unwrap();
    client.execute(("PUBLISH", "text", "fine")).unwrap();
    assert_eq!(rx.recv_timeout(WAIT).unwrap().as_str(), Some("fine"));
    let errors = errors.lock().unwrap().clone();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("not valid UTF-8"), "{errors:?}");
    assert!(worker.is_running());
    drop(worker); // stops and joins

    // Without one: the error ends the worker and join returns it.
    let pubsub = client.pubsub().unwrap();
    pubsub.subscribe_with("text", |_| {}).unwrap();
    let worker = pubsub
        .run_in_thread(Duration::from_millis(20), None)
        .unwrap();
    wait_subscribed(&client, "NUMSUB", &["text"]);
    client.execute(("PUBLISH", "text", &b"\xff"[..])).unwrap();
    let err = worker.join().unwrap_err();
    assert!(matches!(err, Error::Data(_)), "{err:?}");
    assert!(
        !pubsub.is_connected(),
        "the ended worker closed the pub/sub"
    );
}

#[test]
fn a_panicking_handler_ends_the_worker_with_an_error() {
    let server = Server::redis();
    let client = Client::new(config(&server.url(), Protocol::Resp2)).unwrap();
    let pubsub = client.pubsub().unwrap();
    pubsub
        .subscribe_with("boom", |_| panic!("handler exploded"))
        .unwrap();
    let worker = pubsub
        .run_in_thread(Duration::from_millis(20), None)
        .unwrap();
    wait_subscribed(&client, "NUMSUB", &["boom"]);
    client.execute(("PUBLISH", "boom", "x")).unwrap();
    let err = worker.join().unwrap_err();
    assert!(err.to_string().contains("handler exploded"), "{err}");
    assert!(!pubsub.is_connected());
}
