//! Where frames end in the byte streams of a connection, found by parsing a copy of them: the
//! proxy may only add a reply between two others, never inside one, and only once the server
//! answered every command the client sent (so that no client could take it for an answer).

use bytes::BytesMut;
use redis_client::resp::Parser;
use redis_client::Value;

/// Follows one stream (server→client replies, or client→server commands) frame by frame.
#[derive(Debug, Default)]
pub(super) struct ReplyBounds {
    buf: BytesMut,
    parser: Parser,
    /// Bytes fed so far.
    fed: usize,
    /// The stream is no RESP (TLS, garbage): no boundary is known any more.
    lost: bool,
}

/// Where the replies completed by one chunk lie within it.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Ends {
    /// The offset just past each reply that ends in the chunk.
    pub(super) ends: Vec<usize>,
    /// Whether a reply started exactly at the chunk's first byte.
    pub(super) started_at_zero: bool,
    /// How many of the frames are not RESP3 pushes (replies, or commands).
    pub(super) answers: u64,
}

impl Ends {
    /// Whether the chunk ends exactly where a reply ends.
    pub(super) fn on_boundary(&self, chunk_len: usize) -> bool {
        self.ends.last() == Some(&chunk_len)
    }

    /// The byte range of the last reply, if it lies wholly within the chunk.
    pub(super) fn last_whole(&self) -> Option<std::ops::Range<usize>> {
        let end = *self.ends.last()?;
        match self.ends.len() {
            1 if self.started_at_zero => Some(0..end),
            1 => None,
            n => Some(self.ends[n - 2]..end),
        }
    }
}

impl ReplyBounds {
    /// Whether the stream could not be followed (no RESP: TLS, inline commands).
    pub(super) fn is_lost(&self) -> bool {
        self.lost
    }

    /// Feeds the next chunk of the stream.
    pub(super) fn feed(&mut self, chunk: &[u8]) -> Ends {
        if self.lost {
            return Ends::default();
        }
        let started_at_zero = self.buf.is_empty() && self.parser.is_idle();
        let start = self.fed;
        self.buf.extend_from_slice(chunk);
        self.fed += chunk.len();
        let mut ends = Vec::new();
        let mut answers = 0;
        loop {
            match self.parser.parse(&mut self.buf) {
                Ok(Some(frame)) => {
                    answers += u64::from(!matches!(frame, Value::Push(_)));
                    ends.push(self.fed - self.buf.len() - start);
                }
                Ok(None) => break,
                Err(_) => {
                    self.lost = true;
                    return Ends::default();
                }
            }
        }
        Ends {
            ends,
            started_at_zero,
            answers,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_reply_ends_across_chunks() {
        let mut bounds = ReplyBounds::default();
        let first = bounds.feed(b"+OK\r\n$5\r\nhel");
        assert_eq!(first.ends, [5]);
        assert!(first.started_at_zero && !first.on_boundary(13));
        assert_eq!(first.last_whole(), Some(0..5));
        let second = bounds.feed(b"lo\r\n:1\r\n");
        assert_eq!((second.ends.as_slice(), second.answers), (&[4, 8][..], 2));
        assert!(!second.started_at_zero && second.on_boundary(8));
        assert_eq!(second.last_whole(), Some(4..8));
        let third = bounds.feed(b"*1\r\n:2\r\n");
        assert_eq!(third.last_whole(), Some(0..8));
        assert_eq!(
            bounds.feed(b">2\r\n:1\r\n:2\r\n").answers,
            0,
            "a push answers nothing"
        );
        assert!(bounds.feed(b"\x16\x03\x01garbage\r\n").ends.is_empty());
        assert!(bounds.is_lost());
        assert!(bounds.feed(b"+OK\r\n").ends.is_empty(), "lost for good");
    }
}
