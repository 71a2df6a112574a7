//! Publish/subscribe, shaped after redis-py's `PubSub`.
//!
//! [`Client::pubsub`] gives a [`PubSub`] with a connection of its own (opened from the client's
//! [`Config`] on first use, never taken from or returned to the pool). Subscribe to channels,
//! patterns and shard channels, with or without a handler, then read with
//! [`PubSub::get_message`], [`PubSub::listen`] or a background [`PubSub::run_in_thread`]:
//!
//! ```no_run
//! use std::time::Duration;
//! use redis_client::Client;
//!
//! let client = Client::open("redis://127.0.0.1/")?;
//! let pubsub = client.pubsub()?;
//! pubsub.subscribe(["news"])?;
//! pubsub.psubscribe_with("alerts.*", |m| println!("alert on {:?}", m.channel))?;
//! while let Some(message) = pubsub.get_message(Duration::from_secs(1))? {
//!     println!("{} {:?} {:?}", message.kind, message.channel, message.data);
//! }
//! # Ok::<(), redis_client::Error>(())
//! ```
//!
//! - Messages for a channel (pattern, shard channel) with a handler go to the handler, and the
//!   read that received them returns nothing for them.
//! - Both protocols work: RESP2 delivers messages as arrays, RESP3 as push frames.
//! - With `health_check_interval` set, a `PING` goes out whenever the connection sat idle that
//!   long; its pong is consumed, and one left unanswered while nothing arrives for the socket
//!   timeout (or the interval, without one) counts as a lost connection.
//! - A lost connection is reopened under the client's retry policy and every channel, pattern
//!   and shard channel is subscribed again; messages published meanwhile are lost, never
//!   duplicated.
//! - `PUBSUB CHANNELS`, `NUMSUB`, `NUMPAT`, `SHARDCHANNELS` and `SHARDNUMSUB` are ordinary
//!   commands: run them on the [`Client`] (they come with the generated command surface; until
//!   then through [`Client::query`]).
//!
//! Commands from other threads (say, a `subscribe` while a worker reads) go out within about
//! 20 ms: a waiting reader gives the connection up between short waits. Handlers run after the
//! connection is released, so a handler may subscribe or unsubscribe; it must not read
//! messages itself (`get_message`, `listen`), since the next message could be its own.
//!
//! [`Client`]: crate::Client
//! [`Client::pubsub`]: crate::Client::pubsub
//! [`Client::query`]: crate::Client::query
//! [`Config`]: crate::Config

mod client;
pub(crate) mod message;
pub(crate) mod registry;
mod session;
mod shared;
pub(crate) mod state;
mod wire;
mod worker;

pub use client::{Listen, PubSub};
pub use message::{Data, Message, MessageKind, Text};
pub use worker::{ExceptionHandler, PubSubWorker, WorkerControl};
