//! Finding one key spec's keys in a command line, the way the server's key-spec engine does.

use super::types::{BeginSearch, FindKeys, KeySpec};
use crate::error::Error;

impl KeySpec {
    /// Calls `each` with the position of every key this spec finds in `argv`.
    pub fn for_each(&self, argv: &[&[u8]], mut each: impl FnMut(usize)) -> Result<(), Error> {
        let argc = argv.len();
        let Some(first) = self.begin(argv) else {
            return Ok(());
        };
        let (first, last, step) = match self.find {
            FindKeys::Range {
                lastkey,
                step,
                limit,
            } => {
                let last = if lastkey >= 0 {
                    let last = first + lastkey as usize;
                    if last >= argc {
                        return Err(missing_key(argv, last));
                    }
                    last
                } else if limit > 1 {
                    // The server's rule: the first (argc - first) / limit arguments, minus one
                    // for the -1.
                    match (first + argc.saturating_sub(first) / limit).checked_sub(1) {
                        Some(last) => last,
                        None => return Ok(()),
                    }
                } else {
                    match argc.checked_sub(lastkey.unsigned_abs() as usize) {
                        Some(last) => last,
                        None => return Ok(()),
                    }
                };
                (first, last, step)
            }
            FindKeys::Keynum {
                keynumidx,
                firstkey,
                step,
            } => {
                let count = keynum(argv, first + keynumidx)?;
                if count == 0 {
                    return Ok(());
                }
                let first = first + firstkey;
                let last = first + (count - 1) * step;
                if last >= argc {
                    return Err(Error::Usage(format!(
                        "{}: the key count {count} runs past the {} arguments",
                        name(argv),
                        argc
                    )));
                }
                (first, last, step)
            }
        };
        let mut index = first;
        while index <= last && index < argc {
            let absent = self
                .absent_if
                .is_some_and(|word| argv[index].eq_ignore_ascii_case(word.as_bytes()));
            if !absent {
                each(index);
            }
            index += step.max(1);
        }
        Ok(())
    }

    /// The first key's position, or `None` when this spec finds no key in `argv`.
    fn begin(&self, argv: &[&[u8]]) -> Option<usize> {
        let argc = argv.len();
        match self.begin {
            BeginSearch::Index(index) => Some(index),
            BeginSearch::Keyword { keyword, startfrom } => {
                let matches = |i: &usize| argv[*i].eq_ignore_ascii_case(keyword.as_bytes());
                // As the server: a keyword in the last position has no key after it.
                if startfrom >= 0 {
                    (startfrom as usize..argc.saturating_sub(1))
                        .find(matches)
                        .map(|i| i + 1)
                } else {
                    let start = argc.checked_sub(startfrom.unsigned_abs() as usize)?;
                    (1..=start).rev().find(matches).map(|i| i + 1)
                }
            }
            BeginSearch::Token { token, from, skip } => {
                let mut i = from;
                while i < argc {
                    let word = argv[i];
                    if word.eq_ignore_ascii_case(token.as_bytes()) {
                        return Some(i + 1).filter(|&first| first < argc);
                    }
                    let values = skip
                        .iter()
                        .find(|(option, _)| word.eq_ignore_ascii_case(option.as_bytes()))
                        .map_or(0, |(_, n)| *n);
                    i += 1 + values;
                }
                None
            }
            BeginSearch::FromData => None,
        }
    }
}

/// The key count at `at`, as the server reads it.
pub(super) fn keynum(argv: &[&[u8]], at: usize) -> Result<usize, Error> {
    let raw = argv.get(at).ok_or_else(|| {
        Error::Usage(format!(
            "{}: the key count (argument {at}) is missing",
            name(argv)
        ))
    })?;
    std::str::from_utf8(raw)
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
        .ok_or_else(|| {
            Error::Usage(format!(
                "{}: the key count `{}` (argument {at}) is not a non-negative integer",
                name(argv),
                String::from_utf8_lossy(raw)
            ))
        })
}

fn missing_key(argv: &[&[u8]], at: usize) -> Error {
    Error::Usage(format!(
        "{}: key argument {at} is missing ({} arguments given)",
        name(argv),
        argv.len()
    ))
}

pub(super) fn name(argv: &[&[u8]]) -> String {
    argv.first()
        .map(|n| String::from_utf8_lossy(n).to_ascii_uppercase())
        .unwrap_or_default()
}
