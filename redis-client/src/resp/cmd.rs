//! [`Cmd`]: an owned, growable list of raw arguments.

use std::fmt;

use bytes::BytesMut;

use super::args::{ArgWriter, ToArgs};
use super::encode_error::EncodeError;
use super::protocol_error::Quoted;

/// An owned command built argument by argument, for commands the generated surface lacks.
///
/// All arguments live in one buffer with their end offsets beside it, so building a command
/// costs two growing allocations however many arguments it has.
///
/// ```
/// use redis_client::resp::{write_command, Cmd};
///
/// let cmd = Cmd::new("SET").arg("key").arg(1.5).arg(["EX", "10"]);
/// assert_eq!(cmd.len(), 5);
/// assert_eq!(cmd.get(2), Some(&b"1.5"[..]));
///
/// let mut out = bytes::BytesMut::new();
/// write_command(&mut out, &cmd).unwrap();
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Cmd {
    data: BytesMut,
    ends: Vec<usize>,
    /// Why an argument could not be added; reported when the command is encoded.
    error: Option<EncodeError>,
}

impl Cmd {
    /// A command whose first argument is `name` (for example `"SET"` or `"CLIENT"`).
    pub fn new(name: impl ToArgs) -> Self {
        Self::default().arg(name)
    }

    /// A command with the arguments of `args` (for example `["SET", "k", "v"]`).
    pub fn from_args(args: &(impl ToArgs + ?Sized)) -> Self {
        let mut cmd = Self::default();
        cmd.push(args);
        cmd
    }

    /// Appends the arguments of `args`, builder style.
    pub fn arg(mut self, args: impl ToArgs) -> Self {
        self.push(&args);
        self
    }

    /// Appends the arguments of `args`.
    ///
    /// A NaN float is not appended; encoding the command then fails with
    /// [`EncodeError::NotANumber`].
    pub fn push(&mut self, args: &(impl ToArgs + ?Sized)) -> &mut Self {
        let before = self.ends.len();
        let mut writer = ArgWriter::raw(&mut self.data, &mut self.ends);
        args.write_args(&mut writer);
        if let (_, Some(mut error)) = writer.finish() {
            if let EncodeError::NotANumber { index, .. } = &mut error {
                *index += before;
            }
            error.name_command(self.get(0).unwrap_or_default());
            self.error.get_or_insert(error);
        }
        self
    }

    /// How many arguments the command has.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether the command has no arguments yet.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The argument at `index`, the command name being 0.
    pub fn get(&self, index: usize) -> Option<&[u8]> {
        let end = *self.ends.get(index)?;
        let start = index.checked_sub(1).map_or(0, |prev| self.ends[prev]);
        Some(&self.data[start..end])
    }

    /// The arguments in order.
    pub fn args(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        (0..self.ends.len()).map(|i| self.get(i).unwrap_or_default())
    }
}

impl ToArgs for Cmd {
    fn write_args(&self, out: &mut ArgWriter<'_>) {
        if let Some(error) = &self.error {
            out.fail(error.clone());
        }
        let mut start = 0;
        for &end in &self.ends {
            out.arg(&self.data[start..end]);
            start = end;
        }
    }

    fn num_args(&self) -> usize {
        self.ends.len()
    }
}

impl fmt::Debug for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Cmd[")?;
        for i in 0..self.len() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{}", Quoted(self.get(i).unwrap_or_default()))?;
        }
        f.write_str("]")?;
        if let Some(error) = &self.error {
            write!(f, " (invalid: {error})")?;
        }
        Ok(())
    }
}
