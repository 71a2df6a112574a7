//! Reading streams of frames that answer no particular command (pub/sub messages, `MONITOR`
//! lines): any frame, pushes included, within a deadline of the caller's.

use std::io;
use std::time::{Duration, Instant};

use super::Connection;
use crate::error::Result;
use crate::resp::Value;

impl Connection {
    /// Reads the next frame of any kind, pushes included (for pub/sub and `MONITOR`); it must
    /// arrive whole within the socket timeout.
    pub fn read_frame(&mut self) -> Result<Value> {
        let timeout = self.core.socket_timeout();
        let until = timeout.and_then(|t| Instant::now().checked_add(t));
        match self.next_frame_until(until)? {
            Some(frame) => Ok(frame),
            None => {
                let e = io::Error::new(io::ErrorKind::TimedOut, "no whole frame in time");
                Err(self.core.io_failure("read from", e))
            }
        }
    }

    /// Waits up to `timeout` for the next frame of any kind; `Ok(None)` when none arrived whole.
    ///
    /// Unlike other reads, running out of time here does not break the connection: the
    /// incremental parser keeps whatever part of a frame has arrived, so a later call resumes.
    pub fn poll_frame(&mut self, timeout: Duration) -> Result<Option<Value>> {
        self.next_frame_until(Instant::now().checked_add(timeout))
    }

    /// The next frame of any kind, or `None` once `until` passed (`None`: wait for ever). The
    /// socket is read at least once, so a deadline already past takes what has arrived.
    pub(crate) fn next_frame_until(&mut self, until: Option<Instant>) -> Result<Option<Value>> {
        let mut reads = 0;
        loop {
            if let Some(frame) = self.core.next_frame()? {
                self.last_used = Instant::now();
                return Ok(Some(frame));
            }
            if !self.wait_for_frame(until, &mut reads)? {
                return Ok(None);
            }
        }
    }

    /// Reads once, no longer than until `until`; `false` when it had passed already and the
    /// socket was read before (`reads` counts the reads of this wait).
    pub(crate) fn wait_for_frame(
        &mut self,
        until: Option<Instant>,
        reads: &mut u32,
    ) -> Result<bool> {
        let now = Instant::now();
        if *reads > 0 && until.is_some_and(|until| now >= until) {
            return Ok(false);
        }
        *reads += 1;
        let wait = until.map(|until| until.saturating_duration_since(now));
        let buffer = self.core.received();
        match self.reader.fill(&mut self.stream, buffer, wait) {
            Ok(_) => Ok(true),
            Err(e) => Err(self.core.io_failure("read from", e)),
        }
    }
}
