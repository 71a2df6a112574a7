//! `cargo xtask bench cluster`: redis-client's cluster client against redis-rs's on a throwaway
//! 3-primary Redis cluster (no replicas), every node pinned to the server core and the bench to
//! the client core, as for the single-server bench. The report lands in
//! `target/bench/cluster/bench.{md,json}`.

use std::process::Command;

use redis_test_harness::{ClusterSetup, ServerKind};

use super::{build, locked_version, CLIENT_CPU, SERVER_CPU};
use crate::setup::{ensure_redis, find_in_path, run_checked, workspace_root};

const USAGE: &str = "cargo xtask bench cluster [--quick] [--reps N] [--secs S] [--resp3] [FILTER…]
  runs the cluster workloads (round trips, pipelines of 100 and 1000, MGET across slots,
  8 threads sharing one client) against redis-rs's sync cluster client";

/// How many primaries the cluster has.
const PRIMARIES: usize = 3;

/// Runs the cluster benchmarks; `args` pass through to the bench binary.
pub fn run(args: &[String]) -> Result<(), String> {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return Ok(());
    }
    ensure_redis()?;
    let taskset = find_in_path("taskset")
        .ok_or("taskset (util-linux) is needed to pin the servers and the clients to cores")?;
    let root = workspace_root();
    let binary = build(&root)?;
    let cluster = ClusterSetup::builder(ServerKind::Redis)
        .primaries(PRIMARIES)
        .replicas_per_primary(0)
        .spawn()
        .map_err(|e| e.to_string())?;
    for node in cluster.nodes() {
        let pid = node
            .pid()
            .ok_or("the harness gave no process id for a cluster node")?;
        run_checked(
            Command::new(&taskset)
                .args(["-a", "-p", "-c", SERVER_CPU, &pid.to_string()])
                .stdout(std::process::Stdio::null()),
        )?;
    }
    let urls = cluster.urls();
    eprintln!(
        "bench cluster: {PRIMARIES} primaries {} pinned to CPU {SERVER_CPU}; clients on CPU {CLIENT_CPU}",
        urls.join(" ")
    );
    let mut bench = Command::new(&taskset);
    bench
        .args(["-c", CLIENT_CPU])
        .arg(&binary)
        .args(["--url", &urls[0]])
        .args(["--cluster", &urls.join(",")])
        .arg("--out")
        .arg(root.join("target").join("bench").join("cluster"))
        .args(["--redis-rs-version", &locked_version(&root, "redis")?])
        .args(args)
        .current_dir(&root);
    let result = run_checked(&mut bench);
    drop(cluster);
    result
}
