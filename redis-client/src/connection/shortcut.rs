//! A read path for streams of same-shaped frames (pub/sub messages): a caller-supplied shortcut
//! takes whole frames straight off the read buffer, and only frames it declines go through the
//! general parser and become a [`Value`].

use std::time::{Duration, Instant};

use bytes::BytesMut;

use super::Connection;
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
        self.core.ensure_usable()?;
        let mut until = None;
        let mut reads = 0;
        loop {
            let mut general = true;
            if let Some(buffer) = self.core.buffer_between_frames() {
                match shortcut(buffer) {
                    Shortcut::Taken(taken) => {
                        self.last_used = Instant::now();
                        return Ok(Some(Polled::Taken(taken)));
                    }
                    Shortcut::Incomplete => general = false,
                    Shortcut::Declined => {}
                }
            }
            if general {
                if let Some(value) = self.core.next_frame()? {
                    self.last_used = Instant::now();
                    return Ok(Some(Polled::Frame(value)));
                }
            }
            // Frames already buffered are taken without reading the clock.
            let until = *until.get_or_insert_with(|| {
                timeout.and_then(|timeout| Instant::now().checked_add(timeout))
            });
            if !self.wait_for_frame(until, &mut reads)? {
                return Ok(None);
            }
        }
    }
}
