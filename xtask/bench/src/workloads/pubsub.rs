//! Workload 5: pub/sub receive throughput — how fast a subscriber takes in messages that are
//! already on their way. redis-benchmark has no subscriber, so only redis-rs is compared.
//!
//! Each round first publishes a burst of messages (untimed, pipelined `PUBLISH` from a separate
//! connection) while the subscriber does not read, so they queue in its socket and in the
//! server's output buffer; then the subscriber drains the burst, and only that is timed. The
//! server's pub/sub output-buffer limit is lifted for this, or it would drop the subscriber.

use std::time::{Duration, Instant};

use redis_client::Value;

use super::{ours, theirs, Group, Runner, Workload, VALUE};
use crate::alloc::allocations;
use crate::cpu::thread_cpu;
use crate::measure::Sample;
use crate::peers::{Peer, Target};
use crate::redis_benchmark::RedisBenchmark;

/// Messages per burst (about 2 MB on the wire with 64-byte payloads).
const BURST: usize = 20_000;
/// `PUBLISH` commands per pipelined batch of the publisher.
const PUBLISH_BATCH: usize = 1000;

/// The receive workload.
pub fn workloads(
    target: &Target,
    _rb: Option<&RedisBenchmark>,
    budget: Duration,
) -> Result<Vec<Workload>, String> {
    let mut conn = target.ours_connection()?;
    conn.query::<()>((
        "CONFIG",
        "SET",
        "client-output-buffer-limit",
        "pubsub 0 0 0",
    ))
    .map_err(ours("CONFIG SET client-output-buffer-limit"))?;
    Ok(vec![Workload {
        group: Group::PubSub,
        name: "receive 64-byte messages".to_string(),
        budget,
        runners: vec![
            (Peer::Ours, ours_runner(target, "bench:pubsub:ours")?),
            (
                Peer::RedisRs,
                redis_rs_runner(target, "bench:pubsub:redis-rs")?,
            ),
        ],
    }])
}

/// Publishes a burst on `channel`, checking that each message reached one subscriber.
fn publish_burst(publisher: &mut redis_client::Connection, channel: &str) -> Result<(), String> {
    for _ in 0..BURST / PUBLISH_BATCH {
        for _ in 0..PUBLISH_BATCH {
            publisher
                .write_command(&("PUBLISH", channel, VALUE))
                .map_err(ours("PUBLISH"))?;
        }
        publisher.flush().map_err(ours("PUBLISH"))?;
        for _ in 0..PUBLISH_BATCH {
            match publisher.read_reply().map_err(ours("PUBLISH reply"))? {
                Value::Integer(1) => {}
                other => {
                    return Err(format!(
                        "PUBLISH {channel}: expected 1 receiver, got {other}"
                    ))
                }
            }
        }
    }
    Ok(())
}

/// Runs publish-then-drain rounds for `budget` of drain time (or until the untimed publishing
/// has stretched the run as far as parse runs may be); `drain` receives one burst.
fn rounds(
    budget: Duration,
    publisher: &mut redis_client::Connection,
    channel: &str,
    mut drain: impl FnMut() -> Result<(), String>,
) -> Result<Sample, String> {
    let mut sample = Sample {
        ops: 0,
        wall: Duration::ZERO,
        cpu: Duration::ZERO,
        allocs: Some(0),
    };
    let mut allocs = 0;
    let started = Instant::now();
    while sample.ops == 0
        || (sample.wall < budget && started.elapsed() < budget * super::parse::UNTIMED_STRETCH)
    {
        publish_burst(publisher, channel)?;
        let (cpu, before) = (thread_cpu()?, allocations());
        let started = Instant::now();
        drain()?;
        sample.wall += started.elapsed();
        allocs += allocations() - before;
        sample.cpu += thread_cpu()?.saturating_sub(cpu);
        sample.ops += BURST as u64;
    }
    sample.allocs = Some(allocs);
    Ok(sample)
}

fn check_payload(client: &str, payload: Option<&[u8]>) -> Result<(), String> {
    match payload {
        Some(p) if p.len() == VALUE.len() => Ok(()),
        other => Err(format!(
            "{client}: expected a {}-byte message, got {other:?}",
            VALUE.len()
        )),
    }
}

fn ours_runner(target: &Target, channel: &'static str) -> Result<Runner, String> {
    let mut publisher = target.ours_connection()?;
    let pubsub = target.ours_client(1)?.pubsub().map_err(ours("pubsub"))?;
    pubsub.set_ignore_subscribe_messages(true);
    pubsub.subscribe([channel]).map_err(ours("SUBSCRIBE"))?;
    Ok(Box::new(move |budget| {
        rounds(budget, &mut publisher, channel, || {
            let mut messages = pubsub.listen();
            for _ in 0..BURST {
                let message = messages
                    .next()
                    .ok_or("redis-client pubsub: subscription ended")?
                    .map_err(ours("pubsub message"))?;
                check_payload("redis-client", message.payload())?;
            }
            Ok(())
        })
    }))
}

fn redis_rs_runner(target: &Target, channel: &'static str) -> Result<Runner, String> {
    let mut publisher = target.ours_connection()?;
    let mut conn = target.redis_rs_connection()?;
    Ok(Box::new(move |budget| {
        // redis-rs's `PubSub` borrows the connection and unsubscribes when dropped, so each run
        // subscribes anew (untimed, before the first burst).
        let mut pubsub = conn.as_pubsub();
        pubsub.subscribe(channel).map_err(theirs("SUBSCRIBE"))?;
        rounds(budget, &mut publisher, channel, || {
            for _ in 0..BURST {
                let message = pubsub.get_message().map_err(theirs("pubsub message"))?;
                check_payload("redis-rs", Some(message.get_payload_bytes()))?;
            }
            Ok(())
        })
    }))
}
