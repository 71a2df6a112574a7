//! Retry policy: how often, how long to wait, and when a command may be sent again at all (the
//! rule is documented on [`Retry`]).

use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::Error;

pub use crate::connection::failure::Sent;

/// How long to wait between attempts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backoff {
    /// Retry immediately.
    None,
    /// Wait the same time before every retry.
    Constant(Duration),
    /// Wait a random time in `[0, min(cap, base · 2^attempt)]` ("full jitter").
    ExponentialJitter {
        /// The delay bound of the first retry.
        base: Duration,
        /// The largest delay bound.
        cap: Duration,
    },
}

impl Backoff {
    /// The delay before retry number `attempt` (0 for the first retry).
    pub fn delay(&self, attempt: u32) -> Duration {
        match *self {
            Backoff::None => Duration::ZERO,
            Backoff::Constant(d) => d,
            Backoff::ExponentialJitter { base, cap } => {
                let factor = 1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
                let bound = base.checked_mul(factor).unwrap_or(cap).min(cap);
                let nanos = u64::try_from(bound.as_nanos()).unwrap_or(u64::MAX);
                if nanos == 0 {
                    return Duration::ZERO;
                }
                Duration::from_nanos(random_u64() % (nanos + 1))
            }
        }
    }
}

/// A retry policy: the number of retries after the first attempt, and the backoff between them.
///
/// # The rule
///
/// A failed command is sent again only when doing so cannot run it twice:
///
/// 1. **It never ran.** The failure happened before the whole request reached the server
///    (no free connection could be opened, the handshake failed, or the write itself failed —
///    a partly written request is discarded with its connection and never executed), or the
///    server answered `LOADING` / `TRYAGAIN`, which means it refused to run the command.
///    Any command may be retried then.
/// 2. **It may have run, but running it again is harmless.** The request was sent and then the
///    connection broke (or, with `retry_on_timeout`, the reply timed out). Only commands that are
///    safe to repeat are retried: those the generated command table flags `READONLY`, or those the
///    caller explicitly marked idempotent. A write such as `INCR` or `LPUSH` is never resent, since
///    the server may already have applied it.
///
/// Timeouts count only when `retry_on_timeout` is enabled; other errors (wrong type, auth, a
/// protocol error …) are never retried.
///
/// Backoff is none, constant, or exponential with full jitter (a random delay between zero and
/// `min(cap, base · 2^attempt)`), which spreads reconnecting clients apart after an outage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retry {
    retries: u32,
    backoff: Backoff,
}

impl Default for Retry {
    /// Three retries with exponential full-jitter backoff from 10 ms up to 1 s.
    fn default() -> Self {
        Retry::new(
            3,
            Backoff::ExponentialJitter {
                base: Duration::from_millis(10),
                cap: Duration::from_secs(1),
            },
        )
    }
}

impl Retry {
    /// A policy that retries up to `retries` times after the first attempt.
    pub fn new(retries: u32, backoff: Backoff) -> Retry {
        Retry { retries, backoff }
    }

    /// A policy that never retries.
    pub fn none() -> Retry {
        Retry::new(0, Backoff::None)
    }

    /// How many times a command may be retried after its first attempt.
    pub fn retries(&self) -> u32 {
        self.retries
    }

    /// The backoff between attempts.
    pub fn backoff(&self) -> Backoff {
        self.backoff
    }

    /// Decides whether retry number `attempt` (0 for the first retry) may follow `error`.
    ///
    /// `safe_to_repeat` says whether the command is read-only or explicitly idempotent; see the
    /// module documentation for the whole rule.
    pub(crate) fn should_retry(
        &self,
        error: &Error,
        sent: Sent,
        safe_to_repeat: bool,
        retry_on_timeout: bool,
        attempt: u32,
    ) -> bool {
        if attempt >= self.retries || !error.is_retryable() {
            return false;
        }
        if error.is_timeout() && !retry_on_timeout {
            return false;
        }
        // A server that answered LOADING or TRYAGAIN refused the command, so it did not run.
        let refused_by_server = error.server_error().is_some();
        sent == Sent::No || refused_by_server || safe_to_repeat
    }
}

thread_local! {
    static PRNG: Cell<u64> = Cell::new(seed());
}

/// A seed from the clock and std's per-process random hasher keys, so threads and processes
/// that start together still draw different jitter.
fn seed() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    hasher.write_u128(nanos);
    hasher.write(format!("{:?}", std::thread::current().id()).as_bytes());
    // xorshift must not start at zero.
    hasher.finish() | 1
}

/// xorshift64*: small and plenty for spreading retry delays (not for anything secret).
fn random_u64() -> u64 {
    PRNG.with(|state| {
        let mut x = state.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        state.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    fn conn_error() -> Error {
        Error::Connection {
            addr: "127.0.0.1:1".into(),
            action: "read from",
            command: None,
            source: io::Error::from(io::ErrorKind::ConnectionReset),
        }
    }

    fn timeout() -> Error {
        Error::Timeout {
            addr: "127.0.0.1:1".into(),
            action: "read from",
            command: None,
            after: Duration::from_millis(5),
        }
    }

    #[test]
    fn unsent_requests_are_always_retried_until_attempts_run_out() {
        let r = Retry::new(2, Backoff::None);
        assert!(r.should_retry(&conn_error(), Sent::No, false, false, 0));
        assert!(r.should_retry(&conn_error(), Sent::No, false, false, 1));
        assert!(!r.should_retry(&conn_error(), Sent::No, false, false, 2));
        assert!(!Retry::none().should_retry(&conn_error(), Sent::No, true, true, 0));
    }

    #[test]
    fn sent_requests_are_retried_only_when_safe_to_repeat() {
        let r = Retry::new(3, Backoff::None);
        assert!(!r.should_retry(&conn_error(), Sent::Maybe, false, false, 0));
        assert!(r.should_retry(&conn_error(), Sent::Maybe, true, false, 0));
    }

    #[test]
    fn timeouts_need_retry_on_timeout() {
        let r = Retry::new(3, Backoff::None);
        assert!(!r.should_retry(&timeout(), Sent::Maybe, true, false, 0));
        assert!(r.should_retry(&timeout(), Sent::Maybe, true, true, 0));
        assert!(!r.should_retry(&timeout(), Sent::Maybe, false, true, 0));
    }

    #[test]
    fn server_refusals_are_retried_for_any_command() {
        let r = Retry::new(3, Backoff::None);
        let loading = Error::from_server_reply(b"LOADING loading the dataset", Some("INCR"));
        assert!(r.should_retry(&loading, Sent::Maybe, false, false, 0));
        let wrongtype = Error::from_server_reply(b"WRONGTYPE nope", Some("GET"));
        assert!(!r.should_retry(&wrongtype, Sent::Maybe, true, true, 0));
        assert!(!r.should_retry(&Error::Protocol("bad".into()), Sent::No, true, true, 0));
    }

    #[test]
    fn jitter_stays_within_the_exponential_bound() {
        let base = Duration::from_millis(10);
        let cap = Duration::from_millis(100);
        let b = Backoff::ExponentialJitter { base, cap };
        let mut distinct = std::collections::HashSet::new();
        for attempt in 0..40 {
            let bound = base.saturating_mul(1 << attempt.min(20)).min(cap);
            for _ in 0..50 {
                let d = b.delay(attempt);
                assert!(d <= bound, "attempt {attempt}: {d:?} > {bound:?}");
                distinct.insert(d);
            }
        }
        assert!(
            distinct.len() > 100,
            "jitter should vary: {}",
            distinct.len()
        );
        assert_eq!(
            Backoff::Constant(base).delay(7),
            base,
            "constant backoff ignores the attempt"
        );
        assert_eq!(Backoff::None.delay(3), Duration::ZERO);
    }
}
