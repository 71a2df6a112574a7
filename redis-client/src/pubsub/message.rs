//! [`Message`]: one frame received on a pub/sub connection, and how a general [`Value`] frame
//! becomes one.

use std::fmt;

use bytes::Bytes;

use crate::error::{Error, Result};
use crate::resp::Value;

/// What a pub/sub frame is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// Confirms a `SUBSCRIBE` to one channel.
    Subscribe,
    /// Confirms an `UNSUBSCRIBE` from one channel.
    Unsubscribe,
    /// Confirms a `PSUBSCRIBE` to one pattern.
    PSubscribe,
    /// Confirms a `PUNSUBSCRIBE` from one pattern.
    PUnsubscribe,
    /// Confirms an `SSUBSCRIBE` to one shard channel.
    SSubscribe,
    /// Confirms an `SUNSUBSCRIBE` from one shard channel.
    SUnsubscribe,
    /// A message published to a subscribed channel (`PUBLISH`).
    Message,
    /// A message published to a channel matching a subscribed pattern.
    PMessage,
    /// A message published to a subscribed shard channel (`SPUBLISH`).
    SMessage,
    /// The answer to [`crate::pubsub::PubSub::ping`].
    Pong,
}

impl MessageKind {
    /// The kind the server names `name` (`message`, `psubscribe`, `pong` …).
    pub(super) fn from_wire(name: &[u8]) -> Option<MessageKind> {
        Some(match name {
            b"message" => MessageKind::Message,
            b"pmessage" => MessageKind::PMessage,
            b"smessage" => MessageKind::SMessage,
            b"subscribe" => MessageKind::Subscribe,
            b"unsubscribe" => MessageKind::Unsubscribe,
            b"psubscribe" => MessageKind::PSubscribe,
            b"punsubscribe" => MessageKind::PUnsubscribe,
            b"ssubscribe" => MessageKind::SSubscribe,
            b"sunsubscribe" => MessageKind::SUnsubscribe,
            _ if name.eq_ignore_ascii_case(b"pong") => MessageKind::Pong,
            _ => return None,
        })
    }

    /// The server's name for this kind, e.g. `pmessage`.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Subscribe => "subscribe",
            MessageKind::Unsubscribe => "unsubscribe",
            MessageKind::PSubscribe => "psubscribe",
            MessageKind::PUnsubscribe => "punsubscribe",
            MessageKind::SSubscribe => "ssubscribe",
            MessageKind::SUnsubscribe => "sunsubscribe",
            MessageKind::Message => "message",
            MessageKind::PMessage => "pmessage",
            MessageKind::SMessage => "smessage",
            MessageKind::Pong => "pong",
        }
    }

    /// Whether this confirms a subscription or an unsubscription.
    pub fn is_confirmation(self) -> bool {
        self.is_subscribe() || self.is_unsubscribe()
    }

    /// Whether this confirms a subscription (`subscribe`, `psubscribe`, `ssubscribe`).
    pub fn is_subscribe(self) -> bool {
        matches!(
            self,
            MessageKind::Subscribe | MessageKind::PSubscribe | MessageKind::SSubscribe
        )
    }

    /// Whether this confirms an unsubscription (`unsubscribe`, `punsubscribe`, `sunsubscribe`).
    pub fn is_unsubscribe(self) -> bool {
        matches!(
            self,
            MessageKind::Unsubscribe | MessageKind::PUnsubscribe | MessageKind::SUnsubscribe
        )
    }

    /// Whether this carries a published payload (`message`, `pmessage`, `smessage`).
    pub fn is_published(self) -> bool {
        matches!(
            self,
            MessageKind::Message | MessageKind::PMessage | MessageKind::SMessage
        )
    }

    /// How many elements the server's frame for this kind has.
    pub(super) fn frame_len(self) -> usize {
        match self {
            MessageKind::PMessage => 4,
            MessageKind::Pong => 2,
            _ => 3,
        }
    }
}

impl fmt::Display for MessageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A payload checked to be UTF-8, sharing the connection's buffer (no copy).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Text(Bytes);

impl Text {
    /// Checks `bytes`; `None` when they are not UTF-8.
    pub fn new(bytes: Bytes) -> Option<Text> {
        std::str::from_utf8(&bytes).ok()?;
        Some(Text(bytes))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        // Without `unsafe` the check runs again; it is linear and far cheaper than a copy.
        std::str::from_utf8(&self.0).expect("Text holds only checked UTF-8")
    }

    /// The underlying bytes.
    pub fn as_bytes(&self) -> &Bytes {
        &self.0
    }

    /// The underlying bytes, without copying.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `data` of a [`Message`].
#[derive(Clone, Debug, PartialEq)]
pub enum Data {
    /// A payload as the server sent it (the client's `decode_responses` is off).
    Bytes(Bytes),
    /// A payload checked to be UTF-8 (the client's `decode_responses` is on).
    Text(Text),
    /// For a (un)subscribe confirmation: how many subscriptions the connection has now.
    Count(i64),
    /// A payload of any other shape, such as the key list of a RESP2 `__redis__:invalidate`
    /// message from client-side caching.
    Value(Value),
}

impl Data {
    /// The payload's bytes, for [`Data::Bytes`] and [`Data::Text`].
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Data::Bytes(b) => Some(b),
            Data::Text(t) => Some(t.as_bytes()),
            Data::Count(_) | Data::Value(_) => None,
        }
    }

    /// The payload as text, for [`Data::Text`] and for [`Data::Bytes`] holding UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Data::Text(t) => Some(t.as_str()),
            Data::Bytes(b) => std::str::from_utf8(b).ok(),
            Data::Count(_) | Data::Value(_) => None,
        }
    }

    /// The subscription count of a confirmation.
    pub fn as_count(&self) -> Option<i64> {
        match self {
            Data::Count(n) => Some(*n),
            _ => None,
        }
    }
}

/// One message from a pub/sub connection (redis-py's message dictionary).
///
/// - `Message` / `SMessage`: `channel` and the published `data`.
/// - `PMessage`: also the subscribed `pattern` the channel matched.
/// - Confirmations: the `channel` (or pattern) concerned and [`Data::Count`]; `channel` is empty
///   for an unsubscribe-from-all that found no subscription.
/// - `Pong`: an empty `channel` and the `PING` message as data (empty for a plain `PING`).
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    /// What the frame is.
    pub kind: MessageKind,
    /// The channel (for confirmations of `PSUBSCRIBE` / `PUNSUBSCRIBE`: the pattern).
    pub channel: Bytes,
    /// For `PMessage`: the pattern the channel matched.
    pub pattern: Option<Bytes>,
    /// The payload, or the subscription count of a confirmation.
    pub data: Data,
}

impl Message {
    /// The channel as text, when it is UTF-8.
    pub fn channel_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.channel).ok()
    }

    /// The pattern as text, when there is one and it is UTF-8.
    pub fn pattern_str(&self) -> Option<&str> {
        std::str::from_utf8(self.pattern.as_deref()?).ok()
    }

    /// The payload's bytes (see [`Data::as_bytes`]).
    pub fn payload(&self) -> Option<&[u8]> {
        self.data.as_bytes()
    }

    /// Builds a message from a frame the general parser read: a RESP2 array, a RESP3 push, or
    /// (for `PING` outside RESP2 subscribed mode) a plain reply. `last_command` names the
    /// command an error reply most likely answers.
    pub(crate) fn from_frame(frame: Value, last_command: &str) -> Result<Message> {
        let items = match frame.without_attributes() {
            Value::Array(items) | Value::Push(items) => items,
            Value::Simple(s) if s.eq_ignore_ascii_case(b"PONG") => {
                return Ok(pong(Bytes::new()));
            }
            // PING with a message answers with it as a bulk string.
            Value::Bulk(message) => return Ok(pong(message)),
            Value::Error(payload) => {
                return Err(Error::from_server_reply(&payload, Some(last_command)));
            }
            other => {
                return Err(Error::PubSub(format!(
                    "unexpected {} frame on the pub/sub connection ({other})",
                    other.kind_name()
                )));
            }
        };
        let kind = items
            .first()
            .and_then(Value::as_bytes)
            .and_then(MessageKind::from_wire);
        let Some(kind) = kind.filter(|kind| kind.frame_len() == items.len()) else {
            return Err(Error::PubSub(format!(
                "unexpected frame on the pub/sub connection: {}",
                Value::Array(items)
            )));
        };
        let mut items = items.into_iter().skip(1);
        let mut next = || items.next().unwrap_or(Value::Nil);
        let message = match kind {
            MessageKind::Pong => pong(bytes_or_empty(next())),
            MessageKind::PMessage => {
                let pattern = bytes_or_empty(next());
                let channel = bytes_or_empty(next());
                Message {
                    kind,
                    channel,
                    pattern: Some(pattern),
                    data: payload(next()),
                }
            }
            MessageKind::Message | MessageKind::SMessage => Message {
                kind,
                channel: bytes_or_empty(next()),
                pattern: None,
                data: payload(next()),
            },
            _ => {
                let channel = bytes_or_empty(next());
                let data = match next() {
                    Value::Integer(n) => Data::Count(n),
                    other => {
                        return Err(Error::PubSub(format!(
                            "{kind} confirmation with a {} where the subscription count belongs",
                            other.kind_name()
                        )))
                    }
                };
                Message {
                    kind,
                    channel,
                    pattern: None,
                    data,
                }
            }
        };
        Ok(message)
    }

    /// For `decode_responses`: checks that channel, pattern and payload are UTF-8 and marks the
    /// payload as text.
    pub(crate) fn decode(mut self) -> Result<Message> {
        let bad = |what: &str, message: &Message| {
            Error::Data(format!(
                "decode_responses: the {what} of a {} message on channel {:?} is not valid UTF-8",
                message.kind,
                String::from_utf8_lossy(&message.channel)
            ))
        };
        if std::str::from_utf8(&self.channel).is_err() {
            return Err(bad("channel", &self));
        }
        if self
            .pattern
            .as_ref()
            .is_some_and(|p| std::str::from_utf8(p).is_err())
        {
            return Err(bad("pattern", &self));
        }
        if let Data::Bytes(bytes) = &self.data {
            match Text::new(bytes.clone()) {
                Some(text) => self.data = Data::Text(text),
                None => return Err(bad("payload", &self)),
            }
        }
        Ok(self)
    }
}

fn pong(data: Bytes) -> Message {
    Message {
        kind: MessageKind::Pong,
        channel: Bytes::new(),
        pattern: None,
        data: Data::Bytes(data),
    }
}

/// A channel or pattern; a null one (unsubscribing from all with nothing subscribed) is empty.
fn bytes_or_empty(value: Value) -> Bytes {
    value.into_bytes().unwrap_or_default()
}

fn payload(value: Value) -> Data {
    match value {
        Value::Bulk(b) | Value::Simple(b) => Data::Bytes(b),
        other => Data::Value(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::Bulk(Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn frames_of_every_kind_become_messages() {
        let m = Message::from_frame(
            Value::Push(vec![bulk("pmessage"), bulk("n*"), bulk("news"), bulk("hi")]),
            "PSUBSCRIBE",
        )
        .unwrap();
        assert_eq!(m.kind, MessageKind::PMessage);
        assert_eq!(m.pattern_str(), Some("n*"));
        assert_eq!(m.channel_str(), Some("news"));
        assert_eq!(m.data.as_str(), Some("hi"));

        let m = Message::from_frame(
            Value::Array(vec![bulk("unsubscribe"), Value::Nil, Value::Integer(0)]),
            "UNSUBSCRIBE",
        )
        .unwrap();
        assert_eq!(m.kind, MessageKind::Unsubscribe);
        assert!(m.channel.is_empty());
        assert_eq!(m.data, Data::Count(0));

        let m = Message::from_frame(Value::Array(vec![bulk("pong"), bulk("")]), "PING").unwrap();
        assert_eq!((m.kind, m.payload()), (MessageKind::Pong, Some(&b""[..])));
        let m = Message::from_frame(Value::Simple("PONG".into()), "PING").unwrap();
        assert_eq!(m.kind, MessageKind::Pong);
        let m = Message::from_frame(bulk("hello"), "PING").unwrap();
        assert_eq!(m.payload(), Some(&b"hello"[..]));

        let keys = Value::Array(vec![bulk("k1")]);
        let m = Message::from_frame(
            Value::Array(vec![
                bulk("message"),
                bulk("__redis__:invalidate"),
                keys.clone(),
            ]),
            "SUBSCRIBE",
        )
        .unwrap();
        assert_eq!(m.data, Data::Value(keys));
    }

    #[test]
    fn malformed_frames_and_errors_are_named() {
        let err = Message::from_frame(Value::Error("NOPERM no".into()), "SSUBSCRIBE").unwrap_err();
        assert_eq!(err.code(), Some("NOPERM"));
        assert!(err.to_string().contains("SSUBSCRIBE"), "{err}");
        let err = Message::from_frame(Value::Array(vec![bulk("message"), bulk("c")]), "SUBSCRIBE")
            .unwrap_err();
        assert!(err.to_string().contains("unexpected frame"), "{err}");
        let err = Message::from_frame(
            Value::Array(vec![bulk("subscribe"), bulk("c"), bulk("x")]),
            "SUBSCRIBE",
        )
        .unwrap_err();
        assert!(err.to_string().contains("subscription count"), "{err}");
        let err = Message::from_frame(Value::Integer(3), "PING").unwrap_err();
        assert!(err.to_string().contains("integer"), "{err}");
    }

    #[test]
    fn decode_checks_utf8_and_shares_the_bytes() {
        let m = Message {
            kind: MessageKind::Message,
            channel: "c".into(),
            pattern: None,
            data: Data::Bytes("é".into()),
        };
        let decoded = m.decode().unwrap();
        assert!(matches!(&decoded.data, Data::Text(t) if t.as_str() == "é"));
        let bad = Message {
            kind: MessageKind::Message,
            channel: "c".into(),
            pattern: None,
            data: Data::Bytes(Bytes::from_static(b"\xff")),
        };
        let err = bad.decode().unwrap_err();
        assert!(err.to_string().contains("payload"), "{err}");
        assert!(err.to_string().contains("\"c\""), "{err}");
    }
}
