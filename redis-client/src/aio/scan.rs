//! Cursor-free `SCAN`, `SSCAN`, `HSCAN` and `ZSCAN` on the tokio front end: the same cursor
//! rules as the blocking [`crate::ScanIter`] ([`crate::scan::cursor`]), fetched with `await`.

use std::collections::VecDeque;
use std::fmt;

use bytes::Bytes;

use super::client::AsyncClient;
use super::connection::AsyncConnection;
use super::script::AsyncRunner;
use super::sentinel_client::AsyncSentinelClient;
use crate::error::Result;
use crate::resp::{Cmd, FromValue, ToArgs};
use crate::scan::cursor::{Cursor, Target};

/// A stream of the elements a scan command returns, batch by batch: call
/// [`AsyncScanIter::next`] until it gives `None`; iteration ends after the first error.
///
/// Options (`matching`, `count`, `of_type`) are set before the first `next`. As with `SCAN`
/// itself, every element present for the whole iteration comes at least once, some may come
/// more than once.
///
/// ```no_run
/// use redis_client::aio::AsyncConnection;
/// use redis_client::Config;
///
/// # async fn demo() -> redis_client::Result<()> {
/// let mut conn = AsyncConnection::open(&Config::from_url("redis://127.0.0.1/")?).await?;
/// let mut keys = conn.scan_iter::<String>().matching("user:*").count(500);
/// while let Some(key) = keys.next().await {
///     println!("{}", key?);
/// }
/// # Ok(())
/// # }
/// ```
pub struct AsyncScanIter<R, T> {
    runner: R,
    cursor: Cursor,
    batch: VecDeque<T>,
}

impl AsyncConnection {
    /// Iterates over the keys of the database (`SCAN`), each converted into `T`.
    pub fn scan_iter<T: FromValue>(&mut self) -> AsyncScanIter<&mut AsyncConnection, T> {
        AsyncScanIter::new(self, Target::Keys)
    }

    /// Iterates over the members of the set at `key` (`SSCAN`).
    pub fn sscan_iter<T: FromValue>(
        &mut self,
        key: impl ToArgs,
    ) -> AsyncScanIter<&mut AsyncConnection, T> {
        AsyncScanIter::new(self, Target::Set(Cmd::from_args(&key)))
    }

    /// Iterates over the `(field, value)` pairs of the hash at `key` (`HSCAN`).
    pub fn hscan_iter<F: FromValue, V: FromValue>(
        &mut self,
        key: impl ToArgs,
    ) -> AsyncScanIter<&mut AsyncConnection, (F, V)> {
        AsyncScanIter::new(self, Target::Hash(Cmd::from_args(&key)))
    }

    /// Iterates over the `(member, score)` pairs of the sorted set at `key` (`ZSCAN`).
    pub fn zscan_iter<M: FromValue>(
        &mut self,
        key: impl ToArgs,
    ) -> AsyncScanIter<&mut AsyncConnection, (M, f64)> {
        AsyncScanIter::new(self, Target::SortedSet(Cmd::from_args(&key)))
    }
}

impl AsyncClient {
    /// Iterates over the keys of the database (`SCAN`), each converted into `T`.
    pub fn scan_iter<T: FromValue>(&self) -> AsyncScanIter<&AsyncClient, T> {
        AsyncScanIter::new(self, Target::Keys)
    }

    /// Iterates over the members of the set at `key` (`SSCAN`).
    pub fn sscan_iter<T: FromValue>(&self, key: impl ToArgs) -> AsyncScanIter<&AsyncClient, T> {
        AsyncScanIter::new(self, Target::Set(Cmd::from_args(&key)))
    }

    /// Iterates over the `(field, value)` pairs of the hash at `key` (`HSCAN`).
    pub fn hscan_iter<F: FromValue, V: FromValue>(
        &self,
        key: impl ToArgs,
    ) -> AsyncScanIter<&AsyncClient, (F, V)> {
        AsyncScanIter::new(self, Target::Hash(Cmd::from_args(&key)))
    }

    /// Iterates over the `(member, score)` pairs of the sorted set at `key` (`ZSCAN`).
    pub fn zscan_iter<M: FromValue>(
        &self,
        key: impl ToArgs,
    ) -> AsyncScanIter<&AsyncClient, (M, f64)> {
        AsyncScanIter::new(self, Target::SortedSet(Cmd::from_args(&key)))
    }
}

impl AsyncSentinelClient {
    /// Iterates over the keys of the database (`SCAN`) of the server this client follows.
    pub fn scan_iter<T: FromValue>(&self) -> AsyncScanIter<&AsyncSentinelClient, T> {
        AsyncScanIter::new(self, Target::Keys)
    }

    /// Iterates over the members of the set at `key` (`SSCAN`).
    pub fn sscan_iter<T: FromValue>(
        &self,
        key: impl ToArgs,
    ) -> AsyncScanIter<&AsyncSentinelClient, T> {
        AsyncScanIter::new(self, Target::Set(Cmd::from_args(&key)))
    }

    /// Iterates over the `(field, value)` pairs of the hash at `key` (`HSCAN`).
    pub fn hscan_iter<F: FromValue, V: FromValue>(
        &self,
        key: impl ToArgs,
    ) -> AsyncScanIter<&AsyncSentinelClient, (F, V)> {
        AsyncScanIter::new(self, Target::Hash(Cmd::from_args(&key)))
    }

    /// Iterates over the `(member, score)` pairs of the sorted set at `key` (`ZSCAN`).
    pub fn zscan_iter<M: FromValue>(
        &self,
        key: impl ToArgs,
    ) -> AsyncScanIter<&AsyncSentinelClient, (M, f64)> {
        AsyncScanIter::new(self, Target::SortedSet(Cmd::from_args(&key)))
    }
}

impl<R: AsyncRunner, T: FromValue> AsyncScanIter<R, T> {
    pub(super) fn new(runner: R, target: Target) -> AsyncScanIter<R, T> {
        AsyncScanIter {
            runner,
            cursor: Cursor::new(target),
            batch: VecDeque::new(),
        }
    }

    /// Only elements (keys, members, fields) matching the glob-style `pattern` (`MATCH`).
    pub fn matching(mut self, pattern: impl AsRef<[u8]>) -> Self {
        self.cursor.pattern = Some(Bytes::copy_from_slice(pattern.as_ref()));
        self
    }

    /// A hint of how many elements each batch examines (`COUNT`).
    pub fn count(mut self, count: u64) -> Self {
        self.cursor.count = Some(count);
        self
    }

    /// Only keys holding this type, e.g. `"hash"` (`TYPE`); for `scan_iter` only.
    pub fn of_type(mut self, type_name: impl Into<String>) -> Self {
        self.cursor.of_type = Some(type_name.into());
        self
    }

    /// The next element, fetching the next batch when this one ran out; `None` once the
    /// server's cursor came back to `0`, or after an error.
    ///
    /// Dropping the future while it fetches loses nothing: the cursor moves only once a
    /// batch has arrived, so the next call asks for the same batch again.
    #[allow(clippy::should_implement_trait)] // an async `next`, as streams have
    pub async fn next(&mut self) -> Option<Result<T>> {
        loop {
            if let Some(item) = self.batch.pop_front() {
                return Some(Ok(item));
            }
            // An empty batch with a nonzero cursor is normal (MATCH filtered it all): go on.
            let fetched = match self.cursor.next_command()? {
                Ok(cmd) => self.fetch(cmd).await,
                Err(e) => Err(e),
            };
            if let Err(e) = fetched {
                self.cursor.stop();
                return Some(Err(e));
            }
        }
    }

    /// Every remaining element, in order; the first error ends the collection.
    pub async fn collect(mut self) -> Result<Vec<T>> {
        let mut all = Vec::new();
        while let Some(item) = self.next().await {
            all.push(item?);
        }
        Ok(all)
    }

    async fn fetch(&mut self, cmd: Cmd) -> Result<()> {
        let reply = self.runner.execute_raw(&cmd).await?;
        let items = self.cursor.take_reply(reply)?;
        self.batch.extend(items);
        Ok(())
    }
}

impl<R, T> fmt::Debug for AsyncScanIter<R, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncScanIter")
            .field("command", &self.cursor.target.command())
            .field("pattern", &self.cursor.pattern)
            .field("count", &self.cursor.count)
            .field("type", &self.cursor.of_type)
            .field("cursor", &self.cursor.position())
            .finish()
    }
}
