//! Soak (issue #12, Tests): 16 threads write and read back keys of their own, checking every
//! value, while the fault proxy cuts, stalls and trickles the connections and slips in replies
//! the server never sent, at random. No call may return a value that is not its own, and none may
//! take longer than its deadline plus a second. The counts are printed for the CI log.
//!
//! Each client mode runs for `REDIS_CLIENT_SOAK_SECS` seconds (default 20; three modes, about a
//! minute in all). Set it higher to soak longer locally.
//!
//! Extra replies come two ways. Behind a reply, in the same write: the pooled and
//! single-connection clients, with one command at a time per connection, find them behind the
//! last reply owed. While every worker is paused, to idle connections: the pool and the
//! single-connection client find them before reuse, the multiplexed reader when nothing is owed.
//! Behind a reply while a multiplexed connection has other replies owed, an extra reply cannot
//! be told from the next one by any client (RESP carries no request ids), so the multiplexed run
//! gets extra replies only while paused.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use redis_client::{Client, Config, Error, Retry, Value};
use redis_test_harness::{Extra, Proxy, Server};

const THREADS: usize = 16;
/// The socket and connect timeout of every client.
const TIMEOUT: Duration = Duration::from_millis(300);
/// One second more than a call's deadline is a hang.
const SLACK: Duration = Duration::from_secs(1);
/// How many of a thread's failed `SET`s may still show up: the server may have run them.
const MAYBE_KEPT: usize = 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Pooled,
    Multiplexed,
    Single,
}

fn soak_time() -> Duration {
    let secs = std::env::var("REDIS_CLIENT_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    Duration::from_secs(secs)
}

/// A small xorshift generator; the seed is printed so a run can be repeated.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn millis(&mut self, from: u64, to: u64) -> Duration {
        Duration::from_millis(from + self.below(to - from))
    }
}

#[derive(Default)]
struct Counts {
    commands: AtomicU64,
    ok: AtomicU64,
    wrong: AtomicU64,
    hangs: AtomicU64,
    timeouts: AtomicU64,
    connection: AtomicU64,
    protocol: AtomicU64,
    other: AtomicU64,
    max_call_micros: AtomicU64,
    faults: Mutex<Vec<&'static str>>,
    wrong_examples: Mutex<Vec<String>>,
}

impl Mode {
    /// How long one call may take, each step bounded by the timeout. Connecting is a TCP connect
    /// and up to three handshake replies (each within the timeout once it is waited for), then a
    /// write: five timeouts. A pooled call may connect, then write and wait for its reply: six. A
    /// multiplexed one may wait for another caller's connect, find that connection dead and
    /// connect once more itself, then wait for its reply: eleven. A single-connection one waits
    /// for the calls of every other thread on the one connection.
    fn deadline(self) -> Duration {
        match self {
            Mode::Pooled => TIMEOUT * 6,
            Mode::Multiplexed => TIMEOUT * 11,
            Mode::Single => TIMEOUT * 6 * THREADS as u32,
        }
    }
}

impl Counts {
    fn call(&self, mode: Mode, took: Duration) {
        self.commands.fetch_add(1, Ordering::Relaxed);
        self.max_call_micros
            .fetch_max(took.as_micros() as u64, Ordering::Relaxed);
        if took > mode.deadline() + SLACK {
            self.hangs.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn error(&self, error: &Error) {
        let counter = if error.is_timeout() {
            &self.timeouts
        } else if error.is_connection_error() {
            &self.connection
        } else if matches!(error, Error::Protocol(_)) {
            &self.protocol
        } else {
            eprintln!("soak: unexpected error: {error}");
            &self.other
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn wrong(&self, what: String) {
        self.wrong.fetch_add(1, Ordering::Relaxed);
        self.wrong_examples.lock().unwrap().push(what);
    }
}

fn client(mode: Mode, url: &str) -> Client {
    let config = Config::from_url(url)
        .unwrap()
        .to_builder()
        .socket_timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .retry(Retry::none())
        .multiplexed(mode == Mode::Multiplexed)
        .build()
        .unwrap();
    match mode {
        Mode::Single => Client::single_connection(config).unwrap(),
        _ => Client::new(config).unwrap(),
    }
}

/// One worker: `SET` a new value, `GET` it back, check both replies, until told to stop.
fn work(
    t: usize,
    mode: Mode,
    client: &Client,
    counts: &Counts,
    gate: &RwLock<()>,
    stop: &AtomicBool,
) {
    let key = format!("soak:{mode:?}:{t}");
    // What a GET may legitimately return: the last value set for sure, or one whose SET failed
    // after it may have reached the server.
    let mut confirmed: Option<Vec<u8>> = None;
    let mut maybe: VecDeque<Vec<u8>> = VecDeque::new();
    let mut i = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let _running = gate.read().unwrap();
        i += 1;
        let value = format!("{t}:{i}:{}", "v".repeat(56)).into_bytes();
        let started = Instant::now();
        let set = client.execute(("SET", key.as_str(), value.as_slice()));
        counts.call(mode, started.elapsed());
        match set {
            Ok(Value::Simple(ok)) if ok == b"OK"[..] => {
                counts.ok.fetch_add(1, Ordering::Relaxed);
                confirmed = Some(value);
                maybe.clear();
            }
            Ok(other) => counts.wrong(format!("{mode:?} thread {t}: SET answered {other:?}")),
            Err(error) => {
                counts.error(&error);
                maybe.push_back(value);
                if maybe.len() > MAYBE_KEPT {
                    maybe.pop_front();
                }
            }
        }
        let started = Instant::now();
        let get = client.execute(["GET", key.as_str()]);
        counts.call(mode, started.elapsed());
        match get {
            Ok(Value::Bulk(got))
                if confirmed.as_deref() == Some(&got[..]) || maybe.iter().any(|m| m == &got) =>
            {
                counts.ok.fetch_add(1, Ordering::Relaxed);
            }
            Ok(Value::Nil) if confirmed.is_none() => {
                counts.ok.fetch_add(1, Ordering::Relaxed);
            }
            Ok(other) => counts.wrong(format!(
                "{mode:?} thread {t}: GET answered {other:?}, expected {:?}",
                confirmed.as_deref().map(String::from_utf8_lossy)
            )),
            Err(error) => counts.error(&error),
        }
    }
}

/// Injects one random fault, and undoes it after a while.
fn fault(mode: Mode, proxy: &Proxy, gate: &RwLock<()>, rng: &mut Rng, counts: &Counts) {
    let kinds: &[&str] = match mode {
        Mode::Multiplexed => &["cut", "stall", "trickle", "paused extra reply"],
        _ => &[
            "cut",
            "stall",
            "trickle",
            "extra reply",
            "duplicate",
            "paused extra reply",
        ],
    };
    let kind = kinds[rng.below(kinds.len() as u64) as usize];
    counts.faults.lock().unwrap().push(kind);
    match kind {
        "cut" => proxy.cut(),
        "stall" => {
            proxy.stall(true);
            thread::sleep(rng.millis(100, 800));
            proxy.stall(false);
        }
        "trickle" => {
            // Longer than any call may take, so a client that waits for trickling bytes shows.
            proxy.trickle(rng.millis(20, 100));
            thread::sleep(rng.millis(1000, 4000));
            proxy.trickle(Duration::ZERO);
        }
        "extra reply" => proxy.extra_reply(Extra::Bytes(b"+STALE\r\n".to_vec())),
        "duplicate" => proxy.extra_reply(Extra::Duplicate),
        _ => {
            // Every worker finishes its round first, so no command is in flight: the stale
            // reply reaches connections that owe nothing, and is read (or found) before anyone
            // sends again.
            let _paused = gate.write().unwrap();
            proxy.send_to_clients(b"+STALE\r\n");
            thread::sleep(Duration::from_millis(200));
        }
    }
}

fn soak(mode: Mode, server: &Server, seed: u64) {
    let proxy = Proxy::to(server).unwrap();
    let client = client(mode, &proxy.url());
    let counts = Arc::new(Counts::default());
    let gate = Arc::new(RwLock::new(()));
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (client, counts, gate, stop) = (
                client.clone(),
                Arc::clone(&counts),
                Arc::clone(&gate),
                Arc::clone(&stop),
            );
            thread::spawn(move || work(t, mode, &client, &counts, &gate, &stop))
        })
        .collect();
    let mut rng = Rng(seed | 1);
    let started = Instant::now();
    while started.elapsed() < soak_time() {
        thread::sleep(rng.millis(100, 400));
        fault(mode, &proxy, &gate, &mut rng, &counts);
    }
    stop.store(true, Ordering::Relaxed);
    let joined = Instant::now();
    for worker in workers {
        while !worker.is_finished() {
            assert!(
                joined.elapsed() < Duration::from_secs(30),
                "{mode:?}: a worker is stuck"
            );
            thread::sleep(Duration::from_millis(10));
        }
        worker.join().unwrap();
    }
    report(mode, &counts, &proxy, started.elapsed(), seed);
}

fn report(mode: Mode, counts: &Counts, proxy: &Proxy, took: Duration, seed: u64) {
    let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
    let faults = counts.faults.lock().unwrap();
    let count_of = |kind| faults.iter().filter(|&&k| k == kind).count();
    let line = format!(
        "soak {mode:?} (seed {seed}, {took:.1?}): {} commands, {} ok, {} wrong, {} hangs; errors: \
         {} timeout, {} connection, {} protocol, {} other; {} connections opened; max call \
         {:.1?} (deadline {:.1?}); faults: {} cut, {} stall, {} trickle, {} extra reply, {} \
         duplicate, {} paused extra reply",
        get(&counts.commands),
        get(&counts.ok),
        get(&counts.wrong),
        get(&counts.hangs),
        get(&counts.timeouts),
        get(&counts.connection),
        get(&counts.protocol),
        get(&counts.other),
        proxy.accepted_connections(),
        Duration::from_micros(get(&counts.max_call_micros)),
        mode.deadline(),
        count_of("cut"),
        count_of("stall"),
        count_of("trickle"),
        count_of("extra reply"),
        count_of("duplicate"),
        count_of("paused extra reply"),
    );
    // Straight to the process's stderr, past the test harness's capture, for the CI log.
    let _ = writeln!(std::io::stderr(), "{line}");
    let examples = counts.wrong_examples.lock().unwrap();
    assert_eq!(
        get(&counts.wrong),
        0,
        "{line}\nwrong replies: {examples:#?}"
    );
    assert_eq!(get(&counts.hangs), 0, "{line}");
    assert!(get(&counts.ok) > 0, "{line}");
    assert!(
        get(&counts.timeouts) + get(&counts.protocol) > 0,
        "{line}: no fault bit"
    );
}

#[test]
fn sixteen_threads_never_get_a_wrong_value_or_hang_under_random_faults() {
    let server = Server::redis();
    let seed = std::env::var("REDIS_CLIENT_SOAK_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    for mode in [Mode::Pooled, Mode::Multiplexed, Mode::Single] {
        soak(mode, &server, seed);
    }
}
