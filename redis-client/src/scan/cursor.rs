//! The decisions of a cursor-free scan, without I/O: which command to send next, and what a
//! reply means. The blocking [`super::ScanIter`] and the tokio scan stream both drive it.

use bytes::Bytes;

use crate::error::{Error, Result};
use crate::resp::{Cmd, FromValue, Value};

/// Which scan command runs, and on which key.
#[derive(Clone, Debug)]
pub(crate) enum Target {
    Keys,
    Set(Cmd),
    Hash(Cmd),
    SortedSet(Cmd),
}

impl Target {
    pub(crate) fn command(&self) -> &'static str {
        match self {
            Target::Keys => "SCAN",
            Target::Set(_) => "SSCAN",
            Target::Hash(_) => "HSCAN",
            Target::SortedSet(_) => "ZSCAN",
        }
    }
}

/// One scan's target, options and cursor.
#[derive(Clone, Debug)]
pub(crate) struct Cursor {
    pub(crate) target: Target,
    pub(crate) pattern: Option<Bytes>,
    pub(crate) count: Option<u64>,
    pub(crate) of_type: Option<String>,
    /// The cursor for the next batch; `None` once the server said `0` (or a batch failed).
    next: Option<Bytes>,
}

impl Cursor {
    /// A scan of `target` starting at cursor `0`, without options.
    pub(crate) fn new(target: Target) -> Cursor {
        Cursor {
            target,
            pattern: None,
            count: None,
            of_type: None,
            next: Some(Bytes::from_static(b"0")),
        }
    }

    /// The cursor the next batch starts from, `None` when the scan is over.
    pub(crate) fn position(&self) -> Option<&Bytes> {
        self.next.as_ref()
    }

    /// The command that fetches the next batch, or `None` when the scan is over. After an
    /// `Err` (bad options) the scan is over too.
    pub(crate) fn next_command(&mut self) -> Option<Result<Cmd>> {
        let cursor = self.next.take()?;
        let command = self.target.command();
        let mut cmd = Cmd::new(command);
        match &self.target {
            Target::Keys => {}
            Target::Set(key) | Target::Hash(key) | Target::SortedSet(key) => {
                cmd.push(key);
            }
        }
        cmd.push(&cursor);
        if let Some(pattern) = &self.pattern {
            cmd.push(&"MATCH").push(pattern);
        }
        if let Some(count) = self.count {
            cmd.push(&"COUNT").push(&count);
        }
        if let Some(type_name) = &self.of_type {
            if !matches!(self.target, Target::Keys) {
                return Some(Err(Error::Data(format!(
                    "{command}: TYPE filters keys and exists for SCAN only"
                ))));
            }
            cmd.push(&"TYPE").push(type_name);
        }
        // Put the cursor back until the reply moves it on: a failed send ends the scan only
        // if the caller gives up.
        self.next = Some(cursor);
        Some(Ok(cmd))
    }

    /// The scan failed: nothing more is fetched.
    pub(crate) fn stop(&mut self) {
        self.next = None;
    }

    /// Takes the reply to [`Cursor::next_command`]'s command: moves the cursor on and returns
    /// the batch's elements (possibly none: `MATCH` may filter a whole batch). A malformed
    /// reply ends the scan.
    pub(crate) fn take_reply<T: FromValue>(&mut self, reply: Value) -> Result<Vec<T>> {
        let command = self.target.command();
        let taken = <(Bytes, Value)>::from_value(reply)
            .map_err(|e| e.with_command(command))
            .and_then(|(next, items)| {
                let items = Vec::<T>::from_value(items).map_err(|e| match e {
                    Error::Data(message) => Error::Data(format!("{command}: {message}")),
                    other => other.with_command(command),
                })?;
                Ok((next, items))
            });
        match taken {
            Ok((next, items)) => {
                self.next = (&next[..] != b"0").then_some(next);
                Ok(items)
            }
            Err(e) => {
                self.stop();
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::Bulk(Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn builds_each_command_with_its_options() {
        let mut c = Cursor::new(Target::Hash(Cmd::from_args(&"h")));
        c.pattern = Some(Bytes::from_static(b"f*"));
        c.count = Some(10);
        let cmd = c.next_command().unwrap().unwrap();
        assert_eq!(
            cmd,
            Cmd::from_args(&("HSCAN", "h", "0", "MATCH", "f*", "COUNT", 10u64))
        );
        let mut c = Cursor::new(Target::Set(Cmd::from_args(&"s")));
        c.of_type = Some("hash".into());
        let e = c.next_command().unwrap().unwrap_err();
        assert!(e.to_string().contains("SSCAN: TYPE"), "{e}");
        assert!(c.next_command().is_none(), "bad options end the scan");
    }

    #[test]
    fn the_cursor_moves_until_zero() {
        let mut c = Cursor::new(Target::Keys);
        c.next_command().unwrap().unwrap();
        let reply = Value::Array(vec![bulk("17"), Value::Array(vec![bulk("a")])]);
        assert_eq!(c.take_reply::<String>(reply).unwrap(), ["a"]);
        assert_eq!(c.position().map(|b| &b[..]), Some(&b"17"[..]));
        let cmd = c.next_command().unwrap().unwrap();
        assert_eq!(cmd, Cmd::from_args(&("SCAN", "17")));
        let reply = Value::Array(vec![bulk("0"), Value::Array(vec![])]);
        assert!(c.take_reply::<String>(reply).unwrap().is_empty());
        assert!(c.next_command().is_none());
    }

    #[test]
    fn a_malformed_reply_names_the_command_and_ends_the_scan() {
        let mut c = Cursor::new(Target::SortedSet(Cmd::from_args(&"z")));
        c.next_command().unwrap().unwrap();
        let reply = Value::Array(vec![bulk("5"), Value::Array(vec![bulk("m")])]);
        let e = c.take_reply::<(String, f64)>(reply).unwrap_err();
        assert!(e.to_string().contains("ZSCAN"), "{e}");
        assert!(c.next_command().is_none());
    }
}
