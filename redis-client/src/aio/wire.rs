//! Moving bytes between a connection core and its socket, by polling: what the core has
//! buffered goes out, what the socket gives goes in, and no read or write waits past the
//! deadline it was given. One timer per connection, reset rather than re-created.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

use super::stream::AsyncStream;
use crate::connection::core::Core;
use crate::error::Result;

/// The smallest and largest read attempted at once; a read that fills the scratch buffer
/// doubles it.
const MIN_READ: usize = 16 * 1024;
const MAX_READ: usize = 1024 * 1024;

/// A socket, the scratch buffer reads land in, and the connection's timer.
#[derive(Debug)]
pub(crate) struct Wire {
    stream: AsyncStream,
    /// Zeroed once when it grows and reused: safe Rust cannot read into uninitialised memory.
    scratch: Vec<u8>,
    /// Created on first use (a connection that never waits needs none), then reset.
    timer: Option<Pin<Box<Sleep>>>,
    /// The deadline the timer is set to, if it is armed.
    armed: Option<Instant>,
    /// When the write under way must be done (armed when the socket first refuses bytes).
    write_until: Option<Instant>,
    /// How long a stalled write may take; `None`: as long as it needs.
    write_timeout: Option<Duration>,
}

impl Wire {
    /// Drives `stream`; a write stalled longer than `write_timeout` fails.
    pub(crate) fn new(stream: AsyncStream, write_timeout: Option<Duration>) -> Wire {
        Wire {
            stream,
            scratch: vec![0; MIN_READ],
            timer: None,
            armed: None,
            write_until: None,
            write_timeout,
        }
    }

    /// Writes everything `core` has buffered. A failure (or a write stalled past the write
    /// timeout) breaks the connection, naming the oldest owed command.
    pub(crate) fn poll_write_out(
        &mut self,
        cx: &mut Context<'_>,
        core: &mut Core,
    ) -> Poll<Result<()>> {
        while !core.output_is_empty() {
            match self.poll_write_some(cx, core.output()) {
                Poll::Ready(Ok(n)) => core.wrote(n),
                Poll::Ready(Err(e)) => return Poll::Ready(Err(core.io_failure("write to", e))),
                Poll::Pending => return Poll::Pending,
            }
        }
        self.poll_flush(cx)
            .map_err(|e| core.io_failure("write to", e))
    }

    /// Writes what it can of `buf` (bytes taken out of a core), advancing it; ready when it is
    /// empty. The caller reports a failure through the core.
    pub(crate) fn poll_write_buf(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut BytesMut,
    ) -> Poll<io::Result<()>> {
        while !buf.is_empty() {
            let n = ready!(self.poll_write_some(cx, buf))?;
            buf.advance(n);
        }
        self.poll_flush(cx)
    }

    /// One write of `bytes`, no longer stalled than the write timeout.
    fn poll_write_some(&mut self, cx: &mut Context<'_>, bytes: &[u8]) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.stream).poll_write(cx, bytes) {
            Poll::Ready(Ok(0)) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "the socket took no bytes",
            ))),
            Poll::Ready(result) => {
                self.write_until = None;
                Poll::Ready(result)
            }
            Poll::Pending => self.write_stalled(cx).map(Err),
        }
    }

    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.stream).poll_flush(cx) {
            Poll::Pending => self.write_stalled(cx).map(Err),
            ready => {
                self.write_until = None;
                ready
            }
        }
    }

    /// The socket refused bytes: wait for it, no longer than the write timeout.
    fn write_stalled(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        let Some(limit) = self.write_timeout else {
            return Poll::Pending;
        };
        let until = *self
            .write_until
            .get_or_insert_with(|| Instant::now() + limit);
        ready!(self.poll_timer(cx, until));
        self.write_until = None;
        Poll::Ready(io::Error::new(
            io::ErrorKind::TimedOut,
            "the socket took no bytes in time",
        ))
    }

    /// Reads once into `core`'s read buffer, waiting no later than `until` (`None`: as long as
    /// it takes): `true` when bytes arrived, `false` when `until` passed first (whether that
    /// fails a command is the core's to judge). End of stream and socket errors break the
    /// connection.
    pub(crate) fn poll_fill(
        &mut self,
        cx: &mut Context<'_>,
        core: &mut Core,
        until: Option<Instant>,
    ) -> Poll<Result<bool>> {
        match ready!(self.poll_read_some(cx, until)) {
            Ok(Some(bytes)) => {
                core.received().extend_from_slice(bytes);
                Poll::Ready(Ok(true))
            }
            Ok(None) => Poll::Ready(Ok(false)),
            Err(e) => Poll::Ready(Err(core.io_failure("read from", e))),
        }
    }

    /// Reads once into the scratch buffer, waiting no later than `until`: the bytes read, or
    /// `None` when `until` passed first. End of stream is an `UnexpectedEof` error.
    pub(crate) fn poll_read_some(
        &mut self,
        cx: &mut Context<'_>,
        until: Option<Instant>,
    ) -> Poll<io::Result<Option<&[u8]>>> {
        let mut buf = ReadBuf::new(&mut self.scratch);
        match Pin::new(&mut self.stream).poll_read(cx, &mut buf) {
            Poll::Ready(Ok(())) => {
                let n = buf.filled().len();
                if n == 0 {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the server closed the connection",
                    )));
                }
                if n == self.scratch.len() && n < MAX_READ {
                    // Full: the next read may take more. The bytes read stay in front.
                    self.scratch.resize(n * 2, 0);
                }
                Poll::Ready(Ok(Some(&self.scratch[..n])))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => match until {
                None => Poll::Pending,
                Some(until) => {
                    ready!(self.poll_timer(cx, until));
                    Poll::Ready(Ok(None))
                }
            },
        }
    }

    /// Ready once `until` has passed; registers the task's waker with the timer otherwise.
    fn poll_timer(&mut self, cx: &mut Context<'_>, until: Instant) -> Poll<()> {
        let deadline = tokio::time::Instant::from_std(until);
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if self.armed != Some(until) {
            timer.as_mut().reset(deadline);
            self.armed = Some(until);
        }
        ready!(timer.as_mut().poll(cx));
        self.armed = None;
        Poll::Ready(())
    }
}
