//! RESP2/RESP3 wire format: the value model, an incremental zero-copy parser and the command encoder.

mod value;

pub use value::Value;
