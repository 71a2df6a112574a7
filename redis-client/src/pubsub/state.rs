//! The subscription state of one pub/sub session, without I/O: what is subscribed (and being
//! unsubscribed), the pings owed, where each received message goes, when a health check is
//! due, and what to send to subscribe again on a new connection. The blocking
//! [`super::PubSub`] and the tokio `AsyncPubSub` both keep one.

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::message::{Message, MessageKind};
use super::registry::{Family, Handler, Registry};
use crate::error::Error;

/// The `PING` argument of health checks, so their pongs are told apart from the user's.
pub(crate) const HEALTH_CHECK_MESSAGE: &[u8] = b"redis-client-health-check";

/// What became of one received message.
pub(crate) enum Outcome {
    /// The caller gets it.
    Deliver(Message),
    /// It goes to this handler (called once the session lock is released).
    Handle(Handler, Message),
    /// Swallowed: an ignored confirmation or a health-check pong.
    Drop,
}

/// What the health check asks for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Health {
    /// Nothing to do.
    Fine,
    /// Send a health-check `PING` ([`HEALTH_CHECK_MESSAGE`]) and call
    /// [`State::health_ping_sent`].
    Ping,
    /// The last health-check `PING` went unanswered, and nothing arrived, for this long: the
    /// connection counts as lost.
    Lost(Duration),
}

#[derive(Default)]
pub(crate) struct State {
    channels: Registry,
    patterns: Registry,
    shards: Registry,
    /// redis-py's `subscribed`: set by a subscribe, cleared when the confirmation of the last
    /// unsubscription arrives (so those confirmations can still be read).
    pub(crate) subscribed: bool,
    /// User `PING`s whose pong has not arrived.
    pings: usize,
    /// When the unanswered health-check `PING` was sent.
    health_sent: Option<Instant>,
    /// The last command written, to name it in an error reply.
    pub(crate) last_command: &'static str,
}

impl State {
    pub(crate) fn registry(&self, family: Family) -> &Registry {
        match family {
            Family::Channel => &self.channels,
            Family::Pattern => &self.patterns,
            Family::Shard => &self.shards,
        }
    }

    pub(crate) fn registry_mut(&mut self, family: Family) -> &mut Registry {
        match family {
            Family::Channel => &mut self.channels,
            Family::Pattern => &mut self.patterns,
            Family::Shard => &mut self.shards,
        }
    }

    pub(crate) fn has_subscriptions(&self) -> bool {
        Family::ALL.iter().any(|&f| !self.registry(f).is_empty())
    }

    /// Whether a connected session has anything to read: subscribed, or owed a pong.
    pub(crate) fn owes_reads(&self) -> bool {
        self.subscribed || self.pings > 0 || self.health_sent.is_some()
    }

    /// The connection is known to be lost: the server forgot every subscription with it, and
    /// no pong will come.
    pub(crate) fn disconnected(&mut self) {
        self.pings = 0;
        self.health_sent = None;
        for family in Family::ALL {
            self.registry_mut(family).forget_unsubscribing();
        }
        self.subscribed = self.has_subscriptions();
    }

    /// Forgets every subscription (redis-py's `close`/`reset`); the connection goes too.
    pub(crate) fn reset(&mut self) {
        self.disconnected();
        for family in Family::ALL {
            self.registry_mut(family).clear();
        }
        self.subscribed = false;
    }

    /// The commands that subscribe a new connection to everything recorded, in order.
    pub(crate) fn resubscribe_commands(&self) -> Vec<(&'static str, Vec<Bytes>)> {
        let mut commands = Vec::new();
        for family in Family::ALL {
            let names = self.registry(family).names();
            if names.is_empty() {
                continue;
            }
            let command = family.subscribe_command();
            if family == Family::Shard {
                // In a cluster one SSUBSCRIBE may only name channels of one slot.
                commands.extend(names.into_iter().map(|name| (command, vec![name])));
            } else {
                commands.push((command, names));
            }
        }
        commands
    }

    /// `command` was written to the connection.
    pub(crate) fn sent(&mut self, command: &'static str) {
        self.last_command = command;
    }

    /// The subscribe command for `names` of `family` went out.
    pub(crate) fn subscribed_to(
        &mut self,
        family: Family,
        names: &[Bytes],
        handler: Option<Handler>,
    ) {
        let registry = self.registry_mut(family);
        for name in names {
            registry.add(name.clone(), handler.clone());
        }
        self.subscribed = true;
    }

    /// `names` of `family` (all when empty) were dropped without a connection to confirm it.
    pub(crate) fn removed_now(&mut self, family: Family, names: &[Bytes]) {
        self.registry_mut(family).remove_now(names);
        self.subscribed = self.has_subscriptions();
    }

    /// A user `PING` went out.
    pub(crate) fn pinged(&mut self) {
        self.pings += 1;
    }

    /// Whether a health check is due, given the configured `interval` (none: never),
    /// `socket_timeout`, how long the connection has been `idle` (nothing received or sent)
    /// and the time `now`. An unanswered check counts as a lost connection once nothing at
    /// all arrived for the socket timeout (the interval when there is none).
    pub(crate) fn health(
        &self,
        interval: Option<Duration>,
        socket_timeout: Option<Duration>,
        idle: Duration,
        now: Instant,
    ) -> Health {
        let Some(interval) = interval else {
            return Health::Fine;
        };
        match self.health_sent {
            None if idle >= interval => Health::Ping,
            None => Health::Fine,
            Some(sent) => {
                let limit = socket_timeout.unwrap_or(interval);
                if now.saturating_duration_since(sent) > limit && idle > limit {
                    Health::Lost(limit)
                } else {
                    Health::Fine
                }
            }
        }
    }

    /// The health-check `PING` went out at `now`.
    pub(crate) fn health_ping_sent(&mut self, now: Instant) {
        self.health_sent = Some(now);
    }

    /// Applies a received message to the subscription state and decides where it goes.
    #[inline]
    pub(crate) fn dispatch(&mut self, message: Message, ignore_subscribe: bool) -> Outcome {
        let kind = message.kind;
        let Some(family) = Family::of(kind) else {
            if message.data.as_bytes() == Some(HEALTH_CHECK_MESSAGE) {
                self.health_sent = None;
                return Outcome::Drop;
            }
            self.pings = self.pings.saturating_sub(1);
            return Outcome::Deliver(message);
        };
        if kind.is_published() {
            let key = match kind {
                MessageKind::PMessage => message.pattern.as_deref().unwrap_or_default(),
                _ => &message.channel,
            };
            return match self.registry(family).handler(key) {
                Some(handler) => Outcome::Handle(handler.clone(), message),
                None => Outcome::Deliver(message),
            };
        }
        if kind.is_unsubscribe() {
            self.registry_mut(family)
                .confirmed_unsubscribe(&message.channel);
            if !self.has_subscriptions() {
                self.subscribed = false;
            }
        }
        if ignore_subscribe {
            Outcome::Drop
        } else {
            Outcome::Deliver(message)
        }
    }
}

/// The error of a health check that went unanswered for `limit` on the connection to `addr`.
pub(crate) fn health_timeout(addr: String, limit: Duration) -> Error {
    Error::Timeout {
        addr,
        action: "read from",
        command: Some("PING (health check)".into()),
        after: limit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pubsub::message::Data;

    fn confirmation(kind: MessageKind, name: &str, count: i64) -> Message {
        Message {
            kind,
            channel: Bytes::copy_from_slice(name.as_bytes()),
            pattern: None,
            data: Data::Count(count),
        }
    }

    #[test]
    fn resubscribes_every_family_shards_one_by_one() {
        let mut s = State::default();
        s.subscribed_to(Family::Channel, &["a".into()], None);
        s.subscribed_to(Family::Shard, &["x".into(), "y".into()], None);
        let mut commands = s.resubscribe_commands();
        commands[1..].sort();
        assert_eq!(
            commands,
            [
                ("SUBSCRIBE", vec![Bytes::from("a")]),
                ("SSUBSCRIBE", vec![Bytes::from("x")]),
                ("SSUBSCRIBE", vec![Bytes::from("y")]),
            ]
        );
    }

    #[test]
    fn subscribed_until_the_last_unsubscription_is_confirmed() {
        let mut s = State::default();
        s.subscribed_to(Family::Pattern, &["p*".into()], None);
        s.registry_mut(Family::Pattern).unsubscribing(&[]);
        assert!(s.subscribed && s.owes_reads());
        let m = confirmation(MessageKind::PUnsubscribe, "p*", 0);
        assert!(matches!(s.dispatch(m, true), Outcome::Drop));
        assert!(!s.subscribed && !s.owes_reads());
    }

    #[test]
    fn health_checks_ping_when_idle_and_give_up_when_unanswered() {
        let now = Instant::now();
        let second = Duration::from_secs(1);
        let mut s = State::default();
        assert_eq!(s.health(None, None, second * 9, now), Health::Fine);
        assert_eq!(s.health(Some(second), None, second / 2, now), Health::Fine);
        assert_eq!(s.health(Some(second), None, second, now), Health::Ping);
        s.health_ping_sent(now);
        assert!(s.owes_reads());
        let later = now + second * 2;
        assert_eq!(
            s.health(Some(second), None, second / 2, later),
            Health::Fine
        );
        assert_eq!(
            s.health(Some(second), None, second * 2, later),
            Health::Lost(second)
        );
        let pong = Message {
            kind: MessageKind::Pong,
            channel: Bytes::new(),
            pattern: None,
            data: Data::Bytes(Bytes::from_static(HEALTH_CHECK_MESSAGE)),
        };
        assert!(matches!(s.dispatch(pong, false), Outcome::Drop));
        assert!(!s.owes_reads());
    }
}
