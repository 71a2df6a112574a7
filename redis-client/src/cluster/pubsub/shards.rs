//! The sessions of a cluster pub/sub: one [`PubSub`] for channels and patterns on one node,
//! and one per primary owning a subscribed shard channel's slot; and moving shard channels
//! when their slots move.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::book::ShardBook;
use crate::cluster::slot::key_slot;
use crate::cluster::ClusterClient;
use crate::error::Result;
use crate::pubsub::{Message, PubSub};

/// A handler shared between the subscription and its record, so that a shard channel
/// subscribed again on another node keeps its handler.
pub(super) type Shared = Arc<Mutex<Box<dyn FnMut(Message) + Send>>>;

/// How often the shard channels are checked against the client's slot map.
const CHECK_EVERY: Duration = Duration::from_millis(100);

/// Which kind of subscription a record is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Kind {
    Channel,
    Pattern,
    Shard,
}

/// Every session and every subscription (with its handler), behind the pub/sub's lock.
#[derive(Default)]
pub(super) struct Sessions {
    /// Channels and patterns, on one node: `PUBLISH` reaches every node of a cluster.
    pub(super) classic: Option<(String, PubSub)>,
    /// Shard channels' sessions, by node address.
    pub(super) shards: Vec<(String, PubSub)>,
    /// Where each shard channel is subscribed; the node is empty while it has no session.
    pub(super) book: ShardBook<String>,
    /// Every subscription and its handler, to subscribe again elsewhere.
    pub(super) handlers: HashMap<(Kind, Bytes), Option<Shared>>,
    /// When the shard channels were last checked against the slot map.
    checked: Option<Instant>,
    /// A shard channel was dropped by its server or a session was lost: refresh the slot map
    /// and check at once.
    pub(super) suspect: bool,
}

/// Subscribes `name` on `session`, with `handler` if there is one.
pub(super) fn subscribe_on(
    session: &PubSub,
    kind: Kind,
    name: &Bytes,
    handler: Option<&Shared>,
) -> Result<()> {
    let call = |handler: &Shared| {
        let handler = Arc::clone(handler);
        move |message: Message| {
            let mut handler = handler.lock().unwrap_or_else(PoisonError::into_inner);
            handler(message)
        }
    };
    match (kind, handler) {
        (Kind::Channel, None) => session.subscribe([name]),
        (Kind::Channel, Some(h)) => session.subscribe_with(name, call(h)),
        (Kind::Pattern, None) => session.psubscribe([name]),
        (Kind::Pattern, Some(h)) => session.psubscribe_with(name, call(h)),
        (Kind::Shard, None) => session.ssubscribe([name]),
        (Kind::Shard, Some(h)) => session.ssubscribe_with(name, call(h)),
    }
}

impl Sessions {
    /// The channel-and-pattern session, opened on a primary when first needed.
    pub(super) fn classic(&mut self, cluster: &ClusterClient) -> Result<&PubSub> {
        if self.classic.is_none() {
            let addr = cluster.primary_addr(None)?;
            let session = cluster.node_client(&addr)?.pubsub()?;
            session.set_ignore_subscribe_messages(false);
            self.classic = Some((addr, session));
        }
        match &self.classic {
            Some((_, session)) => Ok(session),
            None => unreachable!("opened above"),
        }
    }

    /// The shard session on `addr`, opened when first needed.
    fn shard_session(&mut self, cluster: &ClusterClient, addr: &str) -> Result<&PubSub> {
        let at = match self.shards.iter().position(|(a, _)| a == addr) {
            Some(at) => at,
            None => {
                let session = cluster.node_client(addr)?.pubsub()?;
                session.set_ignore_subscribe_messages(false);
                self.shards.push((addr.to_string(), session));
                self.shards.len() - 1
            }
        };
        Ok(&self.shards[at].1)
    }

    /// Subscribes shard `channel` on the primary owning its slot.
    pub(super) fn ssubscribe(&mut self, cluster: &ClusterClient, channel: Bytes) -> Result<()> {
        let slot = key_slot(&channel);
        let addr = cluster.primary_addr(Some(slot))?;
        let handler = self
            .handlers
            .get(&(Kind::Shard, channel.clone()))
            .cloned()
            .flatten();
        let session = self.shard_session(cluster, &addr)?;
        subscribe_on(session, Kind::Shard, &channel, handler.as_ref())?;
        self.book.insert(channel, slot, addr);
        Ok(())
    }

    /// Unsubscribes shard `channel` wherever it is subscribed.
    pub(super) fn sunsubscribe(&mut self, channel: &Bytes) -> Result<()> {
        self.handlers.remove(&(Kind::Shard, channel.clone()));
        let Some(node) = self.book.remove(channel) else {
            return Ok(());
        };
        match self.shards.iter().find(|(a, _)| *a == node) {
            Some((_, session)) => session.sunsubscribe([channel]),
            None => Ok(()),
        }
    }

    /// A session was lost for good (its node is unreachable): its shard channels wait for a
    /// new owner; the channel-and-pattern session moves to another primary.
    pub(super) fn lost(&mut self, cluster: &ClusterClient, addr: &str) -> Result<()> {
        self.suspect = true;
        if let Some(at) = self.shards.iter().position(|(a, _)| a == addr) {
            let (_, session) = self.shards.swap_remove(at);
            session.close();
            for channel in self.book.channels_on(&addr.to_string()) {
                let slot = key_slot(&channel);
                self.book.insert(channel, slot, String::new());
            }
        }
        if self.classic.as_ref().is_some_and(|(a, _)| a == addr) {
            if let Some((_, session)) = self.classic.take() {
                session.close();
            }
            cluster.refresh_map();
            self.resubscribe_classic(cluster)?;
        }
        Ok(())
    }

    fn resubscribe_classic(&mut self, cluster: &ClusterClient) -> Result<()> {
        let records: Vec<(Kind, Bytes, Option<Shared>)> = self
            .handlers
            .iter()
            .filter(|((kind, _), _)| *kind != Kind::Shard)
            .map(|((kind, name), handler)| (*kind, name.clone(), handler.clone()))
            .collect();
        if records.is_empty() {
            return Ok(());
        }
        let session = self.classic(cluster)?;
        for (kind, name, handler) in records {
            subscribe_on(session, kind, &name, handler.as_ref())?;
        }
        Ok(())
    }

    /// Moves the shard channels whose slot the slot map places elsewhere now (refreshing it
    /// first when something hinted that it changed), at most every [`CHECK_EVERY`] unless
    /// suspect; closes the sessions left without channels.
    pub(super) fn maintain(&mut self, cluster: &ClusterClient) -> Result<()> {
        if self.book.is_empty() {
            return Ok(());
        }
        let due = self.checked.is_none_or(|at| at.elapsed() >= CHECK_EVERY);
        if !self.suspect && !due {
            return Ok(());
        }
        if std::mem::take(&mut self.suspect) {
            // Not the rate-limited refresh: a refresh that ran a moment ago may predate the
            // change that made us suspect.
            let _ = cluster.refresh_topology();
        }
        self.checked = Some(Instant::now());
        for moved in self
            .book
            .moves(|slot| cluster.primary_addr(Some(slot)).ok())
        {
            if let Some((_, old)) = self.shards.iter().find(|(a, _)| *a == moved.from) {
                // The old node may be gone or may have dropped it already; either is fine.
                let _ = old.sunsubscribe([&moved.channel]);
            }
            if let Err(error) = self.ssubscribe(cluster, moved.channel) {
                self.suspect = true;
                return Err(error);
            }
        }
        let book = &self.book;
        self.shards.retain(|(addr, session)| {
            let keep = !book.channels_on(addr).is_empty();
            if !keep {
                session.close();
            }
            keep
        });
        Ok(())
    }

    /// Every session, the channel-and-pattern one first, with its node.
    pub(super) fn all(&self) -> Vec<(String, PubSub)> {
        self.classic
            .iter()
            .chain(self.shards.iter())
            .map(|(addr, session)| (addr.clone(), session.clone_handle()))
            .collect()
    }
}
