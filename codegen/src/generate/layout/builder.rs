//! Building a command's layout node by node: [`LayoutBuilder`] walks the argument tree and
//! names the types it needs; the helpers say what a node's structure is.

use std::collections::HashMap;

use super::types::*;
use crate::generate::model::{CommandModel, Kind, Node, Scalar};
use crate::generate::names::{camel, upper};

/// Whether a block has optional members (through inlined required blocks): such a block is a
/// struct with setters rather than a tuple.
pub(crate) fn has_optional(node: &Node) -> bool {
    node.children()
        .iter()
        .any(|c| c.optional || (c.is_inline_block() && has_optional(c)))
}

pub(super) struct LayoutBuilder<'a, 'n> {
    pub(super) model: &'a CommandModel<'a>,
    pub(super) nodes: &'n HashMap<usize, &'a Node>,
    pub(super) types: Vec<TypeDef>,
    /// Every trigger with its owner chain.
    pub(super) triggers: Vec<(Vec<usize>, Trigger)>,
    /// Type names taken, with the signature of what took them.
    pub(super) names: HashMap<String, String>,
}

impl<'a> LayoutBuilder<'a, '_> {
    /// Lays out a struct over `nodes` (the command's arguments or a block's children).
    pub(super) fn struct_layout(
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
    pub(super) fn members(
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
    pub(super) fn value_repr(
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
    pub(super) fn block_struct(
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
    pub(super) fn enum_layout(&mut self, node: &'a Node) -> Result<String, String> {
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
    pub(super) fn type_name(&mut self, node: &Node, sig: &str) -> String {
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
    pub(super) fn command_param(
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
fn signature(node: &Node) -> String {
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
