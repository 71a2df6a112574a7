//! Short-form methods of the `Commands` traits: the required arguments, run at once.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::{angle, ident, Emitter};
use crate::generate::api::Api;
use crate::generate::docs::{attrs, prose};
use crate::generate::reply_ty;

impl Emitter<'_> {
    pub(super) fn short_forms(&self, api: &Api) -> TokenStream {
        let s = &self.l.root;
        let spec = self.l.model.spec;
        let mut out = TokenStream::new();
        for c in &api.ctors {
            let method = if c.name == "new" {
                self.l.model.method.clone()
            } else {
                let selector = self.node(s.selector.expect("choice constructors have a selector"));
                let choice = &selector.children()[c.choice.expect("a choice constructor")];
                format!(
                    "{}_{}",
                    self.l.model.method,
                    choice.label.trim_end_matches('_')
                )
            };
            let method = ident(&method);
            let generics = angle(s.generics.iter().map(|g| {
                let g = ident(g);
                quote!(#g: crate::ToArgs)
            }));
            // The constructor's parameters, forwarded.
            let ctor_tokens = self.ctor(s, c, true);
            let (params, args) = ctor_signature(&ctor_tokens);
            let chosen = self.l.variant_for(&c.params);
            let output = reply_ty::rust(match chosen {
                Some(i) => &self.l.variants[i].ty,
                None => &self.l.reply.ty,
            });
            let name = ident(&s.name);
            let cname = ident(&c.name);
            let mut doc = format!("`{}`", self.command_name());
            if let Some(summary) = &spec.summary {
                doc.push_str(": ");
                doc.push_str(&prose(summary));
            }
            doc.push_str(&format!(
                "\n\nRuns [`cmd::{}::{}`](crate::cmd::{}::{}) (required arguments only); \
                 build a [`cmd::{}`](crate::cmd::{}) and `run` it for the optional ones.",
                s.name, c.name, s.name, c.name, s.name, s.name
            ));
            let doc = attrs(&doc);
            let deprecated = self
                .l
                .model
                .deprecated
                .as_ref()
                .map(|note| quote!(#[deprecated(note = #note)]))
                .unwrap_or_default();
            out.extend(quote! {
                #doc #deprecated
                fn #method #generics(self #(, #params)*) -> Self::Output<#output> {
                    crate::command::Executor::run(self, crate::cmd::#name::#cname(#(#args),*))
                }
            });
        }
        out
    }
}

/// The parameters of a generated constructor (`name: Type` pairs) and their names, read back
/// from its tokens so the short form forwards exactly what the constructor takes.
fn ctor_signature(ctor: &TokenStream) -> (Vec<TokenStream>, Vec<Ident>) {
    let item: syn::ImplItemFn = syn::parse2(ctor.clone()).expect("constructors parse");
    let mut params = Vec::new();
    let mut names = Vec::new();
    for input in &item.sig.inputs {
        if let syn::FnArg::Typed(pat) = input {
            if let syn::Pat::Ident(pi) = &*pat.pat {
                names.push(pi.ident.clone());
            }
            params.push(quote!(#input));
        }
    }
    (params, names)
}
