//! What a [`Lock`](super::Lock) runs its scripts on.

use crate::client::Client;
use crate::cluster::ClusterClient;
use crate::error::Result;
use crate::resp::{FromValue, ToArgs};
use crate::script::Invocation;

/// What a lock runs its scripts on: one server's client, or a cluster's (which sends them to
/// the primary owning the lock's key).
#[derive(Clone)]
pub(super) enum Holder {
    Client(Client),
    Cluster(ClusterClient),
}

impl Holder {
    pub(super) fn call<T: FromValue>(&self, invocation: Invocation<'_>) -> Result<T> {
        match self {
            Holder::Client(client) => invocation.call(client),
            Holder::Cluster(cluster) => invocation.call(cluster),
        }
    }

    pub(super) fn query<T: FromValue>(&self, args: impl ToArgs) -> Result<T> {
        match self {
            Holder::Client(client) => client.query(args),
            Holder::Cluster(cluster) => cluster.query(args),
        }
    }
}
