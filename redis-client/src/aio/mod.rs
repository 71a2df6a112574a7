//! The tokio front end (feature `tokio`): the same connection core as the blocking client,
//! driven by tasks and tokio's sockets and timers.
//!
//! - [`AsyncConnection`]: one connection you own, a [`Dedicated`](crate::Dedicated) executor.
//! - [`AsyncClient`]: `Send + Sync + Clone`; commands share one multiplexed connection driven
//!   by a task, blocking ones take a dedicated connection ([`PooledAsyncConnection`]).
//! - [`AsyncPipeline`]: pipelines and `MULTI` … `EXEC` on the shared connection;
//!   [`AsyncClient::transaction`] for `WATCH`-based optimistic transactions.

mod client;
mod client_future;
mod client_inner;
mod connection;
mod future;
mod mux;
mod pipeline;
mod pool;
mod run;
mod stream;
mod transaction;
mod wire;

// aio2's modules.
mod lock;
mod monitor;
mod pubsub;
mod pubsub_args;
mod pubsub_handle;
mod pubsub_read;
mod scan;
mod script;
mod sentinel;
mod sentinel_client;
mod sentinel_listen;
mod sentinel_located;

pub use client::{AsyncClient, AsyncClientOptions};
pub use client_future::{ClientFuture, ClientReplyFuture};
pub use connection::AsyncConnection;
pub use future::{CommandFuture, ReplyFuture};
pub use pipeline::AsyncPipeline;
pub use pool::PooledAsyncConnection;
pub use transaction::{AsyncTransaction, TransactionFuture};

// Pub/sub, monitor, scans, scripts, locks and sentinel on the async front end (aio2).
pub use lock::{AsyncLock, AsyncLockGuard, LockClient};
pub use monitor::AsyncMonitor;
pub use pubsub::AsyncPubSub;
pub use pubsub_handle::PubSubHandle;
pub use scan::AsyncScanIter;
pub use script::AsyncRunner;
pub use sentinel::AsyncSentinel;
pub use sentinel_client::{AsyncSentinelClient, SentinelFuture};
