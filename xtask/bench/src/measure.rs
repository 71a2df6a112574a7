//! One run's numbers ([`Sample`]), the medians over repetitions ([`Summary`]) and the timed
//! loop that single-threaded workloads share.

use std::time::{Duration, Instant};

use crate::alloc::allocations;
use crate::cpu::thread_cpu;

/// What one run of one client on one workload measured.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    /// Operations completed (commands answered, replies parsed, commands encoded).
    pub ops: u64,
    /// Time the operations took.
    pub wall: Duration,
    /// Client CPU time spent on them (all client threads together).
    pub cpu: Duration,
    /// Heap allocations made meanwhile; `None` where they cannot be counted (another process).
    pub allocs: Option<u64>,
}

impl Sample {
    /// Operations per second of wall time.
    pub fn ops_per_sec(&self) -> f64 {
        self.ops as f64 / self.wall.as_secs_f64()
    }

    /// Client CPU nanoseconds per operation.
    pub fn cpu_ns_per_op(&self) -> f64 {
        self.cpu.as_nanos() as f64 / self.ops as f64
    }

    /// Heap allocations per operation, when counted.
    pub fn allocs_per_op(&self) -> Option<f64> {
        self.allocs.map(|a| a as f64 / self.ops as f64)
    }
}

/// Medians over the repetitions of one client on one workload.
#[derive(Clone, Debug)]
pub struct Summary {
    /// Median operations per second.
    pub ops_per_sec: f64,
    /// Median client CPU nanoseconds per operation.
    pub cpu_ns_per_op: f64,
    /// Median allocations per operation, when counted.
    pub allocs_per_op: Option<f64>,
    /// Every repetition, in order.
    pub samples: Vec<Sample>,
}

impl Summary {
    /// Medians of `samples`; `None` when there are none.
    pub fn of(samples: Vec<Sample>) -> Option<Summary> {
        if samples.is_empty() {
            return None;
        }
        let allocs: Option<Vec<f64>> = samples.iter().map(Sample::allocs_per_op).collect();
        Some(Summary {
            ops_per_sec: median(samples.iter().map(Sample::ops_per_sec).collect()),
            cpu_ns_per_op: median(samples.iter().map(Sample::cpu_ns_per_op).collect()),
            allocs_per_op: allocs.map(median),
            samples,
        })
    }
}

/// The median (the mean of the middle two for an even count); NaN for an empty list.
pub fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

/// Calls `step` until `budget` has passed (at least once); each call returns how many
/// operations it completed. CPU is the calling thread's, allocations the whole process's.
pub fn timed(
    budget: Duration,
    mut step: impl FnMut() -> Result<u64, String>,
) -> Result<Sample, String> {
    let allocs = allocations();
    let cpu = thread_cpu()?;
    let started = Instant::now();
    let mut ops = 0;
    loop {
        ops += step()?;
        if started.elapsed() >= budget {
            break;
        }
    }
    let wall = started.elapsed();
    Ok(Sample {
        ops,
        wall,
        cpu: thread_cpu()?.saturating_sub(cpu),
        allocs: Some(allocations() - allocs),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(vec![5.0, 1.0, 3.0]), 3.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(Vec::new()).is_nan());
    }

    #[test]
    fn summary_takes_each_metric_median() {
        let sample = |ops, ms, allocs| Sample {
            ops,
            wall: Duration::from_millis(ms),
            cpu: Duration::from_millis(ms / 2),
            allocs,
        };
        let s = Summary::of(vec![
            sample(100, 1000, Some(100)),
            sample(300, 1000, Some(900)),
            sample(200, 1000, Some(200)),
        ])
        .unwrap();
        assert_eq!(s.ops_per_sec, 200.0);
        assert_eq!(s.cpu_ns_per_op, 2_500_000.0);
        assert_eq!(s.allocs_per_op, Some(1.0));
        let uncounted = Summary::of(vec![sample(1, 1, None), sample(1, 1, Some(1))]).unwrap();
        assert_eq!(uncounted.allocs_per_op, None);
        assert!(Summary::of(Vec::new()).is_none());
    }

    #[test]
    fn timed_runs_at_least_once_and_counts_ops() {
        let mut calls = 0;
        let s = timed(Duration::ZERO, || {
            calls += 1;
            Ok(7)
        })
        .unwrap();
        assert_eq!((calls, s.ops), (1, 7));
        let s = timed(Duration::from_millis(20), || Ok(1)).unwrap();
        assert!(s.ops > 1 && s.wall >= Duration::from_millis(20));
    }
}
