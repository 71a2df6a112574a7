//! Changing a running [`ClusterSetup`]: moving a slot by hand, failing a primary over, killing one.

use std::time::{Duration, Instant};

use redis_client::Value;

use crate::cluster_setup::{cluster_info, ClusterSetup};
use crate::error::{Error, Result};
use crate::reply::{info_field, text};
use crate::wait::wait_until;

/// How many keys one `MIGRATE … KEYS` moves.
const MIGRATE_BATCH: usize = 100;
/// How long a failover may take to show in every node's view.
const FAILOVER_DEADLINE: Duration = Duration::from_secs(60);

/// A slot being moved: `IMPORTING` on the target, `MIGRATING` on the source, until
/// [`Migration::finish`] assigns it to the target everywhere.
#[derive(Debug)]
pub struct Migration<'c> {
    cluster: &'c ClusterSetup,
    slot: u16,
    from: usize,
    to: usize,
    to_id: String,
}

impl ClusterSetup {
    /// Starts moving `slot` from its owner to primary `to` (SETSLOT IMPORTING on the target,
    /// then MIGRATING on the source, the order the cluster spec asks for).
    pub fn begin_migration(&self, slot: u16, to: usize) -> Result<Migration<'_>> {
        let from = self.owner_of(slot)?;
        if from == to {
            return Err(Error::UnexpectedReply {
                context: format!("migrating slot {slot}"),
                reply: format!("node {to} owns it already"),
            });
        }
        let from_id = self.node_id(from)?;
        let to_id = self.node_id(to)?;
        let s = slot.to_string();
        self.connect(to)?
            .call_ok(&["CLUSTER", "SETSLOT", &s, "IMPORTING", &from_id])?;
        self.connect(from)?
            .call_ok(&["CLUSTER", "SETSLOT", &s, "MIGRATING", &to_id])?;
        Ok(Migration {
            cluster: self,
            slot,
            from,
            to,
            to_id,
        })
    }

    /// Moves `slot` with all its keys to primary `to`; returns how many keys moved.
    pub fn migrate_slot(&self, slot: u16, to: usize) -> Result<usize> {
        let migration = self.begin_migration(slot, to)?;
        let moved = migration.move_all()?;
        migration.finish()?;
        Ok(moved)
    }

    /// Fails primary `index` over to its first replica with `CLUSTER FAILOVER` (a coordinated
    /// failover, no write lost) and waits until the roles flipped in every node's view; returns
    /// the new primary's index.
    pub fn failover(&self, index: usize) -> Result<usize> {
        let replica = *self
            .replicas_of(index)?
            .first()
            .ok_or_else(|| Error::UnexpectedReply {
                context: format!("failing over node {index}"),
                reply: "it has no replica".into(),
            })?;
        self.connect(replica)?.call_ok(&["CLUSTER", "FAILOVER"])?;
        self.wait_promoted(&[replica], &[])?;
        Ok(replica)
    }

    /// SIGKILLs primary `index`; returns its replicas, one of which the cluster will promote
    /// (see [`ClusterSetup::wait_promoted`]).
    pub fn kill_primary(&mut self, index: usize) -> Result<Vec<usize>> {
        let replicas = self.replicas_of(index)?;
        self.node_mut(index).kill();
        Ok(replicas)
    }

    /// Waits until one of `candidates` is a primary in every live node's view and the nodes
    /// outside `dead` are healthy; returns the promoted one and how long it took.
    pub fn wait_promoted(&self, candidates: &[usize], dead: &[usize]) -> Result<(usize, Duration)> {
        let started = Instant::now();
        let promoted = wait_until("a replica to be promoted", FAILOVER_DEADLINE, || {
            for &c in candidates {
                let mut conn = self.connect(c).map_err(|e| e.to_string())?;
                let role = conn.call_ok(&["ROLE"]).map_err(|e| e.to_string())?;
                if role_name(&role).as_deref() == Some("master") {
                    return Ok(c);
                }
            }
            Err("no candidate is primary yet".into())
        })?;
        self.wait_healthy(dead)?;
        Ok((promoted, started.elapsed()))
    }

    /// Waits until every node outside `dead` says `cluster_state:ok`.
    pub fn wait_state_ok(&self, dead: &[usize]) -> Result<()> {
        wait_until("cluster_state:ok", FAILOVER_DEADLINE, || {
            for index in (0..self.nodes().len()).filter(|i| !dead.contains(i)) {
                let mut conn = self.connect(index).map_err(|e| e.to_string())?;
                let info = cluster_info(&mut conn).map_err(|e| e.to_string())?;
                if info_field(&info, "cluster_state") != Some("ok") {
                    return Err(format!("node {index} not ok"));
                }
            }
            Ok(())
        })
    }
}

impl Migration<'_> {
    /// The slot being moved.
    pub fn slot(&self) -> u16 {
        self.slot
    }

    /// The node it comes from.
    pub fn from(&self) -> usize {
        self.from
    }

    /// The node it goes to.
    pub fn to(&self) -> usize {
        self.to
    }

    /// Moves these keys now (`MIGRATE host port "" 0 timeout KEYS …`).
    pub fn move_keys(&self, keys: &[&str]) -> Result<()> {
        let target = &self.cluster.nodes()[self.to];
        let port = target.port().to_string();
        let mut args = vec!["MIGRATE", "127.0.0.1", &port, "", "0", "10000", "KEYS"];
        args.extend_from_slice(keys);
        self.cluster.connect(self.from)?.call_ok(&args)?;
        Ok(())
    }

    /// Moves every key still in the slot on the source; returns how many moved.
    pub fn move_all(&self) -> Result<usize> {
        let mut source = self.cluster.connect(self.from)?;
        let slot = self.slot.to_string();
        let batch = MIGRATE_BATCH.to_string();
        let mut moved = 0;
        loop {
            let reply = source.call_ok(&["CLUSTER", "GETKEYSINSLOT", &slot, &batch])?;
            let keys: Vec<String> = match reply {
                Value::Array(items) => items.iter().filter_map(text).collect(),
                other => {
                    return Err(Error::UnexpectedReply {
                        context: format!("CLUSTER GETKEYSINSLOT {slot}"),
                        reply: format!("{other:?}"),
                    })
                }
            };
            if keys.is_empty() {
                return Ok(moved);
            }
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            self.move_keys(&keys)?;
            moved += keys.len();
        }
    }

    /// Assigns the slot to the target on the target, the source, then every other node, and
    /// waits until every node sees the new owner.
    pub fn finish(self) -> Result<()> {
        let slot = self.slot.to_string();
        let order = [self.to, self.from]
            .into_iter()
            .chain((0..self.cluster.nodes().len()).filter(|&i| i != self.to && i != self.from));
        for index in order {
            let mut conn = self.cluster.connect(index)?;
            // A replica refuses SETSLOT; it learns the owner from its primary.
            let reply = conn.call(&["CLUSTER", "SETSLOT", &slot, "NODE", &self.to_id]);
            match reply {
                Ok(Value::Error(e)) if index == self.to || index == self.from => {
                    return Err(Error::UnexpectedReply {
                        context: format!("CLUSTER SETSLOT {slot} NODE on node {index}"),
                        reply: String::from_utf8_lossy(&e).into_owned(),
                    })
                }
                Ok(_) => {}
                Err(e) => {
                    return Err(Error::Io {
                        action: format!("CLUSTER SETSLOT on node {index}"),
                        source: e,
                    })
                }
            }
        }
        wait_until(
            "every node to see the slot moved",
            FAILOVER_DEADLINE,
            || {
                for index in 0..self.cluster.nodes().len() {
                    let mut conn = self.cluster.connect(index).map_err(|e| e.to_string())?;
                    let owner = crate::cluster_view::nodes_of(&mut conn)
                        .map_err(|e| e.to_string())?
                        .into_iter()
                        .find(|n| {
                            n.primary && n.slots.iter().any(|&(a, b)| (a..=b).contains(&self.slot))
                        });
                    if owner.map(|n| n.id) != Some(self.to_id.clone()) {
                        return Err(format!("node {index} sees another owner"));
                    }
                }
                Ok(())
            },
        )
    }
}

/// The first element of a `ROLE` reply (`master`, `slave`).
fn role_name(role: &Value) -> Option<String> {
    match role {
        Value::Array(items) => items.first().and_then(text),
        _ => None,
    }
}
