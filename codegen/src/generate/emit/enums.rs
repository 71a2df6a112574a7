//! Enums for oneofs: variants, constructors from values and their `ToArgs` impl.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::{deprecated_attr, ident, local, token, Bind, Binds, Emitter};
use crate::generate::docs::{self, attrs, code};
use crate::generate::layout::{EnumLayout, Payload};

impl Emitter<'_> {
    pub(super) fn enum_def(&self, e: &EnumLayout) -> TokenStream {
        let name = ident(&e.name);
        let oneof = self.node(e.node);
        let syntax = docs::short_syntax(oneof).map_or(String::new(), |s| format!(": `{s}`"));
        let doc = attrs(&docs::with_summary(
            format!(
                "The choices of `{}` in [`{}`]{syntax}{}.",
                code(&oneof.path),
                self.l.root.name,
                docs::facts(oneof)
            ),
            oneof,
        ));
        let mut variants = Vec::new();
        let mut ctors = Vec::new();
        let mut arms = Vec::new();
        for (index, v) in e.variants.iter().enumerate() {
            let choice = self.node(v.node);
            let vname = ident(&v.name);
            let vdoc = attrs(&docs::with_summary(docs::argument(choice), choice));
            let deprecated = deprecated_attr(choice);
            let fname = ident(&v.func);
            match &v.payload {
                Payload::Unit => {
                    variants.push(quote!(#vdoc #deprecated #vname));
                    let write = self.write_choice(choice, &Binds::new());
                    arms.push(quote!(Self::#vname => { #write }));
                }
                Payload::One(r) => {
                    let t = self.ty(r);
                    variants.push(quote!(#vdoc #deprecated #vname(#t)));
                    let (params, value) = self.variant_value(e, index, &quote!(Self));
                    let cdoc = attrs(&format!("[`{}::{}`] from its value.", e.name, v.name));
                    ctors.push(quote! {
                        #cdoc #deprecated
                        pub fn #fname(#(#params),*) -> Self { #value }
                    });
                    let x = local(&choice.ident);
                    let write = if choice.multiple {
                        self.write_member(choice, r, &Bind::Local(x.clone()))
                    } else {
                        let tok = token(choice);
                        let value = self.write_value(choice, r, &Bind::Local(x.clone()));
                        quote!(#tok #value)
                    };
                    arms.push(quote!(Self::#vname(#x) => { #write }));
                }
                Payload::Fields(ms) => {
                    let fields = ms.iter().map(|m| {
                        let n = ident(&m.name);
                        let t = self.ty(&m.repr);
                        let field = self.node(m.node);
                        let fdoc = attrs(&docs::with_summary(docs::argument(field), field));
                        quote!(#fdoc #n: #t)
                    });
                    variants.push(quote!(#vdoc #deprecated #vname { #(#fields),* }));
                    let (params, value) = self.variant_value(e, index, &quote!(Self));
                    let cdoc = attrs(&format!("[`{}::{}`] from its members.", e.name, v.name));
                    ctors.push(quote! {
                        #cdoc #deprecated
                        pub fn #fname(#(#params),*) -> Self { #value }
                    });
                    let names: Vec<Ident> = ms.iter().map(|m| ident(&m.name)).collect();
                    let mut binds = Binds::new();
                    for (m, n) in ms.iter().zip(&names) {
                        binds.insert(m.node, (Bind::Local(n.clone()), m.repr.clone()));
                    }
                    let write = self.write_choice(choice, &binds);
                    arms.push(quote!(Self::#vname { #(#names),* } => { #write }));
                }
            }
        }
        let ctors = if ctors.is_empty() {
            quote!()
        } else {
            quote!(impl #name { #(#ctors)* })
        };
        let check = self.enum_check(e);
        quote! {
            #doc
            #[derive(Clone, Debug, PartialEq)]
            pub enum #name { #(#variants),* }

            #ctors

            impl crate::ToArgs for #name {
                fn write_args(&self, out: &mut crate::resp::ArgWriter<'_>) {
                    match self { #(#arms)* }
                }
            }

            #check
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;

    #[test]
    fn a_oneof_becomes_an_enum_with_constructors_and_wire_arms() {
        with_emitter(SET, |e| {
            let code = e.enum_def(e.l.enum_named("SetCondition"));
            assert_contains(
                &code,
                r#"
                /// The choices of `condition` in [`Set`]: `NX | IFEQ comparison-value`.
                #[derive(Clone, Debug, PartialEq)]
                pub enum SetCondition {
                    /// `NX`
                    Nx,
                    /// `IFEQ comparison-value` (since 8.1.0)
                    ///
                    /// Sets the key's value only if it matches.
                    Ifeq(crate::command::Arg)
                }
                impl SetCondition {
                    /// [`SetCondition::Ifeq`] from its value.
                    pub fn ifeq(comparison_value: impl crate::ToArgs) -> Self {
                        Self::Ifeq(crate::command::Arg::new(comparison_value))
                    }
                }
                "#,
            );
            assert_contains(
                &code,
                r#"
                match self {
                    Self::Nx => { out.arg(b"NX"); }
                    Self::Ifeq(comparison_value) => {
                        out.arg(b"IFEQ");
                        comparison_value.write_args(out);
                    }
                }
                "#,
            );
        });
    }

    #[test]
    fn a_block_choice_holds_named_fields() {
        with_emitter(BITFIELD, |e| {
            let code = e.enum_def(e.l.enum_named("BitfieldOperation"));
            assert_contains(
                &code,
                "Get { /// `encoding`\n encoding: crate::command::Arg, /// `offset`\n offset: i64 }",
            );
            assert_contains(
                &code,
                r#"Self::Get { encoding, offset } => {
                    out.arg(b"GET");
                    encoding.write_args(out);
                    out.int(*offset);
                }"#,
            );
        });
    }
}
