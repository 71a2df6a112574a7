//! Pipelines holding commands whose keys span slots (`MGET a b c` over three nodes): the
//! commands are laid out again with each such command replaced by its parts, one per slot,
//! and the parts' replies are put back together into the command's own reply.

use super::super::aggregate::reassemble;
use super::super::plan::{Merge, Part};
use super::super::split::part_command;
use super::route::{Layout, Target};
use crate::client::Client;
use crate::config::Protocol;
use crate::connection::request::FrameArgs;
use crate::error::Result;
use crate::pipeline::queue::Queue;
use crate::resp::Value;

/// Where one command of the pipeline went in the laid-out queue.
enum Piece {
    /// As it was, at this position.
    One(usize),
    /// As its parts, from this position on.
    Split {
        first: usize,
        parts: Vec<Part>,
        merge: Merge,
        groups: usize,
    },
}

/// A pipeline laid out with its split commands' parts.
pub(super) struct Expanded {
    /// What goes on the wire.
    pub(super) queue: Queue,
    /// Where each of its commands goes.
    pub(super) targets: Vec<Target>,
    pieces: Vec<Piece>,
}

/// Lays `queue` out again, each command as it is or as its parts (`layouts[i]` says which).
pub(super) fn expand(queue: &Queue, layouts: Vec<Layout>) -> Result<Expanded> {
    let mut out = Queue::new();
    let mut targets = Vec::with_capacity(layouts.len());
    let mut pieces = Vec::with_capacity(layouts.len());
    for (index, layout) in layouts.into_iter().enumerate() {
        match layout {
            Layout::One(slot) => {
                pieces.push(Piece::One(out.len()));
                out.push_copy(queue, index);
                targets.push(Target::of(slot));
            }
            Layout::Split {
                parts,
                merge,
                groups,
            } => {
                let argv: Vec<&[u8]> = FrameArgs::new(queue.frame(index)).collect();
                pieces.push(Piece::Split {
                    first: out.len(),
                    parts: parts.clone(),
                    merge,
                    groups,
                });
                for part in &parts {
                    out.push_raw(&part_command(&argv, part))?;
                    targets.push(Target::of(Some(part.slot)));
                }
            }
        }
    }
    Ok(Expanded {
        queue: out,
        targets,
        pieces,
    })
}

impl Expanded {
    /// The outcomes of the original commands from those of the laid-out queue: a split
    /// command's parts reassembled (in argument order, or by its response policy), then
    /// turned into the command's own outcome as if it had been sent whole.
    pub(super) fn collapse(
        self,
        queue: &Queue,
        outcomes: Vec<Result<Value>>,
        client: &Client,
        protocol: Protocol,
    ) -> Vec<Result<Value>> {
        let mut outcomes: Vec<Option<Result<Value>>> = outcomes.into_iter().map(Some).collect();
        let mut take = |at: usize| {
            outcomes[at]
                .take()
                .unwrap_or_else(|| unreachable!("every laid-out command is taken once"))
        };
        self.pieces
            .into_iter()
            .enumerate()
            .map(|(index, piece)| match piece {
                Piece::One(at) => take(at),
                Piece::Split {
                    first,
                    parts,
                    merge,
                    groups,
                } => {
                    let replies = (first..first + parts.len()).map(&mut take).collect();
                    let entry = queue.entry(index);
                    match reassemble(merge, &parts, groups, replies) {
                        Ok(value) => entry.outcome(queue.frame(index), value, client, protocol),
                        Err(error) => Err(error.with_command(&entry.info.name)),
                    }
                }
            })
            .collect()
    }
}
