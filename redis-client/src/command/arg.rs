//! [`Arg`]: an argument value encoded when it is given, so command options need no type
//! parameter of their own.

use crate::resp::{ArgWriter, Cmd, ToArgs};

/// One argument value (a string, bytes, a number — any [`ToArgs`]), encoded when it is given.
///
/// Generated commands keep their required arguments as the caller's own types, so the short
/// form (`client.get(key)`) writes them straight into the output buffer. Optional arguments and
/// the payloads of choice enums are stored as `Arg` instead: one type for any value, at the cost
/// of encoding it once when the option is set.
///
/// ```
/// use redis_client::command::Arg;
/// use redis_client::ToArgs;
///
/// let arg = Arg::new("0-1");
/// assert_eq!(arg.num_args(), 1);
/// assert_eq!(Arg::new(2.5).as_bytes(), Some(&b"2.5"[..]));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Arg(Cmd);

impl Arg {
    /// Encodes `value` (which normally writes one argument).
    pub fn new(value: impl ToArgs) -> Arg {
        Arg(Cmd::from_args(&value))
    }

    /// The encoded bytes when the value is exactly one argument.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        if self.0.len() == 1 {
            self.0.get(0)
        } else {
            None
        }
    }
}

impl ToArgs for Arg {
    fn write_args(&self, out: &mut ArgWriter<'_>) {
        self.0.write_args(out);
    }

    fn num_args(&self) -> usize {
        self.0.num_args()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BytesMut;

    #[test]
    fn writes_what_it_was_given() {
        let mut out = BytesMut::new();
        crate::resp::write_command(&mut out, &("GET", Arg::new("k"))).unwrap();
        assert_eq!(&out[..], b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
        assert_eq!(Arg::new(("a", "b")).num_args(), 2);
        assert_eq!(Arg::new(("a", "b")).as_bytes(), None);
    }

    #[test]
    fn nan_fails_when_the_command_is_encoded() {
        let mut out = BytesMut::new();
        let err = crate::resp::write_command(&mut out, &("INCRBYFLOAT", "k", Arg::new(f64::NAN)))
            .unwrap_err();
        assert!(err.to_string().contains("NaN"), "{err}");
        assert!(out.is_empty());
    }
}
