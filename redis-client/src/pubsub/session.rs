//! The state behind one [`super::PubSub`]: its connection (when it has one), its subscriptions
//! and handlers, and the pings it is waiting for.

use std::time::Instant;

use bytes::Bytes;

use super::message::{Message, MessageKind};
use super::registry::{Family, Handler, Registry};
use crate::config::Config;
use crate::connection::{Connection, Connector};
use crate::error::{Error, Result};

/// The `PING` argument of health checks, so their pongs are told apart from the user's.
pub(super) const HEALTH_CHECK_MESSAGE: &[u8] = b"redis-client-health-check";

/// What became of one received message.
pub(super) enum Outcome {
    /// The caller gets it.
    Deliver(Message),
    /// It goes to this handler (called once the session lock is released).
    Handle(Handler, Message),
    /// Swallowed: an ignored confirmation or a health-check pong.
    Drop,
}

#[derive(Default)]
pub(super) struct Session {
    pub(super) conn: Option<Connection>,
    channels: Registry,
    patterns: Registry,
    shards: Registry,
    /// redis-py's `subscribed`: set by a subscribe, cleared when the confirmation of the last
    /// unsubscription arrives (so those confirmations can still be read).
    pub(super) subscribed: bool,
    /// User `PING`s whose pong has not arrived.
    pings: usize,
    /// When the unanswered health-check `PING` was sent.
    health_sent: Option<Instant>,
    /// The last command written, to name it in an error reply.
    pub(super) last_command: &'static str,
}

impl Session {
    pub(super) fn registry(&self, family: Family) -> &Registry {
        match family {
            Family::Channel => &self.channels,
            Family::Pattern => &self.patterns,
            Family::Shard => &self.shards,
        }
    }

    pub(super) fn registry_mut(&mut self, family: Family) -> &mut Registry {
        match family {
            Family::Channel => &mut self.channels,
            Family::Pattern => &mut self.patterns,
            Family::Shard => &mut self.shards,
        }
    }

    pub(super) fn has_subscriptions(&self) -> bool {
        Family::ALL.iter().any(|&f| !self.registry(f).is_empty())
    }

    /// Whether reading makes sense: connected, and subscribed or owed a pong.
    pub(super) fn wants_read(&self) -> bool {
        self.conn.is_some() && (self.subscribed || self.pings > 0 || self.health_sent.is_some())
    }

    /// The connection is known to be lost: the server forgot every subscription with it.
    pub(super) fn disconnect(&mut self) {
        self.conn = None;
        self.pings = 0;
        self.health_sent = None;
        for family in Family::ALL {
            self.registry_mut(family).forget_unsubscribing();
        }
        self.subscribed = self.has_subscriptions();
    }

    /// Forgets the connection and every subscription (redis-py's `close`/`reset`).
    pub(super) fn reset(&mut self) {
        self.disconnect();
        for family in Family::ALL {
            self.registry_mut(family).clear();
        }
        self.subscribed = false;
    }

    /// Opens a connection and subscribes again to everything recorded.
    pub(super) fn connect(&mut self, connector: &Connector) -> Result<()> {
        self.disconnect();
        let mut conn = connector.connect()?;
        let mut last = None;
        for family in Family::ALL {
            let names = self.registry(family).names();
            if names.is_empty() {
                continue;
            }
            let command = family.subscribe_command();
            if family == Family::Shard {
                // In a cluster one SSUBSCRIBE may only name channels of one slot.
                for name in &names {
                    conn.write_command(&(command, name))?;
                }
            } else {
                conn.write_command(&(command, &names))?;
            }
            last = Some(command);
        }
        conn.flush()?;
        if let Some(command) = last {
            self.last_command = command;
        }
        self.conn = Some(conn);
        Ok(())
    }

    /// Writes and sends one command on the connection, which must exist.
    pub(super) fn send(&mut self, command: &'static str, args: &[Bytes]) -> Result<()> {
        let conn = self.connection()?;
        let written = conn
            .write_command(&(command, args))
            .and_then(|()| conn.flush());
        if let Err(e) = written {
            let e = e.with_command(command);
            if e.breaks_connection() {
                self.disconnect();
            }
            return Err(e);
        }
        self.last_command = command;
        Ok(())
    }

    pub(super) fn connection(&mut self) -> Result<&mut Connection> {
        self.conn.as_mut().ok_or_else(|| {
            Error::PubSub("the pub/sub connection is not open; subscribe first".into())
        })
    }

    pub(super) fn pinged(&mut self) {
        self.pings += 1;
    }

    /// Sends a health-check `PING` once the connection sat idle for the interval, and fails
    /// (dropping the connection) when one went unanswered while nothing at all arrived for
    /// the socket timeout (the interval when there is none).
    pub(super) fn check_health(&mut self, config: &Config) -> Result<()> {
        let Some(interval) = config.health_check_interval() else {
            return Ok(());
        };
        let idle = self.connection()?.idle_time();
        match self.health_sent {
            None if idle >= interval => {
                self.send("PING", &[Bytes::from_static(HEALTH_CHECK_MESSAGE)])?;
                self.health_sent = Some(Instant::now());
            }
            None => {}
            Some(sent) => {
                let limit = config.socket_timeout().unwrap_or(interval);
                if sent.elapsed() > limit && idle > limit {
                    let addr = self.connection()?.addr().to_owned();
                    self.disconnect();
                    return Err(Error::Timeout {
                        addr,
                        action: "read from",
                        command: Some("PING (health check)".into()),
                        after: limit,
                    });
                }
            }
        }
        Ok(())
    }

    /// Applies a received message to the subscription state and decides where it goes.
    #[inline]
    pub(super) fn dispatch(&mut self, message: Message, ignore_subscribe: bool) -> Outcome {
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
