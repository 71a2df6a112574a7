//! Side-by-side benchmarks of redis-client against redis-rs and redis-benchmark.
//!
//! Normally started by `cargo xtask bench`, which builds this binary optimised, starts a
//! redis-server pinned to one core and runs this pinned to another. By hand:
//!
//! ```text
//! redis-client-bench [--url redis://127.0.0.1:PORT] [--redis-benchmark PATH] [--out DIR]
//!                    [--reps N] [--secs S] [--micro-secs S] [--quick] [--resp3]
//!                    [--redis-rs-version V] [--clients LIST] [--cluster URL,URL…] [FILTER…]
//! redis-client-bench --url URL [--reps N] [--secs S] [--workers N] async
//! ```
//!
//! `async` runs the async clients instead (see the `asynchronous` module).
//!
//! Without `--url` only the encode and parse workloads run; with `--cluster` (the nodes of a
//! cluster; `--url` names one of them, for the server facts) only the cluster workloads. FILTERs keep the workloads whose
//! `group: name` contains one of them (`parse`, `pipeline`, `GET` …); `--clients` keeps only
//! the named clients (comma-separated labels, e.g. `redis-client` to profile it alone). Each repetition runs
//! every workload once per client, clients interleaved, after one shorter warm-up round; the
//! report gives medians and is written as `bench.md` and `bench.json` under `--out`.

#![warn(missing_docs)]

mod alloc;
mod asynchronous;
mod cases;
mod cpu;
mod machine;
mod measure;
mod peers;
mod redis_benchmark;
mod report;
mod workloads;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use cpu::ServerProcess;
use measure::{measure, Measurement, Summary};
use peers::{Peer, Target};
use redis_benchmark::RedisBenchmark;
use report::{Row, Setup};
use workloads::{Context, Workload};

#[global_allocator]
static ALLOC: alloc::CountingAlloc = alloc::CountingAlloc;

/// Command-line options.
struct Options {
    url: Option<String>,
    redis_benchmark: Option<PathBuf>,
    out: PathBuf,
    reps: usize,
    secs: f64,
    micro_secs: f64,
    resp3: bool,
    redis_rs_version: String,
    filters: Vec<String>,
    clients: Option<Vec<String>>,
    /// `--cluster URL,URL,…`: run the cluster workloads against these nodes.
    cluster: Option<Vec<String>>,
    /// Worker threads of the runtime `bench async` runs on.
    workers: usize,
}

impl Options {
    fn parse(args: impl Iterator<Item = String>) -> Result<Options, String> {
        let mut o = Options {
            url: None,
            redis_benchmark: None,
            out: PathBuf::from("target/bench"),
            reps: 7,
            secs: 0.7,
            micro_secs: 0.3,
            resp3: false,
            redis_rs_version: "unknown".to_string(),
            filters: Vec::new(),
            clients: None,
            cluster: None,
            workers: 2,
        };
        let mut args = args.peekable();
        while let Some(arg) = args.next() {
            let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
            match arg.as_str() {
                "--url" => o.url = Some(value("--url")?),
                "--redis-benchmark" => o.redis_benchmark = Some(value("--redis-benchmark")?.into()),
                "--out" => o.out = value("--out")?.into(),
                "--reps" => o.reps = number(&arg, &value("--reps")?)?,
                "--secs" => o.secs = number(&arg, &value("--secs")?)?,
                "--micro-secs" => o.micro_secs = number(&arg, &value("--micro-secs")?)?,
                "--redis-rs-version" => o.redis_rs_version = value("--redis-rs-version")?,
                "--clients" => {
                    let list = value("--clients")?;
                    o.clients = Some(list.split(',').map(|c| c.trim().to_string()).collect());
                }
                "--cluster" => {
                    let list = value("--cluster")?;
                    o.cluster = Some(list.split(',').map(|u| u.trim().to_string()).collect());
                }
                "--resp3" => o.resp3 = true,
                "--workers" => o.workers = number(&arg, &value("--workers")?)?,
                "--quick" => {
                    o.reps = 1;
                    o.secs = 0.2;
                    o.micro_secs = 0.05;
                }
                flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
                filter => o.filters.push(filter.to_string()),
            }
        }
        let bad_secs = |s: f64| !s.is_finite() || s <= 0.0;
        if o.reps == 0 || bad_secs(o.secs) || bad_secs(o.micro_secs) {
            return Err("--reps, --secs and --micro-secs must be positive".to_string());
        }
        Ok(o)
    }
}

fn number<T: std::str::FromStr>(name: &str, text: &str) -> Result<T, String>
where
    T::Err: std::fmt::Display,
{
    text.parse().map_err(|e| format!("{name} {text:?}: {e}"))
}

fn main() {
    if let Err(message) = Options::parse(std::env::args().skip(1)).and_then(run) {
        eprintln!("redis-client-bench: {message}");
        std::process::exit(1);
    }
}

fn run(o: Options) -> Result<(), String> {
    if o.filters.first().is_some_and(|f| f == "async") {
        return asynchronous::run(asynchronous::AsyncOptions {
            url: o.url.ok_or("bench async needs --url")?,
            reps: o.reps,
            secs: o.secs,
            workers: o.workers,
            out: o.out,
        });
    }
    let started = Instant::now();
    let target = o
        .url
        .as_deref()
        .map(|url| Target::from_url(url, o.resp3))
        .transpose()?;
    let ctx = Context {
        redis_benchmark: match (&target, &o.redis_benchmark) {
            (Some(t), Some(path)) => Some(RedisBenchmark::new(path.clone(), t.clone())),
            _ => None,
        },
        target,
        net_budget: Duration::from_secs_f64(o.secs),
        micro_budget: Duration::from_secs_f64(o.micro_secs),
        cluster: o
            .cluster
            .clone()
            .map(|urls| workloads::cluster::ClusterTarget { urls }),
    };
    let server = ctx.target.as_ref().map(ServerFacts::find).transpose()?;
    let mut setup = setup_facts(&o, server.as_ref());
    let process = server.and_then(|s| s.process.ok());
    let mut workloads = workloads::build(&ctx, &o.filters)?;
    if let Some(clients) = &o.clients {
        for w in &mut workloads {
            w.runners
                .retain(|(peer, _)| clients.iter().any(|c| c == peer.label()));
        }
        workloads.retain(|w| !w.runners.is_empty());
    }
    if workloads.is_empty() {
        return Err(format!("no workload matches {:?}", o.filters));
    }
    let samples = measure_all(&mut workloads, o.reps, process)?;
    setup
        .facts
        .push(("load average after".into(), machine::load()));
    setup.facts.push((
        "bench time".into(),
        format!("{:.0} s", started.elapsed().as_secs_f64()),
    ));
    let rows: Vec<Row> = workloads
        .iter()
        .zip(samples)
        .map(|(w, per_client)| Row {
            group: w.group,
            name: w.name.clone(),
            results: w
                .runners
                .iter()
                .map(|(peer, _)| *peer)
                .zip(per_client)
                .filter_map(|(peer, samples)| Summary::of(samples).map(|s| (peer, s)))
                .collect(),
        })
        .collect();
    let md = report::markdown(&setup, &rows);
    println!("{md}");
    std::fs::create_dir_all(&o.out).map_err(|e| format!("creating {}: {e}", o.out.display()))?;
    let md_path = o.out.join("bench.md");
    let json_path = o.out.join("bench.json");
    let json = serde_json::to_string_pretty(&report::json(&setup, &rows))
        .map_err(|e| format!("encoding the JSON report: {e}"))?;
    std::fs::write(&md_path, md).map_err(|e| format!("writing {}: {e}", md_path.display()))?;
    std::fs::write(&json_path, json)
        .map_err(|e| format!("writing {}: {e}", json_path.display()))?;
    eprintln!("wrote {} and {}", md_path.display(), json_path.display());
    Ok(())
}

/// One warm-up round (a fifth of the budget, discarded), then `reps` rounds; within a round
/// every workload runs once per client, one after the other, so slow drifts in machine load
/// hit all clients alike. The server's CPU is read around every run of a workload that uses it.
/// Returns the measurements per workload, per client.
fn measure_all(
    workloads: &mut [Workload],
    reps: usize,
    server: Option<ServerProcess>,
) -> Result<Vec<Vec<Vec<Measurement>>>, String> {
    let mut samples: Vec<Vec<Vec<Measurement>>> = workloads
        .iter()
        .map(|w| vec![Vec::new(); w.runners.len()])
        .collect();
    for round in 0..=reps {
        let round_started = Instant::now();
        for (w, per_client) in workloads.iter_mut().zip(&mut samples) {
            let budget = if round == 0 { w.budget / 5 } else { w.budget };
            let name = w.full_name();
            let server = server.filter(|_| w.group.uses_server());
            for ((peer, runner), out) in w.runners.iter_mut().zip(per_client.iter_mut()) {
                let mut sample = measure(server, || runner(budget))
                    .map_err(|e| format!("{name}, {}: {e}", peer.label()))?;
                if *peer == Peer::RedisBenchmark {
                    // Its own clock leaves out its process start and end, when the server
                    // idles; the whole call would understate how busy the server was.
                    if let Some(server) = &mut sample.server {
                        server.elapsed = sample.sample.wall;
                    }
                }
                if round > 0 {
                    out.push(sample);
                }
            }
        }
        let what = if round == 0 {
            "warm-up".to_string()
        } else {
            format!("repetition {round}/{reps}")
        };
        eprintln!(
            "{what} done in {:.1} s (load {})",
            round_started.elapsed().as_secs_f64(),
            machine::load()
        );
    }
    Ok(samples)
}

/// What the report states about the server, and its process when its CPU can be read.
struct ServerFacts<'a> {
    target: &'a Target,
    /// Name and version, e.g. `redis 7.0.15`.
    name: String,
    pid: Option<u32>,
    /// The process, or why its CPU is not measured.
    process: Result<ServerProcess, String>,
}

impl ServerFacts<'_> {
    fn find(target: &Target) -> Result<ServerFacts<'_>, String> {
        let (name, pid) = machine::server(target)?;
        Ok(ServerFacts {
            target,
            name,
            pid,
            process: machine::server_process(target, pid),
        })
    }
}

/// The report's line on where the server's CPU comes from, or why it is missing.
fn server_cpu_fact(process: &Result<ServerProcess, String>) -> String {
    match process {
        Ok(p) => {
            let pid = p.pid();
            let threads = p
                .threads()
                .map_or_else(|e| format!("unknown ({e})"), |n| n.to_string());
            format!(
                "main thread of pid {pid} (/proc/{pid}/task/{pid}/schedstat), the thread that runs \
                 every command; bench.json also has the sum over all {threads} threads and the \
                 main thread's time waiting for a CPU"
            )
        }
        Err(why) => format!("not measured ({why})"),
    }
}

/// `server` is there when network workloads run.
fn setup_facts(o: &Options, server: Option<&ServerFacts>) -> Setup {
    let (model, cores) = machine::cpu();
    let mut facts = vec![
        (
            "machine".to_string(),
            format!("{model}, {cores} logical cores"),
        ),
        ("load average before".to_string(), machine::load()),
        (
            "client CPUs".to_string(),
            format!("{} (Cpus_allowed_list)", machine::cpus_allowed(None)),
        ),
    ];
    if let Some(server) = server {
        let cpus = server
            .pid
            .map_or("unknown".to_string(), |p| machine::cpus_allowed(Some(p)));
        let (name, host, port) = (&server.name, &server.target.host, server.target.port);
        facts.push((
            "server".to_string(),
            format!("{name} on {host}:{port}, CPUs {cpus}"),
        ));
        facts.push(("server CPU".to_string(), server_cpu_fact(&server.process)));
        facts.push((
            "protocol".to_string(),
            if o.resp3 { "RESP3" } else { "RESP2" }.to_string(),
        ));
    }
    facts.push(("redis-rs".to_string(), o.redis_rs_version.clone()));
    facts.push((
        "repetitions".to_string(),
        format!(
            "{} (+1 warm-up), {} s per network run, {} s per micro run",
            o.reps, o.secs, o.micro_secs
        ),
    ));
    Setup { facts }
}
