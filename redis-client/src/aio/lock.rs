//! [`AsyncLock`]: the distributed lock of [`crate::Lock`] on the tokio front end, with the
//! same scripts, tokens and rules ([`crate::lock`]'s `rules`); only the waiting is tokio's.

use std::fmt;
use std::time::{Duration, Instant};

use super::client::AsyncClient;
use super::script::AsyncRunner;
use super::sentinel_client::AsyncSentinelClient;
use crate::error::Result;
use crate::lock::{new_token, replace_flag, scripts, Settings};
use crate::resp::{FromValue, ToArgs};

/// A client an [`AsyncLock`] can hold: [`AsyncClient`] or [`AsyncSentinelClient`].
pub trait LockClient: Clone + Send + Sync + 'static {
    /// The runner scripts and commands go through.
    #[doc(hidden)]
    fn runner(&self) -> impl AsyncRunner + '_;
}

impl LockClient for AsyncClient {
    fn runner(&self) -> impl AsyncRunner + '_ {
        self
    }
}

impl LockClient for AsyncSentinelClient {
    fn runner(&self) -> impl AsyncRunner + '_ {
        self
    }
}

/// Runs `args` on `client` and converts the reply.
async fn query<C: LockClient, T: FromValue>(client: &C, args: impl ToArgs + Sync) -> Result<T> {
    let mut runner = client.runner();
    T::from_value(runner.execute_raw(&args).await?)
}

/// How an async lock behaves: its key, lifetime and waiting policy; cheap to clone, each
/// [`AsyncLock::acquire`] gets its own token. The semantics are [`crate::Lock`]'s.
///
/// ```no_run
/// use std::time::Duration;
/// use redis_client::AsyncClient;
///
/// # async fn demo() -> redis_client::Result<()> {
/// let client = AsyncClient::open("redis://127.0.0.1/")?;
/// let lock = client
///     .lock("locks:report")
///     .timeout(Duration::from_secs(10))
///     .blocking_timeout(Duration::from_secs(2));
/// let guard = lock.acquire().await?; // Error::Lock if not acquired within 2 s
/// guard.extend(Duration::from_secs(5), false).await?;
/// guard.release().await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct AsyncLock<C: LockClient = AsyncClient> {
    client: C,
    settings: Settings,
}

impl AsyncClient {
    /// A lock on key `name`: no lifetime limit, blocking without a bound, polling every 100 ms
    /// (the defaults of [`crate::Client::lock`]).
    pub fn lock(&self, name: impl Into<String>) -> AsyncLock {
        AsyncLock {
            client: self.clone(),
            settings: Settings::new(name.into()),
        }
    }
}

impl AsyncSentinelClient {
    /// A lock on key `name` on the server this client follows (defaults as
    /// [`AsyncClient::lock`]).
    pub fn lock(&self, name: impl Into<String>) -> AsyncLock<AsyncSentinelClient> {
        AsyncLock {
            client: self.clone(),
            settings: Settings::new(name.into()),
        }
    }
}

impl<C: LockClient> AsyncLock<C> {
    /// How long the lock lives once acquired (millisecond precision).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.settings.timeout = Some(timeout);
        self
    }

    /// How long to wait between attempts while blocking.
    pub fn sleep(mut self, sleep: Duration) -> Self {
        self.settings.sleep = sleep;
        self
    }

    /// Whether [`AsyncLock::acquire`] waits for a lock someone else holds (the default) or
    /// fails at once.
    pub fn blocking(mut self, blocking: bool) -> Self {
        self.settings.blocking = blocking;
        self
    }

    /// The longest [`AsyncLock::acquire`] waits before failing with
    /// [`Error::Lock`](crate::Error::Lock).
    pub fn blocking_timeout(mut self, timeout: Duration) -> Self {
        self.settings.blocking_timeout = Some(timeout);
        self
    }

    /// The lock's key.
    pub fn name(&self) -> &str {
        &self.settings.name
    }

    /// Takes the lock with a new token, waiting (with `tokio::time::sleep`) as configured.
    pub async fn acquire(&self) -> Result<AsyncLockGuard<C>> {
        let started = Instant::now();
        let token = new_token();
        loop {
            if self.try_once(&token).await? {
                return Ok(self.guard(token));
            }
            let pause = self.settings.after_miss(started, Instant::now())?;
            tokio::time::sleep(pause).await;
        }
    }

    /// One attempt to take the lock: `Ok(None)` when someone else holds it.
    pub async fn try_acquire(&self) -> Result<Option<AsyncLockGuard<C>>> {
        let token = new_token();
        Ok(self.try_once(&token).await?.then(|| self.guard(token)))
    }

    fn guard(&self, token: String) -> AsyncLockGuard<C> {
        AsyncLockGuard {
            lock: self.clone(),
            token,
            released: false,
        }
    }

    async fn try_once(&self, token: &str) -> Result<bool> {
        let ttl = self.settings.acquire_ttl()?;
        let taken: i64 = scripts()
            .acquire
            .key(&self.settings.name)
            .arg(token)
            .arg(ttl)
            .call_async(self.client.runner())
            .await?;
        Ok(taken == 1)
    }

    /// Whether anyone holds the lock now.
    pub async fn locked(&self) -> Result<bool> {
        let exists: i64 = query(&self.client, ("EXISTS", &self.settings.name)).await?;
        Ok(exists == 1)
    }
}

impl<C: LockClient> fmt::Debug for AsyncLock<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AsyncLock").field(&self.settings).finish()
    }
}

/// A held async lock. Release it with [`AsyncLockGuard::release`]; dropped unreleased, it is
/// released by a task spawned on the current tokio runtime (ignoring failures), or left to
/// expire when there is no runtime.
pub struct AsyncLockGuard<C: LockClient = AsyncClient> {
    lock: AsyncLock<C>,
    token: String,
    released: bool,
}

impl<C: LockClient> AsyncLockGuard<C> {
    /// The token this holder set the key to.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The lock this guard holds.
    pub fn lock(&self) -> &AsyncLock<C> {
        &self.lock
    }

    /// Releases the lock; [`Error::LockNotOwned`](crate::Error::LockNotOwned) when it expired
    /// and is no longer ours.
    pub async fn release(mut self) -> Result<()> {
        self.released = true;
        release(&self.lock, &self.token).await
    }

    /// Adds `additional` to the lock's remaining lifetime, or with `replace_ttl` makes it the
    /// new lifetime (see [`crate::LockGuard::extend`]).
    pub async fn extend(&self, additional: Duration, replace_ttl: bool) -> Result<()> {
        let settings = &self.lock.settings;
        let ms = settings.extend_ms(additional)?;
        let extended: i64 = scripts()
            .extend
            .key(&settings.name)
            .arg(&self.token)
            .arg(ms)
            .arg(replace_flag(replace_ttl))
            .call_async(self.lock.client.runner())
            .await?;
        settings.extended(extended)
    }

    /// Resets the lock's lifetime to its full `timeout`.
    pub async fn reacquire(&self) -> Result<()> {
        let settings = &self.lock.settings;
        let ms = settings.reacquire_ms()?;
        let done: i64 = scripts()
            .reacquire
            .key(&settings.name)
            .arg(&self.token)
            .arg(ms)
            .call_async(self.lock.client.runner())
            .await?;
        settings.reacquired(done)
    }

    /// Whether the key still holds this guard's token.
    pub async fn owned(&self) -> Result<bool> {
        let value: Option<String> =
            query(&self.lock.client, ("GET", &self.lock.settings.name)).await?;
        Ok(value.as_deref() == Some(self.token.as_str()))
    }
}

async fn release<C: LockClient>(lock: &AsyncLock<C>, token: &str) -> Result<()> {
    let deleted: i64 = scripts()
        .release
        .key(&lock.settings.name)
        .arg(token)
        .call_async(lock.client.runner())
        .await?;
    lock.settings.released(deleted)
}

impl<C: LockClient> Drop for AsyncLockGuard<C> {
    fn drop(&mut self) {
        if self.released {
            return;
        }
        // No async drop: a task releases it. Nobody to report to; an expired lock is simply
        // not ours to release any more.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let lock = self.lock.clone();
            let token = std::mem::take(&mut self.token);
            runtime.spawn(async move {
                let _ = release(&lock, &token).await;
            });
        }
    }
}

impl<C: LockClient> fmt::Debug for AsyncLockGuard<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncLockGuard")
            .field("name", &self.lock.settings.name)
            .field("token", &self.token)
            .finish()
    }
}
