//! Runs Redis's own `redis-benchmark` as a peer: one test per run, its CSV output parsed.
//!
//! Its ops/s is the rate it reports (requests over its own elapsed time, which leaves out
//! process start-up); its CPU is the child's user + system time once reaped, in 10 ms ticks,
//! so runs are sized to last about the time budget and keep that rounding small.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::cpu::children_cpu;
use crate::measure::Sample;
use crate::peers::Target;
use crate::workloads::Runner;

/// Where redis-benchmark lives and which server it hits.
#[derive(Clone, Debug)]
pub struct RedisBenchmark {
    path: PathBuf,
    target: Target,
}

/// The fewest requests a run makes, whatever the budget.
const MIN_REQUESTS: u64 = 200;

impl RedisBenchmark {
    /// A runner factory for the `redis-benchmark` at `path`.
    pub fn new(path: PathBuf, target: Target) -> RedisBenchmark {
        RedisBenchmark { path, target }
    }

    /// A runner for one workload. `args` select it (`-c 1 -P 1 -t get -d 64`, or options then
    /// a custom command); `pipeline` is its `-P`, so request counts stay multiples of it.
    pub fn runner(&self, args: Vec<String>, pipeline: u64) -> Runner {
        let this = self.clone();
        // The rate of the previous run sizes the next; the first run (the warm-up) is sized by
        // a small probe.
        let mut rate: Option<f64> = None;
        Box::new(move |budget: Duration| {
            let rate_now = match rate {
                Some(rate) => rate,
                None => this
                    .run(&args, (MIN_REQUESTS * 5).next_multiple_of(pipeline))?
                    .ops_per_sec(),
            };
            let requests = ((rate_now * budget.as_secs_f64()) as u64)
                .max(MIN_REQUESTS)
                .next_multiple_of(pipeline);
            let sample = this.run(&args, requests)?;
            rate = Some(sample.ops_per_sec());
            Ok(sample)
        })
    }

    fn run(&self, args: &[String], requests: u64) -> Result<Sample, String> {
        let mut cmd = Command::new(&self.path);
        cmd.args(["-h", &self.target.host])
            .args(["-p", &self.target.port.to_string()])
            .args(["-n", &requests.to_string()])
            .arg("--csv");
        if self.target.resp3 {
            cmd.arg("-3");
        }
        // Options must precede a custom command, so the workload's own arguments go last.
        cmd.args(args);
        let shown = format!("{cmd:?}");
        let cpu = children_cpu()?;
        let output = cmd
            .output()
            .map_err(|e| format!("could not start {shown}: {e}"))?;
        let cpu = children_cpu()?.saturating_sub(cpu);
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            return Err(format!(
                "{shown} failed ({}): {}{}",
                output.status,
                stdout.trim(),
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        let rps = parse_csv_rps(&stdout)
            .ok_or_else(|| format!("{shown}: no requests-per-second in its output {stdout:?}"))?;
        Ok(Sample {
            ops: requests,
            wall: Duration::from_secs_f64(requests as f64 / rps),
            cpu,
            allocs: None,
        })
    }
}

/// The `rps` column of the single result row of `redis-benchmark --csv`.
fn parse_csv_rps(csv: &str) -> Option<f64> {
    let mut lines = csv.lines().map(str::trim).filter(|l| !l.is_empty());
    let header: Vec<&str> = lines.next()?.split(',').map(unquote).collect();
    let column = header.iter().position(|h| *h == "rps")?;
    let row: Vec<&str> = lines.next()?.split(',').map(unquote).collect();
    let rps: f64 = row.get(column)?.parse().ok()?;
    (rps > 0.0).then_some(rps)
}

fn unquote(field: &str) -> &str {
    field.trim().trim_matches('"')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rps_column() {
        let csv = "\"test\",\"rps\",\"avg_latency_ms\",\"min_latency_ms\"\n\
                   \"GET\",\"51546.39\",\"0.016\",\"0.008\"\n";
        assert_eq!(parse_csv_rps(csv), Some(51546.39));
        assert_eq!(parse_csv_rps("\"test\",\"rps\"\n"), None);
        assert_eq!(parse_csv_rps("\"test\",\"rps\"\n\"GET\",\"0.00\"\n"), None);
    }
}
