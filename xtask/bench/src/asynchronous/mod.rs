//! `cargo xtask bench async`: redis-client's `AsyncClient` against redis-rs's
//! `MultiplexedConnection` and fred's default client, on one tokio runtime, in one run.
//!
//! Workloads: sequential awaited SET/GET from one task; 100 and 1 000 tasks doing SET/GET on
//! one shared client; plain pipelines of 100 and 1 000 GETs. Each repetition runs every
//! workload once per client, clients interleaved, after a shorter warm-up; the table gives
//! medians of ops/s and of the client process's CPU per command (every thread of the process,
//! from `/proc/self/task/*/schedstat`) and of heap allocations per command (the counting
//! allocator, every thread), and is written to `bench-async.md` under `--out`.

mod peers;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cpu::ServerProcess;
use crate::measure::median;
use peers::{AsyncPeer, Handle};

/// What `bench async` is asked to do.
pub struct AsyncOptions {
    /// The server, `redis://HOST:PORT`.
    pub url: String,
    /// Repetitions after the warm-up.
    pub reps: usize,
    /// Seconds per run.
    pub secs: f64,
    /// Worker threads of the multi-thread runtime every client runs on.
    pub workers: usize,
    /// Where the report goes.
    pub out: std::path::PathBuf,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Workload {
    Sequential,
    Tasks(usize),
    Pipeline(usize),
}

impl Workload {
    const ALL: [Workload; 5] = [
        Workload::Sequential,
        Workload::Tasks(100),
        Workload::Tasks(1000),
        Workload::Pipeline(100),
        Workload::Pipeline(1000),
    ];

    fn name(self) -> String {
        match self {
            Workload::Sequential => "sequential awaited SET/GET (1 task)".into(),
            Workload::Tasks(n) => format!("{n} tasks SET/GET, one shared client"),
            Workload::Pipeline(n) => format!("pipeline of {n} GETs (1 task)"),
        }
    }

    /// The least ratio of our ops/s to redis-rs's and to fred's the issue asks for.
    fn targets(self) -> (Option<f64>, Option<f64>) {
        match self {
            Workload::Sequential => (Some(1.0), None),
            Workload::Tasks(_) => (Some(1.5), Some(1.0)),
            Workload::Pipeline(_) => (None, None),
        }
    }
}

struct Sample {
    ops: u64,
    wall: Duration,
    cpu: Duration,
    /// Heap allocations of the whole process meanwhile (every thread).
    allocs: u64,
}

/// Runs the async benchmarks and writes the report.
pub fn run(o: AsyncOptions) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(o.workers.max(1))
        .enable_all()
        .build()
        .map_err(|e| format!("starting the runtime: {e}"))?;
    let process = ServerProcess::new(std::process::id())?;
    let budget = Duration::from_secs_f64(o.secs);
    let mut handles = Vec::new();
    for peer in AsyncPeer::ALL {
        let handle = runtime.block_on(peer.connect(&o.url))?;
        handles.push((peer, handle));
    }
    runtime.block_on(prepare(&mut handles[0].1))?;
    let mut samples: Vec<Vec<Vec<Sample>>> = Workload::ALL
        .iter()
        .map(|_| AsyncPeer::ALL.iter().map(|_| Vec::new()).collect())
        .collect();
    for round in 0..=o.reps {
        let budget = if round == 0 { budget / 5 } else { budget };
        for (w, workload) in Workload::ALL.into_iter().enumerate() {
            for (p, (peer, handle)) in handles.iter().enumerate() {
                let before = process.times()?.all;
                let allocs_before = crate::alloc::allocations();
                let (ops, wall) = runtime
                    .block_on(run_one(handle.clone(), workload, budget))
                    .map_err(|e| format!("{}, {}: {e}", workload.name(), peer.label()))?;
                let cpu = process.times()?.all.saturating_sub(before);
                let allocs = crate::alloc::allocations() - allocs_before;
                if round > 0 {
                    samples[w][p].push(Sample {
                        ops,
                        wall,
                        cpu,
                        allocs,
                    });
                }
            }
        }
        eprintln!("bench async: round {round}/{} done", o.reps);
    }
    let table = report(&o, &samples);
    println!("{table}");
    std::fs::create_dir_all(&o.out).map_err(|e| format!("creating {}: {e}", o.out.display()))?;
    let path = o.out.join("bench-async.md");
    std::fs::write(&path, table).map_err(|e| format!("writing {}: {e}", path.display()))?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

const VALUE: &[u8] = b"0123456789abcdef";

fn key(i: usize) -> String {
    format!("bench:async:{i}")
}

/// The keys the pipelines read.
async fn prepare(handle: &mut Handle) -> Result<(), String> {
    for i in 0..1000 {
        handle.set(&key(i), VALUE).await?;
    }
    Ok(())
}

/// One run: operations done and the wall time they took.
async fn run_one(
    mut handle: Handle,
    workload: Workload,
    budget: Duration,
) -> Result<(u64, Duration), String> {
    let started = Instant::now();
    match workload {
        Workload::Sequential => {
            let ops = set_get_loop(&mut handle, "bench:async:seq", started + budget).await?;
            Ok((ops, started.elapsed()))
        }
        Workload::Tasks(n) => {
            let total = Arc::new(AtomicU64::new(0));
            let deadline = started + budget;
            let tasks: Vec<_> = (0..n)
                .map(|t| {
                    let (mut handle, total) = (handle.clone(), Arc::clone(&total));
                    tokio::spawn(async move {
                        let key = format!("bench:async:task:{t}");
                        let ops = set_get_loop(&mut handle, &key, deadline).await?;
                        total.fetch_add(ops, Ordering::Relaxed);
                        Ok::<(), String>(())
                    })
                })
                .collect();
            for task in tasks {
                task.await.map_err(|e| e.to_string())??;
            }
            Ok((total.load(Ordering::Relaxed), started.elapsed()))
        }
        Workload::Pipeline(n) => {
            let keys: Vec<String> = (0..n).map(key).collect();
            let mut ops = 0;
            while started.elapsed() < budget {
                let found = handle.pipeline_gets(&keys).await?;
                if found != n {
                    return Err(format!("the pipeline found {found} of {n} keys"));
                }
                ops += n as u64;
            }
            Ok((ops, started.elapsed()))
        }
    }
}

/// SET then GET of `key` until `deadline`, every value checked; returns the commands run.
async fn set_get_loop(handle: &mut Handle, key: &str, deadline: Instant) -> Result<u64, String> {
    let mut ops = 0;
    loop {
        handle.set(key, VALUE).await?;
        let got = handle.get(key).await?;
        if got.as_deref() != Some(VALUE) {
            return Err(format!("GET {key} gave {got:?}"));
        }
        ops += 2;
        if ops % 64 == 0 && Instant::now() >= deadline {
            return Ok(ops);
        }
    }
}

fn report(o: &AsyncOptions, samples: &[Vec<Vec<Sample>>]) -> String {
    let mut out = format!(
        "## Async clients (tokio multi-thread runtime, {} worker threads; {} repetitions of {} s, \
         medians)\n\n",
        o.workers, o.reps, o.secs
    );
    out.push_str(
        "| workload | redis-client ops/s | redis-rs ops/s | fred ops/s | vs redis-rs (target) | \
         vs fred (target) | client CPU ns/cmd: ours / redis-rs / fred | allocations/cmd: ours / \
         redis-rs / fred |\n",
    );
    out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (workload, per_peer) in Workload::ALL.into_iter().zip(samples) {
        let ops: Vec<f64> = per_peer
            .iter()
            .map(|s| {
                median(
                    s.iter()
                        .map(|s| s.ops as f64 / s.wall.as_secs_f64())
                        .collect(),
                )
            })
            .collect();
        let cpu: Vec<f64> = per_peer
            .iter()
            .map(|s| {
                median(
                    s.iter()
                        .map(|s| s.cpu.as_nanos() as f64 / s.ops as f64)
                        .collect(),
                )
            })
            .collect();
        let allocs: Vec<f64> = per_peer
            .iter()
            .map(|s| median(s.iter().map(|s| s.allocs as f64 / s.ops as f64).collect()))
            .collect();
        let (vs_rs, vs_fred) = workload.targets();
        let ratio = |i: usize, target: Option<f64>| {
            let r = ops[0] / ops[i];
            match target {
                Some(t) => format!("{r:.2}× ({}{t}×)", if r >= t { "≥ " } else { "MISSED ≥ " }),
                None => format!("{r:.2}×"),
            }
        };
        out.push_str(&format!(
            "| {} | {:.0} | {:.0} | {:.0} | {} | {} | {:.0} / {:.0} / {:.0} | {:.2} / {:.2} / {:.2} |\n",
            workload.name(),
            ops[0],
            ops[1],
            ops[2],
            ratio(1, vs_rs),
            ratio(2, vs_fred),
            cpu[0],
            cpu[1],
            cpu[2],
            allocs[0],
            allocs[1],
            allocs[2],
        ));
    }
    out
}
