//! How each argument of a command is held in Rust: the command struct's fields and type
//! parameters, the enums (one per oneof) and block structs it needs, and the type-state
//! parameters that track reply-changing options.
//!
//! Rules, per argument:
//! - required single string-like values on the command's required path (top level, inside
//!   required blocks and inside the items of required repeated blocks) are type parameters
//!   (`K: ToArgs`), written straight from the caller's value; everything else that holds a string
//!   is an [`Arg`](../../redis_client/command/struct.Arg.html), encoded when given;
//! - integers are `i64`, doubles `f64` (time-valued ones accept `Duration`/`SystemTime` too);
//! - a required block is inlined into its parent: its members become the parent's members;
//! - an optional flag is a `bool`; an optional value `Option<_>`; a repeated one a `Vec<_>`;
//! - a oneof is an enum; a block without optional members is a tuple of its members (the
//!   setter takes them as separate parameters); a block with optional members is a struct with
//!   its own constructor and setters;
//! - a block of repeated values (`STREAMS key… id…`) is one list of tuples.
//!
//! Type state: each `when` path of the reply variants that an option controls becomes a
//! `const bool` parameter of the struct owning that option (the command, or a block struct whose
//! parameters the command re-exports), set by the option's setters.

use std::collections::HashMap;

use crate::reply::ReplyType;

use super::model::{resolve, CommandModel, Kind, Node, Scalar};
use super::names::{camel, upper};
use super::GenerateError;

/// How a member is stored.
#[derive(Clone, Debug)]
pub(crate) enum Repr {
    /// A type parameter of the command struct.
    Generic(String),
    /// `crate::command::Arg`.
    Arg,
    /// A number (`i64` or `f64`), with the trait its setter accepts.
    Num(Scalar),
    /// A generated enum.
    Enum(String),
    /// A generated block struct with its const arguments (parameter names of the owner).
    Struct(String, Vec<String>),
    /// A tuple of members (one member: the member itself; none: `()`).
    Tuple(Vec<Member>),
    /// `Option<_>`.
    Opt(Box<Repr>),
    /// `Vec<_>`.
    Many(Box<Repr>),
    /// An optional flag.
    Bool,
    /// A `Vec` of tuples written member by member (`STREAMS`).
    Zip(Vec<Member>),
}

/// One stored member of a struct, tuple or enum variant.
#[derive(Clone, Debug)]
pub(crate) struct Member {
    /// The argument's node id.
    pub node: usize,
    /// Field name.
    pub name: String,
    /// How it is stored.
    pub repr: Repr,
}

/// A generated struct: the command itself or a block with optional members.
#[derive(Clone, Debug)]
pub(crate) struct StructLayout {
    /// Type name.
    pub name: String,
    /// The node whose children are the struct's arguments (`None`: the command).
    pub node: Option<usize>,
    /// Fields, in wire order.
    pub members: Vec<Member>,
    /// Type parameters (command struct only).
    pub generics: Vec<String>,
    /// Const parameters.
    pub params: Vec<Param>,
    /// A required oneof whose choice changes the reply: one constructor per choice.
    pub selector: Option<usize>,
}

/// A const type-state parameter.
#[derive(Clone, Debug)]
pub(crate) struct Param {
    /// `GET`, `OPTIONS_WITHVALUES`.
    pub name: String,
    /// What sets it.
    pub trigger: Trigger,
}

/// What sets a type-state parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Trigger {
    /// The option (node id) is given.
    Present(usize),
    /// The oneof (first id) has this choice (second id).
    Choice(usize, usize),
    /// A parameter of the block struct in field `field` (node id), at index `inner`.
    Exported { field: usize, inner: usize },
}

/// A generated enum for a oneof.
#[derive(Clone, Debug)]
pub(crate) struct EnumLayout {
    /// Type name.
    pub name: String,
    /// The oneof's node id.
    pub node: usize,
    /// One per choice.
    pub variants: Vec<VariantLayout>,
}

/// One choice of a oneof.
#[derive(Clone, Debug)]
pub(crate) struct VariantLayout {
    /// The choice's node id.
    pub node: usize,
    /// Variant name.
    pub name: String,
    /// The snake_case name of the function building it (the choice's label).
    pub func: String,
    /// What it holds.
    pub payload: Payload,
}

/// What an enum variant holds.
#[derive(Clone, Debug)]
pub(crate) enum Payload {
    /// Nothing (a token, or a block of tokens).
    Unit,
    /// One value.
    One(Repr),
    /// The members of a block, as named fields.
    Fields(Vec<Member>),
}

/// A type the command needs besides its own struct.
#[derive(Clone, Debug)]
pub(crate) enum TypeDef {
    /// An enum for a oneof.
    Enum(EnumLayout),
    /// A struct for a block with optional members.
    Struct(StructLayout),
}

/// A reply variant after resolving its `when` paths.
#[derive(Clone, Debug)]
pub(crate) struct ReplyVariant {
    /// Indices into the command struct's params that must all be true.
    pub when: Vec<usize>,
    /// The RESP3 type.
    pub ty: ReplyType,
    /// The explicit RESP2 type.
    pub resp2: Option<ReplyType>,
    /// The `when` paths as written, for docs.
    pub paths: Vec<String>,
    /// The note.
    pub note: Option<String>,
}

/// Everything generated for one command.
pub(crate) struct Layout<'a> {
    /// The command.
    pub model: &'a CommandModel<'a>,
    /// The command struct.
    pub root: StructLayout,
    /// Enums and block structs, each once.
    pub types: Vec<TypeDef>,
    /// The default reply.
    pub reply: ReplyVariant,
    /// The variants that apply, in order (paths unknown to the first-ranked server dropped).
    pub variants: Vec<ReplyVariant>,
    /// Every node by id.
    pub nodes: HashMap<usize, &'a Node>,
}

impl Layout<'_> {
    /// The node with this id.
    pub fn node(&self, id: usize) -> &Node {
        self.nodes[&id]
    }

    /// The enum of this name among the command's types (layout names every repr's type).
    pub fn enum_named(&self, name: &str) -> &EnumLayout {
        self.types
            .iter()
            .find_map(|t| match t {
                TypeDef::Enum(e) if e.name == name => Some(e),
                _ => None,
            })
            .expect("layout defines the enum of every repr")
    }

    /// The block struct of this name among the command's types.
    pub fn struct_named(&self, name: &str) -> &StructLayout {
        self.types
            .iter()
            .find_map(|t| match t {
                TypeDef::Struct(s) if s.name == name => Some(s),
                _ => None,
            })
            .expect("layout defines the struct of every repr")
    }

    /// The output type index (into `variants`, or `None` for the default) when the command's
    /// params have these values.
    pub fn variant_for(&self, values: &[bool]) -> Option<usize> {
        self.variants
            .iter()
            .position(|v| v.when.iter().all(|&p| values[p]))
    }
}

/// A condition a `when` path stands for.
enum Cond {
    Always,
    /// The trigger, and the struct-block fields (node ids) from the command down to its owner.
    Param {
        owners: Vec<usize>,
        trigger: Trigger,
    },
}

/// Lays out a command.
pub(crate) fn layout<'a>(model: &'a CommandModel<'a>) -> Result<Layout<'a>, GenerateError> {
    let error = |message: String| GenerateError {
        file: format!("commands/{}", model.spec.file_name()),
        message,
    };
    let reply = model
        .spec
        .reply
        .as_ref()
        .ok_or_else(|| error("reply: missing".into()))?;
    let parse =
        |text: &str, at: &str| ReplyType::parse(text).map_err(|e| error(format!("{at}: {e}")));
    let mut nodes = HashMap::new();
    fn index<'n>(nodes: &mut HashMap<usize, &'n Node>, list: &'n [Node]) {
        for node in list {
            nodes.insert(node.id, node);
            index(nodes, node.children());
        }
    }
    index(&mut nodes, &model.args);
    // Resolve the variants' paths into conditions.
    let mut conds: Vec<(Vec<Cond>, &crate::reply::Variant)> = Vec::new();
    for variant in &reply.variants {
        let mut list = Vec::new();
        let mut known = true;
        for path in &variant.when {
            match resolve(&model.args, path) {
                Some(chain) => list.push(
                    condition(&model.args, &chain)
                        .map_err(|m| error(format!("reply variant when `{path}`: {m}")))?,
                ),
                None => known = false,
            }
        }
        if known {
            conds.push((list, variant));
        }
    }
    let triggers: Vec<(Vec<usize>, Trigger)> = conds
        .iter()
        .flat_map(|(list, _)| list.iter())
        .filter_map(|c| match c {
            Cond::Param { owners, trigger } => Some((owners.clone(), trigger.clone())),
            Cond::Always => None,
        })
        .collect();
    let mut builder = LayoutBuilder {
        model,
        nodes: &nodes,
        types: Vec::new(),
        triggers,
        names: HashMap::new(),
    };
    let root = builder
        .struct_layout(model.type_name.clone(), None, &model.args, true, &[])
        .map_err(error)?;
    // Map every condition to a command-level param index.
    let mut variants = Vec::new();
    for (list, variant) in &conds {
        let mut when = Vec::new();
        for cond in list {
            if let Cond::Param { owners, trigger } = cond {
                let index = builder
                    .command_param(&root, owners, trigger)
                    .ok_or_else(|| error("internal: a condition lost its parameter".into()))?;
                when.push(index);
            }
        }
        variants.push(ReplyVariant {
            when,
            ty: parse(&variant.ty, "reply.variants[].type")?,
            resp2: variant
                .resp2
                .as_deref()
                .map(|t| parse(t, "reply.variants[].resp2"))
                .transpose()?,
            paths: variant.when.clone(),
            note: variant.note.clone(),
        });
    }
    if root.params.len() > 6 {
        return Err(error(format!(
            "{} reply-changing options make {} output combinations; at most 6 options are supported",
            root.params.len(),
            1u64 << root.params.len()
        )));
    }
    let default = ReplyVariant {
        when: Vec::new(),
        ty: parse(&reply.ty, "reply.type")?,
        resp2: reply
            .resp2
            .as_deref()
            .map(|t| parse(t, "reply.resp2"))
            .transpose()?,
        paths: Vec::new(),
        note: reply.note.clone(),
    };
    let types = builder.types;
    Ok(Layout {
        model,
        root,
        types,
        reply: default,
        variants,
        nodes,
    })
}

/// The condition a resolved `when` path stands for: the deepest optional argument or choice on
/// it (a required argument is given whenever its parent is).
fn condition(top: &[Node], chain: &[&Node]) -> Result<Cond, String> {
    let mut i = chain.len() - 1;
    let trigger = loop {
        let node = chain[i];
        let parent = i.checked_sub(1).map(|p| chain[p]);
        if let Some(parent) = parent.filter(|p| matches!(p.kind, Kind::OneOf(_))) {
            break Some((i - 1, Trigger::Choice(parent.id, node.id)));
        }
        if node.optional {
            break Some((i, Trigger::Present(node.id)));
        }
        match i.checked_sub(1) {
            Some(up) => i = up,
            None => break None,
        }
    };
    let Some((at, trigger)) = trigger else {
        return Ok(Cond::Always);
    };
    // The owner: walk down to the trigger's node through inlined blocks and struct blocks.
    let mut owners = Vec::new();
    for ancestor in &chain[..at] {
        if ancestor.is_inline_block() {
            continue;
        }
        let is_struct_block = matches!(ancestor.kind, Kind::Block(_))
            && ancestor.optional
            && !ancestor.multiple
            && has_optional(ancestor);
        if is_struct_block {
            owners.push(ancestor.id);
            continue;
        }
        return Err(format!(
            "the option sits inside `{}`, which has no type state of its own (a choice, a list or a tuple block)",
            ancestor.path
        ));
    }
    let _ = top;
    Ok(Cond::Param { owners, trigger })
}

/// Whether a block has optional members (through inlined required blocks): such a block is a
/// struct with setters rather than a tuple.
pub(crate) fn has_optional(node: &Node) -> bool {
    node.children()
        .iter()
        .any(|c| c.optional || (c.is_inline_block() && has_optional(c)))
}

struct LayoutBuilder<'a, 'n> {
    model: &'a CommandModel<'a>,
    nodes: &'n HashMap<usize, &'a Node>,
    types: Vec<TypeDef>,
    /// Every trigger with its owner chain.
    triggers: Vec<(Vec<usize>, Trigger)>,
    /// Type names taken, with the signature of what took them.
    names: HashMap<String, String>,
}

impl<'a> LayoutBuilder<'a, '_> {
    /// Lays out a struct over `nodes` (the command's arguments or a block's children).
    fn struct_layout(
        &mut self,
        name: String,
        node: Option<usize>,
        nodes: &'a [Node],
        generic: bool,
        owners: &[usize],
    ) -> Result<StructLayout, String> {
        let mut layout = StructLayout {
            name,
            node,
            members: Vec::new(),
            generics: Vec::new(),
            params: Vec::new(),
            selector: None,
        };
        // Own parameters: triggers owned by exactly this struct.
        let own: Vec<Trigger> = self
            .triggers
            .iter()
            .filter(|(chain, _)| chain == owners)
            .map(|(_, t)| t.clone())
            .collect();
        for trigger in own {
            if layout.params.iter().any(|p| p.trigger == trigger) {
                continue;
            }
            let name = match &trigger {
                Trigger::Present(id) => upper(&self.nodes[id].ident),
                Trigger::Choice(o, c) => format!(
                    "{}_{}",
                    upper(&self.nodes[o].ident),
                    upper(&self.nodes[c].ident)
                ),
                Trigger::Exported { .. } => unreachable!("own triggers are not exported"),
            };
            if let Trigger::Choice(o, _) = &trigger {
                let oneof = self.nodes[o];
                if !oneof.optional {
                    if oneof.multiple {
                        return Err(format!(
                            "the reply depends on a choice of the required list `{}`",
                            oneof.path
                        ));
                    }
                    if layout.selector.is_some_and(|s| s != *o) {
                        return Err(
                            "the reply depends on choices of two required oneofs".to_string()
                        );
                    }
                    layout.selector = Some(*o);
                }
            }
            layout.params.push(Param { name, trigger });
        }
        let mut members = Vec::new();
        self.members(nodes, generic, &mut layout, owners, &mut members, false)?;
        layout.members = members;
        let mut seen = std::collections::HashSet::new();
        for p in &layout.params {
            if !seen.insert(p.name.clone()) {
                return Err(format!(
                    "two reply-changing options are both named {}",
                    p.name
                ));
            }
        }
        Ok(layout)
    }

    /// Collects the members of `nodes` into `out`, inlining required blocks.
    fn members(
        &mut self,
        nodes: &'a [Node],
        generic: bool,
        layout: &mut StructLayout,
        owners: &[usize],
        out: &mut Vec<Member>,
        tuple: bool,
    ) -> Result<(), String> {
        for node in nodes {
            if node.is_inline_block() {
                self.members(node.children(), generic, layout, owners, out, tuple)?;
                continue;
            }
            if tuple && node.optional {
                return Err(format!("internal: optional `{}` in a tuple", node.path));
            }
            let repr = match (&node.kind, node.optional, node.multiple) {
                (Kind::Count, false, _) => continue,
                (Kind::Flag, false, _) => continue,
                (Kind::Flag, true, _) => Repr::Bool,
                (_, optional, multiple) => {
                    let generic = generic && !optional;
                    let base = self.value_repr(node, generic, layout, owners)?;
                    if multiple {
                        Repr::Many(Box::new(base))
                    } else if optional {
                        Repr::Opt(Box::new(base))
                    } else {
                        base
                    }
                }
            };
            let mut name = node.ident.clone();
            let mut n = 2;
            while out.iter().any(|m| m.name == name) {
                name = format!("{}_{n}", node.ident);
                n += 1;
            }
            out.push(Member {
                node: node.id,
                name,
                repr,
            });
        }
        Ok(())
    }

    /// How one occurrence of `node` is stored.
    fn value_repr(
        &mut self,
        node: &'a Node,
        generic: bool,
        layout: &mut StructLayout,
        owners: &[usize],
    ) -> Result<Repr, String> {
        Ok(match &node.kind {
            Kind::Flag => Repr::Tuple(Vec::new()),
            Kind::Value(Scalar::Str) if generic => {
                let name = generic_name(&node.ident, &layout.generics);
                layout.generics.push(name.clone());
                Repr::Generic(name)
            }
            Kind::Value(Scalar::Str) => Repr::Arg,
            Kind::Value(scalar) => Repr::Num(*scalar),
            Kind::Count => Repr::Num(Scalar::Int),
            Kind::OneOf(_) => Repr::Enum(self.enum_layout(node)?),
            Kind::Zip(children) => {
                let mut members = Vec::new();
                for child in children {
                    let repr = self.value_repr(child, generic, layout, owners)?;
                    members.push(Member {
                        node: child.id,
                        name: child.ident.clone(),
                        repr,
                    });
                }
                Repr::Zip(members)
            }
            Kind::Block(children) if has_optional(node) => {
                let mut chain = owners.to_vec();
                chain.push(node.id);
                let (name, args) = self.block_struct(node, &chain, layout)?;
                Repr::Struct(name, args)
            }
            Kind::Block(children) => {
                let mut members = Vec::new();
                self.members(children, generic, layout, owners, &mut members, true)?;
                Repr::Tuple(members)
            }
        })
    }

    /// Registers the struct of a block with optional members; returns its name and the const
    /// arguments the owner passes (its own parameters, exported).
    fn block_struct(
        &mut self,
        node: &'a Node,
        chain: &[usize],
        owner: &mut StructLayout,
    ) -> Result<(String, Vec<String>), String> {
        let exported = self.triggers.iter().any(|(c, _)| c.starts_with(chain));
        let sig = format!(
            "struct {}{}",
            signature(node),
            if exported { "+state" } else { "" }
        );
        let name = self.type_name(node, &sig);
        let block = match self.types.iter().find_map(|t| match t {
            TypeDef::Struct(s) if s.name == name => Some(s.clone()),
            _ => None,
        }) {
            Some(existing) => existing,
            None => {
                let s =
                    self.struct_layout(name.clone(), Some(node.id), node.children(), false, chain)?;
                self.types.push(TypeDef::Struct(s.clone()));
                s
            }
        };
        let mut args = Vec::new();
        for (inner, param) in block.params.iter().enumerate() {
            let name = format!("{}_{}", upper(&node.ident), param.name);
            owner.params.push(Param {
                name: name.clone(),
                trigger: Trigger::Exported {
                    field: node.id,
                    inner,
                },
            });
            args.push(name);
        }
        Ok((name, args))
    }

    /// Registers the enum of a oneof; returns its name.
    fn enum_layout(&mut self, node: &'a Node) -> Result<String, String> {
        let sig = format!("enum {}", signature(node));
        let name = self.type_name(node, &sig);
        if self
            .types
            .iter()
            .any(|t| matches!(t, TypeDef::Enum(e) if e.name == name))
        {
            return Ok(name);
        }
        let mut variants: Vec<VariantLayout> = Vec::new();
        for choice in node.children() {
            let payload = match &choice.kind {
                Kind::Flag => Payload::Unit,
                Kind::Block(children) if !has_optional(choice) && !choice.multiple => {
                    let mut members = Vec::new();
                    let mut scratch = StructLayout {
                        name: String::new(),
                        node: None,
                        members: Vec::new(),
                        generics: Vec::new(),
                        params: Vec::new(),
                        selector: None,
                    };
                    self.members(children, false, &mut scratch, &[], &mut members, true)?;
                    if members.is_empty() {
                        Payload::Unit
                    } else {
                        Payload::Fields(members)
                    }
                }
                _ => {
                    let mut scratch = StructLayout {
                        name: String::new(),
                        node: None,
                        members: Vec::new(),
                        generics: Vec::new(),
                        params: Vec::new(),
                        selector: None,
                    };
                    let base = self.value_repr(choice, false, &mut scratch, &[])?;
                    if !scratch.params.is_empty() {
                        return Err(format!(
                            "the reply depends on an option inside the choice `{}`",
                            choice.path
                        ));
                    }
                    Payload::One(if choice.multiple {
                        Repr::Many(Box::new(base))
                    } else {
                        base
                    })
                }
            };
            let mut vname = camel(&choice.label);
            let mut n = 2;
            while variants.iter().any(|v| v.name == vname) {
                vname = format!("{}{n}", camel(&choice.label));
                n += 1;
            }
            let mut func = choice.label.clone();
            let mut n = 2;
            while variants.iter().any(|v| v.func == func) {
                func = format!("{}_{n}", choice.label.trim_end_matches('_'));
                n += 1;
            }
            variants.push(VariantLayout {
                node: choice.id,
                name: vname,
                func,
                payload,
            });
        }
        self.types.push(TypeDef::Enum(EnumLayout {
            name: name.clone(),
            node: node.id,
            variants,
        }));
        Ok(name)
    }

    /// A type name for `node`: the command's name and the argument's, made longer with its
    /// ancestors' names when a different type already has it. Types of the same structure share
    /// a name (GEOSEARCH's two `unit`s are one enum).
    fn type_name(&mut self, node: &Node, sig: &str) -> String {
        let mut ancestors: Vec<&str> = Vec::new();
        let parts: Vec<&str> = node.path.split('.').collect();
        let mut level: &[Node] = &self.model.args;
        for part in &parts[..parts.len() - 1] {
            if let Some(n) = level.iter().find(|n| n.name == *part) {
                ancestors.push(&n.ident);
                level = n.children();
            }
        }
        let mut extra = 0;
        loop {
            let prefix: String = ancestors[ancestors.len() - extra..]
                .iter()
                .map(|a| camel(a))
                .collect();
            let candidate = format!("{}{}{}", self.model.type_name, prefix, camel(&node.ident));
            match self.names.get(&candidate) {
                Some(existing) if existing == sig => return candidate,
                None => {
                    self.names.insert(candidate.clone(), sig.to_string());
                    return candidate;
                }
                Some(_) if extra < ancestors.len() => extra += 1,
                Some(_) => {
                    let mut n = 2;
                    while self.names.contains_key(&format!("{candidate}{n}")) {
                        n += 1;
                    }
                    let name = format!("{candidate}{n}");
                    self.names.insert(name.clone(), sig.to_string());
                    return name;
                }
            }
        }
    }

    /// The command-level parameter index for a trigger owned by the struct chain `owners`.
    fn command_param(
        &self,
        root: &StructLayout,
        owners: &[usize],
        trigger: &Trigger,
    ) -> Option<usize> {
        let mut current = root.clone();
        let mut path: Vec<usize> = Vec::new(); // param index at each level, from the bottom
        let mut structs = vec![root.clone()];
        for owner in owners {
            let next = self.types.iter().find_map(|t| match t {
                TypeDef::Struct(s) if s.node == Some(*owner) => Some(s.clone()),
                _ => None,
            })?;
            structs.push(next.clone());
            current = next;
        }
        let mut index = current.params.iter().position(|p| &p.trigger == trigger)?;
        path.push(index);
        for (level, owner) in owners.iter().enumerate().rev() {
            let parent = &structs[level];
            index = parent.params.iter().position(|p| {
                p.trigger
                    == Trigger::Exported {
                        field: *owner,
                        inner: index,
                    }
            })?;
        }
        Some(index)
    }
}

/// A type parameter name: the argument's initial (`K` for `key`), numbered when taken.
fn generic_name(ident: &str, taken: &[String]) -> String {
    let initial = ident
        .chars()
        .find(char::is_ascii_alphabetic)
        .unwrap_or('T')
        .to_ascii_uppercase();
    let mut name = initial.to_string();
    let mut n = 2;
    while taken.contains(&name) {
        name = format!("{initial}{n}");
        n += 1;
    }
    name
}

/// The structure of a node, without ids, paths and docs: equal signatures generate equal types.
pub(crate) fn signature(node: &Node) -> String {
    let kind = match &node.kind {
        Kind::Flag => "flag".to_string(),
        Kind::Value(s) => format!("{s:?}"),
        Kind::Count => "count".to_string(),
        Kind::OneOf(c) | Kind::Block(c) | Kind::Zip(c) => {
            let tag = match node.kind {
                Kind::OneOf(_) => "oneof",
                Kind::Block(_) => "block",
                _ => "zip",
            };
            format!(
                "{tag}[{}]",
                c.iter().map(signature).collect::<Vec<_>>().join(",")
            )
        }
    };
    format!(
        "{}:{}:{:?}:{}{}{}",
        node.ident,
        kind,
        node.token,
        u8::from(node.optional),
        u8::from(node.multiple),
        u8::from(node.multiple_token)
    )
}
