//! `ToArgs` bodies: writing a command's or block's arguments in wire order.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::values::is_float;
use super::{local, token, Bind, Binds, Emitter};
use crate::generate::layout::Repr;
use crate::generate::model::{Kind, Node};

impl Emitter<'_> {
    /// Writes `nodes` (a command's arguments or a block's members).
    pub(super) fn write_nodes(&self, nodes: &[Node], binds: &Binds) -> TokenStream {
        let mut out = TokenStream::new();
        for (i, node) in nodes.iter().enumerate() {
            match &node.kind {
                Kind::Count => {
                    let next = &nodes[i + 1];
                    let (bind, _) = &binds[&next.id];
                    let list = bind.place();
                    let count = if matches!(next.kind, Kind::Value(_)) {
                        quote!(#list.iter().map(crate::ToArgs::num_args).sum::<usize>())
                    } else {
                        quote!(#list.len())
                    };
                    out.extend(token(node));
                    out.extend(quote!(out.uint(#count as u64);));
                }
                Kind::Block(children) if node.is_inline_block() => {
                    out.extend(token(node));
                    out.extend(self.write_nodes(children, binds));
                }
                Kind::Flag if !node.optional => out.extend(token(node)),
                _ => {
                    let (bind, repr) = &binds[&node.id];
                    out.extend(self.write_member(node, repr, bind));
                }
            }
        }
        out
    }

    /// Writes a member: its token(s) and value(s), if given.
    pub(super) fn write_member(&self, node: &Node, repr: &Repr, bind: &Bind) -> TokenStream {
        let tok = token(node);
        match repr {
            Repr::Bool => {
                let flag = bind.copy();
                quote!(if #flag { #tok })
            }
            Repr::Opt(inner) => {
                let v = local(&node.ident);
                let r = bind.reference();
                let value = self.write_value(node, inner, &Bind::Local(v.clone()));
                quote!(if let Some(#v) = #r { #tok #value })
            }
            Repr::Many(inner) => {
                let item = local(&node.ident);
                let list = bind.place();
                let value = self.write_value(node, inner, &Bind::Local(item.clone()));
                let (once, each) = if node.multiple_token {
                    (quote!(), tok)
                } else {
                    (tok, quote!())
                };
                let body = quote!(#once for #item in #list.iter() { #each #value });
                if node.optional && !once.is_empty() {
                    quote!(if !#list.is_empty() { #body })
                } else {
                    body
                }
            }
            Repr::Zip(ms) => {
                let list = bind.place();
                // One pass over the list per member, binding that member by name.
                let loops = ms.iter().enumerate().map(|(k, m)| {
                    let item = local(&m.name);
                    let pattern = match ms.len() {
                        1 => quote!(#item),
                        _ => {
                            let slots =
                                (0..ms.len())
                                    .map(|j| if j == k { quote!(#item) } else { quote!(_) });
                            quote!((#(#slots),*))
                        }
                    };
                    let write = match &m.repr {
                        Repr::Num(s) if is_float(*s) => quote!(out.float(*#item);),
                        Repr::Num(_) => quote!(out.int(*#item);),
                        _ => quote!(#item.write_args(out);),
                    };
                    quote!(for #pattern in #list.iter() { #write })
                });
                quote!(#tok #(#loops)*)
            }
            _ => {
                let value = self.write_value(node, repr, bind);
                quote!(#tok #value)
            }
        }
    }

    /// Writes one value (no token).
    pub(super) fn write_value(&self, node: &Node, repr: &Repr, bind: &Bind) -> TokenStream {
        match repr {
            Repr::Num(s) if is_float(*s) => {
                let v = bind.copy();
                quote!(out.float(#v);)
            }
            Repr::Num(_) => {
                let v = bind.copy();
                quote!(out.int(#v);)
            }
            Repr::Tuple(ms) => {
                let mut binds = Binds::new();
                let mut out = TokenStream::new();
                match ms.as_slice() {
                    [] => {}
                    [one] => {
                        binds.insert(one.node, (bind.clone(), one.repr.clone()));
                    }
                    many => {
                        let names: Vec<Ident> = many.iter().map(|m| local(&m.name)).collect();
                        let r = bind.reference();
                        out.extend(quote!(let (#(#names),*) = #r;));
                        for (m, n) in many.iter().zip(names) {
                            binds.insert(m.node, (Bind::Local(n), m.repr.clone()));
                        }
                    }
                }
                out.extend(self.write_nodes(node.children(), &binds));
                out
            }
            Repr::Many(_) | Repr::Zip(_) | Repr::Opt(_) | Repr::Bool => {
                // A repeated choice of a oneof: its list is the payload.
                self.write_member(node, repr, bind)
            }
            _ => {
                let v = bind.place();
                quote!(#v.write_args(out);)
            }
        }
    }

    /// Writes a choice with its token: a block's members, or nothing more for a token.
    pub(super) fn write_choice(&self, choice: &Node, binds: &Binds) -> TokenStream {
        let tok = token(choice);
        let rest = match &choice.kind {
            Kind::Block(children) => self.write_nodes(children, binds),
            _ => quote!(),
        };
        quote!(#tok #rest)
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;

    #[test]
    fn optional_members_are_written_when_given_and_bound_by_name() {
        with_emitter(SET, |e| {
            assert_tokens(
                &e.write_nodes(&e.l.model.args, &field_binds(e)),
                r#"
                self.key.write_args(out);
                self.value.write_args(out);
                if let Some(condition) = &self.condition { condition.write_args(out); }
                if self.get { out.arg(b"GET"); }
                if let Some(expiration) = &self.expiration { expiration.write_args(out); }
                "#,
            );
        });
    }

    #[test]
    fn a_block_of_lists_is_written_one_member_at_a_time() {
        with_emitter(XREAD, |e| {
            assert_tokens(
                &e.write_nodes(&e.l.model.args, &field_binds(e)),
                r#"
                if let Some(count) = &self.count { out.arg(b"COUNT"); out.int(*count); }
                out.arg(b"STREAMS");
                for (key, _) in self.streams.iter() { key.write_args(out); }
                for (_, id) in self.streams.iter() { id.write_args(out); }
                "#,
            );
        });
    }

    #[test]
    fn tuples_are_destructured_and_counts_derived() {
        with_emitter(ZADD, |e| {
            assert_contains(
                &e.write_nodes(&e.l.model.args, &field_binds(e)),
                r#"
                for data in self.data.iter() {
                    let (score, member) = data;
                    out.float(*score);
                    member.write_args(out);
                }
                "#,
            );
        });
        with_emitter(EVAL, |e| {
            assert_contains(
                &e.write_nodes(&e.l.model.args, &field_binds(e)),
                "out.uint(self.key.iter().map(crate::ToArgs::num_args).sum::<usize>() as u64);",
            );
        });
    }
}
