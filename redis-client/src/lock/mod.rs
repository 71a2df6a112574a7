//! A distributed lock on one key (documented on [`Lock`]).

mod holder;
mod rules;

use std::fmt;
use std::time::{Duration, Instant};

use crate::client::Client;
use crate::cluster::ClusterClient;
use crate::error::Result;
use holder::Holder;

pub(crate) use rules::{new_token, replace_flag, scripts, Settings};

/// How a lock behaves: its key, lifetime and waiting policy. Cheap to clone; share it between
/// threads, each [`Lock::acquire`] gets its own token.
///
/// A distributed lock on one key, shaped after redis-py's `Lock`.
///
/// [`Client::lock`] describes the lock (its key, how long it lives, how to wait for it);
/// [`Lock::acquire`] takes it and returns a [`LockGuard`] holding a fresh random token, which
/// is what the key's value is set to. Only the holder of that token can release, extend or
/// reacquire the lock, so a holder whose lock expired and was taken by someone else gets
/// [`crate::Error::LockNotOwned`] instead of releasing someone else's lock. Every operation is one Lua
/// script, so the check of the token and the change are atomic.
///
/// ```no_run
/// use std::time::Duration;
/// use redis_client::Client;
///
/// let client = Client::open("redis://127.0.0.1/")?;
/// let lock = client
///     .lock("locks:report")
///     .timeout(Duration::from_secs(10))
///     .blocking_timeout(Duration::from_secs(2));
/// {
///     let guard = lock.acquire()?; // Error::Lock if not acquired within 2 s
///     // ... work; if it runs long:
///     guard.extend(Duration::from_secs(5), false)?;
/// } // released here
/// # Ok::<(), redis_client::Error>(())
/// ```
#[derive(Clone)]
pub struct Lock {
    client: Holder,
    settings: Settings,
}

impl Client {
    /// A lock on key `name`: no lifetime limit, blocking without a bound, polling every 100 ms
    /// (redis-py's defaults); set them with the builder methods of [`Lock`].
    pub fn lock(&self, name: impl Into<String>) -> Lock {
        Lock::on(Holder::Client(self.clone()), name.into())
    }
}

impl ClusterClient {
    /// A lock on key `name`, held on the primary owning its slot; the same defaults and
    /// builder methods as [`Client::lock`].
    pub fn lock(&self, name: impl Into<String>) -> Lock {
        Lock::on(Holder::Cluster(self.clone()), name.into())
    }
}

impl Lock {
    fn on(client: Holder, name: String) -> Lock {
        Lock {
            client,
            settings: Settings::new(name),
        }
    }

    /// How long the lock lives once acquired (millisecond precision), so a crashed holder
    /// cannot keep it forever.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.settings.timeout = Some(timeout);
        self
    }

    /// How long to wait between attempts while blocking.
    pub fn sleep(mut self, sleep: Duration) -> Self {
        self.settings.sleep = sleep;
        self
    }

    /// Whether [`Lock::acquire`] waits for a lock someone else holds (the default) or fails
    /// at once.
    pub fn blocking(mut self, blocking: bool) -> Self {
        self.settings.blocking = blocking;
        self
    }

    /// The longest [`Lock::acquire`] waits before failing with [`crate::Error::Lock`].
    pub fn blocking_timeout(mut self, timeout: Duration) -> Self {
        self.settings.blocking_timeout = Some(timeout);
        self
    }

    /// The lock's key.
    pub fn name(&self) -> &str {
        &self.settings.name
    }

    /// Takes the lock with a new token, waiting as configured.
    ///
    /// Fails with [`crate::Error::Lock`] when the lock stays taken past `blocking_timeout`, or at
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
            let pause = self.settings.after_miss(started, Instant::now())?;
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
        let ttl = self.settings.acquire_ttl()?;
        let taken: i64 = self.client.call(
            scripts()
                .acquire
                .key(&self.settings.name)
                .arg(token)
                .arg(ttl),
        )?;
        Ok(taken == 1)
    }

    /// Whether anyone holds the lock now.
    pub fn locked(&self) -> Result<bool> {
        let exists: i64 = self.client.query(("EXISTS", &self.settings.name))?;
        Ok(exists == 1)
    }
}

impl fmt::Debug for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.settings;
        f.debug_struct("Lock")
            .field("name", &s.name)
            .field("timeout", &s.timeout)
            .field("sleep", &s.sleep)
            .field("blocking", &s.blocking)
            .field("blocking_timeout", &s.blocking_timeout)
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

    /// Releases the lock; [`crate::Error::LockNotOwned`] when it expired and is no longer ours.
    pub fn release(mut self) -> Result<()> {
        self.released = true;
        self.release_now()
    }

    fn release_now(&self) -> Result<()> {
        let deleted: i64 = self.lock.client.call(
            scripts()
                .release
                .key(&self.lock.settings.name)
                .arg(&self.token),
        )?;
        self.lock.settings.released(deleted)
    }

    /// Adds `additional` to the lock's remaining lifetime, or with `replace_ttl` makes
    /// `additional` its new lifetime.
    ///
    /// Fails with [`crate::Error::LockNotOwned`] when the lock is no longer ours, and with
    /// [`crate::Error::Lock`] for a lock without a lifetime.
    pub fn extend(&self, additional: Duration, replace_ttl: bool) -> Result<()> {
        let ms = self.lock.settings.extend_ms(additional)?;
        let extended: i64 = self.lock.client.call(
            scripts()
                .extend
                .key(&self.lock.settings.name)
                .arg(&self.token)
                .arg(ms)
                .arg(replace_flag(replace_ttl)),
        )?;
        self.lock.settings.extended(extended)
    }

    /// Resets the lock's lifetime to its full `timeout`; [`crate::Error::LockNotOwned`] when the lock
    /// is no longer ours.
    pub fn reacquire(&self) -> Result<()> {
        let ms = self.lock.settings.reacquire_ms()?;
        let done: i64 = self.lock.client.call(
            scripts()
                .reacquire
                .key(&self.lock.settings.name)
                .arg(&self.token)
                .arg(ms),
        )?;
        self.lock.settings.reacquired(done)
    }

    /// Whether the key still holds this guard's token.
    pub fn owned(&self) -> Result<bool> {
        let value: Option<String> = self.lock.client.query(("GET", &self.lock.settings.name))?;
        Ok(value.as_deref() == Some(self.token.as_str()))
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
            .field("name", &self.lock.settings.name)
            .field("token", &self.token)
            .finish()
    }
}
