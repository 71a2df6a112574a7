//! The command spec model, its validator, and the generator of redis-client's command surface.

#![warn(missing_docs)]

pub mod reply;
