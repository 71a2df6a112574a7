//! [`AsyncSentinel`]: the sentinels asked over tokio connections, with the blocking
//! [`Sentinel`]'s rules and memory.
//!
//! An `AsyncSentinel` wraps a [`Sentinel`]: the asking order, what was learned about each
//! master (epochs, fences) and the judging of every answer are that sentinel's, so a blocking
//! and an async client of the same `Sentinel` agree about which master is current. Only the
//! questions go over tokio connections, one kept per sentinel between questions.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use super::connection::AsyncConnection;
use crate::config::ConnectionAddr;
use crate::error::Result;
use crate::resp::{FromValue, ToArgs, Value};
use crate::sentinel::sentinels::{
    master_addr_query, master_query, no_master, no_replicas, replicas_query,
};
use crate::sentinel::{Sentinel, SentinelOptions};

/// A set of sentinels asked over tokio connections; cheap to clone, safe to share.
///
/// ```no_run
/// use redis_client::aio::AsyncSentinel;
/// use redis_client::sentinel::SentinelOptions;
///
/// # async fn demo() -> redis_client::Result<()> {
/// let sentinel = AsyncSentinel::new(&[("127.0.0.1", 26379)], SentinelOptions::new())?;
/// let master = sentinel.discover_master("mymaster").await?;
/// let replicas = sentinel.discover_slaves("mymaster").await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct AsyncSentinel {
    pub(super) sentinel: Sentinel,
    /// One connection per sentinel (by index), kept between questions.
    conns: Arc<Vec<Mutex<Option<AsyncConnection>>>>,
}

impl fmt::Debug for AsyncSentinel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AsyncSentinel")
            .field(&self.sentinel)
            .finish()
    }
}

impl AsyncSentinel {
    /// Sentinels at these `(host, port)` addresses (IPv6 hosts without brackets). Connects
    /// lazily; fails for an empty list, a bad address, or unreadable TLS files.
    pub fn new<H: AsRef<str>>(
        sentinels: &[(H, u16)],
        options: SentinelOptions,
    ) -> Result<AsyncSentinel> {
        Ok(AsyncSentinel::from_sentinel(Sentinel::new(
            sentinels, options,
        )?))
    }

    /// Asks the sentinels `sentinel` knows, sharing what it learned (and learns).
    pub fn from_sentinel(sentinel: Sentinel) -> AsyncSentinel {
        let count = sentinel.inner.nodes.len();
        AsyncSentinel {
            conns: Arc::new((0..count).map(|_| Mutex::new(None)).collect()),
            sentinel,
        }
    }

    /// The blocking [`Sentinel`] whose rules and memory this one shares.
    pub fn sentinel(&self) -> &Sentinel {
        &self.sentinel
    }

    /// The options this was built with.
    pub fn options(&self) -> &SentinelOptions {
        self.sentinel.options()
    }

    /// The current master of `name`, from the first sentinel with a usable answer; that
    /// sentinel is asked first from now on (see [`Sentinel::discover_master`]).
    pub async fn discover_master(&self, name: &str) -> Result<ConnectionAddr> {
        let inner = &self.sentinel.inner;
        let mut problems = Vec::new();
        for index in inner.nodes.asking_order(None) {
            match self.master_from(index, name).await {
                Ok(addr) => {
                    inner.nodes.promote(index);
                    return Ok(addr);
                }
                Err(problem) => problems.push(problem),
            }
        }
        Err(no_master(name, &problems))
    }

    /// The usable replicas of `name` (see [`Sentinel::discover_slaves`]).
    pub async fn discover_slaves(&self, name: &str) -> Result<Vec<ConnectionAddr>> {
        let inner = &self.sentinel.inner;
        let mut problems = Vec::new();
        let mut answered = false;
        for index in inner.nodes.asking_order(None) {
            let entries = self.query::<Vec<Value>>(index, replicas_query(name)).await;
            match inner.judge_replicas(index, entries) {
                Ok(replicas) if !replicas.is_empty() => return Ok(replicas),
                Ok(_) => answered = true,
                Err(problem) => problems.push(problem),
            }
        }
        if answered {
            Ok(Vec::new())
        } else {
            Err(no_replicas(name, &problems))
        }
    }

    /// What sentinel `index` says about master `name`, judged, or why that is no use.
    pub(super) async fn master_from(
        &self,
        index: usize,
        name: &str,
    ) -> std::result::Result<ConnectionAddr, String> {
        let replies = self
            .query_pair(index, master_query(name), master_addr_query(name))
            .await;
        self.sentinel.inner.judge_master(index, name, replies)
    }

    /// Runs one command on sentinel `index`, reusing its connection when it is still good.
    async fn query<T: FromValue>(&self, index: usize, args: impl ToArgs) -> Result<T> {
        let mut conn = self.checkout(index).await?;
        let result = conn.query(args).await;
        self.put_back(index, conn);
        result
    }

    /// Sends two commands in one round trip to sentinel `index` and returns both replies,
    /// error replies as [`Value::Error`].
    async fn query_pair(
        &self,
        index: usize,
        first: impl ToArgs,
        second: impl ToArgs,
    ) -> Result<(Value, Value)> {
        let mut conn = self.checkout(index).await?;
        let result = async {
            conn.send_command(&first)?;
            conn.send_command(&second)?;
            conn.flush().await?;
            Ok((conn.read_reply().await?, conn.read_reply().await?))
        }
        .await;
        self.put_back(index, conn);
        result
    }

    /// The kept connection to sentinel `index`, or a new one. Taken out, so that tasks asking
    /// the same sentinel meanwhile open their own instead of waiting behind a slow one.
    async fn checkout(&self, index: usize) -> Result<AsyncConnection> {
        let cached = lock(&self.conns[index]).take();
        match cached {
            Some(conn) => Ok(conn),
            None => AsyncConnection::open(&self.sentinel.inner.nodes.get(index).config).await,
        }
    }

    /// Keeps `conn` for the next question, unless it broke or another task left one first.
    fn put_back(&self, index: usize, conn: AsyncConnection) {
        if conn.is_reusable() {
            lock(&self.conns[index]).get_or_insert(conn);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The guarded value (a connection slot) is whole at every step.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
