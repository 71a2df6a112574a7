//! [`Sentinel`]: the set of sentinels, and what they say about masters and replicas.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use super::instance::Instance;
use super::known::{Answer, Known};
use super::nodes::Nodes;
use super::options::SentinelOptions;
use crate::config::ConnectionAddr;
use crate::error::{Error, Result};
use crate::resp::Value;

/// A set of sentinels monitoring one or more masters; cheap to clone, safe to share.
#[derive(Clone)]
pub struct Sentinel {
    pub(crate) inner: Arc<Inner>,
}

/// What clones of one [`Sentinel`] share.
pub(crate) struct Inner {
    pub(crate) nodes: Nodes,
    options: SentinelOptions,
    /// What was learned about each master name (see [`super::known`]).
    known: Mutex<HashMap<String, Known>>,
}

impl fmt::Debug for Sentinel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sentinels: Vec<String> = self.sentinels().iter().map(|a| a.to_string()).collect();
        f.debug_struct("Sentinel")
            .field("sentinels", &sentinels)
            .field("options", &self.inner.options)
            .finish()
    }
}

impl Sentinel {
    /// Sentinels at these `(host, port)` addresses (IPv6 hosts without brackets). Connects
    /// lazily; fails for an empty list, a bad address, or unreadable TLS files.
    pub fn new<H: AsRef<str>>(
        sentinels: &[(H, u16)],
        options: SentinelOptions,
    ) -> Result<Sentinel> {
        let addrs = sentinels
            .iter()
            .map(|(host, port)| ConnectionAddr::Tcp {
                host: host.as_ref().to_owned(),
                port: *port,
            })
            .collect();
        Ok(Sentinel {
            inner: Arc::new(Inner {
                nodes: Nodes::new(addrs, options.sentinel())?,
                options,
                known: Mutex::default(),
            }),
        })
    }

    /// The sentinels' addresses in the order they are asked (the last to answer about a
    /// master first).
    pub fn sentinels(&self) -> Vec<ConnectionAddr> {
        self.inner.nodes.addrs()
    }

    /// The options this was built with.
    pub fn options(&self) -> &SentinelOptions {
        &self.inner.options
    }

    /// The current master of `name`, from the first sentinel with a usable answer
    /// (`SENTINEL MASTER`); that sentinel is asked first from now on.
    ///
    /// [`Error::MasterNotFound`] lists what every sentinel answered when none helped.
    pub fn discover_master(&self, name: &str) -> Result<ConnectionAddr> {
        let mut problems = Vec::new();
        for index in self.inner.nodes.asking_order(None) {
            match self.inner.master_from(index, name) {
                Ok(addr) => {
                    self.inner.nodes.promote(index);
                    return Ok(addr);
                }
                Err(problem) => problems.push(problem),
            }
        }
        Err(no_master(name, &problems))
    }

    /// The usable replicas of `name` (`SENTINEL REPLICAS`): the first sentinel that lists any
    /// is believed; replicas it flags down or disconnected are left out.
    ///
    /// Empty when the sentinels answered but know no usable replica;
    /// [`Error::SlaveNotFound`] when no sentinel answered at all.
    pub fn discover_slaves(&self, name: &str) -> Result<Vec<ConnectionAddr>> {
        let mut problems = Vec::new();
        let mut answered = false;
        for index in self.inner.nodes.asking_order(None) {
            match self.inner.replicas_from(index, name) {
                Ok(replicas) if !replicas.is_empty() => return Ok(replicas),
                Ok(_) => answered = true,
                Err(problem) => problems.push(problem),
            }
        }
        if answered {
            Ok(Vec::new())
        } else {
            Err(no_replicas(name, &problems))
        }
    }
}

impl Inner {
    /// What sentinel `index` says about master `name`, or why that is no use.
    pub(super) fn master_from(&self, index: usize, name: &str) -> Result<ConnectionAddr, String> {
        let node = self.nodes.get(index);
        let replies = node.query_pair(master_query(name), master_addr_query(name));
        self.judge_master(index, name, replies)
    }

    /// Judges what sentinel `index` answered to [`master_query`] and [`master_addr_query`]
    /// (or how asking failed) in the light of what is known about master `name`.
    pub(crate) fn judge_master(
        &self,
        index: usize,
        name: &str,
        replies: Result<(Value, Value)>,
    ) -> Result<ConnectionAddr, String> {
        let node = self.nodes.get(index);
        let problem = |what: String| format!("sentinel {} {what}", node.addr);
        let answer = replies
            .and_then(|(record, current)| {
                Ok(Answer {
                    record: Instance::from_reply(server_reply(record)?, "SENTINEL MASTER")?,
                    current: master_addr(server_reply(current)?)?,
                })
            })
            .map_err(|e| problem(format!("failed: {e}")))?;
        self.with_known(name, |known| known.judge(index, &answer, Instant::now()))
            .map_err(problem)
    }

    /// Sentinel number `index` announced a failover of `name` away from `old`.
    pub(crate) fn failover_started(&self, index: usize, name: &str, old: &ConnectionAddr) {
        self.with_known(name, |known| known.fence(old, index, Instant::now()));
        // It knows best how the failover goes: ask it first.
        self.nodes.promote(index);
    }

    /// Sentinel number `index` announced `new` as the master of `name`, and `judged` is what
    /// came of asking it about `name` right after: when that gave nothing usable, the
    /// announcement is believed as it is.
    pub(crate) fn settle_switch(
        &self,
        index: usize,
        name: &str,
        judged: Result<ConnectionAddr, String>,
        new: &ConnectionAddr,
    ) {
        if judged.is_err() {
            self.with_known(name, |known| known.switch_to(new));
        }
        self.nodes.promote(index);
    }

    /// Whether a connection to `addr` (as [`crate::Connection::addr`] spells it) may still be
    /// used for master `name`.
    pub(crate) fn is_current(&self, name: &str, addr: &str) -> bool {
        let now = Instant::now();
        self.with_known(name, |known| known.is_current(addr, now))
    }

    /// Runs `f` on what is known about master `name`.
    pub(super) fn with_known<T>(&self, name: &str, f: impl FnOnce(&mut Known) -> T) -> T {
        // `Known` is whole after every call, so a panic elsewhere leaves nothing half-done.
        let mut all = self.known.lock().unwrap_or_else(PoisonError::into_inner);
        match all.get_mut(name) {
            Some(known) => f(known),
            None => f(all.entry(name.to_owned()).or_default()),
        }
    }

    /// The usable replicas sentinel `index` lists for `name`, or why it could not tell.
    fn replicas_from(&self, index: usize, name: &str) -> Result<Vec<ConnectionAddr>, String> {
        let node = self.nodes.get(index);
        let entries = node.query::<Vec<Value>>(replicas_query(name));
        self.judge_replicas(index, entries)
    }

    /// The usable replicas in what sentinel `index` answered to [`replicas_query`] (sorted, so
    /// that round-robin positions mean the same from one answer to the next), or why it could
    /// not tell.
    pub(crate) fn judge_replicas(
        &self,
        index: usize,
        entries: Result<Vec<Value>>,
    ) -> Result<Vec<ConnectionAddr>, String> {
        let node = self.nodes.get(index);
        let entries = entries.map_err(|e| format!("sentinel {} failed: {e}", node.addr))?;
        let mut usable = Vec::new();
        for entry in entries {
            let replica = Instance::from_reply(entry, "SENTINEL REPLICAS")
                .map_err(|e| format!("sentinel {} failed: {e}", node.addr))?;
            if replica.replica_usable() {
                usable.push(replica.addr);
            }
        }
        usable.sort_by_key(ConnectionAddr::to_string);
        Ok(usable)
    }
}

/// `SENTINEL MASTER`: the sentinel's record of master `name`.
pub(crate) fn master_query(name: &str) -> (&'static str, &'static str, &str) {
    ("SENTINEL", "MASTER", name)
}

/// `SENTINEL GET-MASTER-ADDR-BY-NAME`: where the sentinel sends clients of `name` now.
pub(crate) fn master_addr_query(name: &str) -> (&'static str, &'static str, &str) {
    ("SENTINEL", "GET-MASTER-ADDR-BY-NAME", name)
}

/// `SENTINEL REPLICAS`: the sentinel's records of the replicas of `name`.
pub(crate) fn replicas_query(name: &str) -> (&'static str, &'static str, &str) {
    ("SENTINEL", "REPLICAS", name)
}

/// Why no sentinel named a master of `name`, each sentinel's `problems` listed.
pub(crate) fn no_master(name: &str, problems: &[String]) -> Error {
    Error::MasterNotFound(format!("{name:?}: {}", problems.join("; ")))
}

/// Why no sentinel listed the replicas of `name`, each sentinel's `problems` listed.
pub(crate) fn no_replicas(name: &str, problems: &[String]) -> Error {
    Error::SlaveNotFound(format!("{name:?}: {}", problems.join("; ")))
}

/// An error reply as `Err`, naming the SENTINEL command.
fn server_reply(value: Value) -> Result<Value> {
    match value {
        Value::Error(payload) => Err(Error::from_server_reply(&payload, Some("SENTINEL"))),
        other => Ok(other),
    }
}

/// The `[ip, port]` of `SENTINEL GET-MASTER-ADDR-BY-NAME`; `None` for nil (unknown master).
fn master_addr(value: Value) -> Result<Option<ConnectionAddr>> {
    let bad = |value: &Value| {
        Error::Data(format!(
            "SENTINEL GET-MASTER-ADDR-BY-NAME: expected [ip, port] or nil, got {}",
            value.kind_name()
        ))
    };
    if value.is_nil() {
        return Ok(None);
    }
    let (host, port) = match value.as_array() {
        Some([host, port]) => (host.as_str(), port.as_str()),
        _ => return Err(bad(&value)),
    };
    match (host, port.and_then(|p| p.parse::<u16>().ok())) {
        (Some(host), Some(port)) => Ok(Some(ConnectionAddr::Tcp {
            host: host.to_owned(),
            port,
        })),
        _ => Err(bad(&value)),
    }
}
