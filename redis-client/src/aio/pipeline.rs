//! [`AsyncPipeline`]: buffered commands sent together on an [`AsyncClient`], as a transaction
//! (the default) or a plain pipeline; the buffer and the reply rules are the blocking
//! pipeline's ([`Queue`], [`TransactionReplies`]).

use std::fmt;
use std::future::poll_fn;
use std::sync::Arc;
use std::task::Poll;

use super::client::AsyncClient;
use super::connection::AsyncConnection;
use super::mux::{Mux, Submitted};
use crate::command::{refuse_connection_state, Command, Executor};
use crate::config::Config;
use crate::connection::Failure;
use crate::error::{Error, Result};
use crate::pipeline::queue::{self, Queue, Wire};
use crate::pipeline::replies::{FromReplies, Replies};
use crate::pipeline::send::TransactionReplies;
use crate::resp::{ToArgs, Value};
use crate::retry::Sent;

/// Buffered commands sent together on an [`AsyncClient`]: every generated command is a method
/// here too, queueing it and returning the pipeline for chaining.
///
/// ```no_run
/// use redis_client::prelude::*;
/// use redis_client::AsyncClient;
///
/// # async fn demo() -> redis_client::Result<()> {
/// let client = AsyncClient::open("redis://127.0.0.1/")?;
/// let mut pipe = client.pipeline();
/// pipe.set("a", 1).incr("a").raw(["GET", "a"]);
/// let (_, n, a): ((), i64, String) = pipe.execute_typed().await?;
/// # Ok(())
/// # }
/// ```
///
/// The commands go into the shared connection in one batch, so nothing interleaves with them:
/// a transaction (`MULTI` … `EXEC`, the default) is safe there. A plain pipeline holding a
/// blocking command runs on a dedicated connection instead. Failures are retried under the
/// config's [`Retry`](crate::Retry) policy by the blocking pipeline's rule (a batch that may
/// have run only when all its commands are read-only). Optimistic locking with `WATCH` is
/// [`AsyncClient::transaction`].
pub struct AsyncPipeline {
    client: AsyncClient,
    queue: Queue,
    transaction: bool,
    deferred: Option<Error>,
}

impl fmt::Debug for AsyncPipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncPipeline")
            .field("commands", &self.queue.len())
            .field("transaction", &self.transaction)
            .finish()
    }
}

impl AsyncClient {
    /// A new, empty pipeline: a transaction unless [`AsyncPipeline::transaction`]`(false)`.
    pub fn pipeline(&self) -> AsyncPipeline {
        AsyncPipeline {
            client: self.clone(),
            queue: Queue::new(),
            transaction: true,
            deferred: None,
        }
    }
}

impl<'p> Executor for &'p mut AsyncPipeline {
    type Output<T> = &'p mut AsyncPipeline;

    /// Queues `cmd`; arguments it refuses are reported by `execute`.
    fn run<C: Command>(self, cmd: C) -> &'p mut AsyncPipeline {
        let pushed = refuse_connection_state::<C>(queue::EXECUTOR)
            .and_then(|()| self.queue.push_command(&cmd));
        self.defer(pushed);
        self
    }
}

impl AsyncPipeline {
    /// Chooses a transaction (`MULTI` … `EXEC`, the default) or a plain pipeline.
    pub fn transaction(&mut self, transaction: bool) -> &mut Self {
        self.transaction = transaction;
        self
    }

    /// Queues a raw command; its reply is kept as the server sends it. Connection-state
    /// commands are refused (`execute` reports it and sends nothing).
    pub fn raw(&mut self, args: impl ToArgs) -> &mut Self {
        let pushed = self.queue.push_raw(&args);
        self.defer(pushed);
        self
    }

    fn defer(&mut self, pushed: Result<()>) {
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

    /// Drops the queued commands.
    pub fn clear(&mut self) {
        self.queue.clear();
        self.deferred = None;
    }

    /// Sends the queued commands and returns their replies in order; the first error (a
    /// command's, or the transaction's) is returned instead. The pipeline is empty afterwards.
    pub async fn execute(&mut self) -> Result<Vec<Value>> {
        self.execute_results().await?.into_iter().collect()
    }

    /// Like [`AsyncPipeline::execute`], but each command's error comes back in its place.
    pub async fn execute_results(&mut self) -> Result<Vec<Result<Value>>> {
        let result = self.run_all().await;
        self.clear();
        result
    }

    /// Like [`AsyncPipeline::execute`], converting the replies into a tuple or a `Vec`.
    pub async fn execute_typed<T: FromReplies>(&mut self) -> Result<T> {
        let result = self.run_all().await;
        let names = self.queue.take_names();
        self.clear();
        T::from_replies(Replies::new(result?, names))
    }

    /// Runs the queued commands as a transaction on `conn` (where keys are watched), without
    /// retries: a lost `WATCH` cannot be retried, the keys may have changed meanwhile.
    pub(crate) async fn execute_on(&mut self, conn: &mut AsyncConnection) -> Result<Vec<Value>> {
        let result = match self.deferred.take() {
            Some(error) => Err(error),
            None => {
                let config = self.client.config().clone();
                let wire = self.queue.wire(true);
                on_connection(conn, &wire, &config)
                    .await
                    .map_err(|failure| failure.error)
            }
        };
        self.clear();
        result?.into_iter().collect()
    }

    async fn run_all(&mut self) -> Result<Vec<Result<Value>>> {
        if let Some(error) = self.deferred.take() {
            return Err(error);
        }
        if self.queue.is_empty() {
            return Ok(Vec::new());
        }
        let inner = Arc::clone(self.client.inner());
        let config = &inner.config;
        let retry = config.retry();
        let safe_to_repeat = self.queue.all_read_only();
        let transaction = self.transaction;
        let shares =
            transaction || (0..self.queue.len()).all(|i| self.queue.entry(i).info.may_share());
        let mut attempt = 0;
        loop {
            let wire = self.queue.wire(transaction);
            let outcome = if shares {
                on_mux(&inner.mux, &wire, config).await
            } else {
                match inner.pool.get().await {
                    Ok(mut conn) => on_connection(&mut conn, &wire, config).await,
                    Err(error) => Err(Failure::unsent(error)),
                }
            };
            drop(wire);
            let failure = match outcome {
                Ok(outcomes) => return Ok(outcomes),
                Err(failure) => failure,
            };
            let again = retry.should_retry(
                &failure.error,
                failure.sent,
                safe_to_repeat,
                config.retry_on_timeout(),
                attempt,
            );
            if !again {
                return Err(failure.error);
            }
            tokio::time::sleep(retry.backoff().delay(attempt)).await;
            attempt += 1;
        }
    }
}

/// How long each frame of `wire` blocks: nothing inside a transaction (commands are only
/// queued until `EXEC`), each command's own time in a plain pipeline.
fn blocks<'w>(
    wire: &'w Wire<'_>,
) -> impl Iterator<Item = Option<crate::command_meta::BlockFor>> + 'w {
    let queue = wire.queue();
    let transaction = wire.frames() != queue.len();
    (0..wire.frames()).map(move |index| match transaction {
        true => None,
        false => queue.entry(index).info.block,
    })
}

/// Runs `wire` as one batch on the shared connection.
async fn on_mux(
    mux: &Arc<Mux>,
    wire: &Wire<'_>,
    config: &Config,
) -> Result<Vec<Result<Value>>, Failure> {
    let count = wire.frames();
    let frames = wire.bytes(0..count);
    let mut guard = Abandon {
        mux,
        first: None,
        count,
    };
    let first =
        poll_fn(
            |cx| match mux.submit_batch(frames, blocks(wire), wire.ends(), count, cx) {
                Ok(Submitted::Queued(first)) => Poll::Ready(Ok(first)),
                Ok(Submitted::Full) => Poll::Pending,
                Err(failure) => Poll::Ready(Err(failure)),
            },
        )
        .await?;
    guard.first = Some(first);
    let outcomes = poll_fn(|cx| mux.poll_batch(first, count, cx)).await;
    guard.first = None;
    let mut replies = Vec::with_capacity(count);
    let mut failure: Option<Failure> = None;
    for outcome in outcomes {
        match outcome {
            Ok(value) => replies.push(value),
            Err(f) => {
                let sent = match (&failure, f.sent) {
                    (Some(first), _) if first.sent == Sent::Maybe => Sent::Maybe,
                    (_, sent) => sent,
                };
                let error = failure.map_or(f.error, |first| first.error);
                failure = Some(Failure { error, sent });
            }
        }
    }
    if let Some(mut failure) = failure {
        // A plain pipeline's commands that got replies ran; a transaction runs at EXEC, the
        // last frame, whose own failure says whether it went out.
        if !replies.is_empty() && count == wire.queue().len() {
            failure.sent = Sent::Maybe;
        }
        return Err(failure);
    }
    judge(wire, replies, config)
}

/// Runs `wire` on a dedicated connection.
async fn on_connection(
    conn: &mut AsyncConnection,
    wire: &Wire<'_>,
    config: &Config,
) -> Result<Vec<Result<Value>>, Failure> {
    let count = wire.frames();
    let replies = conn
        .run_frames(wire.bytes(0..count), blocks(wire), count)
        .await?;
    if count != wire.queue().len() {
        conn.transaction_ran();
    }
    judge(wire, replies, config)
}

/// The outcome of every command from the replies to every frame of `wire`.
fn judge(
    wire: &Wire<'_>,
    replies: Vec<Value>,
    config: &Config,
) -> Result<Vec<Result<Value>>, Failure> {
    let queue = wire.queue();
    let protocol = config.protocol();
    let decode = config.decode_responses();
    let outcome = |index: usize, value: Value| {
        let entry = queue.entry(index);
        entry.outcome_with(value, protocol, |value| {
            if decode {
                crate::client::check_utf8(&value, &entry.info.name)?;
            }
            Ok(value)
        })
    };
    if wire.frames() == queue.len() {
        return Ok(replies
            .into_iter()
            .enumerate()
            .map(|(index, value)| outcome(index, value))
            .collect());
    }
    let mut transaction = TransactionReplies::default();
    let count = queue.len();
    for (index, reply) in replies.into_iter().enumerate() {
        transaction.take(index, count, reply);
    }
    transaction.judge(queue, outcome)
}

/// Abandons a batch's slots if its future is dropped while they wait.
struct Abandon<'m> {
    mux: &'m Mux,
    first: Option<u64>,
    count: usize,
}

impl Drop for Abandon<'_> {
    fn drop(&mut self) {
        if let Some(first) = self.first {
            for seq in first..first + self.count as u64 {
                self.mux.abandon(seq);
            }
        }
    }
}
