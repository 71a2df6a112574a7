//! Matching the server's documented arguments with the builder's nodes, one level at a time:
//! which setter or parameter covers each argument, and why one is not covered.

use crate::generate::model::{Kind, Node, Scalar};
use crate::spec::{ArgType, Argument};

/// One argument the builder cannot produce as the server documents it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The argument path in the server's names (`condition.ifeq`), or the builder's for an
    /// argument the builder always sends.
    pub path: String,
    /// What differs.
    pub message: String,
}

/// The result of matching server arguments with builder nodes.
#[derive(Default)]
pub(super) struct Outcome {
    pub(super) problems: Vec<Problem>,
    pub(super) notes: Vec<String>,
}

impl Outcome {
    fn problem(&mut self, path: &str, message: String) {
        self.problems.push(Problem {
            path: path.to_string(),
            message,
        });
    }

    fn absorb(&mut self, other: Outcome) {
        self.problems.extend(other.problems);
        self.notes.extend(other.notes);
    }
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

/// Matches the server's arguments of one level (top level, a block's members) with the
/// builder's nodes of that level. Each node covers at most one argument, except that several
/// arguments may each be a choice of one builder oneof.
pub(super) fn match_level(
    nodes: &[Node],
    args: &[Argument],
    prefix: &str,
    choices: bool,
) -> Outcome {
    let mut out = Outcome::default();
    let mut used = vec![false; nodes.len()];
    // Positional arguments must come in the builder's order; tokened ones may be anywhere.
    let mut next = 0;
    for arg in args {
        let path = join(prefix, &arg.name);
        let forward = (next..nodes.len())
            .filter(|&i| nodes[i].name == arg.name)
            .chain((next..nodes.len()).filter(|&i| nodes[i].name != arg.name));
        let backward = (0..next).filter(|_| arg.token.is_some());
        let found = forward.chain(backward).filter(|&i| !used[i]).find_map(|i| {
            let outcome = cover(&nodes[i], arg, &path, choices);
            outcome.problems.is_empty().then_some((i, outcome))
        });
        if let Some((i, outcome)) = found {
            used[i] = true;
            next = next.max(i + 1);
            if nodes[i].name != arg.name {
                out.notes.push(format!(
                    "{path}: covered by the builder's `{}` (same tokens, types and flags: a renamed twin)",
                    nodes[i].path
                ));
            }
            out.absorb(outcome);
            continue;
        }
        if let Some(note) = as_nested(nodes, arg, &path, &mut used) {
            out.notes.push(note);
            continue;
        }
        if let Some(notes) = as_separate_choices(nodes, arg, &path, &mut used) {
            out.notes.extend(notes);
            continue;
        }
        let (outcome, nearest) = explain(nodes, arg, &path, choices);
        // The nearest node is what the server's argument stands for; later arguments must not
        // be matched against it (a string value carries anything, so it would fit most).
        if let Some(i) = nearest {
            used[i] = true;
            next = next.max(i + 1);
        }
        out.absorb(outcome);
    }
    for (node, used) in nodes.iter().zip(used) {
        if !used && !node.optional && !choices {
            out.problem(
                &node.path,
                format!(
                    "the builder always sends `{}`{}, which the server does not document",
                    node.path,
                    token_text(node.token.as_deref())
                ),
            );
        }
    }
    out
}

/// A server argument that a builder argument nested one or more levels down produces: a
/// choice of a builder oneof (Redis 7.0's separate `STORE key` and `STOREDIST key` are
/// Valkey's `store` oneof), a member of a block, or a member of a block that is a choice
/// (Redis 7.0's SHUTDOWN flags inside Valkey's `abort-selector`). A nested argument counts as
/// optional when anything on its way is, since leaving that out leaves it out too.
fn as_nested(nodes: &[Node], arg: &Argument, path: &str, used: &mut [bool]) -> Option<String> {
    for (i, node) in nodes.iter().enumerate() {
        if node.multiple {
            continue;
        }
        let via_oneof = matches!(node.kind, Kind::OneOf(_));
        let mut found = None;
        nested(node, node.optional, arg, path, &mut found);
        let Some(inner) = found else {
            continue;
        };
        used[i] = true;
        return Some(format!(
            "{path}: covered by the builder's `{inner}`, nested in `{}`{}",
            node.path,
            if via_oneof {
                " (a oneof: the builder sends one of its choices at a time)"
            } else {
                ""
            }
        ));
    }
    None
}

fn nested(parent: &Node, optional: bool, arg: &Argument, path: &str, found: &mut Option<String>) {
    let is_oneof = matches!(parent.kind, Kind::OneOf(_));
    for child in parent.children() {
        if found.is_some() || child.multiple {
            return;
        }
        let mut candidate = child.clone();
        candidate.optional = optional || child.optional;
        if cover(&candidate, arg, path, is_oneof && !arg.optional)
            .problems
            .is_empty()
        {
            *found = Some(child.path.clone());
            return;
        }
        nested(child, candidate.optional, arg, path, found);
    }
}

/// A server oneof whose choices are separate optional builder arguments (the builder may send
/// more than one; the server takes one).
fn as_separate_choices(
    nodes: &[Node],
    arg: &Argument,
    path: &str,
    used: &mut [bool],
) -> Option<Vec<String>> {
    if arg.ty != ArgType::Oneof || arg.multiple {
        return None;
    }
    let mut taken = used.to_vec();
    let mut notes = Vec::new();
    for choice in &arg.arguments {
        let choice_path = join(path, &choice.name);
        let i = (0..nodes.len()).find(|&i| {
            !taken[i] && nodes[i].optional && {
                let mut optional = choice.clone();
                optional.optional = true;
                cover(&nodes[i], &optional, &choice_path, false)
                    .problems
                    .is_empty()
            }
        })?;
        taken[i] = true;
        notes.push(format!(
            "{choice_path}: covered by the builder's separate optional `{}`",
            nodes[i].path
        ));
    }
    used.copy_from_slice(&taken);
    Some(notes)
}

/// Why no node covers `arg`: the problems against the node most like it (same name, else same
/// token), or that nothing produces it; with the index of that node.
fn explain(nodes: &[Node], arg: &Argument, path: &str, choices: bool) -> (Outcome, Option<usize>) {
    let token = arg.token.as_deref().map(str::to_ascii_uppercase);
    let nearest = nodes
        .iter()
        .position(|n| n.name == arg.name && same_token(n, token.as_deref()))
        .or_else(|| {
            nodes
                .iter()
                .position(|n| token.is_some() && same_token(n, token.as_deref()))
        })
        .or_else(|| nodes.iter().position(|n| n.name == arg.name));
    if let Some(i) = nearest {
        let node = &nodes[i];
        let outcome = cover(node, arg, path, choices);
        if !outcome.problems.is_empty() {
            return (outcome, nearest);
        }
        // It would fit, but its node is taken by an earlier argument.
        let mut out = Outcome::default();
        out.problem(
            path,
            format!(
                "{}: the builder's `{}` is already used for another argument, so both cannot be sent",
                describe_arg(arg),
                node.path
            ),
        );
        return (out, nearest);
    }
    let mut out = Outcome::default();
    out.problem(
        path,
        format!(
            "{}: no setter or constructor parameter produces it",
            describe_arg(arg)
        ),
    );
    (out, None)
}

fn same_token(node: &Node, token: Option<&str>) -> bool {
    node.token
        .as_deref()
        .map(str::to_ascii_uppercase)
        .as_deref()
        == token
}

/// Whether `node` produces `arg` (problems empty), and if not, why: as documented, or in one
/// of the equivalent shapes of [`rewrites`] (the why is always about the documented shape).
fn cover(node: &Node, arg: &Argument, path: &str, in_choice: bool) -> Outcome {
    let exact = cover_exact(node, arg, path, in_choice);
    if exact.problems.is_empty() {
        return exact;
    }
    for (rewritten, why) in rewrites(arg) {
        let mut outcome = cover_exact(node, &rewritten, path, in_choice);
        if outcome.problems.is_empty() {
            outcome.notes.push(format!(
                "{path}: covered by the builder's `{}`: {why}",
                node.path
            ));
            return outcome;
        }
    }
    exact
}

/// Shapes that send the same words as `arg`, with why they are the same.
fn rewrites(arg: &Argument) -> Vec<(Argument, &'static str)> {
    let mut shapes = Vec::new();
    if let [child] = arg.arguments.as_slice() {
        // `[TOKEN x [x …]]` as a block of one member, or a member of its own.
        let both_tokens = arg.token.is_some() && child.token.is_some();
        let both_multiple = arg.multiple && child.multiple;
        if arg.ty == ArgType::Block && !both_tokens && !both_multiple {
            let mut flat = child.clone();
            flat.name = arg.name.clone();
            flat.token = arg.token.clone().or_else(|| child.token.clone());
            flat.optional = arg.optional || child.optional;
            flat.multiple = arg.multiple || child.multiple;
            flat.multiple_token = if arg.multiple {
                arg.multiple_token
            } else {
                child.multiple_token
            };
            shapes.push((
                flat,
                "the server's block of one member is that member (the same words)",
            ));
        }
    }
    if arg.ty == ArgType::Block && !arg.multiple {
        if let Some(token) = &arg.token {
            // `[FULL [COUNT n]]` as a block with token FULL, or a block starting with FULL.
            let mut lifted = arg.clone();
            lifted.token = None;
            let mut flag = Argument {
                name: token.to_ascii_lowercase(),
                ty: ArgType::PureToken,
                display_text: None,
                key_spec_index: None,
                token: Some(token.clone()),
                since: None,
                deprecated_since: None,
                optional: false,
                multiple: false,
                multiple_token: false,
                summary: None,
                servers: Vec::new(),
                arguments: Vec::new(),
            };
            flag.display_text = Some(token.clone());
            lifted.arguments.insert(0, flag);
            shapes.push((
                lifted,
                "the server's block token is the builder's block's leading flag (the same words)",
            ));
        } else if let Some(first) = arg
            .arguments
            .first()
            .filter(|first| first.ty == ArgType::PureToken && !first.optional && !first.multiple)
        {
            let mut folded = arg.clone();
            folded.token = first.token.clone();
            folded.arguments.remove(0);
            shapes.push((
                folded,
                "the server's leading flag is the builder's block token (the same words)",
            ));
        }
    }
    shapes
}

/// [`cover`] for the shape as given.
fn cover_exact(node: &Node, arg: &Argument, path: &str, in_choice: bool) -> Outcome {
    let mut out = Outcome::default();
    let token = arg.token.as_deref().map(str::to_ascii_uppercase);
    if !same_token(node, token.as_deref()) {
        out.problem(
            path,
            format!(
                "{}: the builder's `{}` has {}",
                describe_arg(arg),
                node.path,
                match &node.token {
                    Some(t) => format!("token {t}"),
                    None => "no token".to_string(),
                }
            ),
        );
        return out;
    }
    match (arg.ty, &node.kind) {
        (ArgType::PureToken, Kind::Flag) => {}
        (ArgType::Oneof, Kind::OneOf(choices)) => {
            for choice in &arg.arguments {
                let choice_path = join(path, &choice.name);
                let mut single = choice.clone();
                single.optional = false;
                let by_name = choices.iter().filter(|c| c.name == choice.name);
                let found = by_name
                    .chain(choices.iter().filter(|c| c.name != choice.name))
                    .find_map(|c| {
                        let o = cover(c, &single, &choice_path, true);
                        o.problems.is_empty().then_some((c, o))
                    });
                match found {
                    Some((c, o)) => {
                        if c.name != choice.name {
                            out.notes.push(format!(
                                "{choice_path}: covered by the builder's choice `{}` (a renamed twin)",
                                c.path
                            ));
                        }
                        out.absorb(o);
                    }
                    None => out.absorb(explain(choices, &single, &choice_path, true).0),
                }
            }
        }
        (ArgType::Block, Kind::Block(children) | Kind::Zip(children)) => {
            out.absorb(match_level(children, &arg.arguments, path, false));
        }
        (ty, Kind::Value(scalar)) if carries(ty, *scalar) => {}
        (ArgType::String, Kind::OneOf(choices))
            if choices.iter().all(|c| matches!(c.kind, Kind::Flag)) =>
        {
            let words: Vec<&str> = choices.iter().filter_map(|c| c.token.as_deref()).collect();
            out.notes.push(format!(
                "{path}: the server documents a free string, the builder's `{}` offers the words \
                 the first-ranked server lists: {}",
                node.path,
                words.join(", ")
            ));
        }
        (ArgType::Integer, Kind::Count) => {
            out.notes.push(format!(
                "{path}: written by the builder as the number of items of the list after it"
            ));
        }
        _ => {
            out.problem(
                path,
                format!(
                    "{}: the builder's `{}` is {}",
                    describe_arg(arg),
                    node.path,
                    describe_node(node)
                ),
            );
            return out;
        }
    }
    if arg.optional && !node.optional && !in_choice {
        out.problem(
            path,
            format!(
                "{}: the server lets it be left out, the builder's `{}` is required",
                describe_arg(arg),
                node.path
            ),
        );
    }
    if arg.multiple && !node.multiple {
        out.problem(
            path,
            format!(
                "{}: the server takes several, the builder's `{}` takes one",
                describe_arg(arg),
                node.path
            ),
        );
    }
    if arg.multiple && node.multiple && arg.multiple_token != node.multiple_token {
        let how = |repeated: bool| {
            if repeated {
                "before every value"
            } else {
                "once"
            }
        };
        out.problem(
            path,
            format!(
                "{}: the server takes the token {}, the builder's `{}` writes it {}",
                describe_arg(arg),
                how(arg.multiple_token),
                node.path,
                how(node.multiple_token)
            ),
        );
    }
    out
}

/// Whether a builder value of kind `scalar` can carry every value of the server's type `ty`.
fn carries(ty: ArgType, scalar: Scalar) -> bool {
    match ty {
        ArgType::String | ArgType::Key | ArgType::Pattern => scalar == Scalar::Str,
        ArgType::Integer => !matches!(scalar, Scalar::Double | Scalar::FloatSeconds),
        ArgType::Double => matches!(scalar, Scalar::Double | Scalar::FloatSeconds | Scalar::Str),
        ArgType::UnixTime => matches!(
            scalar,
            Scalar::Int | Scalar::UnixSeconds | Scalar::UnixMilliseconds | Scalar::Str
        ),
        ArgType::PureToken | ArgType::Oneof | ArgType::Block => false,
    }
}

fn token_text(token: Option<&str>) -> String {
    token.map(|t| format!(" ({t})")).unwrap_or_default()
}

/// The server's view of an argument: `string (token IFEQ, optional)`.
fn describe_arg(arg: &Argument) -> String {
    let mut traits = Vec::new();
    if let Some(token) = &arg.token {
        traits.push(format!("token {token}"));
    }
    if arg.optional {
        traits.push("optional".to_string());
    }
    if arg.multiple {
        traits.push("multiple".to_string());
    }
    if arg.multiple_token {
        traits.push("multiple_token".to_string());
    }
    if traits.is_empty() {
        format!("server documents {}", arg.ty)
    } else {
        format!("server documents {} ({})", arg.ty, traits.join(", "))
    }
}

/// The builder's view of a node: `an i64`, `a flag`.
fn describe_node(node: &Node) -> &'static str {
    match &node.kind {
        Kind::Flag => "a flag",
        Kind::Value(Scalar::Str) => "a string value",
        Kind::Value(Scalar::Double | Scalar::FloatSeconds) => "an f64",
        Kind::Value(_) => "an i64",
        Kind::Count => "a count the builder fills in",
        Kind::OneOf(_) => "a oneof",
        Kind::Block(_) => "a block",
        Kind::Zip(_) => "a list of tuples",
    }
}
