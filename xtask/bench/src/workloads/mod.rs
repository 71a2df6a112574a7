//! The workloads of the issue, each with one runner per client that has it.

mod big_reply;
pub mod cluster;
mod encode;
mod parse;
mod pipeline;
mod pubsub;
mod round_trip;
mod shared;

use std::time::Duration;

use crate::peers::{Peer, Target};
use crate::redis_benchmark::RedisBenchmark;

pub use crate::measure::Runner;

/// The 16-byte key of the single-key workloads; redis-benchmark uses this very key when it is
/// not told to randomise keys (`-r`), so all clients hit the same entry.
pub const KEY: &str = "key:__rand_int__";
/// redis-benchmark's `INCR` key.
pub const COUNTER: &str = "counter:__rand_int__";
/// The 64-byte value, as redis-benchmark's `-d 64` writes it.
pub const VALUE: &[u8; 64] = &[b'x'; 64];

/// A family of workloads sharing targets (see the report).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// One command at a time on one connection.
    RoundTrip,
    /// Batches of commands written together, replies read together.
    Pipeline,
    /// One command whose reply is large.
    BigReply,
    /// Threads sharing one pooled client.
    Shared,
    /// A subscriber taking in published messages.
    PubSub,
    /// Encoding a command, no I/O.
    Encode,
    /// Parsing replies, no I/O.
    Parse,
    /// Cluster: one command at a time, each to its key's primary.
    ClusterRoundTrip,
    /// Cluster: pipelines over random keys, split by node.
    ClusterPipeline,
    /// Cluster: MGET whose keys span every primary.
    ClusterMget,
    /// Cluster: threads sharing one cluster client.
    ClusterShared,
}

impl Group {
    /// The name shown in tables.
    pub fn title(self) -> &'static str {
        match self {
            Group::RoundTrip => "round trip",
            Group::Pipeline => "pipeline",
            Group::BigReply => "big reply",
            Group::Shared => "8 threads, shared client",
            Group::PubSub => "pubsub",
            Group::Encode => "encode",
            Group::Parse => "parse",
            Group::ClusterRoundTrip => "cluster round trip",
            Group::ClusterPipeline => "cluster pipeline",
            Group::ClusterMget => "cluster MGET",
            Group::ClusterShared => "cluster, 8 threads, shared client",
        }
    }

    /// Whether its workloads talk to the server (all but encode and parse), so that the
    /// server's CPU belongs next to theirs.
    pub fn uses_server(self) -> bool {
        !matches!(self, Group::Encode | Group::Parse)
    }
}

/// One workload: what it is and a runner per client.
pub struct Workload {
    /// Its family.
    pub group: Group,
    /// What it does, e.g. `GET` or `pipeline of 100 SET`.
    pub name: String,
    /// How long each run lasts.
    pub budget: Duration,
    /// One runner per client, redis-client first.
    pub runners: Vec<(Peer, Runner)>,
}

impl Workload {
    /// `group: name`, what `--only` filters match against.
    pub fn full_name(&self) -> String {
        format!("{}: {}", self.group.title(), self.name)
    }
}

/// What building the workloads needs.
pub struct Context {
    /// The server, when network workloads should run.
    pub target: Option<Target>,
    /// The redis-benchmark peer, when it should run.
    pub redis_benchmark: Option<RedisBenchmark>,
    /// Time per run of a network workload.
    pub net_budget: Duration,
    /// Time per run of an encode or parse workload.
    pub micro_budget: Duration,
    /// A cluster: when set, only the cluster workloads run.
    pub cluster: Option<cluster::ClusterTarget>,
}

/// Every workload the context allows whose full name contains one of `only` (all when empty;
/// case does not matter), with its server data written.
pub fn build(ctx: &Context, only: &[String]) -> Result<Vec<Workload>, String> {
    let mut all = Vec::new();
    if let Some(target) = &ctx.cluster {
        all.extend(cluster::workloads(target, ctx.net_budget)?);
    } else if let Some(target) = &ctx.target {
        let rb = ctx.redis_benchmark.as_ref();
        let net = ctx.net_budget;
        all.extend(round_trip::workloads(target, rb, net)?);
        all.extend(pipeline::workloads(target, rb, net)?);
        all.extend(big_reply::workloads(target, rb, net)?);
        all.extend(shared::workloads(target, rb, net)?);
        all.extend(pubsub::workloads(target, rb, net)?);
    }
    if ctx.cluster.is_none() {
        all.extend(encode::workloads(ctx.micro_budget));
        all.extend(parse::workloads(ctx.micro_budget));
    }
    let only: Vec<String> = only.iter().map(|f| f.to_ascii_lowercase()).collect();
    all.retain(|w| {
        let name = w.full_name().to_ascii_lowercase();
        only.is_empty() || only.iter().any(|f| name.contains(f.as_str()))
    });
    Ok(all)
}

/// Formats a redis-client error as `redis-client <what>: <error>`.
fn ours(what: &'static str) -> impl Fn(redis_client::Error) -> String {
    move |e| format!("redis-client {what}: {e}")
}

/// Formats a redis-rs error as `redis-rs <what>: <error>`.
fn theirs(what: &'static str) -> impl Fn(redis::RedisError) -> String {
    move |e| format!("redis-rs {what}: {e}")
}
