//! Turning a command line and its generated [`Routing`](crate::command::Routing) into a plan: which
//! node(s) get what, and how their replies become one. Plain data in, decisions out.

use crate::command::{CommandMeta, RequestPolicy, ResponsePolicy, Special};
use crate::error::{Error, Result};

use super::slot::key_slot;

/// Where a command goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Plan {
    /// To the owner of `slot`; a replica may serve it when `read_only`.
    Slot {
        /// The slot every key hashes to.
        slot: u16,
        /// The command only reads.
        read_only: bool,
    },
    /// No key: to one node (a random primary unless the caller names one).
    AnyNode {
        /// The command only reads.
        read_only: bool,
    },
    /// Split by slot (MGET, DEL, MSET …): each part to its slot's owner, replies merged.
    Split {
        /// The parts, in the order their first key appears.
        parts: Vec<Part>,
        /// How the parts' replies become one.
        merge: Merge,
        /// How many key groups the whole command has.
        groups: usize,
        /// The command only reads.
        read_only: bool,
    },
    /// To every primary or every node; replies combined by `response`.
    FanOut {
        /// Which nodes.
        to: FanOut,
        /// How the replies become one.
        response: ResponsePolicy,
    },
    /// A hand-written handler.
    Special(Special),
}

/// Which nodes a fan-out reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FanOut {
    /// Every primary (the `all_shards` policy).
    Primaries,
    /// Every node, replicas included (the `all_nodes` policy).
    AllNodes,
}

/// One slot's share of a split command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    /// The slot its keys hash to.
    pub slot: u16,
    /// Indices into the original `argv` making up this part's command line, in order.
    pub args: Vec<usize>,
    /// When the command counts its keys: the position in `args` of the count, and the count
    /// this part sends instead.
    pub count: Option<(usize, usize)>,
    /// Which key groups of the original (0-based, in argument order) this part carries.
    pub groups: Vec<usize>,
}

/// How the replies of a split command become one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Merge {
    /// Array replies put back in argument order (MGET).
    InOrder,
    /// By the command's response policy (sum for DEL/EXISTS, all-succeeded for MSET).
    Policy(ResponsePolicy),
}

/// Plans `argv` (`argv[0]` the command name) whose table entry is `meta` (`None`: a command
/// the spec does not know, sent to any node; a MOVED reply then finds its owner).
///
/// A command that must run on one slot but whose keys hash to several fails here, before
/// anything is sent, with an error naming the keys' slots.
pub fn plan(meta: Option<&CommandMeta>, argv: &[&[u8]]) -> Result<Plan> {
    let Some(meta) = meta else {
        return Ok(Plan::AnyNode { read_only: false });
    };
    let routing = meta.routing();
    let read_only = meta.is_read_only();
    match routing.request {
        RequestPolicy::AllNodes => {
            return Ok(Plan::FanOut {
                to: FanOut::AllNodes,
                response: routing.response,
            })
        }
        RequestPolicy::AllShards => {
            return Ok(Plan::FanOut {
                to: FanOut::Primaries,
                response: routing.response,
            })
        }
        RequestPolicy::Special(special) => return Ok(Plan::Special(special)),
        RequestPolicy::MultiShard => {
            if let Some(plan) = split(meta, argv, read_only)? {
                return Ok(plan);
            }
        }
        RequestPolicy::ByKey => {}
    }
    one_slot(meta, argv, read_only)
}

/// Every key must hash to one slot.
fn one_slot(meta: &CommandMeta, argv: &[&[u8]], read_only: bool) -> Result<Plan> {
    let mut first: Option<(usize, u16)> = None;
    let mut clash: Option<(usize, u16)> = None;
    meta.routing().for_each_key(argv, |index| {
        let slot = key_slot(argv[index]);
        match first {
            None => first = Some((index, slot)),
            Some((_, s)) if s != slot && clash.is_none() => clash = Some((index, slot)),
            Some(_) => {}
        }
    })?;
    match (first, clash) {
        (None, _) => Ok(Plan::AnyNode { read_only }),
        (Some((_, slot)), None) => Ok(Plan::Slot { slot, read_only }),
        (Some((a, sa)), Some((b, sb))) => Err(Error::Usage(format!(
            "{}: its keys must all hash to one slot in a cluster, but `{}` is in slot {sa} and \
             `{}` in slot {sb}; give related keys a common hash tag (`{{user1}}:a`, \
             `{{user1}}:b`)",
            meta.name,
            String::from_utf8_lossy(argv[a]),
            String::from_utf8_lossy(argv[b]),
        ))),
    }
}

/// Splits a multi-shard command by slot along the layout the generated routing gives
/// ([`Routing::key_groups`](crate::command::Routing::key_groups)); `None` when the command
/// cannot be split (then it must run on one slot).
fn split(meta: &CommandMeta, argv: &[&[u8]], read_only: bool) -> Result<Option<Plan>> {
    let Some(layout) = meta.routing().key_groups(argv)? else {
        return Ok(None);
    };
    if layout.groups == 0 {
        return Ok(Some(Plan::AnyNode { read_only }));
    }
    let mut parts: Vec<Part> = Vec::new();
    for ordinal in 0..layout.groups {
        let key = layout.key(ordinal);
        let slot = key_slot(argv[key]);
        let part = match parts.iter().position(|p| p.slot == slot) {
            Some(i) => &mut parts[i],
            None => {
                parts.push(Part {
                    slot,
                    args: (0..layout.first).collect(),
                    count: None,
                    groups: Vec::new(),
                });
                parts.last_mut().expect("just pushed")
            }
        };
        part.args.extend(key..key + layout.width);
        part.groups.push(ordinal);
    }
    if parts.len() == 1 {
        return Ok(Some(Plan::Slot {
            slot: parts[0].slot,
            read_only,
        }));
    }
    for part in &mut parts {
        // Options after the keys (MSETEX's EX 10) apply to every part.
        part.args.extend(layout.tail()..argv.len());
        // The key count sits before the keys, where argument positions and part positions agree.
        part.count = layout.count_at.map(|at| (at, part.groups.len()));
    }
    let merge = match meta.routing().response {
        ResponsePolicy::Default => Merge::InOrder,
        other => Merge::Policy(other),
    };
    Ok(Some(Plan::Split {
        groups: layout.groups,
        parts,
        merge,
        read_only,
    }))
}

#[cfg(test)]
mod tests;
