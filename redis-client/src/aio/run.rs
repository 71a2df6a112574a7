//! Running commands on an [`AsyncConnection`]: the methods and the [`Executor`] impl that hand
//! out its futures. Kept apart from the connection so the futures depend on the connection and
//! not the other way round.

use std::future::Future;

use super::connection::AsyncConnection;
use super::future::{CommandFuture, ReplyFuture};
use crate::command::{Command, Decoder};
use crate::connection::request::{Request, Typed};
use crate::connection::Failure;
use crate::error::Result;
use crate::executor::{Dedicated, Executor};
use crate::resp::{FromValue, ToArgs, Value};

impl AsyncConnection {
    /// Sends one command and returns its reply; an error reply becomes `Err` naming the command.
    ///
    /// The arguments are encoded now, so the future borrows nothing but the connection.
    pub fn execute(&mut self, args: impl ToArgs) -> ReplyFuture<'_> {
        self.start(&args, None)
    }

    /// Sends one command and converts its reply into `T`.
    pub fn query<T: FromValue>(
        &mut self,
        args: impl ToArgs,
    ) -> impl Future<Output = Result<T>> + Send + '_ {
        let reply = self.execute(args);
        async move {
            let name = reply.name();
            let value = reply.await?;
            T::from_value(value).map_err(|e| e.with_command(&name))
        }
    }

    /// Queues a command and returns the future of its reply (see [`Executor::run`] for typed
    /// commands).
    pub(crate) fn start(&mut self, args: &impl ToArgs, typed: Option<Typed>) -> ReplyFuture<'_> {
        match self.queue_awaited(args, typed) {
            Ok((id, name, announced)) => ReplyFuture::new(self, id, name, announced),
            Err(error) => ReplyFuture::failed(self, error),
        }
    }

    /// Runs an encoded request (a client's, kept for retries) and returns its reply, reporting
    /// whether a failure may have let it run.
    pub(crate) async fn run_request(&mut self, request: &Request) -> Result<Value, Failure> {
        let (id, announced) = self.queue_request(request)?;
        let name = request.info.name.clone();
        let result = ReplyFuture::new(self, id, name, announced).await;
        result.map_err(|error| {
            // A frame not wholly written is never executed.
            if error.server_error().is_some() || self.output_is_empty() {
                Failure::maybe_sent(error)
            } else {
                Failure::unsent(error)
            }
        })
    }
}

impl<'a> Executor for &'a mut AsyncConnection {
    type Output<T> = CommandFuture<'a, T>;

    fn run<C: Command>(self, cmd: C) -> CommandFuture<'a, C::Output> {
        let decoder = Decoder::of(&cmd);
        let reply = match cmd.check() {
            Ok(()) => self.start(&cmd, Some(Typed::of::<C>())),
            Err(error) => ReplyFuture::failed(self, error),
        };
        CommandFuture::new(reply, decoder)
    }
}

impl Dedicated for &mut AsyncConnection {}
