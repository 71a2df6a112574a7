//! redis-client: a fast, typed, sync-first Redis client.
//!
//! The whole command surface is generated from the command spec in `commands/`: every command
//! is a typed value in [`cmd`] and a short-form method of [`Commands`] on every [`Executor`]
//! (a pooled [`Client`], a [`Connection`], a [`Pipeline`]). The hand-written runtime supplies
//! the wire protocol ([`resp`]), connections, pools, pipelines and transactions, pub/sub,
//! scripts, locks, scan iterators, MONITOR and Sentinel.
//!
//! ```no_run
//! use redis_client::prelude::*;
//!
//! # fn main() -> redis_client::Result<()> {
//! let client = Client::open("redis://127.0.0.1/0")?;
//! client.set("k", "v")?;
//! let old: Option<bytes::Bytes> = client.run(cmd::Set::new("k", "w").get())?;
//! # Ok(())
//! # }
//! ```
//!
//! # The doors
//!
//! Every item has one path: the crate root for what most programs name, five namespaces for
//! families of items reached through them. [`prelude`] gathers the everyday ones.
//!
//! - **Clients and connections** — [`Client`] (pooled, multiplexed or single-connection; the
//!   entry point), [`ClientConnection`] (a connection borrowed from it), [`Connection`] (one
//!   connection you own), [`PushHandler`], [`ResponseCallback`].
//! - **Configuration** — [`Config`] and [`ConfigBuilder`] (from a URL or built),
//!   [`ConnectionAddr`], [`Protocol`], [`TlsConfig`], [`Password`]; retries: [`Retry`],
//!   [`Backoff`].
//! - **Pools** — [`ConnectionPool`] (fails when exhausted), [`BlockingConnectionPool`] (waits),
//!   [`PooledConnection`], [`PoolStats`].
//! - **Commands** — [`cmd`] (one typed value per command and subcommand), [`Commands`] (their
//!   short forms on every executor), [`ConnectionCommands`] (those that change a connection's
//!   state, on dedicated executors only), [`Executor`] and [`Dedicated`] (what runs them).
//! - **Replies and arguments** — [`Value`] (a reply as it came), [`FromValue`] (into Rust
//!   types), [`ToArgs`] (from Rust values into arguments).
//! - **Errors** — [`Error`], [`Result`], [`ServerError`] (an error reply, its code kept).
//! - **Pipelines and transactions** — [`Pipeline`], [`TypedPipeline`], [`Immediate`] (commands
//!   run at once while keys are watched), [`TransactionOptions`]; replies: [`FromReplies`],
//!   [`Replies`], [`ReplyList`].
//! - **Features built on clients** — [`Script`] with [`Invocation`] and [`ScriptRunner`];
//!   [`Lock`] and [`LockGuard`]; [`ScanIter`]; [`Monitor`], [`MonitorEvent`],
//!   [`MonitorSource`].
//! - [`pubsub`] — [`PubSub`](pubsub::PubSub) sessions, their messages and worker threads.
//! - [`sentinel`] — [`Sentinel`](sentinel::Sentinel): masters and replicas found through
//!   Sentinel.
//! - [`cluster`] — Redis Cluster: slots, the slot map, redirections.
//! - [`resp`] — the wire protocol itself: the incremental [`Parser`](resp::Parser), the
//!   encoder ([`write_command`](resp::write_command), [`ArgWriter`](resp::ArgWriter),
//!   [`Cmd`](resp::Cmd)) and their errors and limits.
//! - [`command`] — the contract a hand-written command implements
//!   ([`Command`](command::Command), [`ReplyShape`](command::ReplyShape),
//!   [`CommandMeta`](command::CommandMeta)) and the argument types generated commands take.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

// The tokio front end.
#[cfg(feature = "tokio")]
pub mod aio;

// Wire protocol and errors.
mod error;
pub mod resp;

// Connections and clients.
mod client;
mod config;
mod connection;
mod pool;
mod retry;

// The generated command surface and what it plugs into.
pub mod command;
mod command_meta;
mod executor;
mod generated;
mod shape;

// Features built on clients.
pub mod cluster;
mod lock;
mod monitor;
mod pipeline;
pub mod pubsub;
mod scan;
mod script;
pub mod sentinel;

#[cfg(feature = "tokio")]
pub use aio::{AsyncClient, AsyncConnection};
pub use client::{Client, ClientConnection, ResponseCallback};
pub use config::{Config, ConfigBuilder, ConnectionAddr, Password, Protocol, TlsConfig};
pub use connection::{Connection, PushHandler};
pub use error::{Error, Result, ServerError};
pub use executor::{Dedicated, Executor};
pub use generated::cmd;
pub use generated::commands::{Commands, ConnectionCommands};
pub use lock::{Lock, LockGuard};
pub use monitor::{Monitor, MonitorEvent, MonitorSource};
pub use pipeline::{
    FromReplies, Immediate, Pipeline, Replies, ReplyList, TransactionOptions, TypedPipeline,
};
pub use pool::{BlockingConnectionPool, ConnectionPool, PoolStats, PooledConnection};
pub use resp::args::ToArgs;
pub use resp::from_value::FromValue;
pub use resp::value::Value;
pub use retry::{Backoff, Retry};
pub use scan::ScanIter;
pub use script::{Invocation, Script, ScriptRunner};

/// Everything a typical caller needs in scope: `use redis_client::prelude::*;`.
///
/// Brings the traits whose methods you call ([`Commands`], [`ConnectionCommands`],
/// [`Executor`] for `run`) together with the main types.
pub mod prelude {
    pub use crate::{
        cmd, Client, Commands, Config, Connection, ConnectionCommands, Error, Executor, Result,
        ToArgs, Value,
    };
}

/// The README's examples, compiled as doctests so they cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
