//! The multiplexed mode over TLS, whose stream cannot be split between a writer and a reader
//! thread: flat combining without a background thread.
//!
//! A caller queues its encoded command. When nobody is doing I/O it becomes the leader: it takes
//! everything queued so far as one batch, writes it with one system call, reads one reply per
//! command and hands each reply to the thread that queued it as soon as it is read. Commands
//! queued meanwhile form the next batch, which the first of their owners leads, so a leader
//! returns as soon as its own batch is answered instead of serving others forever. Only one
//! batch is on the wire at a time.

use std::io;
use std::mem;
use std::sync::{Arc, Mutex};

use bytes::BytesMut;

use super::slot::{lock, outcome_of, Slot, Turn};
use crate::connection::connector::Connector;
use crate::connection::request::{CommandInfo, Request};
use crate::connection::{Connection, Failure};
use crate::error::Error;
use crate::resp::Value;
use crate::retry::Sent;

/// One connection shared by every thread of a multiplexed TLS client.
pub(in crate::client) struct Combiner {
    connector: Connector,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// The frames of the next batch, back to back.
    frames: BytesMut,
    /// Who waits for each frame in `frames`, in order.
    waiting: Vec<Waiter>,
    /// The connection, while no leader has it out.
    conn: Option<Connection>,
    /// Whether a leader is running a batch (and holds the connection).
    leading: bool,
    /// A cleared buffer and list from an earlier batch, swapped in for `frames` and `waiting`
    /// so batches reuse memory.
    spare: (BytesMut, Vec<Waiter>),
    /// Bumped by [`Combiner::disconnect`]; a leader keeps its connection only if unchanged.
    generation: u64,
}

/// A queued command's name and timeout, and where its outcome goes.
struct Waiter {
    info: CommandInfo,
    slot: Arc<Slot>,
}

impl Combiner {
    pub(super) fn new(connector: Connector) -> Combiner {
        Combiner {
            connector,
            state: Mutex::default(),
        }
    }

    /// Runs one request on the shared connection, as part of whatever batch it joins.
    ///
    /// The outcome is this request's own, as [`Connection::run`] would give it: an error reply
    /// is `Err` naming the command, and `sent` says whether the command may have run.
    pub(super) fn run(&self, request: &Request) -> Result<Value, Failure> {
        let slot = Arc::new(Slot::default());
        let mut lead = {
            let mut state = lock(&self.state);
            state.frames.extend_from_slice(&request.frame);
            state.waiting.push(Waiter {
                info: request.info.clone(),
                slot: Arc::clone(&slot),
            });
            !mem::replace(&mut state.leading, true)
        };
        loop {
            if lead {
                // A leader's own request is in the batch it takes, so its slot is set afterwards.
                self.lead();
            }
            match slot.wait() {
                Some(outcome) => return outcome,
                None => lead = true,
            }
        }
    }

    /// Drops the connection (a leader running a batch drops it when done), so the next batch
    /// connects anew, e.g. after Sentinel reported that the server moved.
    pub(super) fn disconnect(&self) {
        let mut state = lock(&self.state);
        state.generation += 1;
        state.conn = None;
    }

    /// Takes the queue as one batch and runs it; hands leadership on when that is done.
    fn lead(&self) {
        // Callers just woken with their replies usually queue their next command at once;
        // letting them run first makes this batch carry theirs too instead of going out alone
        // (which matters most when the callers share fewer cores than there are of them).
        std::thread::yield_now();
        let mut leader = {
            let mut state = lock(&self.state);
            let (frames, waiters) = mem::take(&mut state.spare);
            Leader {
                mux: self,
                batch: Batch {
                    waiters: mem::replace(&mut state.waiting, waiters),
                    answered: 0,
                },
                frames: mem::replace(&mut state.frames, frames),
                conn: state.conn.take(),
                generation: state.generation,
            }
        };
        leader.conn = self.exchange(leader.conn.take(), &leader.frames, &mut leader.batch);
    }

    /// Whether `conn` may serve another batch: not broken, no bytes waiting that nobody asked
    /// for, and still going to the server the locator (Sentinel), if any, wants used.
    fn reusable(&self, conn: &mut Connection) -> bool {
        conn.is_reusable()
            && !conn.has_unread_data()
            && self
                .connector
                .locator()
                .is_none_or(|locator| locator.is_current(conn.addr()))
    }

    /// Sends the batch and delivers every outcome; returns the connection if it stays usable.
    fn exchange(
        &self,
        conn: Option<Connection>,
        frames: &[u8],
        batch: &mut Batch,
    ) -> Option<Connection> {
        let reused = conn.and_then(|mut conn| self.reusable(&mut conn).then_some(conn));
        let mut conn = match reused {
            Some(conn) => conn,
            None => match self.connector.connect() {
                Ok(conn) => conn,
                Err(error) => {
                    batch.fail_rest(error, Sent::No);
                    return None;
                }
            },
        };
        if let Err(error) = conn.check_health() {
            batch.fail_rest(error, Sent::No);
            return None;
        }
        let count = batch.waiters.len();
        let blocks = batch.waiters.iter().map(|w| w.info.block);
        if let Err(error) = conn.send_frames(frames, blocks) {
            // A single frame cut short never runs; of several, the complete ones may have.
            let sent = if count == 1 { Sent::No } else { Sent::Maybe };
            batch.fail_rest(error, sent);
            return None;
        }
        while let Some(info) = batch.next() {
            let outcome = match conn.next_reply().map_err(|e| e.with_command(&info.name)) {
                Ok(value) => outcome_of(value, &info.name),
                Err(error) => {
                    // Where the stream stands is unknown now: every later reply is lost.
                    batch.fail_rest(error, Sent::Maybe);
                    return None;
                }
            };
            batch.answer(outcome);
        }
        Some(conn)
    }
}

/// The commands of one batch and how many of them have their outcome.
struct Batch {
    waiters: Vec<Waiter>,
    answered: usize,
}

impl Batch {
    /// The next command whose reply is due.
    fn next(&self) -> Option<&CommandInfo> {
        self.waiters.get(self.answered).map(|w| &w.info)
    }

    fn answer(&mut self, outcome: Result<Value, Failure>) {
        self.waiters[self.answered].slot.set(Turn::Done(outcome));
        self.answered += 1;
    }

    /// Fails every command still waiting: the first with `error`, each later one with a copy
    /// naming its own command.
    fn fail_rest(&mut self, error: Error, sent: Sent) {
        let Some((first, later)) = self.waiters[self.answered..].split_first() else {
            return;
        };
        for waiter in later {
            let error = error.copy_without_command().with_command(&waiter.info.name);
            waiter.slot.set(Turn::Done(Err(Failure { error, sent })));
        }
        let error = error.with_command(&first.info.name);
        first.slot.set(Turn::Done(Err(Failure { error, sent })));
        self.answered = self.waiters.len();
    }
}

/// Holds leadership for one batch; dropping it (also when unwinding) fails whatever the batch
/// did not answer, keeps the connection if it is usable, and passes leadership on.
struct Leader<'m> {
    mux: &'m Combiner,
    batch: Batch,
    frames: BytesMut,
    conn: Option<Connection>,
    generation: u64,
}

impl Drop for Leader<'_> {
    fn drop(&mut self) {
        if self.batch.next().is_some() {
            let interrupted = io::Error::other(
                "the thread running this batch panicked before the reply was read",
            );
            let error = Error::Connection {
                addr: self.mux.connector.config().addr().to_string(),
                action: "read from",
                command: None,
                source: interrupted,
            };
            self.batch.fail_rest(error, Sent::Maybe);
        }
        let mut state = lock(&self.mux.state);
        let conn = self.conn.take().filter(Connection::is_reusable);
        if state.generation == self.generation && state.conn.is_none() {
            state.conn = conn;
        }
        let mut frames = mem::take(&mut self.frames);
        frames.clear();
        let mut waiters = mem::take(&mut self.batch.waiters);
        waiters.clear();
        state.spare = (frames, waiters);
        match state.waiting.first() {
            // Wake the first queued caller as the next leader; its own command is in that batch.
            Some(next) => next.slot.set(Turn::Lead),
            None => state.leading = false,
        }
    }
}
