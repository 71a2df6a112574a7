//! The shapes of a command's cluster routing, as the generator writes them into every
//! [`CommandMeta`](crate::command_meta::CommandMeta).

/// How a cluster client routes one command, from the spec's key specs and request/response tips.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Routing {
    /// Where the keys are (the spec's key specs, in order). Empty for keyless commands.
    pub keys: &'static [KeySpec],
    /// The request policy (`request_policy` tip; [`RequestPolicy::ByKey`] when absent).
    pub request: RequestPolicy,
    /// The response policy (`response_policy` tip; [`ResponsePolicy::Default`] when absent).
    pub response: ResponsePolicy,
}

/// Where a command goes in a cluster (the `request_policy` tip).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestPolicy {
    /// To the node owning the keys' slot; keyless → one random primary (or the node the caller
    /// names).
    ByKey,
    /// To every node, primaries and replicas.
    AllNodes,
    /// To every primary.
    AllShards,
    /// Split by slot, sent to each owner, reassembled (DEL, EXISTS, MGET, MSET, TOUCH, UNLINK,
    /// MSETEX …); [`Routing::key_group`] tells how the arguments split.
    MultiShard,
    /// A named hand-written handler.
    Special(Special),
}

/// How the replies of a command sent to several nodes become one (the `response_policy` tip).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponsePolicy {
    /// No tip: one node's reply as is; for a fan-out, the replies combined (arrays
    /// concatenated, maps merged) as the server documents for commands without a policy.
    Default,
    /// Every node must succeed; the reply is any one of theirs (they are equal).
    AllSucceeded,
    /// The first success wins; an error only when every node failed.
    OneSucceeded,
    /// Element-wise logical AND of integer (0/1) arrays.
    AggLogicalAnd,
    /// Element-wise logical OR of integer (0/1) arrays.
    AggLogicalOr,
    /// The minimum of the integer replies.
    AggMin,
    /// The maximum of the integer replies.
    AggMax,
    /// The sum of the integer replies.
    AggSum,
    /// A named hand-written handler.
    Special(Special),
}

/// One variant per hand-written cluster handler. The spec names it in the project-owned field
/// `rust.cluster_special`, which the generator requires exactly on commands whose tips say
/// `special`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Special {
    /// `SCAN`: a cursor walk over every primary in turn.
    Scan,
    /// Valkey's `CLUSTERSCAN`: a cluster-wide cursor the server encodes.
    ClusterScan,
    /// `RANDOMKEY`: a random primary's answer, trying others while one has no keys.
    RandomKey,
    /// `INFO`: each node's report, kept per node (sections do not add up).
    Info,
    /// `FUNCTION STATS`: the running script from whichever primary runs one, engines from any.
    FunctionStats,
    /// `MEMORY STATS`: per-node statistics, kept per node.
    MemoryStats,
    /// `LATENCY HISTOGRAM`: per-command histograms, kept per node.
    LatencyHistogram,
    /// Reports that only make sense per node (`LATENCY DOCTOR/GRAPH/HISTORY/LATEST`,
    /// `MEMORY DOCTOR`, `MEMORY MALLOC-STATS`): every node's reply, keyed by node.
    PerNode,
}

impl Special {
    /// Every handler, in declaration order.
    pub const ALL: [Special; 8] = [
        Special::Scan,
        Special::ClusterScan,
        Special::RandomKey,
        Special::Info,
        Special::FunctionStats,
        Special::MemoryStats,
        Special::LatencyHistogram,
        Special::PerNode,
    ];

    /// The handler's name as the spec's `rust.cluster_special` writes it (`random-key`).
    pub fn name(self) -> &'static str {
        match self {
            Special::Scan => "scan",
            Special::ClusterScan => "cluster-scan",
            Special::RandomKey => "random-key",
            Special::Info => "info",
            Special::FunctionStats => "function-stats",
            Special::MemoryStats => "memory-stats",
            Special::LatencyHistogram => "latency-histogram",
            Special::PerNode => "per-node",
        }
    }
}

/// One key spec: where a search for keys begins and how keys are found from there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeySpec {
    /// Where the search begins.
    pub begin: BeginSearch,
    /// How keys are found from there.
    pub find: FindKeys,
    /// The server flags the spec `not_key`: the arguments route by their slot like keys (shard
    /// channels of `SPUBLISH`/`SSUBSCRIBE`, `CLUSTERSCAN`'s cursor) but are no keys, so
    /// `COMMAND GETKEYS` leaves them out.
    pub not_key: bool,
    /// A word that, found where this spec's key would be, means "no key here": the pure-token
    /// alternative of the key in the spec's argument tree (`MIGRATE`'s empty string, sent when
    /// the keys follow `KEYS`). Such a key and the keys of the other specs are alternatives:
    /// a command line with both is refused, as the server does.
    pub absent_if: Option<&'static str>,
}

/// Where the search for a spec's keys begins, as positions in `argv` (`argv[0]` is the command
/// name).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BeginSearch {
    /// At this position.
    Index(usize),
    /// After the first match of `keyword` (ignoring case), searching from `startfrom` toward
    /// the end; a negative `startfrom` counts from the end and searches toward the start.
    Keyword {
        /// The keyword, upper case.
        keyword: &'static str,
        /// Where the search starts.
        startfrom: i32,
    },
    /// After `token`, found by walking the arguments from position `from` the way the server's
    /// parser does: a word in `skip` is an option followed by that many values, which are
    /// stepped over (so a value that happens to spell `token` is not taken for it). Derived from
    /// the argument tree where the server's spec is `unknown` or `incomplete` (`SORT … STORE`,
    /// `MIGRATE … KEYS`).
    Token {
        /// The token the keys follow.
        token: &'static str,
        /// The first position the walk looks at.
        from: usize,
        /// Options and how many values follow each.
        skip: &'static [(&'static str, usize)],
    },
    /// No argument is a key: the key names come from data (`SORT`'s `BY`/`GET` patterns).
    FromData,
}

/// How keys are found once the search has begun.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FindKeys {
    /// A range: the last key is `lastkey` after the first (negative: counted from the end of
    /// `argv`; with `limit` > 1, only the first 1/limit of the rest), every `step`-th a key.
    Range {
        /// The last key, relative to the first; negative counts from the end.
        lastkey: i32,
        /// The distance between keys.
        step: usize,
        /// With `lastkey` -1: 0 or 1 for all remaining arguments, N for the first 1/N of them.
        limit: usize,
    },
    /// An argument holds the number of keys.
    Keynum {
        /// Where the count is, relative to the begin position.
        keynumidx: usize,
        /// Where the first key is, relative to the begin position.
        firstkey: usize,
        /// The distance between keys.
        step: usize,
    },
}
