//! Workload 2: pipelines of 100 and 1000 SET or GET on one connection, against
//! `redis-benchmark -c 1 -P 100` / `-P 1000`. Operations are commands, not batches.
//!
//! redis-client: its `Pipeline` (plain, not a transaction, as redis-rs's `pipe()`), typed
//! replies (`Vec<Option<Bytes>>` for GET). "redis-client (raw)" is the layer underneath —
//! `write_command` for each command, one `flush`, `read_reply` for each — to show what the
//! `Pipeline` type itself costs.

use std::hint::black_box;
use std::time::Duration;

use bytes::Bytes;
use redis_client::{Commands, FromValue, Value};

use super::{ours, theirs, Group, Runner, Workload, KEY, VALUE};
use crate::measure::timed;
use crate::peers::{Peer, Target};
use crate::redis_benchmark::RedisBenchmark;

/// The four pipeline workloads.
pub fn workloads(
    target: &Target,
    rb: Option<&RedisBenchmark>,
    budget: Duration,
) -> Result<Vec<Workload>, String> {
    let mut out = Vec::new();
    for size in [100usize, 1000] {
        for get in [false, true] {
            let name = if get { "GET" } else { "SET" };
            let mut runners: Vec<(Peer, Runner)> = vec![
                (Peer::Ours, ours_runner(target, get, size)?),
                (Peer::OursRaw, raw_runner(target, get, size)?),
                (Peer::RedisRs, redis_rs_runner(target, get, size)?),
            ];
            if let Some(rb) = rb {
                let size_arg = size.to_string();
                let args = ["-c", "1", "-P", &size_arg, "-d", "64", "-t", name];
                runners.push((
                    Peer::RedisBenchmark,
                    rb.runner(args.map(String::from).to_vec(), size as u64),
                ));
            }
            out.push(Workload {
                group: Group::Pipeline,
                name: format!("{size} × {name}"),
                budget,
                runners,
            });
        }
    }
    Ok(out)
}

fn ours_runner(target: &Target, get: bool, size: usize) -> Result<Runner, String> {
    let client = target.ours_client(1)?;
    Ok(Box::new(move |budget| {
        timed(budget, || {
            let mut pipe = client.pipeline();
            pipe.transaction(false);
            if get {
                for _ in 0..size {
                    pipe.get(KEY);
                }
                let values: Vec<Option<Bytes>> =
                    pipe.execute_typed().map_err(ours("GET pipeline"))?;
                black_box(values);
            } else {
                for _ in 0..size {
                    pipe.set(KEY, VALUE);
                }
                let done: Vec<()> = pipe.execute_typed().map_err(ours("SET pipeline"))?;
                black_box(done);
            }
            Ok(size as u64)
        })
    }))
}

fn raw_runner(target: &Target, get: bool, size: usize) -> Result<Runner, String> {
    let mut conn = target.ours_connection()?;
    Ok(Box::new(move |budget| {
        timed(budget, || {
            for _ in 0..size {
                if get {
                    conn.write_command(&("GET", KEY)).map_err(ours("GET"))?;
                } else {
                    conn.write_command(&("SET", KEY, VALUE))
                        .map_err(ours("SET"))?;
                }
            }
            conn.flush().map_err(ours("pipeline flush"))?;
            if get {
                let mut values = Vec::with_capacity(size);
                for _ in 0..size {
                    let reply = conn.read_reply().map_err(ours("GET reply"))?;
                    values.push(Option::<Bytes>::from_value(reply).map_err(ours("GET reply"))?);
                }
                black_box(values);
            } else {
                for _ in 0..size {
                    if let Value::Error(e) = conn.read_reply().map_err(ours("SET reply"))? {
                        return Err(format!(
                            "redis-client SET: error reply {}",
                            String::from_utf8_lossy(&e)
                        ));
                    }
                }
            }
            Ok(size as u64)
        })
    }))
}

fn redis_rs_runner(target: &Target, get: bool, size: usize) -> Result<Runner, String> {
    let mut conn = target.redis_rs_connection()?;
    Ok(Box::new(move |budget| {
        timed(budget, || {
            let mut pipe = redis::pipe();
            if get {
                for _ in 0..size {
                    pipe.cmd("GET").arg(KEY);
                }
                let values: Vec<Option<Vec<u8>>> =
                    pipe.query(&mut conn).map_err(theirs("GET pipeline"))?;
                black_box(values);
            } else {
                for _ in 0..size {
                    pipe.cmd("SET").arg(KEY).arg(VALUE).ignore();
                }
                pipe.exec(&mut conn).map_err(theirs("SET pipeline"))?;
            }
            Ok(size as u64)
        })
    }))
}
