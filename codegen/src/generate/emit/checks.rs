//! `Command::check`: refusing an empty list where the command needs at least one value.

use proc_macro2::TokenStream;
use quote::quote;

use super::{ident, local, Bind, Emitter};
use crate::generate::layout::{EnumLayout, Member, Payload, Repr, StructLayout};
use crate::generate::model::Node;

impl Emitter<'_> {
    /// Whether values of `r` can hold an empty required list.
    pub(super) fn needs_check(&self, node: &Node, r: &Repr) -> bool {
        match r {
            Repr::Many(inner) => !node.optional || self.needs_check(node, inner),
            Repr::Zip(_) => true,
            Repr::Opt(inner) => self.needs_check(node, inner),
            Repr::Enum(name) => self.enum_needs_check(self.enum_named(name)),
            Repr::Struct(name, _) => self.struct_needs_check(self.struct_named(name)),
            Repr::Tuple(ms) => ms
                .iter()
                .any(|m| self.needs_check(self.node(m.node), &m.repr)),
            _ => false,
        }
    }

    pub(super) fn enum_needs_check(&self, e: &EnumLayout) -> bool {
        e.variants.iter().any(|v| {
            let node = self.node(v.node);
            match &v.payload {
                Payload::Unit => false,
                Payload::One(r) => self.needs_check_choice(node, r),
                Payload::Fields(ms) => ms
                    .iter()
                    .any(|m| self.needs_check(self.node(m.node), &m.repr)),
            }
        })
    }

    /// A choice's list is required (choices are never optional).
    pub(super) fn needs_check_choice(&self, node: &Node, r: &Repr) -> bool {
        matches!(r, Repr::Many(_)) || self.needs_check(node, r)
    }

    pub(super) fn struct_needs_check(&self, s: &StructLayout) -> bool {
        s.members
            .iter()
            .any(|m| self.needs_check(self.node(m.node), &m.repr))
    }

    pub(super) fn empty_error(&self, node: &Node) -> TokenStream {
        let name = self.command_name();
        let path = &node.path;
        quote!(return Err(crate::command::empty_argument(#name, #path));)
    }

    /// Checks a member (a list must not be empty unless optional; nested values are checked).
    pub(super) fn check_member(
        &self,
        node: &Node,
        repr: &Repr,
        bind: &Bind,
        required_list: bool,
    ) -> TokenStream {
        let empty_list = required_list && matches!(repr, Repr::Many(_));
        if !(self.needs_check(node, repr) || empty_list) {
            return quote!();
        }
        match repr {
            Repr::Many(inner) | Repr::Opt(inner) if matches!(repr, Repr::Many(_)) => {
                let list = bind.place();
                let empty = if required_list {
                    let err = self.empty_error(node);
                    quote!(if #list.is_empty() { #err })
                } else {
                    quote!()
                };
                let each = if self.needs_check(node, inner) {
                    let item = local(&node.ident);
                    let inner = self.check_value(node, inner, &Bind::Local(item.clone()));
                    quote!(for #item in #list.iter() { #inner })
                } else {
                    quote!()
                };
                quote!(#empty #each)
            }
            Repr::Zip(_) => {
                let list = bind.place();
                let err = self.empty_error(node);
                quote!(if #list.is_empty() { #err })
            }
            Repr::Opt(inner) => {
                let v = local(&node.ident);
                let r = bind.reference();
                let inner = self.check_value(node, inner, &Bind::Local(v.clone()));
                quote!(if let Some(#v) = #r { #inner })
            }
            other => self.check_value(node, other, bind),
        }
    }

    pub(super) fn check_value(&self, node: &Node, repr: &Repr, bind: &Bind) -> TokenStream {
        match repr {
            Repr::Enum(_) | Repr::Struct(..) if self.needs_check(node, repr) => {
                let v = bind.place();
                quote!(#v.check_args()?;)
            }
            Repr::Tuple(ms) if self.needs_check(node, repr) => {
                let mut out = TokenStream::new();
                let locals: Vec<(Bind, &Member)> = match ms.as_slice() {
                    [one] => vec![(bind.clone(), one)],
                    many => {
                        let needed: Vec<bool> = many
                            .iter()
                            .map(|m| self.needs_check(self.node(m.node), &m.repr))
                            .collect();
                        let pats = many.iter().zip(&needed).map(|(m, needed)| {
                            if *needed {
                                let n = local(&m.name);
                                quote!(#n)
                            } else {
                                quote!(_)
                            }
                        });
                        let r = bind.reference();
                        out.extend(quote!(let (#(#pats),*) = #r;));
                        many.iter()
                            .zip(needed)
                            .filter(|(_, needed)| *needed)
                            .map(|(m, _)| (Bind::Local(local(&m.name)), m))
                            .collect()
                    }
                };
                for (b, m) in locals {
                    let n = self.node(m.node);
                    out.extend(self.check_member(n, &m.repr, &b, !n.optional));
                }
                out
            }
            _ => quote!(),
        }
    }

    /// `fn check_args(&self)` for a struct, if it has anything to check.
    pub(super) fn struct_check(&self, s: &StructLayout) -> TokenStream {
        if !self.struct_needs_check(s) {
            return quote!();
        }
        let checks = s.members.iter().map(|m| {
            let node = self.node(m.node);
            self.check_member(node, &m.repr, &Bind::Field(ident(&m.name)), !node.optional)
        });
        quote! {
            /// Reports an empty list where the command needs at least one value.
            fn check_args(&self) -> crate::Result<()> {
                #(#checks)*
                Ok(())
            }
        }
    }

    /// `fn check_args(&self)` for an enum, if a choice has anything to check.
    pub(super) fn enum_check(&self, e: &EnumLayout) -> TokenStream {
        let name = ident(&e.name);
        if !self.enum_needs_check(e) {
            return quote!();
        }
        let arms = e.variants.iter().map(|v| {
            let choice = self.node(v.node);
            let vname = ident(&v.name);
            match &v.payload {
                Payload::Unit => quote!(Self::#vname => {}),
                Payload::One(r) => {
                    let x = local(&choice.ident);
                    let body = self.check_member(choice, r, &Bind::Local(x.clone()), true);
                    if body.is_empty() {
                        quote!(Self::#vname(_) => {})
                    } else {
                        quote!(Self::#vname(#x) => { #body })
                    }
                }
                Payload::Fields(ms) => {
                    let mut names = Vec::new();
                    let mut body = TokenStream::new();
                    for m in ms {
                        let node = self.node(m.node);
                        let n = ident(&m.name);
                        let check = self.check_member(
                            node,
                            &m.repr,
                            &Bind::Local(n.clone()),
                            !node.optional,
                        );
                        if !check.is_empty() {
                            names.push(n);
                            body.extend(check);
                        }
                    }
                    quote!(Self::#vname { #(#names,)* .. } => { #body })
                }
            }
        });
        quote! {
            impl #name {
                /// Reports an empty list where the command needs at least one value.
                fn check_args(&self) -> crate::Result<()> {
                    match self { #(#arms)* }
                    Ok(())
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;

    #[test]
    fn a_required_list_must_not_be_empty() {
        with_emitter(ZADD, |e| {
            assert_tokens(
                &e.struct_check(&e.l.root),
                r#"
                /// Reports an empty list where the command needs at least one value.
                fn check_args(&self) -> crate::Result<()> {
                    if self.data.is_empty() {
                        return Err(crate::command::empty_argument("ZADD", "data"));
                    }
                    Ok(())
                }
                "#,
            );
        });
        // Optional lists may be empty: nothing to check.
        with_emitter(EVAL, |e| assert!(e.struct_check(&e.l.root).is_empty()));
    }

    #[test]
    fn a_repeated_choice_is_checked_inside_its_enum() {
        with_emitter(CLIENT_KILL, |e| {
            let filter = e.enum_named("ClientKillFilter");
            assert_tokens(
                &e.enum_check(filter),
                r#"
                impl ClientKillFilter {
                    /// Reports an empty list where the command needs at least one value.
                    fn check_args(&self) -> crate::Result<()> {
                        match self {
                            Self::Id(client_id) => {
                                if client_id.is_empty() {
                                    return Err(crate::command::empty_argument("CLIENT KILL", "filter.client-id"));
                                }
                            }
                            Self::User(_) => {}
                        }
                        Ok(())
                    }
                }
                "#,
            );
            assert_contains(&e.struct_check(&e.l.root), "self.filter.check_args()?;");
        });
    }
}
