//! The command spec model, its validator, and the generator of redis-client's command surface.

#![warn(missing_docs)]

pub mod coverage;
pub mod generate;
pub mod import;
pub mod reply;
pub mod routing;
pub mod spec;
pub mod spec_file;
pub mod validate;
