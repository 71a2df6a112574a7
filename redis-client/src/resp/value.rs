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
