//! The error family of redis-client.

/// Every error redis-client returns.
///
/// This is a starting point; the runtime extends it (see issue 3's error list).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A reply could not be converted into the requested Rust type.
    #[error("data error: {0}")]
    Data(String),
    /// The server sent bytes that are not valid RESP; the connection must be discarded.
    #[error("protocol error: {0}")]
    Protocol(String),
}

/// `Result` with redis-client's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
