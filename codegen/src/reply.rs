//! The reply type language: how `commands/*.json` states what a command returns.
//!
//! A reply type is a small expression such as `bulk?`, `array<bulk>`, `map<text, integer>` or
//! `pairs<bulk, double>`. It names the RESP3 shape; the RESP2 shape follows from fixed rules
//! (see `commands/README.md`) unless the spec gives an explicit `resp2` type.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A parsed reply type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplyType {
    /// The simple string `OK`.
    Ok,
    /// Any simple string (`PONG`, `string`, …).
    Status,
    /// A 64-bit integer.
    Integer,
    /// A RESP3 double; a bulk string holding a float in RESP2.
    Double,
    /// A bulk string holding a float in both protocols (INCRBYFLOAT, GEODIST).
    Float,
    /// An integer 0 or 1 (or a RESP3 boolean), read as false or true.
    Bool,
    /// A bulk string of arbitrary bytes.
    Bulk,
    /// A string meant as text: bulk, simple or verbatim.
    Text,
    /// Only null.
    Nil,
    /// Any value at all; used where a reply is genuinely heterogeneous (EVAL, COMMAND INFO).
    Any,
    /// The inner type or null (written `T?`).
    Optional(Box<ReplyType>),
    /// An array of elements of one type.
    Array(Box<ReplyType>),
    /// A RESP3 set; an array in RESP2.
    Set(Box<ReplyType>),
    /// A RESP3 map; a flat array of alternating keys and values in RESP2.
    Map(Box<ReplyType>, Box<ReplyType>),
    /// A RESP3 array of two-element arrays; a flat array of alternating items in RESP2.
    Pairs(Box<ReplyType>, Box<ReplyType>),
    /// A flat array of alternating keys and values in both protocols (PUBSUB NUMSUB).
    Flat(Box<ReplyType>, Box<ReplyType>),
    /// A fixed-length array whose elements have these types, in order.
    Tuple(Vec<ReplyType>),
    /// Any one of these types (ROLE answers differently per role).
    OneOf(Vec<ReplyType>),
    /// A RESP3 push frame with these elements (SUBSCRIBE's confirmations); an array in RESP2.
    Push(Vec<ReplyType>),
}

/// Why a reply type expression did not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("bad reply type `{input}` at byte {offset}: {message}")]
pub struct ReplyTypeError {
    /// The whole expression.
    pub input: String,
    /// Where the parser stopped.
    pub offset: usize,
    /// What it expected.
    pub message: String,
}

impl ReplyType {
    /// Parses an expression such as `array<tuple<bulk, double>>?`.
    pub fn parse(input: &str) -> Result<ReplyType, ReplyTypeError> {
        let mut parser = TypeParser { input, pos: 0 };
        let ty = parser.parse_type()?;
        parser.skip_spaces();
        if parser.pos != input.len() {
            return Err(parser.error("unexpected text after the type"));
        }
        Ok(ty)
    }

    /// True when this type admits null.
    pub fn is_optional(&self) -> bool {
        matches!(
            self,
            ReplyType::Optional(_) | ReplyType::Nil | ReplyType::Any
        )
    }
}

struct TypeParser<'a> {
    input: &'a str,
    pos: usize,
}

impl TypeParser<'_> {
    fn error(&self, message: &str) -> ReplyTypeError {
        ReplyTypeError {
            input: self.input.to_string(),
            offset: self.pos,
            message: message.to_string(),
        }
    }

    fn skip_spaces(&mut self) {
        while self.input[self.pos..].starts_with(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_spaces();
        if self.input[self.pos..].starts_with(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char) -> Result<(), ReplyTypeError> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.error(&format!("expected `{c}`")))
        }
    }

    fn word(&mut self) -> &str {
        self.skip_spaces();
        let start = self.pos;
        let rest = &self.input[start..];
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        self.pos += len;
        &self.input[start..start + len]
    }

    fn parse_type(&mut self) -> Result<ReplyType, ReplyTypeError> {
        let start = self.pos;
        let name = self.word().to_string();
        let ty = match name.as_str() {
            "ok" => ReplyType::Ok,
            "status" => ReplyType::Status,
            "integer" => ReplyType::Integer,
            "double" => ReplyType::Double,
            "float" => ReplyType::Float,
            "bool" => ReplyType::Bool,
            "bulk" => ReplyType::Bulk,
            "text" => ReplyType::Text,
            "nil" => ReplyType::Nil,
            "any" => ReplyType::Any,
            "array" | "set" => {
                let mut args = self.parse_params()?;
                if args.len() != 1 {
                    return Err(self.error(&format!("{name} takes one type")));
                }
                let inner = Box::new(args.remove(0));
                if name == "array" {
                    ReplyType::Array(inner)
                } else {
                    ReplyType::Set(inner)
                }
            }
            "map" | "pairs" | "flat" => {
                let mut args = self.parse_params()?;
                if args.len() != 2 {
                    return Err(self.error(&format!("{name} takes two types")));
                }
                let value = Box::new(args.pop().expect("two params"));
                let key = Box::new(args.pop().expect("two params"));
                match name.as_str() {
                    "map" => ReplyType::Map(key, value),
                    "pairs" => ReplyType::Pairs(key, value),
                    _ => ReplyType::Flat(key, value),
                }
            }
            "tuple" => ReplyType::Tuple(self.parse_params()?),
            "push" => ReplyType::Push(self.parse_params()?),
            "oneof" => {
                let args = self.parse_params()?;
                if args.len() < 2 {
                    return Err(self.error("oneof takes at least two types"));
                }
                ReplyType::OneOf(args)
            }
            "" => return Err(self.error("expected a type name")),
            other => {
                self.pos = start;
                self.skip_spaces();
                return Err(self.error(&format!("unknown type `{other}`")));
            }
        };
        if self.eat('?') {
            if ty.is_optional() {
                return Err(self.error("type already admits null"));
            }
            Ok(ReplyType::Optional(Box::new(ty)))
        } else {
            Ok(ty)
        }
    }

    fn parse_params(&mut self) -> Result<Vec<ReplyType>, ReplyTypeError> {
        self.expect('<')?;
        let mut params = vec![self.parse_type()?];
        while self.eat(',') {
            params.push(self.parse_type()?);
        }
        self.expect('>')?;
        Ok(params)
    }
}

impl fmt::Display for ReplyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn list(f: &mut fmt::Formatter<'_>, name: &str, items: &[&ReplyType]) -> fmt::Result {
            write!(f, "{name}<")?;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{item}")?;
            }
            f.write_str(">")
        }
        match self {
            ReplyType::Ok => f.write_str("ok"),
            ReplyType::Status => f.write_str("status"),
            ReplyType::Integer => f.write_str("integer"),
            ReplyType::Double => f.write_str("double"),
            ReplyType::Float => f.write_str("float"),
            ReplyType::Bool => f.write_str("bool"),
            ReplyType::Bulk => f.write_str("bulk"),
            ReplyType::Text => f.write_str("text"),
            ReplyType::Nil => f.write_str("nil"),
            ReplyType::Any => f.write_str("any"),
            ReplyType::Optional(inner) => write!(f, "{inner}?"),
            ReplyType::Array(inner) => list(f, "array", &[inner]),
            ReplyType::Set(inner) => list(f, "set", &[inner]),
            ReplyType::Map(k, v) => list(f, "map", &[k, v]),
            ReplyType::Pairs(k, v) => list(f, "pairs", &[k, v]),
            ReplyType::Flat(k, v) => list(f, "flat", &[k, v]),
            ReplyType::Tuple(items) => list(f, "tuple", &items.iter().collect::<Vec<_>>()),
            ReplyType::OneOf(items) => list(f, "oneof", &items.iter().collect::<Vec<_>>()),
            ReplyType::Push(items) => list(f, "push", &items.iter().collect::<Vec<_>>()),
        }
    }
}

/// The project-owned `reply` field of a command: its reply type, how RESP2 differs when the
/// fixed rules do not say, the variants chosen by arguments, and the samples that verify it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reply {
    /// The reply type (RESP3 shape) when no variant applies.
    #[serde(rename = "type")]
    pub ty: String,
    /// The RESP2 shape, only when the fixed RESP2 rules do not derive it from `type`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resp2: Option<String>,
    /// A short explanation for readers, when the shape needs one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Invocations that produce this shape, run against real servers by the reply tests.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub samples: Vec<Sample>,
    /// Why no sample can produce this shape on the test servers, and how it was checked instead;
    /// the reply tests list every such shape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsampled: Option<String>,
    /// Reply shapes chosen by arguments, tried in order; the first whose `when` holds applies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<Variant>,
}

/// A reply shape that applies when some arguments are given (SET … GET, ZRANGE … WITHSCORES).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    /// Argument paths that must all be given: `get`, `condition.nx`, `options.withvalues`.
    pub when: Vec<String>,
    /// The reply type (RESP3 shape) under this variant.
    #[serde(rename = "type")]
    pub ty: String,
    /// The RESP2 shape, only when the fixed rules do not derive it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resp2: Option<String>,
    /// A short explanation for readers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Invocations that produce this shape.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub samples: Vec<Sample>,
    /// Why no sample can produce this shape, and how it was checked instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsampled: Option<String>,
}

/// One invocation whose reply must match the type it is listed under, in RESP2 and RESP3.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sample {
    /// Commands run first on the same connection; each must succeed. An argument of the sample
    /// written `{setup-reply:N}` stands for the reply of setup command N (a binary dump, say).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub setup: Vec<Vec<String>>,
    /// Commands sent after `setup` on a second connection without waiting for their replies, so
    /// the sample can act on something busy (SCRIPT KILL needs a running script).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub background: Vec<Vec<String>>,
    /// The command and its arguments.
    pub args: Vec<String>,
    /// Only these servers (`redis-7.0.15`, `valkey-9.1.2`, `sentinel-7.0.15`); default: every
    /// server of the sample's mode that knows the command.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub servers: Vec<String>,
    /// Where it runs: `standalone` (default), `sentinel`, `cluster` (a one-node cluster), or
    /// `isolated` (a throwaway server of its own, for SHUTDOWN and the like).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// Extra config lines for the sample's own server (isolated mode only); `{files}` stands for
    /// the directory holding `files`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub config: Vec<String>,
    /// Files (name → content) written before the sample's own server starts (isolated mode).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub files: std::collections::BTreeMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_round_trip() {
        for text in [
            "ok",
            "bulk?",
            "array<bulk?>",
            "pairs<bulk, double>",
            "flat<bulk, integer>",
            "map<text, array<tuple<bulk, integer>>>?",
            "oneof<tuple<text, integer>, tuple<text, array<text>>>",
            "tuple<bulk, array<bulk>>",
            "push<text, bulk, integer>",
        ] {
            let ty = ReplyType::parse(text).unwrap();
            assert_eq!(ty.to_string(), text);
        }
    }

    #[test]
    fn rejects_bad_types_with_their_position() {
        let err = ReplyType::parse("array<blob>").unwrap_err();
        assert!(err.message.contains("unknown type `blob`"), "{err}");
        assert_eq!(err.offset, 6);
        assert!(ReplyType::parse("map<bulk>").is_err());
        assert!(ReplyType::parse("bulk??").is_err());
        assert!(ReplyType::parse("any?").is_err());
        assert!(ReplyType::parse("array<bulk").is_err());
        assert!(ReplyType::parse("bulk bulk").is_err());
        assert!(ReplyType::parse("oneof<bulk>").is_err());
    }
}
