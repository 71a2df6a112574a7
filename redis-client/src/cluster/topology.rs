//! The slot map: which shard (a primary and its replicas) serves each of the 16384 slots, built
//! from one node's `CLUSTER SHARDS` (or `CLUSTER SLOTS`) reply, and a vote between several
//! nodes' views so one stale node cannot mislead the client.

mod map;
mod parse;

pub use map::{vote, Shard, Topology};
pub use parse::{from_shards, from_slots};

#[cfg(test)]
mod tests;
