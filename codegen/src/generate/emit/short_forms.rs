//! Short-form methods of the `Commands` traits: the required arguments, run at once.

use proc_macro2::{Group, Ident, TokenStream, TokenTree};
use quote::quote;

use super::{angle, ident, Emitter};
use crate::generate::api::Api;
use crate::generate::docs::{attrs, prose};
use crate::generate::layout::TypeDef;
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
            let params: Vec<TokenStream> = params.into_iter().map(|p| self.in_cmd(p)).collect();
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
            doc.push_str(&format!("\n\nRuns [`cmd::{}::{}`]", s.name, c.name));
            if api.setters.is_empty() {
                doc.push('.');
            } else {
                doc.push_str(&format!(
                    "; for the optional arguments, build a [`cmd::{}`] with its setters and \
                     [`run`](Executor::run) it.",
                    s.name
                ));
            }
            let doc = attrs(&doc);
            let deprecated = self.deprecated_command();
            out.extend(quote! {
                #doc #deprecated
                fn #method #generics(self #(, #params)*) -> Self::Output<#output> {
                    self.run(crate::cmd::#name::#cname(#(#args),*))
                }
            });
        }
        out
    }
}

impl Emitter<'_> {
    /// Tokens of the command's group file as seen from outside the `cmd` module: the command's
    /// own enums and block structs named through `crate::cmd`.
    fn in_cmd(&self, tokens: TokenStream) -> TokenStream {
        let mut out: Vec<TokenTree> = Vec::new();
        for tree in tokens {
            match tree {
                TokenTree::Group(g) => {
                    let mut group = Group::new(g.delimiter(), self.in_cmd(g.stream()));
                    group.set_span(g.span());
                    out.push(TokenTree::Group(group));
                }
                TokenTree::Ident(name)
                    if !ends_in_path_separator(&out) && self.defines_type(&name.to_string()) =>
                {
                    out.extend(quote!(crate::cmd::));
                    out.push(TokenTree::Ident(name));
                }
                other => out.push(other),
            }
        }
        out.into_iter().collect()
    }

    /// Whether the command generates an enum or block struct of this name.
    fn defines_type(&self, name: &str) -> bool {
        self.l.types.iter().any(|t| match t {
            TypeDef::Enum(e) => e.name == name,
            TypeDef::Struct(s) => s.name == name,
        })
    }
}

/// Whether tokens end in `::`.
fn ends_in_path_separator(tokens: &[TokenTree]) -> bool {
    matches!(
        tokens,
        [.., TokenTree::Punct(a), TokenTree::Punct(b)] if a.as_char() == ':' && b.as_char() == ':'
    )
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

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use crate::generate::api::api;

    #[test]
    fn a_short_form_runs_the_constructor_with_the_required_arguments() {
        with_emitter(SET, |e| {
            assert_tokens(
                &e.short_forms(&api(e.l, &e.l.root).unwrap()),
                r#"
                /// `SET`: Sets the string value of a key.
                ///
                /// Runs [`cmd::Set::new`]; for the optional arguments, build a [`cmd::Set`] with its setters
                /// and [`run`](Executor::run) it.
                fn set<K: crate::ToArgs, V: crate::ToArgs>(self, key: K, value: V) -> Self::Output<()> {
                    self.run(crate::cmd::Set::new(key, value))
                }
                "#,
            );
        });
    }

    #[test]
    fn the_commands_own_types_are_named_through_cmd() {
        with_emitter(LINSERT, |e| {
            let code = e.short_forms(&api(e.l, &e.l.root).unwrap());
            assert_contains(
                &code,
                "fn linsert<K: crate::ToArgs, P: crate::ToArgs>(self, key: K, where_: crate::cmd::LinsertWhere, pivot: P)",
            );
            // No optional arguments: nothing to say about them.
            assert_contains(&code, "/// Runs [`cmd::Linsert::new`].");
        });
    }

    #[test]
    fn each_constructor_of_a_choice_gets_a_short_form() {
        with_emitter(REPLICAOF, |e| {
            let code = e.short_forms(&api(e.l, &e.l.root).unwrap());
            assert_contains(
                &code,
                "fn replicaof_host_port(self, host: impl crate::ToArgs, port: i64) -> Self::Output<String> {
                    self.run(crate::cmd::Replicaof::host_port(host, port))
                }",
            );
            assert_contains(
                &code,
                "fn replicaof_no_one(self) -> Self::Output<()> { self.run(crate::cmd::Replicaof::no_one()) }",
            );
        });
    }
}
