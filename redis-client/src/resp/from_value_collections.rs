//! [`FromValue`] for `Option`, sequences, sets, maps and tuples.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{BuildHasher, Hash};

use super::from_value::{items_into, plain, unexpected, within, FromValue};
use super::Value;
use crate::error::{Error, Result};

impl<T: FromValue> FromValue for Option<T> {
    /// Nil is `None`; anything else converts as `T`.
    #[inline]
    fn from_value(value: Value) -> Result<Self> {
        match plain(value)? {
            Value::Nil => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

impl<T: FromValue> FromValue for Vec<T> {
    /// An array, set or push; a map into a `Vec` of pairs; a flat array into a `Vec` of tuples.
    fn from_value(value: Value) -> Result<Self> {
        T::vec_from_value(value)
    }
}

/// The elements of an array, set or push.
fn elements(value: Value, expected: &str) -> Result<Vec<Value>> {
    match plain(value)? {
        Value::Array(items) | Value::Set(items) | Value::Push(items) => Ok(items),
        other => Err(unexpected(expected, &other)),
    }
}

impl<T: FromValue + Eq + Hash, S: BuildHasher + Default> FromValue for HashSet<T, S> {
    fn from_value(value: Value) -> Result<Self> {
        Ok(items_into::<T>(elements(value, "set or array")?)?
            .into_iter()
            .collect())
    }
}

impl<T: FromValue + Ord> FromValue for BTreeSet<T> {
    fn from_value(value: Value) -> Result<Self> {
        Ok(items_into::<T>(elements(value, "set or array")?)?
            .into_iter()
            .collect())
    }
}

/// Calls `f` with every key/value pair of a map reply, in any of the shapes Redis uses: a RESP3
/// map, a RESP2 flat array `[k1, v1, k2, v2, …]`, or an array of 2-element arrays.
///
/// An array whose elements are all 2-element arrays is read as pairs, never as a flat array of
/// array keys and array values.
fn for_each_pair(value: Value, mut f: impl FnMut(Value, Value) -> Result<()>) -> Result<usize> {
    let items = match plain(value)? {
        Value::Map(pairs) => {
            let len = pairs.len();
            for (i, (k, v)) in pairs.into_iter().enumerate() {
                f(k, v).map_err(|e| within(e, "map entry", i))?;
            }
            return Ok(len);
        }
        Value::Array(items) | Value::Set(items) | Value::Push(items) => items,
        other => return Err(unexpected("map", &other)),
    };
    let nested = !items.is_empty()
        && items
            .iter()
            .all(|item| matches!(item, Value::Array(pair) if pair.len() == 2));
    if nested {
        let len = items.len();
        for (i, item) in items.into_iter().enumerate() {
            if let Value::Array(pair) = item {
                let [k, v]: [Value; 2] = pair.try_into().map_err(|_| pair_shape_error())?;
                f(k, v).map_err(|e| within(e, "map entry", i))?;
            }
        }
        return Ok(len);
    }
    if items.len() % 2 != 0 {
        return Err(Error::Data(format!(
            "expected map, got array of {} elements (a flat map needs an even count)",
            items.len()
        )));
    }
    let len = items.len() / 2;
    let mut items = items.into_iter();
    let mut i = 0;
    while let (Some(k), Some(v)) = (items.next(), items.next()) {
        f(k, v).map_err(|e| within(e, "map entry", i))?;
        i += 1;
    }
    Ok(len)
}

/// How many pairs [`for_each_pair`] will find, at most: exact for a map or a flat array, half
/// the count for an array of pairs, none for anything else.
fn pair_count_hint(value: &Value) -> usize {
    match value {
        Value::Map(pairs) => pairs.len(),
        Value::Array(items) | Value::Set(items) | Value::Push(items) => items.len() / 2,
        _ => 0,
    }
}

fn pair_shape_error() -> Error {
    Error::Data("expected a 2-element array as a map entry".to_owned())
}

impl<K, V, S> FromValue for HashMap<K, V, S>
where
    K: FromValue + Eq + Hash,
    V: FromValue,
    S: BuildHasher + Default,
{
    fn from_value(value: Value) -> Result<Self> {
        // Sized up front: growing a 5 000-field HGETALL one insert at a time rehashes it 13 times.
        let mut map = HashMap::with_capacity_and_hasher(pair_count_hint(&value), S::default());
        for_each_pair(value, |k, v| {
            map.insert(K::from_value(k)?, V::from_value(v)?);
            Ok(())
        })?;
        Ok(map)
    }
}

impl<K: FromValue + Ord, V: FromValue> FromValue for BTreeMap<K, V> {
    fn from_value(value: Value) -> Result<Self> {
        let mut map = BTreeMap::new();
        for_each_pair(value, |k, v| {
            map.insert(K::from_value(k)?, V::from_value(v)?);
            Ok(())
        })?;
        Ok(map)
    }
}

/// The elements of an array of exactly `n` elements, for a tuple.
fn exact(value: Value, n: usize) -> Result<std::vec::IntoIter<Value>> {
    match plain(value)? {
        Value::Array(items) | Value::Set(items) | Value::Push(items) if items.len() == n => {
            Ok(items.into_iter())
        }
        other => Err(unexpected(&format!("array of {n} elements"), &other)),
    }
}

/// Takes the next element for a tuple field; the caller has checked the count.
fn field(items: &mut std::vec::IntoIter<Value>, index: usize) -> Result<Value> {
    items
        .next()
        .ok_or_else(|| Error::Data(format!("tuple field {index} is missing")))
}

/// `Vec` of `n`-tuples from an array of `n`-element arrays (RESP3) or a flat array whose length
/// is a multiple of `n` (RESP2, for example `ZRANGE … WITHSCORES`).
fn tuples<T: FromValue>(
    value: Value,
    n: usize,
    build: fn(&mut std::vec::IntoIter<Value>) -> Result<T>,
) -> Result<Vec<T>> {
    let items = elements(value, &format!("array of {n}-tuples"))?;
    if items.iter().all(|item| matches!(item, Value::Array(_))) {
        return items_into(items);
    }
    if items.len() % n != 0 {
        return Err(Error::Data(format!(
            "expected array of {n}-element arrays or a flat array of a multiple of {n} elements, \
             got array of {} elements",
            items.len()
        )));
    }
    let mut out = Vec::with_capacity(items.len() / n);
    let mut items = items.into_iter();
    while items.len() > 0 {
        let index = out.len();
        out.push(build(&mut items).map_err(|e| within(e, "tuple", index))?);
    }
    Ok(out)
}

impl<A: FromValue, B: FromValue> FromValue for (A, B) {
    fn from_value(value: Value) -> Result<Self> {
        Self::from_fields(&mut exact(value, 2)?)
    }

    fn from_map_entry(key: Value, value: Value) -> Result<Self> {
        Ok((A::from_value(key)?, B::from_value(value)?))
    }

    /// Also reads a RESP3 map as its entries.
    fn vec_from_value(value: Value) -> Result<Vec<Self>> {
        match value.without_attributes() {
            Value::Map(pairs) => pairs
                .into_iter()
                .enumerate()
                .map(|(i, (k, v))| {
                    Self::from_map_entry(k, v).map_err(|e| within(e, "map entry", i))
                })
                .collect(),
            other => tuples(other, 2, Self::from_fields),
        }
    }
}

/// Builds a tuple from consecutive elements.
trait FromFields: Sized {
    fn from_fields(items: &mut std::vec::IntoIter<Value>) -> Result<Self>;
}

impl<A: FromValue, B: FromValue> FromFields for (A, B) {
    fn from_fields(items: &mut std::vec::IntoIter<Value>) -> Result<Self> {
        Ok((
            A::from_value(field(items, 0)?)?,
            B::from_value(field(items, 1)?)?,
        ))
    }
}

macro_rules! tuple_from_value {
    ($n:literal; $($name:ident $index:literal)+) => {
        impl<$($name: FromValue),+> FromFields for ($($name,)+) {
            fn from_fields(items: &mut std::vec::IntoIter<Value>) -> Result<Self> {
                Ok(($($name::from_value(field(items, $index)?)?,)+))
            }
        }

        impl<$($name: FromValue),+> FromValue for ($($name,)+) {
            fn from_value(value: Value) -> Result<Self> {
                Self::from_fields(&mut exact(value, $n)?)
            }

            fn vec_from_value(value: Value) -> Result<Vec<Self>> {
                tuples(value, $n, Self::from_fields)
            }
        }
    };
}

tuple_from_value!(1; A 0);
tuple_from_value!(3; A 0 B 1 C 2);
tuple_from_value!(4; A 0 B 1 C 2 D 3);
tuple_from_value!(5; A 0 B 1 C 2 D 3 E 4);
tuple_from_value!(6; A 0 B 1 C 2 D 3 E 4 F 5);
tuple_from_value!(7; A 0 B 1 C 2 D 3 E 4 F 5 G 6);
tuple_from_value!(8; A 0 B 1 C 2 D 3 E 4 F 5 G 6 H 7);
tuple_from_value!(9; A 0 B 1 C 2 D 3 E 4 F 5 G 6 H 7 I 8);
tuple_from_value!(10; A 0 B 1 C 2 D 3 E 4 F 5 G 6 H 7 I 8 J 9);
tuple_from_value!(11; A 0 B 1 C 2 D 3 E 4 F 5 G 6 H 7 I 8 J 9 K 10);
tuple_from_value!(12; A 0 B 1 C 2 D 3 E 4 F 5 G 6 H 7 I 8 J 9 K 10 L 11);
