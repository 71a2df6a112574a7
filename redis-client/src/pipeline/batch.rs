//! [`Pipeline`]: buffered commands, sent together as a transaction or a plain pipeline.

use std::fmt;

use super::queue::{self, Queue};
use super::replies::{FromReplies, Replies};
use super::send;
use crate::client::{Client, ClientConnection};
use crate::command::{refuse_connection_state, Command, Executor};
use crate::connection::request::Request;
use crate::connection::{Connection, Failure};
use crate::error::{Error, Result};
use crate::resp::{ToArgs, Value};
use crate::retry::Sent;
use crate::script::Script;

/// Buffered commands sent together, as a transaction (the default) or a plain pipeline; shaped
/// after redis-py's `Pipeline`.
///
/// [`Client::pipeline`] gives a pipeline: it buffers commands and [`Pipeline::execute`] sends
/// them at once and returns every reply. Every command of the generated surface is a method
/// here too, queueing the command and returning the pipeline for chaining
/// (`pipe.set("a", 1).incr("n")`); so is any [`Command`] value through [`Executor::run`]. Raw
/// commands go in with [`Pipeline::raw`]. A pipeline borrows its client and holds a connection
/// only while it runs or watches keys. By default the commands run as a transaction (`MULTI` …
/// `EXEC`); [`Pipeline::transaction`]`(false)` sends them as a plain pipeline.
///
/// ```no_run
/// use redis_client::{Client, Commands, Value};
///
/// let client = Client::open("redis://127.0.0.1/")?;
/// let mut pipe = client.pipeline();
/// pipe.set("a", 1).incr("a").raw(["GET", "a"]);
/// let (set, n, a): ((), i64, String) = pipe.execute_typed()?;
/// assert_eq!(n, 2);
/// // Or every reply as a `Value`, plain pipelining instead of MULTI/EXEC:
/// pipe.transaction(false).get("a").hgetall("h");
/// let replies: Vec<Value> = pipe.execute()?;
/// # Ok::<(), redis_client::Error>(())
/// ```
///
/// - [`Client::typed_pipeline`] gives a [`TypedPipeline`](crate::TypedPipeline), whose type accumulates the queued
///   commands' reply types: `execute` returns their tuple without annotations.
/// - The error of one command comes back in its place ([`Pipeline::execute_results`]) without
///   losing the other replies; [`Pipeline::execute`] and [`Pipeline::execute_typed`] read every
///   reply, then return the first error. A transaction the server discarded (`EXECABORT`,
///   because it refused a command while queueing) is an error naming that command.
/// - Optimistic locking: [`Pipeline::watch`] takes a connection, `WATCH`es keys and returns an
///   [`Immediate`](crate::Immediate) handle whose commands run at once (read the values you need), then
///   [`Pipeline::multi`] starts buffering; if a watched key changed, `execute` fails with
///   [`Error::Watch`]. [`Client::transaction`] wraps the whole dance and retries it.
/// - The connection is taken from the client when the pipeline runs (or when it watches) and
///   given back right after, only when clean: no replies pending, no keys watched (`UNWATCH` is
///   sent on [`Pipeline::reset`] and on drop), no transaction left open. One the client cannot
///   trust any more is closed instead.
/// - Any number of commands: they are written in bounded slices and the replies of each slice
///   are read before the next one goes out, so a pipeline of 100 000 commands neither deadlocks
///   nor buffers more than one copy of its replies.
/// - [`crate::Script`]s queued on a pipeline are loaded (`SCRIPT EXISTS`, then `SCRIPT LOAD`
///   for the missing ones) before the pipeline is sent.
pub struct Pipeline<'c> {
    pub(super) client: &'c Client,
    /// Held while watching, and while running.
    pub(super) conn: Option<ClientConnection<'c>>,
    pub(super) transaction: bool,
    pub(super) queue: Queue,
    /// Scripts queued with `EVALSHA`, to be loaded before sending.
    pub(super) scripts: Vec<Script>,
    /// Keys are watched on `conn`.
    pub(super) watching: bool,
    /// `multi()` was called: buffer until `execute`, then run as a transaction.
    pub(super) explicit_multi: bool,
    /// The first command that could not be queued (bad arguments); `execute` reports it.
    pub(super) deferred: Option<Error>,
}

impl Client {
    /// A new, empty pipeline on this client: a transaction unless
    /// [`Pipeline::transaction`]`(false)` says otherwise.
    pub fn pipeline(&self) -> Pipeline<'_> {
        Pipeline {
            client: self,
            conn: None,
            transaction: true,
            queue: Queue::new(),
            scripts: Vec::new(),
            watching: false,
            explicit_multi: false,
            deferred: None,
        }
    }
}

impl Client {
    /// A plain pipeline or a transaction of this client running the commands of `queue` (and
    /// loading `scripts` first): a cluster pipeline hands its commands to the client of the
    /// node owning their slot.
    pub(crate) fn pipeline_of(
        &self,
        queue: Queue,
        transaction: bool,
        scripts: Vec<Script>,
    ) -> Pipeline<'_> {
        Pipeline {
            client: self,
            conn: None,
            transaction,
            queue,
            scripts,
            watching: false,
            explicit_multi: false,
            deferred: None,
        }
    }
}

impl Pipeline<'_> {
    /// Runs the queued commands and hands the queue back, not emptied: a cluster pipeline
    /// sends them again on another node after a redirection.
    pub(crate) fn run_and_take_queue(mut self) -> (Result<Vec<Result<Value>>>, Queue) {
        let result = self.run_all();
        let queue = std::mem::replace(&mut self.queue, Queue::new());
        (result, queue)
    }
}

impl<'p, 'c> Executor for &'p mut Pipeline<'c> {
    type Output<T> = &'p mut Pipeline<'c>;

    /// Queues `cmd`; arguments it refuses ([`Command::check`]) are reported by `execute`.
    fn run<C: Command>(self, cmd: C) -> &'p mut Pipeline<'c> {
        let pushed = refuse_connection_state::<C>(queue::EXECUTOR)
            .and_then(|()| self.queue.push_command(&cmd));
        self.defer(pushed);
        self
    }
}

impl<'c> Pipeline<'c> {
    /// Chooses a transaction (`MULTI` … `EXEC`, the default) or a plain pipeline.
    pub fn transaction(&mut self, transaction: bool) -> &mut Self {
        self.transaction = transaction;
        self
    }

    /// Queues a raw command, e.g. `pipe.raw(["SET", "k", "v"])`; its reply is kept as the
    /// server sends it (no reshaping), after the client's response callback, if any.
    ///
    /// A command that changes its connection's state (`SELECT`, `MULTI`, `SUBSCRIBE` …; see
    /// [`Client`](crate::Client#commands-that-change-the-connections-state)) is refused:
    /// `execute` reports it and sends nothing.
    pub fn raw(&mut self, args: impl ToArgs) -> &mut Self {
        let pushed = self.queue.push_raw(&args);
        self.defer(pushed);
        self
    }

    pub(super) fn defer(&mut self, pushed: Result<()>) {
        if let Err(error) = pushed {
            let number = self.queue.len() + 1;
            self.deferred.get_or_insert(match error {
                Error::Data(message) => {
                    Error::Data(format!("pipeline command #{number}: {message}"))
                }
                other => other,
            });
        }
    }

    /// How many commands are queued.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether no command is queued.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Whether keys are being watched (between [`Pipeline::watch`] and the end of the run).
    pub fn is_watching(&self) -> bool {
        self.watching
    }

    /// Starts the transaction: commands from now on are buffered and run inside `MULTI` …
    /// `EXEC` by [`Pipeline::execute`], whatever [`Pipeline::transaction`] says.
    ///
    /// Fails when called twice, or when commands were queued before it.
    pub fn multi(&mut self) -> Result<&mut Self> {
        if self.explicit_multi {
            return Err(Error::Data("multi() called twice on one pipeline".into()));
        }
        if !self.queue.is_empty() {
            return Err(Error::Data(format!(
                "multi() after {} commands were queued: call it first",
                self.queue.len()
            )));
        }
        self.explicit_multi = true;
        Ok(self)
    }

    /// `UNWATCH`es the keys and gives the connection back; the queued commands stay.
    pub fn unwatch(&mut self) -> Result<()> {
        if !self.watching {
            return Ok(());
        }
        self.watching = false;
        let Some(mut conn) = self.conn.take() else {
            return Ok(());
        };
        if conn.pending_replies() != 0 {
            // A run was cut short (a response callback panicked): the next reply would not be
            // UNWATCH's, so the connection cannot be cleaned, only closed.
            conn.mark_broken();
            return Ok(());
        }
        let request = Request::encode(&["UNWATCH"])?;
        conn.run(&request).map(drop).map_err(|failure| {
            // Keys may still be watched on it: nobody else may get this connection.
            conn.mark_broken();
            failure.error
        })
    }

    /// Empties the pipeline: drops the queued commands, `UNWATCH`es, and gives the connection
    /// back (or closes it, when `UNWATCH` fails). Dropping the pipeline does the same.
    pub fn reset(&mut self) {
        self.queue.clear();
        self.scripts.clear();
        self.deferred = None;
        self.explicit_multi = false;
        if self.watching {
            // A failure closes the connection; nothing is left to report.
            let _ = self.unwatch();
        }
        self.conn = None;
    }

    /// Sends the queued commands and returns their replies in order, after reading them all;
    /// the first error (a command's, or the transaction's) is returned instead.
    ///
    /// Typed commands' replies are reshaped into their RESP3 shape (as
    /// [`crate::command::decode_reply`] does), raw ones are left as they came. The pipeline is
    /// empty afterwards and can be reused.
    pub fn execute(&mut self) -> Result<Vec<Value>> {
        self.execute_results()?.into_iter().collect()
    }

    /// Like [`Pipeline::execute`], but each command's error comes back in its place.
    ///
    /// `Err` is left for failures of the whole: the connection, a transaction the server
    /// discarded (`EXECABORT`), a watched key that changed ([`Error::Watch`]), or a command
    /// whose arguments could not be encoded (nothing is sent then).
    pub fn execute_results(&mut self) -> Result<Vec<Result<Value>>> {
        let result = self.run_all();
        self.reset();
        result
    }

    /// Like [`Pipeline::execute`], converting the replies into `T`: a tuple with one element
    /// per command (`let (a, n): (Option<String>, i64) = pipe.execute_typed()?`) or a `Vec`.
    ///
    /// Every reply is read first; then the first error, a command's or a conversion's, wins.
    pub fn execute_typed<T: FromReplies>(&mut self) -> Result<T> {
        let result = self.run_all();
        let names = self.queue.take_names();
        self.reset();
        T::from_replies(Replies::new(result?, names))
    }

    fn run_all(&mut self) -> Result<Vec<Result<Value>>> {
        if let Some(error) = self.deferred.take() {
            return Err(error);
        }
        if self.queue.is_empty() && !self.watching {
            return Ok(Vec::new());
        }
        let transaction = self.transaction || self.explicit_multi;
        let retry = self.client.config().retry();
        let safe_to_repeat = self.queue.all_read_only();
        let mut attempt = 0;
        loop {
            let failure = match self.attempt(transaction) {
                Ok(outcomes) => {
                    if transaction {
                        // EXEC ends every WATCH, whatever its outcome.
                        self.watching = false;
                        if let Some(conn) = self.conn.as_mut() {
                            conn.transaction_ran();
                        }
                    }
                    return Ok(outcomes);
                }
                Err(failure) => failure,
            };
            // Whether or not EXEC ended the WATCH, `reset` sends UNWATCH, which is harmless.
            // A lost WATCH cannot be retried: the keys may have changed meanwhile.
            let may_retry = !self.watching
                && retry.should_retry(
                    &failure.error,
                    failure.sent,
                    safe_to_repeat,
                    self.client.config().retry_on_timeout(),
                    attempt,
                );
            if !may_retry {
                return Err(failure.error);
            }
            // The connection is broken (a retryable failure is a connection failure): drop it.
            self.conn = None;
            std::thread::sleep(retry.backoff().delay(attempt));
            attempt += 1;
        }
    }

    fn attempt(&mut self, transaction: bool) -> Result<Vec<Result<Value>>, Failure> {
        let unsent = |error| Failure {
            error,
            sent: Sent::No,
        };
        let client = self.client;
        let conn = connection(&mut self.conn, client).map_err(unsent)?;
        conn.ensure_idle("start a pipeline").map_err(unsent)?;
        // A connection held since WATCH may have sat idle; a dead one fails here, unsent.
        conn.check_health().map_err(unsent)?;
        load_scripts(conn, &self.scripts).map_err(unsent)?;
        let wire = self.queue.wire(transaction);
        if transaction {
            send::transaction(conn, &wire, client)
        } else {
            send::plain(conn, &wire, client)
        }
    }
}

/// The pipeline's connection in `slot`, taken from `client` if there is none.
pub(super) fn connection<'s, 'c>(
    slot: &'s mut Option<ClientConnection<'c>>,
    client: &'c Client,
) -> Result<&'s mut ClientConnection<'c>> {
    match slot {
        Some(conn) => Ok(conn),
        None => Ok(slot.insert(client.get_connection()?)),
    }
}

/// Loads the scripts the server does not have yet (`SCRIPT EXISTS`, then `SCRIPT LOAD`).
fn load_scripts(conn: &mut Connection, scripts: &[Script]) -> Result<()> {
    if scripts.is_empty() {
        return Ok(());
    }
    let shas: Vec<&str> = scripts.iter().map(Script::sha).collect();
    let exists: Vec<bool> = conn.query(("SCRIPT", "EXISTS", &shas))?;
    for (script, exists) in scripts.iter().zip(exists) {
        if !exists {
            script.load_on(conn)?;
        }
    }
    Ok(())
}

impl Drop for Pipeline<'_> {
    fn drop(&mut self) {
        self.reset();
    }
}

impl fmt::Debug for Pipeline<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pipeline")
            .field("commands", &self.queue.len())
            .field("transaction", &(self.transaction || self.explicit_multi))
            .field("watching", &self.watching)
            .field("holds_connection", &self.conn.is_some())
            .finish()
    }
}
