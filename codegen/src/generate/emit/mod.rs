//! Writes the Rust code of one command: its struct, enums and block structs with constructors,
//! setters, `ToArgs` and `Command` impls, its reply shapes, and its short-form method.
//!
//! One room per job: `values` (stored and accepted types, conversions), `wire` (`ToArgs`
//! bodies), `checks` (`Command::check`), `enums` and `structs` (type definitions, constructors),
//! `setters`, `command` (`Command` impls and reply shapes), `command_doc` and `short_forms`.

mod checks;
mod command;
mod command_doc;
mod enums;
mod setters;
mod short_forms;
mod structs;
mod values;
mod wire;

use std::collections::HashMap;

use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};

use super::api::api;
use super::layout::{EnumLayout, Layout, Repr, StructLayout, TypeDef};
use super::model::Node;
use super::GenerateError;

/// The code generated for one command.
pub(crate) struct CommandCode {
    /// Items of the group file: reply shapes, types, the command struct and impls.
    pub items: TokenStream,
    /// Short-form methods: of the `Commands` trait, or of `ConnectionCommands` when
    /// `connection_state` is set.
    pub methods: TokenStream,
    /// The command changes its connection's state (`rust.connection_state`).
    pub connection_state: bool,
}

/// Generates a command's code.
pub(crate) fn emit(l: &Layout) -> Result<CommandCode, GenerateError> {
    let error = |message: String| GenerateError {
        file: format!("commands/{}", l.model.spec.file_name()),
        message,
    };
    let e = Emitter { l };
    let mut items = TokenStream::new();
    items.extend(e.shapes());
    for ty in &l.types {
        items.extend(match ty {
            TypeDef::Enum(en) => e.enum_def(en),
            TypeDef::Struct(s) => {
                let api = api(l, s).map_err(&error)?;
                e.struct_def(s, &api, false)
            }
        });
    }
    let root_api = api(l, &l.root).map_err(&error)?;
    items.extend(e.struct_def(&l.root, &root_api, true));
    items.extend(e.command_impls());
    let methods = e.short_forms(&root_api);
    Ok(CommandCode {
        items,
        methods,
        connection_state: connection_state(l),
    })
}

fn connection_state(l: &Layout) -> bool {
    l.model
        .spec
        .rust
        .as_ref()
        .is_some_and(|hints| hints.connection_state)
}

/// How the write and check code reaches a member's value.
#[derive(Clone)]
enum Bind {
    /// `self.name`.
    Field(Ident),
    /// A local holding a reference.
    Local(Ident),
}

impl Bind {
    /// The value as a place for method calls (`self.x` / `x`).
    fn place(&self) -> TokenStream {
        match self {
            Bind::Field(f) => quote!(self.#f),
            Bind::Local(l) => quote!(#l),
        }
    }

    /// A reference (`&self.x` / `x`).
    fn reference(&self) -> TokenStream {
        match self {
            Bind::Field(f) => quote!(&self.#f),
            Bind::Local(l) => quote!(#l),
        }
    }

    /// A copy of a `Copy` value (`self.x` / `*x`).
    fn copy(&self) -> TokenStream {
        match self {
            Bind::Field(f) => quote!(self.#f),
            Bind::Local(l) => quote!(*#l),
        }
    }
}

type Binds = HashMap<usize, (Bind, Repr)>;

struct Emitter<'a> {
    l: &'a Layout<'a>,
}

fn ident(name: &str) -> Ident {
    format_ident!("{}", name)
}

fn bytes(token: &str) -> Literal {
    Literal::byte_string(token.as_bytes())
}

/// A local variable named after an argument or member (`condition`, `key`), clear of the
/// parameter the `ToArgs` bodies write to.
fn local(name: &str) -> Ident {
    match name {
        "out" => format_ident!("out_"),
        _ => ident(name),
    }
}

/// `out.arg(b"TOKEN");` for a node's token, if any.
fn token(node: &Node) -> TokenStream {
    match &node.token {
        Some(t) => {
            let t = bytes(t);
            quote!(out.arg(#t);)
        }
        None => quote!(),
    }
}

impl Emitter<'_> {
    fn node(&self, id: usize) -> &Node {
        self.l.node(id)
    }

    fn command_name(&self) -> &str {
        &self.l.model.spec.name
    }

    fn enum_named(&self, name: &str) -> &EnumLayout {
        self.l.enum_named(name)
    }

    fn struct_named(&self, name: &str) -> &StructLayout {
        self.l.struct_named(name)
    }

    /// `#[deprecated]` for the command's struct, constructors and short forms, when the
    /// first-ranked server deprecates the command.
    fn deprecated_command(&self) -> TokenStream {
        let note = self.l.model.deprecated.as_ref();
        note.map(|note| quote!(#[deprecated(note = #note)]))
            .unwrap_or_default()
    }
}

/// `<a, b>`, or nothing for an empty list.
fn angle(items: impl Iterator<Item = TokenStream>) -> TokenStream {
    let items: Vec<TokenStream> = items.collect();
    if items.is_empty() {
        quote!()
    } else {
        quote!(<#(#items),*>)
    }
}

/// `name: value`, or `name` alone when the value is the variable of that name.
fn field_init(name: &str, value: TokenStream) -> TokenStream {
    let n = ident(name);
    if n == value.to_string() {
        quote!(#n)
    } else {
        quote!(#n: #value)
    }
}

fn deprecated_attr(node: &Node) -> TokenStream {
    match &node.deprecated_since {
        Some(since) => {
            let note = format!("deprecated since {since}");
            quote!(#[deprecated(note = #note)])
        }
        None => quote!(),
    }
}

#[cfg(test)]
mod fixtures;

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;

    #[test]
    fn a_command_emits_shapes_types_struct_and_impls_in_that_order() {
        with_emitter(SET, |e| {
            let code = emit(e.l).unwrap();
            let items = code.items.to_string();
            let at = |part: &str| items.find(part).unwrap_or_else(|| panic!("{part}"));
            assert!(at("static SET_REPLY") < at("pub enum SetCondition"));
            assert!(at("pub enum SetExpiration") < at("pub struct Set <"));
            assert!(at("pub struct Set <") < at("crate :: command :: Command for Set"));
            assert!(!code.connection_state);
            assert_contains(&code.methods, "fn set<K: crate::ToArgs, V: crate::ToArgs>");
        });
    }

    #[test]
    fn locals_keep_clear_of_the_writer() {
        assert_eq!(local("out"), "out_");
        assert_eq!(local("condition"), "condition");
    }
}
