//! `cargo xtask test`: the whole test suite on a fresh machine — install the servers, then run every test.

use std::process::Command;

use crate::setup::{ensure_servers, run_checked, workspace_root};

/// Installs what is missing, then runs the workspace's tests against real servers.
pub fn run(extra_args: &[String]) -> Result<(), String> {
    ensure_servers()?;
    // Tests fail rather than skip when a server is missing; this flag makes that explicit for the harness.
    let mut cmd = Command::new(env!("CARGO"));
    cmd.current_dir(workspace_root())
        .env("REDIS_CLIENT_REQUIRE_SERVERS", "1")
        .args(["test", "--workspace", "--all-targets"])
        .args(extra_args);
    run_checked(&mut cmd)?;
    let mut doc = Command::new(env!("CARGO"));
    doc.current_dir(workspace_root())
        .args(["test", "--workspace", "--doc"]);
    run_checked(&mut doc)
}
