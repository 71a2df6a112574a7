//! Typed pipeline results: [`FromReplies`] turns the replies of a whole pipeline into a tuple
//! (one element per command, each of its own type) or a `Vec`.

use std::borrow::Cow;

use crate::error::{Error, Result};
use crate::resp::{FromValue, Value};

/// The outcomes of a pipeline's commands, in order, with the commands' names for errors.
///
/// [`FromReplies`] implementations take them one at a time with [`Replies::next_as`].
pub struct Replies {
    outcomes: std::vec::IntoIter<Result<Value>>,
    /// Looked at only to name a command in an error.
    names: Vec<Cow<'static, str>>,
    /// The 1-based number of the next reply, for messages.
    number: usize,
}

impl Replies {
    pub(crate) fn new(outcomes: Vec<Result<Value>>, names: Vec<Cow<'static, str>>) -> Replies {
        Replies {
            outcomes: outcomes.into_iter(),
            names,
            number: 1,
        }
    }

    /// How many replies are left.
    pub fn len(&self) -> usize {
        self.outcomes.len()
    }

    /// Whether every reply was taken.
    pub fn is_empty(&self) -> bool {
        self.outcomes.len() == 0
    }

    /// Fails unless exactly `expected` replies are left (a tuple's arity check).
    pub fn expect_len(&self, expected: usize) -> Result<()> {
        if self.len() != expected {
            return Err(Error::Data(format!(
                "the pipeline gave {} replies, the requested type takes {expected}",
                self.len()
            )));
        }
        Ok(())
    }

    /// Converts the next reply into `T`; its command's error, or a conversion error naming the
    /// command and its position, comes back as `Err`.
    pub fn next_as<T: FromValue>(&mut self) -> Result<T> {
        let number = self.number;
        self.number += 1;
        let Some(outcome) = self.outcomes.next() else {
            return Err(Error::Data(format!(
                "the pipeline gave {} replies, the requested type takes more",
                number - 1
            )));
        };
        T::from_value(outcome?).map_err(|e| self.conversion_error(e, number))
    }

    /// A conversion error of reply `number`, naming its command and position.
    #[cold]
    fn conversion_error(&self, error: Error, number: usize) -> Error {
        let name = self.names.get(number - 1).map_or("?", |n| n.as_ref());
        match error {
            Error::Data(message) => {
                Error::Data(format!("pipeline reply #{number} ({name}): {message}"))
            }
            other => other.with_command(name),
        }
    }
}

/// A Rust value the replies of a whole pipeline convert into; see
/// [`Pipeline::execute_typed`](super::Pipeline::execute_typed).
///
/// Implemented for tuples of up to 16 [`FromValue`] types (the pipeline must have exactly
/// that many commands) and for `Vec<T>` (every reply the same type).
pub trait FromReplies: Sized {
    /// Converts the replies, or returns the first error among them.
    fn from_replies(replies: Replies) -> Result<Self>;
}

impl<T: FromValue> FromReplies for Vec<T> {
    fn from_replies(mut replies: Replies) -> Result<Self> {
        let mut out = Vec::with_capacity(replies.len());
        // Convert all, so a command error is reported even after a conversion error.
        let mut first_error = None;
        while !replies.is_empty() {
            match replies.next_as::<T>() {
                Ok(value) => out.push(value),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }
}

macro_rules! tuple_replies {
    ($n:expr; $($name:ident)+) => {
        impl<$($name: FromValue),+> FromReplies for ($($name,)+) {
            fn from_replies(mut replies: Replies) -> Result<Self> {
                replies.expect_len($n)?;
                Ok(($(replies.next_as::<$name>()?,)+))
            }
        }
    };
}

tuple_replies!(1; A);
tuple_replies!(2; A B);
tuple_replies!(3; A B C);
tuple_replies!(4; A B C D);
tuple_replies!(5; A B C D E);
tuple_replies!(6; A B C D E F);
tuple_replies!(7; A B C D E F G);
tuple_replies!(8; A B C D E F G H);
tuple_replies!(9; A B C D E F G H I);
tuple_replies!(10; A B C D E F G H I J);
tuple_replies!(11; A B C D E F G H I J K);
tuple_replies!(12; A B C D E F G H I J K L);
tuple_replies!(13; A B C D E F G H I J K L M);
tuple_replies!(14; A B C D E F G H I J K L M N);
tuple_replies!(15; A B C D E F G H I J K L M N O);
tuple_replies!(16; A B C D E F G H I J K L M N O P);

#[cfg(test)]
mod tests {
    use super::*;

    fn replies(outcomes: Vec<Result<Value>>) -> Replies {
        let names = (0..outcomes.len())
            .map(|i| Cow::Owned(format!("CMD{i}")))
            .collect();
        Replies::new(outcomes, names)
    }

    #[test]
    fn tuples_take_each_reply_as_its_own_type() {
        let r = replies(vec![
            Ok(Value::Simple("OK".into())),
            Ok(Value::Integer(3)),
            Ok(Value::Bulk("x".into())),
        ]);
        let (ok, n, s): ((), i64, String) = FromReplies::from_replies(r).unwrap();
        assert_eq!((ok, n, s.as_str()), ((), 3, "x"));
    }

    #[test]
    fn arity_mismatch_and_conversion_errors_name_the_reply() {
        let r = replies(vec![Ok(Value::Integer(1))]);
        let e = <(i64, i64)>::from_replies(r).unwrap_err();
        assert!(e.to_string().contains("gave 1 replies"), "{e}");
        let r = replies(vec![
            Ok(Value::Integer(1)),
            Ok(Value::Bulk("nan-ish".into())),
        ]);
        let e = <(i64, i64)>::from_replies(r).unwrap_err();
        assert!(e.to_string().contains("reply #2 (CMD1)"), "{e}");
    }

    #[test]
    fn the_first_error_wins_in_order() {
        let server = Error::from_server_reply(b"WRONGTYPE nope", Some("INCR"));
        let r = replies(vec![Ok(Value::Bulk("not a number".into())), Err(server)]);
        let e = Vec::<i64>::from_replies(r).unwrap_err();
        assert!(e.to_string().contains("reply #1"), "{e}");
        let server = Error::from_server_reply(b"WRONGTYPE nope", Some("INCR"));
        let r = replies(vec![Ok(Value::Integer(1)), Err(server)]);
        let e = Vec::<i64>::from_replies(r).unwrap_err();
        assert_eq!(e.code(), Some("WRONGTYPE"));
    }
}
