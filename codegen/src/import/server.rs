//! Reads one server's `COMMAND DOCS` and `COMMAND INFO` replies into commands of that server.
//!
//! Anything the replies hold that the spec format has no place for is an error naming the
//! field, so a newer server cannot lose information silently.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::ImportError;
use crate::spec::{ArgType, Argument, KeySpec, LegacyKeys, ServerDiff};

/// Everything one server says about its commands.
pub(crate) struct ParsedServer {
    /// The server id.
    pub id: String,
    /// Its commands and subcommands, by lowercase server name (`client|kill`).
    pub commands: BTreeMap<String, ServerCommand>,
    /// The server's own mistakes that [`correct`] fixed, as sentences for the report.
    pub corrections: Vec<String>,
}

/// One command as one server describes it.
pub(crate) struct ServerCommand {
    /// Spec name: `CLIENT KILL`.
    pub name: String,
    /// The container of a subcommand: `CLIENT`.
    pub container: Option<String>,
    /// Every top-level fact, all fields set (`Some(None)` or `Some([])` when absent).
    pub facts: ServerDiff,
    /// The argument tree, with no `servers` set.
    pub arguments: Vec<Argument>,
}

/// The facts `COMMAND INFO` gives for one command.
struct Info {
    arity: i64,
    flags: Vec<String>,
    legacy_keys: LegacyKeys,
    acl_categories: Vec<String>,
    tips: Vec<String>,
    key_specs: Vec<KeySpec>,
}

/// Reads and joins the two replies of server `id`.
pub(crate) fn parse(id: &str, docs: &Value, info: &Value) -> Result<ParsedServer, ImportError> {
    let fail = |message: String| ImportError {
        server: id.to_string(),
        message,
    };
    let mut infos = BTreeMap::new();
    let entries = info
        .as_array()
        .ok_or_else(|| fail("COMMAND INFO: expected a list of commands".into()))?;
    for entry in entries {
        collect_info(entry, &mut infos).map_err(fail)?;
    }
    let docs = docs
        .as_object()
        .ok_or_else(|| fail("COMMAND DOCS: expected a map from command name to docs".into()))?;
    let mut commands = BTreeMap::new();
    for (name, doc) in docs {
        collect_docs(name, doc, &mut infos, &mut commands).map_err(fail)?;
    }
    let mut corrections = Vec::new();
    for command in commands.values_mut() {
        let mut fixed = Vec::new();
        correct(&mut command.arguments, "", &mut fixed);
        corrections.extend(
            fixed
                .into_iter()
                .map(|fix| format!("{id} {}: {fix}", command.name)),
        );
    }
    if let Some(name) = infos.keys().next() {
        return Err(fail(format!(
            "COMMAND INFO has `{name}` but COMMAND DOCS does not"
        )));
    }
    Ok(ParsedServer {
        id: id.to_string(),
        commands,
        corrections,
    })
}

/// Indexes one `COMMAND INFO` entry and its subcommands by lowercase name.
fn collect_info(entry: &Value, infos: &mut BTreeMap<String, Info>) -> Result<(), String> {
    let fields = entry
        .as_array()
        .ok_or_else(|| format!("COMMAND INFO: expected a command description, got {entry}"))?;
    let name = fields
        .first()
        .and_then(Value::as_str)
        .ok_or_else(|| format!("COMMAND INFO: entry without a name: {entry}"))?
        .to_ascii_lowercase();
    let at = |what: &str| format!("COMMAND INFO {name}: {what}");
    // Redis 7 and later send ten fields; older servers lack tips, key specs and subcommands.
    if fields.len() != 10 {
        return Err(at(&format!(
            "expected 10 fields (a Redis 7 or later server), got {}",
            fields.len()
        )));
    }
    let int = |i: usize, what: &str| {
        fields[i]
            .as_i64()
            .ok_or_else(|| at(&format!("{what} is not an integer")))
    };
    let key_specs = fields[8]
        .as_array()
        .ok_or_else(|| at("key specs are not a list"))?
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            serde_json::from_value::<KeySpec>(spec.clone())
                .map_err(|err| at(&format!("key_specs[{i}]: {err}: {spec}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let info = Info {
        arity: int(1, "arity")?,
        flags: strings(&fields[2]).map_err(|err| at(&format!("flags: {err}")))?,
        legacy_keys: LegacyKeys {
            first: int(3, "first key")?,
            last: int(4, "last key")?,
            step: int(5, "step")?,
        },
        acl_categories: strings(&fields[6]).map_err(|err| at(&format!("ACL categories: {err}")))?,
        tips: strings(&fields[7]).map_err(|err| at(&format!("tips: {err}")))?,
        key_specs,
    };
    let subcommands = fields[9]
        .as_array()
        .ok_or_else(|| at("subcommands are not a list"))?;
    if infos.insert(name.clone(), info).is_some() {
        return Err(at("listed twice"));
    }
    for sub in subcommands {
        collect_info(sub, infos)?;
    }
    Ok(())
}

/// Reads the docs of `name` (and its subcommands) and joins them with their `COMMAND INFO`.
fn collect_docs(
    name: &str,
    doc: &Value,
    infos: &mut BTreeMap<String, Info>,
    commands: &mut BTreeMap<String, ServerCommand>,
) -> Result<(), String> {
    let key = name.to_ascii_lowercase();
    let at = |what: &str| format!("COMMAND DOCS {key}: {what}");
    let doc = doc.as_object().ok_or_else(|| at("docs are not a map"))?;
    let info = infos
        .remove(&key)
        .ok_or_else(|| at("missing from COMMAND INFO"))?;
    let mut facts = ServerDiff {
        summary: Some(None),
        since: Some(None),
        group: Some(None),
        complexity: Some(None),
        doc_flags: Some(Vec::new()),
        deprecated_since: Some(None),
        replaced_by: Some(None),
        history: Some(Vec::new()),
        arity: Some(info.arity),
        flags: Some(info.flags),
        acl_categories: Some(info.acl_categories),
        tips: Some(info.tips),
        key_specs: Some(info.key_specs),
        legacy_keys: Some(info.legacy_keys),
    };
    let mut arguments = Vec::new();
    let mut subcommands = None;
    for (field, value) in doc {
        let text = || {
            value
                .as_str()
                .map(|s| Some(s.to_string()))
                .ok_or_else(|| at(&format!("{field} is not a string")))
        };
        match field.as_str() {
            "summary" => facts.summary = Some(text()?),
            "since" => facts.since = Some(text()?),
            "group" => facts.group = Some(text()?),
            "complexity" => facts.complexity = Some(text()?),
            "deprecated_since" => facts.deprecated_since = Some(text()?),
            "replaced_by" => facts.replaced_by = Some(text()?),
            "doc_flags" => {
                facts.doc_flags =
                    Some(strings(value).map_err(|err| at(&format!("doc_flags: {err}")))?)
            }
            "history" => {
                facts.history = Some(history(value).map_err(|err| at(&format!("history: {err}")))?)
            }
            "arguments" => {
                arguments = parse_arguments(value, "arguments").map_err(|err| at(&err))?
            }
            "subcommands" => subcommands = Some(value),
            other => {
                return Err(at(&format!(
                "field `{other}` has no place in the spec format (extend codegen::spec): {value}"
            )))
            }
        }
    }
    let (container, spec_name) = match key.split_once('|') {
        Some((container, sub)) => (
            Some(container.to_ascii_uppercase()),
            format!(
                "{} {}",
                container.to_ascii_uppercase(),
                sub.to_ascii_uppercase()
            ),
        ),
        None => (None, key.to_ascii_uppercase()),
    };
    let command = ServerCommand {
        name: spec_name,
        container,
        facts,
        arguments,
    };
    if commands.insert(key.clone(), command).is_some() {
        return Err(at("listed twice"));
    }
    if let Some(subcommands) = subcommands {
        let subcommands = subcommands
            .as_object()
            .ok_or_else(|| at("subcommands are not a map"))?;
        for (sub_name, sub_doc) in subcommands {
            collect_docs(sub_name, sub_doc, infos, commands)?;
        }
    }
    Ok(())
}

/// Reads a list of argument maps; `path` names the list in messages.
fn parse_arguments(value: &Value, path: &str) -> Result<Vec<Argument>, String> {
    let list = value
        .as_array()
        .ok_or_else(|| format!("{path}: not a list"))?;
    list.iter()
        .enumerate()
        .map(|(i, arg)| {
            let here = format!("{path}[{i}]");
            let map = arg
                .as_object()
                .ok_or_else(|| format!("{here}: not a map"))?;
            parse_argument(map, &here)
        })
        .collect()
}

fn parse_argument(map: &Map<String, Value>, path: &str) -> Result<Argument, String> {
    let text = |field: &str| -> Result<Option<String>, String> {
        match map.get(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(format!("{path}.{field}: not a string: {other}")),
        }
    };
    let name = text("name")?.ok_or_else(|| format!("{path}: no name"))?;
    let ty = text("type")?.ok_or_else(|| format!("{path} ({name}): no type"))?;
    let mut argument = Argument {
        ty: ty
            .parse::<ArgType>()
            .map_err(|err| format!("{path}.type ({name}): {err}"))?,
        name,
        display_text: None,
        key_spec_index: None,
        token: None,
        since: None,
        deprecated_since: None,
        optional: false,
        multiple: false,
        multiple_token: false,
        summary: None,
        servers: Vec::new(),
        arguments: Vec::new(),
    };
    for (field, value) in map {
        match field.as_str() {
            "name" | "type" => {}
            "display_text" => argument.display_text = text(field)?,
            "token" => argument.token = text(field)?,
            "since" => argument.since = text(field)?,
            "deprecated_since" => argument.deprecated_since = text(field)?,
            "summary" => argument.summary = text(field)?,
            "key_spec_index" => {
                let index = value
                    .as_u64()
                    .ok_or_else(|| format!("{path}.key_spec_index: not a count: {value}"))?;
                argument.key_spec_index = Some(index as usize);
            }
            "flags" => {
                for flag in strings(value).map_err(|err| format!("{path}.flags: {err}"))? {
                    match flag.as_str() {
                        "optional" => argument.optional = true,
                        "multiple" => argument.multiple = true,
                        "multiple_token" => argument.multiple_token = true,
                        other => {
                            return Err(format!(
                                "{path}.flags: flag `{other}` has no place in the spec format (extend codegen::spec)"
                            ))
                        }
                    }
                }
            }
            "arguments" => {
                argument.arguments = parse_arguments(value, &format!("{path}.arguments"))?
            }
            other => {
                return Err(format!(
                    "{path}.{other}: field has no place in the spec format (extend codegen::spec): {value}"
                ))
            }
        }
    }
    Ok(argument)
}

/// Fixes two kinds of mistake servers make in their docs, so that the files satisfy the
/// validator without hand edits that the next import would undo:
/// - a `pure-token` without `token` (Sentinel's SIMULATE-FAILURE): the token is the name in
///   uppercase, which is what the server matches (case-insensitively);
/// - a `key_spec_index` on an argument that holds no key name (Valkey's HSETEX `numfields`):
///   dropped. Only `key` and `pattern` arguments keep it; SORT's BY and GET patterns do name keys.
fn correct(arguments: &mut [Argument], path: &str, fixed: &mut Vec<String>) {
    for argument in arguments {
        let here = if path.is_empty() {
            argument.name.clone()
        } else {
            format!("{path}.{}", argument.name)
        };
        if argument.ty == ArgType::PureToken && argument.token.is_none() {
            let token = argument.name.to_ascii_uppercase();
            fixed.push(format!(
                "{here}: pure-token without token, set token {token:?}"
            ));
            argument.token = Some(token);
        }
        if !matches!(argument.ty, ArgType::Key | ArgType::Pattern) {
            if let Some(index) = argument.key_spec_index.take() {
                fixed.push(format!(
                    "{here}: dropped key_spec_index {index} from an argument of type {}, which holds no key name",
                    argument.ty
                ));
            }
        }
        correct(&mut argument.arguments, &here, fixed);
    }
}

/// A list of strings (a RESP3 set or array of strings).
fn strings(value: &Value) -> Result<Vec<String>, String> {
    value
        .as_array()
        .ok_or_else(|| format!("expected a list, got {value}"))?
        .iter()
        .map(|item| {
            item.as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("expected strings, got {item}"))
        })
        .collect()
}

/// A list of `[version, description]` pairs.
fn history(value: &Value) -> Result<Vec<(String, String)>, String> {
    value
        .as_array()
        .ok_or_else(|| format!("expected a list, got {value}"))?
        .iter()
        .map(|entry| match strings(entry)?.as_slice() {
            [version, text] => Ok((version.clone(), text.clone())),
            _ => Err(format!("expected [version, description], got {entry}")),
        })
        .collect()
}
