//! The subscriptions of one family (channels, patterns or shard channels) and their handlers.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;

use super::message::{Message, MessageKind};

/// A message handler; shared so it can run after the session lock is released, and behind its
/// own lock so a plain `FnMut` closure will do.
pub(crate) type Handler = Arc<Mutex<Box<dyn FnMut(Message) + Send>>>;

/// Calls `handler` with `message`.
pub(crate) fn call(handler: &Handler, message: Message) {
    // A handler that panicked earlier left nothing half-done that this call depends on.
    let mut handler = handler.lock().unwrap_or_else(PoisonError::into_inner);
    handler(message);
}

/// Which kind of subscription: the three have separate commands and separate name spaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Family {
    Channel,
    Pattern,
    Shard,
}

impl Family {
    pub(crate) const ALL: [Family; 3] = [Family::Channel, Family::Pattern, Family::Shard];

    pub(crate) fn subscribe_command(self) -> &'static str {
        match self {
            Family::Channel => "SUBSCRIBE",
            Family::Pattern => "PSUBSCRIBE",
            Family::Shard => "SSUBSCRIBE",
        }
    }

    pub(crate) fn unsubscribe_command(self) -> &'static str {
        match self {
            Family::Channel => "UNSUBSCRIBE",
            Family::Pattern => "PUNSUBSCRIBE",
            Family::Shard => "SUNSUBSCRIBE",
        }
    }

    /// What one subscription of this family is called, for messages.
    pub(crate) fn noun(self) -> &'static str {
        match self {
            Family::Channel => "channel",
            Family::Pattern => "pattern",
            Family::Shard => "shard channel",
        }
    }

    /// The family a message or confirmation belongs to; `None` for a pong.
    pub(crate) fn of(kind: MessageKind) -> Option<Family> {
        Some(match kind {
            MessageKind::Subscribe | MessageKind::Unsubscribe | MessageKind::Message => {
                Family::Channel
            }
            MessageKind::PSubscribe | MessageKind::PUnsubscribe | MessageKind::PMessage => {
                Family::Pattern
            }
            MessageKind::SSubscribe | MessageKind::SUnsubscribe | MessageKind::SMessage => {
                Family::Shard
            }
            MessageKind::Pong => return None,
        })
    }
}

/// Subscriptions of one family, as redis-py keeps them: a name is added when its subscribe
/// command was sent and removed when the server confirms its unsubscription, so a message still
/// in flight after `unsubscribe` finds its handler.
#[derive(Default)]
pub(crate) struct Registry {
    entries: HashMap<Bytes, Option<Handler>>,
    /// Names whose unsubscription was sent but not yet confirmed.
    unsubscribing: HashSet<Bytes>,
    /// How many entries have a handler, to skip the lookup when none has.
    handlers: usize,
}

impl Registry {
    /// Records a subscription (replacing an earlier handler for the same name).
    pub(crate) fn add(&mut self, name: Bytes, handler: Option<Handler>) {
        self.unsubscribing.remove(&name);
        let had = self.entries.insert(name, handler.clone());
        self.handlers -= usize::from(matches!(had, Some(Some(_))));
        self.handlers += usize::from(handler.is_some());
    }

    /// Notes that the unsubscription of `names` (all subscriptions when empty) was sent.
    pub(crate) fn unsubscribing(&mut self, names: &[Bytes]) {
        if names.is_empty() {
            self.unsubscribing.extend(self.entries.keys().cloned());
        } else {
            self.unsubscribing.extend(names.iter().cloned());
        }
    }

    /// The server confirmed the unsubscription of `name`.
    pub(crate) fn confirmed_unsubscribe(&mut self, name: &[u8]) {
        if self.unsubscribing.remove(name) {
            self.remove(name);
        }
    }

    /// Removes `names` (all when empty) at once: there is no connection to confirm anything.
    pub(crate) fn remove_now(&mut self, names: &[Bytes]) {
        if names.is_empty() {
            self.clear();
        } else {
            for name in names {
                self.unsubscribing.remove(name);
                self.remove(name);
            }
        }
    }

    /// The connection is gone, and with it the server's side of every pending unsubscription.
    pub(crate) fn forget_unsubscribing(&mut self) {
        for name in std::mem::take(&mut self.unsubscribing) {
            self.remove(&name);
        }
    }

    fn remove(&mut self, name: &[u8]) {
        if let Some(Some(_)) = self.entries.remove(name) {
            self.handlers -= 1;
        }
    }

    /// The handler registered for `name`, if any.
    #[inline]
    pub(crate) fn handler(&self, name: &[u8]) -> Option<&Handler> {
        if self.handlers == 0 {
            return None;
        }
        self.entries.get(name)?.as_ref()
    }

    /// A subscription without a handler, if there is one.
    pub(crate) fn without_handler(&self) -> Option<&Bytes> {
        self.entries
            .iter()
            .find_map(|(name, handler)| handler.is_none().then_some(name))
    }

    /// Whether `name` is subscribed (or being unsubscribed).
    // Only the async pub/sub asks (to undo a subscription it recorded before sending).
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    pub(crate) fn contains(&self, name: &[u8]) -> bool {
        self.entries.contains_key(name)
    }

    /// The subscribed names, in no particular order.
    pub(crate) fn names(&self) -> Vec<Bytes> {
        self.entries.keys().cloned().collect()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.unsubscribing.clear();
        self.handlers = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handler() -> Handler {
        Arc::new(Mutex::new(Box::new(|_| {})))
    }

    #[test]
    fn unsubscription_takes_effect_on_confirmation() {
        let mut r = Registry::default();
        r.add("a".into(), Some(handler()));
        r.add("b".into(), None);
        r.unsubscribing(&["a".into()]);
        assert!(
            r.handler(b"a").is_some(),
            "in-flight messages still find the handler"
        );
        r.confirmed_unsubscribe(b"b");
        assert_eq!(r.names().len(), 2, "b was not being unsubscribed");
        r.confirmed_unsubscribe(b"a");
        assert!(r.handler(b"a").is_none());
        assert_eq!(r.names(), vec![Bytes::from("b")]);
        assert_eq!(r.without_handler(), Some(&Bytes::from("b")));
    }

    #[test]
    fn resubscribing_cancels_a_pending_unsubscription() {
        let mut r = Registry::default();
        r.add("a".into(), None);
        r.unsubscribing(&[]);
        r.add("a".into(), Some(handler()));
        r.confirmed_unsubscribe(b"a");
        assert!(r.handler(b"a").is_some());
        r.unsubscribing(&[]);
        r.forget_unsubscribing();
        assert!(r.is_empty());
        assert_eq!(r.handlers, 0);
    }
}
