//! One connection to a server: socket, buffers, handshake, timeouts and health check.
//!
//! A [`Connection`] writes commands into one reused output buffer and parses replies
//! incrementally out of one reused input buffer. After any I/O, timeout or protocol error it is
//! marked broken ([`Connection::is_broken`]) and refuses further use: its position in the reply
//! stream can no longer be trusted, so pools drop it instead of reusing it.

mod handshake;
pub(crate) mod locator;
mod pipelining;
pub(crate) mod request;
pub(crate) mod shortcut;
mod stream;
mod tls;

use std::fmt;
use std::io::{self, Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use native_tls::TlsConnector;

use crate::config::{Config, Protocol};
use crate::error::{Error, Result};
use crate::resp::{write_command, FromValue, Parser, ToArgs, Value};
use crate::retry::Sent;
use locator::Locator;
use request::{CommandInfo, Request, Typed};

pub(crate) use stream::{connection_error, Stream};

/// Receives RESP3 push frames (invalidations, pub/sub messages …) that arrive on a connection
/// while it waits for a command's reply.
pub type PushHandler = Box<dyn FnMut(Value) + Send>;

/// The smallest and largest read attempted at once; the size adapts to the traffic between them.
const MIN_READ: usize = 16 * 1024;
const MAX_READ: usize = 1024 * 1024;
/// How many reads in a row must stay under a quarter of the read size before it halves (and its
/// memory is given back): a big reply should not pin a megabyte to an idle pooled connection,
/// but one small reply between big ones should not shrink it either.
const SHRINK_AFTER: u32 = 16;

/// A failed request and whether it may have run on the server.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) error: Error,
    pub(crate) sent: Sent,
}

impl Failure {
    fn unsent(error: Error) -> Failure {
        Failure {
            error,
            sent: Sent::No,
        }
    }
}

/// Builds connections from one configuration, reading TLS certificate files only once.
#[derive(Clone)]
pub(crate) struct Connector {
    config: Config,
    tls: Option<TlsConnector>,
    /// When set, chooses the server of each connection instead of the config's address.
    locator: Option<Arc<dyn Locator>>,
}

impl Connector {
    pub(crate) fn new(config: Config) -> Result<Connector> {
        let tls = config.tls().map(tls::connector).transpose()?;
        Ok(Connector {
            config,
            tls,
            locator: None,
        })
    }

    /// A connector whose every connection goes where `locator` says at that moment.
    pub(crate) fn with_locator(config: Config, locator: Arc<dyn Locator>) -> Result<Connector> {
        Ok(Connector {
            locator: Some(locator),
            ..Connector::new(config)?
        })
    }

    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    pub(crate) fn locator(&self) -> Option<&Arc<dyn Locator>> {
        self.locator.as_ref()
    }

    pub(crate) fn connect(&self) -> Result<Connection> {
        match &self.locator {
            None => Connection::open_with(&self.config, self.tls.as_ref()),
            Some(locator) => self.connect_located(locator.as_ref()),
        }
    }

    /// Opens a connection wherever the locator says, with everything but the address from
    /// this connector's config.
    fn connect_located(&self, locator: &dyn Locator) -> Result<Connection> {
        locator.connect(&|addr| {
            let config = self.config.to_builder().addr(addr.clone()).build()?;
            Connection::open_with(&config, self.tls.as_ref())
        })
    }
}

/// A single connection to a Redis or Valkey server.
///
/// ```no_run
/// use redis_client::{Config, Connection};
///
/// let mut conn = Connection::open(&Config::from_url("redis://127.0.0.1/0")?)?;
/// conn.execute(["SET", "greeting", "hello"])?;
/// let greeting: String = conn.query(["GET", "greeting"])?;
/// # Ok::<(), redis_client::Error>(())
/// ```
pub struct Connection {
    stream: Stream,
    addr: String,
    read_buf: BytesMut,
    /// Where the socket reads into: zeroed once when it grows and reused, so no read pays for
    /// initialising its whole buffer (safe Rust cannot read into uninitialised memory).
    /// Received bytes are copied into `read_buf`, whose replies the parser hands out zero-copy.
    scratch: Vec<u8>,
    /// Reads in a row that used less than a quarter of `scratch`.
    small_reads: u32,
    write_buf: BytesMut,
    parser: Parser,
    broken: bool,
    protocol: Protocol,
    db: u32,
    socket_timeout: Option<Duration>,
    /// The read timeout currently set on the socket, to skip redundant system calls.
    read_timeout: Option<Duration>,
    health_check_interval: Option<Duration>,
    last_used: Instant,
    /// Replies owed for commands already written.
    pending: usize,
    push_handler: Option<PushHandler>,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("addr", &self.addr)
            .field("protocol", &self.protocol)
            .field("db", &self.db)
            .field("broken", &self.broken)
            .field("pending", &self.pending)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// Connects, then runs the handshake: `HELLO 3` (with `AUTH` and `SETNAME`) or, for RESP2,
    /// `AUTH` and `CLIENT SETNAME`; then `SELECT` and `CLIENT SETINFO` (skipped on servers
    /// without it). Everything up to the end of the handshake obeys the connect timeout.
    pub fn open(config: &Config) -> Result<Connection> {
        Connector::new(config.clone())?.connect()
    }

    fn open_with(config: &Config, tls: Option<&TlsConnector>) -> Result<Connection> {
        let addr = config.addr().to_string();
        let connect_timeout = config.connect_timeout();
        let stream = Stream::connect(config, tls, &addr, connect_timeout)?;
        let mut conn = Connection {
            stream,
            addr,
            read_buf: BytesMut::with_capacity(MIN_READ),
            scratch: vec![0; MIN_READ],
            small_reads: 0,
            write_buf: BytesMut::with_capacity(MIN_READ),
            parser: Parser::new(),
            broken: false,
            protocol: config.protocol(),
            db: config.db(),
            socket_timeout: config.socket_timeout(),
            read_timeout: connect_timeout,
            health_check_interval: config.health_check_interval(),
            last_used: Instant::now(),
            pending: 0,
            push_handler: None,
        };
        handshake::run(&mut conn, config, connect_timeout)?;
        let timeout = conn.socket_timeout;
        conn.stream
            .set_write_timeout(timeout)
            .map_err(|e| connection_error(&conn.addr, "set up", e))?;
        conn.set_read_timeout(timeout)?;
        Ok(conn)
    }

    /// Sends one command and returns its reply.
    ///
    /// An error reply becomes `Err` ([`Error::Response`] and friends, naming the command). A
    /// blocking command (per the generated command table) gets its own timeout added to the
    /// socket timeout while its reply is awaited.
    pub fn execute(&mut self, args: impl ToArgs) -> Result<Value> {
        self.execute_info(args).map(|(value, _)| value)
    }

    /// Sends one command and converts its reply into `T`.
    ///
    /// A server error nested in the reply (say, inside an array) names the command too.
    pub fn query<T: FromValue>(&mut self, args: impl ToArgs) -> Result<T> {
        let (value, info) = self.execute_info(args)?;
        T::from_value(value).map_err(|e| e.with_command(&info.name))
    }

    fn execute_info(&mut self, args: impl ToArgs) -> Result<(Value, CommandInfo)> {
        self.execute_info_as(args, None)
    }

    /// Runs a typed command, whose type tells its name and metadata.
    pub(crate) fn execute_as(&mut self, args: impl ToArgs, typed: Typed) -> Result<Value> {
        self.execute_info_as(args, Some(typed))
            .map(|(value, _)| value)
    }

    fn execute_info_as(
        &mut self,
        args: impl ToArgs,
        typed: Option<Typed>,
    ) -> Result<(Value, CommandInfo)> {
        self.ensure_usable()?;
        if self.pending != 0 || !self.write_buf.is_empty() {
            // The next reply would belong to an earlier command.
            return Err(Error::Data(format!(
                "cannot execute a command while {} pipelined replies are unread or unsent; \
                 flush and read them first",
                self.pending
            )));
        }
        self.check_health()?;
        let start = self.write_buf.len();
        write_command(&mut self.write_buf, &args)?;
        let info = CommandInfo::of(typed, &self.write_buf[start..]);
        let value = self.roundtrip(&info).map_err(|f| f.error)?;
        Ok((value, info))
    }

    /// Runs a pre-encoded request, reporting whether a failure may have let it run.
    pub(crate) fn run(&mut self, request: &Request) -> Result<Value, Failure> {
        self.ensure_usable().map_err(Failure::unsent)?;
        self.check_health().map_err(Failure::unsent)?;
        self.write_buf.extend_from_slice(&request.frame);
        self.roundtrip(&request.info)
    }

    fn roundtrip(&mut self, info: &CommandInfo) -> Result<Value, Failure> {
        self.pending += 1;
        // A write that fails leaves at most a partial frame, which the server never executes.
        self.flush()
            .map_err(|e| Failure::unsent(e.with_command(&info.name)))?;
        let timeout = info.read_timeout(self.socket_timeout);
        let maybe = |error: Error| Failure {
            error,
            sent: Sent::Maybe,
        };
        match self.read_reply_within(timeout, Some(&info.name)) {
            Ok(Value::Error(payload)) => {
                Err(maybe(Error::from_server_reply(&payload, Some(&info.name))))
            }
            Ok(value) => Ok(value),
            Err(error) => Err(maybe(error.with_command(&info.name))),
        }
    }

    /// Appends a command to the output buffer without sending it (see [`Connection::flush`]).
    ///
    /// Each written command owes one reply, to be read with [`Connection::read_reply`].
    pub fn write_command(&mut self, args: &(impl ToArgs + ?Sized)) -> Result<()> {
        self.ensure_usable()?;
        write_command(&mut self.write_buf, args)?;
        self.pending += 1;
        Ok(())
    }

    /// Appends every command, then sends them all in one go (a pipeline's request half).
    pub fn write_commands<I>(&mut self, commands: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: ToArgs,
    {
        for args in commands {
            self.write_command(&args)?;
        }
        self.flush()
    }

    /// Sends everything written so far.
    pub fn flush(&mut self) -> Result<()> {
        self.ensure_usable()?;
        if self.write_buf.is_empty() {
            return Ok(());
        }
        let result = self
            .stream
            .write_all(&self.write_buf)
            .and_then(|()| self.stream.flush());
        self.write_buf.clear();
        result.map_err(|e| self.io_failure("write to", e, self.socket_timeout))
    }

    /// Reads the next reply, handing any RESP3 push frames before it to the push handler.
    ///
    /// Error replies are returned as [`Value::Error`], not as `Err`, so a pipeline can keep each
    /// command's outcome; `Err` means the connection failed.
    pub fn read_reply(&mut self) -> Result<Value> {
        self.ensure_usable()?;
        self.read_reply_within(self.socket_timeout, None)
    }

    /// Reads the next frame of any kind, pushes included (for pub/sub and `MONITOR`).
    pub fn read_frame(&mut self) -> Result<Value> {
        self.ensure_usable()?;
        let value = self.read_value(self.socket_timeout, None)?;
        if !matches!(value, Value::Push(_)) {
            self.pending = self.pending.saturating_sub(1);
        }
        self.last_used = Instant::now();
        Ok(value)
    }

    /// Waits up to `timeout` for the next frame of any kind; `Ok(None)` when none arrived.
    ///
    /// Unlike other reads, running out of time here does not break the connection: the
    /// incremental parser keeps whatever part of a frame has arrived, so a later call resumes.
    pub fn poll_frame(&mut self, timeout: Duration) -> Result<Option<Value>> {
        self.ensure_usable()?;
        let timeout = Some(timeout.max(Duration::from_micros(1)));
        self.set_read_timeout(timeout)?;
        loop {
            if let Some(value) = self.parse_buffered()? {
                if !matches!(value, Value::Push(_)) {
                    self.pending = self.pending.saturating_sub(1);
                }
                self.last_used = Instant::now();
                return Ok(Some(value));
            }
            match self.fill(timeout, None, false)? {
                Filled::Bytes => {}
                Filled::TimedOut => return Ok(None),
            }
        }
    }

    #[inline]
    fn read_reply_within(
        &mut self,
        timeout: Option<Duration>,
        command: Option<&str>,
    ) -> Result<Value> {
        loop {
            match self.read_value(timeout, command)? {
                Value::Push(items) if self.protocol == Protocol::Resp3 => {
                    if let Some(handler) = &mut self.push_handler {
                        handler(Value::Push(items));
                    }
                }
                value => {
                    self.pending = self.pending.saturating_sub(1);
                    // Health checks only look at an idle connection, so the clock is read
                    // once per batch of pipelined replies, not once per reply.
                    if self.pending == 0 {
                        self.last_used = Instant::now();
                    }
                    return Ok(value);
                }
            }
        }
    }

    #[inline]
    fn read_value(&mut self, timeout: Option<Duration>, command: Option<&str>) -> Result<Value> {
        self.set_read_timeout(timeout)?;
        loop {
            if let Some(value) = self.parse_buffered()? {
                return Ok(value);
            }
            self.fill(timeout, command, true)?;
        }
    }

    #[inline]
    fn parse_buffered(&mut self) -> Result<Option<Value>> {
        self.parser.parse(&mut self.read_buf).map_err(|e| {
            self.broken = true;
            Error::from(e)
        })
    }

    /// Reads more bytes into the input buffer.
    fn fill(
        &mut self,
        timeout: Option<Duration>,
        command: Option<&str>,
        timeout_breaks: bool,
    ) -> Result<Filled> {
        loop {
            match self.stream.read(&mut self.scratch) {
                Ok(0) => {
                    let eof = io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the server closed the connection",
                    );
                    return Err(self.read_error(eof, timeout, command));
                }
                Ok(n) => {
                    self.read_buf.extend_from_slice(&self.scratch[..n]);
                    self.adapt_scratch(n);
                    return Ok(Filled::Bytes);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if is_timeout(&e) && !timeout_breaks => return Ok(Filled::TimedOut),
                Err(e) => return Err(self.read_error(e, timeout, command)),
            }
        }
    }

    fn read_error(
        &mut self,
        e: io::Error,
        timeout: Option<Duration>,
        command: Option<&str>,
    ) -> Error {
        let error = self.io_failure("read from", e, timeout);
        match command {
            Some(command) => error.with_command(command),
            None => error,
        }
    }

    /// Doubles the read size when a read fills it, so large replies need few system calls, and
    /// halves it after [`SHRINK_AFTER`] small reads in a row.
    fn adapt_scratch(&mut self, n: usize) {
        let size = self.scratch.len();
        if n == size && size < MAX_READ {
            self.scratch.resize((size * 2).min(MAX_READ), 0);
            self.small_reads = 0;
        } else if n < size / 4 && size > MIN_READ {
            self.small_reads += 1;
            if self.small_reads >= SHRINK_AFTER {
                self.scratch.truncate((size / 2).max(MIN_READ));
                self.scratch.shrink_to_fit();
                self.small_reads = 0;
            }
        } else {
            self.small_reads = 0;
        }
    }

    /// Marks the connection broken and turns an I/O error into a connection or timeout error.
    fn io_failure(
        &mut self,
        action: &'static str,
        e: io::Error,
        timeout: Option<Duration>,
    ) -> Error {
        self.broken = true;
        if is_timeout(&e) {
            Error::Timeout {
                addr: self.addr.clone(),
                action,
                command: None,
                after: timeout.unwrap_or_default(),
            }
        } else {
            connection_error(&self.addr, action, e)
        }
    }

    #[inline]
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> Result<()> {
        if self.read_timeout != timeout {
            if let Err(e) = self.stream.set_read_timeout(timeout) {
                self.broken = true;
                return Err(connection_error(&self.addr, "set up", e));
            }
            self.read_timeout = timeout;
        }
        Ok(())
    }

    #[inline]
    fn ensure_usable(&self) -> Result<()> {
        if self.broken {
            return Err(connection_error(
                &self.addr,
                "use",
                io::Error::new(
                    io::ErrorKind::NotConnected,
                    "the connection broke earlier and cannot be reused",
                ),
            ));
        }
        Ok(())
    }

    /// Runs `PING` when the connection sat idle longer than the health-check interval.
    ///
    /// Pools call this on checkout; [`Connection::execute`] calls it too, so a connection held
    /// for a long time is checked as well. A failed check breaks the connection.
    pub fn check_health(&mut self) -> Result<()> {
        self.ensure_usable()?;
        let Some(interval) = self.health_check_interval else {
            return Ok(());
        };
        if self.last_used.elapsed() <= interval || self.pending != 0 {
            return Ok(());
        }
        self.write_command(&["PING"])?;
        self.flush()?;
        match self.read_reply_within(self.socket_timeout, Some("PING"))? {
            Value::Simple(pong) if pong.eq_ignore_ascii_case(b"PONG") => Ok(()),
            // A RESP2 connection in subscribe mode answers ["pong", ""].
            Value::Array(items)
                if items
                    .first()
                    .and_then(Value::as_bytes)
                    .is_some_and(|b| b.eq_ignore_ascii_case(b"pong")) =>
            {
                Ok(())
            }
            Value::Error(payload) => Err(Error::from_server_reply(&payload, Some("PING"))),
            other => {
                self.broken = true;
                Err(Error::Protocol(format!(
                    "health check: expected PONG, got {}",
                    other.kind_name()
                )))
            }
        }
    }

    /// Switches this connection to database `db` (`SELECT`).
    ///
    /// Pools discard a connection returned with a database other than their configured one.
    pub fn select(&mut self, db: u32) -> Result<()> {
        self.execute(("SELECT", db))?;
        self.db = db;
        Ok(())
    }

    /// Whether an I/O, timeout or protocol error broke this connection; it must not be reused.
    pub fn is_broken(&self) -> bool {
        self.broken
    }

    /// Installs the handler that receives RESP3 push frames arriving between replies.
    ///
    /// Without a handler such frames are dropped; they are never returned as a reply.
    pub fn set_push_handler(&mut self, handler: impl FnMut(Value) + Send + 'static) {
        self.push_handler = Some(Box::new(handler));
    }

    /// Removes the push handler.
    pub fn clear_push_handler(&mut self) {
        self.push_handler = None;
    }

    /// The protocol negotiated at connect time.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// The database currently selected.
    pub fn db(&self) -> u32 {
        self.db
    }

    /// The server address, for messages.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Replies still owed for commands written but not yet read.
    pub fn pending_replies(&self) -> usize {
        self.pending
    }

    /// How long since the last reply arrived.
    pub fn idle_time(&self) -> Duration {
        self.last_used.elapsed()
    }

    /// A second handle on this connection's socket for writing while another thread reads
    /// through `self` (multiplexed clients); `None` for TLS, which cannot be split.
    pub(crate) fn split_writer(&self) -> Option<io::Result<Stream>> {
        self.stream.try_clone_plain()
    }

    /// Whether the connection can go back to a pool: not broken, no replies owed, nothing unsent.
    pub(crate) fn is_reusable(&self) -> bool {
        !self.broken && self.pending == 0 && self.write_buf.is_empty() && self.parser.is_idle()
    }
}

enum Filled {
    Bytes,
    TimedOut,
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}
