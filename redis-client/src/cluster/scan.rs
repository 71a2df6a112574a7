//! [`ClusterScanIter`]: every key of the cluster, from every primary.
//!
//! Valkey 9.1+ has `CLUSTERSCAN`, whose cursor names the slot it stopped in (`0-{tag}-0`), so
//! each step goes to the node owning that slot and the walk survives slots moving. Elsewhere
//! `SCAN` runs on each primary of the slot map taken when the iteration starts, one after
//! the other.

use std::collections::VecDeque;
use std::fmt;

use bytes::Bytes;

use super::redirect::Redirect;
use super::slot::key_slot;
use super::ClusterClient;
use crate::error::{Error, Result};
use crate::resp::{Cmd, FromValue, Value};

/// How the keys are walked.
#[derive(Debug)]
enum Walk {
    /// Not decided yet: the first step asks a node whether it has `CLUSTERSCAN`.
    Unknown,
    /// `CLUSTERSCAN` with this cursor.
    ClusterScan(Bytes),
    /// `SCAN` with `cursor` on `nodes[0]`, then on the rest.
    PerPrimary {
        nodes: VecDeque<String>,
        cursor: Bytes,
    },
    /// Done.
    Done,
}

/// An iterator over every key of a cluster (see [`ClusterClient::scan_iter`]); items are
/// `Result<T>`, and iteration ends after the first error.
///
/// As with `SCAN`, a key present for the whole iteration comes at least once; keys may come
/// twice (say, when their slot moves between primaries during a per-primary walk).
pub struct ClusterScanIter<'c, T> {
    cluster: &'c ClusterClient,
    pattern: Option<Bytes>,
    count: Option<u64>,
    of_type: Option<String>,
    walk: Walk,
    batch: VecDeque<T>,
    failed: bool,
}

impl ClusterClient {
    /// Iterates over the keys of every primary, each converted into `T`: `CLUSTERSCAN` where
    /// the servers have it (Valkey 9.1+), otherwise `SCAN` on each primary in turn.
    ///
    /// ```no_run
    /// use redis_client::cluster::ClusterClient;
    ///
    /// let cluster = ClusterClient::open(["redis://127.0.0.1:7000"])?;
    /// for key in cluster.scan_iter::<String>().matching("user:*").count(500) {
    ///     println!("{}", key?);
    /// }
    /// # Ok::<(), redis_client::Error>(())
    /// ```
    pub fn scan_iter<T: FromValue>(&self) -> ClusterScanIter<'_, T> {
        ClusterScanIter {
            cluster: self,
            pattern: None,
            count: None,
            of_type: None,
            walk: Walk::Unknown,
            batch: VecDeque::new(),
            failed: false,
        }
    }
}

impl<T: FromValue> ClusterScanIter<'_, T> {
    /// Only keys matching the glob-style `pattern` (`MATCH`).
    pub fn matching(mut self, pattern: impl AsRef<[u8]>) -> Self {
        self.pattern = Some(Bytes::copy_from_slice(pattern.as_ref()));
        self
    }

    /// A hint of how many keys each step examines (`COUNT`).
    pub fn count(mut self, count: u64) -> Self {
        self.count = Some(count);
        self
    }

    /// Only keys holding this type, e.g. `"hash"` (`TYPE`).
    pub fn of_type(mut self, type_name: impl Into<String>) -> Self {
        self.of_type = Some(type_name.into());
        self
    }

    fn command(&self, name: &str, cursor: &Bytes) -> Cmd {
        let mut cmd = Cmd::new(name);
        cmd.push(cursor);
        if let Some(pattern) = &self.pattern {
            cmd.push(&"MATCH").push(pattern);
        }
        if let Some(count) = self.count {
            cmd.push(&"COUNT").push(&count);
        }
        if let Some(type_name) = &self.of_type {
            cmd.push(&"TYPE").push(type_name);
        }
        cmd
    }

    /// Takes one step of the walk, filling the batch.
    fn step(&mut self) -> Result<()> {
        match std::mem::replace(&mut self.walk, Walk::Done) {
            Walk::Unknown => {
                self.walk = if self.cluster_scan_known()? {
                    Walk::ClusterScan(Bytes::from_static(b"0"))
                } else {
                    let nodes = self.cluster.primary_addrs().into();
                    Walk::PerPrimary {
                        nodes,
                        cursor: Bytes::from_static(b"0"),
                    }
                };
                Ok(())
            }
            Walk::ClusterScan(cursor) => {
                let next = self.cluster_scan(&cursor)?;
                if &next[..] != b"0" {
                    self.walk = Walk::ClusterScan(next);
                }
                Ok(())
            }
            Walk::PerPrimary { mut nodes, cursor } => {
                let Some(node) = nodes.front() else {
                    return Ok(());
                };
                let client = self.cluster.node_client(node)?;
                let (next, items): (Bytes, Value) = client.query(self.command("SCAN", &cursor))?;
                self.take(items, "SCAN")?;
                let cursor = if &next[..] == b"0" {
                    nodes.pop_front();
                    Bytes::from_static(b"0")
                } else {
                    next
                };
                if !nodes.is_empty() {
                    self.walk = Walk::PerPrimary { nodes, cursor };
                }
                Ok(())
            }
            Walk::Done => Ok(()),
        }
    }

    /// Whether the cluster's servers know `CLUSTERSCAN` (asked of one primary).
    fn cluster_scan_known(&self) -> Result<bool> {
        let addrs = self.cluster.primary_addrs();
        let Some(addr) = addrs.first() else {
            return Err(Error::Usage(
                "cluster scan: the slot map has no primary".into(),
            ));
        };
        let client = self.cluster.node_client(addr)?;
        let info: Vec<Value> = client.query(("COMMAND", "INFO", "CLUSTERSCAN"))?;
        Ok(info.first().is_some_and(|v| !matches!(v, Value::Nil)))
    }

    /// One `CLUSTERSCAN` step, sent to the node owning the cursor's slot (following `MOVED`
    /// and `ASK`); returns the next cursor.
    fn cluster_scan(&mut self, cursor: &Bytes) -> Result<Bytes> {
        let cmd = self.command("CLUSTERSCAN", cursor);
        let mut addr = self.cluster.primary_addr(Some(key_slot(cursor)))?;
        let mut asking = false;
        for _ in 0..self.cluster.redirect_budget().attempts {
            let client = self.cluster.node_client(&addr)?;
            let reply = if asking {
                let mut conn = client.get_connection()?;
                conn.query::<()>(["ASKING"])?;
                conn.query::<(Bytes, Value)>(&cmd)
            } else {
                client.query::<(Bytes, Value)>(&cmd)
            };
            match reply {
                Ok((next, items)) => {
                    self.take(items, "CLUSTERSCAN")?;
                    return Ok(next);
                }
                Err(error) => match Redirect::of(&error) {
                    Some(Redirect::Moved { slot, addr: to }) => {
                        self.cluster.note_moved(slot, &to);
                        (addr, asking) = (to, false);
                    }
                    Some(Redirect::Ask { addr: to, .. }) => (addr, asking) = (to, true),
                    _ => return Err(error),
                },
            }
        }
        Err(Error::Usage(format!(
            "CLUSTERSCAN: still redirected after {} attempts (last to {addr})",
            self.cluster.redirect_budget().attempts
        )))
    }

    fn take(&mut self, items: Value, command: &str) -> Result<()> {
        let items: Vec<T> = FromValue::from_value(items).map_err(|e| match e {
            Error::Data(message) => Error::Data(format!("{command}: {message}")),
            other => other.with_command(command),
        })?;
        self.batch.extend(items);
        Ok(())
    }
}

impl<T: FromValue> Iterator for ClusterScanIter<'_, T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        loop {
            if let Some(item) = self.batch.pop_front() {
                return Some(Ok(item));
            }
            if self.failed || matches!(self.walk, Walk::Done) {
                return None;
            }
            if let Err(e) = self.step() {
                self.failed = true;
                return Some(Err(e));
            }
        }
    }
}

impl<T> fmt::Debug for ClusterScanIter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterScanIter")
            .field("walk", &self.walk)
            .field("pattern", &self.pattern)
            .field("count", &self.count)
            .field("type", &self.of_type)
            .field("buffered", &self.batch.len())
            .finish()
    }
}
