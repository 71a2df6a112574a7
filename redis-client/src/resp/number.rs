//! Decimal text for integers and floats, both directions, without heap allocation.
//!
//! The parser reads integers from header and `:` lines; the encoder writes integers and floats as
//! bulk-string arguments. Both run once per element, so they work on stack buffers.

use std::fmt::Write as _;

/// Room for any `i128`/`u128` in decimal (39 digits and a sign) and any shortest-repr float.
pub(crate) const NUM_BUF: usize = 48;

/// Parses an optionally signed decimal `i64` (`[+-]?[0-9]+`), rejecting overflow and anything else.
pub(crate) fn parse_i64(text: &[u8]) -> Option<i64> {
    let (negative, digits) = match text.split_first()? {
        (b'-', rest) => (true, rest),
        (b'+', rest) => (false, rest),
        _ => (false, text),
    };
    if digits.is_empty() {
        return None;
    }
    // Accumulating towards the sign's side keeps i64::MIN representable.
    let mut acc: i64 = 0;
    for &b in digits {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        acc = acc.checked_mul(10)?;
        acc = if negative {
            acc.checked_sub(i64::from(d))?
        } else {
            acc.checked_add(i64::from(d))?
        };
    }
    Some(acc)
}

/// Parses a RESP3 double line (`1.5`, `-3e10`, `inf`, `-inf`, `nan`).
pub(crate) fn parse_f64(text: &[u8]) -> Option<f64> {
    std::str::from_utf8(text).ok()?.parse().ok()
}

/// Whether `text` is a RESP3 big number: an optional `-` or `+` and at least one digit.
pub(crate) fn is_big_number(text: &[u8]) -> bool {
    let digits = match text.first() {
        Some(b'-' | b'+') => &text[1..],
        _ => text,
    };
    !digits.is_empty() && digits.iter().all(u8::is_ascii_digit)
}

/// Writes `v` in decimal at the end of `buf`, returning the slice that holds it.
pub(crate) fn format_u64(v: u64, buf: &mut [u8; NUM_BUF]) -> &[u8] {
    let start = digits_before(v, buf, NUM_BUF);
    &buf[start..]
}

/// Writes `v` in decimal so that it ends just before `buf[end]`; returns where it starts.
#[inline]
pub(crate) fn digits_before(mut v: u64, buf: &mut [u8], end: usize) -> usize {
    let mut pos = end;
    loop {
        pos -= 1;
        buf[pos] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            return pos;
        }
    }
}

/// Writes `v` in decimal at the end of `buf`, returning the slice that holds it.
pub(crate) fn format_i64(v: i64, buf: &mut [u8; NUM_BUF]) -> &[u8] {
    let len = format_u64(v.unsigned_abs(), buf).len();
    signed(v < 0, len, buf)
}

/// Writes `v` in decimal at the end of `buf`, returning the slice that holds it.
pub(crate) fn format_u128(mut v: u128, buf: &mut [u8; NUM_BUF]) -> &[u8] {
    if let Ok(small) = u64::try_from(v) {
        return format_u64(small, buf);
    }
    let mut pos = NUM_BUF;
    loop {
        pos -= 1;
        buf[pos] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            return &buf[pos..];
        }
    }
}

/// Writes `v` in decimal at the end of `buf`, returning the slice that holds it.
pub(crate) fn format_i128(v: i128, buf: &mut [u8; NUM_BUF]) -> &[u8] {
    let len = format_u128(v.unsigned_abs(), buf).len();
    signed(v < 0, len, buf)
}

fn signed(negative: bool, len: usize, buf: &mut [u8; NUM_BUF]) -> &[u8] {
    let mut start = NUM_BUF - len;
    if negative {
        start -= 1;
        buf[start] = b'-';
    }
    &buf[start..]
}

/// Formats a finite or infinite `f64` so that Redis (and `str::parse`) reads back the same value.
///
/// Rust's `Display`/`LowerExp` print the shortest digit string that round-trips; plain notation is
/// used for ordinary magnitudes and exponent notation for tiny or huge ones (so `1e300` stays 5
/// bytes). Infinities print as `inf`/`-inf`, which Redis accepts. Returns `None` for NaN, which
/// Redis rejects as a float.
pub(crate) fn format_f64(v: f64, buf: &mut [u8; NUM_BUF]) -> Option<&[u8]> {
    if v.is_nan() {
        return None;
    }
    let magnitude = v.abs();
    let plain = magnitude == 0.0 || v.is_infinite() || (1e-5..1e16).contains(&magnitude);
    Some(write_float(
        plain,
        format_args!("{v}"),
        format_args!("{v:e}"),
        buf,
    ))
}

/// Displays an `f64` as [`format_f64`] writes it (short, exact), and NaN as `nan`.
pub(crate) struct ShortFloat(pub(crate) f64);

impl std::fmt::Display for ShortFloat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut buf = [0; NUM_BUF];
        let text = format_f64(self.0, &mut buf).unwrap_or(b"nan");
        // The formatter wrote only ASCII.
        f.write_str(std::str::from_utf8(text).map_err(|_| std::fmt::Error)?)
    }
}

/// Like [`format_f64`], for `f32`: the shortest text that reads back as the same `f32`.
pub(crate) fn format_f32(v: f32, buf: &mut [u8; NUM_BUF]) -> Option<&[u8]> {
    if v.is_nan() {
        return None;
    }
    let magnitude = v.abs();
    let plain = magnitude == 0.0 || v.is_infinite() || (1e-5..1e16).contains(&magnitude);
    Some(write_float(
        plain,
        format_args!("{v}"),
        format_args!("{v:e}"),
        buf,
    ))
}

fn write_float<'b>(
    plain: bool,
    display: std::fmt::Arguments<'_>,
    exponent: std::fmt::Arguments<'_>,
    buf: &'b mut [u8; NUM_BUF],
) -> &'b [u8] {
    let mut cursor = Cursor { buf, len: 0 };
    // Plain notation of a value in [1e-5, 1e16) is at most 24 bytes, so it fits; should it not,
    // exponent notation (at most 24 bytes for any f64) is still exact.
    if !plain || cursor.write_fmt(display).is_err() {
        cursor.len = 0;
        if cursor.write_fmt(exponent).is_err() {
            cursor.len = 0;
        }
    }
    let len = cursor.len;
    &buf[..len]
}

/// A `fmt::Write` over a fixed stack buffer that fails instead of growing.
struct Cursor<'b> {
    buf: &'b mut [u8; NUM_BUF],
    len: usize,
}

impl std::fmt::Write for Cursor<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let dest = self.buf.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        dest.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_i64_edges() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"+7"), Some(7));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_i64(b"-9223372036854775809"), None);
        for bad in [&b""[..], b"-", b"+", b"1a", b" 1", b"1 ", b"--1", b"0x10"] {
            assert_eq!(parse_i64(bad), None, "{:?}", bad.escape_ascii().to_string());
        }
    }

    #[test]
    fn formats_integers() {
        let mut buf = [0; NUM_BUF];
        assert_eq!(format_i64(0, &mut buf), b"0");
        assert_eq!(format_i64(-1, &mut buf), b"-1");
        assert_eq!(format_i64(i64::MIN, &mut buf), b"-9223372036854775808");
        assert_eq!(format_u64(u64::MAX, &mut buf), b"18446744073709551615");
        assert_eq!(
            format_i128(i128::MIN, &mut buf),
            i128::MIN.to_string().as_bytes()
        );
        assert_eq!(
            format_u128(u128::MAX, &mut buf),
            u128::MAX.to_string().as_bytes()
        );
    }

    #[test]
    fn formats_floats_short_and_exact() {
        let mut buf = [0; NUM_BUF];
        let cases: [(f64, &str); 9] = [
            (0.1, "0.1"),
            (-0.0, "-0"),
            (1.5, "1.5"),
            (1e300, "1e300"),
            (5e-324, "5e-324"),
            (1e16, "1e16"),
            (123456.0, "123456"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
        ];
        for (v, text) in cases {
            assert_eq!(format_f64(v, &mut buf), Some(text.as_bytes()), "{v}");
        }
        assert_eq!(format_f64(f64::NAN, &mut buf), None);
        assert_eq!(ShortFloat(1e300).to_string(), "1e300");
        assert_eq!(ShortFloat(f64::NAN).to_string(), "nan");
        assert_eq!(format_f32(0.1, &mut buf), Some(&b"0.1"[..]));
        assert_eq!(format_f32(f32::NAN, &mut buf), None);
    }
}
