//! The engine behind [`ClusterClient`](super::ClusterClient): plans a command with the core,
//! picks nodes from the slot map, sends through the nodes' pools, and acts on redirections.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use crate::command::{connection_state_error, lookup_args, ResponsePolicy, Special};
use crate::config::Protocol;
use crate::connection::request::Typed;
use crate::error::{Error, Result};
use crate::resp::{Cmd, Value};

use super::aggregate::{combine, reassemble};
use super::aim::{Nodes, ReadFrom};
use super::nodes::{split_addr, NodePools};
use super::plan::{plan, FanOut, Plan};
use super::redirect::{decide, Action, Budget};
use super::refresh::SlotMap;

/// Where one command goes before any redirection.
#[derive(Clone, Debug)]
pub(super) enum Route {
    /// The owner of the slot (a replica for reads, per the strategy).
    Slot { slot: u16, read_only: bool },
    /// A random primary.
    Random,
    /// This node.
    Node(String),
}

/// Shared by every clone of a cluster client.
pub(crate) struct Engine {
    pub(crate) nodes: Arc<NodePools>,
    pub(crate) map: Arc<SlotMap>,
    pub(crate) read_from: ReadFrom,
    budget: Budget,
    turn: AtomicUsize,
    /// Replicas that failed to connect recently, and when: reads skip them for a while rather
    /// than pay a failed connect each until the cluster marks them failed.
    down: Mutex<HashMap<String, Instant>>,
}

/// How long a replica that could not be reached is skipped for reads.
const DOWN_FOR: Duration = Duration::from_secs(2);

impl Engine {
    pub(crate) fn new(
        nodes: Arc<NodePools>,
        map: Arc<SlotMap>,
        read_from: ReadFrom,
        budget: Budget,
    ) -> Engine {
        Engine {
            nodes,
            map,
            read_from,
            budget,
            turn: AtomicUsize::new(0),
            down: Mutex::default(),
        }
    }

    /// How many redirections and retries one command gets (cluster pipelines use it too).
    pub(crate) fn budget(&self) -> Budget {
        self.budget
    }

    /// The protocol replies come in.
    pub(crate) fn protocol(&self) -> Protocol {
        self.nodes.base().protocol()
    }

    /// Plans and runs `cmd`. `idempotent`: the caller says running it twice is harmless.
    pub(crate) fn run(&self, cmd: &Cmd, typed: Option<Typed>, idempotent: bool) -> Result<Value> {
        self.map.refresh_if_due(&self.nodes);
        let argv: Vec<&[u8]> = cmd.args().collect();
        let meta = lookup_args(&argv);
        if let Some(meta) = meta.filter(|m| m.connection_state) {
            return Err(connection_state_error(meta.name, "a cluster client"));
        }
        let repeatable = idempotent || meta.is_some_and(|m| m.is_read_only());
        match plan(meta, &argv)? {
            Plan::Slot { slot, read_only } => {
                self.send(Route::Slot { slot, read_only }, cmd, typed, repeatable)
            }
            Plan::AnyNode { .. } => self.send(Route::Random, cmd, typed, repeatable),
            Plan::Split {
                parts,
                merge,
                groups,
                read_only,
            } => {
                let replies = self.run_parts(&argv, &parts, typed, read_only, repeatable);
                reassemble(merge, &parts, groups, replies)
            }
            Plan::FanOut { to, response } => {
                let nodes = match to {
                    FanOut::Primaries => Nodes::Primaries,
                    FanOut::AllNodes => Nodes::All,
                };
                combine(response, self.fan_out_fresh(nodes, cmd, typed))
            }
            Plan::Special(special) => self.special(special, cmd, typed, repeatable),
        }
    }

    /// One handler per special request policy; a new variant fails to compile here.
    fn special(
        &self,
        special: Special,
        cmd: &Cmd,
        typed: Option<Typed>,
        repeatable: bool,
    ) -> Result<Value> {
        match special {
            Special::Scan => Err(Error::Usage(
                "SCAN walks one node's keys; on a cluster use the cluster scan iterator, or \
                 `cluster.on_node(addr)` for one node"
                    .into(),
            )),
            // The cursor names its slot; the node that owns it answers or redirects.
            Special::ClusterScan => self.send(Route::Random, cmd, typed, repeatable),
            Special::RandomKey => self.random_key(cmd, typed),
            Special::FunctionStats => combine(
                ResponsePolicy::Special(special),
                self.fan_out(&self.addrs(Nodes::Primaries), cmd, typed),
            ),
            Special::Info | Special::MemoryStats | Special::LatencyHistogram | Special::PerNode => {
                combine(
                    ResponsePolicy::Special(special),
                    self.fan_out(&self.addrs(Nodes::All), cmd, typed),
                )
            }
        }
    }

    /// A random primary's random key; the next primary while one has no keys.
    fn random_key(&self, cmd: &Cmd, typed: Option<Typed>) -> Result<Value> {
        let mut primaries = self.addrs(Nodes::Primaries);
        let start = self.random() % primaries.len().max(1);
        primaries.rotate_left(start);
        for addr in primaries {
            let value = self.send(Route::Node(addr), cmd, typed, true)?;
            if !value.is_nil() {
                return Ok(value);
            }
        }
        Ok(Value::Nil)
    }

    /// Fans `cmd` out to `nodes`; when a node could not be reached, the slot map is refreshed
    /// and the nodes of the new map that have no reply yet get it, once (a node promoted after
    /// a failover, say). Nodes that answered are never sent it twice.
    fn fan_out_fresh(
        &self,
        nodes: Nodes,
        cmd: &Cmd,
        typed: Option<Typed>,
    ) -> Vec<(String, Result<Value>)> {
        let replies = self.fan_out(&self.addrs(nodes), cmd, typed);
        // Only a node that never got the command counts: one whose reply was lost may have run it.
        let unreachable = replies
            .iter()
            .any(|(_, r)| r.as_ref().is_err_and(|e| never_sent(e, cmd)));
        if !unreachable || self.map.refresh(&self.nodes).is_err() {
            return replies;
        }
        let fresh = self.addrs(nodes);
        let mut answered: Vec<(String, Result<Value>)> = replies
            .into_iter()
            .filter(|(addr, r)| r.is_ok() && fresh.contains(addr))
            .collect();
        let missing: Vec<String> = fresh
            .into_iter()
            .filter(|addr| !answered.iter().any(|(a, _)| a == addr))
            .collect();
        answered.extend(self.fan_out(&missing, cmd, typed));
        answered
    }

    /// Sends `cmd` to every node in `addrs`, in parallel, without following redirections.
    pub(crate) fn fan_out(
        &self,
        addrs: &[String],
        cmd: &Cmd,
        typed: Option<Typed>,
    ) -> Vec<(String, Result<Value>)> {
        let replies = parallel(addrs.iter().collect(), |addr| {
            self.send_to(addr, cmd, typed, false)
        });
        addrs.iter().cloned().zip(replies).collect()
    }

    /// The addresses of a set of nodes, in the slot map's order.
    pub(crate) fn addrs(&self, nodes: Nodes) -> Vec<String> {
        let map = self.map.get();
        match nodes {
            Nodes::Primaries => map.shards().iter().map(|s| s.primary.clone()).collect(),
            Nodes::Replicas => map
                .shards()
                .iter()
                .flat_map(|s| s.replicas.iter().cloned())
                .collect(),
            Nodes::All => map.nodes(),
        }
    }

    /// Sends `cmd` along `route`, following MOVED and ASK and retrying what the redirect
    /// rules allow, within the budget.
    pub(super) fn send(
        &self,
        route: Route,
        cmd: &Cmd,
        typed: Option<Typed>,
        repeatable: bool,
    ) -> Result<Value> {
        let started = Instant::now();
        let mut attempt = 0;
        let mut next: Option<(String, bool)> = None;
        let mut primary_only = false;
        loop {
            let (addr, asking) = match next.take() {
                Some(target) => target,
                None => match self.pick(&route, primary_only) {
                    Ok(addr) => (addr, false),
                    Err(e) => {
                        // The map knows no owner: a refresh may find one.
                        match decide(&e, attempt, started.elapsed(), &self.budget, true) {
                            Action::Retry { delay, .. } => {
                                thread::sleep(delay);
                                let _ = self.map.refresh(&self.nodes);
                                attempt += 1;
                                continue;
                            }
                            _ => return Err(e),
                        }
                    }
                },
            };
            let error = match self.send_to(&addr, cmd, typed, asking) {
                Ok(value) => return Ok(value),
                Err(e) => e,
            };
            self.mark_down(&addr, &error);
            let unsent = failed_before(&error, cmd);
            match decide(
                &error,
                attempt,
                started.elapsed(),
                &self.budget,
                repeatable || unsent,
            ) {
                Action::Moved { slot, addr: to } => {
                    let to = with_host(&to, &addr);
                    self.map.moved(slot, &to);
                    self.map.refresh_in_background(&self.nodes);
                    next = Some((to, false));
                }
                Action::Ask { addr: to } => next = Some((with_host(&to, &addr), true)),
                Action::Retry { delay, refresh } => {
                    // A replica that failed a read hands the next try to its primary.
                    primary_only = true;
                    thread::sleep(delay);
                    if refresh {
                        let _ = self.map.refresh(&self.nodes);
                    }
                }
                Action::Fail => return Err(error),
            }
            attempt += 1;
        }
    }

    /// One try on one node; with `asking`, `ASKING` first on the same connection.
    pub(crate) fn send_to(
        &self,
        addr: &str,
        cmd: &Cmd,
        typed: Option<Typed>,
        asking: bool,
    ) -> Result<Value> {
        let client = self.nodes.get(addr)?;
        if asking {
            let mut conn = client.get_connection()?;
            conn.execute(["ASKING"])?;
            return match typed {
                Some(typed) => conn.execute_as(cmd, typed),
                None => conn.execute(cmd),
            };
        }
        match typed {
            Some(typed) => client.execute_as(cmd, typed),
            None => client.execute(cmd),
        }
    }

    /// The node a route leads to now.
    pub(super) fn pick(&self, route: &Route, primary_only: bool) -> Result<String> {
        let map = self.map.get();
        match route {
            Route::Node(addr) => Ok(addr.clone()),
            Route::Random => {
                let shards = map.shards();
                if shards.is_empty() {
                    return Err(unserved("any slot"));
                }
                Ok(shards[self.random() % shards.len()].primary.clone())
            }
            Route::Slot { slot, read_only } => {
                let shard = map
                    .shard_of(*slot)
                    .ok_or_else(|| unserved(&format!("slot {slot}")))?;
                if !read_only || primary_only {
                    return Ok(shard.primary.clone());
                }
                let turn = self.turn.fetch_add(1, Ordering::Relaxed);
                let replicas = self.reachable(&shard.replicas);
                Ok(match self.read_from {
                    ReadFrom::Primary => shard.primary.clone(),
                    ReadFrom::PreferReplica if replicas.is_empty() => shard.primary.clone(),
                    ReadFrom::PreferReplica => replicas[turn % replicas.len()].clone(),
                    ReadFrom::PrimaryAndReplicas => match turn % (replicas.len() + 1) {
                        0 => shard.primary.clone(),
                        i => replicas[i - 1].clone(),
                    },
                })
            }
        }
    }

    /// The replicas not marked down within the last [`DOWN_FOR`].
    fn reachable<'r>(&self, replicas: &'r [String]) -> Vec<&'r String> {
        let down = self.down.lock().unwrap_or_else(PoisonError::into_inner);
        if down.is_empty() {
            return replicas.iter().collect();
        }
        replicas
            .iter()
            .filter(|r| down.get(*r).is_none_or(|at| at.elapsed() >= DOWN_FOR))
            .collect()
    }

    /// Notes that `addr` could not be reached (only replicas are ever skipped for it).
    fn mark_down(&self, addr: &str, error: &Error) {
        if error.is_connection_error() {
            let mut down = self.down.lock().unwrap_or_else(PoisonError::into_inner);
            down.retain(|_, at| at.elapsed() < DOWN_FOR);
            down.insert(addr.to_string(), Instant::now());
        }
    }

    /// A random primary's address.
    pub(crate) fn random_primary(&self) -> Result<String> {
        self.pick(&Route::Random, true)
    }

    fn random(&self) -> usize {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_usize(self.turn.fetch_add(1, Ordering::Relaxed));
        hasher.finish() as usize
    }
}

/// Whether `error` broke another command than `cmd` (the new connection's handshake, or the
/// `ASKING` before it), so `cmd` itself never went out and may be sent again.
pub(super) fn failed_before(error: &Error, cmd: &Cmd) -> bool {
    let in_flight = match error {
        Error::Connection { command, .. } | Error::Timeout { command, .. } => command.as_deref(),
        _ => return false,
    };
    let ours = cmd.get(0).unwrap_or_default();
    in_flight.is_some_and(|name| {
        let first = name.split(' ').next().unwrap_or(name);
        !first.as_bytes().eq_ignore_ascii_case(ours)
    })
}

/// Whether `error` came before `cmd` was written: a refused or timed-out connect, or a failed
/// handshake of a new connection.
fn never_sent(error: &Error, cmd: &Cmd) -> bool {
    matches!(
        error,
        Error::Connection {
            action: "connect to",
            ..
        } | Error::Timeout {
            action: "connect to",
            ..
        }
    ) || failed_before(error, cmd)
}

/// The error for a slot the map gives no owner; handled like the server's `CLUSTERDOWN`.
fn unserved(what: &str) -> Error {
    Error::from_server_reply(
        format!("CLUSTERDOWN the client's slot map has no node serving {what}").as_bytes(),
        None,
    )
}

/// A redirection target without a host (`:7000`) is on the host that sent it.
fn with_host(target: &str, from: &str) -> String {
    match (target.strip_prefix(':'), split_addr(from)) {
        (Some(port), Ok((host, _))) if host.contains(':') => format!("[{host}]:{port}"),
        (Some(port), Ok((host, _))) => format!("{host}:{port}"),
        _ => target.to_string(),
    }
}

/// Runs `f` on every item, the first on this thread and the rest on scoped threads, and
/// returns the results in item order.
pub(super) fn parallel<I: Send, R: Send>(items: Vec<I>, f: impl Fn(I) -> R + Sync) -> Vec<R> {
    if items.len() <= 1 {
        return items.into_iter().map(f).collect();
    }
    let f = &f;
    thread::scope(|scope| {
        let mut items = items.into_iter();
        let first = items.next();
        let handles: Vec<_> = items.map(|item| scope.spawn(move || f(item))).collect();
        let mut out = Vec::with_capacity(handles.len() + 1);
        out.extend(first.map(f));
        for handle in handles {
            out.push(
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            );
        }
        out
    })
}
