//! One broken sample per kind of mistake the validator catches; each message must name the
//! file and the JSON path of the bad field.

use codegen::spec::parse_file;
use codegen::validate::{validate, Problem, ProblemKind};
use serde_json::{json, Value};

/// A valid GETDEMO: one key, one block with a pure token, a reply with a variant.
fn sample() -> Value {
    json!({
        "name": "GETDEMO",
        "arity": -2,
        "flags": ["readonly"],
        "key_specs": [{
            "flags": ["RO", "access"],
            "begin_search": {"type": "index", "spec": {"index": 1}},
            "find_keys": {"type": "range", "spec": {"lastkey": 0, "keystep": 1, "limit": 0}}
        }],
        "servers": ["hand-written"],
        "arguments": [
            {"name": "key", "type": "key", "key_spec_index": 0},
            {"name": "options", "type": "block", "optional": true, "arguments": [
                {"name": "withvalues", "type": "pure-token", "token": "WITHVALUES"},
                {"name": "count", "type": "integer", "token": "COUNT", "optional": true}
            ]}
        ],
        "reply": {
            "type": "bulk?",
            "variants": [{"when": ["options.withvalues"], "type": "array<bulk>"}]
        }
    })
}

fn problems_in(file: &str, value: &Value) -> Vec<Problem> {
    let command = parse_file(file, &value.to_string()).expect("sample parses");
    validate(&[command])
}

/// Asserts exactly one problem of `kind`, shown as `file: path: …message…`.
fn assert_one(problems: &[Problem], kind: ProblemKind, file: &str, path: &str, message: &str) {
    let matching: Vec<&Problem> = problems.iter().filter(|p| p.kind == kind).collect();
    assert_eq!(
        matching.len(),
        1,
        "expected one {kind:?} problem: {problems:#?}"
    );
    let shown = matching[0].to_string();
    let prefix = format!("{file}: {path}: ");
    assert!(
        shown.starts_with(&prefix),
        "{shown:?} should start with {prefix:?}"
    );
    assert!(
        shown.contains(message),
        "{shown:?} should mention {message:?}"
    );
    assert_eq!(
        problems.len(),
        1,
        "only that problem expected: {problems:#?}"
    );
}

#[test]
fn the_sample_is_valid() {
    let problems = problems_in("commands/getdemo.json", &sample());
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn unknown_argument_type() {
    let mut value = sample();
    value["arguments"][1]["arguments"][1]["type"] = json!("integr");
    let err = parse_file("commands/getdemo.json", &value.to_string()).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"commands/getdemo.json: arguments[1].arguments[1].type: unknown argument type "integr""#
    );
}

#[test]
fn key_spec_index_pointing_at_no_key_spec() {
    let mut value = sample();
    value["arguments"][0]["key_spec_index"] = json!(1);
    let problems = problems_in("commands/getdemo.json", &value);
    assert_one(
        &problems,
        ProblemKind::KeySpecIndex,
        "commands/getdemo.json",
        "arguments[0].key_spec_index",
        "1 points at no key spec (hand-written has 1)",
    );
}

#[test]
fn key_spec_index_on_an_argument_that_is_no_key() {
    let mut value = sample();
    value["arguments"][1]["arguments"][1]["key_spec_index"] = json!(0);
    let problems = problems_in("commands/getdemo.json", &value);
    assert_one(
        &problems,
        ProblemKind::KeySpecIndex,
        "commands/getdemo.json",
        "arguments[1].arguments[1].key_spec_index",
        "set on \"count\" of type integer",
    );
}

#[test]
fn block_without_arguments() {
    let mut value = sample();
    value["arguments"][1]["arguments"] = json!([]);
    value["reply"]["variants"] = json!([]);
    let problems = problems_in("commands/getdemo.json", &value);
    assert_one(
        &problems,
        ProblemKind::Nesting,
        "commands/getdemo.json",
        "arguments[1].arguments",
        "block \"options\" has no nested arguments",
    );
}

#[test]
fn multiple_token_without_token() {
    let mut value = sample();
    value["arguments"][0]["multiple"] = json!(true);
    value["arguments"][0]["multiple_token"] = json!(true);
    let problems = problems_in("commands/getdemo.json", &value);
    assert_one(
        &problems,
        ProblemKind::MultipleTokenWithoutToken,
        "commands/getdemo.json",
        "arguments[0].multiple_token",
        "repeats a token but has none",
    );
}

#[test]
fn pure_token_without_token() {
    let mut value = sample();
    value["arguments"][1]["arguments"][0]
        .as_object_mut()
        .unwrap()
        .remove("token");
    let problems = problems_in("commands/getdemo.json", &value);
    assert_one(
        &problems,
        ProblemKind::PureTokenWithoutToken,
        "commands/getdemo.json",
        "arguments[1].arguments[0].token",
        "pure-token \"withvalues\" has no token",
    );
}

#[test]
fn missing_reply() {
    let mut value = sample();
    value.as_object_mut().unwrap().remove("reply");
    let problems = problems_in("commands/getdemo.json", &value);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0].kind, ProblemKind::MissingReply);
    assert_eq!(
        problems[0].to_string(),
        "commands/getdemo.json: reply: missing"
    );
}

#[test]
fn reply_types_that_do_not_parse() {
    let mut value = sample();
    value["reply"]["type"] = json!("bulk??");
    let problems = problems_in("commands/getdemo.json", &value);
    assert_one(
        &problems,
        ProblemKind::ReplyType,
        "commands/getdemo.json",
        "reply.type",
        "bad reply type `bulk??`",
    );

    let mut value = sample();
    value["reply"]["resp2"] = json!("array<blob>");
    let problems = problems_in("commands/getdemo.json", &value);
    assert_one(
        &problems,
        ProblemKind::ReplyType,
        "commands/getdemo.json",
        "reply.resp2",
        "unknown type `blob`",
    );

    let mut value = sample();
    value["reply"]["variants"][0]["type"] = json!("map<bulk>");
    let problems = problems_in("commands/getdemo.json", &value);
    assert_one(
        &problems,
        ProblemKind::ReplyType,
        "commands/getdemo.json",
        "reply.variants[0].type",
        "map takes two types",
    );
}

#[test]
fn variant_path_naming_no_argument() {
    let mut value = sample();
    value["reply"]["variants"][0]["when"] = json!(["withvalues"]);
    let problems = problems_in("commands/getdemo.json", &value);
    assert_one(
        &problems,
        ProblemKind::VariantPath,
        "commands/getdemo.json",
        "reply.variants[0].when[0]",
        "\"withvalues\" names no argument",
    );
}

#[test]
fn rust_name_not_snake_case() {
    let mut value = sample();
    value["rust"] = json!({"name": "getDemo"});
    let problems = problems_in("commands/getdemo.json", &value);
    assert_one(
        &problems,
        ProblemKind::RustName,
        "commands/getdemo.json",
        "rust.name",
        "\"getDemo\" is not a snake_case identifier",
    );
}

#[test]
fn keyword_method_name_without_override() {
    let mut value = sample();
    value["name"] = json!("TYPE");
    let problems = problems_in("commands/type.json", &value);
    assert_one(
        &problems,
        ProblemKind::RustName,
        "commands/type.json",
        "rust.name",
        "plain method name \"type\" is a Rust keyword",
    );
    value["rust"] = json!({"name": "key_type"});
    assert!(problems_in("commands/type.json", &value).is_empty());
}

#[test]
fn blocking_timeout_missing_on_a_blocking_command() {
    let mut value = sample();
    value["flags"] = json!(["readonly", "blocking"]);
    let problems = problems_in("commands/getdemo.json", &value);
    assert_one(
        &problems,
        ProblemKind::BlockingTimeout,
        "commands/getdemo.json",
        "rust.blocking_timeout",
        "missing on a command with the blocking flag",
    );
}

#[test]
fn blocking_timeout_on_a_command_that_does_not_block() {
    let mut value = sample();
    value["rust"] = json!({"blocking_timeout": {"argument": "options.count", "unit": "seconds"}});
    let problems = problems_in("commands/getdemo.json", &value);
    assert_one(
        &problems,
        ProblemKind::BlockingTimeout,
        "commands/getdemo.json",
        "rust.blocking_timeout",
        "set on a command without the blocking flag",
    );
}

#[test]
fn blocking_timeout_naming_no_argument() {
    let mut value = sample();
    value["per_server"] = json!({"hand-written": {"flags": ["readonly", "blocking"]}});
    value["rust"] =
        json!({"blocking_timeout": {"argument": "options.timeout", "unit": "milliseconds"}});
    let problems = problems_in("commands/getdemo.json", &value);
    assert_one(
        &problems,
        ProblemKind::BlockingTimeout,
        "commands/getdemo.json",
        "rust.blocking_timeout.argument",
        "\"options.timeout\" names no argument",
    );
    value["rust"]["blocking_timeout"]["argument"] = json!("options.count");
    assert!(problems_in("commands/getdemo.json", &value).is_empty());
}

#[test]
fn file_name_not_matching_name() {
    let problems = problems_in("commands/get-demo.json", &sample());
    assert_one(
        &problems,
        ProblemKind::FileName,
        "commands/get-demo.json",
        "name",
        "\"GETDEMO\" belongs in getdemo.json, not get-demo.json",
    );
}

#[test]
fn duplicate_method_names_across_commands() {
    let mut sub = sample();
    sub["name"] = json!("CLIENT KILL");
    sub["container"] = json!("CLIENT");
    let mut dashed = sample();
    dashed["name"] = json!("CLIENT-KILL");
    let parse = |file: &str, value: &Value| parse_file(file, &value.to_string()).unwrap();
    let commands = vec![
        parse("commands/client-kill.json", &sub),
        parse("commands/client-kill.json", &dashed),
    ];
    let problems = validate(&commands);
    assert_eq!(problems.len(), 2, "{problems:#?}");
    for problem in &problems {
        assert_eq!(problem.kind, ProblemKind::DuplicateMethod);
        assert!(
            problem
                .to_string()
                .starts_with("commands/client-kill.json: name: method name `client_kill` is shared by CLIENT KILL, CLIENT-KILL"),
            "{problem}"
        );
    }
    dashed["rust"] = json!({"name": "client_kill_dashed"});
    let commands = vec![
        parse("commands/client-kill.json", &sub),
        parse("commands/client-kill.json", &dashed),
    ];
    assert!(validate(&commands).is_empty());
}

#[test]
fn servers_outside_the_parent() {
    let mut value = sample();
    value["arguments"][1]["arguments"][1]["servers"] = json!(["valkey-9.1.2"]);
    let problems = problems_in("commands/getdemo.json", &value);
    assert_one(
        &problems,
        ProblemKind::Servers,
        "commands/getdemo.json",
        "arguments[1].arguments[1].servers",
        "\"valkey-9.1.2\" is not among its parent's servers",
    );

    let mut value = sample();
    value["per_server"] = json!({"redis-7.0.15": {"arity": 3}});
    let problems = problems_in("commands/getdemo.json", &value);
    assert_one(
        &problems,
        ProblemKind::Servers,
        "commands/getdemo.json",
        "per_server.redis-7.0.15",
        "not in the command's servers",
    );
}

#[test]
fn subcommand_without_its_container() {
    let mut value = sample();
    value["name"] = json!("GETDEMO SUB");
    let problems = problems_in("commands/getdemo-sub.json", &value);
    assert_one(
        &problems,
        ProblemKind::Identity,
        "commands/getdemo-sub.json",
        "container",
        "does not match name \"GETDEMO SUB\"",
    );
}

#[test]
fn cluster_special_missing_where_a_tip_says_special() {
    let mut v = sample();
    v["tips"] = json!(["request_policy:all_shards", "response_policy:special"]);
    let problems = problems_in("commands/getdemo.json", &v);
    assert_one(
        &problems,
        ProblemKind::Routing,
        "commands/getdemo.json",
        "rust.cluster_special",
        "missing, and a tip says `special`",
    );
}

#[test]
fn cluster_special_naming_no_handler() {
    let mut v = sample();
    v["tips"] = json!(["request_policy:special"]);
    v["rust"] = json!({"cluster_special": "teleport"});
    let problems = problems_in("commands/getdemo.json", &v);
    assert_one(
        &problems,
        ProblemKind::Routing,
        "commands/getdemo.json",
        "rust.cluster_special",
        "\"teleport\" names no cluster handler",
    );
}

#[test]
fn cluster_special_without_a_special_tip() {
    let mut v = sample();
    v["rust"] = json!({"cluster_special": "scan"});
    let problems = problems_in("commands/getdemo.json", &v);
    assert_one(
        &problems,
        ProblemKind::Routing,
        "commands/getdemo.json",
        "rust.cluster_special",
        "no request_policy or response_policy tip says `special`",
    );
}

#[test]
fn unknown_policy_tip() {
    let mut v = sample();
    v["tips"] = json!(["request_policy:everywhere"]);
    let problems = problems_in("commands/getdemo.json", &v);
    assert_one(
        &problems,
        ProblemKind::Routing,
        "commands/getdemo.json",
        "tips",
        "unknown request policy `everywhere`",
    );
}

#[test]
fn key_specs_placed_differently_on_another_server() {
    let mut v = sample();
    v["servers"] = json!(["redis-7.0.15", "valkey-9.1.2"]);
    let mut theirs = v["key_specs"].clone();
    theirs[0]["begin_search"]["spec"]["index"] = json!(2);
    v["per_server"] = json!({"redis-7.0.15": {"key_specs": theirs}});
    let problems = problems_in("commands/getdemo.json", &v);
    assert_one(
        &problems,
        ProblemKind::Routing,
        "commands/getdemo.json",
        "key_specs",
        "per_server.redis-7.0.15.key_specs",
    );
}

#[test]
fn unknown_key_spec_that_the_arguments_cannot_fill() {
    let mut v = sample();
    v["key_specs"][0]["begin_search"] = json!({"type": "unknown", "spec": {}});
    v["arguments"][0]["token"] = Value::Null;
    let problems = problems_in("commands/getdemo.json", &v);
    assert_one(
        &problems,
        ProblemKind::Routing,
        "commands/getdemo.json",
        "key_specs",
        "key_specs[0]: unknown or incomplete",
    );
}

/// The real spec names a known handler on every command whose tips say `special`, and only there.
#[test]
fn the_spec_names_a_handler_for_every_special_command() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../commands");
    let commands = codegen::spec::load_dir(&dir).expect("the spec loads");
    let mut special = 0;
    for command in &commands {
        let policies = codegen::routing::policies(command).expect("policies parse");
        let handler = codegen::routing::special(command);
        assert_eq!(policies.is_special(), handler.is_some(), "{}", command.name);
        if let Some(handler) = handler {
            assert!(codegen::routing::SPECIAL_HANDLERS.contains(&handler));
            special += 1;
        }
    }
    assert_eq!(special, 13);
}
