//! Facts about commands that the runtime needs at run time: flags, arity, key positions, where
//! a blocking command keeps its timeout, whether it changes its connection's state, and how a
//! cluster routes it.
//!
//! The facts live in the command spec; `cargo xtask codegen` turns them into the static table
//! in `src/generated/meta.rs`. Nothing here is written by hand per command — this module only
//! defines the shapes and the logic that reads them (lookup, read-timeout extension).

mod entry;
mod lookup;
mod routing;

pub use entry::{flags, BlockFor, BlockingTimeout, CommandMeta, TimeUnit, TimeoutPosition};
pub use lookup::{lookup, lookup_args};
pub(crate) use lookup::{lookup_connection_state, may_change_connection_state};
pub use routing::{
    BeginSearch, FindKeys, KeyGroups, KeySpec, RequestPolicy, ResponsePolicy, Routing, Special,
};
