//! The futures an [`AsyncConnection`] hands out: [`ReplyFuture`] for a raw command's reply,
//! [`CommandFuture`] for a typed command's decoded output. Both are named types holding no
//! allocation of their own, and the command was encoded before they were made, so they borrow
//! nothing but the connection (they are `Send` whatever the command's arguments were).

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::connection::AsyncConnection;
use crate::command::Decoder;
use crate::connection::core::ReplyId;
use crate::connection::session::Pending;
use crate::error::{Error, Result};
use crate::resp::{FromValue, Value};

enum State {
    /// The command was refused before anything was queued.
    Failed(Option<Error>),
    /// Queued: its reply is `id`.
    Waiting {
        id: ReplyId,
        name: Cow<'static, str>,
        announced: Option<Pending>,
    },
    Done,
}

/// The reply to one command on an [`AsyncConnection`]; an error reply resolves to `Err`
/// naming the command.
///
/// Dropped before it resolved, it leaves its reply to be read and dropped when it comes, so the
/// next command never gets it; a command not wholly written by then breaks the connection.
#[must_use = "a command future does nothing unless awaited"]
pub struct ReplyFuture<'a> {
    conn: &'a mut AsyncConnection,
    state: State,
}

impl fmt::Debug for ReplyFuture<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplyFuture")
            .field("command", &self.name())
            .finish_non_exhaustive()
    }
}

impl<'a> ReplyFuture<'a> {
    pub(crate) fn new(
        conn: &'a mut AsyncConnection,
        id: ReplyId,
        name: Cow<'static, str>,
        announced: Option<Pending>,
    ) -> ReplyFuture<'a> {
        ReplyFuture {
            conn,
            state: State::Waiting {
                id,
                name,
                announced,
            },
        }
    }

    pub(crate) fn failed(conn: &'a mut AsyncConnection, error: Error) -> ReplyFuture<'a> {
        ReplyFuture {
            conn,
            state: State::Failed(Some(error)),
        }
    }

    /// The command's name (empty when it was refused before being queued).
    pub(crate) fn name(&self) -> Cow<'static, str> {
        match &self.state {
            State::Waiting { name, .. } => name.clone(),
            _ => Cow::Borrowed(""),
        }
    }
}

impl Future for ReplyFuture<'_> {
    type Output = Result<Value>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<Value>> {
        let this = self.get_mut();
        match &mut this.state {
            State::Failed(error) => {
                let error = error.take();
                this.state = State::Done;
                Poll::Ready(Err(error.unwrap_or_else(polled_after_completion)))
            }
            State::Waiting { .. } => {
                let result = ready!(this.conn.poll_reply(cx));
                let State::Waiting {
                    id,
                    name,
                    announced,
                } = std::mem::replace(&mut this.state, State::Done)
                else {
                    unreachable!("the state was Waiting")
                };
                Poll::Ready(this.conn.finish(result, id, &name, announced))
            }
            State::Done => Poll::Ready(Err(polled_after_completion())),
        }
    }
}

impl Drop for ReplyFuture<'_> {
    fn drop(&mut self) {
        if let State::Waiting { id, announced, .. } = &mut self.state {
            self.conn.abandon(*id, announced.take());
        }
    }
}

#[cold]
fn polled_after_completion() -> Error {
    Error::Usage("a command future was polled after it completed".into())
}

/// A typed command's output on an [`AsyncConnection`]: what
/// [`Executor::run`](crate::Executor::run) and every generated
/// [`Commands`](crate::Commands) method return there.
#[must_use = "a command future does nothing unless awaited"]
pub struct CommandFuture<'a, T> {
    reply: ReplyFuture<'a>,
    decoder: Decoder<T>,
}

impl<T> fmt::Debug for CommandFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CommandFuture")
            .field("reply", &self.reply)
            .finish()
    }
}

impl<'a, T> CommandFuture<'a, T> {
    pub(crate) fn new(reply: ReplyFuture<'a>, decoder: Decoder<T>) -> CommandFuture<'a, T> {
        CommandFuture { reply, decoder }
    }
}

impl<T: FromValue> Future for CommandFuture<'_, T> {
    type Output = Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        let this = self.get_mut();
        let value = ready!(Pin::new(&mut this.reply).poll(cx))?;
        Poll::Ready(this.decoder.decode(value, this.reply.conn.protocol()))
    }
}
