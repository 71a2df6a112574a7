//! The reply shapes of a command and its `Command` impls, one per type-state combination.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::{angle, connection_state, ident, Emitter};
use crate::generate::names::upper;
use crate::generate::reply_ty;

impl Emitter<'_> {
    /// The static holding a reply shape: `SET_REPLY` for the default reply, `SET_REPLY_WITH_GET`
    /// for the variant whose `when` is `get` (`ZRANGE_REPLY_WITHSCORES` when the option already
    /// says "with"), `SET_RESP2…` for an explicit RESP2 shape.
    pub(super) fn shape_static(&self, index: Option<usize>, resp2: bool) -> Ident {
        let kind = if resp2 { "RESP2" } else { "REPLY" };
        let condition = &self.shape_conditions()[index.map_or(0, |i| i + 1)];
        format_ident!("{}_{kind}{condition}", upper(&self.l.model.method))
    }

    /// The name suffix of each reply's statics (the default reply first), from its `when` paths,
    /// numbered where two would be equal.
    fn shape_conditions(&self) -> Vec<String> {
        let mut names = vec![String::new()];
        for v in &self.l.variants {
            let parts: Vec<String> = v.paths.iter().map(|p| upper(p)).collect();
            let mut name = match parts.first() {
                None => "_ALWAYS".to_string(),
                Some(first) if first.starts_with("WITH") => format!("_{}", parts.join("_AND_")),
                Some(_) => format!("_WITH_{}", parts.join("_AND_")),
            };
            let base = name.clone();
            let mut n = 2;
            while names.contains(&name) {
                name = format!("{base}_{n}");
                n += 1;
            }
            names.push(name);
        }
        names
    }

    pub(super) fn shapes(&self) -> TokenStream {
        let mut out = TokenStream::new();
        let all = std::iter::once((None, &self.l.reply)).chain(
            self.l
                .variants
                .iter()
                .enumerate()
                .map(|(i, v)| (Some(i), v)),
        );
        for (index, v) in all {
            let name = self.shape_static(index, false);
            let shape = reply_ty::shape(&v.ty);
            out.extend(quote!(static #name: crate::shape::ReplyShape = #shape;));
            if let Some(resp2) = &v.resp2 {
                let name = self.shape_static(index, true);
                let shape = reply_ty::shape(resp2);
                out.extend(quote!(static #name: crate::shape::ReplyShape = #shape;));
            }
        }
        out
    }

    /// One `Command` impl per combination of the type-state parameters.
    pub(super) fn command_impls(&self) -> TokenStream {
        let s = &self.l.root;
        let n = s.params.len();
        let name_lit = self.command_name();
        let meta_const = crate::generate::meta::const_name(&self.l.model.spec.name);
        let bounds: Vec<TokenStream> = s
            .generics
            .iter()
            .map(|g| {
                let g = ident(g);
                quote!(#g: crate::ToArgs)
            })
            .collect();
        let impl_bounds = angle(bounds.iter().cloned());
        let check = if self.struct_needs_check(s) {
            quote!(
                fn check(&self) -> crate::Result<()> {
                    self.check_args()
                }
            )
        } else {
            quote!()
        };
        let connection_state = if connection_state(self.l) {
            quote!(
                const CONNECTION_STATE: bool = true;
            )
        } else {
            quote!()
        };
        let mut out = TokenStream::new();
        for bits in 0..(1u32 << n) {
            let values: Vec<bool> = (0..n).map(|i| bits & (1 << i) != 0).collect();
            let chosen = self.l.variant_for(&values);
            let variant = match chosen {
                Some(i) => &self.l.variants[i],
                None => &self.l.reply,
            };
            let output = reply_ty::rust(&variant.ty);
            let shape = self.shape_static(chosen, false);
            let resp2 = if variant.resp2.is_some() {
                let r2 = self.shape_static(chosen, true);
                quote! {
                    fn resp2_reply_shape(&self) -> Option<&'static crate::shape::ReplyShape> { Some(&#r2) }
                }
            } else {
                quote!()
            };
            let ty = self.struct_type(
                s,
                &values
                    .iter()
                    .map(|v| if *v { quote!(true) } else { quote!(false) })
                    .collect::<Vec<_>>(),
            );
            out.extend(quote! {
                impl #impl_bounds crate::command::Command for #ty {
                    type Output = #output;
                    const NAME: &'static str = #name_lit;
                    const META: Option<&'static crate::command_meta::CommandMeta> =
                        Some(&crate::generated::meta::#meta_const);
                    fn reply_shape(&self) -> &'static crate::shape::ReplyShape { &#shape }
                    #resp2
                    #check
                    #connection_state
                }
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;

    #[test]
    fn reply_shapes_are_named_after_their_condition() {
        with_emitter(SET, |e| {
            assert_tokens(
                &e.shapes(),
                r#"
                static SET_REPLY: crate::shape::ReplyShape = crate::shape::ReplyShape::Ok;
                static SET_REPLY_WITH_GET: crate::shape::ReplyShape =
                    crate::shape::ReplyShape::Optional(&crate::shape::ReplyShape::Bulk);
                static SET_REPLY_WITH_CONDITION: crate::shape::ReplyShape =
                    crate::shape::ReplyShape::Optional(&crate::shape::ReplyShape::Ok);
                "#,
            );
        });
        with_emitter(REPLICAOF, |e| {
            assert_eq!(
                e.shape_static(Some(0), false),
                "REPLICAOF_REPLY_WITH_ARGS_NO_ONE"
            );
            assert_eq!(e.shape_static(None, true), "REPLICAOF_RESP2");
        });
    }

    #[test]
    fn every_type_state_gets_the_first_reply_whose_condition_holds() {
        with_emitter(SET, |e| {
            let impls = e.command_impls();
            for (state, output, shape) in [
                ("false, false", "()", "SET_REPLY"),
                ("true, false", "Option<bytes::Bytes>", "SET_REPLY_WITH_GET"),
                ("false, true", "Option<()>", "SET_REPLY_WITH_CONDITION"),
                ("true, true", "Option<bytes::Bytes>", "SET_REPLY_WITH_GET"),
            ] {
                assert_contains(
                    &impls,
                    &format!(
                        "impl<K: crate::ToArgs, V: crate::ToArgs> crate::command::Command for Set<K, V, {state}> {{
                            type Output = {output};
                            const NAME: &'static str = \"SET\";
                            const META: Option<&'static crate::command_meta::CommandMeta> = Some(&crate::generated::meta::SET);
                            fn reply_shape(&self) -> &'static crate::shape::ReplyShape {{ &{shape} }}
                        }}"
                    ),
                );
            }
        });
        // A command with something to check says so.
        with_emitter(XREAD, |e| {
            assert_contains(
                &e.command_impls(),
                "fn check(&self) -> crate::Result<()> { self.check_args() }",
            );
        });
    }
}
