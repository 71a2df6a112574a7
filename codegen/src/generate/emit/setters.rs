//! Setters of optional arguments, with their effect on the type state.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::{angle, deprecated_attr, field_init, ident, Emitter};
use crate::generate::api::{Effect, Setter, SetterKind};
use crate::generate::docs::{self, attrs, code};
use crate::generate::layout::{Payload, Repr, StructLayout};

impl Emitter<'_> {
    pub(super) fn setter(&self, s: &StructLayout, st: &Setter) -> TokenStream {
        let m = &s.members[st.member];
        let node = self.node(m.node);
        let field = ident(&m.name);
        let fname = ident(&st.name);
        let target = if st.effects.is_empty() {
            format_ident!("self")
        } else {
            format_ident!("s")
        };
        let mut generics = Vec::new();
        let (params, assign, doc) = match (&st.kind, &m.repr) {
            (SetterKind::Flag, _) => (
                Vec::new(),
                quote!(#target.#field = true;),
                format!("Adds {}.", docs::argument(node)),
            ),
            (SetterKind::Value, Repr::Opt(inner)) => {
                let (params, value) = self.slot(inner, &m.name);
                (
                    params,
                    quote!(#target.#field = Some(#value);),
                    format!("Sets {}.", docs::argument(node)),
                )
            }
            (SetterKind::Block, Repr::Opt(inner)) => {
                let Repr::Struct(bname, args) = &**inner else {
                    unreachable!("block setters hold structs")
                };
                let inner_params: Vec<Ident> =
                    (0..args.len()).map(|i| format_ident!("B{}", i)).collect();
                for p in &inner_params {
                    generics.push(quote!(const #p: bool));
                }
                let b = ident(bname);
                (
                    {
                        let args = angle(inner_params.iter().map(|p| quote!(#p)));
                        vec![quote!(#field: #b #args)]
                    },
                    quote!(#target.#field = Some(#field);),
                    format!("Sets {} (a [`{}`]).", docs::argument(node), bname),
                )
            }
            (SetterKind::Whole, Repr::Opt(inner)) => {
                let t = self.ty(inner);
                (
                    vec![quote!(#field: #t)],
                    quote!(#target.#field = Some(#field);),
                    format!("Sets {}.", docs::argument(node)),
                )
            }
            (
                SetterKind::Choice(v) | SetterKind::Append(v),
                Repr::Opt(inner) | Repr::Many(inner),
            ) => {
                let Repr::Enum(ename) = &**inner else {
                    unreachable!("choice setters hold enums")
                };
                let en = self.enum_named(ename);
                let variant = &en.variants[*v];
                let choice = &node.children()[*v];
                let e = ident(ename);
                let vname = ident(&variant.name);
                let (params, value) = match &variant.payload {
                    Payload::Unit => (Vec::new(), quote!(#e::#vname)),
                    Payload::One(r) => {
                        let (p, value) = self.slot(r, &choice.ident);
                        (p, quote!(#e::#vname(#value)))
                    }
                    Payload::Fields(ms) => {
                        let (p, _) = self.slot(&Repr::Tuple(ms.clone()), &choice.ident);
                        let fields = ms.iter().map(|m| {
                            field_init(
                                &m.name,
                                self.conv(&m.repr, {
                                    let f = ident(&m.name);
                                    quote!(#f)
                                }),
                            )
                        });
                        (p, quote!(#e::#vname { #(#fields),* }))
                    }
                };
                if matches!(st.kind, SetterKind::Append(_)) {
                    (
                        params,
                        quote!(#target.#field.push(#value);),
                        format!("Adds {} to `{}`.", docs::argument(choice), code(&node.path)),
                    )
                } else {
                    (
                        params,
                        quote!(#target.#field = Some(#value);),
                        format!(
                            "Chooses {} for `{}`, replacing any earlier choice.",
                            docs::argument(choice),
                            code(&node.path)
                        ),
                    )
                }
            }
            (SetterKind::List, Repr::Many(_)) => {
                let (params, value) = self.slot(&m.repr, &m.name);
                (
                    params,
                    quote!(#target.#field = #value;),
                    format!(
                        "Sets {}, replacing any earlier list (an empty list leaves it out).",
                        docs::argument(node)
                    ),
                )
            }
            (kind, repr) => unreachable!("setter {kind:?} for {repr:?}"),
        };
        let generics = angle(generics.into_iter());
        let doc = if st.effects.is_empty() {
            attrs(&doc)
        } else {
            attrs(&format!(
                "{doc}\n\nChanges the reply type: see the replies listed on [`{}`].",
                self.l.root.name
            ))
        };
        let deprecated = deprecated_attr(node);
        if st.effects.is_empty() {
            quote! {
                #doc #deprecated
                pub fn #fname #generics(mut self #(, #params)*) -> Self {
                    #assign
                    self
                }
            }
        } else {
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
}
