//! Code generated from the command spec in `commands/` by `cargo xtask codegen`.
//!
//! Never edit these files by hand; change the spec or the generator and regenerate.

pub mod meta;
