//! A read path for streams of same-shaped frames (pub/sub messages): a caller-supplied shortcut
//! takes whole frames straight off the read buffer, and only frames it declines go through the
//! general parser and become a [`Value`].

use std::time::{Duration, Instant};

use bytes::BytesMut;

use super::{Connection, Filled};
use crate::error::Result;
use crate::resp::Value;

/// What a shortcut made of the bytes at the front of the read buffer.
pub(crate) enum Shortcut<T> {
    /// It took one whole frame off the buffer.
    Taken(T),
    /// The frame looks like one it takes but has not fully arrived; nothing was consumed.
    Incomplete,
    /// Not a frame it takes; nothing was consumed, and the general parser reads it.
    Declined,
}

/// One frame read by [`Connection::poll_frame_with`].
pub(crate) enum Polled<T> {
    /// What the shortcut took.
    Taken(T),
    /// A frame the shortcut declined, parsed in full.
    Frame(Value),
}

impl Connection {
    /// Waits up to `timeout` (`None`: forever) for the next frame, offering the buffered bytes to
    /// `shortcut` first; `Ok(None)` when nothing complete arrived in time.
    ///
    /// As with [`Connection::poll_frame`], running out of time does not break the connection.
    /// The shortcut only sees the buffer between frames, never in the middle of one the general
    /// parser has started.
    pub(crate) fn poll_frame_with<T>(
        &mut self,
        timeout: Option<Duration>,
        shortcut: &mut impl FnMut(&mut BytesMut) -> Shortcut<T>,
    ) -> Result<Option<Polled<T>>> {
        self.ensure_usable()?;
        let timeout = timeout.map(|t| t.max(Duration::from_micros(1)));
        loop {
            let mut general = true;
            if self.parser.is_idle() && !self.read_buf.is_empty() {
                match shortcut(&mut self.read_buf) {
                    Shortcut::Taken(taken) => {
                        self.last_used = Instant::now();
                        return Ok(Some(Polled::Taken(taken)));
                    }
                    Shortcut::Incomplete => general = false,
                    Shortcut::Declined => {}
                }
            }
            if general {
                if let Some(value) = self.parse_buffered()? {
                    if !matches!(value, Value::Push(_)) {
                        self.pending = self.pending.saturating_sub(1);
                    }
                    self.last_used = Instant::now();
                    return Ok(Some(Polled::Frame(value)));
                }
            }
            // Only a read that may block needs the timeout: frames already buffered are
            // taken without a system call.
            self.set_read_timeout(timeout)?;
            match self.fill(timeout, None, false)? {
                Filled::Bytes => {}
                Filled::TimedOut => return Ok(None),
            }
        }
    }
}
