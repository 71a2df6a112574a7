//! `cargo xtask test`: the whole test suite on a fresh machine — install the servers, then run every test.

use std::process::Command;

use crate::setup::{ensure_servers, run_checked, workspace_root};

/// Installs what is missing, then runs the workspace's tests against real servers.
pub fn run(extra_args: &[String]) -> Result<(), String> {
    ensure_servers()?;
    // The harness fails (never skips) a test whose server binary is missing, so a broken install
    // shows up as red tests even when this step was bypassed.
    let mut cmd = Command::new(env!("CARGO"));
    cmd.current_dir(workspace_root())
        // Libraries, integration tests, examples (built) and doc tests; benchmarks are not tests
        // (they run under `cargo bench` / `cargo xtask bench`).
        .args(["test", "--workspace"])
        .args(extra_args);
    run_checked(&mut cmd)
}
