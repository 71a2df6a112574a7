//! [`AsyncConnection`]: one connection you own, driven by tokio, on the same connection core as
//! the blocking [`Connection`](crate::Connection).

use std::borrow::Cow;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use tokio_native_tls::TlsConnector;

use super::stream::{tls_connector, AsyncStream};
use super::wire::Wire;
use crate::config::{Config, Protocol};
use crate::connection::core::{Core, Event, Handshake, Reply, ReplyId, Wait, UNNAMED};
use crate::connection::request::{Request, Typed};
use crate::connection::session::{Change, Pending, Session};
use crate::connection::{Failure, PushHandler};
use crate::error::{Error, Result};
use crate::resp::{ToArgs, Value};

/// A single connection to a Redis or Valkey server, driven by tokio.
///
/// Opened from the same [`Config`] (or URL) as the blocking client, with the same handshake;
/// every generated [`Commands`](crate::Commands) method works on `&mut AsyncConnection` and
/// returns a [`CommandFuture`](super::CommandFuture):
///
/// ```no_run
/// use redis_client::prelude::*;
/// use redis_client::AsyncConnection;
///
/// # async fn demo() -> redis_client::Result<()> {
/// let mut conn = AsyncConnection::open(&Config::from_url("redis://127.0.0.1/0")?).await?;
/// conn.set("greeting", "hello").await?;
/// let old = conn.run(cmd::Set::new("greeting", "hi").get()).await?;
/// let greeting: String = conn.query(["GET", "greeting"]).await?;
/// # Ok(())
/// # }
/// ```
///
/// It is a [`Dedicated`](crate::Dedicated) executor: connection-state commands (`WATCH`, `SELECT`,
/// `SUBSCRIBE` …) run on it. Each reply must arrive whole within the socket timeout (extended for
/// blocking commands), as on the blocking connection. A command future dropped before its reply
/// came leaves the reply to be read and dropped: it never reaches the next command. After an I/O,
/// timeout or protocol error the connection is broken and refuses further use.
pub struct AsyncConnection {
    wire: Wire,
    core: Core,
    session: Session,
    db: u32,
    push_handler: Option<PushHandler>,
    /// Commands written with [`AsyncConnection::send_command`] whose replies are not read yet.
    unawaited: usize,
    /// While nothing is owed, until when a read may wait (the socket timeout from the first
    /// wait), so a reply nobody asked for is waited for no longer than that.
    idle_until: Option<Instant>,
}

impl fmt::Debug for AsyncConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncConnection")
            .field("addr", &self.core.addr())
            .field("protocol", &self.core.protocol())
            .field("db", &self.db)
            .field("broken", &self.core.is_broken())
            .field("pending", &self.core.owed())
            .finish_non_exhaustive()
    }
}

impl AsyncConnection {
    /// Connects, then runs the handshake the blocking [`Connection::open`](crate::Connection::open)
    /// runs (`HELLO`/`AUTH`, `CLIENT SETNAME`, `SELECT`, `CLIENT SETINFO`), all of it within the
    /// connect timeout. Needs a tokio runtime with I/O and time enabled.
    pub async fn open(config: &Config) -> Result<AsyncConnection> {
        let tls = tls_connector(config)?;
        AsyncConnection::open_with(config, tls.as_ref()).await
    }

    /// [`AsyncConnection::open`] for a URL (see [`Config::from_url`]).
    pub async fn open_url(url: &str) -> Result<AsyncConnection> {
        AsyncConnection::open(&Config::from_url(url)?).await
    }

    /// [`AsyncConnection::open`] with the TLS connector built already (clients share one).
    pub(crate) async fn open_with(
        config: &Config,
        tls: Option<&TlsConnector>,
    ) -> Result<AsyncConnection> {
        let addr = config.addr().to_string();
        let connect_timeout = config.connect_timeout();
        let stream = AsyncStream::connect(config, tls, &addr, connect_timeout).await?;
        let mut conn = AsyncConnection {
            wire: Wire::new(stream, config.socket_timeout()),
            core: Core::new(addr, config.protocol(), config.socket_timeout()),
            session: Session::default(),
            db: config.db(),
            push_handler: None,
            unawaited: 0,
            idle_until: None,
        };
        conn.handshake(&Handshake::new(config), connect_timeout)
            .await?;
        Ok(conn)
    }

    /// Sends every handshake step at once, then judges the replies in order.
    async fn handshake(&mut self, handshake: &Handshake, timeout: Option<Duration>) -> Result<()> {
        self.core.queue_handshake(handshake, timeout)?;
        let mut replies = Vec::with_capacity(handshake.len());
        for _ in 0..handshake.len() {
            let reply = poll_fn(|cx| self.poll_reply(cx)).await?;
            replies.push(reply.value);
        }
        handshake.check(replies)
    }

    /// Readies a command whose reply will be awaited and queues it: its reply's id, the
    /// command's name and what the session expects of its reply.
    pub(super) fn queue_awaited(
        &mut self,
        args: &impl ToArgs,
        typed: Option<Typed>,
    ) -> Result<(ReplyId, Cow<'static, str>, Option<Pending>)> {
        self.before_command()?;
        let (info, id) = self.core.queue_args_id(args, typed)?;
        let announced = self
            .session
            .announce(&info, self.core.output(), self.core.protocol());
        Ok((id, info.name, announced))
    }

    /// [`AsyncConnection::queue_awaited`] for an encoded request (a client's, kept for retries).
    pub(super) fn queue_request(
        &mut self,
        request: &Request,
    ) -> Result<(ReplyId, Option<Pending>), Failure> {
        self.before_command().map_err(Failure::unsent)?;
        let id = self.core.queue(request).map_err(Failure::unsent)?;
        let announced = self
            .session
            .announce(&request.info, &request.frame, self.core.protocol());
        Ok((id, announced))
    }

    /// Whether every queued byte went out (a frame not wholly written is never executed).
    pub(super) fn output_is_empty(&self) -> bool {
        self.core.output_is_empty()
    }

    /// Before a command whose reply is awaited: the connection must be usable, no command
    /// written without awaiting may still owe its reply, and what arrived since the last reply
    /// is taken (pushes to the handler; a reply nobody asked for breaks the connection).
    fn before_command(&mut self) -> Result<()> {
        self.core.ensure_usable()?;
        if self.unawaited != 0 {
            return Err(Error::Data(format!(
                "cannot execute a command while {} replies to commands sent with send_command \
                 are unread; read them first",
                self.unawaited
            )));
        }
        // Replies still owed here belong to cancelled futures: the core drops them in turn.
        if self.core.owed() == 0 && !self.core.input_is_empty() {
            let handler = &mut self.push_handler;
            self.core.take_unread(&mut |push| {
                if let Some(handler) = handler {
                    handler(push);
                }
            })?;
        }
        Ok(())
    }

    /// Writes what is buffered, then reads until the next reply, pushes going to the handler.
    pub(crate) fn poll_reply(&mut self, cx: &mut Context<'_>) -> Poll<Result<Reply>> {
        ready!(self.wire.poll_write_out(cx, &mut self.core))?;
        loop {
            match self.core.next_event()? {
                Some(Event::Reply(reply)) => {
                    self.idle_until = None;
                    return Poll::Ready(Ok(reply));
                }
                Some(Event::Push(push)) => {
                    if let Some(handler) = &mut self.push_handler {
                        handler(push);
                    }
                    continue;
                }
                None => {}
            }
            let now = Instant::now();
            let until = match self.core.wait(now)? {
                Wait::Within(left) => Some(now + left),
                Wait::Forever => None,
                Wait::Idle => self.idle_deadline(now),
            };
            let arrived = ready!(self.wire.poll_fill(cx, &mut self.core, until))?;
            if !arrived && self.core.owed() == 0 {
                let e = io::Error::new(io::ErrorKind::TimedOut, "no reply arrived");
                return Poll::Ready(Err(self.core.io_failure("read from", e)));
            }
        }
    }

    fn idle_deadline(&mut self, now: Instant) -> Option<Instant> {
        let timeout = self.core.socket_timeout()?;
        Some(*self.idle_until.get_or_insert(now + timeout))
    }

    /// The reply `reply` came for the command announced as `announced` (if it changes the
    /// connection's state): the session follows it.
    pub(crate) fn settle(
        &mut self,
        announced: Option<crate::connection::session::Pending>,
        reply: &Value,
    ) {
        if announced.is_some() {
            let change = self.session.settle(announced, reply);
            self.apply(change);
        }
    }

    /// A command future was dropped before its reply came: the reply is dropped when it comes;
    /// a frame not wholly written breaks the connection (the server would run what follows).
    pub(crate) fn abandon(
        &mut self,
        id: crate::connection::core::ReplyId,
        announced: Option<crate::connection::session::Pending>,
    ) {
        if !self.core.output_is_empty() {
            self.core.mark_broken();
            return;
        }
        self.core.abandon(id);
        if let Some(pending) = announced {
            // Whether the server accepted it is unknown.
            let change = self
                .session
                .answered(pending, crate::connection::session::Answer::Unknown);
            self.apply(change);
        }
    }

    fn apply(&mut self, change: Change) {
        if let Some(db) = change.db {
            self.db = db;
        }
        if let Some(protocol) = change.protocol {
            self.core.set_protocol(protocol);
        }
    }

    // ---- raw writes and reads (pipelines, pub/sub, MONITOR) ----

    /// Appends a command to the output buffer without sending it (see
    /// [`AsyncConnection::flush`]); its reply is read with [`AsyncConnection::read_reply`] and
    /// must arrive within the socket timeout.
    pub fn send_command(&mut self, args: &(impl ToArgs + ?Sized)) -> Result<()> {
        let start = self.core.output().len();
        let budget = self.core.socket_timeout();
        self.core.queue_named(args, &UNNAMED, budget)?;
        let protocol = self.core.protocol();
        let change = self
            .session
            .record_unawaited(&self.core.output()[start..], protocol);
        self.apply(change);
        self.unawaited += 1;
        Ok(())
    }

    /// Sends everything written so far.
    pub async fn flush(&mut self) -> Result<()> {
        self.core.ensure_usable()?;
        poll_fn(|cx| self.wire.poll_write_out(cx, &mut self.core)).await
    }

    /// Sends what is buffered and reads the next reply to a command sent with
    /// [`AsyncConnection::send_command`]. Error replies come back as [`Value::Error`], so a
    /// pipeline keeps each command's outcome; `Err` means the connection failed.
    pub async fn read_reply(&mut self) -> Result<Value> {
        let reply = poll_fn(|cx| self.poll_reply(cx)).await?;
        self.unawaited = self.unawaited.saturating_sub(1);
        Ok(reply.value)
    }

    /// Reads the next frame of any kind, pushes included (pub/sub messages, `MONITOR` lines);
    /// it must arrive whole within the socket timeout.
    pub async fn read_frame(&mut self) -> Result<Value> {
        let until = self
            .core
            .socket_timeout()
            .and_then(|t| Instant::now().checked_add(t));
        match self.next_frame_until(until).await? {
            Some(frame) => Ok(frame),
            None => {
                let e = io::Error::new(io::ErrorKind::TimedOut, "no whole frame in time");
                Err(self.core.io_failure("read from", e))
            }
        }
    }

    /// Waits up to `timeout` for the next frame of any kind; `Ok(None)` when none arrived
    /// whole. Running out of time does not break the connection: the part of a frame that
    /// arrived is kept, and a later call resumes.
    pub async fn poll_frame(&mut self, timeout: Duration) -> Result<Option<Value>> {
        self.next_frame_until(Instant::now().checked_add(timeout))
            .await
    }

    /// The next frame of any kind, or `None` once `until` passed (`None`: wait for ever).
    pub(crate) async fn next_frame_until(
        &mut self,
        until: Option<Instant>,
    ) -> Result<Option<Value>> {
        self.flush().await?;
        poll_fn(|cx| loop {
            if let Some(frame) = self.core.next_frame()? {
                return Poll::Ready(Ok(Some(frame)));
            }
            if !ready!(self.wire.poll_fill(cx, &mut self.core, until))? {
                return Poll::Ready(Ok(None));
            }
        })
        .await
    }

    // ---- state ----

    /// Switches this connection to database `db` (`SELECT`).
    pub async fn select(&mut self, db: u32) -> Result<()> {
        self.execute(("SELECT", db)).await?;
        Ok(())
    }

    /// Installs the handler that receives RESP3 push frames arriving between replies; without
    /// one they are dropped (never returned as a reply).
    pub fn set_push_handler(&mut self, handler: impl FnMut(Value) + Send + 'static) {
        self.push_handler = Some(Box::new(handler));
    }

    /// Removes the push handler.
    pub fn clear_push_handler(&mut self) {
        self.push_handler = None;
    }

    /// The protocol in use (a `HELLO` run on the connection may have switched it).
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

    /// Whether an I/O, timeout or protocol error broke this connection; it must not be reused.
    pub fn is_broken(&self) -> bool {
        self.core.is_broken()
    }

    /// Replies still owed (to commands sent without awaiting, or to cancelled futures).
    pub fn pending_replies(&self) -> usize {
        self.core.owed()
    }

    /// Whether the connection may serve another caller: the core's reuse rule, and no
    /// server-side state left behind (a transaction, a `WATCH`, a subscription …).
    #[allow(dead_code)] // the client's pool and driver use it
    pub(crate) fn is_reusable(&self) -> bool {
        self.core.is_reusable() && self.session.is_clean() && self.unawaited == 0
    }

    /// A pipeline's `MULTI` … `EXEC` ran on this connection.
    #[allow(dead_code)] // the client's pool and driver use it
    pub(crate) fn transaction_ran(&mut self) {
        self.session.transaction_ran();
    }

    /// The socket and the core, for a driver that takes the connection over once opened.
    #[allow(dead_code)] // the client's pool and driver use it
    pub(crate) fn into_parts(self) -> (Wire, Core) {
        (self.wire, self.core)
    }
}

impl AsyncConnection {
    /// What a command's future resolves to once [`AsyncConnection::poll_reply`] is done: the
    /// reply must be the command's own (`id`), the session follows it, and an error reply
    /// becomes `Err` naming the command.
    pub(crate) fn finish(
        &mut self,
        result: Result<Reply>,
        id: crate::connection::core::ReplyId,
        name: &str,
        announced: Option<crate::connection::session::Pending>,
    ) -> Result<Value> {
        let reply = result.map_err(|e| e.with_command(name))?;
        if reply.id != id {
            let error = Error::Protocol(format!(
                "{name}: the reply read answers another command; the connection is closed"
            ));
            return Err(self.core.fail(error));
        }
        self.settle(announced, &reply.value);
        match reply.value {
            Value::Error(payload) => Err(Error::from_server_reply(&payload, Some(name))),
            value => Ok(value),
        }
    }
}

impl AsyncConnection {
    /// Sends frames encoded elsewhere (a pipeline's; `blocks` gives each one's blocking time)
    /// and reads one reply per frame. A failure is unsent when the frames never went out whole.
    pub(crate) async fn run_frames(
        &mut self,
        frames: &[u8],
        blocks: impl IntoIterator<Item = Option<crate::command_meta::BlockFor>>,
        count: usize,
    ) -> Result<Vec<Value>, crate::connection::Failure> {
        use crate::connection::Failure;
        self.before_command().map_err(Failure::unsent)?;
        self.core
            .queue_frames(frames, blocks)
            .map_err(Failure::unsent)?;
        let mut replies = Vec::with_capacity(count);
        while replies.len() < count {
            match poll_fn(|cx| self.poll_reply(cx)).await {
                Ok(reply) => replies.push(reply.value),
                Err(error) if self.core.output_is_empty() => {
                    return Err(Failure::maybe_sent(error))
                }
                Err(error) => return Err(Failure::unsent(error)),
            }
        }
        Ok(replies)
    }
}
