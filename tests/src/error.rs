//! The harness's error type: every failure names what was being done and why it failed.

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong while spawning or talking to a test server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A server binary (or the `openssl` CLI) could not be found; `install` says how to get it.
    #[error("{binary} not found ({searched}); install it with: {install}")]
    MissingBinary {
        /// The binary that is missing, e.g. `valkey-server`.
        binary: &'static str,
        /// Where the harness looked.
        searched: String,
        /// The command that installs it.
        install: &'static str,
    },
    /// An I/O operation failed; `action` says which one.
    #[error("{action}: {source}")]
    Io {
        /// What the harness was doing, e.g. `writing /tmp/x/redis.conf`.
        action: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A server process exited or never answered during startup.
    #[error("{what} did not start: {reason}\n--- last lines of {} ---\n{log_tail}", log.display())]
    Startup {
        /// Which server, e.g. `redis-server on 127.0.0.1:4711`.
        what: String,
        /// Why the harness gave up.
        reason: String,
        /// The server's log file.
        log: PathBuf,
        /// The end of that log.
        log_tail: String,
    },
    /// A helper command such as `openssl` exited unsuccessfully.
    #[error("`{command}` failed ({status}): {stderr}")]
    Tool {
        /// The command line that was run.
        command: String,
        /// Its exit status.
        status: String,
        /// What it printed on stderr.
        stderr: String,
    },
    /// A server answered, but not with what the harness needed.
    #[error("{context}: unexpected reply {reply}")]
    UnexpectedReply {
        /// The command or check that got the reply.
        context: String,
        /// The reply, rendered for humans.
        reply: String,
    },
    /// A condition did not become true before its deadline.
    #[error("timed out after {waited_ms} ms waiting for {what}; last seen: {last}")]
    Timeout {
        /// What the harness waited for.
        what: String,
        /// How long it waited.
        waited_ms: u128,
        /// The last observation, to tell how far it got.
        last: String,
    },
}

/// The harness's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Adds the `action` context to an I/O error.
pub(crate) trait IoContext<T> {
    /// Wraps the error in [`Error::Io`] with a lazily built description.
    fn context(self, action: impl FnOnce() -> String) -> Result<T>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn context(self, action: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| Error::Io {
            action: action(),
            source,
        })
    }
}
