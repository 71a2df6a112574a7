//! `cargo xtask bench`: redis-client side by side with redis-rs and redis-benchmark.
//!
//! Builds the `redis-client-bench` crate (`xtask/bench/`) with the optimised `bench` profile,
//! starts a throwaway redis-server through the test harness and pins it to CPU 1, then runs the
//! bench binary pinned to CPU 0 (redis-benchmark, its child, inherits that), so server and
//! clients never compete for one core. The report lands in `target/bench/bench.{md,json}`.

mod cluster;

use std::path::{Path, PathBuf};
use std::process::Command;

use redis_test_harness::{Server, ServerKind};

use crate::setup::{ensure_redis, find_in_path, run_checked, workspace_root};

/// The core the server runs on.
const SERVER_CPU: &str = "1";
/// The core the clients run on.
const CLIENT_CPU: &str = "0";

const USAGE: &str =
    "cargo xtask bench [cluster] [--quick] [--reps N] [--secs S] [--micro-secs S] [--resp3] [FILTER…]
  --quick         one short repetition: a smoke run of about a minute
  --reps N        repetitions (default 7), after one warm-up round
  --secs S        seconds per network run (default 0.7); --micro-secs: per parse/encode run (0.3)
  --resp3         every client speaks RESP3 (default RESP2, the peers' default)
  FILTER          only workloads whose `group: name` contains it (e.g. parse, pipeline, GET)
  cluster         the cluster workloads instead, on a throwaway 3-primary cluster (see
                  `cargo xtask bench cluster --help`)

cargo xtask bench async [--reps N] [--secs S] [--workers N]
  the async clients: redis-client's AsyncClient, redis-rs MultiplexedConnection, fred,
  on one tokio runtime with N worker threads (default 2)";

/// Runs the benchmarks (`cluster` first: the cluster ones); `args` pass through to the bench
/// binary.
pub fn run(args: &[String]) -> Result<(), String> {
    if let Some(("cluster", rest)) = args.split_first().map(|(a, rest)| (a.as_str(), rest)) {
        return cluster::run(rest);
    }
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return Ok(());
    }
    if let Some(bad) = args
        .iter()
        .find(|a| a.starts_with("--url") || a.starts_with("--out") || a.starts_with("--redis-"))
    {
        return Err(format!("{bad} is set by xtask itself\n\n{USAGE}"));
    }
    ensure_redis()?;
    let taskset = find_in_path("taskset")
        .ok_or("taskset (util-linux) is needed to pin the server and the clients to cores")?;
    let redis_benchmark = find_in_path("redis-benchmark")
        .ok_or("redis-benchmark is missing (apt-get install redis-tools)")?;
    let root = workspace_root();
    let binary = build(&root)?;
    let server = Server::spawn(ServerKind::Redis).map_err(|e| e.to_string())?;
    let pid = server
        .pid()
        .ok_or("the harness gave no process id for redis-server")?;
    // -a: every thread of the server (its background I/O threads too).
    run_checked(
        Command::new(&taskset)
            .args(["-a", "-p", "-c", SERVER_CPU, &pid.to_string()])
            .stdout(std::process::Stdio::null()),
    )?;
    eprintln!(
        "bench: {} on {}, pinned to CPU {SERVER_CPU}; clients on CPU {CLIENT_CPU}",
        server.server_id(),
        server.addr()
    );
    let mut bench = Command::new(&taskset);
    bench
        .args(["-c", CLIENT_CPU])
        .arg(&binary)
        .args(["--url", &server.url()])
        .arg("--redis-benchmark")
        .arg(&redis_benchmark)
        .arg("--out")
        .arg(root.join("target").join("bench"))
        .args(["--redis-rs-version", &locked_version(&root, "redis")?])
        .args(args)
        .current_dir(&root);
    let result = run_checked(&mut bench);
    drop(server);
    result
}

/// Builds the bench binary optimised and returns its path (from cargo's own report, so a
/// custom target directory works too).
fn build(root: &Path) -> Result<PathBuf, String> {
    let output = Command::new(env!("CARGO"))
        .current_dir(root)
        .args([
            "build",
            "--profile",
            "bench",
            "-p",
            "redis-client-bench",
            "--message-format=json-render-diagnostics",
        ])
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("could not run cargo build: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo build -p redis-client-bench failed with {}",
            output.status
        ));
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|msg| msg["target"]["name"] == "redis-client-bench")
        .find_map(|msg| msg["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| "cargo build reported no redis-client-bench executable".to_string())
}

/// The version of `package` that Cargo.lock pins (the first, if several).
fn locked_version(root: &Path, package: &str) -> Result<String, String> {
    let path = root.join("Cargo.lock");
    let lock =
        std::fs::read_to_string(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == format!("name = \"{package}\"") {
            if let Some(version) = lines
                .next()
                .and_then(|l| l.trim().strip_prefix("version = \""))
                .and_then(|v| v.strip_suffix('"'))
            {
                return Ok(version.to_string());
            }
        }
    }
    Err(format!("{} has no package {package}", path.display()))
}
