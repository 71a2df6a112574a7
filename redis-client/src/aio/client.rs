//! [`AsyncClient`]: a `Send + Sync + Clone` handle whose commands share one multiplexed
//! connection, with a small pool of dedicated connections beside it.

use std::future::Future;
use std::sync::Arc;

use super::client_future::{ClientFuture, ClientReplyFuture};
use super::client_inner::Inner;
use super::mux::Mux;
use super::pool::{Pool, PooledAsyncConnection};
use super::stream::tls_connector;
use crate::command::{refuse_connection_state, Command, Decoder};
use crate::config::Config;
use crate::connection::request::{Request, Typed};
use crate::error::Result;
use crate::executor::Executor;
use crate::resp::{FromValue, ToArgs};

/// What an [`AsyncClient`] is, for errors refusing connection-state commands.
pub(crate) const KIND: &str = "an async client";

/// Limits of an [`AsyncClient`] beyond its [`Config`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AsyncClientOptions {
    max_in_flight: usize,
    dedicated_connections: usize,
}

impl Default for AsyncClientOptions {
    /// 4 096 commands in flight on the shared connection, 8 dedicated connections.
    fn default() -> Self {
        AsyncClientOptions {
            max_in_flight: 4096,
            dedicated_connections: 8,
        }
    }
}

impl AsyncClientOptions {
    /// How many commands may wait for their replies on the shared connection at once; more
    /// wait for room (backpressure) instead of queueing without bound.
    pub fn max_in_flight(mut self, max: usize) -> Self {
        self.max_in_flight = max.max(1);
        self
    }

    /// How many dedicated connections (blocking commands, transactions, borrowed
    /// connections) may be open at once; more wait for one to be returned.
    pub fn dedicated_connections(mut self, max: usize) -> Self {
        self.dedicated_connections = max.max(1);
        self
    }
}

/// An async client: clone it freely and share it between tasks; commands of every clone share
/// one multiplexed connection per server, pipelined automatically.
///
/// ```no_run
/// use redis_client::prelude::*;
/// use redis_client::AsyncClient;
///
/// # async fn demo() -> redis_client::Result<()> {
/// let client = AsyncClient::open("redis://127.0.0.1/0")?;
/// client.set("k", "v").await?;
/// let v = client.get("k").await?;
/// let old = client.run(cmd::Set::new("k", "w").get()).await?;
/// # Ok(())
/// # }
/// ```
///
/// - A driver task (spawned on the runtime of the first command) owns the socket and a
///   connection core; callers queue encoded commands in that core and the driver writes them
///   together. A future dropped at any point abandons its reply: it is read and dropped, never
///   handed to another caller.
/// - Replies time out after the socket timeout (blocking commands get theirs added), naming
///   the command. At most [`AsyncClientOptions::max_in_flight`] commands wait at once.
/// - Blocking commands (`BLPOP`, `XREAD BLOCK` …, per the generated table) run on a dedicated
///   connection so they never hold up the shared one; connection-state commands (`WATCH`,
///   `SELECT`, `SUBSCRIBE` …) are refused, as on the blocking [`Client`](crate::Client): run
///   them on [`AsyncClient::get_connection`].
/// - A failed connection is replaced when the next command comes; failed commands are retried
///   under the config's [`Retry`](crate::Retry) policy by the same rule as the blocking client
///   (a command that cannot have run is resent; one that may have run only when it is
///   read-only or declared idempotent).
///
/// The futures ([`ClientFuture`], [`ClientReplyFuture`]) are `Send + 'static`, so they can be
/// spawned. The client belongs to the runtime of its first command: its driver task runs there.
#[derive(Clone)]
pub struct AsyncClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for AsyncClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncClient")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl AsyncClient {
    /// A client for a URL (see [`Config::from_url`]). Connects lazily.
    pub fn open(url: &str) -> Result<AsyncClient> {
        AsyncClient::new(Config::from_url(url)?)
    }

    /// A client with the default [`AsyncClientOptions`]. Connects lazily; TLS certificate
    /// files are read now, so a bad one fails here.
    pub fn new(config: Config) -> Result<AsyncClient> {
        AsyncClient::with_options(config, AsyncClientOptions::default())
    }

    /// A client with the limits `options` sets.
    pub fn with_options(config: Config, options: AsyncClientOptions) -> Result<AsyncClient> {
        let tls = tls_connector(&config)?;
        let mux = Mux::new(config.clone(), tls.clone(), options.max_in_flight);
        let pool = Pool::new(config.clone(), tls, options.dedicated_connections);
        Ok(AsyncClient {
            inner: Arc::new(Inner {
                config,
                mux: Arc::new(mux),
                pool: Arc::new(pool),
            }),
        })
    }

    /// The configuration the client connects with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Sends one command and returns its reply: the raw escape hatch,
    /// `client.execute(["SET", "k", "v"]).await`. Error replies become `Err`; failures are
    /// retried per the config's [`Retry`](crate::Retry) policy.
    pub fn execute(&self, args: impl ToArgs) -> ClientReplyFuture {
        self.request(Request::encode(&args), false)
    }

    /// Like [`AsyncClient::execute`], declaring that running the command twice is harmless, so
    /// it may be retried even after it might have reached the server.
    pub fn execute_idempotent(&self, args: impl ToArgs) -> ClientReplyFuture {
        self.request(Request::encode(&args), true)
    }

    /// Sends one command and converts its reply into `T`.
    pub fn query<T: FromValue>(
        &self,
        args: impl ToArgs,
    ) -> impl Future<Output = Result<T>> + Send + 'static {
        let reply = self.execute(args);
        async move {
            let name = reply.name();
            let value = reply.await?;
            T::from_value(value).map_err(|e| e.with_command(&name))
        }
    }

    fn request(&self, request: Result<Request>, idempotent: bool) -> ClientReplyFuture {
        let inner = Arc::clone(&self.inner);
        let request = request.and_then(|request| {
            // Every command of the shared connection shares its state.
            request.info.refuse_connection_state(KIND)?;
            Ok(request)
        });
        match request {
            Ok(request) => {
                let safe = idempotent || request.info.is_read_only();
                ClientReplyFuture::new(inner, request, safe)
            }
            Err(error) => ClientReplyFuture::failed(inner, error),
        }
    }

    pub(crate) fn inner(&self) -> &Arc<Inner> {
        &self.inner
    }

    /// Borrows a dedicated connection (for `WATCH` … `EXEC`, `SELECT`, subscriptions …); it
    /// goes back to the client when dropped, unless its state on the server changed.
    pub async fn get_connection(&self) -> Result<PooledAsyncConnection> {
        self.inner.pool.get().await
    }
}

impl Executor for &AsyncClient {
    type Output<T> = ClientFuture<T>;

    fn run<C: Command>(self, cmd: C) -> ClientFuture<C::Output> {
        let decoder = Decoder::of(&cmd);
        let protocol = self.inner.config.protocol();
        let request = refuse_connection_state::<C>(KIND)
            .and_then(|()| cmd.check())
            .and_then(|()| Request::encode_as(&cmd, Some(Typed::of::<C>())));
        let inner = Arc::clone(&self.inner);
        let reply = match request {
            Ok(request) => {
                let safe = request.info.is_read_only();
                ClientReplyFuture::new(inner, request, safe)
            }
            Err(error) => ClientReplyFuture::failed(inner, error),
        };
        ClientFuture::new(reply, decoder, protocol)
    }
}
