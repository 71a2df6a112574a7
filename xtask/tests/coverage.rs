//! `cargo xtask coverage --strict` against a spawned Valkey: every command and subcommand Valkey
//! lists is generated and every argument it documents can be expressed, so strict mode passes.

use std::process::Command;

use redis_test_harness::{Server, ServerKind};

#[test]
fn valkey_has_no_gaps() {
    let valkey = Server::spawn(ServerKind::Valkey).expect("valkey starts");
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["coverage", "--strict", "--url", &valkey.url()])
        .output()
        .expect("xtask runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines.iter().any(|l| l.starts_with("valkey-9.1.2: ")),
        "{stdout}{stderr}"
    );
    let gaps: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| {
            let l = l.trim_start();
            l.starts_with("missing:") || l.starts_with("mismatch:")
        })
        .collect();
    assert!(
        gaps.is_empty(),
        "gaps in the generated surface:\n{}",
        gaps.join("\n")
    );
    let last = lines.last().expect("output");
    assert!(
        last.starts_with("total over 1 servers:") && last.ends_with("; 0 gaps"),
        "{last}"
    );
    assert!(output.status.success(), "--strict failed: {stderr}");
}
