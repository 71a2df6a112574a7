//! Client and server CPU time, read from `/proc` because std has no `getrusage`.
//!
//! A thread's own time comes from `/proc/thread-self/schedstat` (nanoseconds on the CPU, user
//! and system together). A child process's time (redis-benchmark) comes from the `cutime` and
//! `cstime` fields of `/proc/self/stat`, which grow when a child is reaped; they count clock
//! ticks of 1/100 s, the fixed `USER_HZ` of Linux's user-space ABI. The server's time comes
//! from the schedstat of its threads (`/proc/PID/task/TID/schedstat`), in nanoseconds too.

use std::path::PathBuf;
use std::time::Duration;

/// `USER_HZ`: the unit of the tick counts in `/proc/*/stat`.
const TICKS_PER_SECOND: u64 = 100;

/// CPU time the calling thread has used so far.
pub fn thread_cpu() -> Result<Duration, String> {
    let path = "/proc/thread-self/schedstat";
    let text = std::fs::read_to_string(path).map_err(|e| format!("reading {path}: {e}"))?;
    parse_schedstat(&text)
        .map(|s| s.on_cpu)
        .ok_or_else(|| format!("{path}: unexpected contents {text:?}"))
}

/// CPU time (user + system) of all child processes reaped so far.
pub fn children_cpu() -> Result<Duration, String> {
    let path = "/proc/self/stat";
    let text = std::fs::read_to_string(path).map_err(|e| format!("reading {path}: {e}"))?;
    parse_children_ticks(&text)
        .map(|ticks| Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND))
        .ok_or_else(|| format!("{path}: unexpected contents {text:?}"))
}

/// One thread's scheduler counters, as its schedstat line gives them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct SchedStat {
    /// Time spent on a CPU (first field).
    on_cpu: Duration,
    /// Time spent runnable but waiting for a CPU (second field).
    waiting: Duration,
}

/// The first two fields of a schedstat line, both nanoseconds.
fn parse_schedstat(text: &str) -> Option<SchedStat> {
    let mut fields = text.split_whitespace();
    let mut next = || fields.next()?.parse().ok().map(Duration::from_nanos);
    Some(SchedStat {
        on_cpu: next()?,
        waiting: next()?,
    })
}

/// A server process on this machine whose threads' CPU time we can read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerProcess {
    pid: u32,
}

/// What a server's threads have used so far (or, after [`ServerTimes::since`], in between).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServerTimes {
    /// CPU time of the main thread, the one that runs every command.
    pub main: Duration,
    /// Time the main thread was ready to run but waited for a CPU (another process had it).
    pub main_waiting: Duration,
    /// CPU time of all its threads together, the main one included.
    pub all: Duration,
}

impl ServerProcess {
    /// The process `pid`, after checking that its main thread's counters can be read.
    pub fn new(pid: u32) -> Result<ServerProcess, String> {
        let process = ServerProcess { pid };
        process.times()?;
        Ok(process)
    }

    /// Its process id.
    pub fn pid(self) -> u32 {
        self.pid
    }

    /// How many threads it has now.
    pub fn threads(self) -> Result<usize, String> {
        Ok(self.thread_ids()?.len())
    }

    /// The times its threads have used so far. A thread other than the main one that ends
    /// while being read is left out (its time is lost), so `all` may in rare cases shrink.
    pub fn times(self) -> Result<ServerTimes, String> {
        let main = read_schedstat(&self.schedstat(self.pid))?
            .ok_or_else(|| format!("server process {} has ended", self.pid))?;
        let mut all = main.on_cpu;
        for tid in self.thread_ids()? {
            if tid != self.pid {
                if let Some(thread) = read_schedstat(&self.schedstat(tid))? {
                    all += thread.on_cpu;
                }
            }
        }
        Ok(ServerTimes {
            main: main.on_cpu,
            main_waiting: main.waiting,
            all,
        })
    }

    fn schedstat(self, tid: u32) -> PathBuf {
        PathBuf::from(format!("/proc/{}/task/{tid}/schedstat", self.pid))
    }

    fn thread_ids(self) -> Result<Vec<u32>, String> {
        let dir = format!("/proc/{}/task", self.pid);
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("listing {dir}: {e}"))?;
        let mut ids = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| format!("listing {dir}: {e}"))?;
            if let Some(tid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) {
                ids.push(tid);
            }
        }
        Ok(ids)
    }
}

/// A thread's counters; `None` when the thread no longer exists.
fn read_schedstat(path: &std::path::Path) -> Result<Option<SchedStat>, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse_schedstat(&text)
            .map(Some)
            .ok_or_else(|| format!("{}: unexpected contents {text:?}", path.display())),
        // A thread that has exited vanishes from `task/`, or its file reads as ESRCH.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound || e.raw_os_error() == Some(3) => {
            Ok(None)
        }
        Err(e) => Err(format!("reading {}: {e}", path.display())),
    }
}

impl ServerTimes {
    /// What was used between `earlier` and `self`; counters never run backwards, except
    /// `all` when a thread ended in between, which this floors at zero.
    pub fn since(self, earlier: ServerTimes) -> ServerTimes {
        ServerTimes {
            main: self.main.saturating_sub(earlier.main),
            main_waiting: self.main_waiting.saturating_sub(earlier.main_waiting),
            all: self.all.saturating_sub(earlier.all),
        }
    }
}

/// `cutime + cstime` (fields 16 and 17) of a stat line.
fn parse_children_ticks(text: &str) -> Option<u64> {
    // The command name (field 2) is in parentheses and may itself hold spaces or ')'.
    let after_name = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // `fields[0]` is field 3 (state), so field N sits at index N - 3.
    let cutime: u64 = fields.get(16 - 3)?.parse().ok()?;
    let cstime: u64 = fields.get(17 - 3)?.parse().ok()?;
    Some(cutime + cstime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedstat_fields_are_nanoseconds_on_cpu_then_waiting() {
        assert_eq!(
            parse_schedstat("1324408 77 1\n"),
            Some(SchedStat {
                on_cpu: Duration::from_nanos(1_324_408),
                waiting: Duration::from_nanos(77),
            })
        );
        assert_eq!(parse_schedstat(""), None);
        assert_eq!(parse_schedstat("12"), None);
        assert_eq!(parse_schedstat("x 1 2"), None);
    }

    #[test]
    fn server_times_since_subtracts_and_floors_at_zero() {
        let t = |main, waiting, all| ServerTimes {
            main: Duration::from_nanos(main),
            main_waiting: Duration::from_nanos(waiting),
            all: Duration::from_nanos(all),
        };
        assert_eq!(t(50, 7, 90).since(t(20, 2, 30)), t(30, 5, 60));
        // A thread ended in between and took its time with it.
        assert_eq!(t(50, 7, 40).since(t(20, 2, 60)), t(30, 5, 0));
    }

    #[test]
    fn a_process_threads_add_up() {
        // This test process stands in for a server, and a thread of its own for a server's
        // worker: one reading's `all` must hold the main thread's time and the worker's.
        // (Comparing two readings could fail: other tests' threads end meanwhile.)
        let process = ServerProcess::new(std::process::id()).unwrap();
        let (now, worker) = std::thread::scope(|s| {
            s.spawn(|| {
                let mut x = 0u64;
                for i in 0..5_000_000u64 {
                    x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
                }
                std::hint::black_box(x);
                let worker = thread_cpu().unwrap();
                (process.times().unwrap(), worker)
            })
            .join()
            .unwrap()
        });
        assert!(now.all >= now.main + worker, "{now:?}, worker {worker:?}");
        assert!(process.threads().unwrap() >= 1);
        assert!(now.main > Duration::ZERO);
        assert!(ServerProcess::new(u32::MAX).is_err());
    }

    #[test]
    fn children_ticks_skip_a_name_with_spaces_and_parens() {
        let line = "42 (a b) c) S 1 42 42 0 -1 4194560 100 0 0 0 7 3 25 12 20 0 1 0 5 0 0";
        assert_eq!(parse_children_ticks(line), Some(25 + 12));
        assert_eq!(parse_children_ticks("42 (x) S 1"), None);
    }

    #[test]
    fn this_thread_uses_cpu() {
        let before = thread_cpu().unwrap();
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
        std::hint::black_box(x);
        assert!(thread_cpu().unwrap() > before);
        children_cpu().unwrap();
    }
}
