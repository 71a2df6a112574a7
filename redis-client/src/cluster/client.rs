//! [`ClusterClient`]: the blocking cluster front end, and its builder.

use std::sync::Arc;
use std::time::Duration;

use crate::client::Client;
use crate::command::{decode_reply, refuse_connection_state, Command, ResponsePolicy, Special};
use crate::config::{Config, ConnectionAddr};
use crate::connection::request::Typed;
use crate::error::{Error, Result};
use crate::executor::Executor;
use crate::resp::{Cmd, FromValue, ToArgs, Value};

use super::aim::{Nodes, ReadFrom};
use super::dispatch::Engine;
use super::nodes::NodePools;
use super::redirect::Budget;
use super::refresh::SlotMap;
use super::topology::Topology;

/// A client for a Redis Cluster: routes every command by its keys' slot, follows
/// redirections, splits multi-key commands across slots and fans keyless ones out, all from
/// the generated routing tables. Cheap to clone; clones share the pools and the slot map.
///
/// ```no_run
/// use redis_client::cluster::ClusterClient;
/// use redis_client::Commands;
///
/// let cluster = ClusterClient::open(["redis://127.0.0.1:7000"])?;
/// cluster.set("a", 1)?;
/// cluster.set("b", 2)?;
/// // Keys in different slots: split by slot, sent in parallel, answered in argument order.
/// let both: Vec<Option<i64>> = cluster.query(["MGET", "a", "b"])?;
/// # Ok::<(), redis_client::Error>(())
/// ```
#[derive(Clone)]
pub struct ClusterClient {
    pub(crate) engine: Arc<Engine>,
}

impl std::fmt::Debug for ClusterClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterClient")
            .field("topology", &self.engine.map.get())
            .field("read_from", &self.engine.read_from)
            .finish()
    }
}

/// Configures a [`ClusterClient`].
#[derive(Clone, Debug)]
pub struct ClusterClientBuilder {
    seeds: Vec<String>,
    config: Option<Config>,
    read_from: ReadFrom,
    refresh_interval: Option<Duration>,
    budget: Budget,
}

impl ClusterClientBuilder {
    /// The options every node connection uses (credentials, TLS, timeouts, protocol, pool
    /// size per node …); its address is ignored. Default: the first seed URL's settings.
    pub fn config(mut self, config: Config) -> Self {
        self.config = Some(config);
        self
    }

    /// Where read-only commands go (default [`ReadFrom::Primary`]).
    pub fn read_from(mut self, read_from: ReadFrom) -> Self {
        self.read_from = read_from;
        self
    }

    /// How often the slot map is refreshed when nothing prompts it (default 60 s); `None`
    /// refreshes only on redirections and errors.
    pub fn refresh_interval(mut self, every: Option<Duration>) -> Self {
        self.refresh_interval = every;
        self
    }

    /// How many redirections and retries one command gets, and how long its retries may wait
    /// in total (default 32 within 15 s).
    pub fn retries(mut self, attempts: u32, wait: Duration) -> Self {
        self.budget = Budget { attempts, wait };
        self
    }

    /// Connects to the seeds and reads the slot map; one seed answering is enough.
    pub fn build(self) -> Result<ClusterClient> {
        let mut seeds = Vec::new();
        let mut first_config = None;
        for seed in &self.seeds {
            let config = if seed.contains("://") {
                Config::from_url(seed)?
            } else {
                Config::from_url(&format!("redis://{seed}"))?
            };
            match config.addr() {
                ConnectionAddr::Tcp { host, port } => seeds.push(join(host, *port)),
                ConnectionAddr::Unix(_) => {
                    return Err(Error::config(
                        "cluster seed",
                        format!("`{seed}`: cluster nodes are reached over TCP"),
                    ))
                }
            }
            first_config.get_or_insert(config);
        }
        let config = match (self.config, first_config) {
            (Some(config), _) | (None, Some(config)) => config,
            (None, None) => return Err(Error::config("cluster seeds", "none given")),
        };
        if config.db() != 0 {
            return Err(Error::config("db", "a cluster has only database 0"));
        }
        let nodes = Arc::new(NodePools::new(
            &config,
            self.read_from != ReadFrom::Primary,
        )?);
        let map = Arc::new(SlotMap::discover(seeds, &nodes, self.refresh_interval)?);
        Ok(ClusterClient {
            engine: Arc::new(Engine::new(nodes, map, self.read_from, self.budget)),
        })
    }
}

fn join(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

impl ClusterClient {
    /// A cluster client from seed URLs (`redis://host:port`, or plain `host:port`), with the
    /// first URL's settings; see [`ClusterClient::builder`] for more options.
    pub fn open<S: AsRef<str>>(seeds: impl IntoIterator<Item = S>) -> Result<ClusterClient> {
        ClusterClient::builder(seeds).build()
    }

    /// A builder from seed URLs.
    pub fn builder<S: AsRef<str>>(seeds: impl IntoIterator<Item = S>) -> ClusterClientBuilder {
        ClusterClientBuilder {
            seeds: seeds.into_iter().map(|s| s.as_ref().to_string()).collect(),
            config: None,
            read_from: ReadFrom::default(),
            refresh_interval: Some(Duration::from_secs(60)),
            budget: Budget::default(),
        }
    }

    /// Sends one command given as raw arguments, routed like a typed one; error replies
    /// become `Err`. Fan-outs of per-node reports (INFO, MEMORY STATS …) answer a map from
    /// node address to that node's reply.
    pub fn execute(&self, args: impl ToArgs) -> Result<Value> {
        self.engine.run(&Cmd::from_args(&args), None, false)
    }

    /// Sends one command given as raw arguments and converts its reply into `T`.
    pub fn query<T: FromValue>(&self, args: impl ToArgs) -> Result<T> {
        let cmd = Cmd::from_args(&args);
        let name = cmd
            .get(0)
            .map(|n| String::from_utf8_lossy(n).to_ascii_uppercase())
            .unwrap_or_default();
        let value = self.engine.run(&cmd, None, false)?;
        T::from_value(value).map_err(|e| e.with_command(&name))
    }

    /// Like [`ClusterClient::execute`], declaring that running the command twice is harmless,
    /// so it may be sent again after a connection broke mid-command.
    pub fn execute_idempotent(&self, args: impl ToArgs) -> Result<Value> {
        self.engine.run(&Cmd::from_args(&args), None, true)
    }

    /// The pooled [`Client`] of one node (`host:port`), for what must run there.
    pub fn node(&self, addr: &str) -> Result<Client> {
        self.engine.nodes.get(addr)
    }

    /// The primary that owns `slot` in the current slot map.
    pub fn slot_owner(&self, slot: u16) -> Option<String> {
        self.engine.map.get().primary_of(slot).map(str::to_string)
    }

    /// Every primary's address.
    pub fn primaries(&self) -> Vec<String> {
        self.engine.addrs(Nodes::Primaries)
    }

    /// The current slot map.
    pub fn topology(&self) -> Arc<Topology> {
        self.engine.map.get()
    }

    /// A number that grows whenever the slot map changes, to notice a resharding.
    pub fn topology_epoch(&self) -> u64 {
        self.engine.map.epoch()
    }

    /// Reads the slot map again from every known node now (the majority view wins).
    pub fn refresh_topology(&self) -> Result<()> {
        self.engine.map.refresh_unchecked(&self.engine.nodes)
    }
}

/// Per-node reports cannot become one typed value; the caller asks each node instead.
fn refuse_per_node<C: Command>() -> Result<()> {
    let Some(meta) = C::META else { return Ok(()) };
    let routing = meta.routing();
    let per_node = matches!(
        routing.response,
        ResponsePolicy::Special(
            Special::Info | Special::MemoryStats | Special::LatencyHistogram | Special::PerNode
        )
    );
    if per_node {
        return Err(Error::Usage(format!(
            "{} reports on one node; in a cluster ask each node with \
             `cluster.on(Nodes::All)` (or one with `cluster.on_node(addr)`)",
            C::NAME
        )));
    }
    Ok(())
}

impl Executor for &ClusterClient {
    type Output<T> = Result<T>;

    fn run<C: Command>(self, cmd: C) -> Result<C::Output> {
        refuse_connection_state::<C>("a cluster client")?;
        refuse_per_node::<C>()?;
        cmd.check()?;
        let value = self
            .engine
            .run(&Cmd::from_args(&cmd), Some(Typed::of::<C>()), false)?;
        decode_reply(&cmd, value, self.engine.protocol())
    }
}
