//! Redis Cluster: [`ClusterClient`], and the routing rules it follows as plain data.
//!
//! The core takes commands, replies and errors in and hands decisions out, without I/O, so a
//! future async front end follows the same rules: [`key_slot`] (CRC16 and hash tags),
//! [`Topology`] (the slot map from `CLUSTER SHARDS`/`CLUSTER SLOTS`, voted over several
//! nodes), [`Redirect`]/[`decide`] (MOVED, ASK, TRYAGAIN, CLUSTERDOWN … into actions),
//! [`plan()`] (a command and its generated routing into one node, a split by slot or a
//! fan-out) and [`combine`]/[`reassemble`] (many replies into one).

mod aggregate;
mod aim;
mod client;
mod dispatch;
mod nodes;
mod plan;
mod redirect;
mod refresh;
mod slot;
mod split;
mod target;
pub mod topology;

// Pipelines, pub/sub, scan and scripts on a ClusterClient (the cluster2 helper's files).
mod access;
mod pipeline;
mod pubsub;
mod scan;
mod script;

pub use aggregate::{combine, reassemble};
pub use aim::{Nodes, ReadFrom};
pub use client::{ClusterClient, ClusterClientBuilder};
pub use plan::{plan, FanOut, Merge, Part, Plan};
pub use redirect::{decide, Action, Budget, Redirect};
pub use slot::{key_slot, SLOT_COUNT};
pub use target::{OnNode, OnNodes};
pub use topology::{vote, Shard, Topology};

pub use pipeline::ClusterPipeline;
pub use pubsub::{ClusterExceptionHandler, ClusterPubSub, ClusterPubSubWorker, Listen};
pub use scan::ClusterScanIter;
