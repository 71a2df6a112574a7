//! Checks a reply a real server sent against the reply type the spec states for it.
//!
//! RESP3 replies are held against the type as written; RESP2 replies against the RESP2 shape the
//! fixed rules derive from it (maps and pairs flatten, sets and pushes become arrays, doubles
//! arrive as bulk strings) or against the spec's explicit `resp2` type.

use std::fmt;

use codegen::reply::ReplyType;
use redis_client::Value;

/// The protocol a reply was read in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// RESP2 (no HELLO).
    Resp2,
    /// RESP3 (after HELLO 3).
    Resp3,
}

impl Protocol {
    /// The HELLO argument for this protocol.
    pub fn number(self) -> u8 {
        match self {
            Protocol::Resp2 => 2,
            Protocol::Resp3 => 3,
        }
    }
}

/// Where a reply and its type first disagree.
#[derive(Clone, Debug, PartialEq)]
pub struct Mismatch {
    /// Element path inside the reply, like `[2][0]` or `{key "name"}`; empty at the top.
    pub path: String,
    /// The type expected there.
    pub expected: String,
    /// A short rendering of what arrived.
    pub got: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.path.is_empty() {
            "reply"
        } else {
            &self.path
        };
        write!(f, "{at}: expected {}, got {}", self.expected, self.got)
    }
}

/// Checks `value` against `ty` under the rules of `protocol`.
pub fn check(ty: &ReplyType, protocol: Protocol, value: &Value) -> Result<(), Mismatch> {
    Checker { protocol }.check(ty, value, &mut String::new())
}

struct Checker {
    protocol: Protocol,
}

impl Checker {
    fn check(&self, ty: &ReplyType, value: &Value, path: &mut String) -> Result<(), Mismatch> {
        // Attributes annotate a reply without changing its shape.
        if let Value::Attribute { value, .. } = value {
            return self.check(ty, value, path);
        }
        let resp3 = self.protocol == Protocol::Resp3;
        let ok = match (ty, value) {
            (ReplyType::Any, _) => true,
            (ReplyType::Optional(_), Value::Nil) | (ReplyType::Nil, Value::Nil) => true,
            (ReplyType::Optional(inner), _) => return self.check(inner, value, path),
            (ReplyType::Ok, Value::Simple(s)) => s.as_ref() == b"OK",
            (ReplyType::Status, Value::Simple(_)) => true,
            (ReplyType::Integer, Value::Integer(_)) => true,
            (ReplyType::Double, Value::Double(_)) => resp3,
            (ReplyType::Double, Value::Bulk(b)) => !resp3 && parses_as_float(b),
            (ReplyType::Float, Value::Bulk(b)) => parses_as_float(b),
            (ReplyType::Bool, Value::Integer(0 | 1)) => true,
            (ReplyType::Bool, Value::Boolean(_)) => resp3,
            (ReplyType::Bulk, Value::Bulk(_)) => true,
            (ReplyType::Text, Value::Bulk(b) | Value::Simple(b)) => std::str::from_utf8(b).is_ok(),
            (ReplyType::Text, Value::Verbatim { text, .. }) => {
                resp3 && std::str::from_utf8(text).is_ok()
            }
            (ReplyType::Array(inner), Value::Array(items)) => {
                return self.each(inner, items, path);
            }
            (ReplyType::Set(inner), Value::Set(items)) if resp3 => {
                return self.each(inner, items, path);
            }
            (ReplyType::Set(inner), Value::Array(items)) if !resp3 => {
                return self.each(inner, items, path);
            }
            (ReplyType::Map(k, v), Value::Map(pairs)) if resp3 => {
                for (i, (key, val)) in pairs.iter().enumerate() {
                    self.nested(k, key, path, &format!("{{key {i}}}"))?;
                    self.nested(v, val, path, &format!("{{{}}}", short(key)))?;
                }
                return Ok(());
            }
            (ReplyType::Map(k, v), Value::Array(items)) if !resp3 => {
                return self.flat_pairs(k, v, items, path);
            }
            (ReplyType::Pairs(k, v), Value::Array(items)) if resp3 => {
                for (i, item) in items.iter().enumerate() {
                    let pair = ReplyType::Tuple(vec![(**k).clone(), (**v).clone()]);
                    self.nested(&pair, item, path, &format!("[{i}]"))?;
                }
                return Ok(());
            }
            (ReplyType::Pairs(k, v) | ReplyType::Flat(k, v), Value::Array(items)) => {
                return self.flat_pairs(k, v, items, path);
            }
            (ReplyType::Tuple(types), Value::Array(items)) if types.len() == items.len() => {
                for (i, (t, item)) in types.iter().zip(items).enumerate() {
                    self.nested(t, item, path, &format!("[{i}]"))?;
                }
                return Ok(());
            }
            (ReplyType::Push(types), Value::Push(items)) if resp3 && types.len() == items.len() => {
                for (i, (t, item)) in types.iter().zip(items).enumerate() {
                    self.nested(t, item, path, &format!("[{i}]"))?;
                }
                return Ok(());
            }
            (ReplyType::Push(types), Value::Array(items))
                if !resp3 && types.len() == items.len() =>
            {
                for (i, (t, item)) in types.iter().zip(items).enumerate() {
                    self.nested(t, item, path, &format!("[{i}]"))?;
                }
                return Ok(());
            }
            (ReplyType::OneOf(types), _) => {
                let mut closest = None;
                for t in types {
                    match self.check(t, value, &mut path.clone()) {
                        Ok(()) => return Ok(()),
                        // The deepest mismatch is the most useful one to report.
                        Err(m)
                            if closest
                                .as_ref()
                                .is_none_or(|c: &Mismatch| m.path.len() > c.path.len()) =>
                        {
                            closest = Some(m)
                        }
                        Err(_) => {}
                    }
                }
                if let Some(m) = closest.filter(|m| m.path.len() > path.len()) {
                    return Err(m);
                }
                false
            }
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(Mismatch {
                path: path.clone(),
                expected: match (ty, self.protocol) {
                    (ReplyType::Double, Protocol::Resp2) => {
                        "double (a bulk string in RESP2)".into()
                    }
                    _ => ty.to_string(),
                },
                got: short(value),
            })
        }
    }

    fn nested(
        &self,
        ty: &ReplyType,
        value: &Value,
        path: &mut String,
        step: &str,
    ) -> Result<(), Mismatch> {
        let len = path.len();
        path.push_str(step);
        let result = self.check(ty, value, path);
        path.truncate(len);
        result
    }

    fn each(&self, ty: &ReplyType, items: &[Value], path: &mut String) -> Result<(), Mismatch> {
        for (i, item) in items.iter().enumerate() {
            self.nested(ty, item, path, &format!("[{i}]"))?;
        }
        Ok(())
    }

    fn flat_pairs(
        &self,
        k: &ReplyType,
        v: &ReplyType,
        items: &[Value],
        path: &mut String,
    ) -> Result<(), Mismatch> {
        if !items.len().is_multiple_of(2) {
            return Err(Mismatch {
                path: path.clone(),
                expected: format!("a flat array of {k} / {v} pairs (even length)"),
                got: format!("an array of {} elements", items.len()),
            });
        }
        for (i, pair) in items.chunks(2).enumerate() {
            self.nested(k, &pair[0], path, &format!("[{}]", 2 * i))?;
            self.nested(v, &pair[1], path, &format!("[{}]", 2 * i + 1))?;
        }
        Ok(())
    }
}

fn parses_as_float(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes)
        .ok()
        .map(|s| s.parse::<f64>().is_ok() || matches!(s, "inf" | "-inf" | "+inf" | "nan"))
        .unwrap_or(false)
}

/// A one-line rendering of a value for error messages, cut to a readable length.
pub fn short(value: &Value) -> String {
    fn text(b: &[u8]) -> String {
        let s = String::from_utf8_lossy(b);
        if s.len() > 40 {
            format!("{:?}…", &s[..s.floor_char_boundary(40)])
        } else {
            format!("{s:?}")
        }
    }
    match value {
        Value::Nil => "nil".into(),
        Value::Simple(s) => format!("simple string {}", text(s)),
        Value::Error(e) => format!("error {}", text(e)),
        Value::Integer(i) => format!("integer {i}"),
        Value::Double(d) => format!("double {d}"),
        Value::Boolean(b) => format!("boolean {b}"),
        Value::BigNumber(n) => format!("big number {}", text(n)),
        Value::Bulk(b) => format!("bulk string {}", text(b)),
        Value::Verbatim { text: t, .. } => format!("verbatim string {}", text(t)),
        Value::Array(items) => format!("array of {}", items.len()),
        Value::Map(pairs) => format!("map of {}", pairs.len()),
        Value::Set(items) => format!("set of {}", items.len()),
        Value::Attribute { value, .. } => format!("attribute over {}", short(value)),
        Value::Push(items) => format!("push of {}", items.len()),
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    fn bulk(s: &str) -> Value {
        Value::Bulk(Bytes::copy_from_slice(s.as_bytes()))
    }

    fn ty(s: &str) -> ReplyType {
        ReplyType::parse(s).unwrap()
    }

    #[test]
    fn map_is_a_map_in_resp3_and_flat_in_resp2() {
        let map = ty("map<bulk, integer>");
        let resp3 = Value::Map(vec![(bulk("a"), Value::Integer(1))]);
        let resp2 = Value::Array(vec![bulk("a"), Value::Integer(1)]);
        assert!(check(&map, Protocol::Resp3, &resp3).is_ok());
        assert!(check(&map, Protocol::Resp2, &resp2).is_ok());
        assert!(check(&map, Protocol::Resp3, &resp2).is_err());
        let odd = Value::Array(vec![bulk("a")]);
        assert!(check(&map, Protocol::Resp2, &odd).is_err());
    }

    #[test]
    fn double_is_bulk_only_in_resp2() {
        let d = ty("double");
        assert!(check(&d, Protocol::Resp3, &Value::Double(1.5)).is_ok());
        assert!(check(&d, Protocol::Resp3, &bulk("1.5")).is_err());
        assert!(check(&d, Protocol::Resp2, &bulk("1.5")).is_ok());
        assert!(check(&d, Protocol::Resp2, &bulk("x")).is_err());
    }

    #[test]
    fn pairs_nest_in_resp3_and_flatten_in_resp2() {
        let p = ty("pairs<bulk, double>");
        let resp3 = Value::Array(vec![Value::Array(vec![bulk("m"), Value::Double(2.0)])]);
        let resp2 = Value::Array(vec![bulk("m"), bulk("2")]);
        assert!(check(&p, Protocol::Resp3, &resp3).is_ok());
        assert!(check(&p, Protocol::Resp2, &resp2).is_ok());
        assert!(check(&p, Protocol::Resp3, &resp2).is_err());
    }

    #[test]
    fn flat_is_flat_in_both_protocols() {
        let f = ty("flat<bulk, integer>");
        let flat = Value::Array(vec![bulk("ch"), Value::Integer(2)]);
        assert!(check(&f, Protocol::Resp3, &flat).is_ok());
        assert!(check(&f, Protocol::Resp2, &flat).is_ok());
        let map = Value::Map(vec![(bulk("ch"), Value::Integer(2))]);
        assert!(check(&f, Protocol::Resp3, &map).is_err());
    }

    #[test]
    fn mismatch_names_the_path() {
        let t = ty("array<tuple<bulk, integer>>");
        let v = Value::Array(vec![Value::Array(vec![bulk("a"), bulk("b")])]);
        let m = check(&t, Protocol::Resp3, &v).unwrap_err();
        assert_eq!(m.path, "[0][1]");
        assert_eq!(
            m.to_string(),
            "[0][1]: expected integer, got bulk string \"b\""
        );
    }

    #[test]
    fn optional_ok_and_oneof() {
        assert!(check(&ty("ok?"), Protocol::Resp2, &Value::Nil).is_ok());
        assert!(check(&ty("ok"), Protocol::Resp2, &Value::Nil).is_err());
        let s = Value::Simple(Bytes::from_static(b"QUEUED"));
        assert!(check(&ty("ok"), Protocol::Resp2, &s).is_err());
        let one = ty("oneof<integer, bulk>");
        assert!(check(&one, Protocol::Resp3, &bulk("x")).is_ok());
        assert!(check(&one, Protocol::Resp3, &Value::Nil).is_err());
    }

    #[test]
    fn sets_and_pushes_are_arrays_in_resp2() {
        let s = ty("set<bulk>");
        assert!(check(&s, Protocol::Resp3, &Value::Set(vec![bulk("a")])).is_ok());
        assert!(check(&s, Protocol::Resp3, &Value::Array(vec![bulk("a")])).is_err());
        assert!(check(&s, Protocol::Resp2, &Value::Array(vec![bulk("a")])).is_ok());
        let p = ty("push<text, bulk, integer>");
        let items = vec![bulk("subscribe"), bulk("ch"), Value::Integer(1)];
        assert!(check(&p, Protocol::Resp3, &Value::Push(items.clone())).is_ok());
        assert!(check(&p, Protocol::Resp2, &Value::Array(items)).is_ok());
    }
}
