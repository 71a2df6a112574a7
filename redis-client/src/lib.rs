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

#![warn(missing_docs)]

// Wire protocol and errors.
pub mod error;
pub mod resp;

// Connections and clients.
pub mod client;
pub mod config;
pub mod connection;
pub mod pool;
pub mod retry;

// The generated command surface and what it plugs into.
pub mod command;
pub mod command_meta;
mod executor;
pub mod generated;
pub mod shape;

// Features built on clients.
pub mod lock;
pub mod monitor;
pub mod pipeline;
pub mod pubsub;
pub mod scan;
pub mod script;
pub mod sentinel;

pub use client::{Client, ClientConnection};
pub use command::{Command, Dedicated, Executor};
pub use config::{Config, ConfigBuilder, ConnectionAddr, Protocol, TlsConfig};
pub use connection::{Connection, PushHandler};
pub use error::{Error, Result};
pub use generated::cmd;
pub use generated::commands::{Commands, ConnectionCommands};
pub use lock::{Lock, LockGuard};
pub use monitor::{Monitor, MonitorEvent, MonitorSource};
pub use pipeline::{FromReplies, Immediate, Pipeline, TransactionOptions, TypedPipeline};
pub use pool::{BlockingConnectionPool, ConnectionPool, PoolStats, PooledConnection};
pub use pubsub::{Message, MessageKind, PubSub, PubSubWorker};
pub use resp::{write_command, Cmd, FromValue, Parser, ProtocolError, ToArgs, Value};
pub use retry::{Backoff, Retry};
pub use scan::ScanIter;
pub use script::Script;
pub use sentinel::{Sentinel, SentinelOptions};
pub use shape::ReplyShape;

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
