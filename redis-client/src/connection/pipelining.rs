//! Crate hooks for pipelines, transactions and the multiplexed client: send many encoded
//! commands straight from the caller's own buffer, telling the core which replies they owe, read
//! those replies one by one, and mark a connection whose server-side state is unknown so that
//! nobody reuses it.

use std::io::Write;
use std::time::Duration;

use super::Connection;
use crate::command_meta::BlockFor;
use crate::error::Result;

impl Connection {
    /// Writes `frames` (complete encoded commands, back to back) to the socket; `blocks` tells,
    /// for each of them in order, how long its command blocks on the server, if it does (which
    /// extends the deadline of its reply).
    ///
    /// The replies owed are not named: errors reading them come without a command, for the
    /// caller to name (it knows which command each reply answers). The bytes go out from the
    /// caller's buffer, not through the output buffer, so a large pipeline is never copied.
    /// Anything already in the output buffer is sent first.
    pub(crate) fn send_frames(
        &mut self,
        frames: &[u8],
        blocks: impl IntoIterator<Item = Option<BlockFor>>,
    ) -> Result<()> {
        self.flush()?;
        self.core.expect_unnamed(blocks);
        let result = self
            .stream
            .write_all(frames)
            .and_then(|()| self.stream.flush());
        result.map_err(|e| self.core.io_failure("write to", e))
    }

    /// The socket timeout replies are normally awaited with.
    pub(crate) fn socket_timeout(&self) -> Option<Duration> {
        self.core.socket_timeout()
    }

    /// Marks the connection unusable: its server-side state (a `MULTI` begun, keys `WATCH`ed)
    /// could not be cleaned up, so a pool must close it rather than hand it out again.
    pub(crate) fn mark_broken(&mut self) {
        self.core.mark_broken();
    }
}
