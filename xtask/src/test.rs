//! `cargo xtask test`: the whole test suite on a fresh machine — install the servers, then run every test.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use crate::setup::{ensure_servers, workspace_root};

/// Installs what is missing, then runs the workspace's tests against real servers, and ends with
/// a line totalling every test binary's result: `tests: N passed, M failed`.
pub fn run(extra_args: &[String]) -> Result<(), String> {
    ensure_servers()?;
    // The harness fails (never skips) a test whose server binary is missing, so a broken install
    // shows up as red tests even when this step was bypassed.
    let mut cmd = Command::new(env!("CARGO"));
    cmd.current_dir(workspace_root())
        // Libraries, integration tests, examples (built) and doc tests; benchmarks are not tests
        // (they run under `cargo bench` / `cargo xtask bench`).
        // Every binary runs even after one fails, so a red run shows every failure (a flaky
        // test early on would otherwise hide the rest).
        .args(["test", "--workspace", "--no-fail-fast"])
        .args(extra_args)
        .stdout(Stdio::piped());
    let line = format!("{cmd:?}");
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("could not start {line}: {e}"))?;
    let stdout = child.stdout.take().expect("piped stdout");
    let mut totals = Totals::default();
    let mut out = std::io::stdout().lock();
    for text in BufReader::new(stdout).lines() {
        let text = text.map_err(|e| format!("reading the test output: {e}"))?;
        totals.add(&text);
        writeln!(out, "{text}").map_err(|e| format!("writing the test output: {e}"))?;
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for {line}: {e}"))?;
    // The last line is the plain `N passed, N failed` form that any CI reader understands.
    writeln!(
        out,
        "{} test binaries, {} tests ignored\ntests: {} passed, {} failed",
        totals.binaries, totals.ignored, totals.passed, totals.failed
    )
    .map_err(|e| format!("writing the summary: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{line} failed with {status}"))
    }
}

/// The sum of cargo's `test result:` lines.
#[derive(Debug, Default, PartialEq, Eq)]
struct Totals {
    passed: u64,
    failed: u64,
    ignored: u64,
    binaries: u64,
}

impl Totals {
    /// Adds one line of cargo's output if it is a `test result:` line.
    fn add(&mut self, line: &str) {
        let Some(rest) = line.strip_prefix("test result: ") else {
            return;
        };
        self.binaries += 1;
        let words: Vec<&str> = rest.split_whitespace().collect();
        for pair in words.windows(2) {
            let Ok(n) = pair[0].parse::<u64>() else {
                continue;
            };
            match pair[1].trim_end_matches(';') {
                "passed" => self.passed += n,
                "failed" => self.failed += n,
                "ignored" => self.ignored += n,
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Totals;

    #[test]
    fn sums_cargo_result_lines() {
        let mut totals = Totals::default();
        totals.add("test result: ok. 496 passed; 0 failed; 2 ignored; 0 measured; 0 filtered out; finished in 0.09s");
        totals.add("running 3 tests");
        totals
            .add("test result: FAILED. 1 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out");
        assert_eq!(
            totals,
            Totals {
                passed: 497,
                failed: 2,
                ignored: 2,
                binaries: 2
            }
        );
    }
}
