//! Small commands of each kind, and a way to run the emitter on one, for the tests beside the
//! emitter's pieces.

use proc_macro2::{Delimiter, TokenStream, TokenTree};

use super::{ident, Bind, Binds, Emitter};
use crate::generate::layout::Member;
use crate::generate::{layout, model};
use crate::spec::parse_file;

/// Runs `f` on the emitter of the command in `json`.
pub(super) fn with_emitter<R>(json: &str, f: impl FnOnce(&Emitter) -> R) -> R {
    let command = parse_file("commands/fixture.json", json).unwrap_or_else(|e| panic!("{e}"));
    let model = model::build(&command).unwrap_or_else(|e| panic!("{e}"));
    let layout = layout::layout(&model).unwrap_or_else(|e| panic!("{e}"));
    f(&Emitter { l: &layout })
}

/// The command struct's member of this name.
pub(super) fn member<'e>(e: &'e Emitter, name: &str) -> &'e Member {
    let members = &e.l.root.members;
    members
        .iter()
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("no member {name}"))
}

/// The command struct's members bound as its fields, as its `ToArgs` and check bodies see them.
pub(super) fn field_binds(e: &Emitter) -> Binds {
    let members = &e.l.root.members;
    members
        .iter()
        .map(|m| (m.node, (Bind::Field(ident(&m.name)), m.repr.clone())))
        .collect()
}

/// Asserts that generated tokens are the Rust code `expected`, spacing aside.
#[track_caller]
pub(super) fn assert_tokens(actual: &TokenStream, expected: &str) {
    let expected: TokenStream = expected.parse().expect("expected code lexes");
    assert_eq!(canonical(actual.clone()), canonical(expected));
}

/// Asserts that generated tokens contain the Rust code `part`, spacing aside.
#[track_caller]
pub(super) fn assert_contains(actual: &TokenStream, part: &str) {
    let part: TokenStream = part.parse().expect("expected code lexes");
    let (actual, part) = (canonical(actual.clone()), canonical(part));
    assert!(actual.contains(&part), "missing\n  {part}\nin\n  {actual}");
}

/// Tokens as text that does not depend on how they were spelled: one space between tokens
/// (whatever their spacing), string literals by value (a `///` comment is a raw string).
fn canonical(tokens: TokenStream) -> String {
    let mut out = Vec::new();
    for tree in tokens {
        out.push(match tree {
            TokenTree::Group(g) => {
                let (open, close) = match g.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::None => ("", ""),
                };
                format!("{open} {} {close}", canonical(g.stream()))
            }
            TokenTree::Literal(l) => match syn::parse_str::<syn::LitStr>(&l.to_string()) {
                Ok(s) => format!("{:?}", s.value()),
                Err(_) => l.to_string(),
            },
            other => other.to_string(),
        });
    }
    out.join(" ")
}

/// A required key and value, a oneof with a value choice whose summary the docs quote, a flag
/// and a oneof of timed values; GET and the condition change the reply.
pub(super) const SET: &str = r#"{
  "name": "SET", "group": "string", "arity": -3, "servers": ["valkey-9.1.2"],
  "summary": "Sets the string value of a key.", "since": "1.0.0", "complexity": "O(1)",
  "arguments": [
    {"name": "key", "type": "key"},
    {"name": "value", "type": "string"},
    {"name": "condition", "type": "oneof", "optional": true, "arguments": [
      {"name": "nx", "type": "pure-token", "token": "NX"},
      {"name": "comparison-value", "type": "string", "token": "IFEQ", "since": "8.1.0",
       "summary": "Sets the key's value only if it matches"}]},
    {"name": "get", "type": "pure-token", "token": "GET", "optional": true, "since": "6.2.0"},
    {"name": "expiration", "type": "oneof", "optional": true, "arguments": [
      {"name": "seconds", "type": "integer", "token": "EX"},
      {"name": "keepttl", "type": "pure-token", "token": "KEEPTTL"}]}
  ],
  "reply": {"type": "ok", "variants": [
    {"when": ["get"], "type": "bulk?", "note": "the old value"},
    {"when": ["condition"], "type": "ok?"}]}
}"#;

/// A block of two repeated values written member by member (`STREAMS key… id…`).
pub(super) const XREAD: &str = r#"{
  "name": "XREAD", "group": "stream", "arity": -4, "servers": ["valkey-9.1.2"],
  "arguments": [
    {"name": "count", "type": "integer", "token": "COUNT", "optional": true},
    {"name": "streams", "type": "block", "token": "STREAMS", "arguments": [
      {"name": "key", "type": "key", "multiple": true},
      {"name": "id", "type": "string", "multiple": true}]}],
  "reply": {"type": "any"}
}"#;

/// A required list of tuple blocks, which must not be empty.
pub(super) const ZADD: &str = r#"{
  "name": "ZADD", "group": "sorted-set", "arity": -4, "servers": ["valkey-9.1.2"],
  "arguments": [
    {"name": "key", "type": "key"},
    {"name": "data", "type": "block", "multiple": true, "arguments": [
      {"name": "score", "type": "double"}, {"name": "member", "type": "string"}]}],
  "reply": {"type": "integer"}
}"#;

/// A count the generator derives from the list after it.
pub(super) const EVAL: &str = r#"{
  "name": "EVAL", "group": "scripting", "arity": -3, "servers": ["valkey-9.1.2"],
  "arguments": [
    {"name": "script", "type": "string"},
    {"name": "numkeys", "type": "integer"},
    {"name": "key", "type": "key", "optional": true, "multiple": true}],
  "reply": {"type": "any"}
}"#;

/// An optional block with an optional member (a block struct with its own setters), and
/// optional lists of values and of tuple blocks.
pub(super) const GEORADIUS: &str = r#"{
  "name": "GEORADIUS", "group": "geo", "arity": -3, "servers": ["valkey-9.1.2"],
  "arguments": [
    {"name": "key", "type": "key"},
    {"name": "count-block", "type": "block", "optional": true, "arguments": [
      {"name": "count", "type": "integer", "token": "COUNT"},
      {"name": "any", "type": "pure-token", "token": "ANY", "optional": true}]},
    {"name": "member", "type": "string", "optional": true, "multiple": true},
    {"name": "pair", "type": "block", "optional": true, "multiple": true, "arguments": [
      {"name": "field", "type": "string"}, {"name": "ttl", "type": "integer"}]}],
  "reply": {"type": "integer"}
}"#;

/// A repeated optional oneof: per-choice setters append.
pub(super) const BITFIELD: &str = r#"{
  "name": "BITFIELD", "group": "bitmap", "arity": -2, "servers": ["valkey-9.1.2"],
  "arguments": [
    {"name": "key", "type": "key"},
    {"name": "operation", "type": "oneof", "optional": true, "multiple": true, "arguments": [
      {"name": "get-block", "type": "block", "token": "GET", "arguments": [
        {"name": "encoding", "type": "string"}, {"name": "offset", "type": "integer"}]},
      {"name": "increment", "type": "integer", "token": "INCRBY"}]}],
  "reply": {"type": "any"}
}"#;

/// A required oneof whose choice changes the reply: one constructor per choice.
pub(super) const REPLICAOF: &str = r#"{
  "name": "REPLICAOF", "group": "server", "arity": 3, "servers": ["valkey-9.1.2"],
  "arguments": [{"name": "args", "type": "oneof", "arguments": [
    {"name": "host-port", "type": "block", "arguments": [
      {"name": "host", "type": "string"}, {"name": "port", "type": "integer"}]},
    {"name": "no-one", "type": "block", "arguments": [
      {"name": "no", "type": "pure-token", "token": "NO"},
      {"name": "one", "type": "pure-token", "token": "ONE"}]}]}],
  "reply": {"type": "status", "variants": [{"when": ["args.no-one"], "type": "ok"}]}
}"#;

/// A required oneof taken by the short form, and a deprecation by a later-ranked server.
pub(super) const LINSERT: &str = r#"{
  "name": "LINSERT", "group": "list", "arity": 5, "servers": ["redis-7.0.15", "valkey-9.1.2"],
  "summary": "Inserts an element before or after another element in a list.",
  "per_server": {"redis-7.0.15": {"doc_flags": ["deprecated"], "deprecated_since": "6.2.0",
                                  "replaced_by": "`LMOVE`"}},
  "arguments": [
    {"name": "key", "type": "key"},
    {"name": "where", "type": "oneof", "arguments": [
      {"name": "before", "type": "pure-token", "token": "BEFORE"},
      {"name": "after", "type": "pure-token", "token": "AFTER"}]},
    {"name": "pivot", "type": "string"}],
  "reply": {"type": "integer"}
}"#;

/// A oneof with a repeated choice, which must not be empty.
pub(super) const CLIENT_KILL: &str = r#"{
  "name": "CLIENT KILL", "container": "CLIENT", "group": "connection", "arity": -3,
  "servers": ["valkey-9.1.2"],
  "arguments": [{"name": "filter", "type": "oneof", "arguments": [
    {"name": "client-id", "type": "integer", "token": "ID", "multiple": true},
    {"name": "username", "type": "string", "token": "USER"}]}],
  "reply": {"type": "integer"}
}"#;
