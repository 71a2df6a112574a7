//! The RESP3 value model shared by the parser, the encoder and typed conversion.

use bytes::Bytes;

/// One reply frame as the server sent it, covering every RESP2 and RESP3 type.
///
/// String payloads are `Bytes` slices of the connection's read buffer, so parsing a
/// reply never copies bulk data.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// RESP3 null (`_`), and RESP2's null bulk string (`$-1`) and null array (`*-1`).
    Nil,
    /// A simple string (`+OK`).
    Simple(Bytes),
    /// An error reply: a simple error (`-ERR …`) or a RESP3 bulk error (`!`).
    Error(Bytes),
    /// A signed 64-bit integer (`:`).
    Integer(i64),
    /// A RESP3 double (`,`), `inf`, `-inf` and `nan` included.
    Double(f64),
    /// A RESP3 boolean (`#t` / `#f`).
    Boolean(bool),
    /// A RESP3 big number (`(`), kept as its decimal digits.
    BigNumber(Bytes),
    /// A bulk string (`$`).
    Bulk(Bytes),
    /// A RESP3 verbatim string (`=`): a three-byte format such as `txt` or `mkd`, and the text.
    Verbatim {
        /// The format tag, for example `*b"txt"`.
        format: [u8; 3],
        /// The text after the `fmt:` prefix.
        text: Bytes,
    },
    /// An array (`*`).
    Array(Vec<Value>),
    /// A RESP3 map (`%`), in the order the server sent it.
    Map(Vec<(Value, Value)>),
    /// A RESP3 set (`~`), in the order the server sent it.
    Set(Vec<Value>),
    /// A RESP3 attribute (`|`) and the value it annotates.
    Attribute {
        /// The attribute pairs.
        attributes: Vec<(Value, Value)>,
        /// The reply the attributes were attached to.
        value: Box<Value>,
    },
    /// A RESP3 out-of-band push (`>`), such as a pubsub message or an invalidation.
    Push(Vec<Value>),
}

impl Value {
    /// Whether this is a null (`_`, `$-1` or `*-1`).
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    /// Whether this is an error reply (`-` or `!`).
    pub fn is_error(&self) -> bool {
        matches!(self, Value::Error(_))
    }

    /// The payload of a bulk, simple or verbatim string (the text without its format tag).
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bulk(b) | Value::Simple(b) | Value::Verbatim { text: b, .. } => Some(b),
            _ => None,
        }
    }

    /// The payload of a bulk, simple or verbatim string, if it is valid UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(self.as_bytes()?).ok()
    }

    /// The number in an integer reply.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Integer(i) => Some(*i),
            _ => None,
        }
    }

    /// The number in a double reply.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Double(d) => Some(*d),
            _ => None,
        }
    }

    /// The truth value of a RESP3 boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Boolean(b) => Some(*b),
            _ => None,
        }
    }

    /// The elements of an array, set or push.
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(items) | Value::Set(items) | Value::Push(items) => Some(items),
            _ => None,
        }
    }

    /// The pairs of a map.
    pub fn as_map(&self) -> Option<&[(Value, Value)]> {
        match self {
            Value::Map(pairs) => Some(pairs),
            _ => None,
        }
    }

    /// The message of an error reply, such as `ERR unknown command`.
    pub fn as_error(&self) -> Option<&[u8]> {
        match self {
            Value::Error(message) => Some(message),
            _ => None,
        }
    }

    /// The payload of a bulk, simple or verbatim string, without copying.
    pub fn into_bytes(self) -> Option<Bytes> {
        match self {
            Value::Bulk(b) | Value::Simple(b) | Value::Verbatim { text: b, .. } => Some(b),
            _ => None,
        }
    }

    /// The elements of an array, set or push.
    pub fn into_array(self) -> Option<Vec<Value>> {
        match self {
            Value::Array(items) | Value::Set(items) | Value::Push(items) => Some(items),
            _ => None,
        }
    }

    /// The value itself, with any attribute wrappers around it removed.
    #[inline]
    pub fn without_attributes(mut self) -> Value {
        while let Value::Attribute { value, .. } = self {
            self = *value;
        }
        self
    }

    /// The RESP type's name, for messages: `"bulk string"`, `"integer"`, `"map"`, ….
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::Simple(_) => "simple string",
            Value::Error(_) => "error",
            Value::Integer(_) => "integer",
            Value::Double(_) => "double",
            Value::Boolean(_) => "boolean",
            Value::BigNumber(_) => "big number",
            Value::Bulk(_) => "bulk string",
            Value::Verbatim { .. } => "verbatim string",
            Value::Array(_) => "array",
            Value::Map(_) => "map",
            Value::Set(_) => "set",
            Value::Attribute { .. } => "attribute",
            Value::Push(_) => "push",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accessors_match_only_their_types() {
        let bulk = Value::Bulk(Bytes::from_static(b"hi"));
        assert_eq!(bulk.as_bytes(), Some(&b"hi"[..]));
        assert_eq!(bulk.as_str(), Some("hi"));
        assert_eq!(bulk.as_int(), None);
        assert_eq!(Value::Bulk(Bytes::from_static(b"\xff")).as_str(), None);
        let verbatim = Value::Verbatim {
            format: *b"txt",
            text: Bytes::from_static(b"body"),
        };
        assert_eq!(verbatim.as_str(), Some("body"));
        assert_eq!(Value::Integer(-3).as_int(), Some(-3));
        assert_eq!(Value::Double(2.5).as_f64(), Some(2.5));
        assert_eq!(Value::Boolean(true).as_bool(), Some(true));
        assert_eq!(Value::Integer(1).as_bool(), None);
        assert!(Value::Nil.is_nil() && !Value::Integer(0).is_nil());
        let err = Value::Error(Bytes::from_static(b"ERR x"));
        assert!(err.is_error());
        assert_eq!(err.as_error(), Some(&b"ERR x"[..]));
        assert_eq!(err.as_bytes(), None);
        let set = Value::Set(vec![Value::Nil]);
        assert_eq!(set.as_array(), Some(&[Value::Nil][..]));
        assert_eq!(set.clone().into_array(), Some(vec![Value::Nil]));
        let map = Value::Map(vec![(Value::Integer(1), Value::Nil)]);
        assert_eq!(map.as_map().map(<[_]>::len), Some(1));
        assert_eq!(map.as_array(), None);
        assert_eq!(map.kind_name(), "map");
    }

    #[test]
    fn without_attributes_unwraps_nested_wrappers() {
        let inner = Value::Integer(7);
        let wrapped = Value::Attribute {
            attributes: vec![],
            value: Box::new(Value::Attribute {
                attributes: vec![(Value::Nil, Value::Nil)],
                value: Box::new(inner.clone()),
            }),
        };
        assert_eq!(wrapped.without_attributes(), inner);
    }
}
