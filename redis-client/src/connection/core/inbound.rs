//! The receiving half of the protocol: the bytes received so far and the incremental parser
//! that turns them into frames, plus the rule that tells a RESP3 push from a reply.

use bytes::BytesMut;

use crate::config::Protocol;
use crate::resp::{Parser, ProtocolError, Value};

/// Read buffer and parser of one connection.
#[derive(Debug)]
pub(crate) struct Inbound {
    buf: BytesMut,
    parser: Parser,
}

impl Inbound {
    pub(crate) fn with_capacity(capacity: usize) -> Inbound {
        Inbound {
            buf: BytesMut::with_capacity(capacity),
            parser: Parser::new(),
        }
    }

    /// The received bytes not parsed yet; front ends append what the socket gave them.
    #[inline]
    pub(crate) fn buffer(&mut self) -> &mut BytesMut {
        &mut self.buf
    }

    /// The next complete frame, or `None` until more bytes arrive. A malformed stream is a
    /// protocol error, after which the connection must be discarded.
    #[inline(always)]
    pub(crate) fn next_frame(&mut self) -> Result<Option<Value>, ProtocolError> {
        self.parser.parse(&mut self.buf)
    }

    /// Whether no byte is waiting: the buffer is empty and no frame is half parsed.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty() && self.parser.is_idle()
    }

    /// Whether the parser sits between frames (shortcuts may look at the buffer then).
    #[inline]
    pub(crate) fn between_frames(&self) -> bool {
        self.parser.is_idle()
    }

    /// Whether the buffered bytes, received when no reply is owed, look like an unsolicited
    /// reply: the start of a frame (complete or not) that is not a RESP3 push.
    ///
    /// Bytes that are no RESP at all are not a reply but a broken stream: the parser fails on
    /// them at the next read.
    pub(crate) fn holds_reply(&self, protocol: Protocol) -> bool {
        match self.buf.first() {
            None => !self.parser.is_idle(),
            Some(b'>') if protocol == Protocol::Resp3 => false,
            Some(_) => {
                // Rare (the stream is out of step), so a copy is cheap enough.
                let mut copy = self.buf.clone();
                match Parser::new().parse(&mut copy) {
                    Ok(Some(_)) => true,
                    Ok(None) => plausible_start(&self.buf),
                    Err(_) => false,
                }
            }
        }
    }

    /// Whether the buffered bytes start a RESP3 push frame.
    pub(crate) fn starts_push(&self, protocol: Protocol) -> bool {
        protocol == Protocol::Resp3 && self.buf.first() == Some(&b'>')
    }

    /// A short printable sample of the buffered bytes, for error messages.
    pub(crate) fn sample(&self) -> String {
        let end = self.buf.len().min(24);
        let mut text = self.buf[..end].escape_ascii().to_string();
        if end < self.buf.len() {
            text.push('…');
        }
        text
    }
}

/// Whether `frame` is an out-of-band RESP3 push rather than a reply.
#[inline]
pub(crate) fn is_push(frame: &Value, protocol: Protocol) -> bool {
    matches!(frame, Value::Push(_)) && protocol == Protocol::Resp3
}

/// Whether an incomplete frame's first line, as far as it arrived, fits its type byte: a length
/// or count (digits, a sign, `?` for streamed) where one is due, anything for text lines.
fn plausible_start(buf: &[u8]) -> bool {
    let Some((&kind, rest)) = buf.split_first() else {
        return false;
    };
    let line = rest.split(|&b| b == b'\r').next().unwrap_or_default();
    let numeric = |line: &[u8]| {
        line.iter()
            .enumerate()
            .all(|(i, &b)| b.is_ascii_digit() || (i == 0 && matches!(b, b'-' | b'?')))
    };
    match kind {
        b'$' | b'*' | b'%' | b'~' | b'>' | b'|' | b'=' | b'!' | b':' | b'(' => numeric(line),
        b'+' | b'-' | b',' => true,
        b'#' => line.is_empty() || matches!(line, b"t" | b"f"),
        b'_' => line.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holds_reply(bytes: &[u8], protocol: Protocol) -> bool {
        let mut inbound = Inbound::with_capacity(0);
        inbound.buffer().extend_from_slice(bytes);
        inbound.holds_reply(protocol)
    }

    #[test]
    fn leftover_bytes_that_can_start_a_reply_count_as_one() {
        for reply in [
            &b"+STALE\r\n"[..],
            b"+ST",
            b"$5\r\nhel",
            b"$1",
            b"*2\r\n:1\r\n",
            b":-",
            b"-ERR x",
            b"_",
        ] {
            assert!(
                holds_reply(reply, Protocol::Resp3),
                "{}",
                reply.escape_ascii()
            );
        }
        assert!(holds_reply(b">2\r\n", Protocol::Resp2));
    }

    #[test]
    fn pushes_and_garbage_do_not() {
        assert!(!holds_reply(b">2\r\n$7\r\nmess", Protocol::Resp3));
        assert!(!holds_reply(b"", Protocol::Resp3));
        for garbage in [&b"$EOF:4f2a\r\n"[..], b"$EOF", b"hello", b"*x", b"#maybe"] {
            assert!(
                !holds_reply(garbage, Protocol::Resp3),
                "{}",
                garbage.escape_ascii()
            );
        }
    }
}
