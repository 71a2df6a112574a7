//! What a cluster client aims at: where read-only commands go ([`ReadFrom`]) and the sets
//! of nodes a keyless command can be sent to ([`Nodes`]).

/// Where read-only commands go.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReadFrom {
    /// Every command goes to the slot's primary (the default): reads see every write.
    #[default]
    Primary,
    /// Read-only commands go to the shard's replicas in turn (which may lag behind the
    /// primary); to the primary when the shard has no replica online or a replica fails.
    PreferReplica,
    /// Read-only commands go in turn to the primary and every replica of the shard.
    PrimaryAndReplicas,
}

/// A set of nodes to aim a command at with [`ClusterClient::on`](super::ClusterClient::on).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nodes {
    /// Every primary.
    Primaries,
    /// Every replica.
    Replicas,
    /// Every node.
    All,
}
