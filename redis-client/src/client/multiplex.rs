//! The multiplexed mode of [`Client`](super::Client): commands of concurrent threads share one
//! connection.
//!
//! Over TCP and Unix sockets the connection is split ([`split`]): callers write their commands
//! as they come, flat-combining the writes, while one background reader thread hands each reply
//! to its caller, so many batches are in flight at once. TLS streams cannot be split; there a
//! leader writes a batch and reads its replies before the next goes out ([`combine`]).

mod combine;
mod link;
mod split;

use std::io;
use std::mem;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use crate::command_meta::flags;
use crate::connection::request::{CommandInfo, Request};
use crate::connection::{Connector, Failure};
use crate::error::{Error, ServerError};
use crate::resp::Value;
use combine::Combiner;
use split::Split;

/// One connection shared by every thread of a multiplexed client.
pub(super) enum Multiplexer {
    /// TCP or Unix socket: a writer side shared by callers and a reader thread.
    Split(Box<Split>),
    /// TLS: one batch at a time, led by a caller.
    Combining(Box<Combiner>),
}

impl Multiplexer {
    pub(super) fn new(connector: Connector) -> Multiplexer {
        if connector.config().tls().is_some() {
            Multiplexer::Combining(Box::new(Combiner::new(connector)))
        } else {
            Multiplexer::Split(Box::new(Split::new(connector)))
        }
    }

    /// Whether a command may share the connection: a blocking one (`BLPOP`, `XREAD … BLOCK`,
    /// `WAIT` …) would hold up every command queued behind it, so it takes a pooled connection.
    pub(super) fn takes(info: &CommandInfo) -> bool {
        info.block.is_none() && !info.meta.is_some_and(|meta| meta.has(flags::BLOCKING))
    }

    /// Runs one request on the shared connection.
    ///
    /// The outcome is this request's own, as [`crate::Connection`]'s `run` would give it: an
    /// error reply is `Err` naming the command, and `sent` says whether the command may have run.
    pub(super) fn run(&self, request: &Request) -> Result<Value, Failure> {
        match self {
            Multiplexer::Split(split) => split.run(request),
            Multiplexer::Combining(combiner) => combiner.run(request),
        }
    }

    /// Stops using the connection (commands already on it still get their replies), so the
    /// next command connects anew, e.g. after Sentinel reported that the server moved.
    pub(super) fn disconnect(&self) {
        match self {
            Multiplexer::Split(split) => split.disconnect(),
            Multiplexer::Combining(combiner) => combiner.disconnect(),
        }
    }
}

/// Where a waiting caller learns its outcome, or (flat combining) that it leads the next batch.
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

/// A poisoned lock only means a thread panicked while holding it. Queues stay consistent
/// (entries are pushed and taken whole) and a connection left mid-batch is not reusable, so
/// carry on.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The outcome of a reply read for `info`'s command: an error reply fails it, naming it.
fn outcome_of(value: Value, info: &CommandInfo) -> Result<Value, Failure> {
    match value {
        Value::Error(payload) => Err(Failure {
            error: Error::from_server_reply(&payload, Some(&info.name)),
            sent: crate::retry::Sent::Maybe,
        }),
        value => Ok(value),
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
