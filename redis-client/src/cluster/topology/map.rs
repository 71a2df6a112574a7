//! The slot map itself: [`Shard`]s, the [`Topology`] that maps every slot to one, and the
//! [`vote`] between several nodes' views.

use std::collections::BTreeSet;

use crate::cluster::slot::SLOT_COUNT;

/// No shard serves the slot.
const UNCOVERED: u16 = u16::MAX;

/// One shard: the primary that owns its slots and the replicas that copy it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shard {
    /// The primary's address, `host:port`.
    pub primary: String,
    /// The replicas' addresses that are online, sorted.
    pub replicas: Vec<String>,
}

/// Which shard serves each slot.
#[derive(Clone, PartialEq, Eq)]
pub struct Topology {
    shards: Vec<Shard>,
    /// Per slot: the index into `shards`, or `UNCOVERED`.
    slots: Vec<u16>,
}

impl std::fmt::Debug for Topology {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Topology")
            .field("shards", &self.shards)
            .field("ranges", &self.ranges())
            .finish()
    }
}

impl Topology {
    /// A map from `(first, last, shard)` slot ranges (inclusive); later ranges win on overlap.
    pub fn from_ranges(ranges: Vec<(u16, u16, Shard)>) -> Topology {
        let mut topology = Topology {
            shards: Vec::new(),
            slots: vec![UNCOVERED; usize::from(SLOT_COUNT)],
        };
        for (first, last, mut shard) in ranges {
            shard.replicas.sort();
            shard.replicas.dedup();
            let index = topology.shard_index(shard);
            let last = last.min(SLOT_COUNT - 1);
            for slot in first..=last {
                topology.slots[usize::from(slot)] = index;
            }
        }
        topology.drop_unused_shards();
        topology
    }

    fn shard_index(&mut self, shard: Shard) -> u16 {
        match self.shards.iter().position(|s| s.primary == shard.primary) {
            Some(i) => {
                self.shards[i] = shard;
                i as u16
            }
            None => {
                self.shards.push(shard);
                (self.shards.len() - 1) as u16
            }
        }
    }

    /// The shard serving `slot`.
    pub fn shard_of(&self, slot: u16) -> Option<&Shard> {
        let index = *self.slots.get(usize::from(slot))?;
        self.shards.get(usize::from(index))
    }

    /// The primary owning `slot`.
    pub fn primary_of(&self, slot: u16) -> Option<&str> {
        self.shard_of(slot).map(|s| s.primary.as_str())
    }

    /// Every shard that owns at least one slot.
    pub fn shards(&self) -> &[Shard] {
        &self.shards
    }

    /// Every address: primaries and replicas, sorted, without repeats.
    pub fn nodes(&self) -> Vec<String> {
        let all: BTreeSet<&String> = self
            .shards
            .iter()
            .flat_map(|s| std::iter::once(&s.primary).chain(&s.replicas))
            .collect();
        all.into_iter().cloned().collect()
    }

    /// Whether every slot has an owner.
    pub fn is_complete(&self) -> bool {
        self.slots.iter().all(|&s| s != UNCOVERED)
    }

    /// The covered slots as `(first, last, primary)` ranges, in slot order.
    pub fn ranges(&self) -> Vec<(u16, u16, &str)> {
        let mut ranges: Vec<(u16, u16, &str)> = Vec::new();
        for (slot, &index) in self.slots.iter().enumerate() {
            let Some(shard) = self.shards.get(usize::from(index)) else {
                continue;
            };
            let slot = slot as u16;
            match ranges.last_mut() {
                Some((_, last, primary)) if *last + 1 == slot && *primary == shard.primary => {
                    *last = slot;
                }
                _ => ranges.push((slot, slot, &shard.primary)),
            }
        }
        ranges
    }

    /// Applies a `MOVED slot addr`: `addr` owns `slot` now. A known primary keeps its replicas;
    /// an unknown address (a replica promoted, a new node) becomes a shard of its own until the
    /// next refresh tells more.
    pub fn move_slot(&mut self, slot: u16, addr: &str) {
        if usize::from(slot) >= self.slots.len() {
            return;
        }
        let index = match self.shards.iter().position(|s| s.primary == addr) {
            Some(i) => i as u16,
            None => {
                // A replica that became primary keeps its former siblings as replicas.
                let replicas = self
                    .shards
                    .iter()
                    .find(|s| s.replicas.iter().any(|r| r == addr))
                    .map(|s| {
                        let mut r: Vec<String> =
                            s.replicas.iter().filter(|r| *r != addr).cloned().collect();
                        r.push(s.primary.clone());
                        r.sort();
                        r
                    })
                    .unwrap_or_default();
                self.shard_index(Shard {
                    primary: addr.to_string(),
                    replicas,
                })
            }
        };
        self.slots[usize::from(slot)] = index;
        self.drop_unused_shards();
    }

    /// Removes shards no slot points at, renumbering the rest.
    fn drop_unused_shards(&mut self) {
        let mut used = vec![false; self.shards.len()];
        for &s in &self.slots {
            if let Some(u) = used.get_mut(usize::from(s)) {
                *u = true;
            }
        }
        if used.iter().all(|&u| u) {
            return;
        }
        let mut renumber = vec![UNCOVERED; self.shards.len()];
        let mut kept = Vec::new();
        for (i, shard) in std::mem::take(&mut self.shards).into_iter().enumerate() {
            if used[i] {
                renumber[i] = kept.len() as u16;
                kept.push(shard);
            }
        }
        for s in &mut self.slots {
            if *s != UNCOVERED {
                *s = renumber[usize::from(*s)];
            }
        }
        self.shards = kept;
    }

    /// Whether two maps agree on every slot's primary and every shard's replicas, whatever the
    /// order the nodes listed the shards in.
    pub fn same_as(&self, other: &Topology) -> bool {
        let shard = |t: &Topology, s: u16| t.shards.get(usize::from(s)).cloned();
        self.slots.len() == other.slots.len()
            && self
                .slots
                .iter()
                .zip(&other.slots)
                .all(|(&a, &b)| shard(self, a) == shard(other, b))
    }
}

/// Picks the view most nodes share (ties: the first one seen); `None` without any view.
///
/// Several nodes are asked because one that was partitioned off, or just lost a failover, can
/// describe a cluster that no longer exists.
pub fn vote(views: Vec<Topology>) -> Option<(Topology, usize)> {
    let mut tally: Vec<(Topology, usize)> = Vec::new();
    for view in views {
        match tally.iter_mut().find(|(t, _)| t.same_as(&view)) {
            Some((_, count)) => *count += 1,
            None => tally.push((view, 1)),
        }
    }
    let mut best: Option<(Topology, usize)> = None;
    for (view, count) in tally {
        // A complete map beats an incomplete one with the same support.
        let better = match &best {
            None => true,
            Some((b, c)) => count > *c || (count == *c && view.is_complete() && !b.is_complete()),
        };
        if better {
            best = Some((view, count));
        }
    }
    best
}
