//! The union of several servers' commands: one command per name, `per_server` for top-level
//! facts that differ, and arguments merged by name level by level, one entry per distinct shape.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::server::{ParsedServer, ServerCommand};
use super::ImportReport;
use crate::spec::{Argument, Command, ServerDiff};

/// What argument merging needs to know about the servers.
struct Context<'a> {
    /// Server ids, by index in priority order.
    ids: Vec<&'a str>,
    /// Per server: every argument field it sends anywhere. A field outside a server's
    /// vocabulary is one it never reports, so its absence there is no difference.
    vocabularies: Vec<BTreeSet<String>>,
    report: &'a mut ImportReport,
    /// The command being merged, for the report.
    command: String,
}

/// Unites the servers (given in priority order) into commands sorted by file name.
pub(crate) fn merge(servers: &[ParsedServer], report: &mut ImportReport) -> Vec<Command> {
    let mut by_name: BTreeMap<&str, Vec<(usize, &ServerCommand)>> = BTreeMap::new();
    for (index, server) in servers.iter().enumerate() {
        for (name, command) in &server.commands {
            by_name.entry(name).or_default().push((index, command));
        }
    }
    let mut context = Context {
        ids: servers.iter().map(|server| server.id.as_str()).collect(),
        vocabularies: servers
            .iter()
            .map(|server| {
                let mut vocabulary = BTreeSet::new();
                for command in server.commands.values() {
                    add_vocabulary(&command.arguments, &mut vocabulary);
                }
                vocabulary
            })
            .collect(),
        report,
        command: String::new(),
    };
    let mut commands: Vec<Command> = by_name
        .values()
        .map(|holders| merge_command(&mut context, holders))
        .collect();
    commands.sort_by_key(Command::file_name);
    commands
}

fn add_vocabulary(arguments: &[Argument], vocabulary: &mut BTreeSet<String>) {
    for argument in arguments {
        vocabulary.extend(own_fields(argument).into_iter().map(|(key, _)| key));
        add_vocabulary(&argument.arguments, vocabulary);
    }
}

fn merge_command(context: &mut Context, holders: &[(usize, &ServerCommand)]) -> Command {
    let (_, base) = holders[0];
    let facts = &base.facts;
    let mut servers: Vec<String> = holders
        .iter()
        .map(|(index, _)| context.ids[*index].to_string())
        .collect();
    servers.sort();
    let mut per_server = BTreeMap::new();
    let mut differing = BTreeSet::new();
    for (index, other) in &holders[1..] {
        let diff = diff_facts(facts, &other.facts);
        if diff != ServerDiff::default() {
            differing.extend(diff_field_names(&diff));
            per_server.insert(context.ids[*index].to_string(), diff);
        }
    }
    if !differing.is_empty() {
        context
            .report
            .per_server_diffs
            .push((base.name.clone(), differing.into_iter().collect()));
    }
    context.command = base.name.clone();
    let inputs: Vec<(usize, &[Argument])> = holders
        .iter()
        .map(|(index, command)| (*index, command.arguments.as_slice()))
        .collect();
    let arguments = merge_level(context, &inputs, &servers, "");
    Command {
        file: String::new(),
        name: base.name.clone(),
        container: base.container.clone(),
        summary: facts.summary.clone().flatten(),
        since: facts.since.clone().flatten(),
        group: facts.group.clone().flatten(),
        complexity: facts.complexity.clone().flatten(),
        doc_flags: facts.doc_flags.clone().unwrap_or_default(),
        deprecated_since: facts.deprecated_since.clone().flatten(),
        replaced_by: facts.replaced_by.clone().flatten(),
        history: facts.history.clone().unwrap_or_default(),
        arity: facts.arity.unwrap_or_default(),
        flags: facts.flags.clone().unwrap_or_default(),
        acl_categories: facts.acl_categories.clone().unwrap_or_default(),
        tips: facts.tips.clone().unwrap_or_default(),
        key_specs: facts.key_specs.clone().unwrap_or_default(),
        legacy_keys: facts.legacy_keys,
        servers,
        per_server,
        arguments,
        reply: None,
        rust: None,
    }
}

/// The fields of `other` that differ from `base` (both fully set).
fn diff_facts(base: &ServerDiff, other: &ServerDiff) -> ServerDiff {
    let mut diff = ServerDiff::default();
    macro_rules! compare {
        ($($field:ident),*) => {
            $(if base.$field != other.$field {
                diff.$field = other.$field.clone();
            })*
        };
    }
    compare!(
        summary,
        since,
        group,
        complexity,
        doc_flags,
        deprecated_since,
        replaced_by,
        history,
        arity,
        flags,
        acl_categories,
        tips,
        key_specs,
        legacy_keys
    );
    diff
}

fn diff_field_names(diff: &ServerDiff) -> Vec<String> {
    match serde_json::to_value(diff) {
        Ok(Value::Object(map)) => map.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// An argument's shape: every field but `servers` and the nested `arguments`.
fn own_fields(argument: &Argument) -> Map<String, Value> {
    let mut bare = argument.clone();
    bare.servers.clear();
    bare.arguments.clear();
    match serde_json::to_value(&bare) {
        Ok(Value::Object(map)) => map,
        // An Argument always serializes to an object.
        _ => Map::new(),
    }
}

/// Arguments of one shape, and the servers (by index) that have it.
struct Group<'a> {
    fields: Map<String, Value>,
    members: Vec<(usize, &'a Argument)>,
}

/// Merges one level of the argument tree. `inputs` are the servers' lists in priority order;
/// `parent` is the sorted server list of the enclosing argument or command.
fn merge_level(
    context: &mut Context,
    inputs: &[(usize, &[Argument])],
    parent: &[String],
    path: &str,
) -> Vec<Argument> {
    let order = merged_order(inputs);
    let mut merged = Vec::new();
    for key in &order {
        let mut groups: Vec<Group> = Vec::new();
        for (server, arguments) in inputs {
            let Some(argument) = find_keyed(arguments, key) else {
                continue;
            };
            let fields = own_fields(argument);
            let joined = groups
                .iter_mut()
                .find(|group| compatible(context, group, *server, &fields));
            match joined {
                Some(group) => {
                    for (field, value) in fields {
                        if !group.fields.contains_key(&field) {
                            *context
                                .report
                                .unreported_fields
                                .entry(field.clone())
                                .or_default() += 1;
                            group.fields.insert(field, value);
                        }
                    }
                    for field in group.fields.keys() {
                        if !argument_has(argument, field) {
                            *context
                                .report
                                .unreported_fields
                                .entry(field.clone())
                                .or_default() += 1;
                        }
                    }
                    group.members.push((*server, argument));
                }
                None => groups.push(Group {
                    fields,
                    members: vec![(*server, argument)],
                }),
            }
        }
        let here = if path.is_empty() {
            key.0.to_string()
        } else {
            format!("{path}.{}", key.0)
        };
        if groups.len() > 1 {
            context.report.multi_shape_arguments.push((
                context.command.clone(),
                here.clone(),
                groups.len(),
            ));
        }
        for group in groups {
            merged.push(build_argument(context, group, parent, &here));
        }
    }
    merged
}

fn argument_has(argument: &Argument, field: &str) -> bool {
    own_fields(argument).contains_key(field)
}

/// Can an argument with `fields` from `server` share an entry with `group`? Every field both
/// have must be equal; a field only one side has is allowed only when the other side's
/// servers never report that field.
fn compatible(
    context: &Context,
    group: &Group,
    server: usize,
    fields: &Map<String, Value>,
) -> bool {
    let own = &context.vocabularies[server];
    let group_fields_fit = group
        .fields
        .iter()
        .all(|(field, value)| match fields.get(field) {
            Some(other) => other == value,
            None => !own.contains(field),
        });
    group_fields_fit
        && fields.keys().all(|field| {
            group.fields.contains_key(field)
                || group
                    .members
                    .iter()
                    .all(|(member, _)| !context.vocabularies[*member].contains(field))
        })
}

fn build_argument(context: &mut Context, group: Group, parent: &[String], path: &str) -> Argument {
    let mut servers: Vec<String> = group
        .members
        .iter()
        .map(|(index, _)| context.ids[*index].to_string())
        .collect();
    servers.sort();
    let nested: Vec<(usize, &[Argument])> = group
        .members
        .iter()
        .map(|(index, argument)| (*index, argument.arguments.as_slice()))
        .collect();
    let arguments = merge_level(context, &nested, &servers, path);
    let mut argument: Argument = serde_json::from_value(Value::Object(group.fields))
        .expect("fields taken from serialized arguments deserialize again");
    argument.arguments = arguments;
    argument.servers = if servers == parent {
        Vec::new()
    } else {
        servers
    };
    argument
}

/// An argument's identity at one level: its name and which occurrence of that name it is
/// (Redis 7.0 repeats names, e.g. GEORADIUS has three arguments called `key`).
type Key<'a> = (&'a str, usize);

fn keyed(arguments: &[Argument]) -> Vec<Key<'_>> {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    arguments
        .iter()
        .map(|argument| {
            let count = seen.entry(argument.name.as_str()).or_default();
            *count += 1;
            (argument.name.as_str(), *count - 1)
        })
        .collect()
}

fn find_keyed<'a>(arguments: &'a [Argument], key: &Key) -> Option<&'a Argument> {
    keyed(arguments)
        .iter()
        .position(|k| k == key)
        .map(|i| &arguments[i])
}

/// The first server's order, with arguments only later servers know inserted right after
/// their predecessor in that server's list.
fn merged_order<'a>(inputs: &[(usize, &'a [Argument])]) -> Vec<Key<'a>> {
    let mut order: Vec<Key<'a>> = Vec::new();
    for (_, arguments) in inputs {
        let mut previous: Option<usize> = None;
        for key in keyed(arguments) {
            match order.iter().position(|k| *k == key) {
                Some(at) => previous = Some(at),
                None => {
                    let at = previous.map_or(0, |p| p + 1);
                    order.insert(at, key);
                    previous = Some(at);
                }
            }
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::{import, ServerReplies};
    use serde_json::json;

    fn server(id: &str, arguments: Value, summary: &str) -> ServerReplies {
        ServerReplies {
            id: id.into(),
            docs: json!({"demo": {"summary": summary, "since": "1.0.0", "group": "generic", "arguments": arguments}}),
            info: json!([["demo", -2, ["write"], 1, 1, 1, ["@write"], [], [], []]]),
        }
    }

    #[test]
    fn same_shapes_merge_and_new_arguments_follow_their_predecessor() {
        let valkey = server(
            "valkey-9.1.2",
            json!([
                {"name": "key", "type": "key", "display_text": "key", "key_spec_index": 0},
                {"name": "opt", "type": "oneof", "flags": ["optional"], "arguments": [
                    {"name": "nx", "type": "pure-token", "display_text": "nx", "token": "NX"},
                    {"name": "ifeq", "type": "string", "display_text": "v", "token": "IFEQ"}]}]),
            "Demo.",
        );
        let redis = server(
            "redis-7.0.15",
            json!([
                {"name": "key", "type": "key", "key_spec_index": 0},
                {"name": "old", "type": "integer"},
                {"name": "opt", "type": "oneof", "flags": ["optional"], "arguments": [
                    {"name": "nx", "type": "pure-token", "token": "NX"}]}]),
            "Old demo.",
        );
        let result = import(&[redis, valkey]).unwrap();
        let command = &result.commands[0];
        assert_eq!(command.summary.as_deref(), Some("Demo."));
        assert_eq!(
            command.per_server["redis-7.0.15"].summary,
            Some(Some("Old demo.".into()))
        );
        let names: Vec<&str> = command.arguments.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["key", "old", "opt"]);
        // Redis never sends display_text, so its absence is no difference.
        assert_eq!(command.arguments[0].display_text.as_deref(), Some("key"));
        assert!(command.arguments[0].servers.is_empty());
        assert_eq!(command.arguments[1].servers, ["redis-7.0.15"]);
        let nested = &command.arguments[2].arguments;
        assert!(nested[0].servers.is_empty());
        assert_eq!(nested[1].servers, ["valkey-9.1.2"]);
        assert!(result.report.multi_shape_arguments.is_empty());
    }

    #[test]
    fn different_shapes_are_kept_side_by_side() {
        let valkey = server(
            "valkey-9.1.2",
            json!([{"name": "n", "type": "integer", "since": "2.0.0"}]),
            "Demo.",
        );
        let redis = server(
            "redis-7.0.15",
            json!([{"name": "n", "type": "integer", "since": "2.0.0"}, {"name": "m", "type": "double", "since": "1.0.0"}]),
            "Demo.",
        );
        let sentinel = server(
            "sentinel-7.0.15",
            json!([{"name": "n", "type": "string", "since": "2.0.0"}]),
            "Demo.",
        );
        let result = import(&[sentinel, redis, valkey]).unwrap();
        let arguments = &result.commands[0].arguments;
        assert_eq!(arguments.len(), 3);
        assert_eq!(arguments[0].servers, ["redis-7.0.15", "valkey-9.1.2"]);
        assert_eq!(arguments[1].servers, ["sentinel-7.0.15"]);
        assert_eq!(arguments[1].ty, crate::spec::ArgType::String);
        assert_eq!(arguments[2].name, "m");
        assert_eq!(
            result.report.multi_shape_arguments,
            [("DEMO".to_string(), "n".to_string(), 2)]
        );
        assert!(result.commands[0].per_server.is_empty());
    }

    #[test]
    fn a_field_the_server_does_report_is_a_real_difference() {
        let valkey = server(
            "valkey-9.1.2",
            json!([{"name": "a", "type": "string", "since": "2.0.0"}]),
            "Demo.",
        );
        let redis = server(
            "redis-7.0.15",
            json!([{"name": "a", "type": "string"}, {"name": "b", "type": "string", "since": "1.0.0"}]),
            "Demo.",
        );
        let arguments = &import(&[valkey, redis]).unwrap().commands[0].arguments;
        assert_eq!(arguments.len(), 3, "{arguments:?}");
        assert_eq!(arguments[0].since.as_deref(), Some("2.0.0"));
        assert_eq!(arguments[1].since, None);
    }

    #[test]
    fn repeated_names_stay_apart() {
        let redis = server(
            "redis-7.0.15",
            json!([{"name": "key", "type": "key"}, {"name": "key", "type": "key", "token": "STORE"}]),
            "Demo.",
        );
        let arguments = &import(&[redis]).unwrap().commands[0].arguments;
        assert_eq!(arguments.len(), 2);
        assert_eq!(arguments[1].token.as_deref(), Some("STORE"));
    }
}
