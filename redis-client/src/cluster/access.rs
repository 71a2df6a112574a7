//! What pipelines, pub/sub, scan and scripts ask of a [`ClusterClient`]: the owner of a
//! slot, a node's client, and the slot map's upkeep after a redirection.

use super::{Budget, ClusterClient};
use crate::client::Client;
use crate::error::{Error, Result};

impl ClusterClient {
    /// The primary owning `slot` (`None`: any primary, chosen at random).
    pub(crate) fn primary_addr(&self, slot: Option<u16>) -> Result<String> {
        let Some(slot) = slot else {
            return self.engine.random_primary();
        };
        match self.engine.map.get().primary_of(slot) {
            Some(addr) => Ok(addr.to_string()),
            // Handled like the server's CLUSTERDOWN: wait, refresh, route again.
            None => Err(Error::from_server_reply(
                format!("CLUSTERDOWN the client's slot map has no node serving slot {slot}")
                    .as_bytes(),
                None,
            )),
        }
    }

    /// Every primary's address, from the current slot map.
    pub(crate) fn primary_addrs(&self) -> Vec<String> {
        self.primaries()
    }

    /// The pooled client of the node at `addr`.
    pub(crate) fn node_client(&self, addr: &str) -> Result<Client> {
        self.node(addr)
    }

    /// A `MOVED` reply: the slot map learns it now and is refreshed in the background.
    pub(crate) fn note_moved(&self, slot: u16, addr: &str) {
        self.engine.map.moved(slot, addr);
        self.engine.map.refresh_in_background(&self.engine.nodes);
    }

    /// Refreshes the slot map (rate-limited); a failure leaves the map as it was, and the
    /// next redirection or error tries again.
    pub(crate) fn refresh_map(&self) {
        let _ = self.engine.map.refresh(&self.engine.nodes);
    }

    /// How many redirections and retries one command gets.
    pub(crate) fn redirect_budget(&self) -> Budget {
        self.engine.budget()
    }
}
