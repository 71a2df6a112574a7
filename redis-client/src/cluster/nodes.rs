//! One pooled [`Client`] per cluster node, opened lazily from the cluster's [`Config`] with the
//! node's address; the connections themselves are the ordinary ones (handshake, TLS, timeouts).

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};
use std::time::Duration;

use crate::client::Client;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::retry::Retry;

/// How long connecting to a node may take when the config sets no connect timeout: a node
/// that is down must not hold up the commands for the others.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// The nodes' pools, by `host:port`.
pub(crate) struct NodePools {
    base: Config,
    readonly: bool,
    pools: RwLock<HashMap<String, Client>>,
}

impl NodePools {
    /// Pools opened from `base`; `readonly`: connections send `READONLY` (replica reads).
    pub(crate) fn new(base: &Config, readonly: bool) -> Result<NodePools> {
        let mut builder = base.to_builder().retry(Retry::none());
        if base.connect_timeout().is_none() {
            builder = builder.connect_timeout(DEFAULT_CONNECT_TIMEOUT);
        }
        Ok(NodePools {
            base: builder.build()?,
            readonly,
            pools: RwLock::default(),
        })
    }

    /// The config the nodes' connections are opened with (for the node at `127.0.0.1:6379`).
    pub(crate) fn base(&self) -> &Config {
        &self.base
    }

    /// The pooled client of the node at `addr`, opened on first use.
    ///
    /// Its own retries are off: the cluster client decides what to retry, and where.
    pub(crate) fn get(&self, addr: &str) -> Result<Client> {
        if let Some(client) = self
            .pools
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(addr)
        {
            return Ok(client.clone());
        }
        let (host, port) = split_addr(addr)?;
        let client = Client::new(self.base.for_cluster_node(host, port, self.readonly))?;
        let mut pools = self.pools.write().unwrap_or_else(PoisonError::into_inner);
        Ok(pools.entry(addr.to_string()).or_insert(client).clone())
    }

    /// Forgets nodes that are no longer in `keep` (their connections close as they drop).
    pub(crate) fn retain(&self, keep: &[String]) {
        self.pools
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|addr, _| keep.iter().any(|k| k == addr));
    }
}

/// `host:port` or `[v6]:port` into its parts.
pub(crate) fn split_addr(addr: &str) -> Result<(&str, u16)> {
    let bad = || Error::config("cluster node", format!("`{addr}` is not host:port"));
    let (host, port) = addr.rsplit_once(':').ok_or_else(bad)?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let port = port.parse().map_err(|_| bad())?;
    if host.is_empty() {
        return Err(bad());
    }
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(split_addr("127.0.0.1:7000").unwrap(), ("127.0.0.1", 7000));
        assert_eq!(split_addr("[::1]:7000").unwrap(), ("::1", 7000));
        assert!(split_addr("nohost").is_err());
        assert!(split_addr(":7000").is_err());
        assert!(split_addr("h:port").is_err());
    }
}
