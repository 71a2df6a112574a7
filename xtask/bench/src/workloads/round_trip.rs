//! Workload 1: sequential GET and SET on one connection (16-byte key, 64-byte value), against
//! `redis-benchmark -c 1 -P 1`. redis-client runs the typed `Commands` surface on a `Connection`.

use std::hint::black_box;
use std::time::Duration;

use redis_client::Commands;

use super::{ours, theirs, Group, Runner, Workload, KEY, VALUE};
use crate::measure::timed;
use crate::peers::{Peer, Target};
use crate::redis_benchmark::RedisBenchmark;

/// The GET and SET workloads.
pub fn workloads(
    target: &Target,
    rb: Option<&RedisBenchmark>,
    budget: Duration,
) -> Result<Vec<Workload>, String> {
    let mut conn = target.ours_connection()?;
    conn.query::<()>(("SET", KEY, VALUE))
        .map_err(ours("SET (data for GET)"))?;
    let mut out = Vec::new();
    for get in [true, false] {
        let name = if get { "GET" } else { "SET" };
        let mut runners: Vec<(Peer, Runner)> = vec![
            (Peer::Ours, ours_runner(target, get)?),
            (Peer::RedisRs, redis_rs_runner(target, get)?),
        ];
        if let Some(rb) = rb {
            let args = ["-c", "1", "-P", "1", "-d", "64", "-t", name];
            runners.push((
                Peer::RedisBenchmark,
                rb.runner(args.map(String::from).to_vec(), 1),
            ));
        }
        out.push(Workload {
            group: Group::RoundTrip,
            name: format!("{name}, one connection"),
            budget,
            runners,
        });
    }
    Ok(out)
}

fn ours_runner(target: &Target, get: bool) -> Result<Runner, String> {
    let mut conn = target.ours_connection()?;
    Ok(Box::new(move |budget| {
        timed(budget, || {
            if get {
                black_box(conn.get(KEY).map_err(ours("GET"))?);
            } else {
                conn.set(KEY, VALUE).map_err(ours("SET"))?;
            }
            Ok(1)
        })
    }))
}

fn redis_rs_runner(target: &Target, get: bool) -> Result<Runner, String> {
    let mut conn = target.redis_rs_connection()?;
    Ok(Box::new(move |budget| {
        timed(budget, || {
            if get {
                let value: Option<Vec<u8>> = redis::cmd("GET")
                    .arg(KEY)
                    .query(&mut conn)
                    .map_err(theirs("GET"))?;
                black_box(value);
            } else {
                redis::cmd("SET")
                    .arg(KEY)
                    .arg(VALUE)
                    .exec(&mut conn)
                    .map_err(theirs("SET"))?;
            }
            Ok(1)
        })
    }))
}
