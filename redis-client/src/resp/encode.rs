//! Encoding a command as a RESP array of bulk strings.

use bytes::BytesMut;

use super::args::{length_header, ArgWriter, ToArgs, HEADER_BUF};
use super::number::parse_i64;
use super::protocol_error::quoted;

/// Why a command could not be encoded. Nothing of the command is left in the output buffer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The arguments were empty; a command needs at least its name.
    #[error("cannot send a command without arguments")]
    NoArguments,
    /// A float argument was NaN, which Redis rejects as a number.
    #[error("argument {index} of {command} is NaN, which Redis does not accept as a number")]
    NotANumber {
        /// The command's name (its first argument), escaped and quoted.
        command: String,
        /// The zero-based position of the argument, the command name being 0.
        index: usize,
    },
    /// A [`ToArgs`] implementation wrote a different number of arguments than its
    /// [`ToArgs::num_args`] announced.
    #[error("arguments of {command} announced {declared} arguments but wrote {written}")]
    CountMismatch {
        /// The command's name (its first argument), escaped and quoted.
        command: String,
        /// What `num_args` returned.
        declared: usize,
        /// What `write_args` wrote.
        written: usize,
    },
}

impl EncodeError {
    /// Fills in the command's name where it is still unknown.
    pub(crate) fn name_command(&mut self, name: &[u8]) {
        if let EncodeError::NotANumber { command, .. }
        | EncodeError::CountMismatch { command, .. } = self
        {
            if command.is_empty() {
                *command = quoted(name);
            }
        }
    }
}

impl From<EncodeError> for crate::Error {
    fn from(e: EncodeError) -> Self {
        crate::Error::Data(e.to_string())
    }
}

/// Appends `args` to `out` as one command: `*N\r\n` then `$len\r\narg\r\n` per argument.
///
/// Arguments are written straight into `out`; the count `N` comes from [`ToArgs::num_args`]
/// first. On error `out` is left as it was.
///
/// ```
/// use bytes::BytesMut;
/// use redis_client::resp::write_command;
///
/// let mut out = BytesMut::new();
/// write_command(&mut out, &("SET", "k", 42)).unwrap();
/// assert_eq!(&out[..], b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n42\r\n");
/// ```
pub fn write_command<A: ToArgs + ?Sized>(out: &mut BytesMut, args: &A) -> Result<(), EncodeError> {
    let declared = args.num_args();
    if declared == 0 {
        return Err(EncodeError::NoArguments);
    }
    let start = out.len();
    out.extend_from_slice(length_header(b'*', declared, &mut [0; HEADER_BUF]));
    let body = out.len();
    let mut writer = ArgWriter::resp(out);
    args.write_args(&mut writer);
    let (written, error) = writer.finish();
    let error = error.or_else(|| {
        (written != declared).then(|| EncodeError::CountMismatch {
            command: String::new(),
            declared,
            written,
        })
    });
    match error {
        None => Ok(()),
        Some(mut error) => {
            error.name_command(first_bulk(&out[body..]));
            out.truncate(start);
            Err(error)
        }
    }
}

/// The payload of the bulk string at the start of `encoded`, or nothing if it is incomplete.
fn first_bulk(encoded: &[u8]) -> &[u8] {
    let header_end = encoded.iter().position(|&b| b == b'\r');
    let payload = header_end.and_then(|end| {
        let len = usize::try_from(parse_i64(encoded.get(1..end)?)?).ok()?;
        encoded.get(end + 2..end + 2 + len)
    });
    payload.unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_bulk_reads_the_name_or_nothing() {
        assert_eq!(first_bulk(b"$3\r\nGET\r\n$1\r\nk\r\n"), b"GET");
        assert_eq!(first_bulk(b"$3\r\nGE"), b"");
        assert_eq!(first_bulk(b""), b"");
    }

    #[test]
    fn arguments_of_every_size_class_encode_exactly() {
        // Around the stack-assembly limit, digit-count changes and far beyond.
        let sizes = [
            0, 1, 9, 10, 11, 94, 95, 96, 97, 98, 99, 100, 101, 110, 111, 112, 113, 4096,
        ];
        for size in sizes {
            let payload: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
            let mut out = BytesMut::new();
            write_command(&mut out, &(b"SET".as_slice(), payload.as_slice())).unwrap();
            let mut expected = format!("*2\r\n$3\r\nSET\r\n${size}\r\n").into_bytes();
            expected.extend_from_slice(&payload);
            expected.extend_from_slice(b"\r\n");
            assert_eq!(
                out.as_ref(),
                expected.as_slice(),
                "argument of {size} bytes"
            );
        }
    }
}
