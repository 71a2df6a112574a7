//! [`Client`]: the thread-safe entry point — a pool (or one dedicated connection), the retry
//! policy, `decode_responses` and per-client response callbacks.

mod multiplex;

use std::collections::HashMap;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::config::Config;
use crate::connection::connector::Connector;
use crate::connection::request::{CommandInfo, FrameArgs, Request, Typed};
use crate::connection::{Connection, Failure};
use crate::error::{Error, Result};
use crate::pool::{self, BlockingConnectionPool, ConnectionPool, PoolStats, PooledConnection};
use crate::resp::{FromValue, ToArgs, Value};
use crate::retry::Sent;
use multiplex::Multiplexer;

/// A function that rewrites a command's reply before typed conversion.
pub type ResponseCallback = Arc<dyn Fn(Value) -> Result<Value> + Send + Sync>;

/// A Redis client: cheap to clone, safe to share between threads.
///
/// Clones share the same connections. Commands run on a pooled connection (a
/// [`ConnectionPool`] limited by `max_connections`, or a pool given to [`Client::with_pool`] /
/// [`Client::with_blocking_pool`]), or, in single-connection mode, on one dedicated connection
/// behind a mutex. A broken connection is never reused; the next command gets a fresh one.
///
/// There is deliberately no `select`: with a pool, a connection switched to another database
/// would go back to the pool and silently serve later commands — from any thread — against the
/// wrong database. Choose the database in the [`Config`] (`redis://host/3`), or use
/// [`Connection::select`] on a connection you own; a pooled connection returned with another
/// database is closed, not reused.
///
/// # Commands that change the connection's state
///
/// The spec flags the commands whose effect stays with the connection they ran on (the
/// generated [`CommandMeta::connection_state`](crate::command::CommandMeta::connection_state)): `SELECT`,
/// `MULTI`/`EXEC`/`DISCARD`, `WATCH`/`UNWATCH`, the `SUBSCRIBE` family, `CLIENT REPLY`,
/// `CLIENT TRACKING`, `CLIENT SETNAME`, `AUTH`, `HELLO`, `RESET`, `QUIT`, `MONITOR`,
/// `READONLY` … A `Client` shares its connections — between the pool's users, between threads
/// on the multiplexed connection, between clones on the single connection — so it refuses every
/// one of them with [`Error::Usage`] before sending anything, typed (`client.run(cmd::Select::new(1))`)
/// or raw (`client.execute(["SELECT", "1"])`, looked up by name, case-insensitively,
/// subcommands included); so do [`Pipeline`](crate::Pipeline)s and transactions, whose
/// connection goes back to the pool. redis-py sends them on a pooled connection; running them
/// on a connection that is then thrown away, the other way out, would only hide the mistake
/// (`SELECT` would answer `OK` and change nothing, `CLIENT REPLY OFF` would never answer), so
/// none is run that way. Run them where the state is yours: on a [`Connection`], or on a
/// connection borrowed with [`Client::get_connection`]. A borrowed connection keeps track of
/// what they did and is closed instead of reused when it comes back on another database, in
/// `MULTI` or `WATCH`, subscribed, with `CLIENT REPLY` or `CLIENT TRACKING` changed, after a
/// `HELLO` that switched protocol, user or name … while a `WATCH` … `EXEC` (or `UNWATCH`) that
/// ended where it started costs nothing.
///
/// # Multiplexed mode
///
/// With [`Config::multiplexed`] (`?multiplexed=true` in the URL) a pooled client sends the
/// commands of all its threads over one shared connection. Over TCP and Unix sockets callers
/// write their commands as they come (a thread finding another mid-write leaves its command for
/// that write) while one background thread (`redis-client-mux-reader`, ending with the last
/// clone of the client) reads the replies and hands each to its caller, so many commands are in
/// flight at once. Over TLS, whose stream cannot be split, whoever finds the connection idle
/// writes every command queued so far and reads their replies; commands queued meanwhile go out
/// as the next batch. One write and one read then serve many callers, which raises throughput
/// when many threads issue small commands. The trade-offs:
/// - head-of-line blocking: a command waits for every reply ahead of it in its batch, so one
///   large reply (or a slow command such as `KEYS`) delays the small ones behind it;
/// - a failed read (or a reply overdue by the socket timeout) loses every reply still owed:
///   those callers get an error naming their command (retried per the [`crate::Retry`] policy
///   like any other), and the next command opens a new connection;
/// - blocking commands (`BLPOP`, `XREAD … BLOCK`, `WAIT` …, per the generated command table),
///   [`Client::get_connection`], pipelines, transactions and pub/sub still use the pool, so a
///   blocking command never holds up the other threads.
///
/// The default is off: every command gets a pooled connection of its own, as in redis-py.
///
/// ```no_run
/// use redis_client::Client;
///
/// let client = Client::open("redis://127.0.0.1/0")?;
/// client.execute(["SET", "k", "v"])?;
/// let v: Option<String> = client.query(["GET", "k"])?;
/// # Ok::<(), redis_client::Error>(())
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
    callbacks: Arc<HashMap<String, ResponseCallback>>,
}

struct Inner {
    config: Config,
    backend: Backend,
    /// The shared connection of a multiplexed pooled client.
    mux: Option<Multiplexer>,
}

enum Backend {
    Pool(Arc<pool::Shared>),
    Single(Box<Single>),
}

struct Single {
    connector: Connector,
    conn: Mutex<Option<Connection>>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut callbacks: Vec<&String> = self.callbacks.keys().collect();
        callbacks.sort();
        f.debug_struct("Client")
            .field("config", &self.inner.config)
            .field("single_connection", &self.is_single_connection())
            .field("multiplexed", &self.is_multiplexed())
            .field("response_callbacks", &callbacks)
            .finish()
    }
}

impl Client {
    /// A pooled client for a URL (see [`Config::from_url`]). Connects lazily.
    pub fn open(url: &str) -> Result<Client> {
        Client::new(Config::from_url(url)?)
    }

    /// A pooled client: a [`ConnectionPool`] limited by the config's `max_connections`.
    ///
    /// Connects lazily; TLS certificate files are read now, so a bad one fails here.
    pub fn new(config: Config) -> Result<Client> {
        Ok(Client::with_pool(ConnectionPool::new(config)?))
    }

    /// A client over an existing pool (shared with whoever else holds it).
    pub fn with_pool(pool: ConnectionPool) -> Client {
        Client::from_shared(pool.shared())
    }

    /// A client over a blocking pool: commands wait for a free connection instead of failing.
    pub fn with_blocking_pool(pool: BlockingConnectionPool) -> Client {
        Client::from_shared(pool.shared())
    }

    fn from_shared(shared: Arc<pool::Shared>) -> Client {
        let config = shared.config().clone();
        let mux = config
            .multiplexed()
            .then(|| Multiplexer::new(shared.connector().clone()));
        Client {
            inner: Arc::new(Inner {
                config,
                backend: Backend::Pool(shared),
                mux,
            }),
            callbacks: Arc::default(),
        }
    }

    /// A client with one dedicated connection, opened lazily and reopened if it breaks.
    ///
    /// Commands from all clones and threads take turns on it, one round trip at a time (the
    /// config's `multiplexed` setting does not apply).
    pub fn single_connection(config: Config) -> Result<Client> {
        Ok(Client {
            inner: Arc::new(Inner {
                backend: Backend::Single(Box::new(Single {
                    connector: Connector::new(config.clone())?,
                    conn: Mutex::new(None),
                })),
                config,
                mux: None,
            }),
            callbacks: Arc::default(),
        })
    }

    /// The configuration connections are opened with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// How this client opens connections (a clone sharing the TLS setup and any locator).
    pub(crate) fn connector(&self) -> Connector {
        match &self.inner.backend {
            Backend::Pool(shared) => shared.connector().clone(),
            Backend::Single(single) => single.connector.clone(),
        }
    }

    /// Whether this client runs in single-connection mode.
    pub fn is_single_connection(&self) -> bool {
        matches!(self.inner.backend, Backend::Single(_))
    }

    /// Whether commands of all threads share one connection in batches (see
    /// [multiplexed mode](Client#multiplexed-mode)).
    pub fn is_multiplexed(&self) -> bool {
        self.inner.mux.is_some()
    }

    /// Connection counts of the pool (the multiplexed connection is not among them); `None` in single-connection mode.
    pub fn pool_stats(&self) -> Option<PoolStats> {
        match &self.inner.backend {
            Backend::Pool(shared) => Some(shared.stats()),
            Backend::Single(_) => None,
        }
    }

    /// Sends one command and returns its reply: the raw escape hatch for any command,
    /// e.g. `client.execute(["SET", "k", "v"])`.
    ///
    /// Error replies become `Err`. Failures are retried per the config's [`crate::Retry`]
    /// policy, only when that cannot run the command twice (see [`crate::Retry`]).
    pub fn execute(&self, args: impl ToArgs) -> Result<Value> {
        self.run_request(Request::encode(&args)?, false)
    }

    /// Runs a typed command, whose type tells its name and metadata.
    pub(crate) fn execute_as(&self, args: impl ToArgs, typed: Typed) -> Result<Value> {
        self.run_request(Request::encode_as(&args, Some(typed))?, false)
    }

    /// Like [`Client::execute`], declaring that running the command twice is harmless, so it
    /// may be retried even after it might have reached the server.
    pub fn execute_idempotent(&self, args: impl ToArgs) -> Result<Value> {
        self.run_request(Request::encode(&args)?, true)
    }

    /// Sends one command and converts its reply (after any response callback) into `T`.
    ///
    /// A server error nested in the reply (say, inside an array) names the command too.
    pub fn query<T: FromValue>(&self, args: impl ToArgs) -> Result<T> {
        let request = Request::encode(&args)?;
        let name = request.info.name.clone();
        let value = self.run_request(request, false)?;
        T::from_value(value).map_err(|e| e.with_command(&name))
    }

    /// Registers `callback` to rewrite the replies of command `name` (e.g. `"GET"`, or
    /// `"CLIENT LIST"` for a subcommand), replacing any earlier one for that name.
    ///
    /// Callbacks belong to this client value and to clones made after this call; clones made
    /// before keep their own set. They run after `decode_responses` checks and before typed
    /// conversion, and not for error replies.
    pub fn set_response_callback<F>(&mut self, name: &str, callback: F)
    where
        F: Fn(Value) -> Result<Value> + Send + Sync + 'static,
    {
        Arc::make_mut(&mut self.callbacks).insert(name.to_ascii_uppercase(), Arc::new(callback));
    }

    /// Removes the callback for `name`, if any.
    pub fn remove_response_callback(&mut self, name: &str) {
        Arc::make_mut(&mut self.callbacks).remove(&name.to_ascii_uppercase());
    }

    /// Borrows a connection for several commands in a row (pipelining, `WATCH` …).
    ///
    /// Pooled: the connection returns to the pool when the guard drops. Single-connection mode:
    /// the guard holds the client's connection; other users wait until it drops.
    pub fn get_connection(&self) -> Result<ClientConnection<'_>> {
        match &self.inner.backend {
            Backend::Pool(shared) => Ok(ClientConnection::Pooled(shared.get()?)),
            Backend::Single(single) => {
                let Single { connector, conn } = &**single;
                let mut guard = lock_single(conn);
                self.ensure_single(connector, &mut guard)?;
                Ok(ClientConnection::Single(guard))
            }
        }
    }

    /// What kind of shared executor this client is, for errors.
    pub(crate) fn kind(&self) -> &'static str {
        match (&self.inner.backend, &self.inner.mux) {
            (Backend::Single(_), _) => "a single-connection client",
            (Backend::Pool(_), Some(_)) => "a multiplexed client",
            (Backend::Pool(_), None) => "a pooled client",
        }
    }

    fn run_request(&self, request: Request, idempotent: bool) -> Result<Value> {
        // Every connection behind a client is shared; see "Commands that change the
        // connection's state" above.
        request.info.refuse_connection_state(self.kind())?;
        let config = &self.inner.config;
        let retry = config.retry();
        let safe_to_repeat = idempotent || request.info.is_read_only();
        let mut attempt = 0;
        loop {
            let failure = match self.attempt(&request) {
                Ok(value) => return self.finish_reply(&request.frame, &request.info, value),
                Err(failure) => failure,
            };
            let may_retry = if self.server_moved(&failure.error)
                && matches!(failure.error, Error::ReadOnly(_))
            {
                // The former server refused the command, so it did not run; send it again
                // wherever the server went.
                attempt < retry.retries()
            } else {
                retry.should_retry(
                    &failure.error,
                    failure.sent,
                    safe_to_repeat,
                    config.retry_on_timeout(),
                    attempt,
                )
            };
            if !may_retry {
                return Err(failure.error);
            }
            std::thread::sleep(retry.backoff().delay(attempt));
            attempt += 1;
        }
    }

    /// Asks the pool's locator (Sentinel) whether `error` means the server moved; if so, every
    /// pooled connection is closed (checked-out ones when they come back), so none reaches the
    /// former server again.
    fn server_moved(&self, error: &Error) -> bool {
        match &self.inner.backend {
            Backend::Pool(shared) => {
                let moved = shared.locator().is_some_and(|l| l.server_moved(error));
                if moved {
                    shared.disconnect(true);
                    if let Some(mux) = &self.inner.mux {
                        mux.disconnect();
                    }
                }
                moved
            }
            Backend::Single(_) => false,
        }
    }

    fn attempt(&self, request: &Request) -> Result<Value, Failure> {
        let unsent = |error| Failure {
            error,
            sent: Sent::No,
        };
        if let Some(mux) = &self.inner.mux {
            if Multiplexer::takes(&request.info) {
                return mux.run(request);
            }
        }
        match &self.inner.backend {
            Backend::Pool(shared) => shared.get().map_err(unsent)?.run(request),
            Backend::Single(single) => {
                let Single { connector, conn } = &**single;
                let mut guard = lock_single(conn);
                self.ensure_single(connector, &mut guard)
                    .map_err(unsent)?
                    .run(request)
            }
        }
    }

    /// The dedicated connection, opened anew if there is none or the old one cannot be reused.
    fn ensure_single<'s>(
        &self,
        connector: &Connector,
        slot: &'s mut Option<Connection>,
    ) -> Result<&'s mut Connection> {
        // Bytes waiting that nobody asked for would be taken as the next command's reply.
        let usable = slot.as_mut().is_some_and(|c| {
            c.is_reusable() && c.db() == self.inner.config.db() && !c.has_unread_data()
        });
        if !usable {
            // Drop the old connection first: it is broken or in an unknown state.
            *slot = None;
        }
        match slot {
            Some(conn) => Ok(conn),
            None => Ok(slot.insert(connector.connect()?)),
        }
    }

    /// Applies `decode_responses` and the response callback to the reply of the command encoded
    /// in `frame`; pipelines call it for each reply they read.
    #[inline]
    pub(crate) fn finish_reply(
        &self,
        frame: &[u8],
        info: &CommandInfo,
        value: Value,
    ) -> Result<Value> {
        if !self.inner.config.decode_responses() && self.callbacks.is_empty() {
            return Ok(value);
        }
        self.check_and_call_back(frame, info, value)
    }

    fn check_and_call_back(&self, frame: &[u8], info: &CommandInfo, value: Value) -> Result<Value> {
        if self.inner.config.decode_responses() {
            check_utf8(&value, &info.name)?;
        }
        match self.callback_for(frame, info) {
            Some(callback) => callback(value),
            None => Ok(value),
        }
    }

    fn callback_for(&self, frame: &[u8], info: &CommandInfo) -> Option<&ResponseCallback> {
        if self.callbacks.is_empty() {
            return None;
        }
        // The generated table names subcommands itself; without an entry, try "CMD SUB" too.
        if info.meta.is_none() {
            let mut args = FrameArgs::new(frame);
            if let (Some(cmd), Some(sub)) = (args.next(), args.next()) {
                let both = format!(
                    "{} {}",
                    String::from_utf8_lossy(cmd),
                    String::from_utf8_lossy(sub)
                )
                .to_ascii_uppercase();
                if let Some(callback) = self.callbacks.get(&both) {
                    return Some(callback);
                }
            }
        }
        self.callbacks.get(info.name.as_ref())
    }
}

fn lock_single(conn: &Mutex<Option<Connection>>) -> MutexGuard<'_, Option<Connection>> {
    // A panic while holding the lock may have left a half-used connection; it is replaced
    // because `is_reusable` checks for owed replies and broken state.
    conn.lock().unwrap_or_else(PoisonError::into_inner)
}

/// With `decode_responses`, every string in a reply must be valid UTF-8.
pub(crate) fn check_utf8(value: &Value, command: &str) -> Result<()> {
    let bad = |e: std::str::Utf8Error| {
        Error::Data(format!(
            "decode_responses: the reply to {command} holds a string that is not valid UTF-8 ({e})"
        ))
    };
    match value {
        Value::Bulk(b) | Value::Simple(b) | Value::BigNumber(b) => {
            std::str::from_utf8(b).map(drop).map_err(bad)
        }
        Value::Verbatim { text, .. } => std::str::from_utf8(text).map(drop).map_err(bad),
        Value::Array(items) | Value::Set(items) | Value::Push(items) => {
            items.iter().try_for_each(|v| check_utf8(v, command))
        }
        Value::Map(pairs) => pairs.iter().try_for_each(|(k, v)| {
            check_utf8(k, command)?;
            check_utf8(v, command)
        }),
        Value::Attribute { attributes, value } => {
            for (k, v) in attributes {
                check_utf8(k, command)?;
                check_utf8(v, command)?;
            }
            check_utf8(value, command)
        }
        Value::Nil | Value::Error(_) | Value::Integer(_) | Value::Double(_) | Value::Boolean(_) => {
            Ok(())
        }
    }
}

/// A connection borrowed from a [`Client`]; derefs to [`Connection`].
pub enum ClientConnection<'a> {
    /// A pooled connection, returned on drop.
    Pooled(PooledConnection),
    /// The single-connection client's connection, held under its lock.
    Single(MutexGuard<'a, Option<Connection>>),
}

impl Deref for ClientConnection<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        match self {
            ClientConnection::Pooled(conn) => conn,
            ClientConnection::Single(guard) => guard
                .as_ref()
                .expect("get_connection opens the connection before handing out the guard"),
        }
    }
}

impl DerefMut for ClientConnection<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        match self {
            ClientConnection::Pooled(conn) => conn,
            ClientConnection::Single(guard) => guard
                .as_mut()
                .expect("get_connection opens the connection before handing out the guard"),
        }
    }
}

impl fmt::Debug for ClientConnection<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_check_walks_nested_replies() {
        let ok = Value::Map(vec![(
            Value::Bulk("k".into()),
            Value::Array(vec![Value::Bulk("é".into()), Value::Integer(1)]),
        )]);
        assert!(check_utf8(&ok, "HGETALL").is_ok());
        let bad = Value::Array(vec![Value::Set(vec![Value::Bulk(vec![0xff, 0xfe].into())])]);
        let err = check_utf8(&bad, "SMEMBERS").unwrap_err();
        assert!(err.to_string().contains("SMEMBERS"), "{err}");
    }

    #[test]
    fn client_is_send_sync_clone() {
        fn assert_traits<T: Send + Sync + Clone + 'static>() {}
        assert_traits::<Client>();
    }
}
