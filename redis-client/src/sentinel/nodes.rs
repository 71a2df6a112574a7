//! The sentinels a [`super::Sentinel`] asks, in the order it asks them, each with one cached
//! connection.

use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::config::{Config, ConnectionAddr};
use crate::connection::connector::Connector;
use crate::connection::Connection;
use crate::error::{Error, Result};
use crate::resp::{FromValue, ToArgs, Value};

/// One sentinel: where it is and a connection kept between questions.
pub(crate) struct Node {
    pub(crate) addr: ConnectionAddr,
    pub(crate) config: Config,
    connector: Connector,
    conn: Mutex<Option<Connection>>,
}

impl Node {
    fn new(addr: ConnectionAddr, template: &Config) -> Result<Node> {
        let config = template.to_builder().addr(addr.clone()).build()?;
        Ok(Node {
            addr,
            connector: Connector::new(config.clone())?,
            config,
            conn: Mutex::new(None),
        })
    }

    /// Runs one command on this sentinel, reusing its connection when it is still good.
    pub(crate) fn query<T: FromValue>(&self, args: impl ToArgs) -> Result<T> {
        // Take the connection out, so other threads asking this sentinel meanwhile open their
        // own instead of waiting behind a slow one.
        let cached = lock(&self.conn).take();
        let mut conn = match cached {
            Some(conn) => conn,
            None => self.connector.connect()?,
        };
        let result = conn.query(args);
        self.put_back(conn);
        result
    }

    /// Sends two commands in one round trip and returns both replies, error replies as
    /// [`crate::Value::Error`].
    pub(crate) fn query_pair(
        &self,
        first: impl ToArgs,
        second: impl ToArgs,
    ) -> Result<(Value, Value)> {
        let cached = lock(&self.conn).take();
        let mut conn = match cached {
            Some(conn) => conn,
            None => self.connector.connect()?,
        };
        let result = (|| {
            conn.write_command(&first)?;
            conn.write_command(&second)?;
            conn.flush()?;
            Ok((conn.read_reply()?, conn.read_reply()?))
        })();
        self.put_back(conn);
        result
    }

    /// Keeps `conn` for the next question, unless it broke or another thread left one first.
    fn put_back(&self, conn: Connection) {
        if conn.is_reusable() {
            lock(&self.conn).get_or_insert(conn);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded values (a connection slot, an order of indices) are whole at every step.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// All sentinels, plus the order to ask them in (indices into `nodes`).
pub(crate) struct Nodes {
    nodes: Vec<Node>,
    order: Mutex<Vec<usize>>,
}

impl Nodes {
    /// Sentinels at `addrs`, connected to with `template` (its address replaced).
    pub(crate) fn new(addrs: Vec<ConnectionAddr>, template: &Config) -> Result<Nodes> {
        if addrs.is_empty() {
            return Err(Error::Config {
                param: "sentinels".into(),
                message: "at least one sentinel address is needed".into(),
            });
        }
        let nodes = addrs
            .into_iter()
            .map(|addr| Node::new(addr, template))
            .collect::<Result<Vec<_>>>()?;
        Ok(Nodes {
            order: Mutex::new((0..nodes.len()).collect()),
            nodes,
        })
    }

    /// The sentinel at `index` (stable, whatever the asking order).
    pub(crate) fn get(&self, index: usize) -> &Node {
        &self.nodes[index]
    }

    /// How many sentinels there are.
    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Indices in asking order, `first` (if given) moved ahead of the rest.
    pub(crate) fn asking_order(&self, first: Option<usize>) -> Vec<usize> {
        let mut order = lock(&self.order).clone();
        if let Some(pos) = first.and_then(|i| order.iter().position(|&j| j == i)) {
            let index = order.remove(pos);
            order.insert(0, index);
        }
        order
    }

    /// Asks sentinel `index` first from now on.
    pub(crate) fn promote(&self, index: usize) {
        let mut order = lock(&self.order);
        if let Some(pos) = order.iter().position(|&j| j == index) {
            let index = order.remove(pos);
            order.insert(0, index);
        }
    }

    /// The sentinels' addresses in asking order.
    pub(crate) fn addrs(&self) -> Vec<ConnectionAddr> {
        self.asking_order(None)
            .into_iter()
            .map(|i| self.nodes[i].addr.clone())
            .collect()
    }
}
