//! Reply shapes, and turning a reply into the RESP3 shape its command states.
//!
//! [`ReplyShape`] mirrors the reply type language of the command spec (`commands/README.md`):
//! the generated commands carry one static shape per reply variant, the "normalization table".
//! [`normalize`] reshapes a reply into that RESP3 shape whichever protocol it came in — a RESP2
//! flat array becomes a map, a bulk string holding a float becomes a double — so RESP2 and RESP3
//! give the same [`Value`], and then the same Rust value.

use std::fmt;

use bytes::Bytes;

use crate::config::Protocol;
use crate::error::{Error, Result};
use crate::resp::from_value::describe;
use crate::resp::Value;

/// The shape of a reply, as the spec's reply type language states it (the RESP3 form).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyShape {
    /// The simple string `OK`.
    Ok,
    /// Any simple string.
    Status,
    /// An integer.
    Integer,
    /// A double (RESP2: a bulk string holding a float).
    Double,
    /// A bulk string holding a float, in both protocols (`INCRBYFLOAT`).
    Float,
    /// An integer 0 or 1, or a RESP3 boolean.
    Bool,
    /// A bulk string of any bytes.
    Bulk,
    /// A bulk, simple or verbatim string holding text.
    Text,
    /// Only null.
    Nil,
    /// Anything; left as the server sent it.
    Any,
    /// The inner shape or null.
    Optional(&'static ReplyShape),
    /// An array of one shape.
    Array(&'static ReplyShape),
    /// A set (RESP2: an array).
    Set(&'static ReplyShape),
    /// A map (RESP2: a flat array `k1 v1 k2 v2 …`).
    Map(&'static ReplyShape, &'static ReplyShape),
    /// An array of `[k, v]` arrays (RESP2: a flat array `k1 v1 k2 v2 …`).
    Pairs(&'static ReplyShape, &'static ReplyShape),
    /// A flat array `k1 v1 k2 v2 …` in both protocols (`PUBSUB NUMSUB`).
    Flat(&'static ReplyShape, &'static ReplyShape),
    /// An array of exactly these elements, in order.
    Tuple(&'static [ReplyShape]),
    /// Any one of these shapes, the first that fits.
    OneOf(&'static [ReplyShape]),
    /// A push frame of exactly these elements (RESP2: an array).
    Push(&'static [ReplyShape]),
}

impl fmt::Display for ReplyShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn list(f: &mut fmt::Formatter<'_>, name: &str, items: &[ReplyShape]) -> fmt::Result {
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
            ReplyShape::Ok => f.write_str("ok"),
            ReplyShape::Status => f.write_str("status"),
            ReplyShape::Integer => f.write_str("integer"),
            ReplyShape::Double => f.write_str("double"),
            ReplyShape::Float => f.write_str("float"),
            ReplyShape::Bool => f.write_str("bool"),
            ReplyShape::Bulk => f.write_str("bulk"),
            ReplyShape::Text => f.write_str("text"),
            ReplyShape::Nil => f.write_str("nil"),
            ReplyShape::Any => f.write_str("any"),
            ReplyShape::Optional(inner) => write!(f, "{inner}?"),
            ReplyShape::Array(inner) => write!(f, "array<{inner}>"),
            ReplyShape::Set(inner) => write!(f, "set<{inner}>"),
            ReplyShape::Map(k, v) => write!(f, "map<{k}, {v}>"),
            ReplyShape::Pairs(k, v) => write!(f, "pairs<{k}, {v}>"),
            ReplyShape::Flat(k, v) => write!(f, "flat<{k}, {v}>"),
            ReplyShape::Tuple(items) => list(f, "tuple", items),
            ReplyShape::OneOf(items) => list(f, "oneof", items),
            ReplyShape::Push(items) => list(f, "push", items),
        }
    }
}

/// Reshapes `value` into `shape` (a RESP3 shape).
///
/// Under RESP2 the fixed rules apply at every depth (flat array → map or pairs, float text →
/// double, array → set or push); when the spec gives an explicit `resp2` shape, the reply is
/// mapped structurally from it onto `shape` (RESP2 `array<tuple<bulk, X>>` → RESP3
/// `map<bulk, X>`). Under RESP3 the reply already has the shape, apart from details the
/// conversion irons out in both protocols: text in verbatim strings becomes a bulk string, a
/// `bool` integer becomes a boolean, a float in a bulk string becomes a double.
///
/// What cannot be reshaped is left alone for typed conversion to report, except a reply whose
/// layout contradicts the shape (a flat map of odd length, a tuple of the wrong length), which is
/// an [`Error::Data`] naming the shape. Error replies nested in the value are kept as they are.
pub fn normalize(
    value: Value,
    shape: &ReplyShape,
    resp2: Option<&ReplyShape>,
    protocol: Protocol,
) -> Result<Value> {
    if keeps_as_is(&value, shape) {
        return Ok(value);
    }
    let value = value.without_attributes();
    match (protocol, resp2) {
        (Protocol::Resp2, Some(resp2)) => remap(value, shape, resp2, protocol),
        _ => conform(value, shape, protocol),
    }
}

/// Whether `value` already has `shape` as it is, whatever the protocol: any value (without
/// attributes to strip) of a shape the rules leave alone, anything but verbatim text for text,
/// nil for an optional. Most replies (GET, SET, INCR …) are such, and answering that from a
/// reference spares moving them through the reshaping rules.
#[inline]
fn keeps_as_is(value: &Value, shape: &ReplyShape) -> bool {
    use ReplyShape as S;
    if matches!(value, Value::Attribute { .. }) {
        return false;
    }
    match shape {
        S::Optional(_) if matches!(value, Value::Nil) => true,
        S::Optional(inner) => keeps_as_is(value, inner),
        // Only verbatim text is rewritten (to a bulk string).
        S::Text => !matches!(value, Value::Verbatim { .. }),
        other => leaves_alone(other),
    }
}

/// Whether conforming to `shape` leaves every value as it is (no rule below rewrites a value
/// for these shapes), so the elements of an aggregate of them need not be visited at all.
#[inline]
fn leaves_alone(shape: &ReplyShape) -> bool {
    use ReplyShape as S;
    matches!(
        shape,
        S::Ok | S::Status | S::Integer | S::Bulk | S::Nil | S::Any
    )
}

/// Brings `value` into `shape` by the fixed rules.
fn conform(value: Value, shape: &ReplyShape, protocol: Protocol) -> Result<Value> {
    use ReplyShape as S;
    if leaves_alone(shape) || matches!(value, Value::Error(_)) {
        return Ok(value);
    }
    Ok(match (shape, value) {
        (S::Optional(_), Value::Nil) => Value::Nil,
        (S::Optional(inner), value) => conform(value, inner, protocol)?,
        (S::Text, Value::Verbatim { text, .. }) => Value::Bulk(text),
        (S::Double | S::Float, value) => to_double(value),
        (S::Bool, Value::Integer(i @ (0 | 1))) => Value::Boolean(i == 1),
        (S::Array(inner), Value::Array(items)) => Value::Array(each(items, inner, protocol)?),
        (S::Array(inner), Value::Set(items)) => Value::Set(each(items, inner, protocol)?),
        (S::Set(inner), Value::Array(items) | Value::Set(items)) => {
            Value::Set(each(items, inner, protocol)?)
        }
        (S::Map(k, v), Value::Map(pairs)) => Value::Map(each_pair(pairs, k, v, protocol)?),
        (S::Map(k, v), Value::Array(items)) => {
            Value::Map(each_pair(flat_pairs(items, shape)?, k, v, protocol)?)
        }
        (S::Pairs(k, v), Value::Array(items)) => {
            let nested = protocol == Protocol::Resp3 && items.iter().all(is_pair);
            let pairs = if nested {
                items.into_iter().map(split_pair).collect::<Result<_>>()?
            } else {
                flat_pairs(items, shape)?
            };
            pairs_array(each_pair(pairs, k, v, protocol)?)
        }
        (S::Pairs(k, v), Value::Map(pairs)) => pairs_array(each_pair(pairs, k, v, protocol)?),
        (S::Flat(k, v), Value::Array(items)) => {
            flat_array(each_pair(flat_pairs(items, shape)?, k, v, protocol)?)
        }
        (S::Flat(k, v), Value::Map(pairs)) => flat_array(each_pair(pairs, k, v, protocol)?),
        (S::Tuple(shapes), Value::Array(items)) => {
            Value::Array(tuple(items, shapes, shape, protocol)?)
        }
        (S::Push(shapes), Value::Array(items) | Value::Push(items)) => {
            Value::Push(tuple(items, shapes, shape, protocol)?)
        }
        (S::OneOf(shapes), value) => match shapes.iter().find(|s| fits(&value, s, protocol)) {
            Some(chosen) => conform(value, chosen, protocol)?,
            None => value,
        },
        (_, value) => value,
    })
}

/// Maps a RESP2 reply given in the spec's explicit `resp2` shape onto the RESP3 `shape`.
fn remap(
    value: Value,
    shape: &ReplyShape,
    resp2: &ReplyShape,
    protocol: Protocol,
) -> Result<Value> {
    use ReplyShape as S;
    if matches!(value, Value::Error(_)) {
        return Ok(value);
    }
    Ok(match (shape, resp2, value) {
        (S::Optional(_), _, Value::Nil) | (_, S::Optional(_), Value::Nil) => Value::Nil,
        (S::Optional(a), S::Optional(b), value) => remap(value, a, b, protocol)?,
        (S::Optional(a), b, value) => remap(value, a, b, protocol)?,
        (a, S::Optional(b), value) => remap(value, a, b, protocol)?,
        (S::Map(k, v), S::Array(item), Value::Array(items)) => match pair_shapes(item) {
            Some((a, b)) => {
                let pairs = nested_pairs(items, shape)?;
                Value::Map(remap_pairs(pairs, (k, a), (v, b), protocol)?)
            }
            None => conform(Value::Array(items), shape, protocol)?,
        },
        (S::Pairs(k, v), S::Array(item), Value::Array(items)) => match pair_shapes(item) {
            Some((a, b)) => {
                let pairs = nested_pairs(items, shape)?;
                pairs_array(remap_pairs(pairs, (k, a), (v, b), protocol)?)
            }
            None => conform(Value::Array(items), shape, protocol)?,
        },
        (S::Map(k, v) | S::Pairs(k, v), S::Map(a, b) | S::Pairs(a, b), Value::Array(items)) => {
            let pairs = remap_pairs(flat_pairs(items, shape)?, (k, a), (v, b), protocol)?;
            match shape {
                S::Map(..) => Value::Map(pairs),
                _ => pairs_array(pairs),
            }
        }
        (S::Array(x), S::Array(y), Value::Array(items)) => {
            Value::Array(remap_each(items, x, y, protocol)?)
        }
        (S::Set(x), S::Set(y) | S::Array(y), Value::Array(items) | Value::Set(items)) => {
            Value::Set(remap_each(items, x, y, protocol)?)
        }
        (S::Tuple(xs), S::Tuple(ys), Value::Array(items))
            if xs.len() == ys.len() && items.len() == xs.len() =>
        {
            let items = items
                .into_iter()
                .zip(xs.iter().zip(ys.iter()))
                .map(|(item, (x, y))| remap(item, x, y, protocol))
                .collect::<Result<_>>()?;
            Value::Array(items)
        }
        (shape, _, value) => conform(value, shape, protocol)?,
    })
}

/// The key and value shapes of a two-element tuple (or a pairs-like array element).
fn pair_shapes(item: &ReplyShape) -> Option<(&ReplyShape, &ReplyShape)> {
    match item {
        ReplyShape::Tuple([a, b]) => Some((a, b)),
        _ => None,
    }
}

fn remap_each(
    items: Vec<Value>,
    x: &ReplyShape,
    y: &ReplyShape,
    protocol: Protocol,
) -> Result<Vec<Value>> {
    items
        .into_iter()
        .map(|item| remap(item, x, y, protocol))
        .collect()
}

fn remap_pairs(
    pairs: Vec<(Value, Value)>,
    (k, a): (&ReplyShape, &ReplyShape),
    (v, b): (&ReplyShape, &ReplyShape),
    protocol: Protocol,
) -> Result<Vec<(Value, Value)>> {
    if leaves_alone(k) && leaves_alone(v) {
        return Ok(pairs);
    }
    pairs
        .into_iter()
        .map(|(key, value)| Ok((remap(key, k, a, protocol)?, remap(value, v, b, protocol)?)))
        .collect()
}

/// Whether `value` has `shape` (deeply), under the rules of `protocol`; picks a `oneof` branch.
fn fits(value: &Value, shape: &ReplyShape, protocol: Protocol) -> bool {
    use ReplyShape as S;
    match (shape, value) {
        (S::Any, _) => true,
        (S::Optional(_) | S::Nil, Value::Nil) => true,
        (S::Optional(inner), value) => fits(value, inner, protocol),
        (S::Ok | S::Status, Value::Simple(_)) => true,
        (S::Integer, Value::Integer(_)) => true,
        (S::Double, Value::Double(_)) => true,
        (S::Double | S::Float, value) => float_text(value).is_some(),
        (S::Bool, Value::Boolean(_) | Value::Integer(0 | 1)) => true,
        (S::Bulk, Value::Bulk(_)) => true,
        (S::Text, Value::Bulk(_) | Value::Simple(_) | Value::Verbatim { .. }) => true,
        (S::Array(inner), Value::Array(items)) => items.iter().all(|i| fits(i, inner, protocol)),
        (S::Set(inner), Value::Set(items) | Value::Array(items)) => {
            items.iter().all(|i| fits(i, inner, protocol))
        }
        (S::Map(k, v), Value::Map(pairs)) => pairs
            .iter()
            .all(|(key, value)| fits(key, k, protocol) && fits(value, v, protocol)),
        (S::Map(k, v) | S::Pairs(k, v) | S::Flat(k, v), Value::Array(items)) => {
            let nested = matches!(shape, S::Pairs(..))
                && protocol == Protocol::Resp3
                && items.iter().all(is_pair);
            if nested {
                items.iter().all(|item| match item.as_array() {
                    Some([key, value]) => fits(key, k, protocol) && fits(value, v, protocol),
                    _ => false,
                })
            } else {
                items.len() % 2 != 1
                    && items
                        .chunks(2)
                        .all(|kv| fits(&kv[0], k, protocol) && fits(&kv[1], v, protocol))
            }
        }
        (S::Tuple(shapes), Value::Array(items))
        | (S::Push(shapes), Value::Array(items) | Value::Push(items)) => {
            items.len() == shapes.len()
                && items
                    .iter()
                    .zip(shapes.iter())
                    .all(|(i, s)| fits(i, s, protocol))
        }
        (S::OneOf(shapes), value) => shapes.iter().any(|s| fits(value, s, protocol)),
        _ => false,
    }
}

fn each(items: Vec<Value>, shape: &ReplyShape, protocol: Protocol) -> Result<Vec<Value>> {
    if leaves_alone(shape) {
        return Ok(items);
    }
    items
        .into_iter()
        .map(|item| conform(item, shape, protocol))
        .collect()
}

fn each_pair(
    pairs: Vec<(Value, Value)>,
    k: &ReplyShape,
    v: &ReplyShape,
    protocol: Protocol,
) -> Result<Vec<(Value, Value)>> {
    if leaves_alone(k) && leaves_alone(v) {
        return Ok(pairs);
    }
    pairs
        .into_iter()
        .map(|(key, value)| Ok((conform(key, k, protocol)?, conform(value, v, protocol)?)))
        .collect()
}

fn tuple(
    items: Vec<Value>,
    shapes: &[ReplyShape],
    whole: &ReplyShape,
    protocol: Protocol,
) -> Result<Vec<Value>> {
    if items.len() != shapes.len() {
        return Err(mismatch(whole, &Value::Array(items)));
    }
    items
        .into_iter()
        .zip(shapes.iter())
        .map(|(item, shape)| conform(item, shape, protocol))
        .collect()
}

/// `[k1, v1, k2, v2, …]` as pairs.
fn flat_pairs(items: Vec<Value>, whole: &ReplyShape) -> Result<Vec<(Value, Value)>> {
    if items.len() % 2 == 1 {
        return Err(mismatch(whole, &Value::Array(items)));
    }
    let mut pairs = Vec::with_capacity(items.len() / 2);
    let mut items = items.into_iter();
    while let (Some(k), Some(v)) = (items.next(), items.next()) {
        pairs.push((k, v));
    }
    Ok(pairs)
}

/// `[[k1, v1], [k2, v2], …]` as pairs.
fn nested_pairs(items: Vec<Value>, whole: &ReplyShape) -> Result<Vec<(Value, Value)>> {
    if !items.iter().all(is_pair) {
        return Err(mismatch(whole, &Value::Array(items)));
    }
    items.into_iter().map(split_pair).collect()
}

fn is_pair(value: &Value) -> bool {
    matches!(value, Value::Array(pair) if pair.len() == 2)
}

/// The two elements of a `[k, v]` array.
fn split_pair(value: Value) -> Result<(Value, Value)> {
    let mismatch = |got: &Value| {
        Error::Data(format!(
            "the reply does not have the shape of a [key, value] pair: got {}",
            describe(got)
        ))
    };
    match value {
        Value::Array(pair) => {
            let [k, v]: [Value; 2] = pair
                .try_into()
                .map_err(|items| mismatch(&Value::Array(items)))?;
            Ok((k, v))
        }
        other => Err(mismatch(&other)),
    }
}

fn flat_array(pairs: Vec<(Value, Value)>) -> Value {
    Value::Array(pairs.into_iter().flat_map(|(k, v)| [k, v]).collect())
}

fn pairs_array(pairs: Vec<(Value, Value)>) -> Value {
    Value::Array(
        pairs
            .into_iter()
            .map(|(k, v)| Value::Array(vec![k, v]))
            .collect(),
    )
}

/// A float in text (`1.5`, `inf`, `-inf`, `nan`) becomes a double; anything else stays.
fn to_double(value: Value) -> Value {
    match float_text(&value) {
        Some(d) => Value::Double(d),
        None => value,
    }
}

fn float_text(value: &Value) -> Option<f64> {
    let text: &Bytes = match value {
        Value::Bulk(t) | Value::Simple(t) | Value::Verbatim { text: t, .. } => t,
        _ => return None,
    };
    std::str::from_utf8(text).ok()?.parse().ok()
}

fn mismatch(shape: &ReplyShape, got: &Value) -> Error {
    Error::Data(format!(
        "the reply does not have the shape {shape}: got {}",
        describe(got)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReplyShape as S;

    fn bulk(s: &str) -> Value {
        Value::Bulk(Bytes::copy_from_slice(s.as_bytes()))
    }

    fn both(value2: Value, value3: Value, shape: &ReplyShape, resp2: Option<&ReplyShape>) -> Value {
        let a = normalize(value2, shape, resp2, Protocol::Resp2).unwrap();
        let b = normalize(value3, shape, resp2, Protocol::Resp3).unwrap();
        assert_eq!(a, b, "RESP2 and RESP3 differ for {shape}");
        a
    }

    #[test]
    fn flat_arrays_become_maps_and_pairs() {
        static MAP: ReplyShape = S::Map(&S::Bulk, &S::Double);
        let v = both(
            Value::Array(vec![bulk("a"), bulk("1.5"), bulk("b"), bulk("inf")]),
            Value::Map(vec![
                (bulk("a"), Value::Double(1.5)),
                (bulk("b"), Value::Double(f64::INFINITY)),
            ]),
            &MAP,
            None,
        );
        assert_eq!(v.as_map().unwrap().len(), 2);
        static FLAT: ReplyShape = S::Flat(&S::Bulk, &S::Integer);
        let flat = Value::Array(vec![bulk("ch"), Value::Integer(2)]);
        assert_eq!(both(flat.clone(), flat.clone(), &FLAT, None), flat);
        static PAIRS: ReplyShape = S::Pairs(&S::Bulk, &S::Double);
        let v = both(
            Value::Array(vec![bulk("m"), bulk("2")]),
            Value::Array(vec![Value::Array(vec![bulk("m"), Value::Double(2.0)])]),
            &PAIRS,
            None,
        );
        assert_eq!(
            v,
            Value::Array(vec![Value::Array(vec![bulk("m"), Value::Double(2.0)])])
        );
        let err =
            normalize(Value::Array(vec![bulk("a")]), &MAP, None, Protocol::Resp2).unwrap_err();
        assert_eq!(
            err.to_string(),
            "data error: the reply does not have the shape map<bulk, double>: got array of 1 elements"
        );
    }

    #[test]
    fn scalars_agree_across_protocols() {
        static SHAPE: ReplyShape = S::Tuple(&[S::Bool, S::Text, S::Set(&S::Integer), S::Float]);
        let v = both(
            Value::Array(vec![
                Value::Integer(1),
                bulk("hi"),
                Value::Array(vec![Value::Integer(3)]),
                bulk("0.5"),
            ]),
            Value::Array(vec![
                Value::Boolean(true),
                Value::Verbatim {
                    format: *b"txt",
                    text: "hi".into(),
                },
                Value::Set(vec![Value::Integer(3)]),
                bulk("0.5"),
            ]),
            &SHAPE,
            None,
        );
        assert_eq!(
            v,
            Value::Array(vec![
                Value::Boolean(true),
                bulk("hi"),
                Value::Set(vec![Value::Integer(3)]),
                Value::Double(0.5),
            ])
        );
        assert!(normalize(Value::Array(vec![]), &SHAPE, None, Protocol::Resp3).is_err());
        static OPT: ReplyShape = S::Optional(&S::Double);
        assert_eq!(
            normalize(Value::Nil, &OPT, None, Protocol::Resp2).unwrap(),
            Value::Nil
        );
    }

    #[test]
    fn an_explicit_resp2_shape_maps_onto_the_resp3_one() {
        // XREAD: RESP3 map<bulk, array<tuple<text, array<bulk>>>>?, RESP2 an array of pairs.
        static ENTRY: ReplyShape = S::Tuple(&[S::Text, S::Array(&S::Bulk)]);
        static RESP3: ReplyShape = S::Optional(&S::Map(&S::Bulk, &S::Array(&ENTRY)));
        static RESP2: ReplyShape = S::Optional(&S::Array(&S::Tuple(&[S::Bulk, S::Array(&ENTRY)])));
        let entries = || {
            Value::Array(vec![Value::Array(vec![
                bulk("1-1"),
                Value::Array(vec![bulk("f"), bulk("v")]),
            ])])
        };
        let v = both(
            Value::Array(vec![Value::Array(vec![bulk("s"), entries()])]),
            Value::Map(vec![(bulk("s"), entries())]),
            &RESP3,
            Some(&RESP2),
        );
        assert_eq!(v, Value::Map(vec![(bulk("s"), entries())]));
        assert_eq!(
            both(Value::Nil, Value::Nil, &RESP3, Some(&RESP2)),
            Value::Nil
        );
    }

    #[test]
    fn oneof_takes_the_first_branch_that_fits() {
        static SHAPE: ReplyShape = S::OneOf(&[S::Integer, S::Map(&S::Text, &S::Any)]);
        let v = both(
            Value::Array(vec![bulk("k"), Value::Integer(1)]),
            Value::Map(vec![(bulk("k"), Value::Integer(1))]),
            &SHAPE,
            None,
        );
        assert_eq!(v, Value::Map(vec![(bulk("k"), Value::Integer(1))]));
        assert_eq!(
            normalize(Value::Integer(4), &SHAPE, None, Protocol::Resp2).unwrap(),
            Value::Integer(4)
        );
    }

    #[test]
    fn displays_in_the_spec_language() {
        static SHAPE: ReplyShape = S::Optional(&S::Push(&[S::Text, S::Pairs(&S::Bulk, &S::Nil)]));
        assert_eq!(SHAPE.to_string(), "push<text, pairs<bulk, nil>>?");
    }
}
