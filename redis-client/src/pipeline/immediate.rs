//! [`Immediate`]: commands that run at once on a watching pipeline's connection.

use crate::command::{decode_reply, Command, Executor};
use crate::connection::request::Request;
use crate::connection::Connection;
use crate::error::Result;
use crate::resp::{FromValue, ToArgs, Value};

use super::Pipeline;

/// Runs commands at once on the connection of a pipeline that `WATCH`es keys — redis-py's
/// "immediate mode" — so a transaction can read the values it depends on.
///
/// Every command of the generated surface is a method here too and returns its typed reply
/// (`watched.get("counter")?`); [`Immediate::query`] runs raw commands.
/// [`Immediate::multi`] ends immediate mode and starts buffering.
///
/// ```no_run
/// use redis_client::{Client, Commands};
///
/// let client = Client::open("redis://127.0.0.1/")?;
/// let mut pipe = client.pipeline();
/// let mut watched = pipe.watch(["balance"])?;
/// let balance: i64 = watched.query::<Option<i64>>(["GET", "balance"])?.unwrap_or(0);
/// watched.multi()?.set("balance", balance + 10);
/// pipe.execute()?; // Err(Error::Watch) if another client changed `balance` meanwhile
/// # Ok::<(), redis_client::Error>(())
/// ```
pub struct Immediate<'p, 'c> {
    pipe: &'p mut Pipeline<'c>,
}

impl<'p, 'c> Immediate<'p, 'c> {
    /// Only for a pipeline that holds its (watching) connection.
    pub(super) fn new(pipe: &'p mut Pipeline<'c>) -> Immediate<'p, 'c> {
        debug_assert!(pipe.conn.is_some() && pipe.watching);
        Immediate { pipe }
    }

    /// Sends one raw command now and returns its reply (error replies become `Err`).
    pub fn execute(&mut self, args: impl ToArgs) -> Result<Value> {
        let request = Request::encode(&args)?;
        self.send(&request)
    }

    /// Sends one raw command now and converts its reply into `T`.
    pub fn query<T: FromValue>(&mut self, args: impl ToArgs) -> Result<T> {
        let request = Request::encode(&args)?;
        let value = self.send(&request)?;
        T::from_value(value).map_err(|e| e.with_command(&request.info.name))
    }

    /// Ends immediate mode: commands queued on the returned pipeline run inside `MULTI` …
    /// `EXEC` when it executes (see [`Pipeline::multi`]).
    pub fn multi(self) -> Result<&'p mut Pipeline<'c>> {
        self.pipe.multi()
    }

    /// The watching connection, e.g. to run a [`crate::Script`] on it.
    pub fn connection(&mut self) -> &mut Connection {
        self.pipe
            .conn
            .as_mut()
            .expect("an Immediate exists only while its pipeline holds a connection")
    }

    /// Runs `request` like [`crate::Client::execute`] does: the client's `decode_responses`
    /// check and response callback apply.
    fn send(&mut self, request: &Request) -> Result<Value> {
        let client = self.pipe.client;
        let value = self
            .connection()
            .run(request)
            .map_err(|failure| failure.error)?;
        client.finish_reply(&request.frame, &request.info, value)
    }

    fn run_command<C: Command>(&mut self, cmd: C) -> Result<C::Output> {
        cmd.check()?;
        let request = Request::encode(&cmd)?;
        let value = self.send(&request)?;
        let protocol = self.connection().protocol();
        decode_reply(&cmd, value, protocol)
    }
}

// Only on `&mut`: with a by-value impl too, `watched.get(k)` would pick it and consume the
// handle after one command.
impl Executor for &mut Immediate<'_, '_> {
    type Output<T> = Result<T>;

    fn run<C: Command>(self, cmd: C) -> Result<C::Output> {
        self.run_command(cmd)
    }
}
