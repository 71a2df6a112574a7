//! A bounded load: threads SET unique keys and GET them back, checking every value, while the
//! test changes the cluster; then every acknowledged write is read again.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;
use redis_client::cluster::{key_slot, ClusterClient};
use redis_client::Commands;

/// What a load run saw.
#[derive(Debug, Default)]
pub struct Report {
    /// SET + GET pairs tried.
    pub ops: u64,
    /// Writes the cluster acknowledged.
    pub acked: usize,
    /// GETs that answered another value (or none) right after their SET.
    pub wrong: u64,
    /// Errors returned to the caller (the first few kept).
    pub errors: u64,
    /// The first errors' texts.
    pub error_samples: Vec<String>,
    /// Acknowledged writes missing or different when read back at the end.
    pub lost: u64,
    /// From the event to the first success, on a watched slot, of an op started after it.
    pub recovery: Option<Duration>,
}

impl Report {
    /// Prints the figures to stderr for the CI log.
    pub fn print(&self, what: &str) {
        eprintln!(
            "{what}: ops={} acked={} wrong={} errors={} lost={} recovery={:?} first errors: {:?}",
            self.ops,
            self.acked,
            self.wrong,
            self.errors,
            self.lost,
            self.recovery,
            self.error_samples
        );
    }
}

/// Runs `threads` writers on `client` with keys from `key(thread, n)`; after a warm-up,
/// `event` runs on this thread and returns when the change happened (e.g. the kill); the load
/// goes on for `tail` after `event` returns, `limit` at most in all.
pub fn run(
    client: &ClusterClient,
    threads: usize,
    key: impl Fn(usize, u64) -> String + Sync,
    watched: &HashSet<u16>,
    event: impl FnOnce() -> Instant,
    tail: Duration,
    limit: Duration,
) -> Report {
    let started = Instant::now();
    let stop = AtomicBool::new(false);
    let event_at: Mutex<Option<Instant>> = Mutex::new(None);
    let report = Mutex::new(Report::default());
    let acked: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());
    let first_recovered: Mutex<Option<Instant>> = Mutex::new(None);
    thread::scope(|scope| {
        for t in 0..threads {
            let (stop, key, report, acked) = (&stop, &key, &report, &acked);
            let (event_at, first_recovered) = (&event_at, &first_recovered);
            scope.spawn(move || {
                let mut mine = Vec::new();
                let (mut ops, mut wrong, mut errors, mut samples) = (0, 0, 0, Vec::new());
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) && started.elapsed() < limit {
                    let k = key(t, n);
                    let v = format!("{t}:{n}");
                    n += 1;
                    ops += 1;
                    let op_start = Instant::now();
                    let after_event = event_at.lock().unwrap().is_some_and(|at| op_start >= at);
                    let result = client.set(k.as_str(), v.as_str()).and_then(|()| {
                        mine.push((k.clone(), v.clone()));
                        client.get(k.as_str())
                    });
                    match result {
                        Ok(got) => {
                            if got != Some(Bytes::from(v.clone())) {
                                wrong += 1;
                            }
                            if after_event && watched.contains(&key_slot(k.as_bytes())) {
                                let mut first = first_recovered.lock().unwrap();
                                if first.is_none() {
                                    *first = Some(Instant::now());
                                }
                            }
                        }
                        Err(e) => {
                            errors += 1;
                            if samples.len() < 3 {
                                samples.push(e.to_string());
                            }
                        }
                    }
                }
                let mut r = report.lock().unwrap();
                r.ops += ops;
                r.wrong += wrong;
                r.errors += errors;
                let room = 3usize.saturating_sub(r.error_samples.len());
                r.error_samples.extend(samples.into_iter().take(room));
                acked.lock().unwrap().extend(mine);
            });
        }
        thread::sleep(Duration::from_secs(1));
        let at = event();
        *event_at.lock().unwrap() = Some(at);
        let end = Instant::now() + tail;
        while Instant::now() < end && started.elapsed() < limit {
            thread::sleep(Duration::from_millis(20));
        }
        stop.store(true, Ordering::Relaxed);
    });
    let mut report = report.into_inner().unwrap();
    let acked = acked.into_inner().unwrap();
    report.acked = acked.len();
    let at = event_at.into_inner().unwrap();
    report.recovery = match (at, first_recovered.into_inner().unwrap()) {
        (Some(at), Some(first)) => Some(first.duration_since(at)),
        _ => None,
    };
    // Read back in batches: MGET splits by slot.
    for chunk in acked.chunks(200) {
        let keys: Vec<&str> = chunk.iter().map(|(k, _)| k.as_str()).collect();
        let values = client
            .mget(keys)
            .expect("reading back the acknowledged writes");
        for ((_, v), got) in chunk.iter().zip(values) {
            if got != Some(Bytes::from(v.clone())) {
                report.lost += 1;
            }
        }
    }
    report
}

/// Hash tags whose slots fall in `slots`, one per slot found among the first tries.
pub fn tags_in(slots: &HashSet<u16>) -> Vec<String> {
    let mut seen = HashSet::new();
    (0..200_000)
        .map(|i| format!("t{i}"))
        .filter(|tag| {
            let slot = key_slot(tag.as_bytes());
            slots.contains(&slot) && seen.insert(slot)
        })
        .collect()
}
