//! Redis Sentinel: find the master and replicas of a monitored service, and clients that
//! follow them through failovers (shaped after redis-py's `Sentinel`).
//!
//! ```no_run
//! use redis_client::sentinel::{Sentinel, SentinelOptions};
//!
//! let sentinel = Sentinel::new(&[("127.0.0.1", 26379), ("127.0.0.1", 26380)], SentinelOptions::new())?;
//! let master_addr = sentinel.discover_master("mymaster")?;
//! let master = sentinel.master_for("mymaster")?;   // an ordinary pooled Client
//! master.execute(["SET", "k", "v"])?;
//! let replica = sentinel.slave_for("mymaster")?;
//! let v: Option<String> = replica.query(["GET", "k"])?;
//! # Ok::<(), redis_client::Error>(())
//! ```
//!
//! - Sentinels are asked in turn; one that answers about the master goes to the front.
//!   An answer counts only when the sentinel flags the instance as a master, it reports itself
//!   as one, and it is neither subjectively nor objectively down (`s_down` / `o_down`). An
//!   answer with an older `config-epoch` than one seen before is passed over, so a sentinel
//!   that has not yet heard of a failover cannot send clients back to the demoted master.
//! - [`Sentinel::master_for`] and [`Sentinel::slave_for`] give [`Client`]s whose pools ask the
//!   sentinels on every new connection. Replicas are used round-robin, and the master when no
//!   replica answers. No usable master or replica is [`Error::MasterNotFound`] /
//!   [`Error::SlaveNotFound`], which count as connection errors and are retried.
//! - A master client that gets `READONLY` (its server was demoted) or a connection error closes
//!   all its pooled connections, so the next ones go to the master the sentinels name then, and
//!   retries under its [`crate::Retry`] policy: a `READONLY` command any time (the server
//!   refused it), otherwise by the usual rule (a write that may have run is not resent).
//! - Unless switched off ([`SentinelOptions::listen_for_switch`]), master clients also follow
//!   the sentinels' announcements (one thread per sentinel per master client). On
//!   `+try-failover` the old master is fenced off: its connections are closed as they are
//!   checked out or returned and no new one goes to it — because after `SENTINEL FAILOVER` it
//!   keeps accepting writes that a replica still acknowledges and that the failover then
//!   discards. The fence lifts when a sentinel names another master (the promoted replica, as
//!   soon as the sentinel running the failover reports it, or `+switch-master`), when that
//!   sentinel reports the failover over without a change, or after the failover timeout.
//!   Meanwhile commands fail with [`Error::MasterNotFound`] and are retried per the policy.
//!
//! Once the new master is known, no command goes to the old one; a command already under
//! way on a connection that is checked out (including a [`crate::ClientConnection`] held for
//! a while) finishes there.
//!
//! The clients' [`crate::Config`] is [`SentinelOptions::data_config`]; its address is only a
//! placeholder, as every connection (pub/sub included) goes where the sentinels say.

mod instance;
mod known;
mod listen;
mod locate;
mod nodes;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::client::Client;
use crate::config::{Config, ConnectionAddr};
use crate::error::{Error, Result};
use crate::pool::ConnectionPool;
use crate::resp::Value;
use instance::Instance;
use known::{Answer, Known};
use locate::{MasterLocator, ReplicaLocator};
use nodes::Nodes;

/// Settings for a [`Sentinel`]: one [`Config`] for the connections to the sentinels, another
/// for the connections to masters and replicas (both with their address ignored).
#[derive(Clone, Debug)]
pub struct SentinelOptions {
    sentinel: Config,
    data: Config,
    listen_for_switch: bool,
}

impl Default for SentinelOptions {
    /// Sentinel connections with 1 s connect and socket timeouts (a sentinel that does not
    /// answer quickly is passed over), data connections with [`Config::default`] apart from
    /// the address, and `+switch-master` followed.
    fn default() -> Self {
        let second = Duration::from_secs(1);
        SentinelOptions {
            sentinel: Config::builder()
                .connect_timeout(second)
                .socket_timeout(second)
                .build()
                .expect("timeouts above zero are valid"),
            data: Config::default(),
            listen_for_switch: true,
        }
    }
}

impl SentinelOptions {
    /// The defaults (see [`SentinelOptions::default`]).
    pub fn new() -> SentinelOptions {
        SentinelOptions::default()
    }

    /// How to connect to the sentinels: credentials (`requirepass` of the sentinels, not of
    /// the data servers), timeouts, TLS, protocol. The address is ignored.
    pub fn sentinel_config(mut self, config: Config) -> Self {
        self.sentinel = config;
        self
    }

    /// How to connect to masters and replicas: credentials, timeouts, TLS, database, pool
    /// size, retry policy. The address is ignored.
    pub fn data_config(mut self, config: Config) -> Self {
        self.data = config;
        self
    }

    /// Whether master clients follow the sentinels' `+try-failover` and `+switch-master`
    /// announcements on background threads (default `true`); without, they move only when
    /// their master fails or turns read-only, and writes a failover discards may be
    /// acknowledged meanwhile (see the [module documentation](self)).
    pub fn listen_for_switch(mut self, enabled: bool) -> Self {
        self.listen_for_switch = enabled;
        self
    }

    /// The configuration for sentinel connections.
    pub fn sentinel(&self) -> &Config {
        &self.sentinel
    }

    /// The configuration for master and replica connections.
    pub fn data(&self) -> &Config {
        &self.data
    }
}

/// A set of sentinels monitoring one or more masters; cheap to clone, safe to share.
#[derive(Clone)]
pub struct Sentinel {
    inner: Arc<Inner>,
}

struct Inner {
    nodes: Nodes,
    options: SentinelOptions,
    /// What was learned about each master name (see [`known`]).
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
                nodes: Nodes::new(addrs, &options.sentinel)?,
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
        Err(Error::MasterNotFound(format!(
            "{name:?}: {}",
            problems.join("; ")
        )))
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
            Err(Error::SlaveNotFound(format!(
                "{name:?}: {}",
                problems.join("; ")
            )))
        }
    }

    /// A pooled client for the master of `name`, following it through failovers (see the
    /// [module documentation](self)). Connects lazily.
    pub fn master_for(&self, name: &str) -> Result<Client> {
        let locator = Arc::new(MasterLocator::new(self.clone(), name));
        let pool = ConnectionPool::with_locator(self.inner.options.data.clone(), locator.clone())?;
        if self.inner.options.listen_for_switch {
            listen::spawn(&locator).map_err(|e| {
                Error::config(
                    "listen_for_switch",
                    format!("cannot start the +switch-master thread: {e}"),
                )
            })?;
        }
        Ok(Client::with_pool(pool))
    }

    /// A pooled client for the replicas of `name`: each new connection goes to the next
    /// usable replica, or to the master when none answers. Connects lazily.
    pub fn slave_for(&self, name: &str) -> Result<Client> {
        let locator = Arc::new(ReplicaLocator::new(self.clone(), name));
        let pool = ConnectionPool::with_locator(self.inner.options.data.clone(), locator)?;
        Ok(Client::with_pool(pool))
    }
}

impl Inner {
    /// What sentinel `index` says about master `name`, or why that is no use.
    fn master_from(&self, index: usize, name: &str) -> Result<ConnectionAddr, String> {
        let node = self.nodes.get(index);
        let problem = |what: String| format!("sentinel {} {what}", node.addr);
        let answer = node
            .query_pair(
                ("SENTINEL", "MASTER", name),
                ("SENTINEL", "GET-MASTER-ADDR-BY-NAME", name),
            )
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

    /// Runs `f` on what is known about master `name`.
    fn with_known<T>(&self, name: &str, f: impl FnOnce(&mut Known) -> T) -> T {
        // `Known` is whole after every call, so a panic elsewhere leaves nothing half-done.
        let mut all = self.known.lock().unwrap_or_else(PoisonError::into_inner);
        match all.get_mut(name) {
            Some(known) => f(known),
            None => f(all.entry(name.to_owned()).or_default()),
        }
    }

    /// The usable replicas sentinel `index` lists for `name` (sorted, so that round-robin
    /// positions mean the same from one answer to the next), or why it could not tell.
    fn replicas_from(&self, index: usize, name: &str) -> Result<Vec<ConnectionAddr>, String> {
        let node = self.nodes.get(index);
        let entries = node
            .query::<Vec<Value>>(("SENTINEL", "REPLICAS", name))
            .map_err(|e| format!("sentinel {} failed: {e}", node.addr))?;
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
