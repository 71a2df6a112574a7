//! What the cluster tests share: a client on a harness cluster, and both server kinds.

#![allow(dead_code)]

use redis_client::cluster::{ClusterClient, ClusterClientBuilder};
use redis_test_harness::{ClusterSetup, ServerKind};

/// Both kinds every cluster test runs against.
pub const KINDS: [ServerKind; 2] = [ServerKind::Redis, ServerKind::Valkey];

/// A cluster client seeded with one node only (the others are discovered).
pub fn client(cluster: &ClusterSetup) -> ClusterClient {
    builder(cluster).build().unwrap()
}

/// A builder seeded with the first node.
pub fn builder(cluster: &ClusterSetup) -> ClusterClientBuilder {
    ClusterClient::builder([cluster.nodes()[0].url()])
}

pub mod load;

/// `host:port` of node `index`.
pub fn addr(cluster: &ClusterSetup, index: usize) -> String {
    cluster.nodes()[index].addr().to_string()
}
