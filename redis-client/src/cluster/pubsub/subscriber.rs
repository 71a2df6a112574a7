//! [`ClusterPubSub`] itself: its subscriptions over the cluster's nodes and the reads of
//! their messages.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::shards::{subscribe_on, Kind, Sessions, Shared};
use crate::cluster::slot::key_slot;
use crate::cluster::ClusterClient;
use crate::error::{Error, Result};
use crate::pubsub::{Message, MessageKind, PubSub};

/// The longest one session is waited on while others may have messages.
const SLICE: Duration = Duration::from_millis(5);

/// Publish/subscribe on a cluster, with the API of [`PubSub`]: subscribe with or without a
/// handler, read with [`ClusterPubSub::get_message`], [`ClusterPubSub::listen`] or
/// [`ClusterPubSub::run_in_thread`].
///
/// ```no_run
/// use std::time::Duration;
/// use redis_client::cluster::ClusterClient;
/// use redis_client::Commands;
///
/// let cluster = ClusterClient::open(["redis://127.0.0.1:7000"])?;
/// let pubsub = cluster.pubsub();
/// pubsub.subscribe(["news"])?;
/// pubsub.ssubscribe(["orders:{eu}", "orders:{us}"])?; // one connection per owning primary
/// cluster.publish("news", "hello")?;                  // from any node
/// cluster.spublish("orders:{eu}", "#1")?;             // to the channel's shard
/// while let Some(message) = pubsub.get_message(Duration::from_secs(1))? {
///     println!("{} {:?} {:?}", message.kind, message.channel, message.data);
/// }
/// # Ok::<(), redis_client::Error>(())
/// ```
///
/// - Channels and patterns (`SUBSCRIBE`, `PSUBSCRIBE`) live on one connection to one primary:
///   a cluster forwards every `PUBLISH` to all its nodes. If that node is lost for good, they
///   are subscribed again on another primary.
/// - Shard channels (`SSUBSCRIBE`, Redis 7+) are subscribed on the primary owning their slot,
///   one connection per such primary. When a slot moves (a migration, a failover), the server
///   drops the subscription, or the connection is lost: the slot map is refreshed and the
///   channel subscribed again on its new owner, with its handler. Messages published
///   meanwhile are lost, never duplicated.
/// - Each connection is a [`PubSub`], so reconnection, health checks and both protocols work
///   as they do there. `get_message` takes what any connection has, waiting on them in turns
///   of a few milliseconds.
pub struct ClusterPubSub {
    inner: Arc<Inner>,
}

struct Inner {
    cluster: ClusterClient,
    sessions: Mutex<Sessions>,
    ignore_subscribe_messages: AtomicBool,
    /// Which session waits next, so that none starves the others.
    turn: AtomicUsize,
}

impl ClusterClient {
    /// A [`ClusterPubSub`] on connections of its own, opened when first needed.
    pub fn pubsub(&self) -> ClusterPubSub {
        ClusterPubSub {
            inner: Arc::new(Inner {
                cluster: self.clone(),
                sessions: Mutex::new(Sessions::default()),
                ignore_subscribe_messages: AtomicBool::new(false),
                turn: AtomicUsize::new(0),
            }),
        }
    }
}

fn shared(f: impl FnMut(Message) + Send + 'static) -> Shared {
    Arc::new(Mutex::new(Box::new(f)))
}

fn names<I>(items: I) -> Vec<Bytes>
where
    I: IntoIterator,
    I::Item: AsRef<[u8]>,
{
    items
        .into_iter()
        .map(|name| Bytes::copy_from_slice(name.as_ref()))
        .collect()
}

impl ClusterPubSub {
    fn lock(&self) -> MutexGuard<'_, Sessions> {
        self.inner
            .sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn clone_handle(&self) -> ClusterPubSub {
        ClusterPubSub {
            inner: Arc::clone(&self.inner),
        }
    }

    /// When `true`, reads skip (un)subscribe confirmations.
    pub fn set_ignore_subscribe_messages(&self, ignore: bool) {
        self.inner
            .ignore_subscribe_messages
            .store(ignore, Ordering::SeqCst);
    }

    fn classic(&self, kind: Kind, names: Vec<Bytes>, handler: Option<Shared>) -> Result<()> {
        let cluster = &self.inner.cluster;
        let mut sessions = self.lock();
        for name in names {
            sessions
                .handlers
                .insert((kind, name.clone()), handler.clone());
            let session = sessions.classic(cluster)?;
            subscribe_on(session, kind, &name, handler.as_ref())?;
        }
        Ok(())
    }

    /// Subscribes to channels (`SUBSCRIBE`).
    pub fn subscribe<I>(&self, channels: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        self.classic(Kind::Channel, names(channels), None)
    }

    /// Subscribes to one channel whose messages go to `handler`.
    pub fn subscribe_with(
        &self,
        channel: impl AsRef<[u8]>,
        handler: impl FnMut(Message) + Send + 'static,
    ) -> Result<()> {
        self.classic(Kind::Channel, names([channel]), Some(shared(handler)))
    }

    /// Subscribes to glob-style patterns (`PSUBSCRIBE`).
    pub fn psubscribe<I>(&self, patterns: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        self.classic(Kind::Pattern, names(patterns), None)
    }

    /// Subscribes to one pattern whose messages go to `handler`.
    pub fn psubscribe_with(
        &self,
        pattern: impl AsRef<[u8]>,
        handler: impl FnMut(Message) + Send + 'static,
    ) -> Result<()> {
        self.classic(Kind::Pattern, names([pattern]), Some(shared(handler)))
    }

    fn shard(&self, channels: Vec<Bytes>, handler: Option<Shared>) -> Result<()> {
        let cluster = &self.inner.cluster;
        let mut sessions = self.lock();
        for channel in channels {
            sessions
                .handlers
                .insert((Kind::Shard, channel.clone()), handler.clone());
            sessions.ssubscribe(cluster, channel)?;
        }
        Ok(())
    }

    /// Subscribes to shard channels (`SSUBSCRIBE`), each on the primary owning its slot.
    pub fn ssubscribe<I>(&self, channels: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        self.shard(names(channels), None)
    }

    /// Subscribes to one shard channel whose messages go to `handler`.
    pub fn ssubscribe_with(
        &self,
        channel: impl AsRef<[u8]>,
        handler: impl FnMut(Message) + Send + 'static,
    ) -> Result<()> {
        self.shard(names([channel]), Some(shared(handler)))
    }

    fn unsubscribe_classic(&self, kind: Kind, names: Vec<Bytes>) -> Result<()> {
        let mut sessions = self.lock();
        let names = if names.is_empty() {
            let all = sessions.handlers.keys().filter(|(k, _)| *k == kind);
            all.map(|(_, name)| name.clone()).collect()
        } else {
            names
        };
        for name in &names {
            sessions.handlers.remove(&(kind, name.clone()));
        }
        let Some((_, session)) = &sessions.classic else {
            return Ok(());
        };
        match kind {
            Kind::Channel => session.unsubscribe(&names),
            _ => session.punsubscribe(&names),
        }
    }

    /// Unsubscribes from channels; none named means all of them.
    pub fn unsubscribe<I>(&self, channels: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        self.unsubscribe_classic(Kind::Channel, names(channels))
    }

    /// Unsubscribes from patterns; none named means all of them.
    pub fn punsubscribe<I>(&self, patterns: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        self.unsubscribe_classic(Kind::Pattern, names(patterns))
    }

    /// Unsubscribes from shard channels; none named means all of them.
    pub fn sunsubscribe<I>(&self, channels: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        let mut sessions = self.lock();
        let mut channels = names(channels);
        if channels.is_empty() {
            channels = sessions.book.channels();
        }
        for channel in &channels {
            sessions.sunsubscribe(channel)?;
        }
        Ok(())
    }

    /// The subscribed channels, in no particular order.
    pub fn channels(&self) -> Vec<Bytes> {
        self.names_of(Kind::Channel)
    }

    /// The subscribed patterns, in no particular order.
    pub fn patterns(&self) -> Vec<Bytes> {
        self.names_of(Kind::Pattern)
    }

    /// The subscribed shard channels, in no particular order.
    pub fn shard_channels(&self) -> Vec<Bytes> {
        self.lock().book.channels()
    }

    fn names_of(&self, kind: Kind) -> Vec<Bytes> {
        let sessions = self.lock();
        let of_kind = sessions.handlers.keys().filter(|(k, _)| *k == kind);
        of_kind.map(|(_, name)| name.clone()).collect()
    }

    /// The node a shard channel is subscribed on now (`host:port`), if it is.
    pub fn shard_node(&self, channel: impl AsRef<[u8]>) -> Option<String> {
        let sessions = self.lock();
        let node = sessions.book.node_of(channel.as_ref())?;
        (!node.is_empty()).then(|| node.clone())
    }

    /// Closes every connection and forgets every subscription.
    pub fn close(&self) {
        let mut sessions = self.lock();
        for (_, session) in sessions.all() {
            session.close();
        }
        *sessions = Sessions::default();
    }

    /// What a message read from the session on `addr` becomes: `None` when it is swallowed
    /// (an ignored confirmation, or a shard channel its server dropped because its slot moved,
    /// which is subscribed again elsewhere).
    fn filter(&self, addr: &str, message: Message) -> Option<Message> {
        if message.kind == MessageKind::SUnsubscribe {
            let mut sessions = self.lock();
            if sessions.book.node_of(&message.channel).map(String::as_str) == Some(addr) {
                // Not asked for: the server dropped it (its slot moved away). It has no node
                // until the next check subscribes it on the slot's owner.
                let slot = key_slot(&message.channel);
                sessions.book.insert(message.channel, slot, String::new());
                sessions.suspect = true;
                return None;
            }
        }
        let ignore = self.inner.ignore_subscribe_messages.load(Ordering::SeqCst);
        (!(ignore && message.kind.is_confirmation())).then_some(message)
    }

    /// One read of the session on `addr`, waiting up to `wait`.
    fn read_one(&self, addr: &str, session: &PubSub, wait: Duration) -> Result<Option<Message>> {
        match session.get_message(wait) {
            Ok(Some(message)) => Ok(self.filter(addr, message)),
            Ok(None) => Ok(None),
            Err(error) if error.breaks_connection() => {
                // The node stays unreachable under the client's retry policy: move what was
                // subscribed there.
                self.lock().lost(&self.inner.cluster, addr)?;
                Err(error)
            }
            Err(error) => {
                // Say, MOVED for a resubscription on a node demoted by a failover: the slot
                // map is checked (refreshed) before the next read.
                self.lock().suspect = true;
                Err(error)
            }
        }
    }

    /// The next message from any connection, waiting up to `timeout`; `None` when none came
    /// in time. Messages handled by a handler are consumed without being returned.
    pub fn get_message(&self, timeout: Duration) -> Result<Option<Message>> {
        let deadline = Instant::now() + timeout;
        loop {
            let sessions = {
                let mut sessions = self.lock();
                sessions.maintain(&self.inner.cluster)?;
                sessions.all()
            };
            if sessions.is_empty() {
                return Ok(None);
            }
            // First whatever has arrived anywhere, then a short wait on one of them in turn.
            for (addr, session) in &sessions {
                if let Some(message) = self.read_one(addr, session, Duration::ZERO)? {
                    return Ok(Some(message));
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            let turn = self.inner.turn.fetch_add(1, Ordering::Relaxed) % sessions.len();
            let (addr, session) = &sessions[turn];
            if let Some(message) = self.read_one(addr, session, left.min(SLICE))? {
                return Ok(Some(message));
            }
        }
    }

    /// A blocking iterator over messages; it ends once nothing is subscribed any more.
    /// Errors are yielded and the iteration may go on.
    pub fn listen(&self) -> Listen<'_> {
        Listen { pubsub: self }
    }

    /// Refuses `action` while some subscription has no handler (a worker could not deliver
    /// its messages).
    pub(super) fn ensure_handlers(&self, action: &str) -> Result<()> {
        if let Some(((kind, name), _)) = self.lock().handlers.iter().find(|(_, h)| h.is_none()) {
            return Err(Error::PubSub(format!(
                "{action}: {kind:?} {:?} has no handler registered",
                String::from_utf8_lossy(name)
            )));
        }
        Ok(())
    }

    /// Whether anything is subscribed (channels, patterns or shard channels).
    pub fn is_subscribed(&self) -> bool {
        !self.lock().handlers.is_empty()
    }
}

impl fmt::Debug for ClusterPubSub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sessions = self.lock();
        f.debug_struct("ClusterPubSub")
            .field("subscriptions", &sessions.handlers.len())
            .field("shard_connections", &sessions.shards.len())
            .finish()
    }
}

/// The iterator of [`ClusterPubSub::listen`].
#[derive(Debug)]
pub struct Listen<'a> {
    pubsub: &'a ClusterPubSub,
}

impl Iterator for Listen<'_> {
    type Item = Result<Message>;

    fn next(&mut self) -> Option<Result<Message>> {
        loop {
            if !self.pubsub.is_subscribed() {
                return None;
            }
            match self.pubsub.get_message(Duration::from_millis(100)) {
                Ok(Some(message)) => return Some(Ok(message)),
                Ok(None) => {}
                Err(e) => return Some(Err(e)),
            }
        }
    }
}
