//! Executors that aim commands at chosen nodes instead of routing them by key:
//! [`OnNodes`] (a set of nodes, one reply per node) and [`OnNode`] (one node).

use crate::command::{decode_reply, refuse_connection_state, Command};
use crate::connection::request::Typed;
use crate::error::Result;
use crate::executor::Executor;
use crate::resp::{Cmd, ToArgs, Value};

use super::aim::Nodes;
use super::client::ClusterClient;

/// Aiming commands at chosen nodes instead of by key.
impl ClusterClient {
    /// Aims commands at a set of nodes; each node's reply comes back with its address.
    pub fn on(&self, nodes: Nodes) -> OnNodes<'_> {
        OnNodes::new(self, nodes)
    }

    /// Aims commands at one node (`host:port`), whatever their keys.
    pub fn on_node(&self, addr: &str) -> OnNode<'_> {
        OnNode::new(self, Some(addr.to_string()))
    }

    /// Aims commands at one random primary.
    pub fn on_random(&self) -> OnNode<'_> {
        OnNode::new(self, None)
    }
}

/// Commands on a set of nodes ([`ClusterClient::on`]): each node's reply, with its address.
///
/// ```no_run
/// use redis_client::cluster::{ClusterClient, Nodes};
/// use redis_client::Commands;
///
/// let cluster = ClusterClient::open(["redis://127.0.0.1:7000"])?;
/// for (node, info) in cluster.on(Nodes::All).info()? {
///     println!("{node}: {} bytes of INFO", info.len());
/// }
/// # Ok::<(), redis_client::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct OnNodes<'c> {
    client: &'c ClusterClient,
    nodes: Nodes,
}

impl<'c> OnNodes<'c> {
    pub(crate) fn new(client: &'c ClusterClient, nodes: Nodes) -> OnNodes<'c> {
        OnNodes { client, nodes }
    }

    /// Sends raw arguments to every node of the set.
    pub fn execute(self, args: impl ToArgs) -> Result<Vec<(String, Value)>> {
        self.send(&Cmd::from_args(&args), None)
            .into_iter()
            .map(|(addr, reply)| reply.map(|v| (addr, v)))
            .collect()
    }

    fn send(self, cmd: &Cmd, typed: Option<Typed>) -> Vec<(String, Result<Value>)> {
        let engine = &self.client.engine;
        engine.fan_out(&engine.addrs(self.nodes), cmd, typed)
    }
}

impl Executor for OnNodes<'_> {
    type Output<T> = Result<Vec<(String, T)>>;

    fn run<C: Command>(self, cmd: C) -> Result<Vec<(String, C::Output)>> {
        refuse_connection_state::<C>("a cluster client")?;
        cmd.check()?;
        let protocol = self.client.engine.protocol();
        self.send(&Cmd::from_args(&cmd), Some(Typed::of::<C>()))
            .into_iter()
            .map(|(addr, reply)| Ok((addr, decode_reply(&cmd, reply?, protocol)?)))
            .collect()
    }
}

/// Commands on one node ([`ClusterClient::on_node`], [`ClusterClient::on_random`]), whatever
/// their keys; a MOVED reply is returned, not followed.
#[derive(Clone, Debug)]
pub struct OnNode<'c> {
    client: &'c ClusterClient,
    /// `None`: a random primary.
    addr: Option<String>,
}

impl<'c> OnNode<'c> {
    pub(crate) fn new(client: &'c ClusterClient, addr: Option<String>) -> OnNode<'c> {
        OnNode { client, addr }
    }

    /// Sends raw arguments to the node.
    pub fn execute(self, args: impl ToArgs) -> Result<Value> {
        self.send(&Cmd::from_args(&args), None)
    }

    fn send(&self, cmd: &Cmd, typed: Option<Typed>) -> Result<Value> {
        let engine = &self.client.engine;
        let addr = match &self.addr {
            Some(addr) => addr.clone(),
            None => engine.random_primary()?,
        };
        engine.send_to(&addr, cmd, typed, false)
    }
}

impl Executor for OnNode<'_> {
    type Output<T> = Result<T>;

    fn run<C: Command>(self, cmd: C) -> Result<C::Output> {
        refuse_connection_state::<C>("a cluster client")?;
        cmd.check()?;
        let value = self.send(&Cmd::from_args(&cmd), Some(Typed::of::<C>()))?;
        decode_reply(&cmd, value, self.client.engine.protocol())
    }
}
