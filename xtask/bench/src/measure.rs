//! One run's numbers ([`Sample`] from the runner, [`Measurement`] with the server's CPU
//! beside it), the medians over repetitions ([`Summary`]) and the timed loop that
//! single-threaded workloads share.

use std::time::{Duration, Instant};

use crate::alloc::allocations;
use crate::cpu::{thread_cpu, ServerProcess, ServerTimes};

/// Runs a workload once for about the given time and reports what it measured.
///
/// A runner owns its connections, so repetitions reuse them and never time a connect.
pub type Runner = Box<dyn FnMut(Duration) -> Result<Sample, String>>;

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

/// What the server used during one runner call. The call is a little longer than the
/// sample's timed part: it includes a runner's untimed work (pubsub's publishing, which is
/// server work too; redis-benchmark's process start).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ServerUse {
    /// The server's CPU and waiting times during the call.
    pub times: ServerTimes,
    /// The call's wall time.
    pub elapsed: Duration,
}

/// One run of one client: its runner's sample and, for a network workload against a server
/// whose process can be read, what the server used meanwhile.
///
/// The server's share lives beside [`Sample`], not in it, because the runners build samples
/// and only the code calling them can read the server around the whole run.
#[derive(Clone, Copy, Debug)]
pub struct Measurement {
    /// What the runner measured.
    pub sample: Sample,
    /// The server's use, when known.
    pub server: Option<ServerUse>,
}

impl From<Sample> for Measurement {
    fn from(sample: Sample) -> Measurement {
        Measurement {
            sample,
            server: None,
        }
    }
}

impl Measurement {
    /// Nanoseconds the server's main thread spent on the CPU per operation.
    pub fn server_cpu_ns_per_op(&self) -> Option<f64> {
        self.server
            .map(|s| s.times.main.as_nanos() as f64 / self.sample.ops as f64)
    }

    /// How busy the server's main thread was: its CPU time over the call's wall time, in
    /// percent of one core.
    pub fn server_busy_percent(&self) -> Option<f64> {
        self.server
            .map(|s| s.times.main.as_secs_f64() / s.elapsed.as_secs_f64() * 100.0)
    }

    /// How long the server's main thread was ready to run but waited for a CPU that another
    /// process had, over the call's wall time, in percent.
    pub fn server_waiting_percent(&self) -> Option<f64> {
        self.server
            .map(|s| s.times.main_waiting.as_secs_f64() / s.elapsed.as_secs_f64() * 100.0)
    }
}

/// Calls `run`, reading `server`'s CPU times right before and after it.
pub fn measure(
    server: Option<ServerProcess>,
    run: impl FnOnce() -> Result<Sample, String>,
) -> Result<Measurement, String> {
    let Some(server) = server else {
        return run().map(Measurement::from);
    };
    let before = server.times()?;
    let started = Instant::now();
    let sample = run()?;
    let elapsed = started.elapsed();
    let times = server.times()?.since(before);
    Ok(Measurement {
        sample,
        server: Some(ServerUse { times, elapsed }),
    })
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
    /// Median server main-thread CPU nanoseconds per operation, when known for every run.
    pub server_cpu_ns_per_op: Option<f64>,
    /// Median server main-thread busy percentage, when known for every run.
    pub server_busy_percent: Option<f64>,
    /// Median percentage of time the server's main thread waited for a CPU, likewise.
    pub server_waiting_percent: Option<f64>,
    /// Every repetition, in order.
    pub samples: Vec<Measurement>,
}

impl Summary {
    /// Medians of `samples`; `None` when there are none.
    pub fn of(samples: Vec<Measurement>) -> Option<Summary> {
        if samples.is_empty() {
            return None;
        }
        let each = |f: fn(&Sample) -> f64| median(samples.iter().map(|m| f(&m.sample)).collect());
        let each_known = |f: fn(&Measurement) -> Option<f64>| {
            samples
                .iter()
                .map(f)
                .collect::<Option<Vec<f64>>>()
                .map(median)
        };
        Some(Summary {
            ops_per_sec: each(Sample::ops_per_sec),
            cpu_ns_per_op: each(Sample::cpu_ns_per_op),
            allocs_per_op: each_known(|m| m.sample.allocs_per_op()),
            server_cpu_ns_per_op: each_known(Measurement::server_cpu_ns_per_op),
            server_busy_percent: each_known(Measurement::server_busy_percent),
            server_waiting_percent: each_known(Measurement::server_waiting_percent),
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
            sample(100, 1000, Some(100)).into(),
            sample(300, 1000, Some(900)).into(),
            sample(200, 1000, Some(200)).into(),
        ])
        .unwrap();
        assert_eq!(s.ops_per_sec, 200.0);
        assert_eq!(s.cpu_ns_per_op, 2_500_000.0);
        assert_eq!(s.allocs_per_op, Some(1.0));
        assert_eq!(
            (s.server_cpu_ns_per_op, s.server_busy_percent),
            (None, None)
        );
        let uncounted = Summary::of(vec![
            sample(1, 1, None).into(),
            sample(1, 1, Some(1)).into(),
        ])
        .unwrap();
        assert_eq!(uncounted.allocs_per_op, None);
        assert!(Summary::of(Vec::new()).is_none());
    }

    fn with_server(ops: u64, server_ms: u64, elapsed_ms: u64) -> Measurement {
        Measurement {
            sample: Sample {
                ops,
                wall: Duration::from_millis(elapsed_ms),
                cpu: Duration::ZERO,
                allocs: None,
            },
            server: Some(ServerUse {
                times: ServerTimes {
                    main: Duration::from_millis(server_ms),
                    main_waiting: Duration::from_millis(server_ms / 10),
                    all: Duration::from_millis(server_ms * 2),
                },
                elapsed: Duration::from_millis(elapsed_ms),
            }),
        }
    }

    #[test]
    fn server_cpu_per_op_and_busy_come_from_the_main_thread() {
        // 1000 ops in 500 ms of server CPU over 1 s: 500 µs per op, half a core busy.
        let m = with_server(1000, 500, 1000);
        assert_eq!(m.server_cpu_ns_per_op(), Some(500_000.0));
        assert_eq!(m.server_busy_percent(), Some(50.0));
        assert_eq!(m.server_waiting_percent(), Some(5.0));
        let s = Summary::of(vec![
            with_server(1000, 900, 1000),
            with_server(1000, 990, 1000),
            with_server(1000, 300, 1000),
        ])
        .unwrap();
        assert_eq!(s.server_cpu_ns_per_op, Some(900_000.0));
        assert_eq!(s.server_busy_percent, Some(90.0));
        assert_eq!(s.server_waiting_percent, Some(9.0));
        // One run without the server's numbers leaves the medians unknown, not skewed.
        let partly = Summary::of(vec![
            with_server(1, 1, 1),
            with_server(1, 1, 1).sample.into(),
        ]);
        assert_eq!(partly.unwrap().server_busy_percent, None);
    }

    #[test]
    fn measure_reads_the_server_around_the_run() {
        let ours = ServerProcess::new(std::process::id()).unwrap();
        let m = measure(Some(ours), || timed(Duration::from_millis(20), || Ok(1))).unwrap();
        let server = m.server.unwrap();
        assert!(server.elapsed >= m.sample.wall);
        assert!(m.server_busy_percent().unwrap() >= 0.0);
        assert!(measure(None, || timed(Duration::ZERO, || Ok(1)))
            .unwrap()
            .server
            .is_none());
        let failed = measure(Some(ours), || Err("runner failed".to_string()));
        assert_eq!(failed.unwrap_err(), "runner failed");
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
