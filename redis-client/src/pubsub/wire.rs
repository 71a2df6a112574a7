//! The fast path: takes a pub/sub message straight off the connection's read buffer.
//!
//! A message is an array (RESP2) or push (RESP3) of two to four bulk strings, the last possibly
//! an integer. Its headers are scanned without consuming anything; only once the whole frame
//! is in the buffer is it split off, and the channel, pattern and payload become slices of that
//! one split (reference-counted, not copied). No [`crate::Value`] and no vector is built. Any
//! other shape — a null channel, an array payload, an unknown kind, an error — is declined and
//! left to the general parser.

use bytes::BytesMut;

use super::message::{Data, Message, MessageKind};
use crate::connection::shortcut::Shortcut;
use crate::resp::MAX_BULK_LEN;

/// One element of a message frame, located by its byte range within the frame.
#[derive(Clone, Copy)]
enum Element {
    Bulk { start: usize, end: usize },
    Integer(i64),
}

/// Takes one complete pub/sub message off the front of `buf` (see the module documentation).
pub(super) fn take(buf: &mut BytesMut) -> Shortcut<Message> {
    let Some(&(b'*' | b'>')) = buf.first() else {
        return Shortcut::Declined;
    };
    let Some((count, mut at)) = line_number(buf, 0) else {
        return incomplete_or_declined(buf, 0);
    };
    let count = match count {
        Number::Value(n @ 2..=4) => n as usize,
        _ => return Shortcut::Declined,
    };
    let mut elements = [Element::Integer(0); 4];
    for slot in elements.iter_mut().take(count) {
        let Some(&tag) = buf.get(at) else {
            return Shortcut::Incomplete;
        };
        match tag {
            b'$' => {
                let Some((len, header_end)) = line_number(buf, at) else {
                    return incomplete_or_declined(buf, at);
                };
                let len = match len {
                    Number::Value(n) if n >= 0 && n as usize <= MAX_BULK_LEN => n as usize,
                    _ => return Shortcut::Declined,
                };
                let end = header_end + len;
                match buf.get(end..end + 2) {
                    None => return Shortcut::Incomplete,
                    Some(b"\r\n") => {}
                    Some(_) => return Shortcut::Declined,
                }
                *slot = Element::Bulk {
                    start: header_end,
                    end,
                };
                at = end + 2;
            }
            b':' => {
                let Some((n, line_end)) = line_number(buf, at) else {
                    return incomplete_or_declined(buf, at);
                };
                let Number::Value(n) = n else {
                    return Shortcut::Declined;
                };
                *slot = Element::Integer(n);
                at = line_end;
            }
            _ => return Shortcut::Declined,
        }
    }
    let Element::Bulk { start, end } = elements[0] else {
        return Shortcut::Declined;
    };
    let Some(kind) = MessageKind::from_wire(&buf[start..end]) else {
        return Shortcut::Declined;
    };
    if kind.frame_len() != count || !shape_fits(kind, &elements[..count]) {
        return Shortcut::Declined;
    }
    let frame = buf.split_to(at).freeze();
    let bytes = |element: Element| match element {
        Element::Bulk { start, end } => frame.slice(start..end),
        Element::Integer(_) => unreachable!("shape_fits checked the element types"),
    };
    let message = match kind {
        MessageKind::Pong => Message {
            kind,
            channel: Default::default(),
            pattern: None,
            data: Data::Bytes(bytes(elements[1])),
        },
        MessageKind::PMessage => Message {
            kind,
            pattern: Some(bytes(elements[1])),
            channel: bytes(elements[2]),
            data: Data::Bytes(bytes(elements[3])),
        },
        MessageKind::Message | MessageKind::SMessage => Message {
            kind,
            channel: bytes(elements[1]),
            pattern: None,
            data: Data::Bytes(bytes(elements[2])),
        },
        _ => {
            let Element::Integer(count) = elements[2] else {
                unreachable!("shape_fits checked the element types")
            };
            Message {
                kind,
                channel: bytes(elements[1]),
                pattern: None,
                data: Data::Count(count),
            }
        }
    };
    Shortcut::Taken(message)
}

/// Whether the elements have the types `kind` needs: bulk strings, and an integer count last
/// for confirmations.
fn shape_fits(kind: MessageKind, elements: &[Element]) -> bool {
    let is_bulk = |e: &Element| matches!(e, Element::Bulk { .. });
    let (last, init) = elements.split_last().expect("frames have 2 to 4 elements");
    init.iter().all(is_bulk)
        && if kind.is_confirmation() {
            matches!(last, Element::Integer(_))
        } else {
            is_bulk(last)
        }
}

enum Number {
    Value(i64),
    /// A negative number, which the fast path leaves to the general parser.
    Other,
}

/// Reads `<tag>[-]<digits>\r\n` at `at`: the number and the offset just past the line.
/// `None` when the line is incomplete or malformed (see [`incomplete_or_declined`]).
#[inline]
fn line_number(buf: &[u8], at: usize) -> Option<(Number, usize)> {
    let line = buf.get(at + 1..)?;
    let (negative, digits_from) = match line.first() {
        Some(b'-') => (true, 1),
        _ => (false, 0),
    };
    let mut n: i64 = 0;
    let mut digits = 0;
    for (i, &b) in line.iter().enumerate().skip(digits_from) {
        match b {
            b'0'..=b'9' if digits < 18 => {
                n = n * 10 + i64::from(b - b'0');
                digits += 1;
            }
            b'\r' if digits > 0 => {
                if *line.get(i + 1)? != b'\n' {
                    return None;
                }
                let end = at + 1 + i + 2;
                // Negative lengths are nulls (`$-1`); counts are never negative.
                let number = if negative {
                    Number::Other
                } else {
                    Number::Value(n)
                };
                return Some((number, end));
            }
            _ => return None,
        }
    }
    None
}

/// After [`line_number`] failed at `at`: `Incomplete` when the line simply has not ended yet
/// (no newline within a header's length), else `Declined` for the general parser to judge.
fn incomplete_or_declined<T>(buf: &[u8], at: usize) -> Shortcut<T> {
    const LONGEST_HEADER: usize = 24;
    let rest = &buf[at..];
    let window = &rest[..rest.len().min(LONGEST_HEADER)];
    if window.contains(&b'\n') || window.len() == LONGEST_HEADER {
        Shortcut::Declined
    } else {
        Shortcut::Incomplete
    }
}

#[cfg(test)]
fn taken(buf: &mut BytesMut) -> Option<Message> {
    match take(buf) {
        Shortcut::Taken(m) => Some(m),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resp::Parser;

    fn state(wire: &[u8]) -> (&'static str, usize) {
        let mut buf = BytesMut::from(wire);
        let label = match take(&mut buf) {
            Shortcut::Taken(_) => "taken",
            Shortcut::Incomplete => "incomplete",
            Shortcut::Declined => "declined",
        };
        (label, buf.len())
    }

    #[test]
    fn takes_every_message_kind_in_resp2_and_resp3() {
        let mut buf = BytesMut::from(
            &b"*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n\
               >4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$0\r\n\r\n\
               >3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n\
               *3\r\n$12\r\npunsubscribe\r\n$2\r\np*\r\n:0\r\n\
               *2\r\n$4\r\npong\r\n$3\r\nhey\r\n\
               *3\r\n$8\r\nsmessage\r\n$1\r\ns\r\n$1\r\nx\r\n+OK"[..],
        );
        let m = taken(&mut buf).unwrap();
        assert_eq!(
            (m.kind, &m.channel[..]),
            (MessageKind::Message, &b"news"[..])
        );
        assert_eq!(m.data, Data::Bytes("hello".into()));
        let m = taken(&mut buf).unwrap();
        assert_eq!(m.kind, MessageKind::PMessage);
        assert_eq!(m.pattern.as_deref(), Some(&b"n*"[..]));
        assert_eq!(m.data, Data::Bytes("".into()));
        let m = taken(&mut buf).unwrap();
        assert_eq!((m.kind, m.data), (MessageKind::Subscribe, Data::Count(1)));
        let m = taken(&mut buf).unwrap();
        assert_eq!(
            (m.kind, &m.channel[..], m.data),
            (MessageKind::PUnsubscribe, &b"p*"[..], Data::Count(0))
        );
        let m = taken(&mut buf).unwrap();
        assert_eq!(
            (m.kind, m.data),
            (MessageKind::Pong, Data::Bytes("hey".into()))
        );
        let m = taken(&mut buf).unwrap();
        assert_eq!(m.kind, MessageKind::SMessage);
        assert_eq!(state(&buf), ("declined", 3));
    }

    #[test]
    fn waits_for_partial_frames_without_consuming() {
        let whole = b"*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n";
        for cut in 1..whole.len() {
            assert_eq!(state(&whole[..cut]), ("incomplete", cut), "cut at {cut}");
        }
        assert_eq!(state(whole), ("taken", 0));
    }

    #[test]
    fn declines_other_shapes_for_the_general_parser() {
        for wire in [
            &b"+PONG\r\n"[..],
            b"-ERR no\r\n",
            b"*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n",
            b">3\r\n$11\r\nunsubscribe\r\n_\r\n:0\r\n",
            b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$1\r\nk\r\n",
            b"*3\r\n$7\r\nunknown\r\n$1\r\na\r\n$1\r\nb\r\n",
            b"*4\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n",
            b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n$1\r\n1\r\n",
            b"*1\r\n$4\r\npong\r\n",
            b"*3\r\n$7\r\nmessage\r\n$1\r\nab\r\n$1\r\nb\r\n",
            b"*3x\r\n",
            b"*99999999999999999999999\r\n",
        ] {
            assert_eq!(
                state(wire),
                ("declined", wire.len()),
                "{}",
                wire.escape_ascii()
            );
        }
    }

    #[test]
    fn agrees_with_the_general_parser() {
        let wire = b">3\r\n$8\r\nsmessage\r\n$3\r\nabc\r\n$7\r\n\x00\r\n\xff\xfe\r\n\r\n";
        let fast = taken(&mut BytesMut::from(&wire[..])).unwrap();
        let value = Parser::new()
            .parse(&mut BytesMut::from(&wire[..]))
            .unwrap()
            .unwrap();
        assert_eq!(fast, Message::from_frame(value, "SSUBSCRIBE").unwrap());
    }

    #[test]
    fn payloads_share_the_read_buffer() {
        let mut buf = BytesMut::from(&b"*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$3\r\nabc\r\n"[..]);
        let start = buf.as_ptr() as usize;
        let m = taken(&mut buf).unwrap();
        let data = m.payload().unwrap().as_ptr() as usize;
        assert_eq!(
            data - start,
            28,
            "the payload points into the original buffer"
        );
    }
}
