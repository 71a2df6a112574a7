//! The multiplexed mode of [`Client`](super::Client): commands of concurrent threads share one
//! connection and go out in batches, without a background thread (flat combining).
//!
//! A caller queues its encoded command. When nobody is doing I/O it becomes the leader: it takes
//! everything queued so far as one batch, writes it with one system call, reads one reply per
//! command and hands each reply to the thread that queued it as soon as it is read. Commands
//! queued meanwhile form the next batch, which the first of their owners leads, so a leader
//! returns as soon as its own batch is answered instead of serving others forever.

use std::io;
use std::mem;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use bytes::BytesMut;

use crate::command_meta::flags;
use crate::connection::request::{CommandInfo, Request};
use crate::connection::{Connection, Connector, Failure};
use crate::error::{Error, ServerError};
use crate::resp::Value;
use crate::retry::Sent;

/// One connection shared by every thread of a multiplexed client.
pub(super) struct Multiplexer {
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
    /// Bumped by [`Multiplexer::disconnect`]; a leader keeps its connection only if unchanged.
    generation: u64,
}

/// A queued command's name and timeout, and where its outcome goes.
struct Waiter {
    info: CommandInfo,
    slot: Arc<Slot>,
}

/// Where a waiting caller learns its outcome, or that it leads the next batch.
#[derive(Default)]
struct Slot {
    turn: Mutex<Turn>,
    changed: Condvar,
}

#[derive(Default)]
enum Turn {
    #[default]
    Waiting,
    Lead,
    Done(Result<Value, Failure>),
}

impl Slot {
    fn set(&self, turn: Turn) {
        *lock(&self.turn) = turn;
        self.changed.notify_one();
    }

    /// Waits until the slot is set: `None` means "lead the next batch".
    fn wait(&self) -> Option<Result<Value, Failure>> {
        let mut turn = lock(&self.turn);
        loop {
            match mem::take(&mut *turn) {
                Turn::Waiting => {
                    turn = self
                        .changed
                        .wait(turn)
                        .unwrap_or_else(PoisonError::into_inner);
                }
                Turn::Lead => return None,
                Turn::Done(outcome) => return Some(outcome),
            }
        }
    }
}

/// A poisoned lock only means a thread panicked while holding it. The queue stays consistent
/// (entries are pushed and taken whole) and a connection left mid-batch is not reusable, so
/// carry on.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Multiplexer {
    pub(super) fn new(connector: Connector) -> Multiplexer {
        Multiplexer {
            connector,
            state: Mutex::default(),
        }
    }

    /// Whether a command may share the connection: a blocking one (`BLPOP`, `XREAD … BLOCK`,
    /// `WAIT` …) would hold up every command queued behind it, so it takes a pooled connection.
    pub(super) fn takes(info: &CommandInfo) -> bool {
        info.block.is_none() && !info.meta.is_some_and(|meta| meta.has(flags::BLOCKING))
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

    /// Whether `conn` may serve another batch: not broken, and still going to the server the
    /// locator (Sentinel), if any, wants used.
    fn reusable(&self, conn: &Connection) -> bool {
        conn.is_reusable()
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
        let mut conn = match conn.filter(|conn| self.reusable(conn)) {
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
        if let Err(error) = conn.send_frames(frames, count) {
            // A single frame cut short never runs; of several, the complete ones may have.
            let sent = if count == 1 { Sent::No } else { Sent::Maybe };
            batch.fail_rest(error, sent);
            return None;
        }
        while let Some(info) = batch.next() {
            let timeout = info.read_timeout(conn.socket_timeout());
            let outcome = match conn.read_reply_for(timeout, &info.name) {
                Ok(Value::Error(payload)) => Err(Failure {
                    error: Error::from_server_reply(&payload, Some(&info.name)),
                    sent: Sent::Maybe,
                }),
                Ok(value) => Ok(value),
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
            let error = copy_error(&error).with_command(&waiter.info.name);
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
    mux: &'m Multiplexer,
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

/// A copy of `error` for another command of the batch: the same kind and cause, without the
/// command name (the caller adds its own). [`Error`] is not `Clone` because of its I/O source.
fn copy_error(error: &Error) -> Error {
    match error {
        Error::Connection {
            addr,
            action,
            source,
            ..
        } => Error::Connection {
            addr: addr.clone(),
            action,
            command: None,
            source: io::Error::new(source.kind(), source.to_string()),
        },
        Error::Timeout {
            addr,
            action,
            after,
            ..
        } => Error::Timeout {
            addr: addr.clone(),
            action,
            command: None,
            after: *after,
        },
        Error::Tls { addr, message } => Error::Tls {
            addr: addr.clone(),
            message: message.clone(),
        },
        Error::Authentication(e) => Error::Authentication(server_copy(e)),
        Error::Response(e) => Error::Response(server_copy(e)),
        Error::ReadOnly(e) => Error::ReadOnly(server_copy(e)),
        Error::BusyLoading(e) => Error::BusyLoading(server_copy(e)),
        Error::Data(message) => Error::Data(message.clone()),
        Error::Protocol(message) => Error::Protocol(message.clone()),
        Error::Watch => Error::Watch,
        Error::PubSub(message) => Error::PubSub(message.clone()),
        Error::Lock(message) => Error::Lock(message.clone()),
        Error::LockNotOwned(message) => Error::LockNotOwned(message.clone()),
        Error::Usage(message) => Error::Usage(message.clone()),
        Error::Config { param, message } => Error::Config {
            param: param.clone(),
            message: message.clone(),
        },
        Error::PoolExhausted {
            max_connections,
            waited,
        } => Error::PoolExhausted {
            max_connections: *max_connections,
            waited: *waited,
        },
        Error::MasterNotFound(name) => Error::MasterNotFound(name.clone()),
        Error::SlaveNotFound(name) => Error::SlaveNotFound(name.clone()),
    }
}

/// A server error without its command name, re-read from its code and message (parsing them
/// back gives the same parts, as the code is the first word exactly when there is one).
fn server_copy(error: &ServerError) -> ServerError {
    let text = match (error.code(), error.message()) {
        ("", message) => message.to_owned(),
        (code, "") => code.to_owned(),
        (code, message) => format!("{code} {message}"),
    };
    ServerError::parse(text.as_bytes(), None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn copies_keep_kind_and_cause_and_take_the_new_command() {
        let cut = Error::Connection {
            addr: "127.0.0.1:6379".into(),
            action: "read from",
            command: Some("GET".into()),
            source: io::Error::new(io::ErrorKind::UnexpectedEof, "the server closed it"),
        };
        let copy = copy_error(&cut).with_command("INCR");
        assert!(copy.is_connection_error());
        let text = copy.to_string();
        assert!(text.contains("INCR") && !text.contains("GET"), "{text}");
        assert!(text.contains("the server closed it"), "{text}");
        match copy {
            Error::Connection { source, .. } => {
                assert_eq!(source.kind(), io::ErrorKind::UnexpectedEof)
            }
            other => panic!("{other:?}"),
        }

        let late = Error::Timeout {
            addr: "a".into(),
            action: "read from",
            command: Some("GET".into()),
            after: Duration::from_millis(5),
        };
        let copy = copy_error(&late).with_command("SET");
        assert!(copy.is_timeout(), "{copy:?}");
        assert!(copy.to_string().contains("SET"), "{copy}");

        let refused = Error::from_server_reply(b"LOADING still loading", Some("GET"));
        let copy = copy_error(&refused).with_command("HGET");
        assert!(matches!(copy, Error::BusyLoading(_)), "{copy:?}");
        assert_eq!(copy.server_error().unwrap().command(), Some("HGET"));
    }

    #[test]
    fn blocking_commands_take_the_pool() {
        let info = |args: &[&str]| Request::encode(&args).unwrap().info;
        assert!(Multiplexer::takes(&info(&["GET", "k"])));
        assert!(Multiplexer::takes(&info(&["FROBNICATE"])));
        assert!(!Multiplexer::takes(&info(&["BLPOP", "k", "1"])));
        assert!(!Multiplexer::takes(&info(&[
            "XREAD", "BLOCK", "10", "STREAMS", "s", "$"
        ])));
        // XREAD without BLOCK does not wait, but the table flags the command as blocking.
        assert!(!Multiplexer::takes(&info(&["XREAD", "STREAMS", "s", "0"])));
    }
}
