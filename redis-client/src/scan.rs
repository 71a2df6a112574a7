//! Cursor-free iteration over `SCAN`, `SSCAN`, `HSCAN` and `ZSCAN`, as redis-py's `scan_iter`
//! family: the iterator keeps the cursor and fetches the next batch when one runs out.
//!
//! `SCAN` guarantees that every element present for the whole iteration is returned at least
//! once, even while others are added or removed; some may come back more than once, and the
//! iterator passes them on as the server sends them.
//!
//! ```no_run
//! use redis_client::Client;
//!
//! let client = Client::open("redis://127.0.0.1/")?;
//! for key in client.scan_iter::<String>().matching("user:*").count(500) {
//!     println!("{}", key?);
//! }
//! for pair in client.hscan_iter::<String, i64>("scores") {
//!     let (field, score) = pair?;
//! }
//! # Ok::<(), redis_client::Error>(())
//! ```

use std::collections::VecDeque;
use std::fmt;

use bytes::Bytes;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::resp::{Cmd, FromValue, Value};

/// Which scan command runs, and on which key.
#[derive(Clone, Debug)]
enum Target {
    Keys,
    Set(Cmd),
    Hash(Cmd),
    SortedSet(Cmd),
}

impl Target {
    fn command(&self) -> &'static str {
        match self {
            Target::Keys => "SCAN",
            Target::Set(_) => "SSCAN",
            Target::Hash(_) => "HSCAN",
            Target::SortedSet(_) => "ZSCAN",
        }
    }
}

/// An iterator over the elements a scan command returns, batch by batch; items are
/// `Result<T>`, and iteration ends after the first error.
///
/// Options (`matching`, `count`, `of_type`) are set before iterating.
pub struct ScanIter<'c, T> {
    client: &'c Client,
    target: Target,
    pattern: Option<Bytes>,
    count: Option<u64>,
    of_type: Option<String>,
    /// The cursor for the next batch; `None` once the server said `0`.
    cursor: Option<Bytes>,
    batch: VecDeque<T>,
    failed: bool,
}

impl Client {
    /// Iterates over the keys of the database (`SCAN`), each converted into `T`.
    pub fn scan_iter<T: FromValue>(&self) -> ScanIter<'_, T> {
        ScanIter::new(self, Target::Keys)
    }

    /// Iterates over the members of the set at `key` (`SSCAN`).
    pub fn sscan_iter<T: FromValue>(&self, key: impl crate::ToArgs) -> ScanIter<'_, T> {
        ScanIter::new(self, Target::Set(Cmd::from_args(&key)))
    }

    /// Iterates over the `(field, value)` pairs of the hash at `key` (`HSCAN`).
    pub fn hscan_iter<F: FromValue, V: FromValue>(
        &self,
        key: impl crate::ToArgs,
    ) -> ScanIter<'_, (F, V)> {
        ScanIter::new(self, Target::Hash(Cmd::from_args(&key)))
    }

    /// Iterates over the `(member, score)` pairs of the sorted set at `key` (`ZSCAN`).
    pub fn zscan_iter<M: FromValue>(&self, key: impl crate::ToArgs) -> ScanIter<'_, (M, f64)> {
        ScanIter::new(self, Target::SortedSet(Cmd::from_args(&key)))
    }
}

impl<'c, T: FromValue> ScanIter<'c, T> {
    fn new(client: &'c Client, target: Target) -> ScanIter<'c, T> {
        ScanIter {
            client,
            target,
            pattern: None,
            count: None,
            of_type: None,
            cursor: Some(Bytes::from_static(b"0")),
            batch: VecDeque::new(),
            failed: false,
        }
    }

    /// Only elements (keys, members, fields) matching the glob-style `pattern` (`MATCH`).
    pub fn matching(mut self, pattern: impl AsRef<[u8]>) -> Self {
        self.pattern = Some(Bytes::copy_from_slice(pattern.as_ref()));
        self
    }

    /// A hint of how many elements each batch examines (`COUNT`).
    pub fn count(mut self, count: u64) -> Self {
        self.count = Some(count);
        self
    }

    /// Only keys holding this type, e.g. `"hash"` (`TYPE`); for [`Client::scan_iter`] only.
    pub fn of_type(mut self, type_name: impl Into<String>) -> Self {
        self.of_type = Some(type_name.into());
        self
    }

    /// Fetches the next batch; returns whether the iteration goes on.
    fn fetch(&mut self, cursor: Bytes) -> Result<()> {
        let command = self.target.command();
        let mut cmd = Cmd::new(command);
        match &self.target {
            Target::Keys => {}
            Target::Set(key) | Target::Hash(key) | Target::SortedSet(key) => {
                cmd.push(key);
            }
        }
        cmd.push(&cursor);
        if let Some(pattern) = &self.pattern {
            cmd.push(&"MATCH").push(pattern);
        }
        if let Some(count) = self.count {
            cmd.push(&"COUNT").push(&count);
        }
        if let Some(type_name) = &self.of_type {
            if !matches!(self.target, Target::Keys) {
                return Err(Error::Data(format!(
                    "{command}: TYPE filters keys and exists for SCAN only"
                )));
            }
            cmd.push(&"TYPE").push(type_name);
        }
        let (next, items): (Bytes, Value) = self.client.query(cmd)?;
        let items: Vec<T> = FromValue::from_value(items).map_err(|e| match e {
            Error::Data(message) => Error::Data(format!("{command}: {message}")),
            other => other.with_command(command),
        })?;
        self.batch.extend(items);
        self.cursor = (&next[..] != b"0").then_some(next);
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
            if self.failed {
                return None;
            }
            // An empty batch with a nonzero cursor is normal (MATCH filtered it all): go on.
            let cursor = self.cursor.take()?;
            if let Err(e) = self.fetch(cursor) {
                self.failed = true;
                return Some(Err(e));
            }
        }
    }
}

impl<T> fmt::Debug for ScanIter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScanIter")
            .field("command", &self.target.command())
            .field("pattern", &self.pattern)
            .field("count", &self.count)
            .field("type", &self.of_type)
            .field("cursor", &self.cursor)
            .field("buffered", &self.batch.len())
            .finish()
    }
}
