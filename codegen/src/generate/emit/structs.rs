//! The command struct and block structs: fields, constructors, `retype` and `ToArgs` impl.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::{angle, bytes, field_init, ident, Bind, Binds, Emitter};
use crate::generate::api::{Api, Ctor};
use crate::generate::docs::{self, attrs, code};
use crate::generate::layout::{Repr, StructLayout};
use crate::generate::model::Node;

impl Emitter<'_> {
    /// The struct, its constructors, setters, `ToArgs` impl and (for a block) check.
    pub(super) fn struct_def(&self, s: &StructLayout, api: &Api, root: bool) -> TokenStream {
        let name = ident(&s.name);
        let generics: Vec<Ident> = s.generics.iter().map(|g| ident(g)).collect();
        let params: Vec<Ident> = s.params.iter().map(|p| ident(&p.name)).collect();
        let decl_params = params.iter().map(|p| quote!(const #p: bool = false));
        let decl = angle(generics.iter().map(|g| quote!(#g)).chain(decl_params));
        let impl_params = params.iter().map(|p| quote!(const #p: bool));
        let impl_generics = angle(generics.iter().map(|g| quote!(#g)).chain(impl_params));
        let bounded = generics.iter().map(|g| quote!(#g: crate::ToArgs));
        let impl_params2 = params.iter().map(|p| quote!(const #p: bool));
        let bounded_generics = angle(bounded.chain(impl_params2));
        let full_args = angle(generics.iter().chain(params.iter()).map(|g| quote!(#g)));
        let full = quote!(#name #full_args);
        let fields = s.members.iter().map(|m| {
            let n = ident(&m.name);
            let t = self.ty(&m.repr);
            quote!(#n: #t)
        });
        let doc = if root {
            attrs(&self.command_doc())
        } else {
            let node = self.node(s.node.expect("block struct"));
            let head = format!(
                "The block `{}` of [`{}`]: {}.",
                code(&node.path),
                self.l.root.name,
                docs::argument(node)
            );
            attrs(&format!(
                "{}\n\nBuild it with `new` (its required members) and its setters.",
                docs::with_summary(head, node)
            ))
        };
        let deprecated = if root {
            self.deprecated_command()
        } else {
            quote!()
        };
        let ctors = api.ctors.iter().map(|c| self.ctor(s, c, root));
        let (ctor_generics, ctor_type) = if generics.is_empty() {
            (quote!(), quote!(#name))
        } else {
            let bounds = generics.iter().map(|g| quote!(#g: crate::ToArgs));
            (quote!(<#(#bounds),*>), quote!(#name<#(#generics),*>))
        };
        let setters = api.setters.iter().map(|st| self.setter(s, st));
        // The command's `retype` serves setters that change the type state; when only
        // constructors pick it (REPLICAOF), there is none. A block's serves its owner's too.
        let moves_state = !root || api.setters.iter().any(|st| !st.effects.is_empty());
        let retype = if moves_state {
            self.retype(s)
        } else {
            quote!()
        };
        let check = self.struct_check(s);
        let setters: Vec<TokenStream> = setters.collect();
        let methods = if setters.is_empty() && retype.is_empty() && check.is_empty() {
            quote!()
        } else {
            quote!(impl #impl_generics #full { #(#setters)* #retype #check })
        };
        let binds: Binds = s
            .members
            .iter()
            .map(|m| (m.node, (Bind::Field(ident(&m.name)), m.repr.clone())))
            .collect();
        let nodes: &[Node] = match s.node {
            Some(id) => self.node(id).children(),
            None => &self.l.model.args,
        };
        let name_words = if root {
            let words = self.l.model.words.iter().map(|w| bytes(w));
            quote!(#(out.arg(#words);)*)
        } else {
            quote!()
        };
        let write = self.write_nodes(nodes, &binds);
        let derives = if root {
            quote!(#[derive(Clone, Debug)])
        } else {
            quote!(#[derive(Clone, Debug, PartialEq)])
        };
        quote! {
            #doc
            #deprecated
            #derives
            pub struct #name #decl { #(#fields),* }

            impl #ctor_generics #ctor_type {
                #(#ctors)*
            }

            #methods

            impl #bounded_generics crate::ToArgs for #full {
                fn write_args(&self, out: &mut crate::resp::ArgWriter<'_>) {
                    #name_words
                    #write
                }
            }
        }
    }

    /// The type of this struct with the given param values (`true`/`false`) or names.
    pub(super) fn struct_type(&self, s: &StructLayout, params: &[TokenStream]) -> TokenStream {
        let name = ident(&s.name);
        let generics = s.generics.iter().map(|g| ident(g));
        let args = angle(generics.map(|g| quote!(#g)).chain(params.iter().cloned()));
        quote!(#name #args)
    }

    pub(super) fn ctor(&self, s: &StructLayout, c: &Ctor, root: bool) -> TokenStream {
        let mut params = Vec::new();
        let mut inits = Vec::new();
        for m in &s.members {
            let n = ident(&m.name);
            let node = self.node(m.node);
            match &m.repr {
                Repr::Bool => inits.push(quote!(#n: false)),
                Repr::Opt(_) => inits.push(quote!(#n: None)),
                Repr::Many(_) if node.optional => inits.push(quote!(#n: Vec::new())),
                Repr::Enum(e) if s.selector == Some(node.id) => {
                    let choice = c.choice.expect("selector ctor has a choice");
                    let path = ident(e);
                    let (p, value) = self.variant_value(self.enum_named(e), choice, &quote!(#path));
                    params.extend(p);
                    inits.push(quote!(#n: #value));
                }
                other => {
                    let (p, value) = self.slot(other, &m.name);
                    params.extend(p);
                    inits.push(field_init(&m.name, value));
                }
            }
        }
        let fname = ident(&c.name);
        let values: Vec<TokenStream> = c
            .params
            .iter()
            .map(|v| if *v { quote!(true) } else { quote!(false) })
            .collect();
        let ret = if c.choice.is_some() {
            self.struct_type(s, &values)
        } else {
            quote!(Self)
        };
        let name = ident(&s.name);
        let doc = match (root, c.choice) {
            (true, None) => self.new_doc(),
            (true, Some(v)) => {
                let selector = self.node(s.selector.expect("selector"));
                let choice = &selector.children()[v];
                let head = format!(
                    "The command choosing {} for `{}`.",
                    docs::argument(choice),
                    code(&selector.name)
                );
                docs::with_summary(head, choice)
            }
            (false, _) => {
                "The block with its required members; optional ones have setters.".to_string()
            }
        };
        let doc = attrs(&doc);
        let deprecated = if root {
            self.deprecated_command()
        } else {
            quote!()
        };
        quote! {
            #doc #deprecated
            pub fn #fname(#(#params),*) -> #ret { #name { #(#inits),* } }
        }
    }

    /// The doc of `new`: what the command holds once built.
    fn new_doc(&self) -> String {
        let args = &self.l.model.args;
        let syntax = code(&self.required_syntax());
        if args.iter().any(|a| !a.optional) {
            format!("The command with its required arguments: `{syntax}`.")
        } else if args.is_empty() {
            format!("The command: `{syntax}` (it takes no arguments).")
        } else {
            format!("The command without arguments: `{syntax}`; the setters add the optional ones.")
        }
    }

    /// The syntax of the required arguments only.
    pub(super) fn required_syntax(&self) -> String {
        let required: Vec<Node> = self
            .l
            .model
            .args
            .iter()
            .filter(|n| !n.optional)
            .cloned()
            .collect();
        let mut text = self.command_name().to_string();
        let args = docs::syntax(&required);
        if !args.is_empty() {
            text.push(' ');
            text.push_str(&args);
        }
        text
    }

    /// `fn retype`: the same value with other type-state parameters.
    pub(super) fn retype(&self, s: &StructLayout) -> TokenStream {
        if s.params.is_empty() {
            return quote!();
        }
        let name = ident(&s.name);
        let targets: Vec<Ident> = s
            .params
            .iter()
            .map(|p| format_ident!("{}_", p.name))
            .collect();
        let ret = self.struct_type(s, &targets.iter().map(|t| quote!(#t)).collect::<Vec<_>>());
        let moves = s.members.iter().map(|m| {
            let n = ident(&m.name);
            match &m.repr {
                Repr::Opt(inner) if matches!(&**inner, Repr::Struct(_, args) if !args.is_empty()) =>
                {
                    quote!(#n: self.#n.map(|b| b.retype()))
                }
                _ => quote!(#n: self.#n),
            }
        });
        quote! {
            fn retype<#(const #targets: bool),*>(self) -> #ret {
                #name { #(#moves),* }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use crate::generate::api::api;
    use crate::generate::layout::TypeDef;

    #[test]
    fn new_takes_the_required_arguments_and_leaves_options_unset() {
        with_emitter(SET, |e| {
            let ctors = api(e.l, &e.l.root).unwrap().ctors;
            assert_tokens(
                &e.ctor(&e.l.root, &ctors[0], true),
                r#"
                /// The command with its required arguments: `SET key value`.
                pub fn new(key: K, value: V) -> Self {
                    Set { key, value, condition: None, get: false, expiration: None }
                }
                "#,
            );
            assert_contains(
                &e.retype(&e.l.root),
                "fn retype<const GET_: bool, const CONDITION_: bool>(self) -> Set<K, V, GET_, CONDITION_>",
            );
        });
    }

    #[test]
    fn a_reply_changing_choice_gets_a_constructor_each() {
        with_emitter(REPLICAOF, |e| {
            let ctors = api(e.l, &e.l.root).unwrap().ctors;
            let code: Vec<_> = ctors.iter().map(|c| e.ctor(&e.l.root, c, true)).collect();
            assert_tokens(
                &code[0],
                r#"
                /// The command choosing `host port` for `args`.
                pub fn host_port(host: impl crate::ToArgs, port: i64) -> Replicaof<false> {
                    Replicaof { args: ReplicaofArgs::HostPort { host: crate::command::Arg::new(host), port } }
                }
                "#,
            );
            assert_tokens(
                &code[1],
                r#"
                /// The command choosing `NO ONE` for `args`.
                pub fn no_one() -> Replicaof<true> { Replicaof { args: ReplicaofArgs::NoOne } }
                "#,
            );
        });
    }

    #[test]
    fn a_block_with_options_is_a_struct_of_its_own() {
        with_emitter(GEORADIUS, |e| {
            let TypeDef::Struct(block) = &e.l.types[0] else {
                panic!("the COUNT block is a struct")
            };
            let code = e.struct_def(block, &api(e.l, block).unwrap(), false);
            assert_contains(
                &code,
                r#"
                /// The block `count-block` of [`Georadius`]: `COUNT count [ANY]`.
                ///
                /// Build it with `new` (its required members) and its setters.
                #[derive(Clone, Debug, PartialEq)]
                pub struct GeoradiusCount { count: i64, any: bool }
                "#,
            );
            assert_contains(
                &code,
                r#"
                fn write_args(&self, out: &mut crate::resp::ArgWriter<'_>) {
                    out.arg(b"COUNT");
                    out.int(self.count);
                    if self.any { out.arg(b"ANY"); }
                }
                "#,
            );
        });
    }
}
