//! Crate hooks for pipelines and transactions: send many encoded commands straight from the
//! pipeline's own buffer, read their replies one by one with each command's timeout, and
//! mark a connection whose server-side state is unknown so that nobody reuses it.

use std::io::Write;
use std::time::Duration;

use super::Connection;
use crate::error::{Error, Result};
use crate::resp::Value;

impl Connection {
    /// Writes `frames` (`count` complete encoded commands) to the socket, each owing a reply.
    ///
    /// The bytes go out from the caller's buffer, not through the output buffer, so a large
    /// pipeline is never copied. Anything already in the output buffer is sent first.
    pub(crate) fn send_frames(&mut self, frames: &[u8], count: usize) -> Result<()> {
        self.flush()?;
        self.pending += count;
        let result = self
            .stream
            .write_all(frames)
            .and_then(|()| self.stream.flush());
        result.map_err(|e| self.io_failure("write to", e, self.socket_timeout))
    }

    /// Reads the next reply within `timeout` (`None`: wait forever); errors name `command`.
    ///
    /// As with [`Connection::read_reply`], an error reply comes back as [`Value::Error`].
    #[inline]
    pub(crate) fn read_reply_for(
        &mut self,
        timeout: Option<Duration>,
        command: &str,
    ) -> Result<Value> {
        self.ensure_usable()?;
        self.read_reply_within(timeout, Some(command))
            .map_err(|e| e.with_command(command))
    }

    /// The socket timeout replies are normally awaited with.
    pub(crate) fn socket_timeout(&self) -> Option<Duration> {
        self.socket_timeout
    }

    /// Marks the connection unusable: its server-side state (a `MULTI` begun, keys `WATCH`ed)
    /// could not be cleaned up, so a pool must close it rather than hand it out again.
    pub(crate) fn mark_broken(&mut self) {
        self.broken = true;
    }

    /// Fails unless the connection is usable and owes no replies, so a pipeline starts from a
    /// known position in the reply stream.
    pub(crate) fn ensure_idle(&self) -> Result<()> {
        self.ensure_usable()?;
        if self.pending != 0 || !self.write_buf.is_empty() {
            return Err(Error::Data(format!(
                "cannot start a pipeline while {} earlier replies are unread or unsent",
                self.pending
            )));
        }
        Ok(())
    }
}
