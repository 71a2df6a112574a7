//! How a cluster client routes one command ([`Routing`]): where its keys are among the
//! arguments (the spec's key specs) and which request and response policies its tips give.
//!
//! The values are generated from `commands/` into every [`CommandMeta`](super::CommandMeta);
//! the shapes live in `types`, and this module holds the one piece of logic on them, finding
//! the keys of a command line the way the server itself does (`COMMAND GETKEYS`).

use crate::error::Error;
use keys::name;

mod keys;
mod split;
#[cfg(test)]
mod tests;
mod types;

pub use split::KeyGroups;
pub use types::{BeginSearch, FindKeys, KeySpec, RequestPolicy, ResponsePolicy, Routing, Special};

impl Routing {
    /// A keyless command without tips: by key (so to a random primary), default response.
    pub const DEFAULT: Routing = Routing {
        keys: &[],
        request: RequestPolicy::ByKey,
        response: ResponsePolicy::Default,
    };

    /// Calls `each` with the index in `argv` of every key, in order. `argv[0]` is the command
    /// name, subcommand words follow as sent (`["XREAD", "COUNT", "2", "STREAMS", "a", "b", "0",
    /// "0"]`). Indices match what the server's `COMMAND GETKEYS` returns, plus the arguments of
    /// `not_key` specs (shard channels), which route by slot like keys. No allocation.
    ///
    /// Fails when the arguments contradict the spec: a key count that is not a number or
    /// counts past the end, a required key missing.
    pub fn for_each_key(&self, argv: &[&[u8]], mut each: impl FnMut(usize)) -> Result<(), Error> {
        self.for_each_key_spec(argv, |_, index| each(index))
    }

    /// [`Routing::for_each_key`], naming the spec each key comes from (to tell keys from
    /// `not_key` arguments).
    pub fn for_each_key_spec(
        &self,
        argv: &[&[u8]],
        mut each: impl FnMut(&KeySpec, usize),
    ) -> Result<(), Error> {
        self.check_alternatives(argv)?;
        for spec in self.keys {
            spec.for_each(argv, |index| each(spec, index))?;
        }
        Ok(())
    }

    /// A key that has a word for "no key here" ([`KeySpec::absent_if`]) and the keys of the
    /// other specs are alternatives: the server wants the word when the others find keys
    /// (`MIGRATE h p "" 0 5 KEYS a b`), and refuses the command line with both.
    fn check_alternatives(&self, argv: &[&[u8]]) -> Result<(), Error> {
        for (at, spec) in self.keys.iter().enumerate() {
            let Some(word) = spec.absent_if else { continue };
            let mut key = None;
            spec.for_each(argv, |i| key = Some(i))?;
            let Some(key) = key else { continue };
            let mut others = 0;
            for (_, other) in self.keys.iter().enumerate().filter(|(i, _)| *i != at) {
                other.for_each(argv, |_| others += 1)?;
            }
            if others > 0 {
                return Err(Error::Usage(format!(
                    "{}: argument {key} must be {word:?} when the keys are given later (found `{}`)",
                    name(argv),
                    String::from_utf8_lossy(argv[key])
                )));
            }
        }
        Ok(())
    }
}
