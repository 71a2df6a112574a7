//! RESP2/RESP3 wire format: the value model, an incremental zero-copy parser and the command encoder.
//!
//! - [`Value`]: one reply frame; string payloads are `Bytes` slices of the read buffer.
//! - [`Parser`]: reads frames from a growing `BytesMut`, consuming each byte once.
//! - [`ToArgs`], [`ArgWriter`], [`write_command`], [`Cmd`]: arguments written straight into the
//!   output buffer.
//! - [`FromValue`]: strict conversion of a reply into Rust types.

mod args;
mod cmd;
mod display;
mod encode;
mod fast_path;
// Crate-visible for `from_value::server_error`, the one place error replies become errors.
pub(crate) mod from_value;
mod from_value_collections;
mod number;
mod parser;
mod protocol_error;
mod to_args_impls;
mod value;

pub use args::{ArgWriter, ToArgs};
pub use cmd::Cmd;
pub use encode::{write_command, EncodeError};
pub use from_value::FromValue;
pub use parser::{Parser, MAX_AGGREGATE_LEN, MAX_BULK_LEN, MAX_DEPTH};
pub use protocol_error::ProtocolError;
pub use value::Value;
