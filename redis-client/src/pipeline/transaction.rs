//! [`Client::transaction`]: watch, read, queue, execute — and start over when a watched key
//! changed.

use std::time::Duration;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::resp::ToArgs;

use super::Pipeline;

/// How [`Client::transaction_with`] retries after a watched key changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransactionOptions {
    max_retries: u32,
    retry_delay: Duration,
}

impl Default for TransactionOptions {
    /// Up to 100 retries, without delay (optimistic locking expects conflicts to be rare).
    fn default() -> Self {
        TransactionOptions {
            max_retries: 100,
            retry_delay: Duration::ZERO,
        }
    }
}

impl TransactionOptions {
    /// The default options.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many times to start over after [`Error::Watch`] before returning it.
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// How many times to start over after [`Error::Watch`].
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    pub(crate) fn max_retries_count(&self) -> u32 {
        self.max_retries
    }

    /// How long to wait before starting over.
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    pub(crate) fn retry_delay_time(&self) -> std::time::Duration {
        self.retry_delay
    }

    /// How long to wait before starting over (redis-py's `watch_delay`).
    pub fn retry_delay(mut self, delay: Duration) -> Self {
        self.retry_delay = delay;
        self
    }
}

impl Client {
    /// Runs an optimistic transaction over `keys`, retrying when one of them changes under it.
    ///
    /// Each attempt takes a fresh pipeline, `WATCH`es `keys` and calls `f` with it: `f` reads
    /// what it needs through [`Pipeline::immediate`], calls [`Pipeline::multi`] and queues the
    /// writes. The pipeline is then executed; if a watched key changed ([`Error::Watch`]), all
    /// of it starts over, up to 100 times (see [`Client::transaction_with`]). Returns what `f`
    /// returned in the attempt that committed; an error from `f` or from a queued command ends
    /// the transaction at once.
    ///
    /// ```no_run
    /// use redis_client::Client;
    ///
    /// let client = Client::open("redis://127.0.0.1/")?;
    /// let doubled: i64 = client.transaction(
    ///     |pipe| {
    ///         let n: Option<i64> = pipe.immediate()?.query(["GET", "n"])?;
    ///         let doubled = n.unwrap_or(1) * 2;
    ///         pipe.multi()?.raw(("SET", "n", doubled));
    ///         Ok(doubled)
    ///     },
    ///     "n",
    /// )?;
    /// # Ok::<(), redis_client::Error>(())
    /// ```
    pub fn transaction<R, F>(&self, f: F, keys: impl ToArgs) -> Result<R>
    where
        F: FnMut(&mut Pipeline<'_>) -> Result<R>,
    {
        self.transaction_with(TransactionOptions::default(), f, keys)
    }

    /// [`Client::transaction`] with the retry bound and delay of `options`.
    pub fn transaction_with<R, F>(
        &self,
        options: TransactionOptions,
        mut f: F,
        keys: impl ToArgs,
    ) -> Result<R>
    where
        F: FnMut(&mut Pipeline<'_>) -> Result<R>,
    {
        let mut retries = 0;
        loop {
            let mut pipe = self.pipeline();
            pipe.watch(&keys)?;
            let value = f(&mut pipe)?;
            match pipe.execute() {
                Ok(_) => return Ok(value),
                Err(Error::Watch) if retries < options.max_retries => {
                    retries += 1;
                    if !options.retry_delay.is_zero() {
                        std::thread::sleep(options.retry_delay);
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }
}
