//! The serde model of one `commands/*.json` file, and loading a directory of them.
//!
//! Field order in these structs is the key order of the files: the importer writes through
//! them, so changing the order reorders every file. `commands/README.md` documents each field.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

use crate::reply::Reply;

/// One command or subcommand: the server's facts, which servers know it, and project-owned hints.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Command {
    /// The file this command was loaded from (`commands/set.json`), for error messages; not part
    /// of the file.
    #[serde(skip)]
    pub file: String,
    /// Full name, uppercase, with a space between container and subcommand: `CLIENT KILL`.
    pub name: String,
    /// The container command of a subcommand: `CLIENT` for `CLIENT KILL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// One-line description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// The server version that introduced the command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// The command group (`string`, `list`, `server`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Time complexity, as prose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complexity: Option<String>,
    /// Documentation flags (`deprecated`, `syscmd`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub doc_flags: Vec<String>,
    /// The version that deprecated the command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deprecated_since: Option<String>,
    /// What to use instead of a deprecated command, as prose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaced_by: Option<String>,
    /// Behaviour changes: `[version, description]` pairs, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<(String, String)>,
    /// Number of words including the command name; negative means "at least" that many.
    pub arity: i64,
    /// Command flags as the server sends them (`write`, `readonly`, `blocking`, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
    /// ACL categories as the server sends them (`@write`, `@string`, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub acl_categories: Vec<String>,
    /// Command tips (`request_policy:all_shards`, `nondeterministic_output`, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tips: Vec<String>,
    /// Where the keys are among the arguments, and what the command does with them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_specs: Vec<KeySpec>,
    /// The legacy first-key / last-key / step key positions of `COMMAND INFO`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legacy_keys: Option<LegacyKeys>,
    /// Sorted ids of the servers that know the command (`redis-7.0.15`, `valkey-9.1.2`), or
    /// `hand-written` for a command added by hand.
    pub servers: Vec<String>,
    /// Facts where a server disagrees with the values above, keyed by server id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub per_server: BTreeMap<String, ServerDiff>,
    /// The argument tree.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub arguments: Vec<Argument>,
    /// Project-owned: the typed reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<Reply>,
    /// Project-owned: hints for the Rust generator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rust: Option<RustHints>,
}

/// The top-level facts of one server that differ from the command's own values.
///
/// A present field holds that server's value; `null` (or `[]` for lists) means the server does
/// not have the fact at all.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerDiff {
    /// This server's summary.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub summary: Option<Option<String>>,
    /// This server's `since`.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub since: Option<Option<String>>,
    /// This server's group.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub group: Option<Option<String>>,
    /// This server's complexity.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub complexity: Option<Option<String>>,
    /// This server's documentation flags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc_flags: Option<Vec<String>>,
    /// This server's `deprecated_since`.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub deprecated_since: Option<Option<String>>,
    /// This server's `replaced_by`.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub replaced_by: Option<Option<String>>,
    /// This server's history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<(String, String)>>,
    /// This server's arity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arity: Option<i64>,
    /// This server's command flags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flags: Option<Vec<String>>,
    /// This server's ACL categories.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acl_categories: Option<Vec<String>>,
    /// This server's tips.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tips: Option<Vec<String>>,
    /// This server's key specs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_specs: Option<Vec<KeySpec>>,
    /// This server's legacy key positions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legacy_keys: Option<LegacyKeys>,
}

/// Keeps an explicit `null` apart from a missing field: missing is `None` (through
/// `#[serde(default)]`), `null` is `Some(None)`.
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// The legacy key positions: first key, last key (negative counts from the end), step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegacyKeys {
    /// Position of the first key, 0 when the command takes no key.
    pub first: i64,
    /// Position of the last key; -1 is the last argument.
    pub last: i64,
    /// Distance between keys.
    pub step: i64,
}

/// One key specification, with the server's own field names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeySpec {
    /// A remark from the server about this spec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Access flags (`RW`, `RO`, `OW`, `RM`, `access`, `update`, `insert`, `delete`, …).
    #[serde(default)]
    pub flags: Vec<String>,
    /// Where the search for keys starts.
    pub begin_search: BeginSearch,
    /// How keys are found from there.
    pub find_keys: FindKeys,
}

/// Where the search for keys begins.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    content = "spec",
    rename_all = "lowercase",
    deny_unknown_fields
)]
pub enum BeginSearch {
    /// At a fixed argument position (1 is the first argument after the command name).
    Index {
        /// The position.
        index: i64,
    },
    /// After the first occurrence of a keyword, searching from `startfrom`.
    Keyword {
        /// The keyword, uppercase.
        keyword: String,
        /// Where to start searching; negative counts from the end.
        startfrom: i64,
    },
    /// Not describable: the keys can only be found by the server (`COMMAND GETKEYS`).
    Unknown {},
}

/// How keys are found once the search has begun.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    content = "spec",
    rename_all = "lowercase",
    deny_unknown_fields
)]
pub enum FindKeys {
    /// A range of arguments.
    Range {
        /// Last key relative to the begin position; -1 is the last argument.
        lastkey: i64,
        /// Distance between keys.
        keystep: i64,
        /// With `lastkey` -1: only 1/limit of the remaining arguments are keys (0 = all).
        limit: i64,
    },
    /// An argument holds the number of keys.
    Keynum {
        /// Where the count is, relative to the begin position.
        keynumidx: i64,
        /// Where the first key is, relative to the begin position.
        firstkey: i64,
        /// Distance between keys.
        keystep: i64,
    },
    /// Not describable.
    Unknown {},
}

/// One argument of a command, possibly with nested arguments (for `oneof` and `block`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Argument {
    /// The argument's name, unique among its siblings on one server.
    pub name: String,
    /// What kind of value it takes.
    #[serde(rename = "type")]
    pub ty: ArgType,
    /// The name shown in syntax help, when the server sends one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_text: Option<String>,
    /// For `key` arguments: the index of the command's key spec that finds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_spec_index: Option<usize>,
    /// A literal word sent before the value (`EX`), or the whole argument for a pure token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The version that added the argument.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// The version that deprecated the argument.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deprecated_since: Option<String>,
    /// The argument may be left out.
    #[serde(default, skip_serializing_if = "is_false")]
    pub optional: bool,
    /// The argument may be repeated.
    #[serde(default, skip_serializing_if = "is_false")]
    pub multiple: bool,
    /// When repeated, the token is repeated before every value.
    #[serde(default, skip_serializing_if = "is_false")]
    pub multiple_token: bool,
    /// A one-line description the server sends for some arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Sorted ids of the servers that know this argument in this shape; empty means the same
    /// servers as the parent (argument or command).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub servers: Vec<String>,
    /// Nested arguments of a `oneof` or `block`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub arguments: Vec<Argument>,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// The kind of an argument, as the server names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArgType {
    /// Any string.
    String,
    /// A 64-bit integer.
    Integer,
    /// A floating point number.
    Double,
    /// A key name.
    Key,
    /// A glob-style pattern.
    Pattern,
    /// A Unix timestamp (seconds or milliseconds, as the argument's name says).
    UnixTime,
    /// A literal token with no value (`NX`).
    PureToken,
    /// Exactly one of the nested arguments.
    Oneof,
    /// All of the nested arguments, in order.
    Block,
}

impl ArgType {
    /// Every argument type, in the order the file format documents them.
    pub const ALL: [ArgType; 9] = [
        ArgType::String,
        ArgType::Integer,
        ArgType::Double,
        ArgType::Key,
        ArgType::Pattern,
        ArgType::UnixTime,
        ArgType::PureToken,
        ArgType::Oneof,
        ArgType::Block,
    ];

    /// The name used in the files and by the server.
    pub fn as_str(self) -> &'static str {
        match self {
            ArgType::String => "string",
            ArgType::Integer => "integer",
            ArgType::Double => "double",
            ArgType::Key => "key",
            ArgType::Pattern => "pattern",
            ArgType::UnixTime => "unix-time",
            ArgType::PureToken => "pure-token",
            ArgType::Oneof => "oneof",
            ArgType::Block => "block",
        }
    }

    /// True for the types that hold nested arguments.
    pub fn is_container(self) -> bool {
        matches!(self, ArgType::Oneof | ArgType::Block)
    }
}

impl FromStr for ArgType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ArgType::ALL
            .into_iter()
            .find(|ty| ty.as_str() == s)
            .ok_or_else(|| format!("unknown argument type {s:?}"))
    }
}

impl fmt::Display for ArgType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Project-owned hints for the Rust generator.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RustHints {
    /// The snake_case method name, when the plain one is a Rust keyword or clashes with another
    /// command's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// For blocking commands: the argument that bounds how long the server may block, so the
    /// client can extend its read timeout by that much.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocking_timeout: Option<BlockingTimeout>,
    /// The command changes or depends on the state of the connection it runs on (SELECT, WATCH,
    /// MULTI, SUBSCRIBE, CLIENT REPLY …), so running it on a pooled connection would leak that
    /// state to the pool's next user: it is offered only on a dedicated connection.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub connection_state: bool,
    /// The hand-written cluster handler of a command whose tips say `special`
    /// (`request_policy:special` or `response_policy:special`): one of
    /// [`crate::routing::SPECIAL_HANDLERS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_special: Option<String>,
}

/// Which argument holds a blocking command's timeout, and in what unit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockingTimeout {
    /// The argument's path: names joined by `.` (`timeout`, `block.milliseconds`).
    pub argument: String,
    /// The unit of the value.
    pub unit: TimeUnit,
}

/// The unit of a timeout argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeUnit {
    /// Seconds (possibly fractional).
    Seconds,
    /// Milliseconds.
    Milliseconds,
}

impl Command {
    /// The file name this command must have: lowercase name, space and `|` turned into `-`.
    pub fn file_name(&self) -> String {
        file_stem(&self.name) + ".json"
    }

    /// The snake_case Rust method name: the override in `rust.name`, else derived from the name.
    pub fn method_name(&self) -> String {
        self.rust
            .as_ref()
            .and_then(|hints| hints.name.clone())
            .unwrap_or_else(|| plain_method_name(&self.name))
    }

    /// True when any server gives the command the `blocking` flag.
    pub fn is_blocking(&self) -> bool {
        self.has_flag("blocking")
    }

    /// True when this command's flags, or any server's, include `flag`.
    pub fn has_flag(&self, flag: &str) -> bool {
        self.flags.iter().any(|f| f == flag)
            || self
                .per_server
                .values()
                .filter_map(|diff| diff.flags.as_ref())
                .any(|flags| flags.iter().any(|f| f == flag))
    }

    /// Finds an argument by its path of names joined by `.` (`condition.nx`).
    pub fn argument(&self, path: &str) -> Option<&Argument> {
        find_argument(&self.arguments, path)
    }
}

fn find_argument<'a>(arguments: &'a [Argument], path: &str) -> Option<&'a Argument> {
    let (head, rest) = match path.split_once('.') {
        Some((head, rest)) => (head, Some(rest)),
        None => (path, None),
    };
    // Several entries may share a name (one per shape, or Redis' own repeated names): any match
    // whose subtree has the rest of the path will do.
    arguments
        .iter()
        .filter(|arg| arg.name == head)
        .find_map(|arg| match rest {
            None => Some(arg),
            Some(rest) => find_argument(&arg.arguments, rest),
        })
}

/// The file stem for a command name: `CLIENT KILL` and `client|kill` both give `client-kill`.
pub fn file_stem(name: &str) -> String {
    name.to_ascii_lowercase().replace([' ', '|'], "-")
}

/// The snake_case method name derived from a command name, before any override:
/// `CLIENT KILL` → `client_kill`, `RESTORE-ASKING` → `restore_asking`.
pub fn plain_method_name(name: &str) -> String {
    name.to_ascii_lowercase().replace([' ', '|', '-', '.'], "_")
}

/// Why the spec could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// A file or the directory could not be read.
    #[error("{path}: {source}")]
    Io {
        /// What was being read.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A file is not valid JSON or does not fit the model.
    #[error("{file}: {message}")]
    Parse {
        /// The file, as named in messages (`commands/set.json`).
        file: String,
        /// What was wrong, with the JSON path or line and column.
        message: String,
    },
}

/// Loads every `*.json` file of `dir`, sorted by file name.
///
/// Files are named in errors and in [`Command::file`] as `<dir's last component>/<file>`
/// (`commands/set.json`).
pub fn load_dir(dir: &Path) -> Result<Vec<Command>, SpecError> {
    let io = |source| SpecError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.extension().is_some_and(|ext| ext == "json") {
            paths.push(path);
        }
    }
    paths.sort();
    let prefix = dir
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    paths
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).map_err(|source| SpecError::Io {
                path: path.clone(),
                source,
            })?;
            let file_name = path.file_name().unwrap_or_default().to_string_lossy();
            let shown = if prefix.is_empty() {
                file_name.into_owned()
            } else {
                format!("{prefix}/{file_name}")
            };
            parse_file(&shown, &text)
        })
        .collect()
}

/// Parses one file's text; `file` is how messages name it.
///
/// Argument types are checked before the typed parse so that a bad one is reported with its
/// JSON path (`arguments[2].arguments[0].type`); other mistakes carry serde's line and column.
pub fn parse_file(file: &str, text: &str) -> Result<Command, SpecError> {
    let parse_error = |message: String| SpecError::Parse {
        file: file.to_string(),
        message,
    };
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|err| parse_error(err.to_string()))?;
    if let Some(arguments) = value.get("arguments") {
        check_argument_types(arguments, "arguments").map_err(parse_error)?;
    }
    let mut command: Command =
        serde_json::from_str(text).map_err(|err| parse_error(err.to_string()))?;
    command.file = file.to_string();
    Ok(command)
}

/// Walks the raw argument tree and names the path of the first argument whose `type` is not
/// one of [`ArgType::ALL`].
fn check_argument_types(arguments: &serde_json::Value, path: &str) -> Result<(), String> {
    let Some(list) = arguments.as_array() else {
        return Err(format!("{path}: expected a list of arguments"));
    };
    for (i, argument) in list.iter().enumerate() {
        let here = format!("{path}[{i}]");
        let Some(object) = argument.as_object() else {
            return Err(format!("{here}: expected an argument object"));
        };
        match object.get("type") {
            None => return Err(format!("{here}.type: missing")),
            Some(serde_json::Value::String(ty)) => {
                ArgType::from_str(ty).map_err(|message| format!("{here}.type: {message}"))?;
            }
            Some(other) => return Err(format!("{here}.type: expected a string, got {other}")),
        }
        if let Some(nested) = object.get("arguments") {
            check_argument_types(nested, &format!("{here}.arguments"))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_files_and_methods() {
        assert_eq!(file_stem("CLIENT KILL"), "client-kill");
        assert_eq!(file_stem("client|kill"), "client-kill");
        assert_eq!(file_stem("RESTORE-ASKING"), "restore-asking");
        assert_eq!(plain_method_name("CLIENT KILL"), "client_kill");
        assert_eq!(plain_method_name("RESTORE-ASKING"), "restore_asking");
    }

    #[test]
    fn server_diff_keeps_null_apart_from_missing() {
        let diff: ServerDiff =
            serde_json::from_str(r#"{"summary": null, "arity": 3, "flags": []}"#).unwrap();
        assert_eq!(diff.summary, Some(None));
        assert_eq!(diff.since, None);
        assert_eq!(diff.arity, Some(3));
        assert_eq!(diff.flags, Some(vec![]));
        let text = serde_json::to_string(&diff).unwrap();
        assert_eq!(text, r#"{"summary":null,"arity":3,"flags":[]}"#);
    }

    #[test]
    fn key_specs_keep_the_server_layout() {
        let text = r#"{"flags":["RW","access"],"begin_search":{"type":"index","spec":{"index":1}},"find_keys":{"type":"range","spec":{"lastkey":0,"keystep":1,"limit":0}}}"#;
        let spec: KeySpec = serde_json::from_str(text).unwrap();
        assert_eq!(spec.begin_search, BeginSearch::Index { index: 1 });
        assert_eq!(serde_json::to_string(&spec).unwrap(), text);
        let unknown = r#"{"flags":[],"begin_search":{"type":"unknown","spec":{}},"find_keys":{"type":"unknown","spec":{}}}"#;
        let spec: KeySpec = serde_json::from_str(unknown).unwrap();
        assert_eq!(serde_json::to_string(&spec).unwrap(), unknown);
        let typo = r#"{"flags":[],"begin_search":{"type":"index","spec":{"indx":1}},"find_keys":{"type":"unknown","spec":{}}}"#;
        assert!(serde_json::from_str::<KeySpec>(typo).is_err());
    }

    #[test]
    fn argument_paths_resolve_through_nesting() {
        let command = parse_file(
            "commands/set.json",
            r#"{"name": "SET", "arity": -3, "servers": ["x"], "arguments": [
                {"name": "condition", "type": "oneof", "arguments": [
                    {"name": "nx", "type": "pure-token", "token": "NX"}]}]}"#,
        )
        .unwrap();
        assert_eq!(
            command.argument("condition.nx").unwrap().ty,
            ArgType::PureToken
        );
        assert!(command.argument("condition.xx").is_none());
        assert!(command.argument("nx").is_none());
    }

    #[test]
    fn bad_argument_type_names_its_path() {
        let err = parse_file(
            "commands/set.json",
            r#"{"name": "SET", "arity": -3, "servers": ["x"], "arguments": [
                {"name": "a", "type": "string"},
                {"name": "b", "type": "block", "arguments": [{"name": "c", "type": "strng"}]}]}"#,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"commands/set.json: arguments[1].arguments[0].type: unknown argument type "strng""#
        );
    }
}
