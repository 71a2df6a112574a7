//! The incremental RESP2/RESP3 parser.
//!
//! The parser consumes each element from the read buffer as soon as it is complete and keeps the
//! aggregates still being filled on an explicit stack, so bytes that arrive in many reads are
//! examined once: a partial line is searched from where the last search stopped, and a string
//! whose header arrived waits with its length remembered. String payloads are split off the
//! buffer (`split_to(..).freeze()`), which shares the buffer's allocation instead of copying.

use bytes::{Buf, Bytes, BytesMut};

use super::aggregate::{release_slot, AggregateKind, Items, Partial, Room, Step};
use super::fast_path;
use super::limits::{MAX_AGGREGATE_LEN, MAX_BULK_LEN, MAX_DEPTH};
use super::number::{is_big_number, parse_f64, parse_i64};
use super::protocol_error::{quoted, ProtocolError};
use super::Value;

/// Header lines (`$5`, `*3`) and short scalars never need more than this many bytes.
const SHORT_LINE: usize = 32;
/// Doubles from other servers may carry more digits than Redis's `%.17g`; this fits `%f` of any.
const DOUBLE_LINE: usize = 512;

/// Reads RESP2/RESP3 replies from a growing byte buffer, one complete frame at a time.
///
/// Feed it the connection's read buffer after every read: [`Parser::parse`] returns
/// `Ok(Some(value))` once a whole frame has arrived and `Ok(None)` while more bytes are needed.
/// Between calls the parser keeps the part of the frame it has already consumed, so the caller
/// must keep passing the same buffer, only appending to it. After an error the parser resets, but
/// the stream position is lost: discard the connection.
///
/// ```
/// use bytes::BytesMut;
/// use redis_client::resp::Parser;
/// use redis_client::Value;
///
/// let mut parser = Parser::new();
/// let mut buf = BytesMut::from(&b"*2\r\n$3\r\nfoo\r\n:4"[..]);
/// assert_eq!(parser.parse(&mut buf), Ok(None));
/// buf.extend_from_slice(b"2\r\n");
/// let reply = parser.parse(&mut buf).unwrap().unwrap();
/// assert_eq!(reply, Value::Array(vec![Value::Bulk("foo".into()), Value::Integer(42)]));
/// assert!(buf.is_empty());
/// ```
#[derive(Debug, Default)]
pub struct Parser {
    /// Aggregates whose header has been read but which still miss elements, outermost first.
    stack: Vec<Partial>,
    /// A string whose header has been consumed and whose payload has not fully arrived.
    pending: Option<PendingString>,
    /// How many bytes of the line at the buffer's start were already searched for `\n`.
    scanned: usize,
    /// Received bytes the open aggregates' spare capacity stands for (each reserved slot
    /// claims [`AggregateKind::claim_per_slot`] of them until an element fills it); new
    /// reservations only use bytes not so claimed.
    claimed: usize,
}

impl Parser {
    /// A parser with nothing buffered.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses the next frame from the front of `buf`.
    ///
    /// Returns `Ok(Some(value))` when a frame is complete: its bytes are gone from `buf`, and
    /// anything after it (the next reply) stays. Returns `Ok(None)` when more bytes are needed;
    /// the complete elements of an unfinished frame may already have been consumed into the
    /// parser. Attributes (`|`) are returned wrapped around the value they annotate.
    pub fn parse(&mut self, buf: &mut BytesMut) -> Result<Option<Value>, ProtocolError> {
        // A whole plain reply (`+OK`, `:1`, a bulk string) while nothing is half parsed: what
        // `run` would return, without its loop and aggregate bookkeeping.
        if self.stack.is_empty() && self.pending.is_none() && self.scanned == 0 {
            if let Some(value) = fast_path::take_element(buf) {
                return Ok(Some(value));
            }
        }
        let result = self.run(buf);
        if result.is_err() {
            self.reset();
        }
        result
    }

    /// Whether no frame is partially consumed (the parser sits between replies).
    pub fn is_idle(&self) -> bool {
        self.stack.is_empty() && self.pending.is_none() && self.scanned == 0
    }

    /// Forgets any partially parsed frame, for reuse on a fresh stream.
    pub fn reset(&mut self) {
        self.stack.clear();
        self.pending = None;
        self.scanned = 0;
        self.claimed = 0;
    }

    fn run(&mut self, buf: &mut BytesMut) -> Result<Option<Value>, ProtocolError> {
        loop {
            let value = if let Some(pending) = self.pending {
                match take_string(buf, pending)? {
                    Some(value) => {
                        self.pending = None;
                        value
                    }
                    None => return Ok(None),
                }
            } else {
                // The shortcuts are only for a line the general path has not started searching.
                let fast = if self.scanned == 0 {
                    self.fill_fast(buf);
                    fast_path::take_element(buf)
                } else {
                    None
                };
                match fast {
                    Some(value) => value,
                    None => {
                        let Some(line_len) = self.find_line(buf)? else {
                            return Ok(None);
                        };
                        match self.read_line(buf, line_len)? {
                            Some(value) => value,
                            None => continue,
                        }
                    }
                }
            };
            if let Some(frame) = self.complete(value, buf.len()) {
                return Ok(Some(frame));
            }
        }
    }

    /// Moves complete plain elements (see [`fast_path`]) straight into the innermost open array,
    /// set, push or map, stopping before its last element so that closing it stays with
    /// [`Parser::complete`].
    fn fill_fast(&mut self, buf: &mut BytesMut) {
        let Some(top) = self.stack.last_mut() else {
            return;
        };
        let claimed = &mut self.claimed;
        match &mut top.items {
            Items::Seq(items) => {
                while top.remaining > 1 {
                    if items.len() < items.capacity() {
                        if !fast_path::take_element_into(buf, |value| items.push(value)) {
                            break;
                        }
                        release_slot(&mut top.reserved, top.kind, claimed);
                    } else {
                        // Room is made for an element that has arrived, never ahead of it.
                        let Some(value) = fast_path::take_element(buf) else {
                            break;
                        };
                        let room = Room::new(top.kind, top.remaining, buf.len());
                        room.make(items, &mut top.reserved, claimed);
                        items.push(value);
                    }
                    top.remaining -= 1;
                }
            }
            Items::Pairs { pairs, key } if top.kind == AggregateKind::Map => {
                while top.remaining > 1 {
                    let Some(k) = key.take().or_else(|| fast_path::take_element(buf)) else {
                        break;
                    };
                    let Some(v) = fast_path::take_element(buf) else {
                        *key = Some(k);
                        break;
                    };
                    release_slot(&mut top.reserved, top.kind, claimed);
                    let room = Room::new(top.kind, top.remaining, buf.len());
                    room.make(pairs, &mut top.reserved, claimed);
                    pairs.push((k, v));
                    top.remaining -= 1;
                }
            }
            Items::Pairs { .. } => {}
        }
    }

    /// Finds the CRLF ending the line at the front of `buf`; returns the line's length before it.
    fn find_line(&mut self, buf: &BytesMut) -> Result<Option<usize>, ProtocolError> {
        let Some(&tag) = buf.first() else {
            return Ok(None);
        };
        let (kind, limit) = line_kind(tag, buf)?;
        // A line of `limit` bytes plus CRLF is the most worth searching.
        let window = &buf[..buf.len().min(limit + 2)];
        let from = self.scanned.max(1);
        let Some(found) = window
            .get(from..)
            .and_then(|w| w.iter().position(|&b| b == b'\n'))
        else {
            if window.len() == limit + 2 {
                return Err(ProtocolError::LineTooLong {
                    kind,
                    limit,
                    start: quoted(window),
                });
            }
            self.scanned = window.len();
            return Ok(None);
        };
        self.scanned = 0;
        let newline = from + found;
        if buf[newline - 1] != b'\r' {
            return Err(ProtocolError::MissingCrlf {
                after: format!("{kind} line {}", quoted(&buf[..newline])),
                got: quoted(b"\n"),
            });
        }
        // The window stops at `limit + 2` bytes, so the line is within its limit.
        Ok(Some(newline - 1))
    }

    /// Consumes the complete line of `line_len` bytes (and its CRLF) at the front of `buf`.
    ///
    /// Returns the value it completes, or `None` when it opened an aggregate or a string.
    fn read_line(
        &mut self,
        buf: &mut BytesMut,
        line_len: usize,
    ) -> Result<Option<Value>, ProtocolError> {
        let tag = buf[0];
        let body = &buf[1..line_len];
        let value = match tag {
            b'+' | b'-' => {
                buf.advance(1);
                let text = buf.split_to(line_len - 1).freeze();
                buf.advance(2);
                return Ok(Some(if tag == b'+' {
                    Value::Simple(text)
                } else {
                    Value::Error(text)
                }));
            }
            b'(' => {
                if !is_big_number(body) {
                    return Err(invalid_scalar("big number", &buf[..line_len]));
                }
                buf.advance(1);
                let digits = buf.split_to(line_len - 1).freeze();
                buf.advance(2);
                return Ok(Some(Value::BigNumber(digits)));
            }
            b':' => Value::Integer(
                parse_i64(body).ok_or_else(|| invalid_scalar("integer", &buf[..line_len]))?,
            ),
            b',' => Value::Double(
                parse_f64(body).ok_or_else(|| invalid_scalar("double", &buf[..line_len]))?,
            ),
            b'#' => match body {
                b"t" => Value::Boolean(true),
                b"f" => Value::Boolean(false),
                _ => return Err(invalid_scalar("boolean", &buf[..line_len])),
            },
            b'_' => {
                if !body.is_empty() {
                    return Err(invalid_scalar("null", &buf[..line_len]));
                }
                Value::Nil
            }
            b'$' | b'!' | b'=' => {
                let len = header_len(&buf[..line_len], MAX_BULK_LEN)?;
                buf.advance(line_len + 2);
                let Some(len) = len else {
                    return Ok(Some(Value::Nil));
                };
                let kind = match tag {
                    b'$' => StringKind::Bulk,
                    b'!' => StringKind::Error,
                    _ => StringKind::Verbatim,
                };
                self.pending = Some(PendingString { kind, len });
                return Ok(None);
            }
            _ => {
                // `line_kind` admitted only the aggregate type bytes beyond this point.
                let count = header_len(&buf[..line_len], MAX_AGGREGATE_LEN)?;
                buf.advance(line_len + 2);
                let Some(count) = count else {
                    return Ok(Some(Value::Nil));
                };
                return self.open_aggregate(tag, count);
            }
        };
        buf.advance(line_len + 2);
        Ok(Some(value))
    }

    /// Starts an aggregate of `count` elements (pairs for maps and attributes).
    ///
    /// Nothing is reserved yet: a header's count is the server's word, and the bytes after it
    /// may be a nested aggregate's rather than this one's. Room is made when the first element
    /// arrives, from the bytes received by then (see [`Room`]).
    fn open_aggregate(&mut self, tag: u8, count: usize) -> Result<Option<Value>, ProtocolError> {
        let kind = match tag {
            b'*' => AggregateKind::Array,
            b'~' => AggregateKind::Set,
            b'>' => AggregateKind::Push,
            b'%' => AggregateKind::Map,
            _ => AggregateKind::Attribute,
        };
        if count == 0 && kind != AggregateKind::Attribute {
            return Ok(Some(kind.empty()));
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(ProtocolError::TooDeep { limit: MAX_DEPTH });
        }
        let items = if kind.is_keyed() {
            Items::Pairs {
                pairs: Vec::new(),
                key: None,
            }
        } else {
            Items::Seq(Vec::new())
        };
        self.stack.push(Partial {
            kind,
            items,
            remaining: count,
            reserved: 0,
        });
        Ok(None)
    }

    /// Hands a finished value to the innermost open aggregate, closing every aggregate it
    /// completes; returns the whole frame once the outermost one closes.
    ///
    /// `unread` is how many received bytes follow the value in the buffer.
    fn complete(&mut self, mut value: Value, unread: usize) -> Option<Value> {
        loop {
            let Some(top) = self.stack.last_mut() else {
                return Some(value);
            };
            match top.add(value, unread, &mut self.claimed) {
                Step::More => return None,
                Step::Done(finished) => {
                    self.stack.pop();
                    value = finished;
                }
            }
        }
    }
}

/// The RESP type a line-opening byte announces and the longest line it may have.
fn line_kind(tag: u8, buf: &[u8]) -> Result<(&'static str, usize), ProtocolError> {
    Ok(match tag {
        b'+' => ("simple string", MAX_BULK_LEN),
        b'-' => ("simple error", MAX_BULK_LEN),
        b'(' => ("big number", MAX_BULK_LEN),
        b':' => ("integer", SHORT_LINE),
        b',' => ("double", DOUBLE_LINE),
        b'#' => ("boolean", SHORT_LINE),
        b'_' => ("null", SHORT_LINE),
        b'$' | b'!' | b'=' | b'*' | b'~' | b'>' | b'%' | b'|' => ("header", SHORT_LINE),
        b';' | b'.' => {
            return Err(ProtocolError::Streamed {
                header: quoted(&buf[..buf.len().min(SHORT_LINE)]),
            })
        }
        byte => {
            return Err(ProtocolError::UnknownType {
                byte,
                line: quoted(&buf[..buf.len().min(SHORT_LINE)]),
            })
        }
    })
}

/// Reads the length in a `$`/`!`/`=` or aggregate header line; `None` is the RESP2 null (`-1`,
/// allowed only after `$` and `*`).
fn header_len(line: &[u8], max: usize) -> Result<Option<usize>, ProtocolError> {
    let invalid = |reason| ProtocolError::InvalidHeader {
        header: quoted(line),
        reason,
    };
    let digits = &line[1..];
    if digits == b"?" {
        return Err(ProtocolError::Streamed {
            header: quoted(line),
        });
    }
    let n = parse_i64(digits).ok_or_else(|| invalid("length is not a decimal integer"))?;
    if n == -1 && matches!(line[0], b'$' | b'*') {
        return Ok(None);
    }
    let n = usize::try_from(n).map_err(|_| invalid("negative length"))?;
    if n > max {
        return Err(invalid(if max == MAX_BULK_LEN {
            "length over the 512 MiB limit"
        } else {
            "element count over the limit"
        }));
    }
    Ok(Some(n))
}

fn invalid_scalar(kind: &'static str, line: &[u8]) -> ProtocolError {
    ProtocolError::InvalidScalar {
        kind,
        line: quoted(line),
    }
}

/// Takes a string payload announced by a consumed header, if it and its CRLF have arrived.
fn take_string(buf: &mut BytesMut, pending: PendingString) -> Result<Option<Value>, ProtocolError> {
    let len = pending.len;
    let Some(terminator) = buf.get(len..len + 2) else {
        return Ok(None);
    };
    if terminator != b"\r\n" {
        return Err(ProtocolError::MissingCrlf {
            after: format!("{} of {len} bytes", pending.kind.name()),
            got: quoted(terminator),
        });
    }
    let payload = if len == 0 {
        Bytes::new()
    } else {
        buf.split_to(len).freeze()
    };
    buf.advance(2);
    Ok(Some(match pending.kind {
        StringKind::Bulk => Value::Bulk(payload),
        StringKind::Error => Value::Error(payload),
        StringKind::Verbatim => {
            let [a, b, c, b':', ..] = payload[..] else {
                return Err(ProtocolError::InvalidVerbatim {
                    payload: quoted(&payload),
                });
            };
            Value::Verbatim {
                format: [a, b, c],
                text: payload.slice(4..),
            }
        }
    }))
}

#[derive(Clone, Copy, Debug)]
struct PendingString {
    kind: StringKind,
    len: usize,
}

#[derive(Clone, Copy, Debug)]
enum StringKind {
    Bulk,
    Error,
    Verbatim,
}

impl StringKind {
    fn name(self) -> &'static str {
        match self {
            StringKind::Bulk => "bulk string",
            StringKind::Error => "bulk error",
            StringKind::Verbatim => "verbatim string",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resp::aggregate::RESERVED_PER_BYTE;

    fn parse_in_pieces(parser: &mut Parser, wire: &[u8], piece: usize) -> Option<Value> {
        let mut buf = BytesMut::new();
        let mut frame = None;
        for chunk in wire.chunks(piece) {
            buf.extend_from_slice(chunk);
            if let Some(value) = parser.parse(&mut buf).unwrap() {
                frame = Some(value);
            }
        }
        frame
    }

    #[test]
    fn nested_headers_reserve_nothing_until_an_element_arrives() {
        let mut parser = Parser::new();
        let mut buf = BytesMut::from(&b"*1000\r\n*1000\r\n%1000\r\n"[..]);
        buf.extend_from_slice(&[b'$'; 1]);
        assert_eq!(parser.parse(&mut buf), Ok(None));
        assert_eq!(parser.stack.len(), 3);
        assert_eq!(parser.claimed, 0);
        for partial in &parser.stack {
            let capacity = match &partial.items {
                Items::Seq(items) => items.capacity(),
                Items::Pairs { pairs, .. } => pairs.capacity(),
            };
            assert_eq!(capacity, 0);
        }
    }

    #[test]
    fn the_first_element_reserves_what_the_unclaimed_bytes_justify() {
        let per_slot = AggregateKind::Array.claim_per_slot();
        let capacity = |parser: &Parser| match &parser.stack[0].items {
            Items::Seq(items) => (items.len(), items.capacity()),
            Items::Pairs { .. } => panic!("an array"),
        };
        // Elements of `per_slot` bytes: the first one's room holds all that arrived with it.
        let element = format!("+{}\r\n", "x".repeat(per_slot - 3));
        let mut parser = Parser::new();
        let mut buf = BytesMut::from(&b"*1000\r\n"[..]);
        buf.extend_from_slice(element.repeat(100).as_bytes());
        assert_eq!(parser.parse(&mut buf), Ok(None));
        assert_eq!(capacity(&parser), (100, 100));
        assert_eq!(parser.claimed, 0, "every reserved slot was filled");
        // Shorter elements get a slot per `per_slot` bytes, then the vector grows fourfold.
        let mut parser = Parser::new();
        let mut buf = BytesMut::from(&b"*1000\r\n"[..]);
        let rest = b"_\r\n".repeat(100);
        buf.extend_from_slice(&rest);
        assert_eq!(parser.parse(&mut buf), Ok(None));
        let first = 1 + (rest.len() - 3) / per_slot;
        assert_eq!(capacity(&parser), (100, 4 * first));
        assert!(first * std::mem::size_of::<Value>() <= RESERVED_PER_BYTE * rest.len());
    }

    #[test]
    fn claims_are_released_as_frames_complete() {
        let mut wire = b"*3\r\n%2\r\n+a\r\n*2\r\n:1\r\n:2\r\n+b\r\n_\r\n".to_vec();
        wire.extend_from_slice(b"~2\r\n$3\r\nabc\r\n#t\r\n|1\r\n+k\r\n+v\r\n:7\r\n");
        for piece in [1, 2, 5, wire.len()] {
            let mut parser = Parser::new();
            let frame = parse_in_pieces(&mut parser, &wire, piece).expect("a whole frame");
            assert!(
                matches!(frame, Value::Array(ref items) if items.len() == 3),
                "{frame:?}"
            );
            assert!(parser.is_idle());
            assert_eq!(parser.claimed, 0, "pieces of {piece}");
        }
    }
}
