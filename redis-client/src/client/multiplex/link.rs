//! One split connection of a multiplexed client: callers write their commands onto the socket
//! in turn while a background thread reads the replies and hands each to its caller.
//!
//! Commands go on the wire in the order their waiters join the FIFO of outstanding replies
//! (both happen under one lock), and the server answers in order, so the reader pairs each reply
//! with the FIFO's front. Writes are flat-combined: a caller finding another thread in the middle
//! of a write leaves its frame in a pending buffer, which that thread sends next, so one system
//! call carries the commands of every thread that arrived meanwhile. Nobody holds the lock
//! across a system call.
//!
//! The replies owed live in the connection core's queue ([`Owed`]) under the lock, beside the
//! callers' slots in the same order, so the reader applies the core's rules: a RESP3 push goes
//! out of band, a reply nobody is owed is a protocol error, and the front reply's deadline is
//! checked after every read, even while its bytes keep trickling in.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::io::{self, Write};
use std::mem;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use bytes::BytesMut;

use super::slot::{lock, outcome_of, Slot, Turn};
use crate::command_meta::BlockFor;
use crate::connection::core::{self, Owed, Routed, Wait};
use crate::connection::request::Request;
use crate::connection::{connection_error, Connection, Failure, Stream};
use crate::error::{Error, Result};
use crate::resp::Value;
use crate::retry::Sent;

/// How long an idle reader without a socket timeout waits per read; it just reads again, so
/// this only bounds how long the thread sleeps in one system call.
const IDLE_READ: Duration = Duration::from_secs(3600);

/// The shared half of a split connection; the reader thread owns the other.
pub(super) struct Link {
    state: Mutex<State>,
    /// Another handle on the socket, to shut it down whoever is blocked on it.
    control: Stream,
    addr: String,
    socket_timeout: Option<Duration>,
}

struct State {
    /// The replies owed, in the order their commands go on the wire: names, budgets and the
    /// front reply's deadline.
    owed: Owed,
    /// The callers of the replies owed, in the same order.
    outstanding: VecDeque<Waiter>,
    /// Frames not yet handed to the socket, back to back: those of the last `lens.len()`
    /// waiters of `outstanding`.
    pending: BytesMut,
    lens: Vec<usize>,
    /// The write handle, while no thread is writing with it.
    writer: Option<Stream>,
    /// A cleared buffer and length list from an earlier write, reused for the next.
    spare: (BytesMut, Vec<usize>),
    /// The sequence number of the next waiter.
    next_seq: u64,
    /// Waiters numbered from here on had not been given to a write system call yet.
    unwritten_from: u64,
    /// Why the connection ended; set once, after which nothing joins `outstanding`.
    dead: Option<Error>,
    /// No new command may join: the reader closes the connection once all replies are in.
    retired: bool,
    /// When `outstanding` last became empty.
    idle_since: Instant,
}

/// A caller awaiting a reply.
struct Waiter {
    /// The command's name, for errors.
    name: Cow<'static, str>,
    slot: Arc<Slot>,
    seq: u64,
}

/// Why [`Link::send`] did not take a command.
pub(super) enum Refused {
    /// The connection ended (with this cause) or was retired; use a new one.
    Closed(Error),
}

impl Link {
    /// Splits `conn` and starts its reader thread.
    pub(super) fn start(conn: Connection) -> Result<Arc<Link>> {
        let addr = conn.addr().to_owned();
        let setup = |e| connection_error(&addr, "set up", e);
        let split = || -> io::Result<(Stream, Stream)> {
            let writer = conn.split_writer().ok_or_else(|| {
                io::Error::new(io::ErrorKind::Unsupported, "a TLS stream cannot be split")
            })??;
            let control = conn.split_writer().expect("the stream split once")?;
            Ok((writer, control))
        };
        let (writer, control) = split().map_err(setup)?;
        let link = Arc::new(Link {
            state: Mutex::new(State {
                owed: Owed::default(),
                outstanding: VecDeque::new(),
                pending: BytesMut::new(),
                lens: Vec::new(),
                writer: Some(writer),
                spare: Default::default(),
                next_seq: 0,
                unwritten_from: 0,
                dead: None,
                retired: false,
                idle_since: Instant::now(),
            }),
            control,
            addr: addr.clone(),
            socket_timeout: conn.socket_timeout(),
        });
        let reader = Arc::clone(&link);
        thread::Builder::new()
            .name("redis-client-mux-reader".into())
            .spawn(move || read_loop(&reader, conn))
            .map_err(|e| connection_error(&addr, "start the reader thread for", e))?;
        Ok(link)
    }

    /// The server this connection goes to.
    pub(super) fn addr(&self) -> &str {
        &self.addr
    }

    /// How long nothing has been owed, if nothing is owed now.
    pub(super) fn idle_for(&self) -> Option<Duration> {
        let state = lock(&self.state);
        state
            .outstanding
            .is_empty()
            .then(|| state.idle_since.elapsed())
    }

    /// Puts `request` on the wire (or in the pending buffer of the thread writing) and returns
    /// the slot its outcome will arrive in.
    pub(super) fn send(&self, request: &Request) -> Result<Arc<Slot>, Refused> {
        let slot = Arc::new(Slot::default());
        let mut state = lock(&self.state);
        if let Some(cause) = &state.dead {
            return Err(Refused::Closed(cause.copy_without_command()));
        }
        if state.retired {
            return Err(Refused::Closed(self.closed("the connection was retired")));
        }
        let seq = state.next_seq;
        state.next_seq += 1;
        let budget = BlockFor::extend(request.info.block, self.socket_timeout);
        // The reader is always waiting: with nothing owed before, this reply's clock starts now.
        let since = (state.owed.is_empty() && budget.is_some()).then(Instant::now);
        state.owed.push(&request.info.name, budget, since);
        state.outstanding.push_back(Waiter {
            name: request.info.name.clone(),
            slot: Arc::clone(&slot),
            seq,
        });
        state.pending.extend_from_slice(&request.frame);
        state.lens.push(request.frame.len());
        if let Some(writer) = state.writer.take() {
            self.write_pending(state, writer);
        }
        Ok(slot)
    }

    /// Writes the pending frames, then those queued meanwhile, until none are left; gives the
    /// write handle back (or, if a write failed, ends the connection).
    fn write_pending<'l>(&'l self, mut state: MutexGuard<'l, State>, mut writer: Stream) {
        loop {
            let spare = mem::take(&mut state.spare);
            let frames = mem::replace(&mut state.pending, spare.0);
            let lens = mem::replace(&mut state.lens, spare.1);
            let first = state.unwritten_from;
            state.unwritten_from = state.next_seq;
            drop(state);
            let result = write_counting(&mut writer, &frames);
            state = lock(&self.state);
            if let Err((e, written)) = result {
                // Only frames the socket took whole may run; a cut-off one never does.
                let complete = complete_frames(&lens, written) as u64;
                let error = self.io_error("write to", e);
                self.kill(&mut state, error, first + complete);
                return;
            }
            let (mut frames, mut lens) = (frames, lens);
            frames.clear();
            lens.clear();
            state.spare = (frames, lens);
            if state.dead.is_some() {
                return;
            }
            if state.pending.is_empty() {
                state.writer = Some(writer);
                return;
            }
        }
    }

    /// Stops new commands; the connection closes once the replies owed have arrived.
    pub(super) fn retire(&self) {
        let mut state = lock(&self.state);
        state.retired = true;
        if state.outstanding.is_empty() {
            let _ = self.control.shutdown();
        }
    }

    /// Ends the connection: every waiter fails (those numbered `unsent_from` or later, and any
    /// whose frame no write took yet, with [`Sent::No`]), each error naming its own command.
    fn kill(&self, state: &mut State, error: Error, unsent_from: u64) {
        if state.dead.is_some() {
            return;
        }
        let _ = self.control.shutdown();
        let unsent_from = unsent_from.min(state.unwritten_from);
        state.owed.clear();
        for waiter in state.outstanding.drain(..) {
            let sent = if waiter.seq >= unsent_from {
                Sent::No
            } else {
                Sent::Maybe
            };
            let error = error.copy_without_command().with_command(&waiter.name);
            waiter.slot.set(Turn::Done(Err(Failure { error, sent })));
        }
        state.pending.clear();
        state.lens.clear();
        state.dead = Some(error);
    }

    /// Turns an I/O error into the error callers see.
    fn io_error(&self, action: &'static str, e: io::Error) -> Error {
        if matches!(
            e.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        ) {
            Error::Timeout {
                addr: self.addr.clone(),
                action,
                command: None,
                after: self.socket_timeout.unwrap_or_default(),
            }
        } else {
            connection_error(&self.addr, action, e)
        }
    }

    fn closed(&self, why: &str) -> Error {
        connection_error(
            &self.addr,
            "use",
            io::Error::new(io::ErrorKind::NotConnected, why.to_owned()),
        )
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        let _ = self.control.shutdown();
    }
}

/// Writes all of `buf`; on failure also says how many bytes the socket took.
fn write_counting(writer: &mut Stream, buf: &[u8]) -> Result<(), (io::Error, usize)> {
    let mut written = 0;
    while written < buf.len() {
        match writer.write(&buf[written..]) {
            Ok(0) => {
                let e = io::Error::new(io::ErrorKind::WriteZero, "the socket took no more bytes");
                return Err((e, written));
            }
            Ok(n) => written += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err((e, written)),
        }
    }
    Ok(())
}

/// How many of the frames with lengths `lens`, back to back, lie whole in the first `written`
/// bytes.
fn complete_frames(lens: &[usize], written: usize) -> usize {
    let mut end = 0;
    lens.iter()
        .take_while(|&&len| {
            end += len;
            end <= written
        })
        .count()
}

/// The reader thread: hands each reply to the caller at the FIFO's front until the connection
/// fails, times out, is retired with nothing owed, or is shut down.
fn read_loop(link: &Link, mut conn: Connection) {
    let _guard = EndOnExit(link);
    let end = loop {
        let until = match next_wait(link) {
            Ok(Some(until)) => until,
            Ok(None) => return,
            Err(error) => break error,
        };
        // Returns at `until` even while bytes trickle in, so the next round judges the deadline.
        match conn.next_frame_until(Some(until)) {
            Ok(Some(frame)) => {
                if let Err(error) = deliver(link, &conn, frame) {
                    break error;
                }
            }
            Ok(None) => {}
            Err(error) => break error,
        }
    };
    let mut state = lock(&link.state);
    let unsent_from = state.unwritten_from;
    link.kill(&mut state, end.copy_without_command(), unsent_from);
}

/// Ends the connection if the reader stops without doing so (it panicked), so that no caller
/// waits for a reply that nobody will deliver.
struct EndOnExit<'l>(&'l Link);

impl Drop for EndOnExit<'_> {
    fn drop(&mut self) {
        let link = self.0;
        let mut state = lock(&link.state);
        if state.dead.is_none() {
            let unsent_from = state.unwritten_from;
            let stopped = link.closed("the reader thread of the connection stopped");
            link.kill(&mut state, stopped, unsent_from);
        }
    }
}

/// Until when the next read may wait, `None` when the reader should stop (the connection is
/// dead, or retired with nothing owed), or the timeout error of an overdue front reply.
fn next_wait(link: &Link) -> Result<Option<Instant>> {
    let mut state = lock(&link.state);
    if state.dead.is_some() {
        return Ok(None);
    }
    if state.retired && state.outstanding.is_empty() {
        let closed = link.closed("the connection was retired");
        link.kill(&mut state, closed, 0);
        return Ok(None);
    }
    let now = Instant::now();
    match core::check_wait(&mut state.owed, now, &link.addr)? {
        Wait::Within(left) => Ok(Some(now + left)),
        // A constant wait while nothing is due spares a system call per read; a command queued
        // meanwhile is due no sooner than that wait ends.
        Wait::Idle | Wait::Forever => Ok(Some(now + link.socket_timeout.unwrap_or(IDLE_READ))),
    }
}

/// Hands `frame` to the front waiter by the core's rules (see the module documentation).
fn deliver(link: &Link, conn: &Connection, frame: Value) -> Result<(), Error> {
    let mut state = lock(&link.state);
    let protocol = conn.protocol();
    let routed = match core::route(&mut state.owed, &frame, protocol, &link.addr) {
        Ok(routed) => routed,
        // Nothing is owed once the connection was ended.
        Err(_) if state.dead.is_some() => return Ok(()),
        Err(error) => return Err(error),
    };
    let value = match routed {
        // Nothing subscribes on this connection; stray pushes (e.g. invalidations) are
        // dropped, as on any connection without a push handler.
        Routed::Push => return Ok(()),
        Routed::Reply { .. } => Some(frame),
        Routed::Dropped => None,
    };
    if state.owed.is_empty() {
        if let Some(error) = value
            .as_ref()
            .and_then(|value| conn.stale_bytes_after(value))
        {
            // The connection ends before its caller hears of it, so that nobody queues a
            // command on it in between.
            let unsent_from = state.unwritten_from;
            link.kill(&mut state, error.copy_without_command(), unsent_from);
            return Err(error);
        }
    }
    let waiter = state
        .outstanding
        .pop_front()
        .expect("every owed reply has its waiter");
    if state.outstanding.is_empty() {
        state.idle_since = Instant::now();
    }
    drop(state);
    if let Some(value) = value {
        waiter.slot.set(Turn::Done(outcome_of(value, &waiter.name)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::complete_frames;

    #[test]
    fn only_whole_frames_count_as_written() {
        let lens = [10, 5, 20];
        assert_eq!(complete_frames(&lens, 0), 0);
        assert_eq!(complete_frames(&lens, 9), 0);
        assert_eq!(complete_frames(&lens, 10), 1);
        assert_eq!(complete_frames(&lens, 14), 1);
        assert_eq!(complete_frames(&lens, 15), 2);
        assert_eq!(complete_frames(&lens, 35), 3);
        assert_eq!(complete_frames(&[], 0), 0);
    }
}
