//! Runs Redis's own `redis-benchmark` as a peer: one test per run, its CSV output parsed.
//!
//! Its ops/s is the rate it reports (requests over its own elapsed time, which leaves out
//! process start-up); its CPU is the child's user + system time once reaped, in 10 ms ticks,
//! so runs are sized to last about the time budget and keep that rounding small.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::cpu::children_cpu;
use crate::measure::{Runner, Sample};
use crate::peers::Target;

/// Where redis-benchmark lives and which server it hits.
#[derive(Clone, Debug)]
pub struct RedisBenchmark {
    path: PathBuf,
    target: Target,
}

/// The fewest requests a run makes, whatever the budget.
const MIN_REQUESTS: u64 = 200;
/// The most requests a run makes, whatever the rate.
const MAX_REQUESTS: u64 = 100_000_000;
/// redis-benchmark times runs in whole milliseconds; a probe shorter than this says little.
const MIN_PROBE: Duration = Duration::from_millis(50);

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
        // a probe.
        let mut rate: Option<f64> = None;
        Box::new(move |budget: Duration| {
            let rate_now = match rate {
                Some(rate) => rate,
                None => this.probe(&args, pipeline)?,
            };
            let requests = ((rate_now * budget.as_secs_f64()) as u64)
                .clamp(MIN_REQUESTS, MAX_REQUESTS)
                .next_multiple_of(pipeline);
            let sample = this.timed_run(&args, requests, pipeline)?;
            rate = Some(sample.ops_per_sec());
            Ok(sample)
        })
    }

    /// The rate of a run long enough for redis-benchmark's millisecond clock, found by
    /// growing a short run.
    fn probe(&self, args: &[String], pipeline: u64) -> Result<f64, String> {
        let mut requests = grow(MIN_REQUESTS * 5, pipeline * 20, pipeline);
        loop {
            match self.run(args, requests)? {
                Some(s) if s.wall >= MIN_PROBE || requests >= MAX_REQUESTS => {
                    return Ok(s.ops_per_sec())
                }
                _ => requests = grow(requests, requests * 4, pipeline),
            }
        }
    }

    /// A run of `requests`, made longer when it finished within redis-benchmark's millisecond.
    fn timed_run(&self, args: &[String], requests: u64, pipeline: u64) -> Result<Sample, String> {
        let mut requests = requests;
        loop {
            match self.run(args, requests)? {
                Some(sample) => return Ok(sample),
                None if requests < MAX_REQUESTS => {
                    requests = grow(requests, requests * 10, pipeline);
                }
                None => return Err(format!("{requests} requests took no measurable time")),
            }
        }
    }

    /// One run; `None` when it was too quick for redis-benchmark's millisecond clock.
    fn run(&self, args: &[String], requests: u64) -> Result<Option<Sample>, String> {
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
        Ok(rps.map(|rps| Sample {
            ops: requests,
            wall: Duration::from_secs_f64(requests as f64 / rps),
            cpu,
            allocs: None,
        }))
    }
}

/// The larger of `a` and `b`, within [`MAX_REQUESTS`], as a multiple of `pipeline`.
fn grow(a: u64, b: u64, pipeline: u64) -> u64 {
    a.max(b).min(MAX_REQUESTS).next_multiple_of(pipeline)
}

/// The `rps` column of the single result row of `redis-benchmark --csv`; `Some(None)` for
/// `inf`, which it reports for a run shorter than its millisecond clock.
fn parse_csv_rps(csv: &str) -> Option<Option<f64>> {
    let mut lines = csv.lines().map(str::trim).filter(|l| !l.is_empty());
    let header: Vec<&str> = lines.next()?.split(',').map(unquote).collect();
    let column = header.iter().position(|h| *h == "rps")?;
    let row: Vec<&str> = lines.next()?.split(',').map(unquote).collect();
    let rps: f64 = row.get(column)?.parse().ok()?;
    if rps.is_infinite() {
        return Some(None);
    }
    (rps > 0.0).then_some(Some(rps))
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
        assert_eq!(parse_csv_rps(csv), Some(Some(51546.39)));
        assert_eq!(parse_csv_rps("\"test\",\"rps\"\n"), None);
        assert_eq!(parse_csv_rps("\"test\",\"rps\"\n\"GET\",\"0.00\"\n"), None);
        let too_quick = "\"test\",\"rps\"\n\"GET\",\"inf\"\n";
        assert_eq!(parse_csv_rps(too_quick), Some(None));
    }

    #[test]
    fn request_counts_stay_multiples_of_the_pipeline_and_bounded() {
        assert_eq!(grow(1000, 20_000, 1000), 20_000);
        assert_eq!(grow(1001, 10, 100), 1100);
        assert_eq!(grow(MAX_REQUESTS, MAX_REQUESTS * 10, 1000), MAX_REQUESTS);
    }
}
