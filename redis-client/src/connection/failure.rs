//! How a request failed: the error, and whether the command may have run on the server, which
//! decides whether it may be retried.

use crate::error::Error;

/// Whether the failed request may already have been executed by the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sent {
    /// The request never fully reached the server; it did not run.
    No,
    /// The request was written out; the server may have run it.
    Maybe,
}

/// A failed request and whether it may have run on the server.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) error: Error,
    pub(crate) sent: Sent,
}

impl Failure {
    /// A failure before any byte of the request went out.
    pub(crate) fn unsent(error: Error) -> Failure {
        Failure {
            error,
            sent: Sent::No,
        }
    }

    /// A failure after the request was written: it may have run.
    pub(crate) fn maybe_sent(error: Error) -> Failure {
        Failure {
            error,
            sent: Sent::Maybe,
        }
    }
}
