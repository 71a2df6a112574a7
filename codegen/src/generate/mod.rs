//! Turns the loaded spec into the Rust source files of `redis-client/src/generated/`.
//!
//! Code is built as `quote` token trees with full paths and parsed back with `syn`, so a
//! generator bug is caught here as a parse error rather than as a compile error in the runtime;
//! `imports` then gives each file one `use` block and short paths. Formatting is left to the
//! caller: `cargo xtask codegen` runs rustfmt, then [`polish`] (doc comments, blank lines
//! between items), then rustfmt again, so the checked-in files are exactly what `cargo fmt`
//! would leave.
//!
//! Files: `meta.rs` (the command table), `cmd/<group>.rs` (one typed value per command, with
//! its enums, block structs and reply shapes), `cmd/mod.rs`, `commands.rs` (the `Commands`
//! trait of short-form methods) and `golden_tests.rs` (wire-format tests of every command).
//!
//! # Rules
//!
//! - **Which commands**: every command and subcommand, except bare containers the server does
//!   not accept without a subcommand (`CLIENT`; `COMMAND`, arity -1, is kept). `HELP`
//!   subcommands are ordinary commands.
//! - **Which arguments**: the tree of the first-ranked server that knows the command (Valkey,
//!   Redis, Sentinel) — the superset shape in each of the spec's same-name, different-shape
//!   cases (see `model`).
//! - **Names**: struct `UpperCamel` of the method name (`ClientKill`, and `KeyType`/`MoveKey`
//!   from `rust.name`); method `snake_case`; setters and enum variants after the argument's
//!   token when it reads as a word (`.ex(10)`, `SetCondition::Nx`), else its name; types of
//!   oneofs and blocks `<Command><Argument>` (`SetCondition`, `XaddTrim`), longer when two
//!   different ones would clash, shared when equal; Valkey's `-block` suffix dropped.
//! - **Storage** (see `layout`): required string-like values on the required path are type
//!   parameters written straight from the caller's value; optional ones and enum payloads are
//!   `Arg`s encoded when given; integers `i64`, doubles `f64` (`min`/`max` score bounds of the
//!   `*BYSCORE`/`ZCOUNT` family take any value, for `(1.5` and `-inf`).
//! - **Time**: integers named `seconds`/`milliseconds`, and the argument `rust.blocking_timeout`
//!   names (in its unit), accept a `Duration`; `unix-time` arguments and ones named
//!   `unix-time-seconds`/`unix-time-milliseconds` accept a `SystemTime` (rounded up).
//! - **Derived counts**: a required integer whose name starts with `num`, immediately followed
//!   by a repeated argument, is written as that argument's number of items and never typed by
//!   the user (EVAL/EVALSHA(_RO)/FCALL(_RO) `numkeys`, ZUNION/ZINTER/ZDIFF(STORE)/ZINTERCARD/
//!   SINTERCARD/LMPOP/BLMPOP/ZMPOP/BZMPOP/MSETEX `numkeys`, the hash field-expiry commands'
//!   `numfields`, GEOSEARCH(STORE) `BYPOLYGON num-vertices`); a block of only repeated values
//!   (`XREAD`/`XREADGROUP STREAMS key… id…`) takes one list of pairs.
//! - **Type state** (see `layout`, `api`): every `when` path of the reply variants becomes a
//!   `const bool` of the struct owning the option; a choice of a required oneof that changes
//!   the reply gives one constructor per choice instead of `new`. The output type of each
//!   combination is the first variant whose `when` all hold. A `when` path the first-ranked
//!   server does not have (a Redis-only name) is skipped; a required list a variant names is
//!   optional (the variant shows the server accepts its absence).
//! - **Routing**: every `meta.rs` entry carries the command's cluster `Routing` (key specs,
//!   request/response policies, the `rust.cluster_special` handler), read by [`crate::routing`]
//!   from the file's own tips and key specs (`commands/README.md`, *Cluster routing*).
//! - **Deprecation**: `#[deprecated]` when the first-ranked server deprecates the command or
//!   argument; a doc note when only a later-ranked one does.

mod api;
mod docs;
mod emit;
mod golden;
mod imports;
mod layout;
mod live;
mod meta;
pub(crate) mod model;
mod names;
mod polish;
mod reply_ty;
mod routing;

use std::collections::{BTreeMap, HashMap};

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::spec::Command;

pub use polish::polish;

/// A generated file: its path under `redis-client/src/generated/` and its unformatted source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Path relative to the `generated/` directory, such as `meta.rs` or `cmd/string.rs`.
    pub name: String,
    /// Rust source, syntactically valid but not yet formatted.
    pub source: String,
}

/// Why generation failed: the command and what about it could not be generated.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct GenerateError {
    /// The spec file at fault, or the generated file when the fault is in the generator.
    pub file: String,
    /// What was wrong.
    pub message: String,
}

/// The header every generated file starts with.
const HEADER: &str =
    "// @generated by `cargo xtask codegen` from the command spec in `commands/`.\n\
                      // Do not edit by hand: change the spec or the generator and regenerate.\n\n";

/// Lints the generated code allows, once for the whole `generated` module (lint levels of a
/// module apply to its children): names and shapes come from the spec, not from style, and
/// deprecated commands still get their code.
fn allows() -> TokenStream {
    quote! {
        #![allow(deprecated)]
        #![allow(
            clippy::new_without_default,
            clippy::too_many_arguments,
            clippy::type_complexity,
            clippy::should_implement_trait,
            clippy::wrong_self_convention,
            clippy::enum_variant_names,
            clippy::large_enum_variant,
            clippy::module_name_repetitions,
            clippy::len_zero
        )]
    }
}

/// Generates every file of `redis-client/src/generated/` from the spec.
pub fn generate(commands: &[Command]) -> Result<Vec<GeneratedFile>, GenerateError> {
    let mut sorted: Vec<&Command> = commands.iter().collect();
    sorted.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    let models = sorted
        .iter()
        .filter(|c| model::is_callable(c, commands))
        .map(|c| model::build(c))
        .collect::<Result<Vec<_>, _>>()?;
    let layouts = models
        .iter()
        .map(layout::layout)
        .collect::<Result<Vec<_>, _>>()?;
    check_unique(&layouts)?;
    let mut groups: BTreeMap<String, TokenStream> = BTreeMap::new();
    let mut methods = TokenStream::new();
    let mut connection_methods = TokenStream::new();
    let mut golden = TokenStream::new();
    for l in &layouts {
        let code = emit::emit(l)?;
        groups
            .entry(l.model.group.clone())
            .or_default()
            .extend(code.items);
        if code.connection_state {
            connection_methods.extend(code.methods);
        } else {
            methods.extend(code.methods);
        }
        golden.extend(golden::tests(l)?);
    }
    let mut files = vec![
        finish("mod.rs", module_index())?,
        finish("meta.rs", meta::generate(commands)?)?,
        finish("cmd/mod.rs", cmd_index(groups.keys()))?,
        finish("commands.rs", commands_trait(methods, connection_methods))?,
        finish("golden_tests.rs", golden::file(golden))?,
    ];
    for (group, items) in groups {
        let doc = format!(" The commands of the `{group}` group.");
        let tokens = quote! {
            #![doc = #doc]
            #items
        };
        files.push(finish(&format!("cmd/{group}.rs"), tokens)?);
    }
    Ok(files)
}

/// The path of the live test's sample table, relative to the workspace root: it sits beside the
/// hand-written runner `redis-client/tests/every_command_live.rs`, which includes it.
pub const LIVE_SAMPLES_PATH: &str = "redis-client/tests/every_command_live/samples.rs";

/// Generates the sample table of the live test of every command (see [`LIVE_SAMPLES_PATH`]): the
/// golden samples of each command as functions running them on a connection, with the servers
/// that know every argument they write. Its `name` is [`LIVE_SAMPLES_PATH`].
pub fn generate_live(commands: &[Command]) -> Result<GeneratedFile, GenerateError> {
    let mut sorted: Vec<&Command> = commands.iter().collect();
    sorted.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    let mut items = TokenStream::new();
    let mut names = Vec::new();
    for c in sorted.iter().filter(|c| model::is_callable(c, commands)) {
        let model = model::build(c)?;
        let l = layout::layout(&model)?;
        let (item, name) = live::entry(&l)?;
        items.extend(item);
        names.push(name);
    }
    finish(LIVE_SAMPLES_PATH, live::file(items, &names))
}

/// Type names must be unique across the `cmd` module (it re-exports every group), and method
/// names across the `Commands` trait.
fn check_unique(layouts: &[layout::Layout]) -> Result<(), GenerateError> {
    let mut types: HashMap<String, String> = HashMap::new();
    for l in layouts {
        let file = format!("commands/{}", l.model.spec.file_name());
        let names = std::iter::once(l.root.name.clone()).chain(l.types.iter().map(|t| match t {
            layout::TypeDef::Enum(e) => e.name.clone(),
            layout::TypeDef::Struct(s) => s.name.clone(),
        }));
        for name in names {
            if let Some(other) = types.insert(name.clone(), file.clone()) {
                if other != file {
                    return Err(GenerateError {
                        file,
                        message: format!("the type name {name} is also generated for {other}"),
                    });
                }
            }
        }
    }
    Ok(())
}

fn module_index() -> TokenStream {
    let allows = allows();
    quote! {
        //! Code generated from the command spec in `commands/` by `cargo xtask codegen`.
        #allows

        pub mod cmd;
        pub mod commands;
        pub mod meta;

        #[cfg(test)]
        mod golden_tests;
    }
}

fn cmd_index<'a>(groups: impl Iterator<Item = &'a String>) -> TokenStream {
    let groups: Vec<_> = groups.map(|g| format_ident!("{}", g)).collect();
    quote! {
        //! One typed value per command and subcommand: required arguments in `new`, optional ones
        //! as setters, the reply type in its [`Command`](crate::command::Command) impl. Run one with
        //! [`Executor::run`](crate::Executor::run) (`client.run(cmd::Set::new("k", "v").nx())`),
        //! or use the short forms of [`Commands`](crate::Commands).
        //!
        //! Modules follow the spec's command groups; everything is re-exported here.

        #(mod #groups;)*
        #(pub use self::#groups::*;)*
    }
}

fn commands_trait(methods: TokenStream, connection_methods: TokenStream) -> TokenStream {
    quote! {
        //! [`Commands`]: every command's short form on every executor; [`ConnectionCommands`]:
        //! the commands that change their connection's state, on dedicated connections only.

        /// One method per command and subcommand, taking the required arguments only, on every
        /// [`Executor`]: `client.set("k", "v")?`, `conn.get("k")?`.
        ///
        /// The method builds the command value from [`cmd`] and runs it; for optional arguments
        /// build the value yourself and call [`Executor::run`]. Commands that change the state
        /// of their connection (SELECT, WATCH, SUBSCRIBE …) are in [`ConnectionCommands`]
        /// instead.
        pub trait Commands: crate::command::Executor {
            #methods
        }

        impl<E: crate::command::Executor> Commands for E {}

        /// The short forms of commands that change or rely on the state of the connection they
        /// run on (the spec's `rust.connection_state`): offered only on a [`Dedicated`] executor
        /// such as `&mut Connection`, never on a pooled client or a pipeline, whose connections
        /// other callers reuse.
        pub trait ConnectionCommands: crate::command::Dedicated {
            #connection_methods
        }

        impl<E: crate::command::Dedicated> ConnectionCommands for E {}
    }
}

fn finish(name: &str, tokens: TokenStream) -> Result<GeneratedFile, GenerateError> {
    let invalid = |e: syn::Error| GenerateError {
        file: format!("generated/{name}"),
        message: format!("the generator produced invalid Rust: {e}"),
    };
    let file = syn::parse2::<syn::File>(tokens).map_err(invalid)?;
    let source = imports::with_imports(&file);
    syn::parse_file(&source).map_err(invalid)?;
    Ok(GeneratedFile {
        name: name.to_string(),
        source: format!("{HEADER}{source}\n"),
    })
}
