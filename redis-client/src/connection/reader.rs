//! The blocking read: one system call into a reused scratch buffer, waiting no longer than a
//! deadline, with the socket's read timeout changed only when it would overshoot that deadline.

use std::io::{self, Read};
use std::time::{Duration, Instant};

use bytes::BytesMut;

use super::core::{Core, Wait};
use super::stream::Stream;
use crate::error::Result;

/// The smallest and largest read attempted at once; the size adapts to the traffic between them.
const MIN_READ: usize = 16 * 1024;
const MAX_READ: usize = 1024 * 1024;
/// How many reads in a row must stay under a quarter of the read size before it halves (and its
/// memory is given back): a big reply should not pin a megabyte to an idle pooled connection,
/// but one small reply between big ones should not shrink it either.
const SHRINK_AFTER: u32 = 16;
/// How far past a deadline a read may be allowed to block before the socket's timeout is set
/// anew: each reply's first read waits exactly its budget, so only reads later in a reply that
/// trickles in pay the extra system call.
const MAX_SLACK: Duration = Duration::from_millis(5);

/// What one [`Reader::fill`] did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Filled {
    /// Bytes arrived and were appended.
    Bytes,
    /// The socket's timeout expired first; whether a deadline passed is the caller's to judge.
    TimedOut,
}

/// The scratch buffer and the read timeout currently set on the socket.
#[derive(Debug)]
pub(crate) struct Reader {
    /// Where the socket reads into: zeroed once when it grows and reused, so no read pays for
    /// initialising its whole buffer (safe Rust cannot read into uninitialised memory).
    /// Received bytes are copied into the connection's read buffer, whose replies the parser
    /// hands out zero-copy.
    scratch: Vec<u8>,
    /// Reads in a row that used less than a quarter of `scratch`.
    small_reads: u32,
    /// The read timeout set on the socket, to skip redundant system calls.
    timeout: Option<Duration>,
}

impl Reader {
    /// A reader for a socket whose read timeout is `timeout` now.
    pub(crate) fn new(timeout: Option<Duration>) -> Reader {
        Reader {
            scratch: vec![0; MIN_READ],
            small_reads: 0,
            timeout,
        }
    }

    /// Reads once from `stream` into `into`, blocking no longer than `wait` (`None`: as long as
    /// it takes). End of stream is an `UnexpectedEof` error.
    #[inline]
    pub(crate) fn fill(
        &mut self,
        stream: &mut Stream,
        into: &mut BytesMut,
        wait: Option<Duration>,
    ) -> io::Result<Filled> {
        // The socket refuses a zero timeout (it would mean none).
        let wanted = wait.map(|wait| wait.max(Duration::from_micros(1)));
        if !close_enough(self.timeout, wanted) {
            stream.set_read_timeout(wanted)?;
            self.timeout = wanted;
        }
        loop {
            match stream.read(&mut self.scratch) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the server closed the connection",
                    ))
                }
                Ok(n) => {
                    into.extend_from_slice(&self.scratch[..n]);
                    self.adapt(n);
                    return Ok(Filled::Bytes);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if super::core::is_timeout(&e) => return Ok(Filled::TimedOut),
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads once, no longer than the oldest owed reply's deadline; fails once it has passed.
    pub(super) fn wait_for_reply(
        &mut self,
        core: &mut Core,
        stream: &mut Stream,
        unowed_until: &mut Option<Option<Instant>>,
    ) -> Result<()> {
        let now = Instant::now();
        let wait = match core.wait(now)? {
            Wait::Within(left) => Some(left),
            Wait::Forever => None,
            Wait::Idle => {
                let timeout = core.socket_timeout();
                let until = *unowed_until.get_or_insert_with(|| timeout.map(|t| now + t));
                match until.map(|until| until.saturating_duration_since(now)) {
                    Some(left) if left.is_zero() => {
                        let e = io::Error::new(io::ErrorKind::TimedOut, "no reply arrived");
                        return Err(core.io_failure("read from", e));
                    }
                    left => left,
                }
            }
        };
        // A timed-out read comes back here, and `wait` judges whether the deadline passed.
        match self.fill(stream, core.received(), wait) {
            Ok(_) => Ok(()),
            Err(e) => Err(core.io_failure("read from", e)),
        }
    }

    /// Doubles the read size when a read fills it, so large replies need few system calls, and
    /// halves it after [`SHRINK_AFTER`] small reads in a row.
    #[inline]
    fn adapt(&mut self, n: usize) {
        let size = self.scratch.len();
        if n == size && size < MAX_READ {
            self.scratch.resize((size * 2).min(MAX_READ), 0);
            self.small_reads = 0;
        } else if n < size / 4 && size > MIN_READ {
            self.small_reads += 1;
            if self.small_reads >= SHRINK_AFTER {
                self.scratch.truncate((size / 2).max(MIN_READ));
                self.scratch.shrink_to_fit();
                self.small_reads = 0;
            }
        } else {
            self.small_reads = 0;
        }
    }
}

/// Whether a read under the socket timeout `set` ends close enough to one that should wait
/// `wanted`: never sooner (an early wake-up costs a system call), and later by at most a
/// sixteenth of the wait or [`MAX_SLACK`].
#[inline]
fn close_enough(set: Option<Duration>, wanted: Option<Duration>) -> bool {
    match (set, wanted) {
        (None, None) => true,
        (Some(set), Some(wanted)) => set >= wanted && set - wanted <= (wanted / 16).min(MAX_SLACK),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_socket_timeout_changes_only_when_it_would_overshoot_or_cut_short() {
        let ms = Duration::from_millis;
        assert!(close_enough(Some(ms(500)), Some(ms(500))));
        assert!(close_enough(Some(ms(500)), Some(ms(497))));
        assert!(!close_enough(Some(ms(500)), Some(ms(400))), "overshoot");
        assert!(!close_enough(Some(ms(400)), Some(ms(500))), "early wake-up");
        assert!(
            !close_enough(Some(ms(16)), Some(ms(14))),
            "beyond a sixteenth"
        );
        assert!(close_enough(None, None));
        assert!(!close_enough(None, Some(ms(1))));
        assert!(!close_enough(Some(ms(1)), None));
    }
}
