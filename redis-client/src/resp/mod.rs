//! RESP2/RESP3 wire format: an incremental zero-copy parser and the command encoder.
//!
//! - [`Parser`]: reads frames from a growing `BytesMut`, consuming each byte once, into
//!   [`Value`]s whose string payloads are `Bytes` slices of the read buffer;
//!   [`ProtocolError`] says what was wrong with a frame it refused, and [`MAX_BULK_LEN`],
//!   [`MAX_AGGREGATE_LEN`] and [`MAX_DEPTH`] are the limits it enforces.
//! - [`write_command`], [`ArgWriter`], [`Cmd`]: arguments from any
//!   [`ToArgs`] written straight into the output buffer; [`EncodeError`] for
//!   those that cannot be (no arguments, a NaN).
//!
//! The value model itself — [`Value`], [`ToArgs`] and
//! [`FromValue`] (strict conversion of a reply into Rust types) — lives at
//! the crate root, where every program names it.

mod aggregate;
pub(crate) mod args;
mod cmd;
mod display;
mod encode;
mod encode_error;
mod fast_path;
// Crate-visible for `from_value::server_error`, the one place error replies become errors,
// and for the crate root's export of `FromValue`.
pub(crate) mod from_value;
mod from_value_collections;
mod limits;
mod number;
mod parser;
mod protocol_error;
mod to_args_impls;
pub(crate) mod value;

pub use args::ArgWriter;
pub use cmd::Cmd;
pub use encode::write_command;
pub use encode_error::EncodeError;
pub use limits::{MAX_AGGREGATE_LEN, MAX_BULK_LEN, MAX_DEPTH};
pub use parser::Parser;
pub use protocol_error::ProtocolError;

// The crate root exports these; inside the crate they are named from here too.
pub(crate) use args::ToArgs;
pub(crate) use from_value::FromValue;
pub(crate) use value::Value;
