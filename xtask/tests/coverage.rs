//! `cargo xtask coverage --strict` against a spawned Valkey: every command Valkey lists is
//! generated, and the only argument gaps are the commands whose docs list no arguments although
//! their arity needs some (the generator gives those builders no arguments at all).

use std::process::Command;

use redis_test_harness::{Server, ServerKind};

#[test]
fn valkey_has_no_gaps_but_the_undocumented_arguments() {
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
    assert!(
        !lines.iter().any(|l| l.trim_start().starts_with("missing:")),
        "{stdout}"
    );
    let mismatches: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.trim_start().starts_with("mismatch:"))
        .collect();
    for line in &mismatches {
        assert!(
            line.contains("(arguments): the server's arity")
                && line.contains("which it does not document"),
            "an argument gap in the generated surface: {line}"
        );
    }
    let last = lines.last().expect("output");
    assert!(
        last.starts_with("total over 1 servers:")
            && last.ends_with(&format!("; {} gaps", mismatches.len())),
        "{last}"
    );
    assert_eq!(output.status.success(), mismatches.is_empty(), "{stderr}");
}
