//! Golden wire tests: for every command, sample command values built through the generated API
//! (every constructor, every setter at least once), each with the exact arguments it must write.
//!
//! The expected arguments are derived here from the spec's argument tree — tokens, order,
//! repetition, derived counts — and the sample values, independently of the generated encoder
//! they test. Each sample also pins the output type the type state selects.
//!
//! Samples: sample `k` gives every enum-valued argument its variant `k mod n` (so every choice is
//! written by some sample), calls every flag and value setter, calls each oneof's choice setters
//! twice (another choice first, which the second must replace), appends every choice of a
//! repeated oneof, and gives every list two items.

use std::collections::HashMap;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::api::{api, Api, Effect, SetterKind};
use super::layout::{EnumLayout, Layout, Payload, Repr, StructLayout, TypeDef};
use super::model::{Kind, Node, Scalar};
use super::reply_ty;
use super::GenerateError;

/// A sample value, as the spec sees it.
#[derive(Clone, Debug)]
pub(crate) enum SVal {
    /// One argument, as written on the wire.
    Text(String),
    /// A given flag.
    Flag,
    /// A oneof's choice (variant index) and its value.
    Choice(usize, Box<SVal>),
    /// Repeated values.
    List(Vec<SVal>),
    /// The members of a block, by node id.
    Fields(HashMap<usize, SVal>),
}

/// One sample command value of a command, built through the generated API.
pub(crate) struct GoldenSample {
    /// The expression building the value, with paths under `crate::cmd`.
    pub expr: TokenStream,
    /// The Rust output type the type state selects for it.
    pub output: TokenStream,
    /// The arguments it must write, command words included.
    pub expected: Vec<String>,
    /// The values given, by node id (the members of blocks and choices nested inside).
    pub vals: HashMap<usize, SVal>,
}

/// The samples of one command: per constructor, first the constructor alone, then the samples
/// with every setter.
pub(crate) fn samples(l: &Layout) -> Result<Vec<GoldenSample>, GenerateError> {
    samples_with(l, &Pick::default())
}

/// Which samples to build: for options the server refuses together (which the types cannot
/// rule out), the live test picks subsets of the golden samples.
#[derive(Default)]
pub(crate) struct Pick<'p> {
    /// Argument paths whose setters are not called.
    pub omit: &'p [&'p str],
    /// Only these sample indexes (`k`), when given.
    pub only: Option<&'p [usize]>,
    /// Leave out the constructor-alone samples.
    pub no_bare: bool,
}

/// The samples of one command, as `pick` narrows them.
pub(crate) fn samples_with(l: &Layout, pick: &Pick) -> Result<Vec<GoldenSample>, GenerateError> {
    let error = |message: String| GenerateError {
        file: format!("commands/{}", l.model.spec.file_name()),
        message,
    };
    let root_api = api(l, &l.root).map_err(error)?;
    let samples = l
        .types
        .iter()
        .filter_map(|t| match t {
            TypeDef::Enum(e) => Some(e.variants.len()),
            TypeDef::Struct(_) => None,
        })
        .max()
        .unwrap_or(1);
    let mut out = Vec::new();
    for ctor in &root_api.ctors {
        for k in std::iter::once(None).chain((0..samples).map(Some)) {
            let wanted = match k {
                None => !pick.no_bare,
                Some(k) => pick.only.is_none_or(|only| only.contains(&k)),
            };
            if !wanted {
                continue;
            }
            let mut g = Golden {
                l,
                omit: pick.omit,
                counter: 0,
                k: k.unwrap_or(0),
                setters: k.is_some(),
            };
            let mut vals = HashMap::new();
            let (expr, params) = g
                .build(&l.root, &root_api, ctor.choice, &ctor.params, &mut vals)
                .map_err(error)?;
            let mut expected = vec![];
            expected.extend(l.model.words.iter().cloned());
            wire(&l.model.args, &vals, &mut expected);
            let output = reply_ty::rust(match l.variant_for(&params) {
                Some(i) => &l.variants[i].ty,
                None => &l.reply.ty,
            });
            out.push(GoldenSample {
                expr,
                output,
                expected,
                vals,
            });
        }
    }
    Ok(out)
}

/// The golden tests of one command.
pub(crate) fn tests(l: &Layout) -> Result<TokenStream, GenerateError> {
    let mut body = TokenStream::new();
    for s in samples(l)? {
        let GoldenSample {
            expr,
            output,
            expected,
            ..
        } = s;
        body.extend(quote! {
            let c = #expr;
            assert_eq!(args(&c), [#(#expected),*]);
            let _: PhantomData<#output> = output(&c);
            crate::command::Command::check(&c).unwrap();
        });
    }
    let name = format_ident!("{}", l.model.method);
    Ok(quote! {
        #[test]
        fn #name() {
            #body
        }
    })
}

/// The golden test file.
pub(crate) fn file(tests: TokenStream) -> TokenStream {
    quote! {
        //! Golden wire tests of every command: sample values built through the generated API and
        //! the exact arguments the spec says they must write.

        use std::marker::PhantomData;

        /// The arguments a command writes, as text.
        fn args(c: &impl crate::ToArgs) -> Vec<String> {
            crate::resp::Cmd::from_args(c)
                .args()
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect()
        }

        /// The output type of a command, for type assertions; also checks that the command's
        /// metadata constant is the table's entry for its name and agrees on connection state.
        fn output<C: crate::command::Command>(_: &C) -> PhantomData<C::Output> {
            let meta = C::META.expect("generated commands carry their metadata");
            assert_eq!(meta.name, C::NAME);
            assert_eq!(crate::command_meta::lookup(C::NAME.as_bytes()), Some(meta));
            assert_eq!(meta.connection_state, C::CONNECTION_STATE, "{}", C::NAME);
            PhantomData
        }

        #tests
    }
}

/// A setter call: the setter, its arguments, and a block struct's type state.
type Call<'s> = (&'s super::api::Setter, Vec<TokenStream>, Option<Vec<bool>>);

struct Golden<'a> {
    l: &'a Layout<'a>,
    /// Argument paths whose setters are not called.
    omit: &'a [&'a str],
    counter: u32,
    /// The sample's index: enum values take variant `k mod n`.
    k: usize,
    /// Whether to call the setters (the first sample of each constructor has none).
    setters: bool,
}

impl Golden<'_> {
    fn next(&mut self) -> u32 {
        self.counter += 1;
        self.counter
    }

    fn enum_named(&self, name: &str) -> &EnumLayout {
        self.l.enum_named(name)
    }

    fn struct_named(&self, name: &str) -> &StructLayout {
        self.l.struct_named(name)
    }

    /// Builds a struct value: constructor, then setters; fills `vals` and returns the final
    /// type-state values.
    fn build(
        &mut self,
        s: &StructLayout,
        api: &Api,
        choice: Option<usize>,
        initial: &[bool],
        vals: &mut HashMap<usize, SVal>,
    ) -> Result<(TokenStream, Vec<bool>), String> {
        let mut args = Vec::new();
        let mut params = initial.to_vec();
        for m in &s.members {
            let node = self.l.node(m.node);
            match &m.repr {
                Repr::Bool | Repr::Opt(_) => {}
                Repr::Many(_) if node.optional => {}
                Repr::Enum(e) if s.selector == Some(node.id) => {
                    let en = self.enum_named(e).clone();
                    let v = choice.ok_or("a choice constructor without a choice")?;
                    let (a, val) = self.variant_args(&en, node, v)?;
                    args.extend(a);
                    vals.insert(node.id, val);
                }
                repr => {
                    let (a, val, _) = self.slot(repr, node)?;
                    args.extend(a);
                    vals.insert(node.id, val);
                }
            }
        }
        let name = format_ident!("{}", s.name);
        let ctor = format_ident!(
            "{}",
            api.ctors
                .iter()
                .find(|c| c.choice == choice)
                .map(|c| c.name.clone())
                .unwrap_or_else(|| "new".into())
        );
        let mut expr = quote!(crate::cmd::#name::#ctor(#(#args),*));
        // Setters, grouped by member, in member order.
        let members = if self.setters {
            s.members.as_slice()
        } else {
            &[]
        };
        for (index, m) in members.iter().enumerate() {
            let node = self.l.node(m.node);
            let setters: Vec<_> = api.setters.iter().filter(|st| st.member == index).collect();
            if setters.is_empty() || self.omit.contains(&node.path.as_str()) {
                continue;
            }
            let mut calls: Vec<Call> = Vec::new();
            match &m.repr {
                Repr::Bool => {
                    vals.insert(node.id, SVal::Flag);
                    calls.push((setters[0], Vec::new(), None));
                }
                Repr::Opt(inner) => match &**inner {
                    Repr::Enum(e) => {
                        let en = self.enum_named(e).clone();
                        let n = en.variants.len();
                        let last = self.k % n;
                        let first = (self.k + 1) % n;
                        let whole = setters
                            .iter()
                            .find(|st| st.kind == SetterKind::Whole)
                            .copied();
                        let choice = |v: usize| {
                            setters
                                .iter()
                                .find(|st| st.kind == SetterKind::Choice(v))
                                .copied()
                        };
                        let mut order = Vec::new();
                        match (whole, choice(first), choice(last)) {
                            (Some(w), Some(c1), Some(_)) if self.k % 2 != 1 => {
                                order.push((c1, first));
                                order.push((w, last));
                            }
                            (Some(w), _, Some(c2)) => {
                                order.push((w, first));
                                order.push((c2, last));
                            }
                            (None, Some(c1), Some(c2)) => {
                                order.push((c1, first));
                                order.push((c2, last));
                            }
                            (Some(w), _, None) => order.push((w, last)),
                            _ => return Err(format!("no setter for `{}`", node.path)),
                        }
                        if n == 1 {
                            order.truncate(1);
                            order[0].1 = 0;
                        }
                        for (st, v) in order {
                            let (a, val) = if st.kind == SetterKind::Whole {
                                let (value, val) = self.variant_value(&en, node, v)?;
                                (vec![value], val)
                            } else {
                                self.variant_args(&en, node, v)?
                            };
                            vals.insert(node.id, val);
                            calls.push((st, a, None));
                        }
                    }
                    Repr::Struct(name, _) => {
                        let bs = self.struct_named(name).clone();
                        let bapi = super::api::api(self.l, &bs)?;
                        let mut inner_vals = HashMap::new();
                        let (value, inner_params) = self.build(
                            &bs,
                            &bapi,
                            None,
                            &vec![false; bs.params.len()],
                            &mut inner_vals,
                        )?;
                        vals.insert(node.id, SVal::Fields(inner_vals));
                        calls.push((setters[0], vec![value], Some(inner_params)));
                    }
                    other => {
                        let (a, val, _) = self.slot(other, node)?;
                        vals.insert(node.id, val);
                        calls.push((setters[0], a, None));
                    }
                },
                Repr::Many(inner) => {
                    let mut items = Vec::new();
                    if let Some(list) = setters.iter().find(|st| st.kind == SetterKind::List) {
                        let (a, val, _) = self.slot(&m.repr, node)?;
                        if let SVal::List(v) = val {
                            items.extend(v);
                        }
                        calls.push((list, a, None));
                    }
                    if let Repr::Enum(e) = &**inner {
                        let en = self.enum_named(e).clone();
                        for st in &setters {
                            if let SetterKind::Append(v) = st.kind {
                                let (a, val) = self.variant_args(&en, node, v)?;
                                items.push(val);
                                calls.push((st, a, None));
                            }
                        }
                    }
                    vals.insert(node.id, SVal::List(items));
                }
                _ => {}
            }
            for (st, a, inner_params) in calls {
                let fname = format_ident!("{}", st.name);
                expr = quote!(#expr.#fname(#(#a),*));
                for (p, effect) in &st.effects {
                    params[*p] = match effect {
                        Effect::True => true,
                        Effect::False => false,
                        Effect::Inner(i) => inner_params.as_ref().map(|ps| ps[*i]).unwrap_or(false),
                    };
                }
            }
        }
        Ok((expr, params))
    }

    /// Arguments and value of one occurrence of a value stored as `repr` (a tuple block takes
    /// one argument per member); the third item is a single expression for the whole value.
    fn slot(
        &mut self,
        repr: &Repr,
        node: &Node,
    ) -> Result<(Vec<TokenStream>, SVal, TokenStream), String> {
        Ok(match repr {
            Repr::Generic(_) | Repr::Arg => {
                let text = format!("{}{}", node.ident.trim_end_matches('_'), self.next());
                (vec![quote!(#text)], SVal::Text(text.clone()), quote!(#text))
            }
            Repr::Num(s) => {
                let n = self.next();
                let (expr, text) = match s {
                    Scalar::Double | Scalar::FloatSeconds => {
                        let v = f64::from(n) + 0.5;
                        let lit = proc_macro2::Literal::f64_suffixed(v);
                        (quote!(#lit), format!("{n}.5"))
                    }
                    _ => {
                        let lit = proc_macro2::Literal::i64_suffixed(i64::from(n));
                        (quote!(#lit), n.to_string())
                    }
                };
                (vec![expr.clone()], SVal::Text(text), expr)
            }
            Repr::Enum(e) => {
                let en = self.enum_named(e).clone();
                let v = self.k % en.variants.len();
                let (expr, val) = self.variant_value(&en, node, v)?;
                (vec![expr.clone()], val, expr)
            }
            Repr::Struct(name, _) => {
                let bs = self.struct_named(name).clone();
                let bapi = super::api::api(self.l, &bs)?;
                let mut inner = HashMap::new();
                let (expr, _) =
                    self.build(&bs, &bapi, None, &vec![false; bs.params.len()], &mut inner)?;
                (vec![expr.clone()], SVal::Fields(inner), expr)
            }
            Repr::Tuple(ms) => {
                let mut args = Vec::new();
                let mut fields = HashMap::new();
                for m in ms {
                    let (_, val, expr) = self.slot(&m.repr, self.l.node(m.node))?;
                    args.push(expr);
                    fields.insert(m.node, val);
                }
                let whole = match args.as_slice() {
                    [one] => one.clone(),
                    many => quote!((#(#many),*)),
                };
                (args, SVal::Fields(fields), whole)
            }
            Repr::Many(inner) => {
                let mut exprs = Vec::new();
                let mut items = Vec::new();
                for i in 0..2 {
                    let (expr, val) = match &**inner {
                        Repr::Enum(e) => {
                            let en = self.enum_named(e).clone();
                            let v = (self.k + i) % en.variants.len();
                            self.variant_value(&en, node, v)?
                        }
                        other => {
                            let (_, val, expr) = self.slot(other, node)?;
                            (expr, val)
                        }
                    };
                    exprs.push(expr);
                    items.push(val);
                }
                let expr = quote!([#(#exprs),*]);
                (vec![expr.clone()], SVal::List(items), expr)
            }
            Repr::Zip(ms) => {
                let tuple = Repr::Tuple(ms.clone());
                let mut exprs = Vec::new();
                let mut items = Vec::new();
                for _ in 0..2 {
                    let (_, val, expr) = self.slot(&tuple, node)?;
                    exprs.push(expr);
                    items.push(val);
                }
                let expr = quote!([#(#exprs),*]);
                (vec![expr.clone()], SVal::List(items), expr)
            }
            Repr::Opt(_) | Repr::Bool => {
                return Err(format!("internal: sample of optional `{}`", node.path))
            }
        })
    }

    /// The arguments a choice setter or constructor takes for variant `v`, and its value.
    fn variant_args(
        &mut self,
        en: &EnumLayout,
        oneof: &Node,
        v: usize,
    ) -> Result<(Vec<TokenStream>, SVal), String> {
        let variant = &en.variants[v];
        let choice = &oneof.children()[v];
        Ok(match &variant.payload {
            Payload::Unit => (Vec::new(), SVal::Choice(v, Box::new(unit_value(choice)))),
            Payload::One(r) => {
                let (a, val, _) = self.slot(r, choice)?;
                (a, SVal::Choice(v, Box::new(val)))
            }
            Payload::Fields(ms) => {
                let (a, val, _) = self.slot(&Repr::Tuple(ms.clone()), choice)?;
                (a, SVal::Choice(v, Box::new(val)))
            }
        })
    }

    /// An enum value for variant `v`, built with the enum's own constructor functions.
    fn variant_value(
        &mut self,
        en: &EnumLayout,
        oneof: &Node,
        v: usize,
    ) -> Result<(TokenStream, SVal), String> {
        let name = format_ident!("{}", en.name);
        let variant = &en.variants[v];
        let vname = format_ident!("{}", variant.name);
        let (args, val) = self.variant_args(en, oneof, v)?;
        let expr = match variant.payload {
            Payload::Unit => quote!(crate::cmd::#name::#vname),
            _ => {
                let f = format_ident!("{}", variant.func);
                quote!(crate::cmd::#name::#f(#(#args),*))
            }
        };
        Ok((expr, val))
    }
}

/// The value of a choice that holds nothing: a flag, or a block of tokens.
fn unit_value(choice: &Node) -> SVal {
    match choice.kind {
        Kind::Flag => SVal::Flag,
        _ => SVal::Fields(HashMap::new()),
    }
}

/// The arguments the spec says `nodes` write with these values.
fn wire(nodes: &[Node], vals: &HashMap<usize, SVal>, out: &mut Vec<String>) {
    for (i, node) in nodes.iter().enumerate() {
        match &node.kind {
            Kind::Count => {
                let count = match vals.get(&nodes[i + 1].id) {
                    Some(SVal::List(items)) => items.len(),
                    _ => 0,
                };
                out.extend(node.token.clone());
                out.push(count.to_string());
            }
            Kind::Block(children) if node.is_inline_block() => {
                out.extend(node.token.clone());
                wire(children, vals, out);
            }
            Kind::Flag if !node.optional => out.extend(node.token.clone()),
            _ => {
                if let Some(v) = vals.get(&node.id) {
                    wire_node(node, v, out);
                }
            }
        }
    }
}

/// One argument with its token(s): a flag, a list, or a single value.
fn wire_node(node: &Node, v: &SVal, out: &mut Vec<String>) {
    match (v, &node.kind) {
        (SVal::Flag, _) => out.extend(node.token.clone()),
        (SVal::List(items), Kind::Zip(children)) => {
            out.extend(node.token.clone());
            for child in children {
                for item in items {
                    if let SVal::Fields(fields) = item {
                        if let Some(SVal::Text(t)) = fields.get(&child.id) {
                            out.push(t.clone());
                        }
                    }
                }
            }
        }
        (SVal::List(items), _) if node.multiple => {
            if items.is_empty() {
                return;
            }
            if !node.multiple_token {
                out.extend(node.token.clone());
            }
            for item in items {
                if node.multiple_token {
                    out.extend(node.token.clone());
                }
                wire_value(node, item, out);
            }
        }
        (v, _) => {
            out.extend(node.token.clone());
            wire_value(node, v, out);
        }
    }
}

/// One value, without its token.
fn wire_value(node: &Node, v: &SVal, out: &mut Vec<String>) {
    match (&node.kind, v) {
        (_, SVal::Text(t)) => out.push(t.clone()),
        (Kind::OneOf(choices), SVal::Choice(i, inner)) => wire_node(&choices[*i], inner, out),
        (Kind::Block(children), SVal::Fields(fields)) => wire(children, fields, out),
        _ => {}
    }
}
