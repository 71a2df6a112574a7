//! A hook for clients whose server moves (Sentinel): a [`Locator`] chooses the server of every
//! new connection, and says when connections to a former server must go.

use super::Connection;
use crate::config::ConnectionAddr;
use crate::error::{Error, Result};

/// Chooses where a pool's connections go, asked afresh for every new connection.
///
/// The pool's [`crate::Config`] supplies everything else (credentials, timeouts, TLS, database);
/// only its address is replaced.
pub(crate) trait Locator: Send + Sync {
    /// Opens a new connection: picks a server and calls `open` with its address, trying others
    /// in turn if it likes. An error (say, no master known) fails the connection attempt.
    fn connect(&self, open: &dyn Fn(&ConnectionAddr) -> Result<Connection>) -> Result<Connection>;

    /// Whether an open connection to `addr` (as [`crate::Connection::addr`] spells it) may still
    /// be used; pools close the others when they are checked out or returned.
    fn is_current(&self, addr: &str) -> bool;

    /// Whether a command's `error` means the server has moved: the client then closes every
    /// pooled connection, so the next ones are located afresh. After a `READONLY` so judged the
    /// command may be retried whatever it is, since the server refused to run it.
    fn server_moved(&self, error: &Error) -> bool;
}
