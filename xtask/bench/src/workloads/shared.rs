//! Workload 4: 8 threads sharing one pooled client, each running GET (or INCR) in a loop —
//! redis-client's `Client` (typed `Commands` surface), pooled and multiplexed (one shared
//! connection, commands batched), against redis-rs connections in an r2d2 pool (one checkout
//! per command, as with the pooled `Client`), and `redis-benchmark -c 8`.

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Barrier;
use std::time::{Duration, Instant};

use redis_client::Commands;

use super::{ours, theirs, Group, Runner, Workload, COUNTER, KEY, VALUE};
use crate::alloc::allocations;
use crate::cpu::thread_cpu;
use crate::measure::Sample;
use crate::peers::{Peer, Target};
use crate::redis_benchmark::RedisBenchmark;

/// How many threads share the client.
pub(super) const THREADS: usize = 8;

/// The GET and INCR workloads.
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
        let name = if get { "GET" } else { "INCR" };
        let mut runners: Vec<(Peer, Runner)> = vec![
            (Peer::Ours, ours_runner(target.ours_client(THREADS)?, get)),
            (
                Peer::OursMultiplexed,
                ours_runner(target.ours_multiplexed_client(THREADS)?, get),
            ),
            (Peer::RedisRs, redis_rs_runner(target, get)?),
        ];
        if let Some(rb) = rb {
            let threads = THREADS.to_string();
            let args = ["-c", &threads, "-P", "1", "-d", "64", "-t", name];
            runners.push((
                Peer::RedisBenchmark,
                rb.runner(args.map(String::from).to_vec(), 1),
            ));
        }
        out.push(Workload {
            group: Group::Shared,
            name: name.to_string(),
            budget,
            runners,
        });
    }
    Ok(out)
}

fn ours_runner(client: redis_client::Client, get: bool) -> Runner {
    Box::new(move |budget| {
        on_threads(budget, |_| {
            if get {
                black_box(client.get(KEY).map_err(ours("GET"))?);
            } else {
                black_box(client.incr(COUNTER).map_err(ours("INCR"))?);
            }
            Ok(())
        })
    })
}

fn redis_rs_runner(target: &Target, get: bool) -> Result<Runner, String> {
    let pool = target.redis_rs_pool(THREADS as u32)?;
    Ok(Box::new(move |budget| {
        on_threads(budget, |_| {
            let mut conn = pool
                .get()
                .map_err(|e| format!("r2d2 checkout of a redis-rs connection: {e}"))?;
            if get {
                let value: Option<Vec<u8>> = redis::cmd("GET")
                    .arg(KEY)
                    .query(&mut *conn)
                    .map_err(theirs("GET"))?;
                black_box(value);
            } else {
                let n: i64 = redis::cmd("INCR")
                    .arg(COUNTER)
                    .query(&mut *conn)
                    .map_err(theirs("INCR"))?;
                black_box(n);
            }
            Ok(())
        })
    }))
}

/// Runs `op` in a loop on [`THREADS`] threads for `budget` (each call is told its thread's
/// index, `0..THREADS`); CPU is the sum of the threads' own
/// and that of any multiplexed client's reader thread.
pub(super) fn on_threads(
    budget: Duration,
    op: impl Fn(usize) -> Result<(), String> + Sync,
) -> Result<Sample, String> {
    let stop = AtomicBool::new(false);
    let start = Barrier::new(THREADS + 1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..THREADS)
            .map(|thread| {
                let op = &op;
                let (start, stop) = (&start, &stop);
                scope.spawn(move || -> Result<(u64, Duration), String> {
                    start.wait();
                    let cpu = thread_cpu()?;
                    let mut ops = 0;
                    while !stop.load(Ordering::Relaxed) {
                        op(thread)?;
                        ops += 1;
                    }
                    Ok((ops, thread_cpu()?.saturating_sub(cpu)))
                })
            })
            .collect();
        let allocs = allocations();
        let readers = reader_threads_cpu()?;
        start.wait();
        let started = Instant::now();
        std::thread::sleep(budget);
        stop.store(true, Ordering::Relaxed);
        let mut sample = Sample {
            ops: 0,
            wall: Duration::ZERO,
            cpu: Duration::ZERO,
            allocs: None,
        };
        let mut failure = None;
        for worker in workers {
            match worker.join() {
                Ok(Ok((ops, cpu))) => {
                    sample.ops += ops;
                    sample.cpu += cpu;
                }
                Ok(Err(e)) => failure = Some(e),
                Err(_) => failure = Some("a benchmark thread panicked".to_string()),
            }
        }
        sample.wall = started.elapsed();
        sample.cpu += reader_threads_cpu()?.saturating_sub(readers);
        sample.allocs = Some(allocations() - allocs);
        match failure {
            Some(e) => Err(e),
            None if sample.ops == 0 => Err("no thread completed a command".to_string()),
            None => Ok(sample),
        }
    })
}

/// CPU time of the reader threads of multiplexed clients in this process: their work is the
/// client's too, so it counts towards client CPU per operation.
fn reader_threads_cpu() -> Result<Duration, String> {
    let tasks =
        std::fs::read_dir("/proc/self/task").map_err(|e| format!("/proc/self/task: {e}"))?;
    let mut total = Duration::ZERO;
    for task in tasks.flatten() {
        let path = task.path();
        // Linux keeps 15 bytes of "redis-client-mux-reader".
        let is_reader = std::fs::read_to_string(path.join("comm"))
            .is_ok_and(|name| name.trim_end() == "redis-client-mu");
        if !is_reader {
            continue;
        }
        // The thread may end between the two reads; it then has no time left to count.
        if let Ok(text) = std::fs::read_to_string(path.join("schedstat")) {
            let nanos = text.split_whitespace().next().and_then(|f| f.parse().ok());
            total += Duration::from_nanos(nanos.unwrap_or(0));
        }
    }
    Ok(total)
}
