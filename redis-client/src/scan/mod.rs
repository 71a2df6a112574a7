//! Cursor-free iteration over `SCAN`, `SSCAN`, `HSCAN` and `ZSCAN` (documented on [`ScanIter`]).

use std::collections::VecDeque;
use std::fmt;

use bytes::Bytes;

use crate::client::Client;
use crate::error::Result;
use crate::resp::{Cmd, FromValue, ToArgs};

pub(crate) mod cursor;

use cursor::{Cursor, Target};

/// An iterator over the elements a scan command returns, batch by batch; items are
/// `Result<T>`, and iteration ends after the first error.
///
/// Options (`matching`, `count`, `of_type`) are set before iterating.
///
/// Cursor-free iteration over `SCAN`, `SSCAN`, `HSCAN` and `ZSCAN`, as redis-py's `scan_iter`
/// family: the iterator keeps the cursor and fetches the next batch when one runs out.
///
/// `SCAN` guarantees that every element present for the whole iteration is returned at least
/// once, even while others are added or removed; some may come back more than once, and the
/// iterator passes them on as the server sends them.
///
/// ```no_run
/// use redis_client::Client;
///
/// let client = Client::open("redis://127.0.0.1/")?;
/// for key in client.scan_iter::<String>().matching("user:*").count(500) {
///     println!("{}", key?);
/// }
/// for pair in client.hscan_iter::<String, i64>("scores") {
///     let (field, score) = pair?;
/// }
/// # Ok::<(), redis_client::Error>(())
/// ```
pub struct ScanIter<'c, T> {
    client: &'c Client,
    cursor: Cursor,
    batch: VecDeque<T>,
}

impl Client {
    /// Iterates over the keys of the database (`SCAN`), each converted into `T`.
    pub fn scan_iter<T: FromValue>(&self) -> ScanIter<'_, T> {
        ScanIter::new(self, Target::Keys)
    }

    /// Iterates over the members of the set at `key` (`SSCAN`).
    pub fn sscan_iter<T: FromValue>(&self, key: impl ToArgs) -> ScanIter<'_, T> {
        ScanIter::new(self, Target::Set(Cmd::from_args(&key)))
    }

    /// Iterates over the `(field, value)` pairs of the hash at `key` (`HSCAN`).
    pub fn hscan_iter<F: FromValue, V: FromValue>(&self, key: impl ToArgs) -> ScanIter<'_, (F, V)> {
        ScanIter::new(self, Target::Hash(Cmd::from_args(&key)))
    }

    /// Iterates over the `(member, score)` pairs of the sorted set at `key` (`ZSCAN`).
    pub fn zscan_iter<M: FromValue>(&self, key: impl ToArgs) -> ScanIter<'_, (M, f64)> {
        ScanIter::new(self, Target::SortedSet(Cmd::from_args(&key)))
    }
}

impl<'c, T: FromValue> ScanIter<'c, T> {
    fn new(client: &'c Client, target: Target) -> ScanIter<'c, T> {
        ScanIter {
            client,
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

    /// Only keys holding this type, e.g. `"hash"` (`TYPE`); for [`Client::scan_iter`] only.
    pub fn of_type(mut self, type_name: impl Into<String>) -> Self {
        self.cursor.of_type = Some(type_name.into());
        self
    }

    /// Fetches the next batch with `cmd`.
    fn fetch(&mut self, cmd: Cmd) -> Result<()> {
        let reply = self.client.query(cmd)?;
        let items = self.cursor.take_reply(reply)?;
        self.batch.extend(items);
        Ok(())
    }
}

impl<T: FromValue> Iterator for ScanIter<'_, T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        loop {
            if let Some(item) = self.batch.pop_front() {
                return Some(Ok(item));
            }
            // An empty batch with a nonzero cursor is normal (MATCH filtered it all): go on.
            let fetched = self.cursor.next_command()?.and_then(|cmd| self.fetch(cmd));
            if let Err(e) = fetched {
                self.cursor.stop();
                return Some(Err(e));
            }
        }
    }
}

impl<T> fmt::Debug for ScanIter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScanIter")
            .field("command", &self.cursor.target.command())
            .field("pattern", &self.cursor.pattern)
            .field("count", &self.cursor.count)
            .field("type", &self.cursor.of_type)
            .field("cursor", &self.cursor.position())
            .field("buffered", &self.batch.len())
            .finish()
    }
}
