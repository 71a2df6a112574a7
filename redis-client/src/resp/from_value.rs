//! [`FromValue`]: converting a reply into a Rust type, and the impls for scalars.
//!
//! Conversions are strict: a value converts only from the RESP types that mean it (plus the
//! textual forms Redis uses for numbers under RESP2), and every failure says what was expected
//! and what arrived. Attributes are looked through, and an error reply becomes an error.

use std::str::FromStr;

use bytes::Bytes;

use super::number::ShortFloat;
use super::protocol_error::quoted;
use super::Value;
use crate::error::{Error, Result};

/// A Rust type a reply can be converted into.
///
/// ```
/// use redis_client::{FromValue, Value};
///
/// let reply = Value::Array(vec![Value::Bulk("7".into()), Value::Integer(8)]);
/// let numbers: Vec<u32> = FromValue::from_value(reply).unwrap();
/// assert_eq!(numbers, [7, 8]);
/// ```
pub trait FromValue: Sized {
    /// Converts `value`, or says what was expected and what came instead.
    fn from_value(value: Value) -> Result<Self>;

    /// Converts one key/value pair of a RESP3 map; 2-tuples accept it.
    #[doc(hidden)]
    fn from_map_entry(key: Value, value: Value) -> Result<Self> {
        Err(Error::Data(format!(
            "expected {}, got a map entry ({} => {})",
            std::any::type_name::<Self>(),
            describe(&key),
            describe(&value)
        )))
    }

    /// Converts a reply into `Vec<Self>`; `u8` overrides it to read a byte string, tuples to
    /// read flat arrays as RESP2 sends them.
    #[doc(hidden)]
    fn vec_from_value(value: Value) -> Result<Vec<Self>> {
        match plain(value)? {
            Value::Array(items) | Value::Set(items) | Value::Push(items) => items_into(items),
            Value::Map(pairs) => pairs
                .into_iter()
                .enumerate()
                .map(|(i, (k, v))| {
                    Self::from_map_entry(k, v).map_err(|e| within(e, "map entry", i))
                })
                .collect(),
            other => Err(unexpected("array", &other)),
        }
    }
}

/// The one place an error reply met during conversion turns into an [`Error`]: the server's
/// code is kept ([`Error::Response`], [`Error::ReadOnly`], …); the caller that knows the
/// command attaches its name with [`Error::with_command`].
pub(crate) fn server_error(message: Bytes) -> Error {
    Error::from_server_reply(&message, None)
}

/// Strips attributes and turns an error reply into an error.
#[inline]
pub(crate) fn plain(value: Value) -> Result<Value> {
    match value.without_attributes() {
        Value::Error(message) => Err(server_error(message)),
        other => Ok(other),
    }
}

/// "expected `expected`, got `what came`".
pub(crate) fn unexpected(expected: &str, got: &Value) -> Error {
    Error::Data(format!("expected {expected}, got {}", describe(got)))
}

/// Prefixes a data error with where in an aggregate it happened.
pub(crate) fn within(error: Error, what: &str, index: usize) -> Error {
    match error {
        Error::Data(message) => Error::Data(format!("{what} {index}: {message}")),
        other => other,
    }
}

/// Converts every element, naming the element that failed.
pub(crate) fn items_into<T: FromValue>(items: Vec<Value>) -> Result<Vec<T>> {
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| T::from_value(item).map_err(|e| within(e, "element", i)))
        .collect()
}

/// A value's type and a short preview, for error messages: `bulk string "abc"`, `integer 5`.
pub(crate) fn describe(value: &Value) -> String {
    let kind = value.kind_name();
    match value {
        Value::Nil => kind.to_owned(),
        Value::Integer(i) => format!("{kind} {i}"),
        Value::Double(d) => format!("{kind} {}", ShortFloat(*d)),
        Value::Boolean(b) => format!("{kind} {b}"),
        Value::Simple(t) | Value::Error(t) | Value::BigNumber(t) | Value::Bulk(t) => {
            format!("{kind} {}", quoted(t))
        }
        Value::Verbatim { text, .. } => format!("{kind} {}", quoted(text)),
        Value::Array(items) | Value::Set(items) | Value::Push(items) => {
            format!("{kind} of {} elements", items.len())
        }
        Value::Map(pairs) => format!("{kind} of {} pairs", pairs.len()),
        Value::Attribute { value, .. } => format!("{kind} around {}", describe(value)),
    }
}

/// The payload of a reply that carries text: bulk, simple, verbatim or big number.
#[inline]
fn text(value: Value, expected: &str) -> Result<Bytes> {
    if let Value::Bulk(t) = value {
        return Ok(t);
    }
    match plain(value)? {
        Value::Bulk(t)
        | Value::Simple(t)
        | Value::BigNumber(t)
        | Value::Verbatim { text: t, .. } => Ok(t),
        other => Err(unexpected(expected, &other)),
    }
}

impl FromValue for Value {
    /// Any reply as it came, attributes included; only an error reply becomes an `Err`.
    fn from_value(value: Value) -> Result<Self> {
        match value {
            Value::Error(message) => Err(server_error(message)),
            other => Ok(other),
        }
    }
}

impl FromValue for () {
    /// Any reply but an error (`+OK`, `:1`, nil, …).
    fn from_value(value: Value) -> Result<Self> {
        plain(value).map(drop)
    }
}

impl FromValue for Bytes {
    fn from_value(value: Value) -> Result<Self> {
        text(value, "string")
    }
}

impl FromValue for String {
    fn from_value(value: Value) -> Result<Self> {
        let bytes = text(value, "string")?;
        match std::str::from_utf8(&bytes) {
            Ok(s) => Ok(s.to_owned()),
            Err(e) => Err(Error::Data(format!(
                "expected UTF-8 string, got bytes {} (invalid UTF-8 at byte {})",
                quoted(&bytes),
                e.valid_up_to()
            ))),
        }
    }
}

impl FromValue for bool {
    /// RESP3 booleans and the integers 0 and 1; nothing else.
    fn from_value(value: Value) -> Result<Self> {
        match plain(value)? {
            Value::Boolean(b) => Ok(b),
            Value::Integer(0) => Ok(false),
            Value::Integer(1) => Ok(true),
            other => Err(unexpected("boolean (or integer 0 or 1)", &other)),
        }
    }
}

/// An integer from `:` replies, and from decimal text as Redis sends many numbers as bulk strings.
fn integer<T: TryFrom<i64> + FromStr>(value: Value, name: &str) -> Result<T> {
    match plain(value)? {
        Value::Integer(i) => T::try_from(i)
            .map_err(|_| Error::Data(format!("expected {name}, got integer {i} (out of range)"))),
        other => text_of(&other)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| unexpected(name, &other)),
    }
}

/// The text of a bulk, simple, verbatim or big-number reply, if it is UTF-8.
fn text_of(value: &Value) -> Option<&str> {
    match value {
        Value::Bulk(t)
        | Value::Simple(t)
        | Value::BigNumber(t)
        | Value::Verbatim { text: t, .. } => std::str::from_utf8(t).ok(),
        _ => None,
    }
}

macro_rules! integer_from_value {
    ($($ty:ty),+) => {$(
        impl FromValue for $ty {
            fn from_value(value: Value) -> Result<Self> {
                integer(value, stringify!($ty))
            }
        }
    )+};
}

integer_from_value!(i8, i16, i32, i64, i128, isize, u16, u32, u64, u128, usize);

impl FromValue for u8 {
    fn from_value(value: Value) -> Result<Self> {
        integer(value, "u8")
    }

    /// `Vec<u8>` is a byte string; an array of small integers also converts.
    fn vec_from_value(value: Value) -> Result<Vec<Self>> {
        match plain(value)? {
            Value::Bulk(t)
            | Value::Simple(t)
            | Value::BigNumber(t)
            | Value::Verbatim { text: t, .. } => Ok(Vec::from(t)),
            Value::Array(items) | Value::Set(items) | Value::Push(items) => items_into(items),
            other => Err(unexpected("string", &other)),
        }
    }
}

/// A float from `,` replies, integers, and text (`1.5`, `inf`, `-inf`, `nan`).
fn float<T: FromStr>(value: Value, name: &str, from_f64: fn(f64) -> Option<T>) -> Result<T> {
    let out_of_range = |d: f64| {
        Error::Data(format!(
            "expected {name}, got double {} (out of range)",
            ShortFloat(d)
        ))
    };
    match plain(value)? {
        Value::Double(d) => from_f64(d).ok_or_else(|| out_of_range(d)),
        Value::Integer(i) => from_f64(i as f64).ok_or_else(|| out_of_range(i as f64)),
        other => {
            let parsed =
                text_of(&other).and_then(|s| Some((s.parse::<f64>().ok()?, s.parse::<T>().ok()?)));
            match parsed {
                // Text within f64 range but beyond T's (1e300 as f32) parses to infinity.
                Some((wide, narrow)) if from_f64(wide).is_some() => Ok(narrow),
                _ => Err(unexpected(name, &other)),
            }
        }
    }
}

impl FromValue for f64 {
    fn from_value(value: Value) -> Result<Self> {
        float(value, "f64", Some)
    }
}

impl FromValue for f32 {
    fn from_value(value: Value) -> Result<Self> {
        float(value, "f32", |d| {
            let narrow = d as f32;
            (narrow.is_finite() || !d.is_finite()).then_some(narrow)
        })
    }
}
