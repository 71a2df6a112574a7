//! Setters of optional arguments, one function per kind of setter, and the wrapping that moves a
//! setter's value into another type state when the argument changes the reply.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::{angle, deprecated_attr, ident, Emitter};
use crate::generate::api::{Effect, Setter, SetterKind};
use crate::generate::docs::{self, attrs, code};
use crate::generate::layout::{Member, Repr, StructLayout};
use crate::generate::model::Node;

/// What one setter takes and stores, before it is wrapped into a method.
struct SetterParts {
    /// Const generic parameters of the method (a block setter's type state).
    generics: Vec<TokenStream>,
    /// The method's parameters after `self`.
    params: Vec<TokenStream>,
    /// How the field takes the value.
    store: Store,
    /// The doc text.
    doc: String,
}

/// How a setter stores its value in the member's field.
enum Store {
    /// `field = value`.
    Replace(TokenStream),
    /// `field.push(value)`.
    Push(TokenStream),
}

impl Emitter<'_> {
    /// The setter `st` of the struct `s`.
    pub(super) fn setter(&self, s: &StructLayout, st: &Setter) -> TokenStream {
        let m = &s.members[st.member];
        let node = self.node(m.node);
        let parts = match (&st.kind, &m.repr) {
            (SetterKind::Flag, _) => flag_setter(node),
            (SetterKind::Value, Repr::Opt(inner)) => self.value_setter(m, node, inner),
            (SetterKind::Block, Repr::Opt(inner)) => block_setter(m, node, inner),
            (SetterKind::Whole, Repr::Opt(inner)) => self.whole_setter(m, node, inner),
            (SetterKind::Choice(v), Repr::Opt(inner)) => self.choice_setter(node, inner, *v),
            (SetterKind::Append(v), Repr::Many(inner)) => self.append_setter(node, inner, *v),
            (SetterKind::List, Repr::Many(_)) => self.list_setter(m, node),
            (kind, repr) => unreachable!("setter {kind:?} for {repr:?}"),
        };
        self.setter_method(s, st, node, parts)
    }

    /// `Sets …`: an optional value (a tuple block takes one parameter per member).
    fn value_setter(&self, m: &Member, node: &Node, inner: &Repr) -> SetterParts {
        let (params, value) = self.slot(inner, &m.name);
        SetterParts {
            generics: Vec::new(),
            params,
            store: Store::Replace(quote!(Some(#value))),
            doc: docs::with_summary(format!("Sets {}.", docs::argument(node)), node),
        }
    }

    /// An optional oneof from a value of its enum.
    fn whole_setter(&self, m: &Member, node: &Node, inner: &Repr) -> SetterParts {
        let field = ident(&m.name);
        let t = self.ty(inner);
        let choices = docs::short_syntax(node).map_or(String::new(), |s| format!(", one of `{s}`"));
        let doc = format!(
            "Sets `{}`{} to a [`{t}`]{choices}.",
            code(&node.name),
            docs::facts(node)
        );
        SetterParts {
            generics: Vec::new(),
            params: vec![quote!(#field: #t)],
            store: Store::Replace(quote!(Some(#field))),
            doc: docs::with_summary(doc, node),
        }
    }

    /// One choice of an optional oneof, replacing any earlier one.
    fn choice_setter(&self, node: &Node, inner: &Repr, variant: usize) -> SetterParts {
        let (params, value) = self.enum_choice(inner, variant);
        let choice = &node.children()[variant];
        SetterParts {
            generics: Vec::new(),
            params,
            store: Store::Replace(quote!(Some(#value))),
            doc: docs::with_summary(
                format!(
                    "Chooses {} for `{}`, replacing any earlier choice.",
                    docs::argument(choice),
                    code(&node.name)
                ),
                choice,
            ),
        }
    }

    /// One choice of a repeated oneof, appended to the list.
    fn append_setter(&self, node: &Node, inner: &Repr, variant: usize) -> SetterParts {
        let (params, value) = self.enum_choice(inner, variant);
        let choice = &node.children()[variant];
        SetterParts {
            generics: Vec::new(),
            params,
            store: Store::Push(value),
            doc: docs::with_summary(
                format!("Adds {} to `{}`.", docs::argument(choice), code(&node.name)),
                choice,
            ),
        }
    }

    /// A repeated value: the whole list at once.
    fn list_setter(&self, m: &Member, node: &Node) -> SetterParts {
        let (params, value) = self.slot(&m.repr, &m.name);
        SetterParts {
            generics: Vec::new(),
            params,
            store: Store::Replace(value),
            doc: docs::with_summary(
                format!(
                    "Sets {}, replacing any earlier list; an empty list leaves it out.",
                    docs::argument(node)
                ),
                node,
            ),
        }
    }

    /// The parameters and value of the enum in `inner` (a choice setter's member) choosing
    /// `variant`.
    fn enum_choice(&self, inner: &Repr, variant: usize) -> (Vec<TokenStream>, TokenStream) {
        let Repr::Enum(name) = inner else {
            unreachable!("choice setters hold enums")
        };
        let e = ident(name);
        self.variant_value(self.enum_named(name), variant, &quote!(#e))
    }

    /// The setter as a method: in place when it leaves the type state alone, else moving the
    /// value into the type its effects select.
    fn setter_method(
        &self,
        s: &StructLayout,
        st: &Setter,
        node: &Node,
        parts: SetterParts,
    ) -> TokenStream {
        let field = ident(&s.members[st.member].name);
        let fname = ident(&st.name);
        let target = if st.effects.is_empty() {
            format_ident!("self")
        } else {
            format_ident!("s")
        };
        let assign = match parts.store {
            Store::Replace(value) => quote!(#target.#field = #value;),
            Store::Push(value) => quote!(#target.#field.push(#value);),
        };
        let generics = angle(parts.generics.into_iter());
        let params = parts.params;
        let doc = parts.doc;
        let doc = if st.effects.is_empty() {
            attrs(&doc)
        } else {
            attrs(&format!(
                "{doc}\n\nThis changes the reply type: see the replies listed on [`{}`].",
                self.l.root.name
            ))
        };
        let deprecated = deprecated_attr(node);
        if st.effects.is_empty() {
            return quote! {
                #doc #deprecated
                pub fn #fname #generics(mut self #(, #params)*) -> Self {
                    #assign
                    self
                }
            };
        }
        let values: Vec<TokenStream> = s
            .params
            .iter()
            .enumerate()
            .map(|(i, p)| match st.effects.iter().find(|(j, _)| *j == i) {
                Some((_, Effect::True)) => quote!(true),
                Some((_, Effect::False)) => quote!(false),
                Some((_, Effect::Inner(k))) => {
                    let b = format_ident!("B{}", k);
                    quote!(#b)
                }
                None => {
                    let p = ident(&p.name);
                    quote!(#p)
                }
            })
            .collect();
        let ret = self.struct_type(s, &values);
        quote! {
            #doc #deprecated
            pub fn #fname #generics(self #(, #params)*) -> #ret {
                let mut s: #ret = self.retype();
                #assign
                s
            }
        }
    }
}

/// `Adds …`: an optional flag.
fn flag_setter(node: &Node) -> SetterParts {
    SetterParts {
        generics: Vec::new(),
        params: Vec::new(),
        store: Store::Replace(quote!(true)),
        doc: docs::with_summary(format!("Adds {}.", docs::argument(node)), node),
    }
}

/// An optional block struct, passed whole; generic over the block's own type state.
fn block_setter(m: &Member, node: &Node, inner: &Repr) -> SetterParts {
    let Repr::Struct(block, args) = inner else {
        unreachable!("block setters hold structs")
    };
    let field = ident(&m.name);
    let states: Vec<_> = (0..args.len()).map(|i| format_ident!("B{}", i)).collect();
    let b = ident(block);
    let args = angle(states.iter().map(|p| quote!(#p)));
    SetterParts {
        generics: states.iter().map(|p| quote!(const #p: bool)).collect(),
        params: vec![quote!(#field: #b #args)],
        store: Store::Replace(quote!(Some(#field))),
        doc: docs::with_summary(
            format!("Sets {} from a [`{block}`].", docs::argument(node)),
            node,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;
    use crate::generate::api::api;
    use crate::generate::layout::TypeDef;

    /// The root struct's setter named `name`.
    fn setter(e: &Emitter, name: &str) -> TokenStream {
        let api = api(e.l, &e.l.root).unwrap();
        let st = api.setters.iter().find(|s| s.name == name).expect("setter");
        e.setter(&e.l.root, st)
    }

    #[test]
    fn a_flag_that_changes_the_reply_moves_to_another_type_state() {
        with_emitter(SET, |e| {
            assert_tokens(
                &setter(e, "get"),
                r#"
                /// Adds `GET` (since 6.2.0).
                ///
                /// This changes the reply type: see the replies listed on [`Set`].
                pub fn get(self) -> Set<K, V, true, CONDITION> {
                    let mut s: Set<K, V, true, CONDITION> = self.retype();
                    s.get = true;
                    s
                }
                "#,
            );
        });
    }

    #[test]
    fn a_choice_names_its_oneof_and_keeps_the_summary_apart() {
        with_emitter(SET, |e| {
            assert_contains(
                &setter(e, "ifeq"),
                r#"
                /// Chooses `IFEQ comparison-value` (since 8.1.0) for `condition`, replacing any earlier choice.
                ///
                /// Sets the key's value only if it matches.
                ///
                /// This changes the reply type: see the replies listed on [`Set`].
                pub fn ifeq(self, comparison_value: impl crate::ToArgs) -> Set<K, V, GET, true>
                "#,
            );
            assert_tokens(
                &setter(e, "expiration"),
                r#"
                /// Sets `expiration` to a [`SetExpiration`], one of `EX seconds | KEEPTTL`.
                pub fn expiration(mut self, expiration: SetExpiration) -> Self {
                    self.expiration = Some(expiration);
                    self
                }
                "#,
            );
        });
    }

    #[test]
    fn values_lists_and_blocks_are_set_in_place() {
        with_emitter(XREAD, |e| {
            assert_tokens(
                &setter(e, "count"),
                r#"
                /// Sets `COUNT count`.
                pub fn count(mut self, count: i64) -> Self { self.count = Some(count); self }
                "#,
            );
        });
        with_emitter(GEORADIUS, |e| {
            assert_contains(
                &setter(e, "member"),
                "/// Sets `member [member ...]`, replacing any earlier list; an empty list leaves it out.",
            );
            assert_tokens(
                &setter(e, "count"),
                r#"
                /// Sets `COUNT count [ANY]` from a [`GeoradiusCount`].
                pub fn count(mut self, count: GeoradiusCount) -> Self { self.count = Some(count); self }
                "#,
            );
            let TypeDef::Struct(block) = &e.l.types[0] else {
                panic!("the COUNT block is a struct")
            };
            let any = &api(e.l, block).unwrap().setters[0];
            assert_tokens(
                &e.setter(block, any),
                "/// Adds `ANY`.\npub fn any(mut self) -> Self { self.any = true; self }",
            );
        });
    }

    #[test]
    fn choices_of_a_repeated_oneof_append() {
        with_emitter(BITFIELD, |e| {
            assert_tokens(
                &setter(e, "get"),
                r#"
                /// Adds `GET encoding offset` to `operation`.
                pub fn get(mut self, encoding: impl crate::ToArgs, offset: i64) -> Self {
                    self.operation.push(BitfieldOperation::Get { encoding: crate::command::Arg::new(encoding), offset });
                    self
                }
                "#,
            );
        });
    }
}
