//! The [`Command`] trait and what executors do with a command value around sending it:
//! refusing connection-state commands where connections are shared, decoding the reply.

use std::marker::PhantomData;

use crate::config::Protocol;
use crate::error::{Error, Result};
use crate::resp::{FromValue, ToArgs, Value};
use crate::shape::{normalize, ReplyShape};

/// A typed command: its arguments (through [`ToArgs`]), its name, and what its reply becomes.
///
/// Implemented by the generated command values in [`crate::cmd`]; the reply type can depend on
/// the options given (`cmd::Set::new(k, v)` replies `()`, `….get()` replies `Option<Bytes>`),
/// which the command value tracks in its type.
pub trait Command: ToArgs {
    /// The Rust value the reply converts into.
    type Output: FromValue;

    /// The command's name as the server knows it, with a space before a subcommand
    /// (`"SET"`, `"CLIENT KILL"`).
    const NAME: &'static str;

    /// The command's entry in the generated metadata table (flags, arity, key positions,
    /// blocking timeout), so executors need no lookup by name. Generated commands set it; a
    /// hand-written command may leave it `None`, and its name is looked up instead.
    const META: Option<&'static crate::command_meta::CommandMeta> = None;

    /// The RESP3 shape of the reply for the options given; RESP2 replies are reshaped into it.
    fn reply_shape(&self) -> &'static ReplyShape;

    /// The RESP2 shape, when the fixed RESP2 rules do not derive it from [`Command::reply_shape`]
    /// (`XREAD`: an array of `[key, entries]` pairs instead of a map).
    fn resp2_reply_shape(&self) -> Option<&'static ReplyShape> {
        None
    }

    /// Reports arguments the server would refuse that the types cannot rule out, such as an
    /// empty list where at least one item is needed, as [`Error::Data`] naming the command and
    /// the argument. Executors call it before sending anything.
    fn check(&self) -> Result<()> {
        Ok(())
    }

    /// True for commands that change or rely on the state of the connection they run on
    /// (SELECT, WATCH, MULTI, SUBSCRIBE, CLIENT REPLY …; the spec's `rust.connection_state`).
    /// Only a [`Dedicated`](crate::Dedicated) executor runs them: on a pooled client or in a pipeline the state
    /// would leak to whoever uses that connection next, so those refuse with [`Error::Usage`].
    const CONNECTION_STATE: bool = false;
}

/// Refuses a connection-state command on an executor that shares its connections.
pub(crate) fn refuse_connection_state<C: Command>(executor: &str) -> Result<()> {
    let flagged = C::CONNECTION_STATE || C::META.is_some_and(|meta| meta.connection_state);
    if flagged {
        return Err(connection_state_error(C::NAME, executor));
    }
    Ok(())
}

/// The error for command `name`, which changes its connection's state, sent to `executor`
/// (`"a pooled client"`), which shares its connections; typed and raw commands alike get it.
pub(crate) fn connection_state_error(name: &str, executor: &str) -> Error {
    Error::Usage(format!(
        "{name} changes the state of the connection it runs on, so it cannot run on {executor}: \
         whoever uses that connection next would inherit that state; run it on a dedicated \
         connection (`client.get_connection()` or `Connection::open`)"
    ))
}

/// Turns the raw reply to `cmd` into its typed output: the reply is reshaped into the command's
/// RESP3 shape (so RESP2 and RESP3 give the same value), then converted with [`FromValue`].
///
/// Errors name the command. Executors call this after server errors and response callbacks
/// have been handled.
pub fn decode_reply<C: Command>(cmd: &C, value: Value, protocol: Protocol) -> Result<C::Output> {
    Decoder::of(cmd).decode(value, protocol)
}

/// What decoding a command's reply needs, taken from the command value before it is sent, so
/// that whoever waits for the reply (an async future) need not keep the command (and what it
/// borrows) alive: the command's name and its reply shapes, all static.
pub(crate) struct Decoder<T> {
    name: &'static str,
    shape: &'static ReplyShape,
    resp2_shape: Option<&'static ReplyShape>,
    // `fn() -> T`: a decoder holds no `T`, so it is `Send` and `Sync` whatever `T` is.
    output: PhantomData<fn() -> T>,
}

impl<T> Clone for Decoder<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Decoder<T> {}

impl<T> std::fmt::Debug for Decoder<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoder").field("name", &self.name).finish()
    }
}

impl<T: FromValue> Decoder<T> {
    /// The decoder of `cmd`'s reply.
    #[inline]
    pub(crate) fn of<C: Command<Output = T>>(cmd: &C) -> Decoder<T> {
        Decoder {
            name: C::NAME,
            shape: cmd.reply_shape(),
            resp2_shape: cmd.resp2_reply_shape(),
            output: PhantomData,
        }
    }

    /// [`decode_reply`] with what was taken from the command.
    #[inline]
    pub(crate) fn decode(&self, value: Value, protocol: Protocol) -> Result<T> {
        let value = normalize(value, self.shape, self.resp2_shape, protocol)
            .map_err(|e| name_error(e, self.name))?;
        T::from_value(value).map_err(|e| name_error(e, self.name))
    }
}

/// Names the command in an error: data errors get it as a prefix, server and connection errors
/// keep it in their own field.
fn name_error(error: Error, command: &str) -> Error {
    match error {
        Error::Data(message) => Error::Data(format!("{command}: {message}")),
        other => other.with_command(command),
    }
}

/// The error [`Command::check`] reports for an argument that needs at least one value.
///
/// Generated code calls it; `argument` is the spec's argument path (`streams.key`).
pub(crate) fn empty_argument(command: &str, argument: &str) -> Error {
    Error::Data(format!(
        "{command}: argument `{argument}` needs at least one value, got none"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_errors_get_the_command_as_prefix() {
        let e = name_error(Error::Data("expected map".into()), "HGETALL");
        assert_eq!(e.to_string(), "data error: HGETALL: expected map");
        let e = empty_argument("DEL", "key");
        assert_eq!(
            e.to_string(),
            "data error: DEL: argument `key` needs at least one value, got none"
        );
    }
}
