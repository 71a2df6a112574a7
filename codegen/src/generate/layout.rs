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

mod builder;
mod types;

use std::collections::HashMap;

use crate::reply::ReplyType;

use super::model::{resolve, CommandModel, Kind, Node};
use super::GenerateError;
pub(crate) use builder::has_optional;
use builder::LayoutBuilder;
pub(crate) use types::*;

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
