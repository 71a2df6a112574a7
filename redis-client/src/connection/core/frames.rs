//! What the core makes of frames outside the request/response rhythm: streams of frames that
//! answer no particular command (pub/sub, `MONITOR`), shortcuts that take frames straight off
//! the read buffer, and what arrived between two commands.

use bytes::BytesMut;

use super::inbound::is_push;
use super::rules::unsolicited;
use super::Core;
use crate::error::{Error, Result};
use crate::resp::Value;

impl Core {
    /// The next frame of any kind, as it is (pub/sub messages, `MONITOR` lines); a frame that
    /// is not a push settles the oldest owed reply, if any. `None` until more bytes arrive.
    #[inline]
    pub(crate) fn next_frame(&mut self) -> Result<Option<Value>> {
        self.ensure_usable()?;
        while let Some(frame) = self.parse()? {
            if !is_push(&frame, self.protocol) {
                if let Some(popped) = self.owed.pop() {
                    if popped.abandoned {
                        continue;
                    }
                }
            }
            return Ok(Some(frame));
        }
        Ok(None)
    }

    /// Before the next command, on a connection that owes nothing: takes what arrived since the
    /// last reply. Pushes go to `on_push`; a reply (or the start of one) is one nobody asked for,
    /// a protocol error that breaks the connection, since the next command would take it for
    /// its own.
    #[inline]
    pub(crate) fn take_unread(&mut self, on_push: &mut impl FnMut(Value)) -> Result<()> {
        while !self.inbound.is_empty() {
            // A frame the parser has begun is a push this loop left half read.
            if self.inbound.between_frames() && !self.inbound.starts_push(self.protocol) {
                let error = Error::Protocol(format!(
                    "the server at {} sent \"{}\" while no command was waiting",
                    self.addr,
                    self.inbound.sample()
                ));
                return Err(self.fail(error));
            }
            match self.parse()? {
                Some(frame) if is_push(&frame, self.protocol) => on_push(frame),
                Some(frame) => return Err(self.fail(unsolicited(&self.addr, &frame))),
                None => break,
            }
        }
        Ok(())
    }

    /// The read buffer, for a shortcut that takes whole frames straight off it — only between
    /// frames, with bytes waiting, on a usable connection.
    pub(crate) fn buffer_between_frames(&mut self) -> Option<&mut BytesMut> {
        let ready = !self.broken && self.inbound.between_frames();
        ready
            .then(|| self.inbound.buffer())
            .filter(|buf| !buf.is_empty())
    }
}
