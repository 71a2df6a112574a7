//! Writes the Rust code of one command: its struct, enums and block structs with constructors,
//! setters, `ToArgs` and `Command` impls, its reply shapes, and its short-form method.

use std::collections::HashMap;

use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};

use super::api::{api, Api, Ctor, Effect, Setter, SetterKind};
use super::docs::{self, attrs, code, prose};
use super::layout::{EnumLayout, Layout, Member, Payload, Repr, StructLayout, TypeDef};
use super::model::{Kind, Node, Scalar};
use super::names::upper;
use super::reply_ty;
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

    // ---- types -------------------------------------------------------------------------

    /// The stored type.
    fn ty(&self, r: &Repr) -> TokenStream {
        match r {
            Repr::Generic(g) => {
                let g = ident(g);
                quote!(#g)
            }
            Repr::Arg => quote!(crate::command::Arg),
            Repr::Num(s) => scalar_ty(*s),
            Repr::Enum(n) => {
                let n = ident(n);
                quote!(#n)
            }
            Repr::Struct(n, args) => {
                let n = ident(n);
                let args = args.iter().map(|a| ident(a));
                if args.len() == 0 {
                    quote!(#n)
                } else {
                    quote!(#n<#(#args),*>)
                }
            }
            Repr::Tuple(ms) => self.tuple_ty(ms, |m| self.ty(&m.repr)),
            Repr::Opt(inner) => {
                let inner = self.ty(inner);
                quote!(Option<#inner>)
            }
            Repr::Many(inner) => {
                let inner = self.ty(inner);
                quote!(Vec<#inner>)
            }
            Repr::Bool => quote!(bool),
            Repr::Zip(ms) => {
                let tuple = self.tuple_ty(ms, |m| self.ty(&m.repr));
                quote!(Vec<#tuple>)
            }
        }
    }

    fn tuple_ty(&self, ms: &[Member], f: impl Fn(&Member) -> TokenStream) -> TokenStream {
        match ms {
            [] => quote!(()),
            [one] => f(one),
            many => {
                let items = many.iter().map(f);
                quote!((#(#items),*))
            }
        }
    }

    /// The type callers pass for a value stored as `r`.
    fn acc(&self, r: &Repr) -> TokenStream {
        match r {
            Repr::Arg => quote!(impl crate::ToArgs),
            Repr::Num(s) => scalar_acc(*s),
            Repr::Tuple(ms) => self.tuple_ty(ms, |m| self.acc(&m.repr)),
            Repr::Many(inner) => {
                let inner = self.acc(inner);
                quote!(impl IntoIterator<Item = #inner>)
            }
            Repr::Zip(ms) => {
                let tuple = self.tuple_ty(ms, |m| self.acc(&m.repr));
                quote!(impl IntoIterator<Item = #tuple>)
            }
            other => self.ty(other),
        }
    }

    /// Converts a value of the accepted type (`input`) into the stored one.
    fn conv(&self, r: &Repr, input: TokenStream) -> TokenStream {
        match r {
            Repr::Arg => quote!(crate::command::Arg::new(#input)),
            Repr::Num(s) => scalar_conv(*s, input),
            Repr::Tuple(_) if is_identity(r) => input,
            Repr::Tuple(ms) if ms.len() > 1 => {
                let names: Vec<Ident> = (0..ms.len()).map(|i| format_ident!("a{}", i)).collect();
                let convs = ms
                    .iter()
                    .zip(&names)
                    .map(|(m, n)| self.conv(&m.repr, quote!(#n)));
                quote!({ let (#(#names),*) = #input; (#(#convs),*) })
            }
            Repr::Tuple(ms) if ms.len() == 1 => self.conv(&ms[0].repr, input),
            Repr::Tuple(_) => quote!(()),
            Repr::Many(inner) => self.collect(inner, input),
            Repr::Zip(ms) => self.collect(&Repr::Tuple(ms.clone()), input),
            _ => input,
        }
    }

    fn collect(&self, item: &Repr, input: TokenStream) -> TokenStream {
        let x = format_ident!("item");
        let each = self.conv(item, quote!(#x));
        if is_identity(item) {
            quote!(#input.into_iter().collect())
        } else {
            quote!(#input.into_iter().map(|#x| #each).collect())
        }
    }

    /// Parameters for one occurrence of a value stored as `r` (a tuple block takes one parameter
    /// per member), and the expression building the stored value from them.
    fn slot(&self, r: &Repr, name: &str) -> (Vec<TokenStream>, TokenStream) {
        match r {
            Repr::Tuple(ms) if ms.is_empty() => (Vec::new(), quote!(())),
            Repr::Tuple(ms) => {
                let params = ms
                    .iter()
                    .map(|m| {
                        let n = ident(&m.name);
                        let t = self.acc(&m.repr);
                        quote!(#n: #t)
                    })
                    .collect();
                let convs: Vec<TokenStream> = ms
                    .iter()
                    .map(|m| {
                        let n = ident(&m.name);
                        self.conv(&m.repr, quote!(#n))
                    })
                    .collect();
                let value = if convs.len() == 1 {
                    convs[0].clone()
                } else {
                    quote!((#(#convs),*))
                };
                (params, value)
            }
            other => {
                let n = ident(name);
                let t = self.acc(other);
                (vec![quote!(#n: #t)], self.conv(other, quote!(#n)))
            }
        }
    }

    // ---- writing -----------------------------------------------------------------------

    /// Writes `nodes` (a command's arguments or a block's members).
    fn write_nodes(&self, nodes: &[Node], binds: &Binds) -> TokenStream {
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
    fn write_member(&self, node: &Node, repr: &Repr, bind: &Bind) -> TokenStream {
        let tok = token(node);
        match repr {
            Repr::Bool => {
                let flag = bind.copy();
                quote!(if #flag { #tok })
            }
            Repr::Opt(inner) => {
                let v = format_ident!("v{}", node.id);
                let r = bind.reference();
                let value = self.write_value(node, inner, &Bind::Local(v.clone()));
                quote!(if let Some(#v) = #r { #tok #value })
            }
            Repr::Many(inner) => {
                let item = format_ident!("i{}", node.id);
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
                let loops = ms.iter().enumerate().map(|(k, m)| {
                    let index = syn::Index::from(k);
                    let item = format_ident!("item");
                    let value = match ms.len() {
                        1 => quote!(#item),
                        _ => quote!(#item.#index),
                    };
                    let write = match &m.repr {
                        Repr::Num(s) if is_float(*s) => quote!(out.float(#value);),
                        Repr::Num(_) => quote!(out.int(#value);),
                        _ => quote!(#value.write_args(out);),
                    };
                    quote!(for #item in #list.iter() { #write })
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
    fn write_value(&self, node: &Node, repr: &Repr, bind: &Bind) -> TokenStream {
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
                        let names: Vec<Ident> =
                            many.iter().map(|m| format_ident!("m{}", m.node)).collect();
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

    // ---- checks ------------------------------------------------------------------------

    /// Whether values of `r` can hold an empty required list.
    fn needs_check(&self, node: &Node, r: &Repr) -> bool {
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

    fn enum_needs_check(&self, e: &EnumLayout) -> bool {
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
    fn needs_check_choice(&self, node: &Node, r: &Repr) -> bool {
        matches!(r, Repr::Many(_)) || self.needs_check(node, r)
    }

    fn struct_needs_check(&self, s: &StructLayout) -> bool {
        s.members
            .iter()
            .any(|m| self.needs_check(self.node(m.node), &m.repr))
    }

    fn empty_error(&self, node: &Node) -> TokenStream {
        let name = self.command_name();
        let path = &node.path;
        quote!(return Err(crate::command::empty_argument(#name, #path));)
    }

    /// Checks a member (a list must not be empty unless optional; nested values are checked).
    fn check_member(
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
                    let item = format_ident!("i{}", node.id);
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
                let v = format_ident!("v{}", node.id);
                let r = bind.reference();
                let inner = self.check_value(node, inner, &Bind::Local(v.clone()));
                quote!(if let Some(#v) = #r { #inner })
            }
            other => self.check_value(node, other, bind),
        }
    }

    fn check_value(&self, node: &Node, repr: &Repr, bind: &Bind) -> TokenStream {
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
                                let n = format_ident!("m{}", m.node);
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
                            .map(|(m, _)| (Bind::Local(format_ident!("m{}", m.node)), m))
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
    fn struct_check(&self, s: &StructLayout) -> TokenStream {
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

    // ---- enums -------------------------------------------------------------------------

    fn enum_def(&self, e: &EnumLayout) -> TokenStream {
        let name = ident(&e.name);
        let oneof = self.node(e.node);
        let doc = attrs(&format!(
            "The choices of `{}` in [`{}`]: {}",
            code(&oneof.path),
            self.l.root.name,
            docs::argument(oneof)
        ));
        let mut variants = Vec::new();
        let mut ctors = Vec::new();
        let mut arms = Vec::new();
        for v in &e.variants {
            let choice = self.node(v.node);
            let vname = ident(&v.name);
            let vdoc = attrs(&docs::argument(choice));
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
                    let (params, value) = self.slot(r, &choice.ident);
                    let cdoc = attrs(&format!("[`{}::{}`] from its value.", e.name, v.name));
                    ctors.push(quote! {
                        #cdoc #deprecated
                        pub fn #fname(#(#params),*) -> Self { Self::#vname(#value) }
                    });
                    let x = format_ident!("x");
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
                        let fdoc = attrs(&docs::argument(self.node(m.node)));
                        quote!(#fdoc #n: #t)
                    });
                    variants.push(quote!(#vdoc #deprecated #vname { #(#fields),* }));
                    let (params, _) = self.slot(&Repr::Tuple(ms.clone()), &choice.ident);
                    let inits = ms.iter().map(|m| {
                        field_init(
                            &m.name,
                            self.conv(&m.repr, {
                                let f = ident(&m.name);
                                quote!(#f)
                            }),
                        )
                    });
                    let cdoc = attrs(&format!("[`{}::{}`] from its members.", e.name, v.name));
                    ctors.push(quote! {
                        #cdoc #deprecated
                        pub fn #fname(#(#params),*) -> Self { Self::#vname { #(#inits),* } }
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
        let check = if self.enum_needs_check(e) {
            let arms = e.variants.iter().map(|v| {
                let choice = self.node(v.node);
                let vname = ident(&v.name);
                match &v.payload {
                    Payload::Unit => quote!(Self::#vname => {}),
                    Payload::One(r) => {
                        let x = format_ident!("x");
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
        } else {
            quote!()
        };
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

    /// Writes a choice with its token: a block's members, or nothing more for a token.
    fn write_choice(&self, choice: &Node, binds: &Binds) -> TokenStream {
        let tok = token(choice);
        let rest = match &choice.kind {
            Kind::Block(children) => self.write_nodes(children, binds),
            _ => quote!(),
        };
        quote!(#tok #rest)
    }

    // ---- structs -----------------------------------------------------------------------

    /// The struct, its constructors, setters, `ToArgs` impl and (for a block) check.
    fn struct_def(&self, s: &StructLayout, api: &Api, root: bool) -> TokenStream {
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
            attrs(&format!(
                "The block `{}` of [`{}`]: {}\n\nBuild it with `new` (its required members) and its setters.",
                code(&node.path),
                self.l.root.name,
                docs::argument(node)
            ))
        };
        let deprecated = if root {
            self.l
                .model
                .deprecated
                .as_ref()
                .map(|note| quote!(#[deprecated(note = #note)]))
                .unwrap_or_default()
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
        let retype = self.retype(s);
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
    fn struct_type(&self, s: &StructLayout, params: &[TokenStream]) -> TokenStream {
        let name = ident(&s.name);
        let generics = s.generics.iter().map(|g| ident(g));
        let args = angle(generics.map(|g| quote!(#g)).chain(params.iter().cloned()));
        quote!(#name #args)
    }

    fn ctor(&self, s: &StructLayout, c: &Ctor, root: bool) -> TokenStream {
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
                    let en = self.enum_named(e);
                    let v = &en.variants[c.choice.expect("selector ctor has a choice")];
                    let ename = ident(&en.name);
                    let vname = ident(&v.name);
                    let choice = self.node(v.node);
                    let value = match &v.payload {
                        Payload::Unit => quote!(#ename::#vname),
                        Payload::One(r) => {
                            let (p, value) = self.slot(r, &choice.ident);
                            params.extend(p);
                            quote!(#ename::#vname(#value))
                        }
                        Payload::Fields(ms) => {
                            let (p, _) = self.slot(&Repr::Tuple(ms.clone()), &choice.ident);
                            params.extend(p);
                            let fields = ms.iter().map(|m| {
                                field_init(
                                    &m.name,
                                    self.conv(&m.repr, {
                                        let f = ident(&m.name);
                                        quote!(#f)
                                    }),
                                )
                            });
                            quote!(#ename::#vname { #(#fields),* })
                        }
                    };
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
            (true, None) => format!(
                "The command with its required arguments: `{}`.",
                code(&self.required_syntax())
            ),
            (true, Some(v)) => {
                let selector = self.node(s.selector.expect("selector"));
                let choice = &selector.children()[v];
                format!(
                    "The command choosing {} for `{}`.",
                    docs::argument(choice),
                    code(&selector.path)
                )
            }
            (false, _) => {
                "The block with its required members; optional ones have setters.".to_string()
            }
        };
        let doc = attrs(&doc);
        let deprecated = if root {
            self.l
                .model
                .deprecated
                .as_ref()
                .map(|note| quote!(#[deprecated(note = #note)]))
                .unwrap_or_default()
        } else {
            quote!()
        };
        quote! {
            #doc #deprecated
            pub fn #fname(#(#params),*) -> #ret { #name { #(#inits),* } }
        }
    }

    /// The syntax of the required arguments only.
    fn required_syntax(&self) -> String {
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

    fn setter(&self, s: &StructLayout, st: &Setter) -> TokenStream {
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

    /// `fn retype`: the same value with other type-state parameters.
    fn retype(&self, s: &StructLayout) -> TokenStream {
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
            // Unused when only constructors pick the type state.
            #[allow(dead_code)]
            fn retype<#(const #targets: bool),*>(self) -> #ret {
                #name { #(#moves),* }
            }
        }
    }

    // ---- the command -------------------------------------------------------------------

    fn shape_static(&self, index: Option<usize>, resp2: bool) -> Ident {
        let base = upper(&self.l.model.method);
        let suffix = match index {
            None => String::new(),
            Some(i) => format!("_{}", i + 1),
        };
        let kind = if resp2 { "RESP2" } else { "REPLY" };
        format_ident!("{}_{}{}", base, kind, suffix)
    }

    fn shapes(&self) -> TokenStream {
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
            out.extend(quote!(static #name: ReplyShape = #shape;));
            if let Some(resp2) = &v.resp2 {
                let name = self.shape_static(index, true);
                let shape = reply_ty::shape(resp2);
                out.extend(quote!(static #name: ReplyShape = #shape;));
            }
        }
        out
    }

    /// One `Command` impl per combination of the type-state parameters.
    fn command_impls(&self) -> TokenStream {
        let s = &self.l.root;
        let n = s.params.len();
        let name_lit = self.command_name();
        let meta_const = super::meta::const_name(&self.l.model.spec.name);
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
                    fn resp2_reply_shape(&self) -> Option<&'static ReplyShape> { Some(&#r2) }
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
                    fn reply_shape(&self) -> &'static ReplyShape { &#shape }
                    #resp2
                    #check
                    #connection_state
                }
            });
        }
        out
    }

    fn command_doc(&self) -> String {
        let spec = self.l.model.spec;
        let mut text = format!("`{}`", self.command_name());
        if let Some(summary) = &spec.summary {
            text.push_str(": ");
            text.push_str(&prose(summary));
        }
        text.push_str("\n\n```text\n");
        text.push_str(self.command_name());
        let syntax = docs::syntax(&self.l.model.args);
        if !syntax.is_empty() {
            text.push(' ');
            text.push_str(&syntax);
        }
        text.push_str("\n```\n\n");
        if let Some(since) = &spec.since {
            text.push_str(&format!("- Since: {since}\n"));
        }
        if let Some(group) = &spec.group {
            text.push_str(&format!("- Group: {group}\n"));
        }
        if let Some(complexity) = &spec.complexity {
            text.push_str(&format!("- Complexity: {}\n", prose(complexity)));
        }
        text.push_str(&format!("- Reply: {}\n", self.reply_doc(&self.l.reply)));
        for v in &self.l.variants {
            let when = v
                .paths
                .iter()
                .map(|p| format!("`{}`", code(p)))
                .collect::<Vec<_>>()
                .join(" and ");
            text.push_str(&format!("- Reply with {when}: {}\n", self.reply_doc(v)));
        }
        if !spec.history.is_empty() {
            text.push_str("\nHistory:\n");
            for (version, change) in &spec.history {
                text.push_str(&format!("- {version}: {}\n", prose(change)));
            }
        }
        if let Some(note) = &self.l.model.deprecated {
            text.push_str(&format!("\nDeprecated: {}.\n", prose(note)));
        }
        // Deprecated only by a server ranked after the one generated from: a note, not an
        // attribute (Valkey keeps GETSET, GEORADIUS and friends; Redis deprecates them).
        for (server, diff) in &spec.per_server {
            let flagged = diff
                .doc_flags
                .as_ref()
                .is_some_and(|f| f.iter().any(|f| f == "deprecated"));
            let since = diff.deprecated_since.clone().flatten();
            if self.l.model.deprecated.is_some() || !(flagged || since.is_some()) {
                continue;
            }
            let mut line = format!("\n{server} deprecates it");
            if let Some(since) = since {
                line.push_str(&format!(" since {since}"));
            }
            if let Some(by) = diff.replaced_by.clone().flatten() {
                line.push_str(&format!("; replaced by {}", prose(&by)));
            }
            text.push_str(&line);
            text.push_str(".\n");
        }
        text
    }

    fn reply_doc(&self, v: &super::layout::ReplyVariant) -> String {
        let mut text = format!("`{}`", v.ty);
        if let Some(note) = &v.note {
            text.push_str(&format!(" ({})", prose(note)));
        }
        text
    }

    // ---- short forms -------------------------------------------------------------------

    fn short_forms(&self, api: &Api) -> TokenStream {
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

/// `<a, b>`, or nothing for an empty list.
fn angle(items: impl Iterator<Item = TokenStream>) -> TokenStream {
    let items: Vec<TokenStream> = items.collect();
    if items.is_empty() {
        quote!()
    } else {
        quote!(<#(#items),*>)
    }
}

/// Whether a value is stored exactly as the caller passes it.
fn is_identity(r: &Repr) -> bool {
    match r {
        Repr::Generic(_) | Repr::Enum(_) | Repr::Struct(..) => true,
        Repr::Num(s) => matches!(s, Scalar::Int | Scalar::Double),
        Repr::Tuple(ms) => ms.iter().all(|m| is_identity(&m.repr)),
        _ => false,
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

fn is_float(s: Scalar) -> bool {
    matches!(s, Scalar::Double | Scalar::FloatSeconds)
}

fn scalar_ty(s: Scalar) -> TokenStream {
    if is_float(s) {
        quote!(f64)
    } else {
        quote!(i64)
    }
}

fn scalar_acc(s: Scalar) -> TokenStream {
    match s {
        Scalar::Int => quote!(i64),
        Scalar::Double => quote!(f64),
        Scalar::Seconds => quote!(impl crate::command::time::Seconds),
        Scalar::Milliseconds => quote!(impl crate::command::time::Milliseconds),
        Scalar::FloatSeconds => quote!(impl crate::command::time::FloatSeconds),
        Scalar::UnixSeconds => quote!(impl crate::command::time::UnixSeconds),
        Scalar::UnixMilliseconds => quote!(impl crate::command::time::UnixMilliseconds),
        Scalar::Str => quote!(impl crate::ToArgs),
    }
}

fn scalar_conv(s: Scalar, input: TokenStream) -> TokenStream {
    match s {
        Scalar::Seconds => quote!(crate::command::time::Seconds::to_seconds(#input)),
        Scalar::Milliseconds => {
            quote!(crate::command::time::Milliseconds::to_milliseconds(#input))
        }
        Scalar::FloatSeconds => {
            quote!(crate::command::time::FloatSeconds::to_float_seconds(#input))
        }
        Scalar::UnixSeconds => quote!(crate::command::time::UnixSeconds::to_unix_seconds(#input)),
        Scalar::UnixMilliseconds => {
            quote!(crate::command::time::UnixMilliseconds::to_unix_milliseconds(#input))
        }
        Scalar::Str => quote!(crate::command::Arg::new(#input)),
        Scalar::Int | Scalar::Double => input,
    }
}
