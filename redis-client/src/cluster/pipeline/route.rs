//! Where each command of a cluster pipeline goes: the slot of its keys (from the generated
//! key positions), or the node an `ASK` named for it.

use super::super::plan::{plan, Merge, Part, Plan};
use super::super::ClusterClient;
use super::send::Share;
use super::split::group_by_node;
use crate::command::CommandMeta;
use crate::connection::request::FrameArgs;
use crate::error::{Error, Result};
use crate::pipeline::queue::Queue;

/// Where one command goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Target {
    /// The slot of its keys; `None` for a keyless command (any primary).
    pub(super) slot: Option<u16>,
    /// The node an `ASK` sent it to, for its next attempt only.
    ask: Option<String>,
}

impl Target {
    /// Sends the next attempt to `addr` after `ASKING`.
    pub(super) fn ask(&mut self, addr: String) {
        self.ask = Some(addr);
    }

    /// Routes the next attempt by the slot map again.
    pub(super) fn clear_ask(&mut self) {
        self.ask = None;
    }
}

/// How one command of a pipeline is sent: to one node, or split by slot into parts.
pub(super) enum Layout {
    /// To the primary of this slot (`None`: no keys, any primary).
    One(Option<u16>),
    /// Split by slot (MGET, DEL, MSET … whose keys span slots), replies merged back.
    Split {
        parts: Vec<Part>,
        merge: Merge,
        groups: usize,
    },
}

fn name_of(argv: &[&[u8]]) -> String {
    String::from_utf8_lossy(argv.first().copied().unwrap_or_default()).to_uppercase()
}

/// How `argv` is sent, from the generated routing; an error, before anything is sent, for a
/// command that must go to several nodes and be combined (a fan-out, a special handler): the
/// [`ClusterClient`] runs those.
pub(super) fn layout(meta: Option<&CommandMeta>, argv: &[&[u8]]) -> Result<Layout> {
    match plan(meta, argv)? {
        Plan::Slot { slot, .. } => Ok(Layout::One(Some(slot))),
        Plan::AnyNode { .. } => Ok(Layout::One(None)),
        Plan::Split { parts, .. } if parts.len() == 1 => Ok(Layout::One(Some(parts[0].slot))),
        Plan::Split {
            parts,
            merge,
            groups,
            ..
        } => Ok(Layout::Split {
            parts,
            merge,
            groups,
        }),
        Plan::FanOut { .. } | Plan::Special(_) => Err(Error::Usage(format!(
            "{}: it goes to several nodes of a cluster and their replies are combined, which a \
             cluster pipeline does not do; run it on the ClusterClient",
            name_of(argv)
        ))),
    }
}

/// The one slot all keys of `argv` hash to (`None`: no keys), as a transaction needs; an
/// error naming the command when it would go to several nodes.
pub(crate) fn slot_of(meta: Option<&CommandMeta>, argv: &[&[u8]]) -> Result<Option<u16>> {
    match layout(meta, argv)? {
        Layout::One(slot) => Ok(slot),
        Layout::Split { parts, .. } => Err(Error::Usage(format!(
            "{}: its keys lie in {} slots, and a transaction runs on one node; give the keys \
             a common hash tag",
            name_of(argv),
            parts.len()
        ))),
    }
}

/// How command `index` is sent; `argv` is a scratch buffer (kept to spare an allocation per
/// command) holding its arguments afterwards.
pub(super) fn layout_of<'q>(
    queue: &'q Queue,
    index: usize,
    argv: &mut Vec<&'q [u8]>,
) -> Result<Layout> {
    argv.clear();
    argv.extend(FrameArgs::new(queue.frame(index)));
    layout(queue.entry(index).info.meta, argv).map_err(|e| match e {
        Error::Usage(message) => {
            Error::Usage(format!("pipeline command #{}: {message}", index + 1))
        }
        other => other,
    })
}

impl Target {
    /// A command for the primary of `slot` (`None`: any primary).
    pub(super) fn of(slot: Option<u16>) -> Target {
        Target { slot, ask: None }
    }
}

/// The commands at `pending` grouped by the node each goes to now (the primary of its slot in
/// the current map, or where an `ASK` sent it), with each node's client.
///
/// The map is read once for the round, and nodes are told apart by address, so routing a
/// command costs a slot lookup, not a client lookup.
pub(super) fn shares(
    cluster: &ClusterClient,
    targets: &[Target],
    pending: &[usize],
) -> Result<Vec<Share>> {
    let topology = cluster.topology();
    // Keyless commands all go to one primary, chosen at random once per round.
    let keyless = pending
        .iter()
        .any(|&i| targets[i].slot.is_none() && targets[i].ask.is_none());
    let any = if keyless {
        Some(cluster.primary_addr(None)?)
    } else {
        None
    };
    let groups = group_by_node(pending.iter().copied(), |index| {
        let target = &targets[index];
        match (&target.ask, target.slot) {
            (Some(addr), _) => Ok((addr.as_str(), true)),
            (None, Some(slot)) => match topology.primary_of(slot) {
                Some(addr) => Ok((addr, false)),
                None => cluster.primary_addr(Some(slot)).map(|_| ("", false)),
            },
            (None, None) => Ok((any.as_deref().unwrap_or_default(), false)),
        }
    })?;
    groups
        .into_iter()
        .map(|group| {
            let (addr, asking) = group.node;
            Ok(Share {
                client: cluster.node_client(addr)?,
                commands: group.commands,
                asking,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::key_slot;
    use crate::command::lookup_args;

    fn slot(args: &[&str]) -> Result<Option<u16>> {
        let argv: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        slot_of(lookup_args(&argv), &argv)
    }

    #[test]
    fn one_node_per_command_from_the_generated_routing() {
        assert_eq!(slot(&["GET", "a"]).unwrap(), Some(key_slot(b"a")));
        assert_eq!(
            slot(&["MGET", "{t}a", "{t}b"]).unwrap(),
            Some(key_slot(b"t")),
            "a multi-key command within one slot"
        );
        assert_eq!(slot(&["ECHO", "x"]).unwrap(), None, "keyless: any primary");
    }

    #[test]
    fn commands_for_several_nodes_are_split_or_refused_naming_them() {
        let err = slot(&["MGET", "a", "b", "c"]).unwrap_err();
        assert!(
            matches!(&err, Error::Usage(m) if m.starts_with("MGET") && m.contains("hash tag")),
            "{err}"
        );
        let argv: Vec<&[u8]> = vec![b"MGET", b"a", b"b", b"c"];
        let split = layout(lookup_args(&argv), &argv).unwrap();
        assert!(
            matches!(split, Layout::Split { groups: 3, .. }),
            "a pipeline splits it"
        );
        let err = slot(&["DBSIZE"]).unwrap_err();
        assert!(
            matches!(&err, Error::Usage(m) if m.contains("several nodes")),
            "{err}"
        );
    }
}
