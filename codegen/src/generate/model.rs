//! The generator's view of one command: the argument tree of the first-ranked server that knows
//! it, with every argument classified for Rust (flag, value, derived count, choice, block).
//!
//! **Which arguments.** A command known to several servers may list an argument in several
//! shapes (`servers` on the argument) or under different names. The generator takes the tree of
//! the first-ranked server that knows the command (Valkey, then Redis, then Sentinel — the
//! importer's ranking). With the servers imported here that tree is the superset in each of the
//! 11 same-name cases: Valkey's `SET condition` adds `IFEQ`, `GEOHASH`/`GEOPOS member` and
//! `PFMERGE sourcekey` are optional, `GEOSEARCH`/`GEOSEARCHSTORE from` is optional, `CLIENT
//! KILL … ID` takes several ids, and `BITOP operation`, `CONFIG GET parameter`, `MODULE LOADEX
//! args` and `PSUBSCRIBE pattern` are the same words either way. Arguments only other servers
//! list are renamed twins of the first server's (Redis 7.0's `count` for Valkey's
//! `count-block`) and are left out.

use crate::spec::{ArgType, Argument, Command, TimeUnit};

use super::names::{snake, strip_block_suffix, token_name};
use super::GenerateError;

/// One command with a callable form, ready for generation.
pub(crate) struct CommandModel<'a> {
    /// The spec.
    pub spec: &'a Command,
    /// The words sent for the name: `["CLIENT", "KILL"]`.
    pub words: Vec<String>,
    /// The struct name: `ClientKill`.
    pub type_name: String,
    /// The short-form method name: `client_kill`.
    pub method: String,
    /// The generated file (module) the command goes to: its group.
    pub group: String,
    /// `#[deprecated]` note when the command is deprecated.
    pub deprecated: Option<String>,
    /// The top-level arguments.
    pub args: Vec<Node>,
}

/// One argument.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    /// Unique within the command.
    pub id: usize,
    /// The spec's name.
    pub name: String,
    /// Names from the top joined by `.`.
    pub path: String,
    /// What it is for Rust.
    pub kind: Kind,
    /// The token written before the value (or the whole flag).
    pub token: Option<String>,
    /// May be left out.
    pub optional: bool,
    /// May be repeated.
    pub multiple: bool,
    /// The token is repeated before every value.
    pub multiple_token: bool,
    /// The name shown in syntax help.
    pub display: String,
    /// The server's one-line description.
    pub summary: Option<String>,
    /// The version that added it.
    pub since: Option<String>,
    /// The version that deprecated it.
    pub deprecated_since: Option<String>,
    /// snake_case name for fields and parameters, unique among siblings.
    pub ident: String,
    /// The servers that know the argument in this shape (the parent's when the spec names none).
    pub servers: Vec<String>,
    /// snake_case name for setters and enum variants: the token when it reads as a word (`ex`
    /// for `EX seconds`), else `ident`.
    pub label: String,
}

/// What an argument is, for Rust.
#[derive(Clone, Debug)]
pub(crate) enum Kind {
    /// A pure token.
    Flag,
    /// A single value.
    Value(Scalar),
    /// An integer the generator fills in: the number of items of the next argument (`numkeys`).
    Count,
    /// Exactly one of the nested arguments.
    OneOf(Vec<Node>),
    /// All nested arguments in order.
    Block(Vec<Node>),
    /// A block of repeated values given as one list of tuples and written one member after the
    /// other (`XREAD … STREAMS key… id…`).
    Zip(Vec<Node>),
}

/// The kinds of single values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Scalar {
    /// Any [`ToArgs`] (strings, keys, patterns, and the score bounds `min`/`max`).
    Str,
    /// `i64`.
    Int,
    /// `f64`.
    Double,
    /// `i64` seconds, also from a `Duration`.
    Seconds,
    /// `i64` milliseconds, also from a `Duration`.
    Milliseconds,
    /// `f64` seconds, also from a `Duration`.
    FloatSeconds,
    /// `i64` Unix seconds, also from a `SystemTime`.
    UnixSeconds,
    /// `i64` Unix milliseconds, also from a `SystemTime`.
    UnixMilliseconds,
}

impl Node {
    /// The nested arguments of a oneof, block or zip.
    pub fn children(&self) -> &[Node] {
        match &self.kind {
            Kind::OneOf(c) | Kind::Block(c) | Kind::Zip(c) => c,
            _ => &[],
        }
    }

    /// A required, single block: its members become members of the enclosing struct or tuple.
    pub fn is_inline_block(&self) -> bool {
        matches!(self.kind, Kind::Block(_)) && !self.optional && !self.multiple
    }
}

/// Ranks a server id: Valkey first, then Redis, then Sentinel, then anything else.
fn rank(server: &str) -> usize {
    ["valkey-", "redis-", "sentinel-"]
        .iter()
        .position(|prefix| server.starts_with(prefix))
        .unwrap_or(3)
}

/// The first-ranked server that knows the command.
pub(crate) fn primary_server(command: &Command) -> String {
    let mut servers = command.servers.clone();
    servers.sort_by_key(|s| (rank(s), s.clone()));
    servers.into_iter().next().unwrap_or_default()
}

/// Whether a command can be called as it is: not a bare container (`CLIENT`) unless the server
/// accepts it without a subcommand (`COMMAND`, arity -1).
pub(crate) fn is_callable(command: &Command, all: &[Command]) -> bool {
    let is_container = all
        .iter()
        .any(|c| c.container.as_deref() == Some(command.name.as_str()));
    !is_container || command.arity.abs() <= 1
}

/// Builds the model of a command.
/// True when the arity asks for more words than the command's name.
fn arity_needs_arguments(command: &Command) -> bool {
    let words = command.name.split(' ').count() as i64;
    command.arity.abs() > words
}

/// The stand-in for arguments a server takes but does not document: one required list of raw
/// strings, written as given.
fn undocumented_arguments() -> Argument {
    Argument {
        name: "args".to_string(),
        ty: ArgType::String,
        display_text: Some("argument".to_string()),
        key_spec_index: None,
        token: None,
        since: None,
        deprecated_since: None,
        optional: false,
        multiple: true,
        multiple_token: false,
        summary: Some("Arguments the server takes but does not document.".to_string()),
        servers: Vec::new(),
        arguments: Vec::new(),
    }
}

pub(crate) fn build<'a>(command: &'a Command) -> Result<CommandModel<'a>, GenerateError> {
    let error = |message: String| GenerateError {
        file: format!("commands/{}", command.file_name()),
        message,
    };
    let primary = primary_server(command);
    let hint = command
        .rust
        .as_ref()
        .and_then(|r| r.blocking_timeout.as_ref())
        .map(|b| (b.argument.clone(), b.unit));
    let mut builder = Builder {
        next_id: 0,
        primary,
        hint,
    };
    let mut args = builder
        .nodes(&command.arguments, &command.servers, "")
        .map_err(error)?;
    if args.is_empty() && arity_needs_arguments(command) {
        // The server documents no arguments (DEBUG, CLUSTER SYNCSLOTS) yet its arity demands
        // some: offer a raw list rather than a builder that can never make a valid call.
        args = builder
            .nodes(&[undocumented_arguments()], &command.servers, "")
            .map_err(error)?;
    }
    // A required list a reply variant depends on can be left out: the variant says the server
    // answers differently without it (SENTINEL DEBUG without pairs lists the parameters).
    if let Some(reply) = &command.reply {
        for path in reply.variants.iter().flat_map(|v| &v.when) {
            optional_if_required_list(&mut args, path);
        }
    }
    let words: Vec<String> = command.name.split(' ').map(str::to_string).collect();
    let method = command.method_name();
    let type_name = super::names::camel(&method);
    let group = command
        .group
        .as_deref()
        .map(snake)
        .unwrap_or_else(|| "other".to_string());
    let deprecated = deprecation(command);
    Ok(CommandModel {
        spec: command,
        words,
        type_name,
        method,
        group,
        deprecated,
        args,
    })
}

/// The `#[deprecated]` note of a deprecated command.
fn deprecation(command: &Command) -> Option<String> {
    let deprecated =
        command.deprecated_since.is_some() || command.doc_flags.iter().any(|f| f == "deprecated");
    if !deprecated {
        return None;
    }
    let mut note = match &command.deprecated_since {
        Some(since) => format!("deprecated since {since}"),
        None => "deprecated".to_string(),
    };
    if let Some(by) = &command.replaced_by {
        note.push_str("; replaced by ");
        note.push_str(&plain_text(by));
    }
    Some(note)
}

/// Spec prose without Markdown emphasis markers, for attribute strings.
fn plain_text(text: &str) -> String {
    text.replace('`', "").replace("!", "")
}

struct Builder {
    next_id: usize,
    primary: String,
    hint: Option<(String, TimeUnit)>,
}

impl Builder {
    fn nodes(
        &mut self,
        args: &[Argument],
        parent_servers: &[String],
        prefix: &str,
    ) -> Result<Vec<Node>, String> {
        let visible: Vec<(&Argument, &[String])> = args
            .iter()
            .map(|arg| {
                let servers: &[String] = if arg.servers.is_empty() {
                    parent_servers
                } else {
                    &arg.servers
                };
                (arg, servers)
            })
            .filter(|(_, servers)| servers.contains(&self.primary))
            .collect();
        let mut nodes = Vec::with_capacity(visible.len());
        for (i, (arg, servers)) in visible.iter().enumerate() {
            let next_is_multiple = visible.get(i + 1).is_some_and(|(next, _)| next.multiple);
            nodes.push(self.node(arg, servers, prefix, next_is_multiple)?);
        }
        unique_idents(&mut nodes);
        Ok(nodes)
    }

    fn node(
        &mut self,
        arg: &Argument,
        servers: &[String],
        prefix: &str,
        next_is_multiple: bool,
    ) -> Result<Node, String> {
        let id = self.next_id;
        self.next_id += 1;
        let path = if prefix.is_empty() {
            arg.name.clone()
        } else {
            format!("{prefix}.{}", arg.name)
        };
        let kind = match arg.ty {
            ArgType::PureToken => Kind::Flag,
            ArgType::Oneof => {
                let mut choices = self.nodes(&arg.arguments, servers, &path)?;
                // Exactly one choice is given: "optional" on a choice means nothing more.
                for choice in &mut choices {
                    choice.optional = false;
                }
                Kind::OneOf(choices)
            }
            ArgType::Block => {
                let children = self.nodes(&arg.arguments, servers, &path)?;
                let zip = children.len() >= 2
                    && children.iter().all(|c| {
                        c.multiple
                            && !c.optional
                            && !c.multiple_token
                            && c.token.is_none()
                            && matches!(c.kind, Kind::Value(_))
                    });
                if zip {
                    Kind::Zip(children)
                } else {
                    Kind::Block(children)
                }
            }
            ArgType::Integer
                if arg.name.starts_with("num")
                    && next_is_multiple
                    && !arg.optional
                    && !arg.multiple =>
            {
                Kind::Count
            }
            ty => Kind::Value(self.scalar(ty, &arg.name, &path)),
        };
        if matches!(kind, Kind::Flag) && arg.multiple {
            return Err(format!(
                "arguments `{path}`: a repeated pure token has no Rust form"
            ));
        }
        if let Kind::Zip(_) = kind {
            if arg.optional || arg.multiple {
                return Err(format!(
                    "arguments `{path}`: an optional or repeated block of repeated values has no Rust form"
                ));
            }
        }
        let name = strip_block_suffix(&arg.name);
        let ident = snake(name);
        let label = arg
            .token
            .as_deref()
            .and_then(token_name)
            .unwrap_or_else(|| ident.clone());
        Ok(Node {
            id,
            name: arg.name.clone(),
            path,
            kind,
            token: arg.token.clone(),
            optional: arg.optional,
            multiple: arg.multiple,
            multiple_token: arg.multiple_token,
            display: arg.display_text.clone().unwrap_or_else(|| arg.name.clone()),
            summary: arg.summary.clone(),
            since: arg.since.clone(),
            deprecated_since: arg.deprecated_since.clone(),
            ident,
            servers: servers.to_vec(),
            label,
        })
    }

    /// The value kind of a string, integer, double, key, pattern or unix-time argument.
    ///
    /// Units: the argument named by `rust.blocking_timeout` has the hint's unit; integers named
    /// `seconds` / `milliseconds` are lengths of time in that unit; arguments named
    /// `unix-time-seconds` / `unix-time-milliseconds`, and every `unix-time` argument (in
    /// milliseconds when its name says so, else seconds), are points in time. Doubles named `min`
    /// or `max` are score bounds, which Redis also accepts as `(1.5`, `-inf` or `+inf`, so they
    /// take any argument value rather than an `f64`.
    fn scalar(&self, ty: ArgType, name: &str, path: &str) -> Scalar {
        let hinted = self
            .hint
            .as_ref()
            .filter(|(argument, _)| argument == path)
            .map(|(_, unit)| *unit);
        match ty {
            ArgType::Integer => match (hinted, name) {
                (Some(TimeUnit::Seconds), _) | (None, "seconds") => Scalar::Seconds,
                (Some(TimeUnit::Milliseconds), _) | (None, "milliseconds") => Scalar::Milliseconds,
                (None, "unix-time-seconds") => Scalar::UnixSeconds,
                (None, "unix-time-milliseconds") => Scalar::UnixMilliseconds,
                _ => Scalar::Int,
            },
            ArgType::Double => match (hinted, name) {
                (Some(TimeUnit::Seconds), _) => Scalar::FloatSeconds,
                (None, "min" | "max") => Scalar::Str,
                _ => Scalar::Double,
            },
            ArgType::UnixTime if name.contains("milliseconds") => Scalar::UnixMilliseconds,
            ArgType::UnixTime => Scalar::UnixSeconds,
            _ => Scalar::Str,
        }
    }
}

/// Makes `ident` unique among siblings (Redis 7.0 repeats names such as GEORADIUS's `key`):
/// a repeated one takes its label (the token) when that is free, else a number.
fn unique_idents(nodes: &mut [Node]) {
    for i in 0..nodes.len() {
        let taken = |nodes: &[Node], name: &str| nodes[..i].iter().any(|n| n.ident == name);
        if !taken(nodes, &nodes[i].ident) {
            continue;
        }
        let label = nodes[i].label.clone();
        if !taken(nodes, &label) && !nodes[i + 1..].iter().any(|n| n.ident == label) {
            nodes[i].ident = label;
            continue;
        }
        let base = nodes[i].ident.clone();
        let mut n = 2;
        while taken(nodes, &format!("{base}_{n}")) {
            n += 1;
        }
        nodes[i].ident = format!("{base}_{n}");
    }
}

/// Marks the required list at the end of `path` (outside any oneof) optional.
fn optional_if_required_list(args: &mut [Node], path: &str) {
    let mut level = args;
    let mut names = path.split('.').peekable();
    while let Some(name) = names.next() {
        let Some(node) = level.iter_mut().find(|n| n.name == name) else {
            return;
        };
        if names.peek().is_none() {
            if node.multiple && !node.optional {
                node.optional = true;
            }
            return;
        }
        match &mut node.kind {
            Kind::Block(children) => level = children,
            _ => return,
        }
    }
}

/// Finds the nodes along a `when` path (the spec's argument names joined by `.`), or `None`
/// when the first-ranked server's tree has no such argument.
pub(crate) fn resolve<'n>(args: &'n [Node], path: &str) -> Option<Vec<&'n Node>> {
    let mut chain = Vec::new();
    let mut level = args;
    for name in path.split('.') {
        let node = level.iter().find(|n| n.name == name)?;
        chain.push(node);
        level = node.children();
    }
    Some(chain)
}
