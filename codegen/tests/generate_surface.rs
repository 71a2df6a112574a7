//! The command surface the generator writes: one struct per callable command, type state from
//! reply variants, derived counts, the first-ranked server's argument tree, constructors per
//! reply-changing choice, and errors naming the spec file.

use std::path::Path;

use codegen::generate::{generate, GeneratedFile};
use codegen::spec::{load_dir, parse_file, Command};

/// Parses fixture commands (file name, JSON).
fn commands(files: &[(&str, &str)]) -> Vec<Command> {
    files
        .iter()
        .map(|(file, text)| parse_file(file, text).unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

/// The generated source of `name`, with whitespace removed so token spacing does not matter.
fn source(files: &[GeneratedFile], name: &str) -> String {
    let file = files
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("{name} is generated: {:?}", names(files)));
    squash(&file.source)
}

fn names(files: &[GeneratedFile]) -> Vec<&str> {
    files.iter().map(|f| f.name.as_str()).collect()
}

fn squash(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

fn assert_has(haystack: &str, needle: &str) {
    let needle = squash(needle);
    assert!(
        haystack.contains(&needle),
        "missing `{needle}` in generated code:\n{}",
        &haystack[..haystack.len().min(4000)]
    );
}

const SET: &str = r#"{
  "name": "SET", "group": "string", "arity": -3, "servers": ["redis-7.0.15", "valkey-9.1.2"],
  "arguments": [
    {"name": "key", "type": "key", "key_spec_index": 0},
    {"name": "value", "type": "string"},
    {"name": "condition", "type": "oneof", "optional": true, "servers": ["valkey-9.1.2"], "arguments": [
      {"name": "nx", "type": "pure-token", "token": "NX"},
      {"name": "xx", "type": "pure-token", "token": "XX"},
      {"name": "comparison-value", "type": "string", "token": "IFEQ"}]},
    {"name": "condition", "type": "oneof", "optional": true, "servers": ["redis-7.0.15"], "arguments": [
      {"name": "nx", "type": "pure-token", "token": "NX"},
      {"name": "xx", "type": "pure-token", "token": "XX"}]},
    {"name": "get", "type": "pure-token", "token": "GET", "optional": true},
    {"name": "expiration", "type": "oneof", "optional": true, "arguments": [
      {"name": "seconds", "type": "integer", "token": "EX"},
      {"name": "keepttl", "type": "pure-token", "token": "KEEPTTL"}]}
  ],
  "key_specs": [{"flags": ["RW"], "begin_search": {"type": "index", "spec": {"index": 1}},
                 "find_keys": {"type": "range", "spec": {"lastkey": 0, "keystep": 1, "limit": 0}}}],
  "reply": {"type": "ok", "variants": [
    {"when": ["get"], "type": "bulk?"},
    {"when": ["condition"], "type": "ok?"}]}
}"#;

#[test]
fn reply_variants_become_type_state() {
    let files = generate(&commands(&[("commands/set.json", SET)])).unwrap();
    let string = source(&files, "cmd/string.rs");
    assert_has(
        &string,
        "pub struct Set<K, V, const GET: bool = false, const CONDITION: bool = false>",
    );
    // The first variant whose `when` holds decides; GET wins over the condition.
    for (params, output) in [
        ("false, false", "()"),
        ("true, false", "Option<Bytes>"),
        ("false, true", "Option<()>"),
        ("true, true", "Option<Bytes>"),
    ] {
        assert_has(
            &string,
            &format!("Command for Set<K, V, {params}> {{ type Output = {output};"),
        );
    }
    // Setters: a flag, per-choice setters named after tokens, and the enum setter.
    assert_has(&string, "pub fn get(self) -> Set<K, V, true, CONDITION>");
    assert_has(&string, "pub fn nx(self) -> Set<K, V, GET, true>");
    assert_has(&string, "pub fn ifeq(self, comparison_value: impl ToArgs)");
    assert_has(&string, "pub fn condition(self, condition: SetCondition)");
    assert_has(
        &string,
        "pub fn ex(mut self, seconds: impl Seconds) -> Self",
    );
    // Valkey's shape of `condition` (with IFEQ) is the one generated.
    assert_has(&string, "Ifeq(Arg)");
    // Required arguments are the caller's own types, written straight out.
    assert_has(&string, "out.arg(b\"SET\"); self.key.write_args(out);");
    // Short paths, imported once per file.
    assert_has(&string, "use bytes::Bytes;");
    assert_has(&string, "use crate::command::{Arg, Command};");
    let commands = source(&files, "commands.rs");
    assert_has(
        &commands,
        "fn set<K: ToArgs, V: ToArgs>(self, key: K, value: V) -> Self::Output<()> { self.run(cmd::Set::new(key, value)) }",
    );
    let golden = source(&files, "golden_tests.rs");
    assert_has(&golden, "fn set()");
    assert_has(&golden, "[\"SET\", \"key1\", \"value2\"]");
}

#[test]
fn counts_are_derived_from_the_next_list() {
    let eval = r#"{
      "name": "EVAL", "group": "scripting", "arity": -3, "servers": ["valkey-9.1.2"],
      "arguments": [
        {"name": "script", "type": "string"},
        {"name": "numkeys", "type": "integer"},
        {"name": "key", "type": "key", "optional": true, "multiple": true},
        {"name": "arg", "type": "string", "optional": true, "multiple": true}],
      "reply": {"type": "any"}
    }"#;
    let zadd = r#"{
      "name": "ZADD", "group": "sorted-set", "arity": -4, "servers": ["valkey-9.1.2"],
      "arguments": [
        {"name": "key", "type": "key"},
        {"name": "data", "type": "block", "multiple": true, "arguments": [
          {"name": "score", "type": "double"}, {"name": "member", "type": "string"}]}],
      "reply": {"type": "integer"}
    }"#;
    let files = generate(&commands(&[
        ("commands/eval.json", eval),
        ("commands/zadd.json", zadd),
    ]))
    .unwrap();
    let scripting = source(&files, "cmd/scripting.rs");
    assert_has(&scripting, "pub fn new(script: S) -> Self");
    assert_has(
        &scripting,
        "out.uint(self.key.iter().map(ToArgs::num_args).sum::<usize>() as u64);",
    );
    let zset = source(&files, "cmd/sorted_set.rs");
    assert_has(
        &zset,
        "pub fn new(key: K, data: impl IntoIterator<Item = (f64, M)>) -> Self",
    );
    // An empty required list is refused before sending.
    assert_has(
        &zset,
        "if self.data.is_empty() { return Err(empty_argument(\"ZADD\", \"data\")); }",
    );
}

#[test]
fn a_reply_changing_required_choice_gets_a_constructor_per_choice() {
    let replicaof = r#"{
      "name": "REPLICAOF", "group": "server", "arity": 3, "servers": ["valkey-9.1.2"],
      "arguments": [{"name": "args", "type": "oneof", "arguments": [
        {"name": "host-port", "type": "block", "arguments": [
          {"name": "host", "type": "string"}, {"name": "port", "type": "integer"}]},
        {"name": "no-one", "type": "block", "arguments": [
          {"name": "no", "type": "pure-token", "token": "NO"},
          {"name": "one", "type": "pure-token", "token": "ONE"}]}]}],
      "reply": {"type": "status", "variants": [{"when": ["args.no-one"], "type": "ok"}]}
    }"#;
    let files = generate(&commands(&[("commands/replicaof.json", replicaof)])).unwrap();
    let server = source(&files, "cmd/server.rs");
    assert_has(
        &server,
        "pub fn host_port(host: impl ToArgs, port: i64) -> Replicaof<false>",
    );
    assert_has(&server, "pub fn no_one() -> Replicaof<true>");
    assert_has(
        &server,
        "Self::NoOne => { out.arg(b\"NO\"); out.arg(b\"ONE\"); }",
    );
    let commands = source(&files, "commands.rs");
    assert_has(&commands, "fn replicaof_no_one(self) -> Self::Output<()>");
    assert_has(
        &commands,
        "fn replicaof_host_port(self, host: impl ToArgs, port: i64) -> Self::Output<String>",
    );
}

#[test]
fn bare_containers_have_no_callable_form() {
    let client = r#"{"name": "CLIENT", "group": "connection", "arity": -2, "servers": ["valkey-9.1.2"],
                     "reply": {"type": "any"}}"#;
    let id = r#"{"name": "CLIENT ID", "container": "CLIENT", "group": "connection", "arity": 2,
                 "servers": ["valkey-9.1.2"], "reply": {"type": "integer"}}"#;
    let files = generate(&commands(&[
        ("commands/client.json", client),
        ("commands/client-id.json", id),
    ]))
    .unwrap();
    let connection = source(&files, "cmd/connection.rs");
    assert_has(&connection, "pub struct ClientId {}");
    assert_has(&connection, "out.arg(b\"CLIENT\"); out.arg(b\"ID\");");
    assert!(
        !connection.contains("pubstructClient{"),
        "bare CLIENT is not callable"
    );
}

#[test]
fn unsupported_reply_dependencies_name_the_file() {
    let bad = r#"{
      "name": "XX", "group": "generic", "arity": -2, "servers": ["valkey-9.1.2"],
      "arguments": [{"name": "items", "type": "block", "multiple": true, "arguments": [
        {"name": "a", "type": "string"}, {"name": "flag", "type": "pure-token", "token": "F", "optional": true}]}],
      "reply": {"type": "ok", "variants": [{"when": ["items.flag"], "type": "integer"}]}
    }"#;
    let err = generate(&commands(&[("commands/xx.json", bad)])).unwrap_err();
    assert_eq!(err.file, "commands/xx.json");
    assert!(err.message.contains("items"), "{err}");
}

#[test]
fn the_real_spec_generates_every_callable_command() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../commands");
    let commands = load_dir(&dir).expect("the spec loads");
    let files = generate(&commands).expect("the spec generates");
    let all: String = files
        .iter()
        .filter(|f| f.name.starts_with("cmd/"))
        .map(|f| f.source.as_str())
        .collect();
    let commands_trait = source(&files, "commands.rs");
    let mut callable = 0;
    for command in &commands {
        let container = commands
            .iter()
            .any(|c| c.container.as_deref() == Some(command.name.as_str()));
        if container && command.arity.abs() > 1 {
            continue;
        }
        callable += 1;
        let name = format!("const NAME: &'static str = \"{}\";", command.name);
        assert!(
            squash(&all).contains(&squash(&name)),
            "{} has no Command impl",
            command.name
        );
        let method = command.method_name();
        assert!(
            commands_trait.contains(&format!("fn{method}")),
            "{} has no short form `{method}`",
            command.name
        );
    }
    assert!(callable > 380, "only {callable} callable commands");
    let golden = source(&files, "golden_tests.rs");
    assert_eq!(golden.matches("#[test]").count(), callable);
}
