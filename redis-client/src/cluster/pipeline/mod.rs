//! [`ClusterPipeline`]: buffered commands sent to the nodes owning their keys, in parallel,
//! with the replies in call order.

mod expand;
mod route;
mod scripts;
mod send;
mod split;
mod transaction;

use std::fmt;
use std::time::{Duration, Instant};

use super::redirect::{decide, Action};
use super::ClusterClient;
use crate::command::{refuse_connection_state, Command, Executor};
use crate::error::{Error, Result};
use crate::pipeline::queue::{self, Queue};
use crate::pipeline::{FromReplies, Replies};
use crate::resp::{ToArgs, Value};
use crate::script::Script;
use route::{Layout, Target};
use split::Assembly;

/// Buffered commands for a [`ClusterClient`], each sent to the node that owns its keys; shaped
/// after redis-py's `ClusterPipeline`.
///
/// [`ClusterClient::pipeline`] gives one. Every command of the generated surface is a method
/// here too (`pipe.set("a", 1).incr("n")`), so is any [`Command`] value through
/// [`Executor::run`], and raw commands go in with [`ClusterPipeline::raw`].
///
/// ```no_run
/// use redis_client::cluster::ClusterClient;
/// use redis_client::Commands;
///
/// let cluster = ClusterClient::open(["redis://127.0.0.1:7000"])?;
/// let mut pipe = cluster.pipeline();
/// pipe.set("a", 1).set("b", 2).get("a").get("b");
/// let ((), (), a, b): ((), (), i64, i64) = pipe.execute_typed()?;
/// # Ok::<(), redis_client::Error>(())
/// ```
///
/// - **Plain by default** (unlike [`Pipeline`](crate::Pipeline)): the commands are grouped by
///   the node owning their slot, every node's group goes out on a connection of its own, the
///   groups are written and read interleaved so every node works at once, and the replies come
///   back in call order. Nothing is atomic across nodes.
/// - A command that gets `MOVED` or `ASK` (a slot moved or is moving) is sent again where the
///   server points, alone with the other redirected commands: the rest is not repeated.
///   `TRYAGAIN`, `CLUSTERDOWN`, `LOADING` and `READONLY` wait and route again within the
///   client's redirect budget; a node that could not be reached gets its commands again after
///   a refresh of the slot map, and a connection that broke mid-way repeats only read-only
///   commands.
/// - Errors: [`ClusterPipeline::execute_results`] keeps each command's error in its place;
///   [`ClusterPipeline::execute`] and [`ClusterPipeline::execute_typed`] return the first one.
/// - A command whose own keys lie in different slots (`MGET a b c`, `DEL`, `MSET`, `EXISTS` …
///   over several nodes) goes as one part per slot, with the other commands of those nodes,
///   and its reply is put back together (in argument order, or summed) as the
///   [`ClusterClient`] does: not atomic. A command that fans out to every node and combines
///   the replies (`DBSIZE`, `SCRIPT LOAD` …) is refused before sending: run it on the
///   [`ClusterClient`].
/// - Scripts queue with [`Invocation::queue_cluster`](crate::Invocation::queue_cluster); a node
///   that answers `NOSCRIPT` gets the pipeline's scripts and the call again. Commands go to
///   primaries only.
/// - [`ClusterPipeline::transaction`]`(true)` runs the commands as `MULTI` … `EXEC` on one
///   node, which needs every key in one slot (use a hash tag: `{user:1}:name`,
///   `{user:1}:mail`); otherwise `execute` fails before sending, naming the slots. For
///   `WATCH`, see [`ClusterClient::transaction`].
pub struct ClusterPipeline<'c> {
    cluster: &'c ClusterClient,
    transaction: bool,
    queue: Queue,
    /// Scripts queued with `EVALSHA`, loaded on a node that answers `NOSCRIPT`.
    scripts: Vec<Script>,
    /// The first command that could not be queued (bad arguments); `execute` reports it.
    deferred: Option<Error>,
}

impl ClusterClient {
    /// A new, empty cluster pipeline: plain (grouped by node) unless
    /// [`ClusterPipeline::transaction`]`(true)` says otherwise.
    pub fn pipeline(&self) -> ClusterPipeline<'_> {
        ClusterPipeline {
            cluster: self,
            transaction: false,
            queue: Queue::new(),
            scripts: Vec::new(),
            deferred: None,
        }
    }
}

impl<'p, 'c> Executor for &'p mut ClusterPipeline<'c> {
    type Output<T> = &'p mut ClusterPipeline<'c>;

    /// Queues `cmd`; arguments it refuses ([`Command::check`]) are reported by `execute`.
    fn run<C: Command>(self, cmd: C) -> &'p mut ClusterPipeline<'c> {
        let pushed = refuse_connection_state::<C>(queue::EXECUTOR)
            .and_then(|()| self.queue.push_command(&cmd));
        self.defer(pushed);
        self
    }
}

impl<'c> ClusterPipeline<'c> {
    /// Chooses a transaction on one node (`MULTI` … `EXEC`; every key must lie in one slot) or
    /// a plain pipeline over the nodes (the default).
    pub fn transaction(&mut self, transaction: bool) -> &mut Self {
        self.transaction = transaction;
        self
    }

    /// Queues a raw command, e.g. `pipe.raw(["SET", "k", "v"])`; its reply is kept as the
    /// server sends it. It is routed by its keys as the generated tables place them.
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
    pub fn reset(&mut self) {
        self.queue.clear();
        self.scripts.clear();
        self.deferred = None;
    }

    /// Sends the queued commands and returns their replies in call order, after reading them
    /// all; the first error is returned instead. The pipeline is empty afterwards.
    pub fn execute(&mut self) -> Result<Vec<Value>> {
        self.execute_results()?.into_iter().collect()
    }

    /// Like [`ClusterPipeline::execute`], but each command's error comes back in its place.
    ///
    /// `Err` is left for failures of the whole: a command that cannot be routed (its keys span
    /// slots; in a transaction, keys of several slots), a command whose arguments could not be
    /// encoded, and in a transaction whatever fails it ([`Pipeline`](crate::Pipeline)'s rules).
    pub fn execute_results(&mut self) -> Result<Vec<Result<Value>>> {
        let result = self.run_all();
        self.reset();
        result
    }

    /// Like [`ClusterPipeline::execute`], converting the replies into `T` (a tuple with one
    /// element per command, or a `Vec`).
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
        if self.queue.is_empty() {
            return Ok(Vec::new());
        }
        if self.transaction {
            let queue = std::mem::replace(&mut self.queue, Queue::new());
            let (result, queue) = transaction::run(self.cluster, queue, &self.scripts);
            self.queue = queue;
            return result;
        }
        self.run_plain()
    }

    /// Rounds of sending: all commands first, then only those a redirection or a retryable
    /// failure sent elsewhere, until none is left or their budget is spent. Commands whose
    /// keys span slots go as one part per slot, merged back afterwards.
    fn run_plain(&mut self) -> Result<Vec<Result<Value>>> {
        let queue = &self.queue;
        // Routing errors (fan-outs) fail the pipeline before anything is sent.
        let mut argv = Vec::new();
        let layouts: Vec<Layout> = (0..queue.len())
            .map(|index| route::layout_of(queue, index, &mut argv))
            .collect::<Result<_>>()?;
        if layouts.iter().all(|l| matches!(l, Layout::One(_))) {
            let targets = layouts
                .into_iter()
                .map(|l| match l {
                    Layout::One(slot) => Target::of(slot),
                    Layout::Split { .. } => unreachable!("checked above"),
                })
                .collect();
            return self.rounds(queue, targets);
        }
        let expanded = expand::expand(queue, layouts)?;
        let targets = expanded.targets.clone();
        let outcomes = self.rounds(&expanded.queue, targets)?;
        let client = self
            .cluster
            .node_client(&self.cluster.primary_addr(None)?)?;
        let protocol = self.cluster.engine.protocol();
        Ok(expanded.collapse(queue, outcomes, &client, protocol))
    }

    /// Sends the commands of `queue` to their `targets`, round after round.
    fn rounds(&self, queue: &Queue, mut targets: Vec<Target>) -> Result<Vec<Result<Value>>> {
        let cluster = self.cluster;
        let len = queue.len();
        let mut out: Assembly<Result<Value>> = Assembly::new(len);
        let mut attempts = vec![0u32; len];
        // Per command: the share of the round it went in, whether it never left, whether
        // its script was loaded for it.
        let mut sent_to = vec![0usize; len];
        let mut unsent = vec![false; len];
        let mut reloaded = vec![false; len];
        let mut pending: Vec<usize> = (0..len).collect();
        let budget = cluster.redirect_budget();
        let started = Instant::now();
        loop {
            let shares = match route::shares(cluster, &targets, &pending) {
                Ok(shares) => shares,
                Err(error) => {
                    // No node serves a slot (the cluster is down for it, or the map is
                    // stale): every pending command gets the error, judged below like the
                    // server's own.
                    for &index in &pending {
                        let name = &queue.entry(index).info.name;
                        out.place(index, Err(error.copy_without_command().with_command(name)));
                    }
                    Vec::new()
                }
            };
            for (at, share) in shares.iter().enumerate() {
                for &index in &share.commands {
                    sent_to[index] = at;
                }
            }
            for index in send::round(queue, &shares, &mut out) {
                unsent[index] = true;
            }
            let mut next = Vec::new();
            let mut delay = Duration::ZERO;
            let mut refresh = false;
            let mut loaded = vec![false; shares.len()];
            for &index in &pending {
                let Some(Err(error)) = out.get(index) else {
                    continue;
                };
                if error.code() == Some("NOSCRIPT") && !self.scripts.is_empty() && !reloaded[index]
                {
                    // The node lacks a queued script: load the pipeline's scripts there once,
                    // then send the call again (a failed load leaves the NOSCRIPT in place).
                    let at = sent_to[index];
                    if !loaded[at] {
                        loaded[at] = scripts::load(&shares[at].client, &self.scripts).is_ok();
                    }
                    if loaded[at] {
                        reloaded[index] = true;
                        next.push(index);
                    }
                    continue;
                }
                let repeatable = unsent[index] || queue.entry(index).info.is_read_only();
                let waited = started.elapsed();
                match decide(error, attempts[index], waited, &budget, repeatable) {
                    Action::Fail => continue,
                    Action::Moved { slot, addr } => {
                        cluster.note_moved(slot, &addr);
                        targets[index].clear_ask();
                    }
                    Action::Ask { addr } => targets[index].ask(addr),
                    Action::Retry {
                        delay: wait,
                        refresh: suspect,
                    } => {
                        delay = delay.max(wait);
                        refresh |= suspect;
                        targets[index].clear_ask();
                    }
                }
                attempts[index] += 1;
                next.push(index);
            }
            if next.is_empty() {
                break;
            }
            if !delay.is_zero() {
                std::thread::sleep(delay);
            }
            if refresh {
                cluster.refresh_map();
            }
            pending = next;
        }
        out.into_ordered().map_err(|index| {
            Error::Protocol(format!(
                "cluster pipeline: command #{} got no reply",
                index + 1
            ))
        })
    }
}

impl fmt::Debug for ClusterPipeline<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterPipeline")
            .field("commands", &self.queue.len())
            .field("transaction", &self.transaction)
            .finish()
    }
}
