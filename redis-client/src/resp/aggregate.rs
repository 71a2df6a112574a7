//! The aggregates the parser has opened and not yet closed, and the room their vectors get:
//! how much capacity a header's count, the bytes received and the elements received justify.

use super::Value;

/// At most this many bytes of vector capacity are reserved ahead of elements per byte
/// received (see [`Room`]).
pub(super) const RESERVED_PER_BYTE: usize = 7;

/// Vectors of fewer elements than this grow fourfold when full, larger ones twofold (see
/// [`Room`]).
const FOURFOLD_BELOW: usize = 16 * 1024;

/// What a header opened: an array (`*`), set (`~`), push (`>`), map (`%`) or attribute (`|`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum AggregateKind {
    Array,
    Set,
    Push,
    Map,
    Attribute,
}

impl AggregateKind {
    pub(super) fn is_keyed(self) -> bool {
        matches!(self, AggregateKind::Map | AggregateKind::Attribute)
    }

    /// How many received, unclaimed bytes one reserved slot (one pair for keyed kinds) takes:
    /// enough that reservations never hold more than [`RESERVED_PER_BYTE`] bytes of capacity
    /// per byte received, whatever the nesting. Typical elements (a bulk string, an integer of
    /// a few digits) are longer, so a reply fed whole is still reserved in one go; only runs of
    /// minimal elements (`_\r\n`, `:1\r\n`) need one growth step more.
    pub(super) fn claim_per_slot(self) -> usize {
        let slot = if self.is_keyed() {
            std::mem::size_of::<(Value, Value)>()
        } else {
            std::mem::size_of::<Value>()
        };
        slot.div_ceil(RESERVED_PER_BYTE)
    }

    /// The value of a complete aggregate of this kind with no elements.
    pub(super) fn empty(self) -> Value {
        match self {
            AggregateKind::Map => Value::Map(Vec::new()),
            _ => self.finish_seq(Vec::new()),
        }
    }

    pub(super) fn finish_seq(self, items: Vec<Value>) -> Value {
        match self {
            AggregateKind::Set => Value::Set(items),
            AggregateKind::Push => Value::Push(items),
            _ => Value::Array(items),
        }
    }
}

/// An aggregate whose header has been read and which still misses elements.
#[derive(Debug)]
pub(super) struct Partial {
    pub(super) kind: AggregateKind,
    pub(super) items: Items,
    /// Elements (pairs for keyed kinds) still to come; for an attribute whose pairs are all in,
    /// zero while it waits for the value it annotates.
    pub(super) remaining: usize,
    /// Slots reserved ahead of their elements and not yet filled; each holds
    /// `claim_per_slot` bytes of the parser's claim.
    pub(super) reserved: usize,
}

/// The elements an open aggregate has so far.
#[derive(Debug)]
pub(super) enum Items {
    Seq(Vec<Value>),
    Pairs {
        pairs: Vec<(Value, Value)>,
        /// A key whose value has not arrived yet.
        key: Option<Value>,
    },
}

/// What adding an element did to an open aggregate.
pub(super) enum Step {
    More,
    Done(Value),
}

impl Partial {
    pub(super) fn add(&mut self, value: Value, unread: usize, claimed: &mut usize) -> Step {
        let room = Room::new(self.kind, self.remaining, unread);
        match &mut self.items {
            Items::Pairs { pairs, key } => {
                if self.kind == AggregateKind::Attribute && self.remaining == 0 {
                    return Step::Done(Value::Attribute {
                        attributes: std::mem::take(pairs),
                        value: Box::new(value),
                    });
                }
                let Some(k) = key.take() else {
                    *key = Some(value);
                    return Step::More;
                };
                release_slot(&mut self.reserved, self.kind, claimed);
                room.make(pairs, &mut self.reserved, claimed);
                pairs.push((k, value));
                self.remaining -= 1;
                if self.remaining > 0 || self.kind == AggregateKind::Attribute {
                    return Step::More;
                }
                Step::Done(Value::Map(std::mem::take(pairs)))
            }
            Items::Seq(items) => {
                release_slot(&mut self.reserved, self.kind, claimed);
                room.make(items, &mut self.reserved, claimed);
                items.push(value);
                self.remaining -= 1;
                if self.remaining > 0 {
                    return Step::More;
                }
                Step::Done(self.kind.finish_seq(std::mem::take(items)))
            }
        }
    }
}

/// Releases the claim of one reserved slot as an element fills it; the first elements of an
/// aggregate always land in the slots reserved for them.
pub(super) fn release_slot(reserved: &mut usize, kind: AggregateKind, claimed: &mut usize) {
    if *reserved > 0 {
        *reserved -= 1;
        *claimed = claimed.saturating_sub(kind.claim_per_slot());
    }
}

/// What an open aggregate may grow its vector to before adding an element.
///
/// - The first element gets the room the received bytes justify: one slot per
///   [`AggregateKind::claim_per_slot`] bytes not yet claimed by another open aggregate (at
///   least four, at most the announced count). Those slots claim their bytes until filled, so
///   at every depth together, reservations hold at most [`RESERVED_PER_BYTE`] bytes of capacity
///   per byte received (plus four slots per open aggregate).
/// - Later, a full vector grows, never beyond the announced count: capacity beyond what the
///   bytes justify is only granted in proportion to elements received. Below
///   [`FOURFOLD_BELOW`] elements it grows fourfold rather than twofold, which keeps a reply
///   that arrives in small pieces to a handful of reallocations (10 000 elements read 1 KiB at
///   a time: 4 allocations instead of 6); beyond, twofold, so a count the elements never reach
///   leaves at most as much spare capacity as the elements themselves take.
pub(super) struct Room {
    kind: AggregateKind,
    /// Elements still to come, the one about to be added included.
    remaining: usize,
    /// Received bytes after the element about to be added.
    unread: usize,
}

impl Room {
    #[inline]
    pub(super) fn new(kind: AggregateKind, remaining: usize, unread: usize) -> Room {
        Room {
            kind,
            remaining,
            unread,
        }
    }

    #[inline]
    pub(super) fn make<T>(&self, items: &mut Vec<T>, reserved: &mut usize, claimed: &mut usize) {
        if items.len() < items.capacity() {
            return;
        }
        if items.capacity() > 0 {
            let more = if items.len() < FOURFOLD_BELOW {
                items.len() * 3
            } else {
                items.len()
            };
            items.reserve_exact(self.remaining.min(more));
            return;
        }
        let per_slot = self.kind.claim_per_slot();
        let ahead = self
            .remaining
            .saturating_sub(1)
            .min(self.unread.saturating_sub(*claimed) / per_slot);
        *reserved += ahead;
        *claimed += ahead * per_slot;
        items.reserve_exact(self.remaining.min((1 + ahead).max(4)));
    }
}
