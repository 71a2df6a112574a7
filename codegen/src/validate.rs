//! Checks the loaded spec for mistakes the generator would trip over, naming the file and the
//! JSON path of each bad field: `commands/set.json: arguments[2].arguments[0].token: …`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use crate::reply::{ReplyType, Variant};
use crate::routing;
use crate::spec::{self, ArgType, Argument, Command, KeySpec};

/// What kind of mistake a [`Problem`] is, so callers can group them (the spec test lists
/// commands without a reply apart from everything else).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProblemKind {
    /// The file is not valid JSON, does not fit the model, or has an unknown argument type.
    Parse,
    /// The file name is not the one derived from `name`.
    FileName,
    /// `name`, `container` or `servers` are inconsistent.
    Identity,
    /// `key_spec_index` points at no key spec, or sits on an argument that holds no key.
    KeySpecIndex,
    /// A `oneof` or `block` without nested arguments, or nested arguments under another type.
    Nesting,
    /// `multiple_token` on an argument without a token.
    MultipleTokenWithoutToken,
    /// A `pure-token` argument without a token.
    PureTokenWithoutToken,
    /// An argument's or `per_server`'s servers name a server its parent does not have.
    Servers,
    /// The command has no `reply`.
    MissingReply,
    /// A reply type that does not parse.
    ReplyType,
    /// A variant's `when` path that names no argument.
    VariantPath,
    /// `rust.name` is not a snake_case identifier, or the plain name is a Rust keyword.
    RustName,
    /// `rust.blocking_timeout` is missing on a blocking command, present on another, or names
    /// no argument.
    BlockingTimeout,
    /// Two commands get the same Rust method name.
    DuplicateMethod,
    /// Cluster routing: an unknown or repeated policy tip, key specs whose keys cannot be
    /// located, or `rust.cluster_special` missing where a tip says `special`, present where
    /// none does, or naming no known handler.
    Routing,
}

/// One mistake: where it is and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// What kind of mistake.
    pub kind: ProblemKind,
    /// The file, as loaded (`commands/set.json`).
    pub file: String,
    /// The JSON path of the bad field (`arguments[2].type`), empty for the whole file.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}: {}: {}", self.file, self.path, self.message)
        }
    }
}

/// Words that cannot be method names: Rust's strict and reserved keywords.
pub const RUST_KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof",
    "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Loads `dir` and validates it; parse failures are reported as [`ProblemKind::Parse`]
/// problems next to the others.
pub fn validate_dir(dir: &Path) -> Result<Vec<Command>, Vec<Problem>> {
    match spec::load_dir(dir) {
        Ok(commands) => {
            let problems = validate(&commands);
            if problems.is_empty() {
                Ok(commands)
            } else {
                Err(problems)
            }
        }
        Err(err) => {
            let file = match &err {
                spec::SpecError::Io { path, .. } => path.display().to_string(),
                spec::SpecError::Parse { file, .. } => file.clone(),
            };
            let message = match err {
                spec::SpecError::Io { source, .. } => source.to_string(),
                spec::SpecError::Parse { message, .. } => message,
            };
            Err(vec![Problem {
                kind: ProblemKind::Parse,
                file,
                path: String::new(),
                message,
            }])
        }
    }
}

/// Every problem in `commands`, in file order.
pub fn validate(commands: &[Command]) -> Vec<Problem> {
    let mut problems = Vec::new();
    for command in commands {
        let mut check = Checker {
            command,
            problems: &mut problems,
        };
        check.command();
    }
    duplicate_methods(commands, &mut problems);
    problems
}

/// Reports every method name that more than one command gets.
fn duplicate_methods(commands: &[Command], problems: &mut Vec<Problem>) {
    let mut by_method: BTreeMap<String, Vec<&Command>> = BTreeMap::new();
    for command in commands {
        by_method
            .entry(command.method_name())
            .or_default()
            .push(command);
    }
    for (method, owners) in by_method {
        if owners.len() < 2 {
            continue;
        }
        let names: Vec<&str> = owners.iter().map(|c| c.name.as_str()).collect();
        for owner in &owners {
            problems.push(Problem {
                kind: ProblemKind::DuplicateMethod,
                file: owner.file.clone(),
                path: "name".into(),
                message: format!(
                    "method name `{method}` is shared by {}; give all but one a rust.name",
                    names.join(", ")
                ),
            });
        }
    }
}

struct Checker<'a> {
    command: &'a Command,
    problems: &'a mut Vec<Problem>,
}

impl Checker<'_> {
    fn report(&mut self, kind: ProblemKind, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            kind,
            file: self.command.file.clone(),
            path: path.into(),
            message: message.into(),
        });
    }

    fn command(&mut self) {
        let command = self.command;
        let expected = command.file_name();
        let actual = Path::new(&command.file)
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        if actual != expected {
            self.report(
                ProblemKind::FileName,
                "name",
                format!("{:?} belongs in {expected}, not {actual}", command.name),
            );
        }
        self.identity();
        self.arguments(&command.arguments, "arguments", &command.servers);
        self.reply();
        self.rust();
    }

    fn identity(&mut self) {
        let command = self.command;
        if command.name.is_empty() || command.name != command.name.to_ascii_uppercase() {
            self.report(
                ProblemKind::Identity,
                "name",
                "must be non-empty and uppercase",
            );
        }
        match (&command.container, command.name.split_once(' ')) {
            (None, None) => {}
            (Some(container), Some((head, _))) if container == head => {}
            (container, _) => self.report(
                ProblemKind::Identity,
                "container",
                format!(
                    "{container:?} does not match name {:?} (a subcommand is named \"CONTAINER SUB\" and has container \"CONTAINER\")",
                    command.name
                ),
            ),
        }
        if command.servers.is_empty() {
            self.report(
                ProblemKind::Identity,
                "servers",
                "empty; list the servers that know the command, or \"hand-written\"",
            );
        }
        let mut sorted = command.servers.clone();
        sorted.sort();
        sorted.dedup();
        if sorted != command.servers {
            self.report(
                ProblemKind::Identity,
                "servers",
                "must be sorted and unique",
            );
        }
        for server in command.per_server.keys() {
            if !command.servers.contains(server) {
                self.report(
                    ProblemKind::Servers,
                    format!("per_server.{server}"),
                    format!("{server:?} is not in the command's servers"),
                );
            }
        }
    }

    /// The key specs `server` sees: its `per_server` ones when it has them.
    fn key_specs(&self, server: &str) -> &[KeySpec] {
        self.command
            .per_server
            .get(server)
            .and_then(|diff| diff.key_specs.as_deref())
            .unwrap_or(&self.command.key_specs)
    }

    fn arguments(&mut self, arguments: &[Argument], path: &str, parent: &[String]) {
        for (i, argument) in arguments.iter().enumerate() {
            let here = format!("{path}[{i}]");
            let servers: &[String] = if argument.servers.is_empty() {
                parent
            } else {
                &argument.servers
            };
            if let Some(stray) = servers.iter().find(|s| !parent.contains(s)) {
                self.report(
                    ProblemKind::Servers,
                    format!("{here}.servers"),
                    format!("{stray:?} is not among its parent's servers {parent:?}"),
                );
            }
            self.argument(argument, &here, servers);
            self.arguments(&argument.arguments, &format!("{here}.arguments"), servers);
        }
    }

    fn argument(&mut self, argument: &Argument, here: &str, servers: &[String]) {
        if let Some(index) = argument.key_spec_index {
            // SORT's BY and GET patterns name keys too, so patterns may point at a key spec.
            if !matches!(argument.ty, ArgType::Key | ArgType::Pattern) {
                self.report(
                    ProblemKind::KeySpecIndex,
                    format!("{here}.key_spec_index"),
                    format!(
                        "set on {:?} of type {}; only key (and pattern) arguments have one",
                        argument.name, argument.ty
                    ),
                );
            }
            for server in servers {
                let count = self.key_specs(server).len();
                if index >= count {
                    self.report(
                        ProblemKind::KeySpecIndex,
                        format!("{here}.key_spec_index"),
                        format!("{index} points at no key spec ({server} has {count})"),
                    );
                }
            }
        }
        if argument.ty.is_container() && argument.arguments.is_empty() {
            self.report(
                ProblemKind::Nesting,
                format!("{here}.arguments"),
                format!(
                    "{} {:?} has no nested arguments",
                    argument.ty, argument.name
                ),
            );
        }
        if !argument.ty.is_container() && !argument.arguments.is_empty() {
            self.report(
                ProblemKind::Nesting,
                format!("{here}.arguments"),
                format!(
                    "only oneof and block nest arguments, {:?} is a {}",
                    argument.name, argument.ty
                ),
            );
        }
        if argument.multiple_token && argument.token.is_none() {
            self.report(
                ProblemKind::MultipleTokenWithoutToken,
                format!("{here}.multiple_token"),
                format!("{:?} repeats a token but has none", argument.name),
            );
        }
        if argument.ty == ArgType::PureToken && argument.token.is_none() {
            self.report(
                ProblemKind::PureTokenWithoutToken,
                format!("{here}.token"),
                format!("pure-token {:?} has no token", argument.name),
            );
        }
    }

    fn reply(&mut self) {
        let Some(reply) = &self.command.reply else {
            self.report(ProblemKind::MissingReply, "reply", "missing");
            return;
        };
        self.reply_type("reply.type", &reply.ty);
        if let Some(resp2) = &reply.resp2 {
            self.reply_type("reply.resp2", resp2);
        }
        for (i, variant) in reply.variants.iter().enumerate() {
            self.variant(variant, &format!("reply.variants[{i}]"));
        }
    }

    fn variant(&mut self, variant: &Variant, here: &str) {
        self.reply_type(&format!("{here}.type"), &variant.ty);
        if let Some(resp2) = &variant.resp2 {
            self.reply_type(&format!("{here}.resp2"), resp2);
        }
        if variant.when.is_empty() {
            self.report(
                ProblemKind::VariantPath,
                format!("{here}.when"),
                "empty; name the arguments that select this variant",
            );
        }
        for (j, path) in variant.when.iter().enumerate() {
            if self.command.argument(path).is_none() {
                self.report(
                    ProblemKind::VariantPath,
                    format!("{here}.when[{j}]"),
                    format!("{path:?} names no argument (use names joined by '.')"),
                );
            }
        }
    }

    fn reply_type(&mut self, path: &str, text: &str) {
        if let Err(err) = ReplyType::parse(text) {
            self.report(ProblemKind::ReplyType, path, err.to_string());
        }
    }

    fn rust(&mut self) {
        let command = self.command;
        let hints = command.rust.clone().unwrap_or_default();
        match &hints.name {
            Some(name) => {
                if let Some(why) = not_a_method_name(name) {
                    self.report(
                        ProblemKind::RustName,
                        "rust.name",
                        format!("{name:?} {why}"),
                    );
                }
            }
            None => {
                let plain = spec::plain_method_name(&command.name);
                if let Some(why) = not_a_method_name(&plain) {
                    self.report(
                        ProblemKind::RustName,
                        "rust.name",
                        format!("missing, and the plain method name {plain:?} {why}"),
                    );
                }
            }
        }
        match (&hints.blocking_timeout, command.is_blocking()) {
            (None, true) => self.report(
                ProblemKind::BlockingTimeout,
                "rust.blocking_timeout",
                "missing on a command with the blocking flag",
            ),
            (Some(_), false) => self.report(
                ProblemKind::BlockingTimeout,
                "rust.blocking_timeout",
                "set on a command without the blocking flag",
            ),
            (Some(timeout), true) => {
                if command.argument(&timeout.argument).is_none() {
                    self.report(
                        ProblemKind::BlockingTimeout,
                        "rust.blocking_timeout.argument",
                        format!("{:?} names no argument", timeout.argument),
                    );
                }
            }
            (None, false) => {}
        }
        self.routing();
    }

    fn routing(&mut self) {
        let command = self.command;
        if let Err(message) = routing::keys(command) {
            self.report(ProblemKind::Routing, "key_specs", message);
        }
        let policies = match routing::policies(command) {
            Ok(policies) => policies,
            Err(message) => return self.report(ProblemKind::Routing, "tips", message),
        };
        match (routing::special(command), policies.is_special()) {
            (None, true) => self.report(
                ProblemKind::Routing,
                "rust.cluster_special",
                format!(
                    "missing, and a tip says `special`; name the cluster handler, one of {:?}",
                    routing::SPECIAL_HANDLERS
                ),
            ),
            (Some(_), false) => self.report(
                ProblemKind::Routing,
                "rust.cluster_special",
                "set, but no request_policy or response_policy tip says `special`",
            ),
            (Some(name), true) if !routing::SPECIAL_HANDLERS.contains(&name) => self.report(
                ProblemKind::Routing,
                "rust.cluster_special",
                format!(
                    "{name:?} names no cluster handler; known: {:?}",
                    routing::SPECIAL_HANDLERS
                ),
            ),
            _ => {}
        }
    }
}

/// Why `name` cannot be a method name, or `None` when it can.
fn not_a_method_name(name: &str) -> Option<&'static str> {
    let snake = !name.is_empty()
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.ends_with('_')
        && !name.contains("__");
    if !snake {
        Some("is not a snake_case identifier")
    } else if RUST_KEYWORDS.contains(&name) {
        Some("is a Rust keyword")
    } else {
        None
    }
}
