//! The parser's shortcut for the elements most replies are made of.
//!
//! A bulk string, an integer or a short simple string that has fully arrived and is plainly
//! well-formed is taken in one pass over its bytes. Anything else — incomplete, unusual (signs,
//! nulls, long lines) or malformed — is left untouched for the general path, which handles every
//! case and names every error; so this module never fails and never consumes a partial element.

use bytes::{Buf, Bytes, BytesMut};

use super::limits::MAX_BULK_LEN;
use super::Value;

/// Simple strings longer than this take the general path, which remembers how far it searched.
const SHORT_SIMPLE: usize = 64;

/// Takes one complete, well-formed bulk string, integer or short simple string off `buf`.
///
/// Always inlined: out of line, its `Option<Value>` went through memory and was read back
/// with wider loads than it was written with, which cost small replies a quarter of their time.
#[inline(always)]
pub(crate) fn take_element(buf: &mut BytesMut) -> Option<Value> {
    let mut taken = None;
    take_element_into(buf, |value| taken = Some(value));
    taken
}

/// Like [`take_element`], handing the value to `sink`; returns whether there was one.
///
/// Inlined into a loop that pushes onto a vector, the value is built in the vector's slot
/// instead of being assembled on the stack and copied there.
#[inline(always)]
pub(crate) fn take_element_into(buf: &mut BytesMut, sink: impl FnOnce(Value)) -> bool {
    let Some(&tag) = buf.first() else {
        return false;
    };
    match tag {
        b'$' => {
            let Some((len, header)) = unsigned_line(buf) else {
                return false;
            };
            let Some(len) = usize::try_from(len).ok().filter(|&n| n <= MAX_BULK_LEN) else {
                return false;
            };
            if buf.get(header + len..header + len + 2) != Some(b"\r\n") {
                return false;
            }
            buf.advance(header);
            let payload = if len == 0 {
                Bytes::new()
            } else {
                buf.split_to(len).freeze()
            };
            buf.advance(2);
            sink(Value::Bulk(payload));
        }
        b':' => {
            let negative = buf.get(1) == Some(&b'-');
            let sign = usize::from(negative);
            let Some((magnitude, header)) = unsigned_line(&buf[sign..]) else {
                return false;
            };
            // At most 18 digits, so the magnitude fits an i64 either way.
            let Ok(value) = i64::try_from(magnitude) else {
                return false;
            };
            buf.advance(header + sign);
            sink(Value::Integer(if negative { -value } else { value }));
        }
        b'+' => {
            // The most common reply of all: no need to share the read buffer for two bytes.
            if buf.starts_with(b"+OK\r\n") {
                buf.advance(5);
                sink(Value::Simple(Bytes::from_static(b"OK")));
                return true;
            }
            let window = &buf[..buf.len().min(SHORT_SIMPLE)];
            let Some(cr) = window.iter().position(|&b| b == b'\r' || b == b'\n') else {
                return false;
            };
            if window.get(cr..cr + 2) != Some(b"\r\n") {
                return false;
            }
            buf.advance(1);
            let text = buf.split_to(cr - 1).freeze();
            buf.advance(2);
            sink(Value::Simple(text));
        }
        _ => return false,
    }
    true
}

/// Reads `<tag><1 to 18 digits>\r\n` at the start of `line`: the number and the line's length
/// with its CRLF.
#[inline]
fn unsigned_line(line: &[u8]) -> Option<(u64, usize)> {
    let mut n: u64 = 0;
    for (i, &b) in line.iter().enumerate().skip(1).take(19) {
        match b {
            b'0'..=b'9' => n = n * 10 + u64::from(b - b'0'),
            b'\r' if i > 1 => return (line.get(i + 1) == Some(&b'\n')).then_some((n, i + 2)),
            _ => return None,
        }
    }
    // More than 18 digits, or the line is incomplete.
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn take(wire: &[u8]) -> (Option<Value>, Vec<u8>) {
        let mut buf = BytesMut::from(wire);
        let v = take_element(&mut buf);
        (v, buf.to_vec())
    }

    #[test]
    fn takes_complete_plain_elements() {
        assert_eq!(
            take(b"$3\r\nabc\r\n+"),
            (Some(Value::Bulk("abc".into())), b"+".to_vec())
        );
        assert_eq!(
            take(b"$0\r\n\r\n"),
            (Some(Value::Bulk(Bytes::new())), vec![])
        );
        assert_eq!(take(b":-12\r\n"), (Some(Value::Integer(-12)), vec![]));
        assert_eq!(
            take(b":999999999999999999\r\n").0,
            Some(Value::Integer(999_999_999_999_999_999))
        );
        assert_eq!(take(b"+OK\r\n"), (Some(Value::Simple("OK".into())), vec![]));
        assert_eq!(take(b"+\r\n").0, Some(Value::Simple(Bytes::new())));
    }

    #[test]
    fn leaves_everything_else_untouched() {
        for wire in [
            &b""[..],
            b"$3\r\nab",
            b"$3\r\nabcd\r\n",
            b"$-1\r\n",
            b"$\r\n",
            b"$3\n",
            b"$3",
            b":+1\r\n",
            b":-\r\n",
            b":1x\r\n",
            b":9223372036854775807\r\n",
            b"+OK\n",
            b"+OK",
            b"*1\r\n:1\r\n",
        ] {
            let (v, rest) = take(wire);
            assert_eq!(v, None, "{}", wire.escape_ascii());
            assert_eq!(rest, wire, "{}", wire.escape_ascii());
        }
        let long = [&b"+"[..], &[b'x'; SHORT_SIMPLE], b"\r\n"].concat();
        assert_eq!(take(&long).0, None);
    }
}
