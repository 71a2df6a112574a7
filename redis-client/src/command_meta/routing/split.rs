//! Splitting a multi-shard command line by key ([`KeyGroups`]).

use super::keys::{keynum, name};
use super::types::{BeginSearch, FindKeys, RequestPolicy, Routing};
use crate::error::Error;

/// How a [`RequestPolicy::MultiShard`] command line splits into one command per slot: the
/// arguments before [`KeyGroups::first`] (but the count at [`KeyGroups::count_at`]) open every
/// part, then the part's groups, then the arguments from [`KeyGroups::tail`] on (options such as
/// MSETEX's `EX`), which every part repeats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyGroups {
    /// The position of the first key.
    pub first: usize,
    /// How many keys, each with its group.
    pub groups: usize,
    /// Arguments per group: the key and what belongs to it (1 for DEL, 2 for MSET's key value).
    pub width: usize,
    /// The position of the key count that each part rewrites to its own number of keys
    /// (MSETEX's `numkeys`), when the command has one.
    pub count_at: Option<usize>,
}

impl KeyGroups {
    /// The position of group `n`'s key; the group is `width` arguments from there.
    pub fn key(&self, n: usize) -> usize {
        self.first + n * self.width
    }

    /// The position after the last group, where the repeated options start.
    pub fn tail(&self) -> usize {
        self.key(self.groups)
    }
}

impl Routing {
    /// How many arguments belong to one key when a [`RequestPolicy::MultiShard`] command is
    /// split (1 for DEL/MGET, 2 for MSET); `None` when the command cannot be split by key (not
    /// multi-shard, or its keys are not one run of evenly spaced arguments).
    ///
    /// `argv` plays no part today (every multi-shard command of the spec has one layout); see
    /// [`Routing::key_groups`] for the whole layout of one command line.
    pub fn key_group(&self, argv: &[&[u8]]) -> Option<usize> {
        let _ = argv;
        self.split_spec().map(|(_, find)| match find {
            FindKeys::Range { step, .. } | FindKeys::Keynum { step, .. } => step,
        })
    }

    /// The layout of a [`RequestPolicy::MultiShard`] command line for splitting by slot;
    /// `Ok(None)` when the command cannot be split by key. Fails when the arguments do not
    /// form whole groups (`MSET a 1 b`) or the key count runs past them.
    pub fn key_groups(&self, argv: &[&[u8]]) -> Result<Option<KeyGroups>, Error> {
        let Some((first, find)) = self.split_spec() else {
            return Ok(None);
        };
        let argc = argv.len();
        let layout = match find {
            FindKeys::Keynum {
                keynumidx,
                firstkey,
                step: width,
            } => {
                let count_at = first + keynumidx;
                KeyGroups {
                    first: first + firstkey,
                    groups: keynum(argv, count_at)?,
                    width,
                    count_at: Some(count_at),
                }
            }
            FindKeys::Range { step: width, .. } => {
                let rest = argc.saturating_sub(first);
                if rest % width != 0 {
                    return Err(Error::Usage(format!(
                        "{}: the {rest} arguments after the name are not whole groups of {width}",
                        name(argv)
                    )));
                }
                KeyGroups {
                    first,
                    groups: rest / width,
                    width,
                    count_at: None,
                }
            }
        };
        if layout.tail() > argc {
            return Err(Error::Usage(format!(
                "{}: {} keys in groups of {} run past the {argc} arguments",
                name(argv),
                layout.groups,
                layout.width
            )));
        }
        Ok(Some(layout))
    }

    /// For a multi-shard command with one key spec at a fixed position that runs to the end
    /// or is counted: its first position and how its keys are found.
    fn split_spec(&self) -> Option<(usize, FindKeys)> {
        if self.request != RequestPolicy::MultiShard {
            return None;
        }
        let [spec] = self.keys else { return None };
        let BeginSearch::Index(first) = spec.begin else {
            return None;
        };
        match spec.find {
            FindKeys::Range {
                lastkey: -1,
                limit: 0 | 1,
                ..
            }
            | FindKeys::Keynum { .. } => Some((first, spec.find)),
            FindKeys::Range { .. } => None,
        }
    }
}
