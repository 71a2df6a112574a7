//! The two pump threads of a proxied connection and the controls they obey.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::bounds::ReplyBounds;

const CHUNK: usize = 16 * 1024;

/// What the test asked the proxy to do to traffic.
#[derive(Debug, Default)]
pub(super) struct Controls {
    pub(super) stalled: bool,
    pub(super) delay: Duration,
    /// Server→client bytes go out one at a time, this far apart (zero: off).
    pub(super) trickle: Duration,
    /// Bytes still allowed server→client before the connection carrying them is cut.
    pub(super) cut_after: Option<usize>,
    /// One-shot: an extra reply to send right after the next server→client chunk that ends
    /// where a reply ends, once every command seen so far is answered.
    pub(super) extra: Option<Extra>,
}

/// An extra reply the proxy adds to a server's stream.
#[derive(Clone, Debug)]
pub enum Extra {
    /// These bytes, e.g. `+STALE\r\n`.
    Bytes(Vec<u8>),
    /// A second copy of the reply just forwarded.
    Duplicate,
}

/// The state the pumps of every connection share with the [`super::Proxy`].
#[derive(Debug)]
pub(super) struct Shared {
    pub(super) stopping: AtomicBool,
    pub(super) controls: Mutex<Controls>,
    pub(super) changed: Condvar,
}

/// One proxied connection: the client side and the server side.
#[derive(Debug)]
pub(super) struct Link {
    pub(super) client: TcpStream,
    pub(super) server: TcpStream,
    closed: AtomicBool,
    /// Held while bytes are written to the client, so an injected reply never lands inside
    /// a chunk being forwarded.
    to_client: Mutex<()>,
    /// Commands forwarded to the server so far, counted before they go; `u64::MAX` once the
    /// client's stream could not be followed.
    commands: AtomicU64,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Direction {
    ClientToServer,
    ServerToClient,
}

pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking pump thread must not disable the controls for the test thread.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Link {
    pub(super) fn new(client: TcpStream, server: TcpStream) -> Link {
        Link {
            client,
            server,
            closed: AtomicBool::new(false),
            to_client: Mutex::new(()),
            commands: AtomicU64::new(0),
        }
    }

    pub(super) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        // Shutting the sockets down wakes pump threads blocked in read or write on their clones.
        let _ = self.client.shutdown(Shutdown::Both);
        let _ = self.server.shutdown(Shutdown::Both);
    }

    pub(super) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// Sends `bytes` to the client now, between two forwarded chunks.
    pub(super) fn send_to_client(&self, bytes: &[u8]) -> std::io::Result<()> {
        let _writing = lock(&self.to_client);
        (&self.client).write_all(bytes)
    }
}

/// Copies `from` → `to` chunk by chunk, applying the controls; closes the whole link when either
/// side ends.
pub(super) fn pump(
    mut from: TcpStream,
    mut to: TcpStream,
    direction: Direction,
    link: &Link,
    shared: &Shared,
) {
    let mut buf = vec![0u8; CHUNK];
    let mut bounds = ReplyBounds::default();
    // Replies forwarded to the client so far.
    let mut replies = 0;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let Some(admitted) = shared.admit(n, direction, link) else {
            break;
        };
        let chunk = &buf[..admitted.len];
        let sent = match direction {
            Direction::ClientToServer => {
                let commands = bounds.feed(chunk).answers;
                if bounds.is_lost() {
                    link.commands.store(u64::MAX, Ordering::SeqCst);
                } else {
                    link.commands.fetch_add(commands, Ordering::SeqCst);
                }
                to.write_all(chunk).is_ok()
            }
            Direction::ServerToClient => {
                let ends = bounds.feed(chunk);
                replies += ends.answers;
                let commands = link.commands.load(Ordering::SeqCst);
                let all_answered = commands == u64::MAX || commands == replies;
                let extra = all_answered
                    .then(|| shared.extra_for(&ends, chunk))
                    .flatten();
                let mut out = chunk.to_vec();
                if let Some(extra) = extra.as_ref() {
                    match extra {
                        Extra::Bytes(bytes) => out.extend_from_slice(bytes),
                        Extra::Duplicate => {
                            let last = ends.last_whole().expect("extra_for checked it");
                            out.extend_from_slice(&chunk[last]);
                        }
                    }
                }
                shared.send(&mut to, &out, link).is_ok()
            }
        };
        if !sent || admitted.cut {
            break;
        }
    }
    link.close();
}

/// How much of a chunk to forward.
struct Admitted {
    len: usize,
    /// Cut the connection after forwarding it.
    cut: bool,
}

impl Shared {
    fn gone(&self, link: &Link) -> bool {
        link.is_closed() || self.stopping.load(Ordering::SeqCst)
    }

    /// Waits out stalls and delays for a chunk of `n` bytes; `None` when the link was closed
    /// meanwhile.
    fn admit(&self, n: usize, direction: Direction, link: &Link) -> Option<Admitted> {
        let mut controls = lock(&self.controls);
        while controls.stalled && !self.gone(link) {
            controls = self
                .changed
                .wait(controls)
                .unwrap_or_else(|e| e.into_inner());
        }
        let deadline = Instant::now() + controls.delay;
        controls = self.sleep_until(controls, deadline, link)?;
        if direction == Direction::ServerToClient {
            if let Some(budget) = controls.cut_after {
                if n >= budget {
                    controls.cut_after = None;
                    return Some(Admitted {
                        len: budget,
                        cut: true,
                    });
                }
                controls.cut_after = Some(budget - n);
            }
        }
        Some(Admitted { len: n, cut: false })
    }

    /// Sleeps until `deadline` or until the link closes (`None`), waking on control changes.
    fn sleep_until<'c>(
        &self,
        mut controls: MutexGuard<'c, Controls>,
        deadline: Instant,
        link: &Link,
    ) -> Option<MutexGuard<'c, Controls>> {
        loop {
            if self.gone(link) {
                return None;
            }
            let now = Instant::now();
            if now >= deadline {
                return Some(controls);
            }
            controls = self
                .changed
                .wait_timeout(controls, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// The extra reply to add after `chunk`, if one is pending and the chunk ends where a reply
    /// ends (and, to duplicate, holds that whole reply).
    fn extra_for(&self, ends: &super::bounds::Ends, chunk: &[u8]) -> Option<Extra> {
        let mut controls = lock(&self.controls);
        let fits = match controls.extra.as_ref()? {
            Extra::Bytes(_) => ends.on_boundary(chunk.len()),
            Extra::Duplicate => ends.on_boundary(chunk.len()) && ends.last_whole().is_some(),
        };
        fits.then(|| controls.extra.take()).flatten()
    }

    /// Writes `out` to the client, at once or, while trickling, one byte at a time.
    fn send(&self, to: &mut TcpStream, out: &[u8], link: &Link) -> std::io::Result<()> {
        let mut sent = 0;
        while sent < out.len() {
            let trickle = lock(&self.controls).trickle;
            let step = if trickle.is_zero() {
                out.len() - sent
            } else {
                1
            };
            {
                let _writing = lock(&link.to_client);
                to.write_all(&out[sent..sent + step])?;
            }
            sent += step;
            if !trickle.is_zero() && sent < out.len() {
                let controls = lock(&self.controls);
                let closed = std::io::Error::other("the link closed");
                let slept = self.sleep_until(controls, Instant::now() + trickle, link);
                drop(slept.ok_or(closed)?);
            }
        }
        Ok(())
    }
}
