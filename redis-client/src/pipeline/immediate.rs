//! Watching keys: [`Pipeline::watch`] and [`Immediate`], whose commands run at once on the
//! watching pipeline's connection.

use crate::command::{decode_reply, Command, Executor};
use crate::connection::request::Request;
use crate::connection::Connection;
use crate::error::Result;
use crate::resp::{FromValue, ToArgs, Value};

use super::batch::{connection, Pipeline};
use crate::error::Error;
use crate::script::ScriptRunner;

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

impl<'c> Pipeline<'c> {
    /// `WATCH`es `keys` on the pipeline's own connection (taken from the client now) and
    /// returns a handle whose commands run at once, to read what the transaction depends on.
    ///
    /// Call [`Pipeline::multi`] (or [`Immediate::multi`]) next to start buffering the
    /// transaction. Fails after `multi`, as `WATCH` inside `MULTI` is refused by the server.
    pub fn watch(&mut self, keys: impl ToArgs) -> Result<Immediate<'_, 'c>> {
        if self.explicit_multi {
            return Err(Error::Data(
                "WATCH after multi(): watch keys before starting the transaction".into(),
            ));
        }
        let request = Request::encode(&("WATCH", keys))?;
        let taken_now = self.conn.is_none();
        let result = connection(&mut self.conn, self.client).and_then(|conn| {
            conn.run(&request)
                .map(drop)
                .map_err(|failure| failure.error)
        });
        match result {
            Ok(()) => {
                self.watching = true;
                Ok(Immediate::new(self))
            }
            Err(error) => {
                if taken_now && !self.watching {
                    self.conn = None;
                }
                Err(error)
            }
        }
    }

    /// The handle running commands at once on the watching connection; fails unless keys are
    /// watched and `multi` has not been called.
    pub fn immediate(&mut self) -> Result<Immediate<'_, 'c>> {
        if !self.watching || self.explicit_multi {
            return Err(Error::Data(
                "commands run at once only between watch() and multi()".into(),
            ));
        }
        Ok(Immediate::new(self))
    }
}

impl ScriptRunner for &mut Immediate<'_, '_> {
    fn execute_raw<A: ToArgs + ?Sized>(&mut self, args: &A) -> Result<Value> {
        self.execute(args)
    }
}

impl ScriptRunner for Immediate<'_, '_> {
    fn execute_raw<A: ToArgs + ?Sized>(&mut self, args: &A) -> Result<Value> {
        self.execute(args)
    }
}
