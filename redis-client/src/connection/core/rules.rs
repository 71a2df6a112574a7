//! The decisions every front end shares, on a frame or on the clock: what a frame is (reply,
//! push, dropped, or one nobody asked for) and whether the oldest owed reply is overdue. The
//! multiplexed reader applies them to its own queue of owed replies, the [`super::Core`] to its.

use std::io;
use std::time::Instant;

use super::inbound::is_push;
use super::owed::{Owed, ReplyId, Wait};
use crate::config::Protocol;
use crate::error::{Error, Result};
use crate::resp::Value;

/// What [`route`] made of one frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Routed {
    /// The reply to the oldest owed command, now settled; `trails`: frames that answer no
    /// command may follow it (it changed the connection's state).
    Reply { id: ReplyId, trails: bool },
    /// A RESP3 push.
    Push,
    /// The reply to an abandoned request: drop it.
    Dropped,
}

/// The rule for one parsed frame: a RESP3 push goes out of band, anything else answers the oldest
/// owed command (dropped if that one was abandoned); a reply nobody is owed is a protocol error.
#[inline]
pub(crate) fn route(
    owed: &mut Owed,
    frame: &Value,
    protocol: Protocol,
    addr: &str,
) -> Result<Routed> {
    if is_push(frame, protocol) {
        return Ok(Routed::Push);
    }
    match owed.pop() {
        Some(popped) if popped.abandoned => Ok(Routed::Dropped),
        Some(popped) => Ok(Routed::Reply {
            id: popped.id,
            trails: popped.trails,
        }),
        None => Err(unsolicited(addr, frame)),
    }
}

/// The protocol error for a reply no command was waiting for.
#[cold]
pub(crate) fn unsolicited(addr: &str, frame: &Value) -> Error {
    Error::Protocol(format!(
        "the server at {addr} sent a {} reply no command was waiting for",
        frame.kind_name()
    ))
}

/// The deadline rule (see [`Owed::wait`]): until when the client may wait for the oldest owed
/// reply, or the timeout error naming its command once `now` is past it.
#[inline]
pub(crate) fn check_wait(owed: &mut Owed, now: Instant, addr: &str) -> Result<Wait> {
    match owed.wait(now) {
        Wait::Within(left) if left.is_zero() => Err(overdue(owed, addr)),
        wait => Ok(wait),
    }
}

#[cold]
fn overdue(owed: &Owed, addr: &str) -> Error {
    let error = Error::Timeout {
        addr: addr.to_owned(),
        action: "read from",
        command: None,
        after: owed.front_budget().unwrap_or_default(),
    };
    match owed.front_name() {
        Some(name) => error.with_command(name),
        None => error,
    }
}

/// Whether an I/O error means a system call ran out of time.
pub(crate) fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}
