//! Keeping the slot map current: every known node is asked in parallel (so a node that is down
//! or slow holds up nobody), the view most of them share wins, refreshes are rate limited, a
//! MOVED patches the map at once and schedules a refresh in the background, and a refresh is
//! due periodically even when nothing went wrong.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::thread;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::resp::Value;

use super::nodes::{split_addr, NodePools};
use super::topology::{from_shards, from_slots, vote, Topology};

/// The fewest time between two refreshes: a burst of MOVED replies costs one.
const MIN_INTERVAL: Duration = Duration::from_millis(100);
/// How long a refresh waits for the nodes' answers; late ones are not waited for.
const ASK_DEADLINE: Duration = Duration::from_secs(2);

/// The slot map and the bookkeeping of its refreshes.
pub(crate) struct SlotMap {
    current: RwLock<Arc<Topology>>,
    seeds: Vec<String>,
    last_refresh: Mutex<Instant>,
    refreshing: AtomicBool,
    periodic: Option<Duration>,
    epoch: AtomicU64,
}

impl SlotMap {
    /// Builds the first map from `seeds` (at least one must answer).
    pub(crate) fn discover(
        seeds: Vec<String>,
        nodes: &NodePools,
        periodic: Option<Duration>,
    ) -> Result<SlotMap> {
        let topology = ask_all(&seeds, nodes)?;
        Ok(SlotMap {
            current: RwLock::new(Arc::new(topology)),
            seeds,
            last_refresh: Mutex::new(Instant::now()),
            refreshing: AtomicBool::new(false),
            periodic,
            epoch: AtomicU64::new(1),
        })
    }

    /// The current map.
    pub(crate) fn get(&self) -> Arc<Topology> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How many times the map changed (a MOVED patch or a refresh that saw something new).
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Applies a MOVED reply at once.
    pub(crate) fn moved(&self, slot: u16, addr: &str) {
        let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
        if current.primary_of(slot) == Some(addr) {
            return;
        }
        let mut next = (**current).clone();
        next.move_slot(slot, addr);
        *current = Arc::new(next);
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }

    /// Refreshes now unless another refresh is running or one ran within the last 100 ms.
    /// Returns whether this call refreshed.
    pub(crate) fn refresh(&self, nodes: &NodePools) -> Result<bool> {
        if self.refreshing.swap(true, Ordering::AcqRel) {
            return Ok(false);
        }
        let _done = ClearOnDrop(&self.refreshing);
        {
            let last = self
                .last_refresh
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if last.elapsed() < MIN_INTERVAL {
                return Ok(false);
            }
        }
        let result = self.refresh_unchecked(nodes);
        *self
            .last_refresh
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Instant::now();
        result.map(|()| true)
    }

    /// Refreshes whatever the rate limit says (an explicit request by the caller).
    pub(crate) fn refresh_unchecked(&self, nodes: &NodePools) -> Result<()> {
        let mut known = self.get().nodes();
        for seed in &self.seeds {
            if !known.contains(seed) {
                known.push(seed.clone());
            }
        }
        let topology = ask_all(&known, nodes)?;
        let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
        if !current.same_as(&topology) {
            *current = Arc::new(topology);
            self.epoch.fetch_add(1, Ordering::AcqRel);
        }
        let all = current.nodes();
        drop(current);
        let mut keep = all;
        keep.extend(self.seeds.iter().cloned());
        nodes.retain(&keep);
        Ok(())
    }

    /// Starts a refresh on a background thread (for MOVED, or when one is due); the caller
    /// goes on with the map it has.
    pub(crate) fn refresh_in_background(self: &Arc<Self>, nodes: &Arc<NodePools>) {
        if self.refreshing.load(Ordering::Acquire) {
            return;
        }
        let (map, nodes) = (Arc::clone(self), Arc::clone(nodes));
        let spawned = thread::Builder::new()
            .name("redis-cluster-refresh".into())
            .spawn(move || {
                let _ = map.refresh(&nodes);
            });
        // Without a thread the next error refreshes in line instead.
        drop(spawned);
    }

    /// Starts a background refresh when the periodic interval has passed.
    pub(crate) fn refresh_if_due(self: &Arc<Self>, nodes: &Arc<NodePools>) {
        let Some(every) = self.periodic else {
            return;
        };
        let due = self
            .last_refresh
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .elapsed()
            >= every;
        if due {
            self.refresh_in_background(nodes);
        }
    }
}

struct ClearOnDrop<'a>(&'a AtomicBool);

impl Drop for ClearOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// Asks every node in `addrs` for its view, in parallel, and votes.
fn ask_all(addrs: &[String], nodes: &NodePools) -> Result<Topology> {
    let (tx, rx) = mpsc::channel();
    for addr in addrs {
        let client = match nodes.get(addr) {
            Ok(client) => client,
            Err(e) => {
                let _ = tx.send(Err(e));
                continue;
            }
        };
        let (tx, owned) = (tx.clone(), addr.clone());
        let spawned = thread::Builder::new()
            .name("redis-cluster-topology".into())
            .spawn(move || {
                let _ = tx.send(view_of(&client, &owned));
            });
        if let Err(e) = spawned {
            return Err(Error::Usage(format!(
                "could not start a thread to ask {addr}: {e}"
            )));
        }
    }
    drop(tx);
    let deadline = Instant::now() + ASK_DEADLINE;
    let mut views = Vec::new();
    let mut last_error = None;
    for _ in 0..addrs.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(Ok(view)) => views.push(view),
            Ok(Err(e)) => last_error = Some(e),
            Err(_) => break,
        }
    }
    match vote(views) {
        Some((topology, _)) => Ok(topology),
        None => Err(last_error.unwrap_or_else(|| {
            Error::Usage(format!(
                "no cluster node answered within {ASK_DEADLINE:?} (asked {})",
                addrs.join(", ")
            ))
        })),
    }
}

/// One node's view: `CLUSTER SHARDS`, or `CLUSTER SLOTS` where that is unknown.
fn view_of(client: &crate::client::Client, addr: &str) -> Result<Topology> {
    let host = split_addr(addr).map(|(h, _)| h).unwrap_or(addr);
    let not_cluster = |e: Error| match e.code() {
        Some("ERR") if e.to_string().contains("cluster support disabled") => Error::Usage(format!(
            "{addr} is not a cluster node (cluster support disabled); use Client for it"
        )),
        _ => e,
    };
    match client.execute(["CLUSTER", "SHARDS"]) {
        Ok(reply) => from_shards(&reply, host),
        Err(e)
            if e.code() == Some("ERR") && !e.to_string().contains("cluster support disabled") =>
        {
            let reply: Value = client.execute(["CLUSTER", "SLOTS"]).map_err(not_cluster)?;
            from_slots(&reply, host)
        }
        Err(e) => Err(not_cluster(e)),
    }
}
