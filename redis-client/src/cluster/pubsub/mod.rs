//! [`ClusterPubSub`]: publish/subscribe on a cluster, with [`PubSub`](crate::pubsub::PubSub)'s API.

mod book;
mod shards;
mod subscriber;
mod worker;

pub use subscriber::{ClusterPubSub, Listen};
pub use worker::{ClusterExceptionHandler, ClusterPubSubWorker};
