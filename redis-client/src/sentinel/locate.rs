//! The locators behind [`super::Sentinel::master_for`] and [`super::Sentinel::slave_for`]:
//! every new pooled connection asks the sentinels where to go.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::sentinels::Sentinel;
use crate::config::ConnectionAddr;
use crate::connection::locator::Locator;
use crate::connection::Connection;
use crate::error::{Error, Result};

/// Sends connections to the master a sentinel currently reports.
///
/// Which master is current (and which is fenced off during a failover) is kept by the
/// [`Sentinel`] per master name, so every client of that name agrees.
pub(crate) struct MasterLocator {
    sentinel: Sentinel,
    name: String,
}

impl MasterLocator {
    pub(crate) fn new(sentinel: Sentinel, name: &str) -> MasterLocator {
        MasterLocator {
            sentinel,
            name: name.to_owned(),
        }
    }

    pub(crate) fn sentinel(&self) -> &Sentinel {
        &self.sentinel
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Sentinel number `index` announced a failover away from `old`.
    pub(crate) fn failover_started(&self, index: usize, old: &ConnectionAddr) {
        self.sentinel.inner.failover_started(index, &self.name, old);
    }

    /// Sentinel number `index` announced `new` as the master.
    pub(crate) fn switched(&self, index: usize, new: &ConnectionAddr) {
        // Asking the announcing sentinel records the new config-epoch, so a sentinel that has
        // not heard of the failover yet cannot send later connections back.
        let judged = self.sentinel.inner.master_from(index, &self.name);
        self.sentinel
            .inner
            .settle_switch(index, &self.name, judged, new);
    }
}

impl Locator for MasterLocator {
    fn connect(&self, open: &dyn Fn(&ConnectionAddr) -> Result<Connection>) -> Result<Connection> {
        let addr = self.sentinel.discover_master(&self.name)?;
        open(&addr)
    }

    fn is_current(&self, addr: &str) -> bool {
        self.sentinel.inner.is_current(&self.name, addr)
    }

    fn server_moved(&self, error: &Error) -> bool {
        // A master that went away (or stopped answering) or turned into a replica: whatever
        // is pooled points at the wrong server now.
        matches!(error, Error::ReadOnly(_)) || error.is_connection_error()
    }
}

/// Sends connections to the replicas in turn, and to the master when no replica answers.
pub(crate) struct ReplicaLocator {
    sentinel: Sentinel,
    name: String,
    /// Round-robin position: each new connection starts one replica further.
    next: AtomicUsize,
}

impl ReplicaLocator {
    pub(crate) fn new(sentinel: Sentinel, name: &str) -> ReplicaLocator {
        ReplicaLocator {
            sentinel,
            name: name.to_owned(),
            next: AtomicUsize::new(0),
        }
    }
}

impl Locator for ReplicaLocator {
    fn connect(&self, open: &dyn Fn(&ConnectionAddr) -> Result<Connection>) -> Result<Connection> {
        let mut problems = Vec::new();
        match self.sentinel.discover_slaves(&self.name) {
            Ok(replicas) if !replicas.is_empty() => {
                let start = self.next.fetch_add(1, Ordering::Relaxed) % replicas.len();
                for addr in replicas[start..].iter().chain(&replicas[..start]) {
                    match open(addr) {
                        Ok(conn) => return Ok(conn),
                        Err(e) => problems.push(format!("replica {addr}: {e}")),
                    }
                }
            }
            Ok(_) => problems.push("the sentinels list no usable replica".to_owned()),
            Err(e) => problems.push(e.to_string()),
        }
        // As redis-py does: with no replica answering, reads go to the master.
        match self.sentinel.discover_master(&self.name) {
            Ok(addr) => match open(&addr) {
                Ok(conn) => return Ok(conn),
                Err(e) => problems.push(format!("master {addr}: {e}")),
            },
            Err(e) => problems.push(e.to_string()),
        }
        Err(Error::SlaveNotFound(format!(
            "{:?}: {}",
            self.name,
            problems.join("; ")
        )))
    }

    fn is_current(&self, _addr: &str) -> bool {
        true
    }

    fn server_moved(&self, _error: &Error) -> bool {
        false
    }
}
