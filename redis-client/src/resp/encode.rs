//! Encoding a command as a RESP array of bulk strings.

use bytes::BytesMut;

use super::args::{length_header, ArgWriter, ToArgs, HEADER_BUF};
use super::encode_error::EncodeError;
use super::number::parse_i64;

/// Appends `args` to `out` as one command: `*N\r\n` then `$len\r\narg\r\n` per argument.
///
/// Arguments are written straight into `out` in one pass, after room for a one-digit count
/// that is filled in once the arguments are counted; only a command of ten arguments or more
/// moves its arguments along to widen the header. So the header always matches what was written,
/// whatever [`ToArgs::num_args`] says. On error `out` is left as it was.
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
    const ONE_DIGIT: &[u8] = b"*0\r\n";
    let start = out.len();
    let body = start + ONE_DIGIT.len();
    out.extend_from_slice(ONE_DIGIT);
    let mut writer = ArgWriter::resp(out);
    args.write_args(&mut writer);
    let (written, error) = writer.finish();
    let error = error.or((written == 0).then_some(EncodeError::NoArguments));
    if let Some(mut error) = error {
        error.name_command(first_bulk(&out[body..]));
        out.truncate(start);
        return Err(error);
    }
    if written < 10 {
        out[start + 1] = b'0' + written as u8;
    } else {
        let mut buf = [0; HEADER_BUF];
        let header = length_header(b'*', written, &mut buf);
        let wider = header.len() - ONE_DIGIT.len();
        let end = out.len();
        out.resize(end + wider, 0);
        out.copy_within(body..end, body + wider);
        out[start..start + header.len()].copy_from_slice(header);
    }
    Ok(())
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
    fn counts_of_every_width_make_exact_headers() {
        for count in [1usize, 9, 10, 11, 99, 100, 1000] {
            let args: Vec<String> = (0..count).map(|i| format!("a{i}")).collect();
            let mut out = BytesMut::from(&b"before"[..]);
            write_command(&mut out, &args).unwrap();
            let mut expected = format!("before*{count}\r\n").into_bytes();
            for a in &args {
                expected.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
            }
            assert_eq!(out.as_ref(), expected.as_slice(), "{count} arguments");
        }
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
