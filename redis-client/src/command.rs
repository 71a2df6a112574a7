//! The traits the generated command surface is built on.
//!
//! Every command and subcommand of the spec is a typed value in [`crate::cmd`] (`cmd::Set`,
//! `cmd::ClientKill`, …) implementing [`Command`]: it writes its own arguments, knows the Rust
//! type of its reply and the reply's shape. An [`Executor`] (a [`crate::Client`], a
//! [`crate::Connection`], later pipelines) runs command values, and the generated
//! [`crate::Commands`] trait gives every executor one short-form method per command.
//!
//! ```no_run
//! use std::time::Duration;
//!
//! use bytes::Bytes;
//! use redis_client::{cmd, Client, Commands, Executor};
//!
//! let client = Client::open("redis://127.0.0.1/0")?;
//! client.set("k", "v")?; // short form: required arguments only
//! let v: Option<Bytes> = client.get("k")?; // the reply type comes from the spec
//! // Full form: any option; GET changes the reply type from () to Option<Bytes>.
//! let old = client.run(cmd::Set::new("k", "w").ex(Duration::from_secs(10)).get())?;
//! assert_eq!(old, v);
//! # Ok::<(), redis_client::Error>(())
//! ```
//!
//! The rules the generator follows (which arguments become parameters, setters, enums or
//! structs; how counts such as `numkeys` are derived; which time arguments take a `Duration`)
//! are documented in the `codegen` crate's `generate` module.

mod arg;
pub mod time;

pub use arg::Arg;

use crate::config::Protocol;
use crate::resp::{FromValue, ToArgs, Value};
use crate::shape::{normalize, ReplyShape};
use crate::{Error, Result};

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
    /// Only a [`Dedicated`] executor runs them: on a pooled client or in a pipeline the state
    /// would leak to whoever uses that connection next, so those refuse with [`Error::Usage`].
    const CONNECTION_STATE: bool = false;
}

/// An executor that owns its connection for as long as the caller holds it (a [`Connection`],
/// a borrowed pooled connection), so commands that change the connection's state are safe on it.
///
/// Their short forms live in [`ConnectionCommands`](crate::ConnectionCommands), which only
/// dedicated executors get:
///
/// ```no_run
/// use redis_client::{Client, ConnectionCommands};
///
/// # fn main() -> redis_client::Result<()> {
/// let client = Client::open("redis://127.0.0.1/")?;
/// let mut conn = client.get_connection()?;
/// (&mut *conn).watch(["balance"])?; // fine: this connection is ours until dropped
/// # Ok(())
/// # }
/// ```
///
/// ```compile_fail
/// use redis_client::{Client, ConnectionCommands};
///
/// # fn main() -> redis_client::Result<()> {
/// let client = Client::open("redis://127.0.0.1/")?;
/// client.watch(["balance"])?; // no such method on a pooled client
/// # Ok(())
/// # }
/// ```
///
/// [`Connection`]: crate::Connection
pub trait Dedicated: Executor {}

/// Refuses a connection-state command on an executor that shares its connections.
pub(crate) fn refuse_connection_state<C: Command>(executor: &str) -> Result<()> {
    if C::CONNECTION_STATE {
        return Err(Error::Usage(format!(
            "{} changes the state of the connection it runs on, so it cannot run on {executor}: \
             the pool's next user would inherit that state; run it on a dedicated connection \
             (`client.get_connection()` or `Connection::open`)",
            C::NAME
        )));
    }
    Ok(())
}

/// Something that runs commands: a client, a connection, and later pipelines and transactions.
///
/// `Output<T>` is what running a command whose reply is `T` gives back: `Result<T>` for a client
/// or connection, the pipeline itself (for chaining) for a pipeline.
pub trait Executor: Sized {
    /// What running a command with reply type `T` returns.
    type Output<T>;

    /// Runs `cmd`: checks it, sends it, and converts its reply into `C::Output`.
    fn run<C: Command>(self, cmd: C) -> Self::Output<C::Output>;
}

/// Turns the raw reply to `cmd` into its typed output: the reply is reshaped into the command's
/// RESP3 shape (so RESP2 and RESP3 give the same value), then converted with [`FromValue`].
///
/// Errors name the command. Executors call this after server errors and response callbacks
/// have been handled.
pub fn decode_reply<C: Command>(cmd: &C, value: Value, protocol: Protocol) -> Result<C::Output> {
    let value = normalize(value, cmd.reply_shape(), cmd.resp2_reply_shape(), protocol)
        .map_err(|e| name_error(e, C::NAME))?;
    C::Output::from_value(value).map_err(|e| name_error(e, C::NAME))
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
#[doc(hidden)]
pub fn empty_argument(command: &str, argument: &str) -> Error {
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
