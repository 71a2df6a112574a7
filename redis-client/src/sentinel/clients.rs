//! Clients that follow a master or its replicas: [`Sentinel::master_for`] and
//! [`Sentinel::slave_for`].

use std::sync::Arc;

use super::listen;
use super::locate::{MasterLocator, ReplicaLocator};
use super::sentinels::Sentinel;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::pool::ConnectionPool;

impl Sentinel {
    /// A pooled client for the master of `name`, following it through failovers (see
    /// [`crate::sentinel`]). Connects lazily.
    pub fn master_for(&self, name: &str) -> Result<Client> {
        let locator = Arc::new(MasterLocator::new(self.clone(), name));
        let pool = ConnectionPool::with_locator(self.options().data().clone(), locator.clone())?;
        if self.options().follows_switches() {
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
        let pool = ConnectionPool::with_locator(self.options().data().clone(), locator)?;
        Ok(Client::with_pool(pool))
    }
}
