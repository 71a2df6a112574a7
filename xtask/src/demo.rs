//! `cargo xtask demo`: a guided tour of redis-client against a throwaway redis-server.
//!
//! Installs redis-server when it is missing, starts one on a free loopback port in a temp dir
//! (through the test harness, which stops it afterwards), and runs `examples/tour.rs` against it,
//! then each example in [`EXAMPLES`], then the cluster tour on a throwaway cluster.

use std::process::Command;

use redis_test_harness::{Server, ServerKind};

use crate::setup::{ensure_redis, run_checked, workspace_root};

/// The examples run after the tour, in order; each takes the server URL as its argument
/// (`async_tour` is the async client on tokio).
const EXAMPLES: &[&str] = &["pipeline", "transaction", "script", "lock", "async_tour"];

/// Runs the tour.
pub fn run(args: &[String]) -> Result<(), String> {
    if let Some(arg) = args.first() {
        return Err(format!("unknown argument `{arg}` (demo takes none)"));
    }
    ensure_redis()?;
    let server = Server::spawn(ServerKind::Redis).map_err(|e| e.to_string())?;
    println!(
        "demo: started {} on {} (data dir {}, removed afterwards)",
        server.server_id(),
        server.addr(),
        server.dir().display()
    );
    let url = format!("{}/0", server.url());
    let result = run_example("tour", &url).and_then(|()| {
        EXAMPLES.iter().try_for_each(|example| {
            println!("\ndemo: examples/{example}.rs");
            run_example(example, &url)
        })
    });
    drop(server);
    result.and_then(|()| crate::demo_cluster::run(run_example))
}

/// Runs `examples/<name>.rs` of redis-client against `url`.
fn run_example(name: &str, url: &str) -> Result<(), String> {
    let mut example = Command::new(env!("CARGO"));
    example
        .current_dir(workspace_root())
        .args([
            "run",
            "--quiet",
            "-p",
            "redis-client",
            // Every example builds with the async front end, so the async tour needs no
            // second build of the crate.
            "--features",
            "tokio",
            "--example",
            name,
            "--",
        ])
        .arg(url);
    run_checked(&mut example)
}
