//! The multiplexed mode of [`Client`](super::Client): commands of concurrent threads share one
//! connection.
//!
//! Over TCP and Unix sockets the connection is split ([`split`]): callers write their commands
//! as they come, flat-combining the writes, while one background reader thread hands each reply
//! to its caller, so many batches are in flight at once. TLS streams cannot be split; there a
//! leader writes a batch and reads its replies before the next goes out ([`combine`]).

mod combine;
mod link;
mod slot;
mod split;

use crate::connection::connector::Connector;
use crate::connection::request::{CommandInfo, Request};
use crate::connection::Failure;
use crate::resp::Value;
use combine::Combiner;
use split::Split;

/// One connection shared by every thread of a multiplexed client.
pub(super) enum Multiplexer {
    /// TCP or Unix socket: a writer side shared by callers and a reader thread.
    Split(Box<Split>),
    /// TLS: one batch at a time, led by a caller.
    Combining(Box<Combiner>),
}

impl Multiplexer {
    pub(super) fn new(connector: Connector) -> Multiplexer {
        if connector.config().tls().is_some() {
            Multiplexer::Combining(Box::new(Combiner::new(connector)))
        } else {
            Multiplexer::Split(Box::new(Split::new(connector)))
        }
    }

    /// Whether a command may share the connection: a blocking one (`BLPOP`, `XREAD … BLOCK`,
    /// `WAIT` …) would hold up every command queued behind it, so it takes a pooled connection.
    pub(super) fn takes(info: &CommandInfo) -> bool {
        info.may_share()
    }

    /// Runs one request on the shared connection.
    ///
    /// The outcome is this request's own, as [`crate::Connection`]'s `run` would give it: an
    /// error reply is `Err` naming the command, and `sent` says whether the command may have run.
    pub(super) fn run(&self, request: &Request) -> Result<Value, Failure> {
        match self {
            Multiplexer::Split(split) => split.run(request),
            Multiplexer::Combining(combiner) => combiner.run(request),
        }
    }

    /// Stops using the connection (commands already on it still get their replies), so the
    /// next command connects anew, e.g. after Sentinel reported that the server moved.
    pub(super) fn disconnect(&self) {
        match self {
            Multiplexer::Split(split) => split.disconnect(),
            Multiplexer::Combining(combiner) => combiner.disconnect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocking_commands_take_the_pool() {
        let info = |args: &[&str]| Request::encode(&args).unwrap().info;
        assert!(Multiplexer::takes(&info(&["GET", "k"])));
        assert!(Multiplexer::takes(&info(&["FROBNICATE"])));
        assert!(!Multiplexer::takes(&info(&["BLPOP", "k", "1"])));
        assert!(!Multiplexer::takes(&info(&[
            "XREAD", "BLOCK", "10", "STREAMS", "s", "$"
        ])));
        // XREAD without BLOCK does not wait, but the table flags the command as blocking.
        assert!(!Multiplexer::takes(&info(&["XREAD", "STREAMS", "s", "0"])));
    }
}
