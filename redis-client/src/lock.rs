//! A distributed lock on one key, shaped after redis-py's `Lock`.
//!
//! [`Client::lock`] describes the lock (its key, how long it lives, how to wait for it);
//! [`Lock::acquire`] takes it and returns a [`LockGuard`] holding a fresh random token, which
//! is what the key's value is set to. Only the holder of that token can release, extend or
//! reacquire the lock, so a holder whose lock expired and was taken by someone else gets
//! [`Error::LockNotOwned`] instead of releasing someone else's lock. Every operation is one Lua
//! script, so the check of the token and the change are atomic.
//!
//! ```no_run
//! use std::time::Duration;
//! use redis_client::Client;
//!
//! let client = Client::open("redis://127.0.0.1/")?;
//! let lock = client
//!     .lock("locks:report")
//!     .timeout(Duration::from_secs(10))
//!     .blocking_timeout(Duration::from_secs(2));
//! {
//!     let guard = lock.acquire()?; // Error::Lock if not acquired within 2 s
//!     // ... work; if it runs long:
//!     guard.extend(Duration::from_secs(5), false)?;
//! } // released here
//! # Ok::<(), redis_client::Error>(())
//! ```

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::client::Client;
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

struct Scripts {
    acquire: Script,
    release: Script,
    extend: Script,
    reacquire: Script,
}

fn scripts() -> &'static Scripts {
    static SCRIPTS: OnceLock<Scripts> = OnceLock::new();
    SCRIPTS.get_or_init(|| Scripts {
        acquire: Script::new(ACQUIRE),
        release: Script::new(RELEASE),
        extend: Script::new(EXTEND),
        reacquire: Script::new(REACQUIRE),
    })
}

/// How a lock behaves: its key, lifetime and waiting policy. Cheap to clone; share it between
/// threads, each [`Lock::acquire`] gets its own token.
#[derive(Clone)]
pub struct Lock {
    client: Client,
    name: String,
    timeout: Option<Duration>,
    sleep: Duration,
    blocking: bool,
    blocking_timeout: Option<Duration>,
}

impl Client {
    /// A lock on key `name`: no lifetime limit, blocking without a bound, polling every 100 ms
    /// (redis-py's defaults); set them with the builder methods of [`Lock`].
    pub fn lock(&self, name: impl Into<String>) -> Lock {
        Lock {
            client: self.clone(),
            name: name.into(),
            timeout: None,
            sleep: Duration::from_millis(100),
            blocking: true,
            blocking_timeout: None,
        }
    }
}

impl Lock {
    /// How long the lock lives once acquired (millisecond precision), so a crashed holder
    /// cannot keep it forever.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// How long to wait between attempts while blocking.
    pub fn sleep(mut self, sleep: Duration) -> Self {
        self.sleep = sleep;
        self
    }

    /// Whether [`Lock::acquire`] waits for a lock someone else holds (the default) or fails
    /// at once.
    pub fn blocking(mut self, blocking: bool) -> Self {
        self.blocking = blocking;
        self
    }

    /// The longest [`Lock::acquire`] waits before failing with [`Error::Lock`].
    pub fn blocking_timeout(mut self, timeout: Duration) -> Self {
        self.blocking_timeout = Some(timeout);
        self
    }

    /// The lock's key.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Takes the lock with a new token, waiting as configured.
    ///
    /// Fails with [`Error::Lock`] when the lock stays taken past `blocking_timeout`, or at
    /// once when not blocking.
    pub fn acquire(&self) -> Result<LockGuard> {
        let started = Instant::now();
        let token = new_token();
        loop {
            if self.try_once(&token)? {
                return Ok(LockGuard {
                    lock: self.clone(),
                    token,
                    released: false,
                });
            }
            if !self.blocking {
                return Err(Error::Lock(format!(
                    "lock `{}` is held by another owner (not blocking)",
                    self.name
                )));
            }
            let mut pause = self.sleep;
            if let Some(limit) = self.blocking_timeout {
                let left = limit.saturating_sub(started.elapsed());
                if left.is_zero() {
                    return Err(Error::Lock(format!(
                        "lock `{}` was not acquired within {limit:?}",
                        self.name
                    )));
                }
                pause = pause.min(left);
            }
            std::thread::sleep(pause);
        }
    }

    /// One attempt to take the lock: `Ok(None)` when someone else holds it.
    pub fn try_acquire(&self) -> Result<Option<LockGuard>> {
        let token = new_token();
        Ok(self.try_once(&token)?.then(|| LockGuard {
            lock: self.clone(),
            token,
            released: false,
        }))
    }

    fn try_once(&self, token: &str) -> Result<bool> {
        let ttl = match self.timeout {
            Some(timeout) => millis(timeout, "timeout")?,
            None => 0,
        };
        let taken: i64 = scripts()
            .acquire
            .key(&self.name)
            .arg(token)
            .arg(ttl)
            .call(&self.client)?;
        Ok(taken == 1)
    }

    /// Whether anyone holds the lock now.
    pub fn locked(&self) -> Result<bool> {
        let exists: i64 = self.client.query(("EXISTS", &self.name))?;
        Ok(exists == 1)
    }
}

impl fmt::Debug for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock")
            .field("name", &self.name)
            .field("timeout", &self.timeout)
            .field("sleep", &self.sleep)
            .field("blocking", &self.blocking)
            .field("blocking_timeout", &self.blocking_timeout)
            .finish()
    }
}

/// A held lock: releases it when dropped (ignoring failures; call [`LockGuard::release`] to
/// see them).
pub struct LockGuard {
    lock: Lock,
    token: String,
    released: bool,
}

impl LockGuard {
    /// The token this holder set the key to.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The lock this guard holds.
    pub fn lock(&self) -> &Lock {
        &self.lock
    }

    /// Releases the lock; [`Error::LockNotOwned`] when it expired and is no longer ours.
    pub fn release(mut self) -> Result<()> {
        self.released = true;
        self.release_now()
    }

    fn release_now(&self) -> Result<()> {
        let deleted: i64 = scripts()
            .release
            .key(&self.lock.name)
            .arg(&self.token)
            .call(&self.lock.client)?;
        if deleted != 1 {
            return Err(self.not_owned("release"));
        }
        Ok(())
    }

    /// Adds `additional` to the lock's remaining lifetime, or with `replace_ttl` makes
    /// `additional` its new lifetime.
    ///
    /// Fails with [`Error::LockNotOwned`] when the lock is no longer ours, and with
    /// [`Error::Lock`] for a lock without a lifetime.
    pub fn extend(&self, additional: Duration, replace_ttl: bool) -> Result<()> {
        if self.lock.timeout.is_none() {
            return Err(Error::Lock(format!(
                "lock `{}` has no timeout, so there is nothing to extend",
                self.lock.name
            )));
        }
        let ms = millis(additional, "additional time")?;
        let extended: i64 = scripts()
            .extend
            .key(&self.lock.name)
            .arg(&self.token)
            .arg(ms)
            .arg(if replace_ttl { "1" } else { "0" })
            .call(&self.lock.client)?;
        match extended {
            1 => Ok(()),
            -1 => Err(Error::Lock(format!(
                "lock `{}` has no expiry on the server, so there is nothing to extend",
                self.lock.name
            ))),
            _ => Err(self.not_owned("extend")),
        }
    }

    /// Resets the lock's lifetime to its full `timeout`; [`Error::LockNotOwned`] when the lock
    /// is no longer ours.
    pub fn reacquire(&self) -> Result<()> {
        let Some(timeout) = self.lock.timeout else {
            return Err(Error::Lock(format!(
                "lock `{}` has no timeout, so there is nothing to reacquire",
                self.lock.name
            )));
        };
        let done: i64 = scripts()
            .reacquire
            .key(&self.lock.name)
            .arg(&self.token)
            .arg(millis(timeout, "timeout")?)
            .call(&self.lock.client)?;
        if done != 1 {
            return Err(self.not_owned("reacquire"));
        }
        Ok(())
    }

    /// Whether the key still holds this guard's token.
    pub fn owned(&self) -> Result<bool> {
        let value: Option<String> = self.lock.client.query(("GET", &self.lock.name))?;
        Ok(value.as_deref() == Some(self.token.as_str()))
    }

    fn not_owned(&self, action: &str) -> Error {
        Error::LockNotOwned(format!(
            "cannot {action} lock `{}`: it expired or another owner holds it",
            self.lock.name
        ))
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        if !self.released {
            // Nobody to report to; an expired lock is simply not ours to release any more.
            let _ = self.release_now();
        }
    }
}

impl fmt::Debug for LockGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockGuard")
            .field("name", &self.lock.name)
            .field("token", &self.token)
            .finish()
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
fn new_token() -> String {
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
}
