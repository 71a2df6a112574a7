//! `ClusterPubSub` on real clusters of Redis and of Valkey (3 primaries, one replica each):
//! channels and patterns on one node with PUBLISH from anywhere; shard channels on their
//! slots' owners, one connection per owning primary; handlers and `run_in_thread`; shard
//! channels subscribed again after their slot migrates and after a failover.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use redis_client::cluster::{key_slot, ClusterClient, ClusterPubSub};
use redis_client::pubsub::{Message, MessageKind};
use redis_client::Commands;
use redis_test_harness::{ClusterSetup, ServerKind};

fn client(setup: &ClusterSetup) -> ClusterClient {
    ClusterClient::open(setup.urls().iter().map(String::as_str)).unwrap()
}

/// The next message of `kind`, skipping others, within 5 s.
fn next_of(pubsub: &ClusterPubSub, kind: MessageKind) -> Message {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Some(message) = pubsub.get_message(Duration::from_millis(200)).unwrap() {
            if message.kind == kind {
                return message;
            }
        }
    }
    panic!("no {kind:?} message within 5 s");
}

/// Calls `publish` until `pubsub` receives a message of `kind` carrying `payload` (within
/// 10 s). The cluster bus forwards a PUBLISH only over links that are up, and a node may still
/// be (re)opening one just after the cluster formed, so one publish may be lost; copies of an
/// earlier message are skipped by payload.
fn publish_until_received(
    pubsub: &ClusterPubSub,
    kind: MessageKind,
    payload: &str,
    mut publish: impl FnMut(),
) -> Message {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        publish();
        let wait = Instant::now() + Duration::from_millis(500);
        while Instant::now() < wait {
            if let Some(m) = pubsub.get_message(Duration::from_millis(100)).unwrap() {
                if m.kind == kind && m.payload() == Some(payload.as_bytes()) {
                    return m;
                }
            }
        }
    }
    panic!("{kind:?} {payload} never reached the subscriber");
}

/// Publishes `payload` on shard `channel` until `pubsub` receives it (a publish made while
/// the subscription moves is lost, never duplicated); returns how long that took.
fn spublish_until_received(
    cluster: &ClusterClient,
    pubsub: &ClusterPubSub,
    channel: &str,
    payload: &str,
) -> Duration {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        // SPUBLISH itself may fail while the cluster settles; the loop goes on.
        let _ = cluster.spublish(channel, payload);
        let deadline = Instant::now() + Duration::from_millis(300);
        while Instant::now() < deadline {
            match pubsub.get_message(Duration::from_millis(50)) {
                Ok(Some(m))
                    if m.kind == MessageKind::SMessage
                        && m.payload() == Some(payload.as_bytes()) =>
                {
                    return started.elapsed();
                }
                Ok(_) | Err(_) => {}
            }
        }
    }
    panic!("{channel}: {payload} never arrived");
}

fn port_of(addr: &str) -> u16 {
    addr.rsplit(':').next().unwrap().parse().unwrap()
}

fn channels_and_patterns_on_one_node(setup: &ClusterSetup) {
    let cluster = client(setup);
    let pubsub = cluster.pubsub();
    pubsub.subscribe(["news"]).unwrap();
    pubsub.psubscribe(["alerts.*"]).unwrap();
    assert_eq!(next_of(&pubsub, MessageKind::Subscribe).channel, "news");
    assert_eq!(
        next_of(&pubsub, MessageKind::PSubscribe).channel,
        "alerts.*"
    );
    // PUBLISH on a node the subscription is not on reaches it through the cluster bus.
    for node in 0..3 {
        let mut conn = setup.connect(node).unwrap();
        let payload = format!("from {node}");
        publish_until_received(&pubsub, MessageKind::Message, &payload, || {
            conn.call(&["PUBLISH", "news", &payload]).unwrap();
        });
    }
    let m = publish_until_received(&pubsub, MessageKind::PMessage, "full", || {
        cluster.publish("alerts.disk", "full").unwrap();
    });
    assert_eq!(m.channel.as_ref(), &b"alerts.disk"[..]);
    pubsub.unsubscribe(Vec::<&str>::new()).unwrap();
    pubsub.punsubscribe(Vec::<&str>::new()).unwrap();
    assert!(pubsub.channels().is_empty() && pubsub.patterns().is_empty());
    pubsub.close();
}

/// Shard channels whose slots are on three different primaries.
fn spread_channels(setup: &ClusterSetup) -> Vec<String> {
    let mut picked: Vec<(usize, String)> = Vec::new();
    for i in 0.. {
        let channel = format!("orders:{i}");
        let owner = setup.owner_of(key_slot(channel.as_bytes())).unwrap();
        if !picked.iter().any(|(o, _)| *o == owner) {
            picked.push((owner, channel));
        }
        if picked.len() == 3 {
            break;
        }
    }
    picked.into_iter().map(|(_, c)| c).collect()
}

fn shard_channels_on_their_owners(setup: &ClusterSetup) {
    let cluster = client(setup);
    let pubsub = cluster.pubsub();
    pubsub.set_ignore_subscribe_messages(true);
    let channels = spread_channels(setup);
    pubsub.ssubscribe(&channels).unwrap();
    let mut ports: Vec<u16> = channels
        .iter()
        .map(|c| port_of(&pubsub.shard_node(c).unwrap()))
        .collect();
    for (channel, port) in channels.iter().zip(&ports) {
        let owner = setup.owner_of(key_slot(channel.as_bytes())).unwrap();
        assert_eq!(*port, setup.nodes()[owner].port(), "{channel} on its owner");
    }
    ports.sort();
    ports.dedup();
    assert_eq!(ports.len(), 3, "one connection per owning primary");
    for channel in &channels {
        cluster.spublish(channel, format!("to {channel}")).unwrap();
        let m = next_of(&pubsub, MessageKind::SMessage);
        assert_eq!(m.channel, Bytes::from(channel.clone()));
        assert_eq!(m.payload(), Some(format!("to {channel}").as_bytes()));
    }
    pubsub.sunsubscribe(Vec::<&str>::new()).unwrap();
    assert!(pubsub.shard_channels().is_empty());
    pubsub.close();
}

fn handlers_and_run_in_thread(setup: &ClusterSetup) {
    let cluster = client(setup);
    let pubsub = cluster.pubsub();
    let got: Arc<Mutex<Vec<(Bytes, Bytes)>>> = Arc::default();
    let channels = spread_channels(setup);
    for channel in &channels {
        let got = Arc::clone(&got);
        pubsub
            .ssubscribe_with(channel, move |m| {
                got.lock().unwrap().push((
                    m.channel.clone(),
                    Bytes::copy_from_slice(m.payload().unwrap()),
                ))
            })
            .unwrap();
    }
    let plain = Arc::clone(&got);
    pubsub
        .subscribe_with("plain", move |m| {
            plain.lock().unwrap().push((
                m.channel.clone(),
                Bytes::copy_from_slice(m.payload().unwrap()),
            ))
        })
        .unwrap();
    let worker = pubsub
        .run_in_thread(Duration::from_millis(20), None)
        .unwrap();
    // The subscriptions are confirmed once their messages flow; publish until all arrived.
    let deadline = Instant::now() + Duration::from_secs(10);
    while got.lock().unwrap().len() < 4 && Instant::now() < deadline {
        got.lock().unwrap().clear();
        for channel in &channels {
            cluster.spublish(channel, "x").unwrap();
        }
        cluster.publish("plain", "y").unwrap();
        std::thread::sleep(Duration::from_millis(200));
    }
    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 4, "{got:?}");
    assert!(worker.is_running());
    worker.stop();
    worker.join().unwrap();

    let refused = cluster.pubsub();
    refused.ssubscribe(["no-handler"]).unwrap();
    let err = refused
        .run_in_thread(Duration::from_millis(5), None)
        .unwrap_err();
    assert!(err.to_string().contains("no handler"), "{err}");
}

fn resubscribed_after_migration(setup: &ClusterSetup) {
    let cluster = client(setup);
    let pubsub = cluster.pubsub();
    pubsub.set_ignore_subscribe_messages(true);
    let channel = "{moving}orders";
    pubsub.ssubscribe([channel]).unwrap();
    spublish_until_received(&cluster, &pubsub, channel, "before");
    let slot = key_slot(channel.as_bytes());
    let from = setup.owner_of(slot).unwrap();
    let to = (from + 1) % 3;
    setup.migrate_slot(slot, to).unwrap();
    let publisher = client(setup);
    let took = spublish_until_received(&publisher, &pubsub, channel, "after");
    eprintln!(
        "{}: shard channel flowing again {took:?} after the migration",
        setup.kind().name()
    );
    assert_eq!(
        port_of(&pubsub.shard_node(channel).unwrap()),
        setup.nodes()[to].port()
    );
    pubsub.close();
}

fn resubscribed_after_failover(setup: &ClusterSetup) {
    let cluster = client(setup);
    let pubsub = cluster.pubsub();
    pubsub.set_ignore_subscribe_messages(true);
    let channel = "{failing}orders";
    pubsub.ssubscribe([channel]).unwrap();
    spublish_until_received(&cluster, &pubsub, channel, "before");
    let owner = setup.owner_of(key_slot(channel.as_bytes())).unwrap();
    let promoted = setup.failover(owner).unwrap();
    // Published from another client, so the subscriber's own slot map learns nothing from
    // a MOVED: the move is the subscription's own doing.
    let publisher = client(setup);
    let took = spublish_until_received(&publisher, &pubsub, channel, "after");
    eprintln!(
        "{}: shard channel flowing again {took:?} after the failover",
        setup.kind().name()
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while pubsub.shard_node(channel).map(|a| port_of(&a)) != Some(setup.nodes()[promoted].port())
        && Instant::now() < deadline
    {
        let _ = pubsub.get_message(Duration::from_millis(50));
    }
    assert_eq!(
        port_of(&pubsub.shard_node(channel).unwrap()),
        setup.nodes()[promoted].port(),
        "subscribed on the new primary"
    );
    pubsub.close();
}

fn scenarios(kind: ServerKind) {
    let setup = ClusterSetup::start(kind);
    channels_and_patterns_on_one_node(&setup);
    shard_channels_on_their_owners(&setup);
    handlers_and_run_in_thread(&setup);
    resubscribed_after_migration(&setup);
    resubscribed_after_failover(&setup);
}

#[test]
fn cluster_pubsub_on_redis() {
    scenarios(ServerKind::Redis);
}

#[test]
fn cluster_pubsub_on_valkey() {
    scenarios(ServerKind::Valkey);
}
