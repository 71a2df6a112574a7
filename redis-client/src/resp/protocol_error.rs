//! Why a byte stream is not valid RESP.

use std::fmt;

use crate::error::Error;

/// The server sent bytes that are not valid RESP (or that this client refuses to buffer).
///
/// After a protocol error the stream position is unknown, so the connection must be discarded.
/// Every variant carries the offending bytes as escaped text so logs show what arrived.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The first byte of a frame is not one of the RESP2/RESP3 type bytes.
    #[error("unknown RESP type byte {} in line {line}", Quoted(&[*byte]))]
    UnknownType {
        /// The offending byte.
        byte: u8,
        /// The start of the line it opened, escaped.
        line: String,
    },
    /// A length or count header is malformed, negative (other than a `-1` null) or over a limit.
    #[error("invalid header {header}: {reason}")]
    InvalidHeader {
        /// The header line, escaped (for example `"$-5"`).
        header: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A scalar line (integer, double, boolean, null, big number) does not hold what its type requires.
    #[error("invalid {kind} line {line}")]
    InvalidScalar {
        /// The RESP type, for example `"integer"`.
        kind: &'static str,
        /// The whole line, escaped.
        line: String,
    },
    /// A line ends in a bare `\n`, or a string payload is not followed by `\r\n`.
    #[error("missing CRLF after {after}: got {got}")]
    MissingCrlf {
        /// What the CRLF should have followed, for example `"bulk string of 5 bytes"`.
        after: String,
        /// The bytes found instead, escaped.
        got: String,
    },
    /// A line grew past the limit for its type without a terminating CRLF.
    #[error("{kind} line longer than {limit} bytes without CRLF: {start}")]
    LineTooLong {
        /// The RESP type of the line.
        kind: &'static str,
        /// The limit in bytes.
        limit: usize,
        /// The start of the line, escaped.
        start: String,
    },
    /// A verbatim string whose payload does not start with a three-byte format and `:`.
    #[error("invalid verbatim string payload {payload}: expected `fmt:` prefix")]
    InvalidVerbatim {
        /// The start of the payload, escaped.
        payload: String,
    },
    /// A RESP3 streamed string or aggregate (`$?`, `*?`, `;`, `.`); servers never send these to a
    /// client that did not ask for them, and this client does not.
    #[error("streamed RESP3 types are not supported: {header}")]
    Streamed {
        /// The header line, escaped.
        header: String,
    },
    /// Aggregates nested deeper than the parser's limit.
    #[error("aggregates nested deeper than {limit} levels")]
    TooDeep {
        /// The nesting limit.
        limit: usize,
    },
}

impl From<ProtocolError> for Error {
    fn from(e: ProtocolError) -> Self {
        Error::Protocol(e.to_string())
    }
}

/// How many bytes of a payload are shown in error messages and truncated displays.
pub(crate) const SHOWN_BYTES: usize = 64;

/// Escapes `bytes` as a quoted string for an error message, cut after [`SHOWN_BYTES`] bytes.
pub(crate) fn quoted(bytes: &[u8]) -> String {
    Quoted(bytes).to_string()
}

/// Displays bytes quoted and ASCII-escaped, cut after [`SHOWN_BYTES`] bytes with a count of the rest.
pub(crate) struct Quoted<'a>(pub(crate) &'a [u8]);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = &self.0[..self.0.len().min(SHOWN_BYTES)];
        write!(f, "\"{}\"", shown.escape_ascii())?;
        if shown.len() < self.0.len() {
            write!(f, "…(+{} bytes)", self.0.len() - shown.len())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_escapes_and_truncates() {
        assert_eq!(quoted(b"a\"b\r\n\x00"), r#""a\"b\r\n\x00""#);
        let long = vec![b'x'; SHOWN_BYTES + 10];
        let q = quoted(&long);
        assert!(q.ends_with("\"…(+10 bytes)"), "{q}");
    }

    #[test]
    fn converts_into_crate_error_with_text() {
        let e: Error = ProtocolError::TooDeep { limit: 3 }.into();
        assert_eq!(
            e.to_string(),
            "protocol error: aggregates nested deeper than 3 levels"
        );
    }
}
