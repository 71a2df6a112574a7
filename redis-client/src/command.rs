//! The contract a command implements, for commands the spec does not have.
//!
//! Every command and subcommand of the spec is a typed value in [`crate::cmd`] (`cmd::Set`,
//! `cmd::ClientKill`, …) implementing [`Command`]: it writes its own arguments ([`ToArgs`](crate::ToArgs)),
//! names itself, knows the Rust type of its reply and the reply's [`ReplyShape`] (which RESP2
//! and RESP3 replies are both reshaped into), and points at its entry in the generated table
//! of [`CommandMeta`] (flags, arity, key positions, blocking timeout, connection state). Any
//! [`Executor`] runs a command value with `run`, and the generated
//! [`Commands`](crate::Commands) trait gives every executor one short-form method per command.
//!
//! A command written by hand implements the same trait and runs everywhere a generated one
//! does; without [`Command::META`] its name is looked up in the table ([`lookup`]):
//!
//! ```no_run
//! use redis_client::command::{Command, ReplyShape};
//! use redis_client::resp::ArgWriter;
//! use redis_client::{Client, Executor, ToArgs};
//!
//! /// `GET` of a key whose value is a decimal counter.
//! struct Counter(&'static str);
//!
//! impl ToArgs for Counter {
//!     fn write_args(&self, out: &mut ArgWriter<'_>) {
//!         out.arg(b"GET");
//!         self.0.write_args(out);
//!     }
//! }
//!
//! impl Command for Counter {
//!     type Output = Option<i64>;
//!     const NAME: &'static str = "GET";
//!     fn reply_shape(&self) -> &'static ReplyShape {
//!         &ReplyShape::Bulk
//!     }
//! }
//!
//! let client = Client::open("redis://127.0.0.1/0")?;
//! let hits: Option<i64> = client.run(Counter("hits"))?;
//! # Ok::<(), redis_client::Error>(())
//! ```
//!
//! Generated commands take their arguments through [`Arg`] (one encoded value) and, where the
//! spec gives a unit, the [`time`] traits (`Duration` or a plain number). The rules the
//! generator follows (which arguments become parameters, setters, enums or structs; how counts
//! such as `numkeys` are derived; which time arguments take a `Duration`) are documented in
//! the `codegen` crate's `generate` module.

mod arg;
mod contract;
pub mod time;

pub use crate::command_meta::{
    flags, lookup, lookup_args, BeginSearch, BlockFor, BlockingTimeout, CommandMeta, FindKeys,
    KeyGroups, KeySpec, RequestPolicy, ResponsePolicy, Routing, Special, TimeUnit, TimeoutPosition,
};
pub use crate::shape::ReplyShape;
pub use arg::Arg;
#[cfg(feature = "tokio")]
pub(crate) use contract::Decoder;
pub(crate) use contract::{connection_state_error, empty_argument, refuse_connection_state};
pub use contract::{decode_reply, Command};

// Generated code names these here, beside the trait its commands implement.
pub(crate) use crate::executor::{Dedicated, Executor};
