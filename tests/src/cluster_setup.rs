//! `ClusterSetup`: a Redis or Valkey cluster of several primaries, each with replicas, on loopback.
//!
//! Every node is a [`Server`] started with `cluster_empty()`; the setup splits the 16384 slots
//! evenly over the primaries, meets every node, makes the replicas replicate, and waits until
//! every node says `cluster_state:ok`, every node sees the same slot owners, and every replica's
//! link to its primary is up. The nodes stop when the setup drops.

use std::time::Duration;

use crate::cluster_view::{nodes_of, slot_signature, NodeLine};
use crate::error::{Error, IoContext, Result};
use crate::raw::RawConnection;
use crate::reply::{info_field, text};
use crate::server::{Server, ServerKind};
use crate::wait::wait_until;

/// Slots in a Redis cluster.
pub const SLOTS: u16 = 16384;
/// How long a fresh cluster gets to agree and become ok.
const FORM_DEADLINE: Duration = Duration::from_secs(60);

/// Configures a [`ClusterSetup`].
#[derive(Clone, Debug)]
pub struct ClusterSetupBuilder {
    kind: ServerKind,
    primaries: usize,
    replicas: usize,
    node_timeout: Duration,
    extra: Vec<String>,
}

impl ClusterSetupBuilder {
    /// How many primaries share the slots (default 3).
    pub fn primaries(mut self, n: usize) -> Self {
        self.primaries = n;
        self
    }

    /// How many replicas each primary gets (default 1).
    pub fn replicas_per_primary(mut self, n: usize) -> Self {
        self.replicas = n;
        self
    }

    /// `cluster-node-timeout` (default 3000 ms): how long a node may be unreachable before it
    /// counts as failed and a replica takes over.
    pub fn node_timeout(mut self, timeout: Duration) -> Self {
        self.node_timeout = timeout;
        self
    }

    /// Adds a config line to every node.
    pub fn config(mut self, line: impl Into<String>) -> Self {
        self.extra.push(line.into());
        self
    }

    /// Starts the nodes and forms the cluster.
    pub fn spawn(&self) -> Result<ClusterSetup> {
        let total = self.primaries * (1 + self.replicas);
        let mut nodes = Vec::with_capacity(total);
        for _ in 0..total {
            let mut builder = Server::builder(self.kind)
                .cluster_empty()
                .config(format!(
                    "cluster-node-timeout {}",
                    self.node_timeout.as_millis()
                ))
                // The layout the tests set up stays put: no replica wanders to another primary.
                .config("cluster-allow-replica-migration no");
            for line in &self.extra {
                builder = builder.config(line.clone());
            }
            nodes.push(builder.spawn()?);
        }
        let setup = ClusterSetup {
            kind: self.kind,
            node_timeout: self.node_timeout,
            nodes,
        };
        setup.form(self.primaries)?;
        Ok(setup)
    }

    /// Like [`ClusterSetupBuilder::spawn`], panicking with the reason; for tests.
    #[track_caller]
    pub fn start(&self) -> ClusterSetup {
        self.spawn()
            .unwrap_or_else(|e| panic!("starting a {} cluster: {e}", self.kind.name()))
    }
}

/// A running cluster; its nodes are killed and their temp dirs removed on drop.
#[derive(Debug)]
pub struct ClusterSetup {
    kind: ServerKind,
    node_timeout: Duration,
    nodes: Vec<Server>,
}

impl ClusterSetup {
    /// A builder for a cluster of `kind`: 3 primaries with one replica each, node timeout 3 s.
    pub fn builder(kind: ServerKind) -> ClusterSetupBuilder {
        ClusterSetupBuilder {
            kind,
            primaries: 3,
            replicas: 1,
            node_timeout: Duration::from_millis(3000),
            extra: Vec::new(),
        }
    }

    /// Starts the default cluster of `kind`; panics with the reason on failure.
    #[track_caller]
    pub fn start(kind: ServerKind) -> ClusterSetup {
        ClusterSetup::builder(kind).start()
    }

    /// Which server program the nodes run.
    pub fn kind(&self) -> ServerKind {
        self.kind
    }

    /// The configured `cluster-node-timeout`.
    pub fn node_timeout(&self) -> Duration {
        self.node_timeout
    }

    /// Every node, in start order (the first ones started as primaries).
    pub fn nodes(&self) -> &[Server] {
        &self.nodes
    }

    /// One node by index, mutable (to kill or restart it).
    pub fn node_mut(&mut self, index: usize) -> &mut Server {
        &mut self.nodes[index]
    }

    /// `redis://127.0.0.1:PORT` of every node.
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(Server::url).collect()
    }

    /// A raw connection to node `index`.
    pub fn connect(&self, index: usize) -> Result<RawConnection> {
        let node = &self.nodes[index];
        RawConnection::connect_to(node).context(|| format!("connecting to {node}"))
    }

    /// The index of the node listening on `port`.
    pub fn index_of_port(&self, port: u16) -> Option<usize> {
        self.nodes.iter().position(|n| n.port() == port)
    }

    /// `CLUSTER NODES` as seen by the first running node other than `except`.
    pub fn view(&self, except: &[usize]) -> Result<Vec<NodeLine>> {
        let mut last = None;
        for index in (0..self.nodes.len()).filter(|i| !except.contains(i)) {
            match self.connect(index).and_then(|mut c| nodes_of(&mut c)) {
                Ok(view) => return Ok(view),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| Error::UnexpectedReply {
            context: "CLUSTER NODES".into(),
            reply: "no node left to ask".into(),
        }))
    }

    /// The slot of `key`, asked from a node (`CLUSTER KEYSLOT`).
    pub fn key_slot(&self, key: &str) -> Result<u16> {
        let reply = self.connect(0)?.call_ok(&["CLUSTER", "KEYSLOT", key])?;
        match reply {
            redis_client::Value::Integer(slot) => Ok(slot as u16),
            other => Err(Error::UnexpectedReply {
                context: format!("CLUSTER KEYSLOT {key}"),
                reply: format!("{other:?}"),
            }),
        }
    }

    /// The index of the primary owning `slot`, per a node's current view.
    pub fn owner_of(&self, slot: u16) -> Result<usize> {
        let view = self.view(&[])?;
        view.iter()
            .filter(|n| n.primary && !n.failing)
            .find(|n| n.slots.iter().any(|&(a, b)| (a..=b).contains(&slot)))
            .and_then(|n| self.index_of_port(n.port))
            .ok_or_else(|| Error::UnexpectedReply {
                context: format!("the owner of slot {slot}"),
                reply: "no live primary owns it".into(),
            })
    }

    /// Indices of the nodes that are primaries now (per a node's view).
    pub fn primaries(&self) -> Result<Vec<usize>> {
        self.role_indices(true)
    }

    /// Indices of the nodes that are replicas now.
    pub fn replicas(&self) -> Result<Vec<usize>> {
        self.role_indices(false)
    }

    fn role_indices(&self, primary: bool) -> Result<Vec<usize>> {
        let view = self.view(&[])?;
        Ok(view
            .iter()
            .filter(|n| n.primary == primary && !n.failing)
            .filter_map(|n| self.index_of_port(n.port))
            .collect())
    }

    /// The replicas (indices) of primary `index`.
    pub fn replicas_of(&self, index: usize) -> Result<Vec<usize>> {
        let id = self.node_id(index)?;
        let view = self.view(&[index])?;
        Ok(view
            .iter()
            .filter(|n| n.primary_id.as_deref() == Some(id.as_str()) && !n.failing)
            .filter_map(|n| self.index_of_port(n.port))
            .collect())
    }

    /// `CLUSTER MYID` of node `index`.
    pub fn node_id(&self, index: usize) -> Result<String> {
        let reply = self.connect(index)?.call_ok(&["CLUSTER", "MYID"])?;
        text(&reply).ok_or_else(|| Error::UnexpectedReply {
            context: "CLUSTER MYID".into(),
            reply: format!("{reply:?}"),
        })
    }

    fn form(&self, primaries: usize) -> Result<()> {
        let per = SLOTS as usize / primaries;
        for p in 0..primaries {
            let first = p * per;
            let last = if p + 1 == primaries {
                SLOTS as usize - 1
            } else {
                first + per - 1
            };
            self.connect(p)?.call_ok(&[
                "CLUSTER",
                "ADDSLOTSRANGE",
                &first.to_string(),
                &last.to_string(),
            ])?;
        }
        let mut first = self.connect(0)?;
        for node in &self.nodes[1..] {
            first.call_ok(&["CLUSTER", "MEET", "127.0.0.1", &node.port().to_string()])?;
        }
        let total = self.nodes.len();
        for index in 0..total {
            let mut conn = self.connect(index)?;
            wait_until("every node to know every other", FORM_DEADLINE, || {
                let view = nodes_of(&mut conn).map_err(|e| e.to_string())?;
                (view.len() == total)
                    .then_some(())
                    .ok_or(format!("{} of {total} known", view.len()))
            })?;
        }
        for index in primaries..total {
            let primary_id = self.node_id((index - primaries) % primaries)?;
            let mut conn = self.connect(index)?;
            conn.call_ok(&["CLUSTER", "REPLICATE", &primary_id])?;
        }
        self.wait_healthy(&[])
    }

    /// Waits until every node but `except` says `cluster_state:ok`, they all see the same slot
    /// owners, and every replica's link to its primary is up.
    pub fn wait_healthy(&self, except: &[usize]) -> Result<()> {
        let live: Vec<usize> = (0..self.nodes.len())
            .filter(|i| !except.contains(i))
            .collect();
        wait_until("the cluster to be healthy", FORM_DEADLINE, || {
            let mut signature = None;
            for &index in &live {
                let mut conn = self.connect(index).map_err(|e| e.to_string())?;
                let info = cluster_info(&mut conn).map_err(|e| e.to_string())?;
                if info_field(&info, "cluster_state") != Some("ok") {
                    return Err(format!("node {index}: {info}"));
                }
                let view = nodes_of(&mut conn).map_err(|e| e.to_string())?;
                // Until gossip spreads, a fresh replica still looks like an empty primary.
                if let Some(empty) = view
                    .iter()
                    .find(|n| n.primary && !n.failing && n.slots.is_empty())
                {
                    return Err(format!(
                        "node {index} sees {} as a primary without slots",
                        empty.port
                    ));
                }
                let mine = slot_signature(&view);
                if mine
                    .iter()
                    .map(|(a, b, _)| (b - a) as usize + 1)
                    .sum::<usize>()
                    != SLOTS as usize
                {
                    return Err(format!("node {index} does not see every slot owned"));
                }
                match &signature {
                    None => signature = Some(mine),
                    Some(first) if *first != mine => {
                        return Err(format!("node {index} sees other slot owners"))
                    }
                    Some(_) => {}
                }
                let me = view.iter().find(|n| n.port == self.nodes[index].port());
                if me.is_some_and(|n| !n.primary) {
                    let repl = conn.info("replication").map_err(|e| e.to_string())?;
                    if info_field(&repl, "master_link_status") != Some("up") {
                        return Err(format!("replica {index} not synced"));
                    }
                }
            }
            Ok(())
        })
    }
}

/// `CLUSTER INFO` as text.
pub(crate) fn cluster_info(conn: &mut RawConnection) -> Result<String> {
    let reply = conn.call_ok(&["CLUSTER", "INFO"])?;
    text(&reply).ok_or_else(|| Error::UnexpectedReply {
        context: "CLUSTER INFO".into(),
        reply: format!("{reply:?}"),
    })
}
