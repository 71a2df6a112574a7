//! How a cluster client routes each command, read from the spec: the request and response
//! policies of its tips, the hand-written handler `rust.cluster_special` names, and where its
//! keys are (its key specs, with the gaps the server leaves `unknown` or `incomplete` filled
//! from the argument tree). The generator turns this into `Routing` values in `meta.rs`, the
//! validator checks `rust.cluster_special` with it, and `cargo xtask coverage` prints its class.
//!
//! Tips come from the file's own `tips`, which are the first-ranked server's (Valkey 9.1.2 where
//! it knows the command). Where Redis 7.0.15 disagrees, Valkey's are the newer and the stricter
//! or more precise ones: `MSETNX` has no `multi_shard` (an all-or-nothing write cannot be split),
//! `RANDOMKEY` and `SCAN` have a `special` response, `LATENCY RESET` sums its counts, and the
//! `ACL`/`CONFIG` writes go to all nodes.

use crate::spec::{ArgType, Argument, BeginSearch, Command, FindKeys, KeySpec};

/// The hand-written cluster handlers `rust.cluster_special` may name; the runtime's
/// `command_meta::Special` has one variant per name (its UpperCamelCase).
pub const SPECIAL_HANDLERS: &[&str] = &[
    "scan",
    "cluster-scan",
    "random-key",
    "info",
    "function-stats",
    "memory-stats",
    "latency-histogram",
    "per-node",
];

/// The `request_policy` tip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    /// No tip: by key, keyless to a random primary.
    ByKey,
    /// `all_nodes`.
    AllNodes,
    /// `all_shards`.
    AllShards,
    /// `multi_shard`.
    MultiShard,
    /// `special`.
    Special,
}

/// The `response_policy` tip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Response {
    /// No tip.
    Default,
    /// `all_succeeded`.
    AllSucceeded,
    /// `one_succeeded`.
    OneSucceeded,
    /// `agg_logical_and`.
    AggLogicalAnd,
    /// `agg_logical_or`.
    AggLogicalOr,
    /// `agg_min`.
    AggMin,
    /// `agg_max`.
    AggMax,
    /// `agg_sum`.
    AggSum,
    /// `special`.
    Special,
}

/// Both policies of one command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policies {
    /// Where the command goes.
    pub request: Request,
    /// How its replies combine.
    pub response: Response,
}

impl Policies {
    /// Whether either tip says `special`, so a named handler is needed.
    pub fn is_special(&self) -> bool {
        self.request == Request::Special || self.response == Response::Special
    }
}

/// The policies of `command`'s tips; an unknown or repeated policy is an error.
pub fn policies(command: &Command) -> Result<Policies, String> {
    let mut request = None;
    let mut response = None;
    for tip in &command.tips {
        if let Some(value) = tip.strip_prefix("request_policy:") {
            let policy = match value {
                "all_nodes" => Request::AllNodes,
                "all_shards" => Request::AllShards,
                "multi_shard" => Request::MultiShard,
                "special" => Request::Special,
                other => return Err(format!("tips: unknown request policy `{other}`")),
            };
            if request.replace(policy).is_some() {
                return Err("tips: more than one request_policy".into());
            }
        } else if let Some(value) = tip.strip_prefix("response_policy:") {
            let policy = match value {
                "all_succeeded" => Response::AllSucceeded,
                "one_succeeded" => Response::OneSucceeded,
                "agg_logical_and" => Response::AggLogicalAnd,
                "agg_logical_or" => Response::AggLogicalOr,
                "agg_min" => Response::AggMin,
                "agg_max" => Response::AggMax,
                "agg_sum" => Response::AggSum,
                "special" => Response::Special,
                other => return Err(format!("tips: unknown response policy `{other}`")),
            };
            if response.replace(policy).is_some() {
                return Err("tips: more than one response_policy".into());
            }
        }
    }
    Ok(Policies {
        request: request.unwrap_or(Request::ByKey),
        response: response.unwrap_or(Response::Default),
    })
}

/// The handler `rust.cluster_special` names, if any.
pub fn special(command: &Command) -> Option<&str> {
    command.rust.as_ref()?.cluster_special.as_deref()
}

/// Where one key spec's keys are, ready for the runtime's `KeySpec`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keys {
    /// Where the search begins.
    pub begin: Begin,
    /// How keys are found from there.
    pub find: Find,
    /// The spec is flagged `not_key` (shard channels).
    pub not_key: bool,
    /// The word that stands for "no key here" (MIGRATE's empty string).
    pub absent_if: Option<String>,
}

/// The runtime's `BeginSearch`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Begin {
    /// At a position.
    Index(i64),
    /// After a keyword.
    Keyword {
        /// The keyword.
        keyword: String,
        /// Where the search starts; negative from the end.
        startfrom: i64,
    },
    /// After a token, walking the arguments as the server's parser does.
    Token {
        /// The token.
        token: String,
        /// The first position looked at.
        from: usize,
        /// Options with values, and how many.
        skip: Vec<(String, usize)>,
    },
    /// The key names come from data, no argument is one.
    FromData,
}

/// The runtime's `FindKeys`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Find {
    /// A range.
    Range {
        /// The last key relative to the first; negative from the end.
        lastkey: i64,
        /// Distance between keys.
        step: i64,
        /// Fraction limit.
        limit: i64,
    },
    /// A counted list.
    Keynum {
        /// Where the count is.
        keynumidx: i64,
        /// Where the first key is.
        firstkey: i64,
        /// Distance between keys.
        step: i64,
    },
}

/// The keys of `command`, one entry per key spec.
///
/// A spec the server leaves `unknown`, or flags `incomplete`, is filled from the argument tree:
/// when its arguments are patterns, the key names come from data; when it is one tokened key
/// argument, the keys follow that token, found by walking the arguments with the tree's other
/// options stepped over (the server's own parsers do the same for `SORT` and `MIGRATE`). Every
/// server must agree on where the keys are: one table serves them all.
pub fn keys(command: &Command) -> Result<Vec<Keys>, String> {
    for (server, diff) in &command.per_server {
        if let Some(theirs) = &diff.key_specs {
            let same = theirs.len() == command.key_specs.len()
                && theirs
                    .iter()
                    .zip(&command.key_specs)
                    .all(|(a, b)| position(a) == position(b));
            if !same {
                return Err(format!(
                    "per_server.{server}.key_specs: the keys sit elsewhere than in the file's \
                     own key_specs; the routing table holds one layout for every server"
                ));
            }
        }
    }
    let mut out = Vec::new();
    for (index, spec) in command.key_specs.iter().enumerate() {
        let at = |message: String| format!("key_specs[{index}]: {message}");
        let derived = matches!(spec.begin_search, BeginSearch::Unknown {})
            || matches!(spec.find_keys, FindKeys::Unknown {})
            || spec.flags.iter().any(|f| f == "incomplete");
        let (begin, find) = if derived {
            from_arguments(command, index, spec).map_err(at)?
        } else {
            (begin_of(spec).map_err(at)?, find_of(spec).map_err(at)?)
        };
        out.push(Keys {
            begin,
            find,
            not_key: spec.flags.iter().any(|f| f == "not_key"),
            absent_if: absent_word(command, index).map_err(at)?,
        });
    }
    Ok(out)
}

/// The routing class `cargo xtask coverage` prints: `special:<handler>` when the spec names a
/// handler, else the request policy, and for by-key commands whether they have keys.
pub fn class(command: &Command) -> Result<String, String> {
    if let Some(handler) = special(command) {
        return Ok(format!("special:{handler}"));
    }
    let keys = keys(command)?;
    Ok(match policies(command)?.request {
        Request::AllNodes => "all-nodes".into(),
        Request::AllShards => "all-shards".into(),
        Request::MultiShard => "multi-shard".into(),
        Request::Special => "special:?".into(),
        Request::ByKey if keys.is_empty() => "keyless".into(),
        Request::ByKey if keys.iter().all(|k| k.not_key) => "by-channel".into(),
        Request::ByKey => "by-key".into(),
    })
}

/// What of a key spec decides positions (not the access flags, which servers word differently).
fn position(spec: &KeySpec) -> (&BeginSearch, &FindKeys, bool) {
    let not_key = spec.flags.iter().any(|f| f == "not_key");
    (&spec.begin_search, &spec.find_keys, not_key)
}

fn begin_of(spec: &KeySpec) -> Result<Begin, String> {
    match &spec.begin_search {
        BeginSearch::Index { index } if *index > 0 => Ok(Begin::Index(*index)),
        BeginSearch::Index { index } => Err(format!("begin_search index {index} is no argument")),
        BeginSearch::Keyword { keyword, startfrom } => Ok(Begin::Keyword {
            keyword: keyword.to_ascii_uppercase(),
            startfrom: *startfrom,
        }),
        BeginSearch::Unknown {} => Err("begin_search is unknown".into()),
    }
}

fn find_of(spec: &KeySpec) -> Result<Find, String> {
    match &spec.find_keys {
        FindKeys::Range {
            lastkey,
            keystep,
            limit,
        } => {
            if *keystep < 1 || *limit < 0 || (*limit > 1 && *lastkey != -1) {
                return Err(format!(
                    "find_keys range {lastkey}/{keystep}/{limit} is not one the server accepts"
                ));
            }
            Ok(Find::Range {
                lastkey: *lastkey,
                step: *keystep,
                limit: *limit,
            })
        }
        FindKeys::Keynum {
            keynumidx,
            firstkey,
            keystep,
        } => {
            if *keynumidx < 0 || *firstkey < 0 || *keystep < 1 {
                return Err("find_keys keynum with a negative position or step".into());
            }
            Ok(Find::Keynum {
                keynumidx: *keynumidx,
                firstkey: *firstkey,
                step: *keystep,
            })
        }
        FindKeys::Unknown {} => Err("find_keys is unknown".into()),
    }
}

/// Every argument of the tree (all servers' shapes), with its parent.
fn walk<'a>(
    arguments: &'a [Argument],
    parent: Option<&'a Argument>,
    out: &mut Vec<(&'a Argument, Option<&'a Argument>)>,
) {
    for argument in arguments {
        out.push((argument, parent));
        walk(&argument.arguments, Some(argument), out);
    }
}

fn all_arguments(command: &Command) -> Vec<(&Argument, Option<&Argument>)> {
    let mut out = Vec::new();
    walk(&command.arguments, None, &mut out);
    out
}

/// Fills an `unknown` or `incomplete` spec from the arguments that point at it.
fn from_arguments(
    command: &Command,
    index: usize,
    spec: &KeySpec,
) -> Result<(Begin, Find), String> {
    let all = all_arguments(command);
    let mine: Vec<&Argument> = all
        .iter()
        .map(|(a, _)| *a)
        .filter(|a| a.key_spec_index == Some(index))
        .collect();
    if mine.is_empty() {
        return Err("unknown or incomplete, and no argument points at it".into());
    }
    if mine.iter().all(|a| a.ty == ArgType::Pattern) {
        return Ok((
            Begin::FromData,
            Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        ));
    }
    let token = one(mine
        .iter()
        .map(|a| (a.ty == ArgType::Key).then(|| a.token.clone()).flatten()))
    .ok_or("unknown or incomplete, and its arguments are not one tokened key")?;
    let multiple = one(mine.iter().map(|a| Some(a.multiple)))
        .ok_or("its key arguments disagree on `multiple`")?;
    let find = match spec.find_keys {
        FindKeys::Unknown {} => Find::Range {
            lastkey: if multiple { -1 } else { 0 },
            step: 1,
            limit: 0,
        },
        _ => find_of(spec)?,
    };
    let mut skip: Vec<(String, usize)> = Vec::new();
    for (argument, _) in &all {
        let Some(word) = &argument.token else {
            continue;
        };
        if word.eq_ignore_ascii_case(&token) {
            continue;
        }
        let values = value_words(argument)
            .ok_or_else(|| format!("option `{word}` takes a varying number of values"))?;
        let word = word.to_ascii_uppercase();
        match skip.iter().find(|(w, _)| *w == word) {
            Some((_, n)) if *n != values => {
                return Err(format!("option `{word}` takes {n} or {values} values"))
            }
            Some(_) => {}
            None if values > 0 => skip.push((word, values)),
            None => {}
        }
    }
    let from = command.name.split(' ').count() + leading_positionals(command)?;
    Ok((
        Begin::Token {
            token: token.to_ascii_uppercase(),
            from,
            skip,
        },
        find,
    ))
}

/// The one value every item has, or `None` when they differ or have none.
fn one<T: PartialEq>(mut items: impl Iterator<Item = Option<T>>) -> Option<T> {
    let first = items.next()??;
    items.all(|i| i.as_ref() == Some(&first)).then_some(first)
}

/// How many words follow a tokened argument's token, or `None` when that varies.
fn value_words(argument: &Argument) -> Option<usize> {
    if argument.multiple && !argument.multiple_token {
        return None;
    }
    match argument.ty {
        ArgType::PureToken => Some(0),
        ArgType::Block => argument
            .arguments
            .iter()
            .map(|child| fixed_word(child).then_some(1))
            .sum(),
        ArgType::Oneof => argument.arguments.iter().all(fixed_word).then_some(1),
        _ => Some(1),
    }
}

/// Whether the argument is always exactly one word with no token of its own.
fn fixed_word(argument: &Argument) -> bool {
    !argument.optional
        && !argument.multiple
        && argument.token.is_none()
        && !argument.ty.is_container()
        && argument.ty != ArgType::PureToken
}

/// How many required one-word arguments open the command (the same on every server), before
/// which no option can appear.
fn leading_positionals(command: &Command) -> Result<usize, String> {
    let mut counts = command.servers.iter().map(|server| {
        command
            .arguments
            .iter()
            .filter(|a| a.servers.is_empty() || a.servers.contains(server))
            .take_while(|a| {
                !a.optional
                    && !a.multiple
                    && a.token.is_none()
                    && (fixed_word(a)
                        || (a.ty == ArgType::Oneof
                            && a.arguments.iter().all(|c| {
                                fixed_word(c) || (c.ty == ArgType::PureToken && c.token.is_some())
                            })))
            })
            .count()
    });
    let first = counts.next().unwrap_or(0);
    if counts.all(|n| n == first) {
        Ok(first)
    } else {
        Err("servers disagree on the leading arguments".into())
    }
}

/// The pure-token alternative of spec `index`'s key, when the key sits in a `oneof` with one.
fn absent_word(command: &Command, index: usize) -> Result<Option<String>, String> {
    let mut words = Vec::new();
    for (argument, parent) in all_arguments(command) {
        if argument.key_spec_index != Some(index) {
            continue;
        }
        let Some(parent) = parent.filter(|p| p.ty == ArgType::Oneof) else {
            continue;
        };
        for sibling in &parent.arguments {
            if sibling.ty == ArgType::PureToken {
                if let Some(token) = &sibling.token {
                    if !words.contains(token) {
                        words.push(token.clone());
                    }
                }
            }
        }
    }
    match words.len() {
        0 => Ok(None),
        1 => Ok(words.pop()),
        _ => Err(format!(
            "its key's alternatives are several words: {words:?}"
        )),
    }
}
