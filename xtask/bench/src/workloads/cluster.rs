//! The cluster workloads (`cargo xtask bench cluster`): redis-client's `ClusterClient` and
//! `ClusterPipeline` against redis-rs's sync cluster client (`redis::cluster`) on the same
//! 3-primary cluster.
//!
//! Keys are drawn from [`KEYS`] keys written before the runs, spread over every slot range, so
//! pipelines and MGET touch every primary. Both clients draw the same sequence of keys.

use std::hint::black_box;
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use redis_client::cluster::ClusterClient;
use redis_client::Commands;

use super::shared::{on_threads, THREADS};
use super::{ours, theirs, Group, Runner, Workload, VALUE};
use crate::measure::timed;
use crate::peers::Peer;

/// How many distinct keys the workloads draw from.
const KEYS: usize = 10_000;

/// The cluster's nodes, as `redis://HOST:PORT` URLs.
#[derive(Clone, Debug)]
pub struct ClusterTarget {
    /// One URL per primary (one is enough for either client to find the rest).
    pub urls: Vec<String>,
}

fn key(n: usize) -> String {
    format!("key:{n:06}")
}

/// A cheap deterministic key sequence (xorshift), the same for both clients.
struct Keys(u64);

impl Keys {
    fn new() -> Keys {
        Keys(0x9E37_79B9_7F4A_7C15)
    }

    fn next(&mut self) -> String {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        key((x % KEYS as u64) as usize)
    }
}

/// Every cluster workload.
pub fn workloads(target: &ClusterTarget, budget: Duration) -> Result<Vec<Workload>, String> {
    let client = ours_client(target)?;
    write_data(&client)?;
    let mut out = Vec::new();
    for get in [true, false] {
        let name = if get { "GET" } else { "SET" };
        out.push(Workload {
            group: Group::ClusterRoundTrip,
            name: format!("{name}, random keys"),
            budget,
            runners: vec![
                (Peer::Ours, ours_round_trip(client.clone(), get)),
                (Peer::RedisRs, redis_rs_round_trip(target, get)?),
            ],
        });
    }
    for size in [100usize, 1000] {
        for get in [false, true] {
            let name = if get { "GET" } else { "SET" };
            out.push(Workload {
                group: Group::ClusterPipeline,
                name: format!("{size} × {name}, random keys"),
                budget,
                runners: vec![
                    (Peer::Ours, ours_pipeline(client.clone(), get, size)),
                    (Peer::RedisRs, redis_rs_pipeline(target, get, size)?),
                ],
            });
        }
    }
    out.push(Workload {
        group: Group::ClusterMget,
        name: "MGET of 100 keys across slots".to_string(),
        budget,
        runners: vec![
            (Peer::Ours, ours_mget(client.clone(), 100)),
            (Peer::RedisRs, redis_rs_mget(target, 100)?),
        ],
    });
    out.push(Workload {
        group: Group::ClusterShared,
        name: format!("GET, {THREADS} threads, one client"),
        budget,
        runners: vec![
            (Peer::Ours, ours_shared(client)),
            (Peer::RedisRs, redis_rs_shared(target)?),
        ],
    });
    Ok(out)
}

fn ours_client(target: &ClusterTarget) -> Result<ClusterClient, String> {
    ClusterClient::open(target.urls.iter().map(String::as_str)).map_err(ours("ClusterClient::open"))
}

fn redis_rs_client(target: &ClusterTarget) -> Result<redis::cluster::ClusterClient, String> {
    redis::cluster::ClusterClient::new(target.urls.iter().map(String::as_str))
        .map_err(theirs("ClusterClient::new"))
}

fn redis_rs_connection(
    target: &ClusterTarget,
) -> Result<redis::cluster::ClusterConnection, String> {
    redis_rs_client(target)?
        .get_connection()
        .map_err(theirs("cluster connect"))
}

/// Writes every key once, in pipelines, so GET and MGET find values.
fn write_data(client: &ClusterClient) -> Result<(), String> {
    for chunk in (0..KEYS).collect::<Vec<_>>().chunks(1000) {
        let mut pipe = client.pipeline();
        for &n in chunk {
            pipe.set(key(n), VALUE);
        }
        let done: Vec<()> = pipe.execute_typed().map_err(ours("SET (data)"))?;
        black_box(done);
    }
    Ok(())
}

fn ours_round_trip(client: ClusterClient, get: bool) -> Runner {
    let mut keys = Keys::new();
    Box::new(move |budget| {
        timed(budget, || {
            let key = keys.next();
            if get {
                let value: Option<Bytes> = client.get(&key).map_err(ours("GET"))?;
                black_box(value);
            } else {
                client.set(&key, VALUE).map_err(ours("SET"))?;
            }
            Ok(1)
        })
    })
}

fn redis_rs_round_trip(target: &ClusterTarget, get: bool) -> Result<Runner, String> {
    let mut conn = redis_rs_connection(target)?;
    let mut keys = Keys::new();
    Ok(Box::new(move |budget| {
        timed(budget, || {
            let key = keys.next();
            if get {
                let value: Option<Vec<u8>> = redis::cmd("GET")
                    .arg(&key)
                    .query(&mut conn)
                    .map_err(theirs("GET"))?;
                black_box(value);
            } else {
                redis::cmd("SET")
                    .arg(&key)
                    .arg(VALUE)
                    .exec(&mut conn)
                    .map_err(theirs("SET"))?;
            }
            Ok(1)
        })
    }))
}

fn ours_pipeline(client: ClusterClient, get: bool, size: usize) -> Runner {
    let mut keys = Keys::new();
    Box::new(move |budget| {
        timed(budget, || {
            let mut pipe = client.pipeline();
            if get {
                for _ in 0..size {
                    pipe.get(keys.next());
                }
                let values: Vec<Option<Bytes>> =
                    pipe.execute_typed().map_err(ours("GET pipeline"))?;
                black_box(values);
            } else {
                for _ in 0..size {
                    pipe.set(keys.next(), VALUE);
                }
                let done: Vec<()> = pipe.execute_typed().map_err(ours("SET pipeline"))?;
                black_box(done);
            }
            Ok(size as u64)
        })
    })
}

fn redis_rs_pipeline(target: &ClusterTarget, get: bool, size: usize) -> Result<Runner, String> {
    let mut conn = redis_rs_connection(target)?;
    let mut keys = Keys::new();
    Ok(Box::new(move |budget| {
        timed(budget, || {
            let mut pipe = redis::cluster::cluster_pipe();
            if get {
                for _ in 0..size {
                    pipe.cmd("GET").arg(keys.next());
                }
                let values: Vec<Option<Vec<u8>>> =
                    pipe.query(&mut conn).map_err(theirs("GET pipeline"))?;
                black_box(values);
            } else {
                for _ in 0..size {
                    pipe.cmd("SET").arg(keys.next()).arg(VALUE).ignore();
                }
                pipe.exec(&mut conn).map_err(theirs("SET pipeline"))?;
            }
            Ok(size as u64)
        })
    }))
}

fn ours_mget(client: ClusterClient, size: usize) -> Runner {
    let mut keys = Keys::new();
    Box::new(move |budget| {
        timed(budget, || {
            let batch: Vec<String> = (0..size).map(|_| keys.next()).collect();
            let values: Vec<Option<Bytes>> = client.mget(&batch).map_err(ours("MGET"))?;
            check_len("MGET", values.len(), size)?;
            black_box(values);
            Ok(1)
        })
    })
}

fn redis_rs_mget(target: &ClusterTarget, size: usize) -> Result<Runner, String> {
    let mut conn = redis_rs_connection(target)?;
    let mut keys = Keys::new();
    Ok(Box::new(move |budget| {
        timed(budget, || {
            let batch: Vec<String> = (0..size).map(|_| keys.next()).collect();
            let values: Vec<Option<Vec<u8>>> = redis::cmd("MGET")
                .arg(&batch)
                .query(&mut conn)
                .map_err(theirs("MGET"))?;
            check_len("MGET", values.len(), size)?;
            black_box(values);
            Ok(1)
        })
    }))
}

fn check_len(command: &str, got: usize, want: usize) -> Result<(), String> {
    if got != want {
        return Err(format!("{command}: {got} replies for {want} keys"));
    }
    Ok(())
}

fn ours_shared(client: ClusterClient) -> Runner {
    Box::new(move |budget| {
        on_threads(budget, |thread| {
            let value: Option<Bytes> = client.get(key(thread * 97)).map_err(ours("GET"))?;
            black_box(value);
            Ok(())
        })
    })
}

/// redis-rs's sync `ClusterConnection` is not `Sync`: the threads share the client and each
/// holds a connection of its own from it (behind an uncontended lock, one per thread).
fn redis_rs_shared(target: &ClusterTarget) -> Result<Runner, String> {
    let client = redis_rs_client(target)?;
    let conns: Vec<Mutex<redis::cluster::ClusterConnection>> = (0..THREADS)
        .map(|_| {
            client
                .get_connection()
                .map(Mutex::new)
                .map_err(theirs("cluster connect"))
        })
        .collect::<Result<_, _>>()?;
    Ok(Box::new(move |budget| {
        on_threads(budget, |thread| {
            let mut conn = conns[thread]
                .lock()
                .map_err(|_| "a redis-rs connection's lock was poisoned".to_string())?;
            let value: Option<Vec<u8>> = redis::cmd("GET")
                .arg(key(thread * 97))
                .query(&mut *conn)
                .map_err(theirs("GET"))?;
            black_box(value);
            Ok(())
        })
    }))
}
