//! One connection to a server: the blocking driver of the connection core.
//!
//! The protocol state — output buffer, read buffer and parser, the replies owed with their
//! deadlines, push routing, the handshake steps and the reuse rule — lives in the crate's
//! connection core (`connection/core/`), which never touches a socket. A [`Connection`] owns the
//! socket and drives the core: it writes what the core has buffered, reads into it, and sets the
//! socket's read timeout from the core's deadline, so a reply must arrive whole within its
//! command's timeout however slowly its bytes trickle in (see [`Config::socket_timeout`]). After
//! any I/O, timeout or protocol error it is broken ([`Connection::is_broken`]) and refuses further
//! use: its position in the reply stream can no longer be trusted, so pools drop it instead of
//! reusing it.

pub(crate) mod connector;
pub(crate) mod core;
pub(crate) mod failure;
mod frames;
pub(crate) mod locator;
mod pipelining;
mod reader;
pub(crate) mod request;
pub(crate) mod session;
pub(crate) mod shortcut;
mod stream;
pub(crate) mod tls;

use std::borrow::Cow;
use std::fmt;
use std::io::{self, Write};
use std::time::{Duration, Instant};

use native_tls::TlsConnector;

use self::core::{health, Core, Handshake, UNNAMED};
use crate::config::{Config, Protocol};
use crate::error::{Error, Result};
use crate::resp::{FromValue, ToArgs, Value};
use reader::Reader;
use request::{CommandInfo, Request, Typed};

pub(crate) use failure::Failure;
pub(crate) use stream::{connection_error, Stream};

/// Receives RESP3 push frames (invalidations, pub/sub messages …) that arrive on a connection
/// while it waits for a command's reply.
pub type PushHandler = Box<dyn FnMut(Value) + Send>;

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
///
/// Each reply must arrive whole within the socket timeout (extended for blocking commands),
/// counted from when the connection starts waiting for it; see [`Config::socket_timeout`].
pub struct Connection {
    stream: Stream,
    core: Core,
    reader: Reader,
    db: u32,
    health_check_interval: Option<Duration>,
    last_used: Instant,
    push_handler: Option<PushHandler>,
    /// What connection-state commands changed on the server (see [`session`]).
    session: session::Session,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("addr", &self.core.addr())
            .field("protocol", &self.core.protocol())
            .field("db", &self.db)
            .field("broken", &self.core.is_broken())
            .field("pending", &self.core.owed())
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// Connects, then runs the handshake: `HELLO 3` (with `AUTH` and `SETNAME`) or, for RESP2,
    /// `AUTH` and `CLIENT SETNAME`; then `SELECT` and `CLIENT SETINFO` (skipped on servers
    /// without it). Everything up to the end of the handshake obeys the connect timeout.
    pub fn open(config: &Config) -> Result<Connection> {
        let tls = config.tls().map(tls::connector).transpose()?;
        Connection::open_with(config, tls.as_ref())
    }

    /// [`Connection::open`] with a TLS connector already built (see `connector::Connector`).
    fn open_with(config: &Config, tls: Option<&TlsConnector>) -> Result<Connection> {
        let addr = config.addr().to_string();
        let connect_timeout = config.connect_timeout();
        let stream = Stream::connect(config, tls, &addr, connect_timeout)?;
        let mut conn = Connection {
            stream,
            core: Core::new(addr, config.protocol(), config.socket_timeout()),
            reader: Reader::new(connect_timeout),
            db: config.db(),
            health_check_interval: config.health_check_interval(),
            last_used: Instant::now(),
            push_handler: None,
            session: session::Session::default(),
        };
        conn.handshake(&Handshake::new(config), connect_timeout)?;
        conn.session_opened();
        conn.stream
            .set_write_timeout(config.socket_timeout())
            .map_err(|e| connection_error(conn.core.addr(), "set up", e))?;
        Ok(conn)
    }

    /// Sends every handshake step at once, then judges the replies in order.
    fn handshake(&mut self, handshake: &Handshake, timeout: Option<Duration>) -> Result<()> {
        self.core.queue_handshake(handshake, timeout)?;
        self.flush()?;
        let mut replies = Vec::with_capacity(handshake.len());
        for _ in 0..handshake.len() {
            replies.push(self.next_reply()?);
        }
        handshake.check(replies)
    }

    /// Sends one command and returns its reply.
    ///
    /// An error reply becomes `Err` ([`Error::Response`] and friends, naming the command). A
    /// blocking command (per the generated command table) gets its own timeout added to the
    /// socket timeout while its reply is awaited.
    pub fn execute(&mut self, args: impl ToArgs) -> Result<Value> {
        self.execute_info(&args, None).map(|(value, _)| value)
    }

    /// Sends one command and converts its reply into `T`.
    ///
    /// A server error nested in the reply (say, inside an array) names the command too.
    pub fn query<T: FromValue>(&mut self, args: impl ToArgs) -> Result<T> {
        let (value, info) = self.execute_info(&args, None)?;
        T::from_value(value).map_err(|e| e.with_command(&info.name))
    }

    /// Runs a typed command, whose type tells its name and metadata.
    pub(crate) fn execute_as(&mut self, args: impl ToArgs, typed: Typed) -> Result<Value> {
        self.execute_info(&args, Some(typed))
            .map(|(value, _)| value)
    }

    /// Encodes `args` straight into the output buffer and runs them like [`Connection::run`].
    fn execute_info(
        &mut self,
        args: &impl ToArgs,
        typed: Option<Typed>,
    ) -> Result<(Value, CommandInfo)> {
        self.before_command()?;
        let info = self.core.queue_args(args, typed)?;
        let value = self.finish_command(&info).map_err(|f| f.error)?;
        Ok((value, info))
    }

    /// Runs an encoded request and returns its reply, reporting whether a failure may have let
    /// it run.
    pub(crate) fn run(&mut self, request: &Request) -> Result<Value, Failure> {
        self.before_command().map_err(Failure::unsent)?;
        self.core.queue(request).map_err(Failure::unsent)?;
        self.finish_command(&request.info)
    }

    /// Before a command with a reply to wait for: the connection must owe nothing and hold no
    /// reply nobody asked for (the next reply read must be this command's), and pass its health
    /// check if one is due.
    #[inline]
    fn before_command(&mut self) -> Result<()> {
        self.ensure_idle("execute a command")?;
        if !self.core.input_is_empty() {
            self.take_unread()?;
        }
        self.check_health()
    }

    /// What arrived since the last reply: see [`Core::take_unread`].
    #[cold]
    fn take_unread(&mut self) -> Result<()> {
        let handler = &mut self.push_handler;
        self.core.take_unread(&mut |push| {
            if let Some(handler) = handler {
                handler(push);
            }
        })
    }

    /// Sends the command just queued and reads its reply: an error reply fails it, naming it.
    #[inline]
    fn finish_command(&mut self, info: &CommandInfo) -> Result<Value, Failure> {
        let name = &info.name;
        // The output holds this command's frame alone: the connection was idle before it.
        let announced = self.announce(info, self.core.output());
        // A write that fails leaves at most a partial frame, which the server never executes.
        self.flush()
            .map_err(|e| Failure::unsent(e.with_command(name)))?;
        let reply = self.next_reply();
        if let Ok(value) = &reply {
            self.settle(announced, value);
        }
        match reply {
            Ok(Value::Error(payload)) => Err(Failure::maybe_sent(Error::from_server_reply(
                &payload,
                Some(name),
            ))),
            Ok(value) => Ok(value),
            Err(error) => Err(Failure::maybe_sent(error.with_command(name))),
        }
    }

    /// Appends a command to the output buffer without sending it (see [`Connection::flush`]).
    ///
    /// Each written command owes one reply, to be read with [`Connection::read_reply`], which
    /// must arrive within the socket timeout (not extended for blocking commands: the command is
    /// not looked up in the command table here).
    pub fn write_command(&mut self, args: &(impl ToArgs + ?Sized)) -> Result<()> {
        let start = self.core.output().len();
        let budget = self.core.socket_timeout();
        self.core.queue_named(args, &UNNAMED, budget)?;
        self.record_unawaited(start);
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
        self.core.ensure_usable()?;
        if self.core.output_is_empty() {
            return Ok(());
        }
        let result = self
            .stream
            .write_all(self.core.output())
            .and_then(|()| self.stream.flush());
        let written = self.core.output().len();
        self.core.wrote(written);
        result.map_err(|e| self.core.io_failure("write to", e))
    }

    /// Reads the next reply, handing any RESP3 push frames before it to the push handler.
    ///
    /// Error replies are returned as [`Value::Error`], not as `Err`, so a pipeline can keep each
    /// command's outcome; `Err` means the connection failed. A reply when none is owed, or bytes
    /// left over after the last owed reply, mean the stream is out of step: that read fails with
    /// [`Error::Protocol`] and the connection breaks.
    pub fn read_reply(&mut self) -> Result<Value> {
        self.next_reply()
    }

    /// The next reply to an owed command, pushes going to the handler meanwhile.
    #[inline]
    pub(crate) fn next_reply(&mut self) -> Result<Value> {
        let Connection {
            stream,
            core,
            reader,
            push_handler,
            ..
        } = self;
        let mut on_push = |push| {
            if let Some(handler) = push_handler {
                handler(push);
            }
        };
        // With nothing owed, any reply is one nobody asked for (a protocol error); it is waited
        // for up to the socket timeout, counted from the first wait.
        let mut unowed_until = None;
        let value = core.read_reply(&mut on_push, |core| {
            reader.wait_for_reply(core, stream, &mut unowed_until)
        })?;
        // Health checks only look at an idle connection, so the clock is read once per batch
        // of pipelined replies, not once per reply.
        if self.core.owed() == 0 {
            self.last_used = Instant::now();
        }
        Ok(value)
    }

    /// Runs `PING` when the connection sat idle longer than the health-check interval.
    ///
    /// Pools call this on checkout; [`Connection::execute`] calls it too, so a connection held
    /// for a long time is checked as well. A failed check breaks the connection.
    pub fn check_health(&mut self) -> Result<()> {
        self.core.ensure_usable()?;
        let Some(interval) = self.health_check_interval else {
            return Ok(());
        };
        if !health::due(interval, self.idle_time(), self.core.owed()) {
            return Ok(());
        }
        let budget = self.core.socket_timeout();
        self.core
            .queue_named(&["PING"], &Cow::Borrowed(health::PING), budget)?;
        self.flush()?;
        let reply = self.next_reply()?;
        health::judge(reply).map_err(|error| match error {
            Error::Protocol(_) => self.core.fail(error),
            error => error,
        })
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
        self.core.is_broken()
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
        self.core.protocol()
    }

    /// The database currently selected.
    pub fn db(&self) -> u32 {
        self.db
    }

    /// The server address, for messages.
    pub fn addr(&self) -> &str {
        self.core.addr()
    }

    /// Replies still owed for commands written but not yet read.
    pub fn pending_replies(&self) -> usize {
        self.core.owed()
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

    /// Whether the connection can go back to a pool: not broken, no replies owed, nothing
    /// unsent, no byte received that nobody asked for (see [`core`]), no server-side state left
    /// behind (a transaction, a `WATCH`, a subscription …).
    pub(crate) fn is_reusable(&self) -> bool {
        self.core.is_reusable() && self.session.is_clean()
    }

    /// Whether bytes nobody asked for are waiting, buffered or on the socket (a stale reply):
    /// such a connection must not serve another caller, whose command would get that reply.
    ///
    /// Costs three system calls; pools pay them once per checkout. A failed check breaks the
    /// connection.
    pub(crate) fn has_unread_data(&mut self) -> bool {
        if !self.core.input_is_empty() {
            return true;
        }
        let scratch = self.core.received();
        match self.stream.has_unread_data(scratch) {
            Ok(unread) => unread,
            Err(e) => {
                self.core.io_failure("check", e);
                true
            }
        }
    }

    /// See [`Core::stale_bytes_after`]; for readers that route replies themselves.
    pub(crate) fn stale_bytes_after(&self, reply: &Value) -> Option<Error> {
        self.core.stale_bytes_after(reply)
    }

    /// Fails unless the connection is usable, owes no replies and has nothing unsent, so the
    /// next reply read belongs to the next command written; `doing` says what was refused.
    #[inline]
    pub(crate) fn ensure_idle(&self, doing: &str) -> Result<()> {
        self.core.ensure_usable()?;
        if self.core.owed() != 0 || !self.core.output_is_empty() {
            return Err(self.not_idle(doing));
        }
        Ok(())
    }

    #[cold]
    fn not_idle(&self, doing: &str) -> Error {
        Error::Data(format!(
            "cannot {doing} while {} earlier replies are unread or unsent; flush and read them \
             first",
            self.core.owed()
        ))
    }
}
