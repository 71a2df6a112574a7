//! `cargo xtask demo`: a guided tour of redis-client against a throwaway redis-server.
//!
//! Installs redis-server when it is missing, starts one on a free loopback port in a temp dir
//! (through the test harness, which stops it afterwards), and runs `examples/tour.rs` against it.

use std::process::Command;

use redis_test_harness::{Server, ServerKind};

use crate::setup::{ensure_redis, run_checked, workspace_root};

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
    let mut tour = Command::new(env!("CARGO"));
    tour.current_dir(workspace_root())
        .args([
            "run",
            "--quiet",
            "-p",
            "redis-client",
            "--example",
            "tour",
            "--",
        ])
        .arg(url);
    let result = run_checked(&mut tour);
    drop(server);
    result
}
