//! The protocol state of one connection, without any I/O: bytes and clock readings in,
//! decisions out.
//!
//! A [`Core`] never touches a socket or reads the clock. It holds
//!
//! - the **output buffer**: encoded commands not handed to the socket yet;
//! - the **read buffer and incremental parser** ([`inbound`]): bytes received, not parsed yet;
//! - the **owed replies** ([`owed`]), oldest first: each command's name, how long its reply may
//!   take once the client waits for it, and whether anyone still wants it;
//! - whether the connection is **broken**: after a protocol error, a timeout or an I/O failure its
//!   place in the reply stream is unknown, and it refuses further use.
//!
//! and decides, for each frame parsed: *a reply for the oldest owed command* ([`Event::Reply`]),
//! *a RESP3 push* ([`Event::Push`]), *an abandoned reply, dropped*, or *a reply nobody asked for*
//! (a protocol error that breaks the connection). Before a front end sleeps on the socket it asks
//! [`Core::wait`] until when it may; past that the oldest owed command fails with a timeout error
//! naming it, and the connection is broken.
//!
//! # The contract for front ends
//!
//! A front end (the blocking [`crate::Connection`] today, a tokio task tomorrow) loops:
//!
//! 1. queue requests ([`Core::queue`] for an encoded [`Request`], [`Core::queue_named`] to encode
//!    arguments in place), each returning the [`ReplyId`] its reply will carry; or tell the core
//!    about frames it writes from a buffer of its own ([`Core::expect`], for pipelines);
//! 2. write [`Core::output`] to the socket and report how much went with [`Core::wrote`];
//! 3. take events in request order with [`Core::next_event`] until it returns `None`;
//! 4. when it needs a reply that has not arrived, call [`Core::wait`] with the current time and
//!    sleep on the socket no longer than the [`Wait`] it returns, then append what the socket
//!    read to [`Core::received`] and go back to 3. An I/O failure goes through
//!    [`Core::io_failure`], which breaks the connection and names the command concerned.
//!
//! A front end that blocks for one reply at a time uses [`Core::read_reply`] for 3 and 4: it calls
//! back to read the socket whenever it needs bytes. A caller that stops waiting (a cancelled
//! future) calls [`Core::abandon`]: its reply is still read off the stream when it comes, and
//! dropped, so it never reaches another caller. Streams of frames that are not replies to
//! commands (pub/sub messages, `MONITOR` lines) are read with [`Core::next_frame`], which hands out
//! every frame as it is. The handshake is data too ([`Handshake`]): its steps are queued like any
//! request, and their replies judged in order.
//!
//! The multiplexed client's split connection keeps its owed replies under a lock shared by the
//! writing callers and reads with a thread of its own; it applies the same [`rules`] to them.
//!
//! # Deadlines
//!
//! Each owed reply has a budget: the socket timeout, extended for blocking commands by the time
//! they asked the server to wait (from the generated command table), or none. A reply's clock
//! starts when the client starts waiting for it: when its command has gone out and the replies
//! before it have arrived. The whole reply must arrive within the budget, however the bytes
//! trickle in. So a pipeline of 10 000 commands is never failed for being big, yet no single reply
//! of it may take longer than the budget.
//!
//! # Reuse
//!
//! [`Core::is_reusable`] holds when the connection may serve another caller: not broken, no reply
//! owed, nothing unsent, and no byte received that nobody asked for. Bytes still buffered after
//! the last owed reply was taken mean the stream is out of step (a stale or duplicated reply), so
//! that last reply may not be what its command answered: it fails with a protocol error instead.

mod frames;
mod handshake;
pub(crate) mod health;
mod inbound;
mod owed;
mod rules;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::io;
use std::time::{Duration, Instant};

use bytes::BytesMut;

use super::request::{encode_into, CommandInfo, Request, Typed};
use super::stream::connection_error;
use crate::command_meta::BlockFor;
use crate::config::Protocol;
use crate::error::{Error, Result};
use crate::resp::{write_command, ToArgs, Value};

pub(crate) use handshake::Handshake;
pub(crate) use inbound::Inbound;
pub(crate) use owed::{Owed, ReplyId, Wait};
pub(crate) use rules::{check_wait, is_timeout, route, Routed};

/// The name of a command whose name is not known (raw `write_command`): errors name none.
pub(crate) const UNNAMED: Cow<'static, str> = Cow::Borrowed("");

/// The initial capacity of the read and write buffers.
const BUFFER: usize = 16 * 1024;

/// What a parsed frame turned out to be.
// The blocking front end reads one reply at a time ([`Core::next_reply`]); front ends that
// match replies to many waiting requests (tokio) take events with request numbers.
#[cfg_attr(not(test), allow(dead_code))]
#[derive(Debug, PartialEq)]
pub(crate) enum Event {
    /// The reply to the oldest owed command (an error reply is [`Value::Error`]).
    Reply(Reply),
    /// A RESP3 push frame, out of band (invalidations, pub/sub messages …).
    Push(Value),
}

/// A reply and the request it answers.
#[cfg_attr(not(test), allow(dead_code))]
#[derive(Debug, PartialEq)]
pub(crate) struct Reply {
    pub(crate) id: ReplyId,
    pub(crate) value: Value,
}

/// The protocol state of one connection; see the [module documentation](self).
#[derive(Debug)]
pub(crate) struct Core {
    addr: String,
    protocol: Protocol,
    socket_timeout: Option<Duration>,
    output: BytesMut,
    inbound: Inbound,
    owed: Owed,
    broken: bool,
}

impl Core {
    /// The state of a fresh connection to `addr` (as errors name it) speaking `protocol`,
    /// whose replies get `socket_timeout` each (`None`: no limit).
    pub(crate) fn new(addr: String, protocol: Protocol, socket_timeout: Option<Duration>) -> Core {
        Core {
            addr,
            protocol,
            socket_timeout,
            output: BytesMut::with_capacity(BUFFER),
            inbound: Inbound::with_capacity(BUFFER),
            owed: Owed::default(),
            broken: false,
        }
    }

    pub(crate) fn addr(&self) -> &str {
        &self.addr
    }

    pub(crate) fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// A `HELLO` run on the connection switched it to `protocol`: pushes are told apart by it.
    pub(crate) fn set_protocol(&mut self, protocol: Protocol) {
        self.protocol = protocol;
    }

    pub(crate) fn socket_timeout(&self) -> Option<Duration> {
        self.socket_timeout
    }

    /// The budget of a reply to a command that blocks for `block` (`None`: it does not block).
    #[inline]
    pub(crate) fn budget(&self, block: Option<BlockFor>) -> Option<Duration> {
        BlockFor::extend(block, self.socket_timeout)
    }

    // ---- requests ----

    /// Queues an encoded request: its frame goes to the output buffer, its reply is owed with
    /// the budget its command gets.
    #[inline]
    pub(crate) fn queue(&mut self, request: &Request) -> Result<ReplyId> {
        self.ensure_usable()?;
        let budget = request.info.read_timeout(self.socket_timeout);
        self.output.extend_from_slice(&request.frame);
        Ok(self.owe(&request.info, budget))
    }

    /// Encodes `args` into the output buffer (as [`Request`] would, without a buffer of its own)
    /// and owes its reply, with the budget its command gets; returns what the command is.
    #[inline]
    pub(crate) fn queue_args(
        &mut self,
        args: &(impl ToArgs + ?Sized),
        typed: Option<Typed>,
    ) -> Result<CommandInfo> {
        self.queue_args_id(args, typed).map(|(info, _)| info)
    }

    /// [`Core::queue_args`], also returning the number its reply will carry: front ends whose
    /// callers may stop waiting (a cancelled future) hand it to [`Core::abandon`].
    #[inline]
    pub(crate) fn queue_args_id(
        &mut self,
        args: &(impl ToArgs + ?Sized),
        typed: Option<Typed>,
    ) -> Result<(CommandInfo, ReplyId)> {
        self.ensure_usable()?;
        let info = encode_into(&mut self.output, args, typed)?;
        let budget = info.read_timeout(self.socket_timeout);
        let id = self.owe(&info, budget);
        Ok((info, id))
    }

    /// Owes the reply to the command `info` describes.
    #[inline]
    fn owe(&mut self, info: &CommandInfo, budget: Option<Duration>) -> ReplyId {
        if info.connection_state {
            self.owed.push_trailing(&info.name, budget)
        } else {
            self.owed.push(&info.name, budget, None)
        }
    }

    /// Queues every step of `handshake` (pipelined: they go out together); each reply may take
    /// `budget`, the connect timeout.
    pub(crate) fn queue_handshake(
        &mut self,
        handshake: &Handshake,
        budget: Option<Duration>,
    ) -> Result<()> {
        for (name, args) in handshake.steps() {
            self.queue_named(args, &Cow::Borrowed(name), budget)?;
        }
        Ok(())
    }

    /// Encodes `args` into the output buffer and owes a reply to command `name` (empty when
    /// unknown) with `budget`. On an encoding error nothing is queued.
    // `&Cow`: a new run copies a static name instead of allocating one.
    #[allow(clippy::ptr_arg)]
    #[inline]
    pub(crate) fn queue_named(
        &mut self,
        args: &(impl ToArgs + ?Sized),
        name: &Cow<'static, str>,
        budget: Option<Duration>,
    ) -> Result<ReplyId> {
        self.ensure_usable()?;
        write_command(&mut self.output, args)?;
        Ok(self.owed.push(name, budget, None))
    }

    /// Owes `count` alike replies to frames the front end writes itself, from a buffer of its
    /// own (a pipeline's): to command `name` ([`UNNAMED`] when the front end names errors
    /// itself), each with `budget`. `waiting_since`: see [`Owed::push`]. Returns the first
    /// reply's number.
    // `&Cow`: a new run copies a static name instead of allocating one.
    #[allow(clippy::ptr_arg)]
    #[inline]
    pub(crate) fn expect(
        &mut self,
        name: &Cow<'static, str>,
        budget: Option<Duration>,
        count: usize,
        waiting_since: Option<Instant>,
    ) -> ReplyId {
        self.owed
            .push_many(name, budget, count as u64, waiting_since)
    }

    /// Owes one unnamed reply per frame the front end writes from a buffer of its own (a
    /// pipeline's), in order: `blocks` tells for each how long its command blocks on the
    /// server, if it does, which extends that reply's budget. Errors reading them come without
    /// a command, for the front end to name. Returns the first reply's number (`None`: no
    /// frames).
    pub(crate) fn expect_unnamed(
        &mut self,
        blocks: impl IntoIterator<Item = Option<BlockFor>>,
    ) -> Option<ReplyId> {
        // Alike neighbours are owed in one go: a pipeline is mostly commands that do not block.
        let mut first = None;
        let mut run: Option<(Option<BlockFor>, usize)> = None;
        for block in blocks {
            match &mut run {
                Some((last, count)) if *last == block => *count += 1,
                _ => {
                    if let Some((last, count)) = run.replace((block, 1)) {
                        let id = self.expect(&UNNAMED, self.budget(last), count, None);
                        first.get_or_insert(id);
                    }
                }
            }
        }
        if let Some((last, count)) = run {
            let id = self.expect(&UNNAMED, self.budget(last), count, None);
            first.get_or_insert(id);
        }
        first
    }

    /// Queues frames encoded elsewhere (a pipeline's buffer, copied to the output buffer) and
    /// owes their replies as [`Core::expect_unnamed`] does; returns the first reply's number.
    /// Nothing is queued on an unusable connection.
    // The tokio front end's pipelines queue their frames; the blocking one writes them itself.
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    pub(crate) fn queue_frames(
        &mut self,
        frames: &[u8],
        blocks: impl IntoIterator<Item = Option<BlockFor>>,
    ) -> Result<Option<ReplyId>> {
        self.ensure_usable()?;
        self.output.extend_from_slice(frames);
        Ok(self.expect_unnamed(blocks))
    }

    /// The bytes waiting to be written.
    #[inline]
    pub(crate) fn output(&self) -> &[u8] {
        &self.output
    }

    /// Hands every queued byte to the front end in exchange for `spare` (emptied first), so it
    /// can write them without holding whatever guards the core (the tokio multiplexer's lock);
    /// they count as handed to the socket. No allocation: the two buffers trade places.
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    #[inline]
    pub(crate) fn swap_output(&mut self, spare: &mut BytesMut) {
        spare.clear();
        std::mem::swap(&mut self.output, spare);
    }

    /// The front end handed the first `n` bytes of [`Core::output`] to the socket.
    #[inline]
    pub(crate) fn wrote(&mut self, n: usize) {
        if n >= self.output.len() {
            self.output.clear();
        } else {
            let _ = self.output.split_to(n);
        }
    }

    // ---- replies ----

    /// Where the front end appends the bytes the socket gave it.
    #[inline]
    pub(crate) fn received(&mut self) -> &mut BytesMut {
        self.inbound.buffer()
    }

    /// The next reply or push from the bytes received so far; `None` until more arrive.
    ///
    /// Errors (a malformed stream, a reply nobody asked for, bytes left over after the last
    /// owed reply) break the connection.
    #[cfg_attr(not(test), allow(dead_code))]
    #[inline]
    pub(crate) fn next_event(&mut self) -> Result<Option<Event>> {
        self.ensure_usable()?;
        while let Some(frame) = self.parse()? {
            match self.settle(&frame)? {
                Routed::Reply { id, .. } => {
                    return Ok(Some(Event::Reply(Reply { id, value: frame })))
                }
                Routed::Push => return Ok(Some(Event::Push(frame))),
                Routed::Dropped => {}
            }
        }
        Ok(None)
    }

    /// The next reply, handing the pushes before it to `on_push`, and calling `refill` whenever
    /// the bytes received so far hold no complete reply: [`Core::next_event`] for front ends
    /// that block on the socket one reply at a time (`refill` reads it, see the module
    /// documentation).
    #[inline]
    pub(crate) fn read_reply(
        &mut self,
        on_push: &mut impl FnMut(Value),
        mut refill: impl FnMut(&mut Core) -> Result<()>,
    ) -> Result<Value> {
        self.ensure_usable()?;
        loop {
            let frame = match self.inbound.next_frame() {
                Ok(Some(frame)) => frame,
                Ok(None) => {
                    refill(self)?;
                    continue;
                }
                Err(error) => return Err(self.fail(error.into())),
            };
            match self.settle(&frame)? {
                Routed::Reply { .. } => return Ok(frame),
                Routed::Push => on_push(frame),
                Routed::Dropped => {}
            }
        }
    }

    /// Applies [`route`] to `frame`, and after the last owed reply the rule on leftover bytes.
    #[inline(always)]
    fn settle(&mut self, frame: &Value) -> Result<Routed> {
        let routed = match route(&mut self.owed, frame, self.protocol, &self.addr) {
            Ok(routed) => routed,
            Err(error) => return Err(self.fail(error)),
        };
        let checked = matches!(routed, Routed::Reply { trails: false, .. });
        if checked && self.owed.is_empty() && !self.inbound.is_empty() {
            if let Some(error) = self.stale_bytes_after(frame) {
                return Err(self.fail(error));
            }
        }
        Ok(routed)
    }

    /// The next complete frame; a malformed stream breaks the connection.
    #[inline(always)]
    fn parse(&mut self) -> Result<Option<Value>> {
        match self.inbound.next_frame() {
            Ok(frame) => Ok(frame),
            Err(error) => Err(self.fail(error.into())),
        }
    }

    /// How long the front end may wait for the oldest owed reply, starting its clock now if it
    /// was not running. Past its deadline, fails with a timeout error naming its command and
    /// breaks the connection.
    #[inline]
    pub(crate) fn wait(&mut self, now: Instant) -> Result<Wait> {
        self.ensure_usable()?;
        check_wait(&mut self.owed, now, &self.addr).map_err(|error| self.fail(error))
    }

    /// Nobody wants reply `id` any more: it is read and dropped when it comes (its deadline
    /// still holds, since the stream cannot move on without it). Returns whether it was owed.
    // The blocking front end never gives up on a reply; the tokio one abandons the replies of
    // cancelled futures.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn abandon(&mut self, id: ReplyId) -> bool {
        self.owed.abandon(id)
    }

    // ---- state ----

    /// How many replies are owed.
    #[inline]
    pub(crate) fn owed(&self) -> usize {
        self.owed.len()
    }

    /// Whether nothing is written but unsent.
    #[inline]
    pub(crate) fn output_is_empty(&self) -> bool {
        self.output.is_empty()
    }

    /// Whether no received byte waits to be parsed.
    #[inline]
    pub(crate) fn input_is_empty(&self) -> bool {
        self.inbound.is_empty()
    }

    /// Whether the connection may serve another caller; see the [module documentation](self).
    #[inline]
    pub(crate) fn is_reusable(&self) -> bool {
        !self.broken && self.owed.is_empty() && self.output.is_empty() && self.inbound.is_empty()
    }

    #[inline]
    pub(crate) fn is_broken(&self) -> bool {
        self.broken
    }

    /// Fails unless the connection is usable.
    #[inline]
    pub(crate) fn ensure_usable(&self) -> Result<()> {
        if self.broken {
            return Err(self.broken_error());
        }
        Ok(())
    }

    #[cold]
    fn broken_error(&self) -> Error {
        connection_error(
            &self.addr,
            "use",
            io::Error::new(
                io::ErrorKind::NotConnected,
                "the connection broke earlier and cannot be reused",
            ),
        )
    }

    /// Breaks the connection: its place in the reply stream (or its server-side state) is
    /// unknown. Returns `error` for the caller to report.
    pub(crate) fn fail(&mut self, error: Error) -> Error {
        self.broken = true;
        error
    }

    /// Breaks the connection without an error to report (its server-side state is unknown).
    pub(crate) fn mark_broken(&mut self) {
        self.broken = true;
    }

    /// Breaks the connection after the socket failed while the front end was doing `action`
    /// (`"read from"`, `"write to"`): a timed-out system call is a timeout error, anything else a
    /// connection error; either names the oldest owed command.
    pub(crate) fn io_failure(&mut self, action: &'static str, e: io::Error) -> Error {
        let error = if is_timeout(&e) {
            Error::Timeout {
                addr: self.addr.clone(),
                action,
                command: None,
                after: self
                    .owed
                    .front_budget()
                    .or(self.socket_timeout)
                    .unwrap_or_default(),
            }
        } else {
            connection_error(&self.addr, action, e)
        };
        let error = match self.owed.front_name() {
            Some(name) => error.with_command(name),
            None => error,
        };
        self.fail(error)
    }

    /// After `reply`, the last reply owed, was taken: the protocol error for bytes buffered
    /// behind it that can only be a reply nobody asked for (the stream is out of step, so
    /// `reply` itself may answer another command), if there are any.
    pub(crate) fn stale_bytes_after(&self, reply: &Value) -> Option<Error> {
        self.inbound.holds_reply(self.protocol).then(|| {
            Error::Protocol(format!(
                "the server at {} sent more after the last reply owed ({}) than any command \
                 asked for: \"{}\"; that reply may answer another command, so the connection \
                 is closed",
                self.addr,
                reply.kind_name(),
                self.inbound.sample(),
            ))
        })
    }
}
