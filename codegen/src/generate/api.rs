//! The public surface of one generated struct: its constructors and setters, with their names
//! and what they do to the type state. The emitter writes them; the golden tests call them.
//!
//! Setter names: the argument's token when it reads as a word (`.ex(10)` for `EX seconds`,
//! `.nx()`, `.limit(offset, count)`), else its name (`.approximately()` for `~`). A oneof gets
//! an enum setter named after the oneof (`.condition(SetCondition::Nx)`) and, unless it has a
//! token of its own (`TYPE normal|master|…`), one setter per choice (`.nx()`, `.xx()`), which
//! replace each other; a repeated oneof gets per-choice setters that append. Names that would
//! repeat within a struct are prefixed with their argument's name (`key_condition_nx`).

use std::collections::HashMap;

use super::layout::{Layout, Param, Repr, StructLayout, Trigger, TypeDef};
use super::model::{Kind, Node};

/// What a setter does to a type-state parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Effect {
    /// Sets it.
    True,
    /// Clears it.
    False,
    /// Copies the block struct's parameter at this index (the setter is generic over it).
    Inner(usize),
}

/// What a setter sets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SetterKind {
    /// An optional flag: no parameter.
    Flag,
    /// An optional value (or tuple block: one parameter per member).
    Value,
    /// An optional block struct.
    Block,
    /// An optional oneof, from its enum.
    Whole,
    /// An optional oneof, choosing this variant (index).
    Choice(usize),
    /// A repeated oneof, appending this variant (index).
    Append(usize),
    /// A repeated value: replaces the list.
    List,
}

/// One setter.
#[derive(Clone, Debug)]
pub(crate) struct Setter {
    /// Method name.
    pub name: String,
    /// Index into the struct's members.
    pub member: usize,
    /// What it sets.
    pub kind: SetterKind,
    /// Type-state effects, by param index.
    pub effects: Vec<(usize, Effect)>,
}

/// One constructor.
#[derive(Clone, Debug)]
pub(crate) struct Ctor {
    /// `new`, or `new_<choice>` for a command whose reply depends on a required choice.
    pub name: String,
    /// The selector's variant index this constructor picks.
    pub choice: Option<usize>,
    /// Param values of the constructed type.
    pub params: Vec<bool>,
}

/// Constructors and setters of a struct.
#[derive(Clone, Debug)]
pub(crate) struct Api {
    /// Constructors.
    pub ctors: Vec<Ctor>,
    /// Setters, in member order.
    pub setters: Vec<Setter>,
}

/// Names no setter may take: the struct's other methods.
const RESERVED: &[&str] = &[
    "new",
    "retype",
    "check_args",
    "write_args",
    "num_args",
    "clone",
    "fmt",
    "check",
    "run",
];

/// Builds the API of a struct.
pub(crate) fn api(l: &Layout, s: &StructLayout) -> Result<Api, String> {
    let mut setters: Vec<Setter> = Vec::new();
    for (index, member) in s.members.iter().enumerate() {
        let node = l.node(member.node);
        let related = |pred: &dyn Fn(&Trigger) -> bool| -> Vec<usize> {
            s.params
                .iter()
                .enumerate()
                .filter(|(_, p)| pred(&p.trigger))
                .map(|(i, _)| i)
                .collect()
        };
        let present: Vec<(usize, Effect)> = related(&|t| *t == Trigger::Present(node.id))
            .into_iter()
            .map(|i| (i, Effect::True))
            .collect();
        match &member.repr {
            Repr::Bool => setters.push(Setter {
                name: node.label.clone(),
                member: index,
                kind: SetterKind::Flag,
                effects: present,
            }),
            Repr::Opt(inner) => match &**inner {
                Repr::Struct(..) => {
                    let mut effects = present;
                    for (i, p) in s.params.iter().enumerate() {
                        if let Trigger::Exported { field, inner } = p.trigger {
                            if field == node.id {
                                effects.push((i, Effect::Inner(inner)));
                            }
                        }
                    }
                    setters.push(Setter {
                        name: node.label.clone(),
                        member: index,
                        kind: SetterKind::Block,
                        effects,
                    });
                }
                Repr::Enum(name) => {
                    let choices = choice_params(s, node.id);
                    let variants = enum_len(l, name);
                    if choices.is_empty() {
                        setters.push(Setter {
                            name: node.label.clone(),
                            member: index,
                            kind: SetterKind::Whole,
                            effects: present.clone(),
                        });
                    }
                    if node.token.is_none() || !choices.is_empty() {
                        for v in 0..variants {
                            let choice = &node.children()[v];
                            let mut effects = present.clone();
                            for (param, c) in &choices {
                                let chosen = *c == choice.id;
                                effects.push((
                                    *param,
                                    if chosen { Effect::True } else { Effect::False },
                                ));
                            }
                            setters.push(Setter {
                                name: choice.label.clone(),
                                member: index,
                                kind: SetterKind::Choice(v),
                                effects,
                            });
                        }
                    }
                }
                _ => setters.push(Setter {
                    name: node.label.clone(),
                    member: index,
                    kind: SetterKind::Value,
                    effects: present,
                }),
            },
            Repr::Many(inner) if node.optional => match &**inner {
                Repr::Enum(name) => {
                    let choices = choice_params(s, node.id);
                    if choices.is_empty() {
                        setters.push(Setter {
                            name: node.label.clone(),
                            member: index,
                            kind: SetterKind::List,
                            effects: present.clone(),
                        });
                    }
                    for v in 0..enum_len(l, name) {
                        let choice = &node.children()[v];
                        let mut effects = present.clone();
                        for (param, c) in &choices {
                            if *c == choice.id {
                                effects.push((*param, Effect::True));
                            }
                        }
                        setters.push(Setter {
                            name: choice.label.clone(),
                            member: index,
                            kind: SetterKind::Append(v),
                            effects,
                        });
                    }
                }
                _ => setters.push(Setter {
                    name: node.label.clone(),
                    member: index,
                    kind: SetterKind::List,
                    effects: present,
                }),
            },
            _ => {}
        }
    }
    rename_duplicates(l, s, &mut setters)?;
    let ctors = match s.selector {
        None => vec![Ctor {
            name: "new".to_string(),
            choice: None,
            params: vec![false; s.params.len()],
        }],
        Some(selector) => {
            let oneof = l.node(selector);
            let taken =
                |name: &str| setters.iter().any(|st| st.name == name) || RESERVED.contains(&name);
            oneof
                .children()
                .iter()
                .enumerate()
                .map(|(v, choice)| Ctor {
                    // `ClientKill::old_format(addr)`; `new_…` when a setter has the name.
                    name: if taken(&choice.label) {
                        format!("new_{}", choice.label.trim_end_matches('_'))
                    } else {
                        choice.label.clone()
                    },
                    choice: Some(v),
                    params: s
                        .params
                        .iter()
                        .map(|p| p.trigger == Trigger::Choice(selector, choice.id))
                        .collect(),
                })
                .collect()
        }
    };
    Ok(Api { ctors, setters })
}

/// Params of the struct that depend on a choice of `oneof`: (param index, choice node id).
fn choice_params(s: &StructLayout, oneof: usize) -> Vec<(usize, usize)> {
    s.params
        .iter()
        .enumerate()
        .filter_map(|(i, p): (usize, &Param)| match p.trigger {
            Trigger::Choice(o, c) if o == oneof => Some((i, c)),
            _ => None,
        })
        .collect()
}

fn enum_len(l: &Layout, name: &str) -> usize {
    l.types
        .iter()
        .find_map(|t| match t {
            TypeDef::Enum(e) if e.name == name => Some(e.variants.len()),
            _ => None,
        })
        .unwrap_or(0)
}

/// Renames repeated setter names: an enum or list setter that collides becomes `with_<name>`;
/// colliding choice setters are prefixed with their oneof's name; fails if that is not enough.
fn rename_duplicates(l: &Layout, s: &StructLayout, setters: &mut [Setter]) -> Result<(), String> {
    let counts = |setters: &[Setter]| {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for setter in setters {
            *counts.entry(setter.name.clone()).or_default() += 1;
        }
        counts
    };
    let before = counts(setters);
    for setter in setters.iter_mut() {
        let clash = before[&setter.name] > 1 || RESERVED.contains(&setter.name.as_str());
        if clash && matches!(setter.kind, SetterKind::Whole | SetterKind::List) {
            setter.name = format!("with_{}", setter.name.trim_end_matches('_'));
        }
    }
    let middle = counts(setters);
    for setter in setters.iter_mut() {
        let clash = middle[&setter.name] > 1 || RESERVED.contains(&setter.name.as_str());
        if clash {
            let node: &Node = l.node(s.members[setter.member].node);
            let prefix = node.ident.trim_end_matches('_');
            if matches!(node.kind, Kind::OneOf(_)) && setter.name != prefix {
                setter.name = format!("{prefix}_{}", setter.name);
            } else {
                setter.name = format!("with_{}", setter.name.trim_end_matches('_'));
            }
        }
    }
    let mut seen = HashMap::new();
    for setter in setters.iter() {
        if let Some(other) = seen.insert(setter.name.clone(), setter.member) {
            return Err(format!(
                "two setters of {} are named `{}` (members {} and {})",
                s.name, setter.name, s.members[other].name, s.members[setter.member].name
            ));
        }
    }
    Ok(())
}
