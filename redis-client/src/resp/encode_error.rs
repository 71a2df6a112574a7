//! [`EncodeError`]: why arguments could not be encoded into a command.

use super::protocol_error::quoted;
use crate::error::Error;

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
}

impl EncodeError {
    /// Fills in the command's name where it is still unknown.
    pub(crate) fn name_command(&mut self, name: &[u8]) {
        if let EncodeError::NotANumber { command, .. } = self {
            if command.is_empty() {
                *command = quoted(name);
            }
        }
    }
}

impl From<EncodeError> for Error {
    fn from(e: EncodeError) -> Self {
        Error::Data(e.to_string())
    }
}
