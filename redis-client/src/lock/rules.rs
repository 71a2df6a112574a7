//! The rules of a lock, without I/O: its scripts, its settings, when a blocking acquire waits
//! or gives up, and what each script's answer means. The blocking [`super::Lock`] and the
//! tokio `AsyncLock` both follow them.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};
use crate::script::Script;

/// Sets the key to the token unless it exists; ARGV[2] is the lifetime in milliseconds, `0`
/// for none. (`SET NX PX` in a script, so all four operations go the same way.)
const ACQUIRE: &str = r"
if ARGV[2] == '0' then
  if redis.call('SET', KEYS[1], ARGV[1], 'NX') then return 1 end
elseif redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
end
return 0";

/// Deletes the key if it still holds our token.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0";

/// Adds ARGV[2] ms to the remaining lifetime, or replaces it when ARGV[3] is `1`, if the key
/// still holds our token. -1: the key has no lifetime to extend.
const EXTEND: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local left = redis.call('PTTL', KEYS[1])
if left < 0 then return -1 end
local ttl = tonumber(ARGV[2])
if ARGV[3] == '0' then ttl = ttl + left end
redis.call('PEXPIRE', KEYS[1], ttl)
return 1";

/// Resets the lifetime to ARGV[2] ms if the key still holds our token.
const REACQUIRE: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1";

/// The four scripts every lock runs.
pub(crate) struct Scripts {
    pub(crate) acquire: Script,
    pub(crate) release: Script,
    pub(crate) extend: Script,
    pub(crate) reacquire: Script,
}

pub(crate) fn scripts() -> &'static Scripts {
    static SCRIPTS: OnceLock<Scripts> = OnceLock::new();
    SCRIPTS.get_or_init(|| Scripts {
        acquire: Script::new(ACQUIRE),
        release: Script::new(RELEASE),
        extend: Script::new(EXTEND),
        reacquire: Script::new(REACQUIRE),
    })
}

/// A lock's key, lifetime and waiting policy (redis-py's defaults from [`Settings::new`]).
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub(crate) name: String,
    pub(crate) timeout: Option<Duration>,
    pub(crate) sleep: Duration,
    pub(crate) blocking: bool,
    pub(crate) blocking_timeout: Option<Duration>,
}

impl Settings {
    /// No lifetime limit, blocking without a bound, polling every 100 ms.
    pub(crate) fn new(name: String) -> Settings {
        Settings {
            name,
            timeout: None,
            sleep: Duration::from_millis(100),
            blocking: true,
            blocking_timeout: None,
        }
    }

    /// ARGV[2] of the acquire script: the lifetime in ms, `0` for none.
    pub(crate) fn acquire_ttl(&self) -> Result<u64> {
        match self.timeout {
            Some(timeout) => millis(timeout, "timeout"),
            None => Ok(0),
        }
    }

    /// An acquire that began at `started` found the lock taken at `now`: how long to sleep
    /// before the next attempt, or the error that ends the acquire.
    pub(crate) fn after_miss(&self, started: Instant, now: Instant) -> Result<Duration> {
        if !self.blocking {
            return Err(Error::Lock(format!(
                "lock `{}` is held by another owner (not blocking)",
                self.name
            )));
        }
        let mut pause = self.sleep;
        if let Some(limit) = self.blocking_timeout {
            let left = limit.saturating_sub(now.saturating_duration_since(started));
            if left.is_zero() {
                return Err(Error::Lock(format!(
                    "lock `{}` was not acquired within {limit:?}",
                    self.name
                )));
            }
            pause = pause.min(left);
        }
        Ok(pause)
    }

    /// What the release script's answer means.
    pub(crate) fn released(&self, deleted: i64) -> Result<()> {
        if deleted != 1 {
            return Err(self.not_owned("release"));
        }
        Ok(())
    }

    /// ARGV[2] of the extend script, or why the lock cannot be extended.
    pub(crate) fn extend_ms(&self, additional: Duration) -> Result<u64> {
        if self.timeout.is_none() {
            return Err(Error::Lock(format!(
                "lock `{}` has no timeout, so there is nothing to extend",
                self.name
            )));
        }
        millis(additional, "additional time")
    }

    /// What the extend script's answer means.
    pub(crate) fn extended(&self, answer: i64) -> Result<()> {
        match answer {
            1 => Ok(()),
            -1 => Err(Error::Lock(format!(
                "lock `{}` has no expiry on the server, so there is nothing to extend",
                self.name
            ))),
            _ => Err(self.not_owned("extend")),
        }
    }

    /// ARGV[2] of the reacquire script (the full timeout), or why there is none.
    pub(crate) fn reacquire_ms(&self) -> Result<u64> {
        let Some(timeout) = self.timeout else {
            return Err(Error::Lock(format!(
                "lock `{}` has no timeout, so there is nothing to reacquire",
                self.name
            )));
        };
        millis(timeout, "timeout")
    }

    /// What the reacquire script's answer means.
    pub(crate) fn reacquired(&self, done: i64) -> Result<()> {
        if done != 1 {
            return Err(self.not_owned("reacquire"));
        }
        Ok(())
    }

    fn not_owned(&self, action: &str) -> Error {
        Error::LockNotOwned(format!(
            "cannot {action} lock `{}`: it expired or another owner holds it",
            self.name
        ))
    }
}

/// ARGV[3] of the extend script.
pub(crate) fn replace_flag(replace_ttl: bool) -> &'static str {
    if replace_ttl {
        "1"
    } else {
        "0"
    }
}

/// A duration as whole milliseconds for `PX` / `PEXPIRE`, at least 1.
fn millis(duration: Duration, what: &str) -> Result<u64> {
    let ms = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
    if ms == 0 {
        return Err(Error::Lock(format!(
            "the lock's {what} must be at least 1 ms, got {duration:?}"
        )));
    }
    Ok(ms)
}

/// A token unique across threads, processes and hosts: 128 bits from std's randomly keyed
/// hasher over the clock, the process, the thread and a counter.
pub(crate) fn new_token() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut words = [0u64; 2];
    for (i, word) in words.iter_mut().enumerate() {
        // Each RandomState gets fresh keys, so the two words are independent.
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u128(nanos);
        hasher.write_u32(std::process::id());
        hasher.write(format!("{:?}", std::thread::current().id()).as_bytes());
        hasher.write_u64(count);
        hasher.write_usize(i);
        *word = hasher.finish();
    }
    format!("{:016x}{:016x}", words[0], words[1])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn tokens_are_unique_and_hex() {
        let tokens: HashSet<String> = (0..10_000).map(|_| new_token()).collect();
        assert_eq!(tokens.len(), 10_000);
        assert!(tokens
            .iter()
            .all(|t| t.len() == 32 && t.bytes().all(|b| b.is_ascii_hexdigit())));
    }

    #[test]
    fn durations_round_down_to_milliseconds_but_not_to_zero() {
        assert_eq!(millis(Duration::from_micros(2500), "timeout").unwrap(), 2);
        let e = millis(Duration::from_micros(999), "timeout").unwrap_err();
        assert!(e.to_string().contains("at least 1 ms"), "{e}");
    }

    #[test]
    fn a_blocking_acquire_sleeps_until_its_bound_then_gives_up() {
        let start = Instant::now();
        let mut s = Settings::new("l".into());
        assert_eq!(
            s.after_miss(start, start).unwrap(),
            Duration::from_millis(100)
        );
        s.blocking_timeout = Some(Duration::from_millis(150));
        let later = start + Duration::from_millis(100);
        assert_eq!(
            s.after_miss(start, later).unwrap(),
            Duration::from_millis(50)
        );
        let e = s
            .after_miss(start, start + Duration::from_millis(150))
            .unwrap_err();
        assert!(e.to_string().contains("not acquired within 150ms"), "{e}");
        s.blocking = false;
        let e = s.after_miss(start, start).unwrap_err();
        assert!(e.to_string().contains("not blocking"), "{e}");
    }

    #[test]
    fn script_answers_mean_owned_or_not() {
        let mut s = Settings::new("l".into());
        assert!(s.released(1).is_ok());
        assert!(matches!(s.released(0), Err(Error::LockNotOwned(_))));
        assert!(matches!(
            s.extend_ms(Duration::from_secs(1)),
            Err(Error::Lock(_))
        ));
        assert!(matches!(s.reacquire_ms(), Err(Error::Lock(_))));
        s.timeout = Some(Duration::from_secs(2));
        assert_eq!(s.acquire_ttl().unwrap(), 2000);
        assert_eq!(s.reacquire_ms().unwrap(), 2000);
        assert!(s.extended(1).is_ok());
        assert!(matches!(s.extended(-1), Err(Error::Lock(_))));
        assert!(matches!(s.extended(0), Err(Error::LockNotOwned(_))));
        assert!(matches!(s.reacquired(0), Err(Error::LockNotOwned(_))));
    }
}
