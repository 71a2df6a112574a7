//! [`PubSub`]: a pub/sub session on a dedicated connection of a blocking [`Client`].
use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::message::Message;
use super::registry::{Family, Handler};
use super::shared::{Next, Reconnect, Shared};
use crate::client::Client;
use crate::config::Config;
use crate::error::Result;

impl Client {
    /// A [`PubSub`] on a connection of its own, opened like this client's connections when
    /// first needed (for a [`crate::sentinel::Sentinel`] client: to the server the sentinels name then).
    pub fn pubsub(&self) -> Result<PubSub> {
        Ok(PubSub {
            shared: Arc::new(Shared::with_connector(self.connector())),
        })
    }
}

/// A pub/sub session: subscriptions, their handlers and a dedicated connection.
///
/// Every method takes `&self` and the type is `Send + Sync`, so one thread may read while
/// another subscribes (as with redis-py's `run_in_thread`). Readers take turns: messages read
/// concurrently by two threads are split between them.
pub struct PubSub {
    pub(super) shared: Arc<Shared>,
}

impl fmt::Debug for PubSub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PubSub")
            .field("addr", self.shared.config.addr())
            .field("connected", &self.is_connected())
            .field("subscribed", &self.is_subscribed())
            .finish()
    }
}

/// Copies each name into its own buffer (the names are kept to resubscribe after a reconnect).
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

fn handler(f: impl FnMut(Message) + Send + 'static) -> Handler {
    Arc::new(Mutex::new(Box::new(f)))
}

impl PubSub {
    /// A pub/sub for `config`, without a client; connects on first use.
    pub fn new(config: Config) -> Result<PubSub> {
        Ok(PubSub {
            shared: Arc::new(Shared::new(config)?),
        })
    }

    /// Another handle on the same session, for the worker thread.
    pub(crate) fn clone_handle(&self) -> PubSub {
        PubSub {
            shared: Arc::clone(&self.shared),
        }
    }

    /// When `true`, [`PubSub::get_message`] and [`PubSub::listen`] skip (un)subscribe
    /// confirmations (redis-py's `ignore_subscribe_messages`).
    pub fn set_ignore_subscribe_messages(&self, ignore: bool) {
        self.shared
            .ignore_subscribe_messages
            .store(ignore, Ordering::SeqCst);
    }

    /// Whether confirmations are skipped (see [`PubSub::set_ignore_subscribe_messages`]).
    pub fn ignore_subscribe_messages(&self) -> bool {
        self.shared.ignore_subscribe_messages.load(Ordering::SeqCst)
    }

    /// Subscribes to channels (`SUBSCRIBE`); their messages are read with
    /// [`PubSub::get_message`]. The confirmations arrive as messages too.
    pub fn subscribe<I>(&self, channels: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        self.shared
            .subscribe(Family::Channel, names(channels), None)
    }

    /// Subscribes to one channel whose messages go to `handler` (replacing an earlier one).
    pub fn subscribe_with(
        &self,
        channel: impl AsRef<[u8]>,
        handler: impl FnMut(Message) + Send + 'static,
    ) -> Result<()> {
        self.shared.subscribe(
            Family::Channel,
            names([channel]),
            Some(self::handler(handler)),
        )
    }

    /// Subscribes to glob-style patterns (`PSUBSCRIBE`).
    pub fn psubscribe<I>(&self, patterns: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        self.shared
            .subscribe(Family::Pattern, names(patterns), None)
    }

    /// Subscribes to one pattern whose messages go to `handler`.
    pub fn psubscribe_with(
        &self,
        pattern: impl AsRef<[u8]>,
        handler: impl FnMut(Message) + Send + 'static,
    ) -> Result<()> {
        self.shared.subscribe(
            Family::Pattern,
            names([pattern]),
            Some(self::handler(handler)),
        )
    }

    /// Subscribes to shard channels (`SSUBSCRIBE`, Redis 7+); they are published to with
    /// `SPUBLISH`. In a cluster one call may only name channels of one slot.
    pub fn ssubscribe<I>(&self, channels: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        self.shared.subscribe(Family::Shard, names(channels), None)
    }

    /// Subscribes to one shard channel whose messages go to `handler`.
    pub fn ssubscribe_with(
        &self,
        channel: impl AsRef<[u8]>,
        handler: impl FnMut(Message) + Send + 'static,
    ) -> Result<()> {
        self.shared.subscribe(
            Family::Shard,
            names([channel]),
            Some(self::handler(handler)),
        )
    }

    /// Unsubscribes from channels; none named means all of them (as `UNSUBSCRIBE` without
    /// arguments). A handler keeps receiving messages still in flight until the server
    /// confirms. Without a connection the subscriptions are simply forgotten.
    pub fn unsubscribe<I>(&self, channels: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        self.shared.unsubscribe(Family::Channel, names(channels))
    }

    /// Unsubscribes from patterns; none named means all of them.
    pub fn punsubscribe<I>(&self, patterns: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        self.shared.unsubscribe(Family::Pattern, names(patterns))
    }

    /// Unsubscribes from shard channels; none named means all of them.
    pub fn sunsubscribe<I>(&self, channels: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        self.shared.unsubscribe(Family::Shard, names(channels))
    }

    /// Unsubscribes from every channel, pattern and shard channel.
    pub fn unsubscribe_all(&self) -> Result<()> {
        for family in Family::ALL {
            if !self.shared.lock().state.registry(family).is_empty() {
                self.shared.unsubscribe(family, Vec::new())?;
            }
        }
        Ok(())
    }

    /// Sends `PING` (with `message` unless it is empty); the answer arrives as a
    /// [`MessageKind::Pong`](super::MessageKind::Pong) message whose data is `message`.
    pub fn ping(&self, message: impl AsRef<[u8]>) -> Result<()> {
        let message = message.as_ref();
        let args = if message.is_empty() {
            Vec::new()
        } else {
            vec![Bytes::copy_from_slice(message)]
        };
        self.shared.with_connection(|s| {
            s.send("PING", &args)?;
            s.state.pinged();
            Ok(())
        })
    }

    /// The next message, waiting up to `timeout` (zero: only what has already arrived);
    /// `None` when none came in time, or when not subscribed.
    ///
    /// Messages handled by a handler, and with [`PubSub::set_ignore_subscribe_messages`]
    /// confirmations, are consumed without being returned. A lost connection is reopened and
    /// resubscribed under the client's retry policy; `Err` when that fails (the next call tries
    /// again), for an error reply, or for a payload that is not UTF-8 under
    /// `decode_responses`.
    pub fn get_message(&self, timeout: Duration) -> Result<Option<Message>> {
        let deadline = Instant::now() + timeout;
        let ignore = self.ignore_subscribe_messages();
        loop {
            match self
                .shared
                .next(Some(deadline), ignore, Reconnect::Policy)?
            {
                Next::Message(message) => return Ok(Some(message)),
                Next::Handled if Instant::now() < deadline => {}
                Next::Handled | Next::TimedOut | Next::NotSubscribed => return Ok(None),
            }
        }
    }

    /// A blocking iterator over messages (redis-py's `listen()`); it ends once nothing is
    /// subscribed any more. Errors are yielded and the iteration may go on.
    pub fn listen(&self) -> Listen<'_> {
        Listen { pubsub: self }
    }

    /// Sends a health-check `PING` when the connection sat idle longer than the
    /// `health_check_interval` (its pong is consumed by the next read), and fails when an
    /// earlier one went unanswered too long, dropping the connection so the next read
    /// reconnects. Reads call this themselves.
    pub fn check_health(&self) -> Result<()> {
        self.shared
            .lock_for_write()
            .check_health(&self.shared.config)
    }

    /// Closes the connection and forgets every subscription and handler; the pub/sub may be
    /// used again afterwards.
    pub fn close(&self) {
        self.shared.close();
    }

    /// Whether anything is subscribed (redis-py's `subscribed`): true from a subscribe until
    /// the confirmation of the last unsubscription has been read.
    pub fn is_subscribed(&self) -> bool {
        self.shared.lock().state.subscribed
    }

    /// Whether the connection is open.
    pub fn is_connected(&self) -> bool {
        self.shared.lock().conn.is_some()
    }

    /// The subscribed channels, in no particular order.
    pub fn channels(&self) -> Vec<Bytes> {
        self.shared.lock().state.registry(Family::Channel).names()
    }

    /// The subscribed patterns, in no particular order.
    pub fn patterns(&self) -> Vec<Bytes> {
        self.shared.lock().state.registry(Family::Pattern).names()
    }

    /// The subscribed shard channels, in no particular order.
    pub fn shard_channels(&self) -> Vec<Bytes> {
        self.shared.lock().state.registry(Family::Shard).names()
    }
}

/// The iterator of [`PubSub::listen`].
#[derive(Debug)]
pub struct Listen<'a> {
    pubsub: &'a PubSub,
}

impl Iterator for Listen<'_> {
    type Item = Result<Message>;

    fn next(&mut self) -> Option<Result<Message>> {
        let shared = &self.pubsub.shared;
        loop {
            let ignore = self.pubsub.ignore_subscribe_messages();
            match shared.next(None, ignore, Reconnect::Policy) {
                Ok(Next::Message(message)) => return Some(Ok(message)),
                Ok(Next::Handled | Next::TimedOut) => {}
                Ok(Next::NotSubscribed) => return None,
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pubsub::PubSubWorker;

    #[test]
    fn pubsub_is_send_and_sync() {
        fn assert_traits<T: Send + Sync + 'static>() {}
        assert_traits::<PubSub>();
        assert_traits::<PubSubWorker>();
        assert_traits::<Message>();
    }

    #[test]
    fn names_are_copied_from_any_byte_strings() {
        let owned = vec![String::from("a"), String::from("b")];
        assert_eq!(names(&owned), vec![Bytes::from("a"), Bytes::from("b")]);
        assert_eq!(names([&b"x"[..]]), vec![Bytes::from("x")]);
    }

    #[test]
    fn run_in_thread_refuses_subscriptions_without_handlers() {
        let pubsub = PubSub::new(Config::default()).unwrap();
        pubsub
            .shared
            .lock()
            .state
            .registry_mut(Family::Pattern)
            .add("p*".into(), None);
        let err = pubsub
            .run_in_thread(Duration::from_millis(1), None)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "pub/sub error: run_in_thread: pattern \"p*\" has no handler registered"
        );
    }
}
