//! [`Executor`] for [`Client`] and [`Connection`]: run a typed command and decode its reply.
//!
//! The order is the same for both: check the arguments, send, turn an error reply into `Err`
//! (and, on a client, run the response callback registered for the command), reshape the reply
//! into the command's RESP3 shape, convert it into the command's output type.

use crate::command::{decode_reply, refuse_connection_state, Command, Dedicated, Executor};
use crate::connection::request::Typed;
use crate::{Client, Connection, Result};

impl Executor for &Client {
    type Output<T> = Result<T>;

    fn run<C: Command>(self, cmd: C) -> Result<C::Output> {
        refuse_connection_state::<C>("a pooled client")?;
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
