//! A one-line, log-friendly rendering of [`Value`].
//!
//! `{}` keeps log lines bounded: strings longer than 64 bytes and aggregates with more than 16
//! elements are cut with a count of what was left out. `{:#}` prints everything.

use std::fmt;

use super::number::ShortFloat;
use super::protocol_error::{Quoted, SHOWN_BYTES};
use super::Value;

/// Aggregates show this many elements in `{}` before eliding the rest.
const SHOWN_ITEMS: usize = 16;

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nil => f.write_str("nil"),
            Value::Simple(text) => text_bytes(f, text, false),
            Value::Error(text) => {
                f.write_str("(error) ")?;
                text_bytes(f, text, false)
            }
            Value::Integer(i) => write!(f, "{i}"),
            Value::Double(d) => write!(f, "{}", ShortFloat(*d)),
            Value::Boolean(b) => write!(f, "{b}"),
            Value::BigNumber(digits) => text_bytes(f, digits, false),
            Value::Bulk(data) => text_bytes(f, data, true),
            Value::Verbatim { format, text } => {
                text_bytes(f, format, false)?;
                f.write_str(":")?;
                text_bytes(f, text, true)
            }
            Value::Array(items) => seq(f, "[", items, "]"),
            Value::Set(items) => seq(f, "~{", items, "}"),
            Value::Push(items) => seq(f, ">[", items, "]"),
            Value::Map(pairs) => map(f, pairs),
            Value::Attribute { attributes, value } => {
                f.write_str("|")?;
                map(f, attributes)?;
                f.write_str("| ")?;
                fmt::Display::fmt(value, f)
            }
        }
    }
}

/// Writes bytes escaped, quoted if asked, cut after [`SHOWN_BYTES`] unless `{:#}`.
fn text_bytes(f: &mut fmt::Formatter<'_>, bytes: &[u8], quote: bool) -> fmt::Result {
    if quote && !f.alternate() {
        return write!(f, "{}", Quoted(bytes));
    }
    let shown = if f.alternate() {
        bytes
    } else {
        &bytes[..bytes.len().min(SHOWN_BYTES)]
    };
    if quote {
        write!(f, "\"{}\"", shown.escape_ascii())
    } else {
        write!(f, "{}", shown.escape_ascii())?;
        if shown.len() < bytes.len() {
            write!(f, "…(+{} bytes)", bytes.len() - shown.len())?;
        }
        Ok(())
    }
}

fn seq(f: &mut fmt::Formatter<'_>, open: &str, items: &[Value], close: &str) -> fmt::Result {
    f.write_str(open)?;
    for (i, item) in shown(f, items).iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        fmt::Display::fmt(item, f)?;
    }
    elided(f, items.len())?;
    f.write_str(close)
}

fn map(f: &mut fmt::Formatter<'_>, pairs: &[(Value, Value)]) -> fmt::Result {
    f.write_str("{")?;
    for (i, (key, value)) in shown(f, pairs).iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        fmt::Display::fmt(key, f)?;
        f.write_str(": ")?;
        fmt::Display::fmt(value, f)?;
    }
    elided(f, pairs.len())?;
    f.write_str("}")
}

fn shown<'a, T>(f: &fmt::Formatter<'_>, items: &'a [T]) -> &'a [T] {
    if f.alternate() {
        items
    } else {
        &items[..items.len().min(SHOWN_ITEMS)]
    }
}

fn elided(f: &mut fmt::Formatter<'_>, total: usize) -> fmt::Result {
    if !f.alternate() && total > SHOWN_ITEMS {
        write!(f, ", …(+{} more)", total - SHOWN_ITEMS)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn bulk(s: &'static str) -> Value {
        Value::Bulk(Bytes::from_static(s.as_bytes()))
    }

    #[test]
    fn renders_every_type_on_one_line() {
        let v = Value::Array(vec![
            Value::Nil,
            Value::Simple(Bytes::from_static(b"OK")),
            Value::Error(Bytes::from_static(b"ERR bad")),
            Value::Integer(-5),
            Value::Double(1.5),
            Value::Double(f64::NEG_INFINITY),
            Value::Boolean(false),
            Value::BigNumber(Bytes::from_static(b"12345678901234567890")),
            bulk("a \"q\"\r\n"),
            Value::Verbatim {
                format: *b"txt",
                text: Bytes::from_static(b"hi"),
            },
            Value::Set(vec![Value::Integer(1)]),
            Value::Push(vec![bulk("message")]),
            Value::Map(vec![(bulk("k"), Value::Integer(2))]),
            Value::Attribute {
                attributes: vec![(bulk("ttl"), Value::Integer(3))],
                value: Box::new(Value::Integer(4)),
            },
        ]);
        assert_eq!(
            v.to_string(),
            r#"[nil, OK, (error) ERR bad, -5, 1.5, -inf, false, 12345678901234567890, "a \"q\"\r\n", txt:"hi", ~{1}, >["message"], {"k": 2}, |{"ttl": 3}| 4]"#
        );
    }

    #[test]
    fn truncates_unless_alternate() {
        let long = Value::Bulk(Bytes::from(vec![b'x'; 100]));
        assert_eq!(
            long.to_string(),
            format!("\"{}\"…(+36 bytes)", "x".repeat(64))
        );
        assert_eq!(format!("{long:#}"), format!("\"{}\"", "x".repeat(100)));
        let many = Value::Array((0..20).map(Value::Integer).collect());
        assert!(many.to_string().ends_with("15, …(+4 more)]"), "{many}");
        assert!(format!("{many:#}").ends_with("18, 19]"));
    }
}
