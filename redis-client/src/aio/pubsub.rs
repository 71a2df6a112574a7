//! [`AsyncPubSub`]: publish/subscribe on a connection of its own, read message by message.
//!
//! The subscription bookkeeping, where each message goes, the health-check rules and what to
//! send after a reconnect are the blocking [`PubSub`](crate::pubsub::PubSub)'s
//! ([`crate::pubsub::state`]); this file only moves bytes with tokio.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use tokio::sync::mpsc;

use super::connection::AsyncConnection;
use super::pubsub_args::{names, ping_args};
use super::pubsub_handle::{PubSubHandle, Request};
use super::sentinel_located::Located;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::pubsub::registry::Family;
use crate::pubsub::state::State;
use crate::pubsub::Message;

/// A pub/sub session on a dedicated connection, driven by tokio.
///
/// Subscribe to channels, patterns and shard channels, then read with
/// [`AsyncPubSub::next_message`] (the stream of messages: `None` once nothing is subscribed)
/// or [`AsyncPubSub::get_message`] (waits at most a given time):
///
/// ```no_run
/// use std::time::Duration;
/// use redis_client::aio::AsyncPubSub;
/// use redis_client::Config;
///
/// # async fn demo() -> redis_client::Result<()> {
/// let mut pubsub = AsyncPubSub::new(Config::from_url("redis://127.0.0.1/")?);
/// pubsub.subscribe(["news"]).await?;
/// pubsub.psubscribe(["alerts.*"]).await?;
/// let handle = pubsub.handle(); // subscribe from other tasks while this one reads
/// tokio::spawn(async move { handle.ssubscribe(["orders"]) });
/// while let Some(message) = pubsub.next_message().await? {
///     println!("{} {:?} {:?}", message.kind, message.channel, message.data);
/// }
/// # Ok(())
/// # }
/// ```
///
/// - Both protocols work: RESP2 delivers messages as arrays, RESP3 as push frames.
/// - Confirmations of (un)subscriptions arrive as messages unless
///   [`AsyncPubSub::set_ignore_subscribe_messages`] is on.
/// - With `health_check_interval` set, a `PING` goes out whenever the connection sat idle that
///   long while a read waits; one left unanswered for the socket timeout (or the interval)
///   counts as a lost connection.
/// - A lost connection is reopened under the config's retry policy and everything subscribed
///   again; messages published meanwhile are lost, never duplicated.
/// - A read future dropped at any point leaves the connection in step: a message half
///   received stays buffered for the next read.
pub struct AsyncPubSub {
    pub(super) config: Config,
    pub(super) conn: Option<AsyncConnection>,
    pub(super) state: State,
    pub(super) ignore_subscribe_messages: bool,
    /// When bytes last went either way, for the health check.
    pub(super) last_io: Instant,
    /// Requests from [`PubSubHandle`]s, applied before and during reads.
    pub(super) requests: mpsc::UnboundedReceiver<Request>,
    pub(super) sender: mpsc::UnboundedSender<Request>,
    /// For a sentinel client's pub/sub: each connection goes to the server the sentinels
    /// name at that moment, not to the config's address.
    pub(super) located: Option<Arc<Located>>,
}

impl fmt::Debug for AsyncPubSub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncPubSub")
            .field("addr", self.config.addr())
            .field("connected", &self.is_connected())
            .field("subscribed", &self.is_subscribed())
            .finish()
    }
}

impl super::client::AsyncClient {
    /// An [`AsyncPubSub`] on a connection of its own, opened from this client's config on the
    /// first subscription.
    pub fn pubsub(&self) -> AsyncPubSub {
        AsyncPubSub::new(self.config().clone())
    }
}

impl AsyncPubSub {
    /// A pub/sub for `config`; connects on the first subscription.
    pub fn new(config: Config) -> AsyncPubSub {
        let (sender, requests) = mpsc::unbounded_channel();
        AsyncPubSub {
            config,
            conn: None,
            state: State::default(),
            ignore_subscribe_messages: false,
            last_io: Instant::now(),
            requests,
            sender,
            located: None,
        }
    }

    /// A handle that subscribes, unsubscribes and pings from other tasks while this pub/sub
    /// reads; its requests go out at the next read (a waiting read wakes up for them).
    pub fn handle(&self) -> PubSubHandle {
        PubSubHandle::new(self.sender.clone())
    }

    /// When `true`, reads skip (un)subscribe confirmations (redis-py's
    /// `ignore_subscribe_messages`).
    pub fn set_ignore_subscribe_messages(&mut self, ignore: bool) {
        self.ignore_subscribe_messages = ignore;
    }

    /// Subscribes to channels (`SUBSCRIBE`); the confirmations arrive as messages.
    pub async fn subscribe<I>(&mut self, channels: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        self.subscribe_family(Family::Channel, names(channels))
            .await
    }

    /// Subscribes to glob-style patterns (`PSUBSCRIBE`).
    pub async fn psubscribe<I>(&mut self, patterns: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        self.subscribe_family(Family::Pattern, names(patterns))
            .await
    }

    /// Subscribes to shard channels (`SSUBSCRIBE`, Redis 7+), published to with `SPUBLISH`.
    pub async fn ssubscribe<I>(&mut self, channels: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        self.subscribe_family(Family::Shard, names(channels)).await
    }

    /// Unsubscribes from channels; none named means all of them. Messages still in flight
    /// arrive until the server confirms. Without a connection they are simply forgotten.
    pub async fn unsubscribe<I>(&mut self, channels: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        self.unsubscribe_family(Family::Channel, names(channels))
            .await
    }

    /// Unsubscribes from patterns; none named means all of them.
    pub async fn punsubscribe<I>(&mut self, patterns: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        self.unsubscribe_family(Family::Pattern, names(patterns))
            .await
    }

    /// Unsubscribes from shard channels; none named means all of them.
    pub async fn sunsubscribe<I>(&mut self, channels: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        self.unsubscribe_family(Family::Shard, names(channels))
            .await
    }

    /// Sends `PING` (with `message` unless it is empty); the answer arrives as a
    /// [`MessageKind::Pong`](crate::pubsub::MessageKind::Pong) message whose data is `message`.
    pub async fn ping(&mut self, message: impl AsRef<[u8]>) -> Result<()> {
        self.with_connection("PING", &ping_args(message.as_ref()))
            .await?;
        self.state.pinged();
        Ok(())
    }

    /// Closes the connection and forgets every subscription; the pub/sub may be used again.
    pub fn close(&mut self) {
        self.conn = None;
        self.state.reset();
    }

    /// Whether anything is subscribed: true from a subscribe until the confirmation of the
    /// last unsubscription has been read.
    pub fn is_subscribed(&self) -> bool {
        self.state.subscribed
    }

    /// Whether the connection is open.
    pub fn is_connected(&self) -> bool {
        self.conn.is_some()
    }

    /// The subscribed channels, in no particular order.
    pub fn channels(&self) -> Vec<Bytes> {
        self.state.registry(Family::Channel).names()
    }

    /// The subscribed patterns, in no particular order.
    pub fn patterns(&self) -> Vec<Bytes> {
        self.state.registry(Family::Pattern).names()
    }

    /// The subscribed shard channels, in no particular order.
    pub fn shard_channels(&self) -> Vec<Bytes> {
        self.state.registry(Family::Shard).names()
    }

    /// Subscribes to `names` of `family`, connecting first if needed.
    pub(super) async fn subscribe_family(
        &mut self,
        family: Family,
        names: Vec<Bytes>,
    ) -> Result<()> {
        if names.is_empty() {
            return Err(Error::PubSub(format!(
                "{} needs at least one {}",
                family.subscribe_command(),
                family.noun()
            )));
        }
        self.drop_broken();
        if self.conn.is_none() {
            // Dropped while connecting, nothing was sent: nothing to record.
            self.connect_under_policy(None).await?;
        }
        // Recorded before sending: once queued, the command reaches the server even if this
        // future is dropped midway (the next read sends what is buffered).
        let registry = self.state.registry(family);
        let fresh: Vec<Bytes> = names
            .iter()
            .filter(|name| !registry.contains(name))
            .cloned()
            .collect();
        self.state.subscribed_to(family, &names, None);
        let result = match self.send(family.subscribe_command(), &names).await {
            Ok(()) => Ok(()),
            // A new connection subscribes to everything recorded, these names included.
            Err(e) if self.conn.is_none() => self.connect_under_policy(Some(e)).await,
            Err(e) => Err(e),
        };
        if result.is_err() && !fresh.is_empty() {
            self.state.removed_now(family, &fresh);
        }
        result
    }

    /// Opens a connection (subscribing to everything recorded), after `first` (the failure
    /// that lost the old one, if any), retrying under the policy while the failures are
    /// connection errors.
    async fn connect_under_policy(&mut self, first: Option<Error>) -> Result<()> {
        let retry = self.config.retry();
        let mut attempt = 0;
        let mut last = first;
        loop {
            if let Some(error) = last.take() {
                if !error.is_connection_error() || attempt >= retry.retries() {
                    return Err(error);
                }
                tokio::time::sleep(retry.backoff().delay(attempt)).await;
                attempt += 1;
            }
            match self.connect().await {
                Ok(()) => return Ok(()),
                Err(error) => last = Some(error),
            }
        }
    }

    /// Unsubscribes from `names` of `family` (all of them when empty).
    pub(super) async fn unsubscribe_family(
        &mut self,
        family: Family,
        names: Vec<Bytes>,
    ) -> Result<()> {
        self.drop_broken();
        if self.conn.is_some() {
            // Recorded first, as for subscriptions: a queued command goes out even if this
            // future is dropped, and its confirmation must find the names pending.
            self.state.registry_mut(family).unsubscribing(&names);
            match self.send(family.unsubscribe_command(), &names).await {
                Ok(()) => return Ok(()),
                // The server dropped every subscription with the connection.
                Err(e) if e.breaks_connection() => {}
                Err(e) => return Err(e),
            }
        }
        // No connection: nothing on the server to undo, and no confirmation will come.
        self.state.removed_now(family, &names);
        Ok(())
    }

    /// Sends `command` with `args` on the connection, opened first if needed; again under the
    /// retry policy when the connection fails.
    pub(super) async fn with_connection(
        &mut self,
        command: &'static str,
        args: &[Bytes],
    ) -> Result<()> {
        let retry = self.config.retry();
        let mut attempt = 0;
        loop {
            self.drop_broken();
            let result = match self.conn {
                Some(_) => Ok(()),
                None => self.connect().await,
            };
            let result = match result {
                Ok(()) => self.send(command, args).await,
                Err(e) => Err(e),
            };
            match result {
                Ok(()) => return Ok(()),
                Err(e) if e.is_connection_error() && attempt < retry.retries() => {
                    tokio::time::sleep(retry.backoff().delay(attempt)).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Writes and sends one command on the connection, which must exist.
    pub(super) async fn send(&mut self, command: &'static str, args: &[Bytes]) -> Result<()> {
        let Some(conn) = self.conn.as_mut() else {
            return Err(Error::PubSub(
                "the pub/sub connection is not open; subscribe first".into(),
            ));
        };
        let written = match conn.send_command(&(command, args)) {
            Ok(()) => conn.flush().await,
            Err(e) => Err(e),
        };
        if let Err(e) = written {
            let e = e.with_command(command);
            if e.breaks_connection() {
                self.disconnect();
            }
            return Err(e);
        }
        self.state.sent(command);
        self.last_io = Instant::now();
        Ok(())
    }

    /// Opens a connection and subscribes again to everything recorded.
    pub(super) async fn connect(&mut self) -> Result<()> {
        self.disconnect();
        let mut conn = match &self.located {
            None => AsyncConnection::open(&self.config).await?,
            Some(located) => {
                let client = located.client().await?;
                AsyncConnection::open(client.config()).await?
            }
        };
        let mut last = None;
        for (command, names) in self.state.resubscribe_commands() {
            conn.send_command(&(command, &names))?;
            last = Some(command);
        }
        conn.flush().await?;
        if let Some(command) = last {
            self.state.sent(command);
        }
        self.conn = Some(conn);
        self.last_io = Instant::now();
        Ok(())
    }

    /// The connection is known to be lost: the server forgot every subscription with it.
    pub(super) fn disconnect(&mut self) {
        self.conn = None;
        self.state.disconnected();
    }

    /// Forgets a connection that broke (an I/O, timeout or protocol error).
    pub(super) fn drop_broken(&mut self) {
        if self.conn.as_ref().is_some_and(AsyncConnection::is_broken) {
            self.disconnect();
        }
    }

    /// Applies a received frame to the subscription state; `Some` for a message the caller
    /// gets.
    pub(super) fn take_frame(&mut self, frame: crate::Value) -> Result<Option<Message>> {
        self.last_io = Instant::now();
        let mut message = Message::from_frame(frame, self.state.last_command)?;
        if self.config.decode_responses() {
            message = message.decode()?;
        }
        Ok(
            match self.state.dispatch(message, self.ignore_subscribe_messages) {
                crate::pubsub::state::Outcome::Deliver(message) => Some(message),
                // No handlers are registered here: only ignored confirmations and
                // health-check pongs are swallowed.
                crate::pubsub::state::Outcome::Handle(..) | crate::pubsub::state::Outcome::Drop => {
                    None
                }
            },
        )
    }
}
