//! redis-client: a fast, typed, sync-first Redis client.
//!
//! The whole command surface is generated from the command spec in `commands/`; this crate's
//! hand-written runtime supplies the wire protocol, connections, pools and the client.

#![warn(missing_docs)]

pub mod resp;

pub use resp::Value;
pub mod error;

pub use error::{Error, Result};
pub mod config;
pub mod retry;

pub use config::{Config, ConfigBuilder, ConnectionAddr, Protocol, TlsConfig};
pub use retry::{Backoff, Retry};
pub mod command_meta;
pub mod generated;
pub use resp::{write_command, Cmd, FromValue, Parser, ProtocolError, ToArgs};
pub mod connection;

pub use connection::{Connection, PushHandler};
pub mod client;
pub mod pool;

pub use client::{Client, ClientConnection};
pub use pool::{BlockingConnectionPool, ConnectionPool, PoolStats, PooledConnection};
pub mod command;
mod executor;
pub mod shape;

pub use command::{Command, Dedicated, Executor};
pub use shape::ReplyShape;
pub mod pubsub;

pub use pubsub::{Message, MessageKind, PubSub, PubSubWorker};
pub mod sentinel;

pub use generated::cmd;
pub use generated::commands::{Commands, ConnectionCommands};
pub use sentinel::{Sentinel, SentinelOptions};
pub mod pipeline;
pub mod script;

pub use pipeline::{FromReplies, Immediate, Pipeline, TransactionOptions, TypedPipeline};
pub use script::Script;
pub mod lock;
pub mod monitor;
pub mod scan;

pub use lock::{Lock, LockGuard};
pub use monitor::{Monitor, MonitorEvent, MonitorSource};
pub use scan::ScanIter;

/// The README's examples, compiled as doctests so they cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
