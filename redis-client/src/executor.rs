//! What runs commands: the [`Executor`] and [`Dedicated`] traits, and their implementations for
//! [`Client`] and [`Connection`], which run a typed command and decode its reply.
//!
//! The order is the same for both: check the arguments, send, turn an error reply into `Err`
//! (and, on a client, run the response callback registered for the command), reshape the reply
//! into the command's RESP3 shape, convert it into the command's output type.

use crate::client::Client;
use crate::command::{decode_reply, refuse_connection_state, Command};
use crate::connection::request::Typed;
use crate::connection::Connection;
use crate::error::Result;

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

impl Executor for &Client {
    type Output<T> = Result<T>;

    fn run<C: Command>(self, cmd: C) -> Result<C::Output> {
        refuse_connection_state::<C>(self.kind())?;
        cmd.check()?;
        let value = self.execute_as(&cmd, Typed::of::<C>())?;
        decode_reply(&cmd, value, self.config().protocol())
    }
}

impl Executor for &mut Connection {
    type Output<T> = Result<T>;

    fn run<C: Command>(self, cmd: C) -> Result<C::Output> {
        cmd.check()?;
        let value = self.execute_as(&cmd, Typed::of::<C>())?;
        decode_reply(&cmd, value, self.protocol())
    }
}

impl Dedicated for &mut Connection {}
