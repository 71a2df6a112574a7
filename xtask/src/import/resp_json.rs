//! Turns a RESP3 reply into JSON for `codegen::import`: maps become objects, arrays and sets
//! become lists, every kind of string becomes a string.

use redis_client::Value;
use serde_json::{Map, Number, Value as Json};

/// The JSON form of `value`; errors name what could not be represented.
pub fn to_json(value: &Value) -> Result<Json, String> {
    Ok(match value {
        Value::Nil => Json::Null,
        Value::Simple(bytes) | Value::Bulk(bytes) | Value::BigNumber(bytes) => text(bytes)?,
        Value::Verbatim { text: bytes, .. } => text(bytes)?,
        Value::Error(bytes) => {
            return Err(format!("error reply {}", String::from_utf8_lossy(bytes)))
        }
        Value::Integer(n) => Json::Number((*n).into()),
        Value::Double(d) => Json::Number(
            Number::from_f64(*d).ok_or_else(|| format!("double {d} has no JSON form"))?,
        ),
        Value::Boolean(b) => Json::Bool(*b),
        Value::Array(items) | Value::Set(items) | Value::Push(items) => {
            Json::Array(items.iter().map(to_json).collect::<Result<_, _>>()?)
        }
        Value::Map(pairs) => {
            let mut map = Map::new();
            for (key, value) in pairs {
                let key = match to_json(key)? {
                    Json::String(key) => key,
                    other => return Err(format!("map key {other} is not a string")),
                };
                map.insert(key, to_json(value)?);
            }
            Json::Object(map)
        }
        // Attributes are out-of-band annotations; the value they wrap is the reply.
        Value::Attribute { value, .. } => to_json(value)?,
    })
}

fn text(bytes: &[u8]) -> Result<Json, String> {
    String::from_utf8(bytes.to_vec())
        .map(Json::String)
        .map_err(|_| format!("string is not UTF-8: {}", String::from_utf8_lossy(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_sets_and_strings_become_json() {
        let value = Value::Map(vec![(
            Value::Bulk("get".into()),
            Value::Map(vec![
                (Value::Simple("arity".into()), Value::Integer(2)),
                (
                    Value::Bulk("flags".into()),
                    Value::Set(vec![Value::Simple("readonly".into())]),
                ),
            ]),
        )]);
        let json = to_json(&value).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"get": {"arity": 2, "flags": ["readonly"]}})
        );
        assert!(to_json(&Value::Error("ERR x".into())).is_err());
    }
}
