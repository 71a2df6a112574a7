//! Which node each shard channel is subscribed on, and which ones must move when the slot map
//! changes. Plain data: the front end owns the connections and applies the moves.

use bytes::Bytes;

/// One shard channel's subscription.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry<N> {
    channel: Bytes,
    slot: u16,
    node: N,
}

/// A shard channel to unsubscribe on `from` and subscribe again on `to`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Move<N> {
    /// The channel.
    pub(crate) channel: Bytes,
    /// The node it is subscribed on now.
    pub(crate) from: N,
    /// The node owning its slot now.
    pub(crate) to: N,
}

/// The shard channels of a cluster pub/sub and the node each one is subscribed on.
#[derive(Debug)]
pub(crate) struct ShardBook<N> {
    entries: Vec<Entry<N>>,
}

impl<N> Default for ShardBook<N> {
    fn default() -> Self {
        ShardBook {
            entries: Vec::new(),
        }
    }
}

impl<N: Clone + PartialEq> ShardBook<N> {
    /// Records that `channel` (of `slot`) is subscribed on `node`, replacing an earlier entry.
    pub(crate) fn insert(&mut self, channel: Bytes, slot: u16, node: N) {
        match self.entries.iter_mut().find(|e| e.channel == channel) {
            Some(entry) => {
                entry.slot = slot;
                entry.node = node;
            }
            None => self.entries.push(Entry {
                channel,
                slot,
                node,
            }),
        }
    }

    /// Forgets `channel`; returns the node it was subscribed on.
    pub(crate) fn remove(&mut self, channel: &[u8]) -> Option<N> {
        let at = self.entries.iter().position(|e| e.channel == channel)?;
        Some(self.entries.swap_remove(at).node)
    }

    /// The node `channel` is subscribed on.
    pub(crate) fn node_of(&self, channel: &[u8]) -> Option<&N> {
        self.entries
            .iter()
            .find(|e| e.channel == channel)
            .map(|e| &e.node)
    }

    /// Every channel subscribed on `node`.
    pub(crate) fn channels_on(&self, node: &N) -> Vec<Bytes> {
        self.entries
            .iter()
            .filter(|e| &e.node == node)
            .map(|e| e.channel.clone())
            .collect()
    }

    /// Every subscribed channel.
    pub(crate) fn channels(&self) -> Vec<Bytes> {
        self.entries.iter().map(|e| e.channel.clone()).collect()
    }

    /// The channels whose slot `owner` now places on another node than the one they are
    /// subscribed on; `owner` gives `None` for a slot nobody serves (left where it is).
    pub(crate) fn moves(&self, mut owner: impl FnMut(u16) -> Option<N>) -> Vec<Move<N>> {
        self.entries
            .iter()
            .filter_map(|e| {
                let to = owner(e.slot)?;
                (to != e.node).then(|| Move {
                    channel: e.channel.clone(),
                    from: e.node.clone(),
                    to,
                })
            })
            .collect()
    }

    /// Whether nothing is subscribed.
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book() -> ShardBook<&'static str> {
        let mut book = ShardBook::default();
        book.insert("a".into(), 10, "n1");
        book.insert("b".into(), 20, "n2");
        book.insert("c".into(), 30, "n1");
        book
    }

    #[test]
    fn channels_are_found_by_node_and_by_name() {
        let mut book = book();
        assert_eq!(
            book.channels_on(&"n1"),
            vec![Bytes::from("a"), Bytes::from("c")]
        );
        assert_eq!(book.node_of(b"b"), Some(&"n2"));
        book.insert("b".into(), 20, "n3");
        assert_eq!(book.node_of(b"b"), Some(&"n3"));
        assert_eq!(book.remove(b"b"), Some("n3"));
        assert_eq!(book.remove(b"b"), None);
        assert_eq!(book.channels().len(), 2);
    }

    #[test]
    fn only_channels_whose_slot_changed_owner_move() {
        let book = book();
        let moves = book.moves(|slot| {
            Some(if slot == 30 {
                "n3"
            } else if slot == 10 {
                "n1"
            } else {
                "n2"
            })
        });
        assert_eq!(
            moves,
            vec![Move {
                channel: "c".into(),
                from: "n1",
                to: "n3"
            }]
        );
        assert!(
            book.moves(|_| None).is_empty(),
            "an unserved slot stays put"
        );
    }
}
