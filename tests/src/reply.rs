//! Reading the text replies tooling needs: `INFO` sections and field lists such as `SENTINEL MASTER`.

use redis_client::Value;

/// The value of `field` in an `INFO` reply (`role:master` → `Some("master")`).
pub fn info_field<'a>(info: &'a str, field: &str) -> Option<&'a str> {
    info.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        (name == field).then(|| value.trim_end())
    })
}

/// A reply's text: simple, bulk and verbatim strings (lossy UTF-8); `None` for anything else.
pub fn text(value: &Value) -> Option<String> {
    match value {
        Value::Simple(b) | Value::Bulk(b) | Value::Verbatim { text: b, .. } => {
            Some(String::from_utf8_lossy(b).into_owned())
        }
        Value::Integer(i) => Some(i.to_string()),
        Value::Double(d) => Some(d.to_string()),
        Value::Attribute { value, .. } => text(value),
        _ => None,
    }
}

/// The name/value pairs of a field-list reply: a RESP3 map, or RESP2's flat `[name, value, …]` array.
///
/// Values that are not strings (nested lists) are skipped.
pub fn fields(value: &Value) -> Vec<(String, String)> {
    let pairs: Vec<(&Value, &Value)> = match value {
        Value::Map(pairs) => pairs.iter().map(|(k, v)| (k, v)).collect(),
        Value::Array(items) => items
            .chunks_exact(2)
            .map(|pair| (&pair[0], &pair[1]))
            .collect(),
        Value::Attribute { value, .. } => return fields(value),
        _ => Vec::new(),
    };
    pairs
        .into_iter()
        .filter_map(|(k, v)| Some((text(k)?, text(v)?)))
        .collect()
}

/// The value of `name` in a [`fields`] list.
pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_lines() {
        let info = "# Server\r\nredis_version:7.0.15\r\nrole:master\r\n";
        assert_eq!(info_field(info, "role"), Some("master"));
        assert_eq!(info_field(info, "redis_version"), Some("7.0.15"));
        assert_eq!(info_field(info, "redis"), None);
    }

    #[test]
    fn resp2_and_resp3_field_lists() {
        let bulk = |s: &str| Value::Bulk(s.as_bytes().to_vec().into());
        let flat = Value::Array(vec![
            bulk("name"),
            bulk("mymaster"),
            bulk("port"),
            bulk("6379"),
        ]);
        let map = Value::Map(vec![
            (bulk("name"), bulk("mymaster")),
            (bulk("port"), Value::Integer(6379)),
        ]);
        for reply in [flat, map] {
            let list = fields(&reply);
            assert_eq!(field(&list, "name"), Some("mymaster"));
            assert_eq!(field(&list, "port"), Some("6379"));
            assert_eq!(field(&list, "ip"), None);
        }
    }
}
