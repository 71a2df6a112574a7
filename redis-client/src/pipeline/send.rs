//! Sending a pipeline and reading its replies as they come.
//!
//! The commands go out in slices of at most [`CHUNK_BYTES`], and each slice's replies are read
//! before the next slice is written. Writing never waits for the server to drain replies we have
//! not read (a slice fits the socket buffers, and the server keeps whatever replies it cannot
//! send yet), and reading never waits for commands we have not written, so a pipeline of any
//! length cannot deadlock. Each reply is turned into its command's outcome as soon as it is read,
//! so the replies exist once.

use crate::client::Client;
use crate::command_meta::BlockFor;
use crate::connection::{Connection, Failure};
use crate::error::{Error, Result};
use crate::resp::Value;
use crate::retry::Sent;

use super::queue::{Queue, Wire};

/// The most bytes of commands written before their replies are read.
pub(crate) const CHUNK_BYTES: usize = 256 * 1024;

/// Where a failed run stopped.
struct Stopped {
    error: Error,
    /// The slice holding the last frame (`EXEC` in a transaction) was handed to the socket.
    wrote_last: bool,
}

/// Writes the frames of `wire` slice by slice, calling `read` once per frame, in order, after
/// its slice went out; `block` tells how long frame `index`'s command blocks, if it does, for
/// the deadline of its reply. `read` fails only when the connection does, and names the
/// command its error concerns.
fn drive(
    conn: &mut Connection,
    wire: &Wire<'_>,
    block: impl Fn(usize) -> Option<BlockFor>,
    mut read: impl FnMut(&mut Connection, usize) -> Result<()>,
) -> Result<(), Stopped> {
    let total = wire.frames();
    let mut start = 0;
    while start < total {
        let end = wire.chunk_end(start, CHUNK_BYTES);
        let wrote_last = end == total;
        let stopped = |error| Stopped { error, wrote_last };
        conn.send_frames(wire.bytes(start..end), (start..end).map(&block))
            .map_err(stopped)?;
        for index in start..end {
            read(conn, index).map_err(stopped)?;
        }
        start = end;
    }
    Ok(())
}

/// Runs the commands as a plain pipeline; each outcome sits in its command's place.
///
/// Once a slice was handed to the socket, any complete command in it may have run (even when
/// the write failed part way), so every failure counts as sent.
pub(super) fn plain(
    conn: &mut Connection,
    wire: &Wire<'_>,
    client: &Client,
) -> Result<Vec<Result<Value>>, Failure> {
    let queue = wire.queue();
    let protocol = conn.protocol();
    let mut outcomes = Vec::with_capacity(queue.len());
    drive(
        conn,
        wire,
        |index| queue.entry(index).info.block,
        |conn, index| {
            let name = &queue.entry(index).info.name;
            let value = conn.next_reply().map_err(|e| e.with_command(name))?;
            outcomes.push(
                queue
                    .entry(index)
                    .outcome(queue.frame(index), value, client, protocol),
            );
            Ok(())
        },
    )
    .map_err(|stopped| Failure {
        error: stopped.error,
        sent: Sent::Maybe,
    })?;
    Ok(outcomes)
}

/// Runs the commands inside `MULTI` … `EXEC`.
///
/// Nothing runs before the server receives `EXEC`, so a failure before the slice holding it was
/// written counts as unsent. A command the server refuses while queueing aborts the whole
/// transaction (`EXECABORT`, reported with the first refusal); a nil `EXEC` reply means a
/// watched key changed ([`Error::Watch`]).
pub(super) fn transaction(
    conn: &mut Connection,
    wire: &Wire<'_>,
    client: &Client,
) -> Result<Vec<Result<Value>>, Failure> {
    let queue = wire.queue();
    let count = queue.len();
    let protocol = conn.protocol();
    let mut replies = TransactionReplies::default();
    let name = |index| match index {
        0 => "MULTI",
        i if i <= count => &queue.entry(i - 1).info.name,
        _ => "EXEC",
    };
    // Inside a transaction nothing blocks: commands are only queued until EXEC runs them.
    drive(
        conn,
        wire,
        |_| None,
        |conn, index| {
            let reply = conn.next_reply().map_err(|e| e.with_command(name(index)))?;
            replies.take(index, count, reply);
            Ok(())
        },
    )
    .map_err(|stopped| Failure {
        error: stopped.error,
        sent: if stopped.wrote_last {
            Sent::Maybe
        } else {
            Sent::No
        },
    })?;
    replies.judge(queue, |index, value| {
        queue
            .entry(index)
            .outcome(queue.frame(index), value, client, protocol)
    })
}

/// The replies of a `MULTI` … `EXEC` block as they are read (`MULTI`'s, each command's
/// `QUEUED` or refusal, `EXEC`'s), and the judgement on them once all came: every front end
/// applies the same rules.
#[derive(Default)]
pub(crate) struct TransactionReplies {
    multi_error: Option<Error>,
    refused: Option<(usize, Error)>,
    exec_reply: Option<Value>,
}

impl TransactionReplies {
    /// Takes the reply to frame `index` of a block of `count` commands (frame 0 is `MULTI`,
    /// frame `count + 1` is `EXEC`).
    pub(crate) fn take(&mut self, index: usize, count: usize, reply: Value) {
        if let Value::Error(payload) = reply {
            if index == 0 {
                self.multi_error = Some(Error::from_server_reply(&payload, Some("MULTI")));
            } else if index <= count {
                self.refused
                    .get_or_insert((index, Error::from_server_reply(&payload, None)));
            } else {
                self.exec_reply = Some(Value::Error(payload));
            }
        } else if index > count {
            self.exec_reply = Some(reply);
        }
    }

    /// The outcome of the transaction once every reply was taken: each command's, through
    /// `outcome` (its index and its reply within `EXEC`'s), or the failure of the whole (a
    /// refused `MULTI`, `EXECABORT` naming the first refused command, a watched key that
    /// changed: [`Error::Watch`]).
    pub(crate) fn judge(
        self,
        queue: &Queue,
        mut outcome: impl FnMut(usize, Value) -> Result<Value>,
    ) -> Result<Vec<Result<Value>>, Failure> {
        let count = queue.len();
        let failed = |error| Failure {
            error,
            sent: Sent::Maybe,
        };
        if let Some(error) = self.multi_error {
            return Err(failed(error));
        }
        let items = match self.exec_reply.map(Value::without_attributes) {
            Some(Value::Array(items)) => items,
            Some(Value::Nil) => return Err(failed(Error::Watch)),
            Some(Value::Error(payload)) => {
                let error = match self.refused {
                    Some((index, first)) => {
                        exec_abort(&payload, index, &queue.entry(index - 1).info.name, &first)
                    }
                    None => Error::from_server_reply(&payload, Some("EXEC")),
                };
                return Err(failed(error));
            }
            Some(other) => {
                return Err(failed(Error::Protocol(format!(
                    "EXEC answered {} instead of an array of {count} replies",
                    other.kind_name()
                ))))
            }
            None => {
                return Err(failed(Error::Protocol(
                    "the transaction ended without a reply to EXEC".into(),
                )))
            }
        };
        if items.len() != count {
            return Err(failed(Error::Protocol(format!(
                "EXEC answered {} replies for {count} queued commands",
                items.len()
            ))));
        }
        Ok(items
            .into_iter()
            .enumerate()
            .map(|(index, value)| outcome(index, value))
            .collect())
    }
}

/// The `EXECABORT` error, naming the first command the server refused while queueing (its
/// 1-based `number` and `name`) and why.
fn exec_abort(payload: &[u8], number: usize, name: &str, refusal: &Error) -> Error {
    let server = String::from_utf8_lossy(payload);
    let server = server.trim_end_matches('.');
    Error::from_server_reply(
        format!("{server}: command #{number} ({name}) was refused: {refusal}").as_bytes(),
        Some("EXEC"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_abort_keeps_the_code_and_names_the_refused_command() {
        let refusal =
            Error::from_server_reply(b"ERR wrong number of arguments for 'incr' command", None);
        let e = exec_abort(
            b"EXECABORT Transaction discarded because of previous errors.",
            2,
            "INCR",
            &refusal,
        );
        assert_eq!(e.code(), Some("EXECABORT"));
        let text = e.to_string();
        assert_eq!(
            text,
            "EXECABORT Transaction discarded because of previous errors: command #2 (INCR) was \
             refused: ERR wrong number of arguments for 'incr' command (command EXEC)"
        );
    }
}
