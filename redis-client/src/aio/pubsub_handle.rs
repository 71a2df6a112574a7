//! [`PubSubHandle`]: changes an [`AsyncPubSub`](super::AsyncPubSub)'s subscriptions from other
//! tasks while it reads.

use bytes::Bytes;
use tokio::sync::mpsc;

use super::pubsub_args::{names, ping_args};
use crate::error::{Error, Result};
use crate::pubsub::registry::Family;

/// What a handle asks of its pub/sub.
#[derive(Debug)]
pub(super) enum Request {
    Subscribe(Family, Vec<Bytes>),
    Unsubscribe(Family, Vec<Bytes>),
    Ping(Vec<Bytes>),
}

/// A cloneable, `Send + Sync` handle on an [`AsyncPubSub`](super::AsyncPubSub), from
/// [`AsyncPubSub::handle`](super::AsyncPubSub::handle).
///
/// Each call queues its request and returns at once; the pub/sub sends it at its next read (a
/// read already waiting wakes up for it), in the order the calls were made. Their outcomes show
/// in the stream: confirmations as messages, a failure to send as the read's error. `Err` here
/// only means the pub/sub was dropped.
#[derive(Clone, Debug)]
pub struct PubSubHandle {
    sender: mpsc::UnboundedSender<Request>,
}

impl PubSubHandle {
    pub(super) fn new(sender: mpsc::UnboundedSender<Request>) -> PubSubHandle {
        PubSubHandle { sender }
    }

    fn ask(&self, request: Request) -> Result<()> {
        self.sender
            .send(request)
            .map_err(|_| Error::PubSub("the pub/sub this handle belongs to was dropped".into()))
    }

    fn subscribe_family(&self, family: Family, names: Vec<Bytes>) -> Result<()> {
        if names.is_empty() {
            return Err(Error::PubSub(format!(
                "{} needs at least one {}",
                family.subscribe_command(),
                family.noun()
            )));
        }
        self.ask(Request::Subscribe(family, names))
    }

    /// Subscribes to channels (`SUBSCRIBE`).
    pub fn subscribe<I>(&self, channels: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        self.subscribe_family(Family::Channel, names(channels))
    }

    /// Subscribes to patterns (`PSUBSCRIBE`).
    pub fn psubscribe<I>(&self, patterns: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        self.subscribe_family(Family::Pattern, names(patterns))
    }

    /// Subscribes to shard channels (`SSUBSCRIBE`).
    pub fn ssubscribe<I>(&self, channels: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        self.subscribe_family(Family::Shard, names(channels))
    }

    /// Unsubscribes from channels; none named means all of them.
    pub fn unsubscribe<I>(&self, channels: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        self.ask(Request::Unsubscribe(Family::Channel, names(channels)))
    }

    /// Unsubscribes from patterns; none named means all of them.
    pub fn punsubscribe<I>(&self, patterns: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        self.ask(Request::Unsubscribe(Family::Pattern, names(patterns)))
    }

    /// Unsubscribes from shard channels; none named means all of them.
    pub fn sunsubscribe<I>(&self, channels: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        self.ask(Request::Unsubscribe(Family::Shard, names(channels)))
    }

    /// Sends `PING` (with `message` unless it is empty); the pong arrives as a message.
    pub fn ping(&self, message: impl AsRef<[u8]>) -> Result<()> {
        self.ask(Request::Ping(ping_args(message.as_ref())))
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;

    use crate::aio::{
        AsyncClient, AsyncLock, AsyncLockGuard, AsyncMonitor, AsyncPubSub, AsyncScanIter,
        AsyncSentinel, AsyncSentinelClient, PubSubHandle, SentinelFuture,
    };
    use crate::{Config, Value};

    #[test]
    fn the_async_types_and_their_futures_can_move_between_threads() {
        fn send_sync<T: Send + Sync + 'static>() {}
        fn send_only<T: Send + 'static>() {}
        // One owner each: they hold a connection, which is Send but not Sync.
        send_only::<AsyncPubSub>();
        send_only::<AsyncMonitor>();
        send_only::<SentinelFuture<Value>>();
        send_sync::<PubSubHandle>();
        send_sync::<AsyncLock>();
        send_sync::<AsyncLockGuard>();
        send_sync::<AsyncSentinel>();
        send_sync::<AsyncSentinelClient>();
        send_sync::<AsyncScanIter<&'static AsyncClient, String>>();
        // Futures are checked without running them (no runtime needed to build them).
        let mut pubsub = AsyncPubSub::new(Config::default());
        let read = pubsub.next_message();
        fn future_is_send<F: Future + Send>(_: F) {}
        future_is_send(read);
    }
}
