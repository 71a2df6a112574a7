//! [`AsyncSentinelClient`]: the clients of [`AsyncSentinel::master_for`] and
//! [`AsyncSentinel::slave_for`], which follow their server through failovers.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use super::client::AsyncClient;
use super::pubsub::AsyncPubSub;
use super::sentinel::AsyncSentinel;
use super::sentinel_listen;
use super::sentinel_located::{Located, Role};
use crate::command::{refuse_connection_state, Command, Decoder};
use crate::config::Protocol;
use crate::error::Result;
use crate::executor::Executor;
use crate::resp::{Cmd, FromValue, ToArgs, Value};

/// How errors name this executor when refusing connection-state commands.
const KIND: &str = "an async sentinel client";

/// A client for the master (or the replicas) of one name, from [`AsyncSentinel::master_for`]
/// or [`AsyncSentinel::slave_for`]; cheap to clone, `Send + Sync`.
///
/// It holds an [`AsyncClient`] for the server the sentinels name, made when first needed and
/// replaced when that server is no longer current: after a `READONLY` reply or a connection
/// error, when the sentinels announce a failover (`+try-failover` fences the old master off,
/// `+switch-master` names the new one; followed by one task per sentinel unless
/// [`SentinelOptions::listen_for_switch`](crate::sentinel::SentinelOptions::listen_for_switch)
/// is off), exactly by the blocking [`Sentinel`](crate::sentinel::Sentinel)'s rules, whose memory
/// it shares. A command refused with `READONLY` is sent again to the new master under the
/// retry policy (the server refused it, so it did not run); a read-only command is resent
/// after a connection error too. No usable server is [`Error::MasterNotFound`] /
/// [`Error::SlaveNotFound`].
///
/// Every generated command works on `&AsyncSentinelClient`; each call allocates its future
/// once (it may have to wait for the sentinels before the command can go anywhere).
///
/// [`Error::MasterNotFound`]: crate::Error::MasterNotFound
/// [`Error::SlaveNotFound`]: crate::Error::SlaveNotFound
#[derive(Clone)]
pub struct AsyncSentinelClient {
    shared: Arc<Located>,
}

impl fmt::Debug for AsyncSentinelClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let current = self.shared.current_addr();
        f.debug_struct("AsyncSentinelClient")
            .field("name", &self.shared.name)
            .field("role", &self.shared.role)
            .field("current", &current)
            .finish()
    }
}

impl AsyncSentinel {
    /// A client for the master of `name`, following it through failovers (see
    /// [`AsyncSentinelClient`]). Connects lazily; following the sentinels' announcements
    /// needs a tokio runtime (its tasks are spawned here).
    pub fn master_for(&self, name: &str) -> Result<AsyncSentinelClient> {
        let client = AsyncSentinelClient::new(self, name, Role::Master);
        if self.options().follows_switches() {
            sentinel_listen::spawn(&client.shared)?;
        }
        Ok(client)
    }

    /// A client for the replicas of `name`: each new connection goes to the next usable
    /// replica, or to the master when none answers. Connects lazily.
    pub fn slave_for(&self, name: &str) -> Result<AsyncSentinelClient> {
        Ok(AsyncSentinelClient::new(self, name, Role::Replica))
    }
}

impl AsyncSentinelClient {
    fn new(sentinel: &AsyncSentinel, name: &str, role: Role) -> AsyncSentinelClient {
        AsyncSentinelClient {
            shared: Arc::new(Located::new(sentinel, name, role)),
        }
    }

    /// The client for the server in use now, found first if needed.
    pub async fn client(&self) -> Result<AsyncClient> {
        self.shared.client().await
    }

    /// An [`AsyncPubSub`] whose every connection (the first and each one after a lost one)
    /// goes to the server this client follows at that moment.
    pub fn pubsub(&self) -> AsyncPubSub {
        let mut pubsub = AsyncPubSub::new(self.shared.sentinel.options().data().clone());
        pubsub.located = Some(Arc::clone(&self.shared));
        pubsub
    }

    /// The address of the server in use now, if one was found.
    pub fn current_addr(&self) -> Option<String> {
        self.shared.current_addr()
    }

    /// Sends one raw command to the server in use and returns its reply (see
    /// [`AsyncClient::execute`]).
    pub fn execute(&self, args: impl ToArgs) -> SentinelFuture<Value> {
        self.query(args)
    }

    /// Sends one raw command and converts its reply into `T`.
    pub fn query<T: FromValue>(&self, args: impl ToArgs) -> SentinelFuture<T> {
        let raw = Cmd::from_args(&args);
        let head: Vec<&[u8]> = raw.args().take(2).collect();
        let read_only =
            crate::command_meta::lookup_args(&head).is_some_and(|meta| meta.is_read_only());
        self.raw(raw, read_only)
    }

    fn raw<T>(&self, raw: Cmd, read_only: bool) -> SentinelFuture<T> {
        let shared = Arc::clone(&self.shared);
        SentinelFuture {
            reply: Box::pin(async move { shared.run(raw, read_only).await }),
            decode: Decode::Raw,
        }
    }
}

/// How a [`SentinelFuture`] turns the reply into its output.
enum Decode<T> {
    /// A typed command's reply: reshaped for the protocol, then converted.
    Typed(Decoder<T>, Protocol),
    /// A raw command's reply: converted as it is.
    Raw,
}

/// The output of a command on an [`AsyncSentinelClient`]: `Send + 'static`; the part that
/// finds the server and sends is allocated once per call.
#[must_use = "a command future does nothing unless awaited"]
pub struct SentinelFuture<T> {
    reply: Pin<Box<dyn Future<Output = Result<Value>> + Send>>,
    decode: Decode<T>,
}

impl<T> fmt::Debug for SentinelFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SentinelFuture").finish_non_exhaustive()
    }
}

impl<T: FromValue> Future for SentinelFuture<T> {
    type Output = Result<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        let value = ready!(self.reply.as_mut().poll(cx))?;
        Poll::Ready(match &self.decode {
            Decode::Typed(decoder, protocol) => decoder.decode(value, *protocol),
            Decode::Raw => T::from_value(value),
        })
    }
}

impl Executor for &AsyncSentinelClient {
    type Output<T> = SentinelFuture<T>;

    fn run<C: Command>(self, cmd: C) -> SentinelFuture<C::Output> {
        let checked = refuse_connection_state::<C>(KIND).and_then(|()| cmd.check());
        let raw = Cmd::from_args(&cmd);
        let read_only = C::META.is_some_and(|meta| meta.is_read_only());
        let shared = Arc::clone(&self.shared);
        let protocol = shared.sentinel.options().data().protocol();
        SentinelFuture {
            reply: Box::pin(async move {
                checked?;
                shared.run(raw, read_only).await
            }),
            decode: Decode::Typed(Decoder::of(&cmd), protocol),
        }
    }
}
