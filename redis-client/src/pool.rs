//! Thread-safe connection pools (documented on [`ConnectionPool`]).

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::connection::connector::Connector;
use crate::connection::locator::Locator;
use crate::connection::Connection;
use crate::error::{Error, Result};

/// What `get` does when every connection is in use.
#[derive(Clone, Copy, Debug)]
enum WhenExhausted {
    Fail,
    /// Wait for a connection to be returned; `None` waits forever.
    Wait(Option<Duration>),
}

#[derive(Default)]
struct State {
    /// Returned connections, most recently used last (handed out first, so idle ones age out).
    /// Boxed so checkout and return move a pointer between here and the guard, not the whole
    /// connection with its buffers' headers.
    #[allow(clippy::vec_box)]
    idle: Vec<Box<Connection>>,
    /// Connections that exist: idle ones, checked-out ones and ones being opened.
    open: usize,
    /// Bumped by `disconnect(true)`: connections checked out before are closed when returned.
    generation: u64,
}

/// The pool itself, shared by the pool handles, the guards and clients.
pub(crate) struct Shared {
    connector: Connector,
    max: Option<usize>,
    when_exhausted: WhenExhausted,
    state: Mutex<State>,
    returned: Condvar,
}

/// How many connections a pool holds right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolStats {
    /// Connections that exist (idle plus checked out).
    pub open: usize,
    /// Connections waiting in the pool.
    pub idle: usize,
    /// The limit, if any.
    pub max: Option<usize>,
}

impl Shared {
    fn new(config: Config, when_exhausted: WhenExhausted) -> Result<Arc<Shared>> {
        Ok(Shared::with_connector(
            Connector::new(config)?,
            when_exhausted,
        ))
    }

    fn with_connector(connector: Connector, when_exhausted: WhenExhausted) -> Arc<Shared> {
        Arc::new(Shared {
            max: connector.config().max_connections(),
            connector,
            when_exhausted,
            state: Mutex::new(State::default()),
            returned: Condvar::new(),
        })
    }

    /// A poisoned lock only means another thread panicked while holding it; the state (a list
    /// of connections and counters) stays consistent, so keep going.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn config(&self) -> &Config {
        self.connector.config()
    }

    /// How this pool opens connections.
    pub(crate) fn connector(&self) -> &Connector {
        &self.connector
    }

    /// The locator choosing this pool's servers, when it has one.
    pub(crate) fn locator(&self) -> Option<&Arc<dyn Locator>> {
        self.connector.locator()
    }

    /// Whether `conn` still goes to a server the locator (if any) wants used.
    fn is_current(&self, conn: &Connection) -> bool {
        self.locator().is_none_or(|l| l.is_current(conn.addr()))
    }

    pub(crate) fn get(self: &Arc<Self>) -> Result<PooledConnection> {
        let started = Instant::now();
        let mut state = self.lock();
        loop {
            if let Some(conn) = state.idle.pop() {
                let generation = state.generation;
                drop(state);
                let mut guard = PooledConnection::new(self, conn, generation);
                // A connection that fails its health check, whose server the locator has given
                // up, or with bytes waiting that nobody asked for (a stale reply the next command
                // would take for its own), is dropped; try the next one.
                if self.is_current(&guard)
                    && !guard.has_unread_data()
                    && guard.check_health().is_ok()
                {
                    return Ok(guard);
                }
                guard.discard();
                state = self.lock();
                continue;
            }
            if self.max.is_none_or(|max| state.open < max) {
                state.open += 1;
                let generation = state.generation;
                drop(state);
                return match self.connector.connect() {
                    Ok(conn) => Ok(PooledConnection::new(self, Box::new(conn), generation)),
                    Err(e) => {
                        self.release_slot();
                        Err(e)
                    }
                };
            }
            let max = self.max.unwrap_or(usize::MAX);
            state = match self.when_exhausted {
                WhenExhausted::Fail => {
                    return Err(Error::PoolExhausted {
                        max_connections: max,
                        waited: None,
                    })
                }
                WhenExhausted::Wait(None) => self
                    .returned
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner),
                WhenExhausted::Wait(Some(timeout)) => {
                    let Some(left) = timeout.checked_sub(started.elapsed()) else {
                        return Err(Error::PoolExhausted {
                            max_connections: max,
                            waited: Some(timeout),
                        });
                    };
                    self.returned
                        .wait_timeout(state, left)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
        }
    }

    fn put_back(&self, mut conn: Box<Connection>, generation: u64) {
        // A push handler belongs to whoever borrowed the connection, not to the next borrower.
        conn.clear_push_handler();
        let current = self.is_current(&conn);
        let mut state = self.lock();
        let keep = current
            && conn.is_reusable()
            && generation == state.generation
            && conn.db() == self.config().db();
        if keep {
            state.idle.push(conn);
            drop(state);
        } else {
            state.open -= 1;
            drop(state);
            drop(conn);
        }
        self.notify_returned();
    }

    fn release_slot(&self) {
        self.lock().open -= 1;
        self.notify_returned();
    }

    /// Wakes a `get` waiting for a connection. Only blocking pools ever wait, and std's
    /// `notify_one` is a futex system call even when nobody does, so other pools skip it (one
    /// system call less per command on a pooled `Client`).
    fn notify_returned(&self) {
        if matches!(self.when_exhausted, WhenExhausted::Wait(_)) {
            self.returned.notify_one();
        }
    }

    pub(crate) fn disconnect(&self, inflight: bool) {
        let mut state = self.lock();
        let idle = std::mem::take(&mut state.idle);
        state.open -= idle.len();
        if inflight {
            state.generation += 1;
        }
        drop(state);
        drop(idle);
        self.returned.notify_all();
    }

    pub(crate) fn stats(&self) -> PoolStats {
        let state = self.lock();
        PoolStats {
            open: state.open,
            idle: state.idle.len(),
            max: self.max,
        }
    }
}

/// A connection borrowed from a pool; it goes back when dropped.
///
/// Derefs to [`Connection`]. A broken connection, one with unread pipelined replies or bytes
/// nobody asked for, one switched to another database (with [`Connection::select`] or a raw `SELECT`), or one left in
/// a state its next user would inherit is closed instead of returned.
pub struct PooledConnection {
    /// Boxed so that moving a connection in and out of the pool copies a pointer.
    conn: Option<Box<Connection>>,
    pool: Arc<Shared>,
    generation: u64,
}

impl PooledConnection {
    fn new(pool: &Arc<Shared>, conn: Box<Connection>, generation: u64) -> PooledConnection {
        PooledConnection {
            conn: Some(conn),
            pool: Arc::clone(pool),
            generation,
        }
    }

    /// Closes the connection now instead of returning it, freeing its slot.
    pub fn discard(mut self) {
        if self.conn.take().is_some() {
            self.pool.release_slot();
        }
    }

    /// Takes the connection out of the pool for good; the pool may open another in its place.
    pub fn detach(mut self) -> Connection {
        let conn = self
            .conn
            .take()
            .expect("a guard holds its connection until dropped");
        self.pool.release_slot();
        *conn
    }
}

impl Deref for PooledConnection {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.conn
            .as_ref()
            .expect("a guard holds its connection until dropped")
    }
}

impl DerefMut for PooledConnection {
    fn deref_mut(&mut self) -> &mut Connection {
        self.conn
            .as_mut()
            .expect("a guard holds its connection until dropped")
    }
}

impl Drop for PooledConnection {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.pool.put_back(conn, self.generation);
        }
    }
}

impl fmt::Debug for PooledConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PooledConnection")
            .field("conn", &self.conn)
            .finish_non_exhaustive()
    }
}

macro_rules! pool_handle_methods {
    () => {
        /// Borrows a connection: an idle one (health-checked when due) or a new one.
        pub fn get(&self) -> Result<PooledConnection> {
            self.shared.get()
        }

        /// Closes every idle connection; with `inflight`, connections checked out now are
        /// closed too as soon as they come back, instead of being reused.
        pub fn disconnect(&self, inflight: bool) {
            self.shared.disconnect(inflight)
        }

        /// Current connection counts.
        pub fn stats(&self) -> PoolStats {
            self.shared.stats()
        }

        /// The configuration every connection is opened with.
        pub fn config(&self) -> &Config {
            self.shared.config()
        }

        pub(crate) fn shared(&self) -> Arc<Shared> {
            Arc::clone(&self.shared)
        }
    };
}

/// A pool that opens up to `max_connections` and then fails with [`Error::PoolExhausted`].
///
/// Cloning is cheap and shares the pool.
///
/// [`ConnectionPool`] fails at once with [`Error::PoolExhausted`] when all of its
/// `max_connections` are in use; [`BlockingConnectionPool`] waits for one to come back, up to a
/// timeout or forever. Both hand out a [`PooledConnection`] guard that returns the connection
/// on drop — unless it is broken, owes replies, holds bytes nobody asked for, was switched to
/// another database, or was left in a state its next user would inherit (`MULTI`, `WATCH`,
/// `SUBSCRIBE`, `CLIENT REPLY` …; see [`crate::Client`]), in which case it is closed and its
/// slot freed, so a bad connection is never handed out again. On checkout a connection with
/// bytes waiting on its socket (a stale reply) is closed too, and one idle longer than
/// `health_check_interval` is checked with `PING`.
#[derive(Clone)]
pub struct ConnectionPool {
    shared: Arc<Shared>,
}

impl ConnectionPool {
    /// A pool for `config`, limited by its `max_connections` (unlimited when unset).
    ///
    /// Opens nothing yet; certificate files are read now, so a bad one fails here.
    pub fn new(config: Config) -> Result<ConnectionPool> {
        Ok(ConnectionPool {
            shared: Shared::new(config, WhenExhausted::Fail)?,
        })
    }

    /// A pool whose every new connection goes where `locator` says at that moment; `config`
    /// supplies everything but the address.
    pub(crate) fn with_locator(
        config: Config,
        locator: Arc<dyn Locator>,
    ) -> Result<ConnectionPool> {
        Ok(ConnectionPool {
            shared: Shared::with_connector(
                Connector::with_locator(config, locator)?,
                WhenExhausted::Fail,
            ),
        })
    }

    pool_handle_methods!();
}

/// A pool that, when all `max_connections` are in use, waits for one to be returned.
///
/// Cloning is cheap and shares the pool.
#[derive(Clone)]
pub struct BlockingConnectionPool {
    shared: Arc<Shared>,
}

impl BlockingConnectionPool {
    /// A pool for `config` whose `get` waits up to `timeout` (`None`: forever) for a connection.
    ///
    /// Without `max_connections` in `config`, the limit is 50 (as in redis-py), since an
    /// unlimited pool would never wait.
    pub fn new(config: Config, timeout: Option<Duration>) -> Result<BlockingConnectionPool> {
        let config = match config.max_connections() {
            Some(_) => config,
            None => config.to_builder().max_connections(50).build()?,
        };
        Ok(BlockingConnectionPool {
            shared: Shared::new(config, WhenExhausted::Wait(timeout))?,
        })
    }

    pool_handle_methods!();
}

impl fmt::Debug for ConnectionPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionPool")
            .field("config", self.config())
            .field("stats", &self.stats())
            .finish()
    }
}

impl fmt::Debug for BlockingConnectionPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingConnectionPool")
            .field("config", self.config())
            .field("stats", &self.stats())
            .finish()
    }
}
