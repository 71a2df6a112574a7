//! The error family of redis-client (documented on [`Error`]).

use std::fmt;
use std::io;
use std::time::Duration;

/// Every error redis-client returns.
///
/// One enum, [`Error`], covers everything the client can fail with. Errors the server sent keep
/// the server's code (`WRONGTYPE`, `NOSCRIPT`, `MOVED`, …) in a [`ServerError`], together with the
/// name of the command that failed, so callers can branch on [`Error::code`] instead of parsing text.
///
/// No error ever carries a password: server messages never echo one, and configuration errors
/// name the offending parameter, not a secret value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Connecting, writing or reading failed at the socket level (refused, reset, closed …).
    ///
    /// The connection it happened on is broken and is never reused.
    #[error("{}", describe_io("connection error", action, addr, command.as_deref(), Some(source)))]
    Connection {
        /// The server address, e.g. `127.0.0.1:6379` or `/tmp/redis.sock`.
        addr: String,
        /// What the client was doing: `connect to`, `write to` or `read from`.
        action: &'static str,
        /// The command in flight, when there was one.
        command: Option<String>,
        /// The underlying I/O error.
        #[source]
        source: io::Error,
    },
    /// A connect, read or write did not finish within its configured timeout.
    ///
    /// The connection is broken afterwards: a late reply would otherwise be read as the answer
    /// to the next command.
    #[error("{} after {after:?}", describe_io("timed out", action, addr, command.as_deref(), None))]
    Timeout {
        /// The server address.
        addr: String,
        /// What the client was doing: `connect to`, `write to` or `read from`.
        action: &'static str,
        /// The command in flight, when there was one.
        command: Option<String>,
        /// The timeout that expired.
        after: Duration,
    },
    /// TLS could not be set up: bad certificate files, or the server's certificate was rejected.
    #[error("TLS error with {addr}: {message}")]
    Tls {
        /// The server address.
        addr: String,
        /// What went wrong, from the TLS library or from reading the certificate files.
        message: String,
    },
    /// The server refused the credentials (`WRONGPASS`, `NOAUTH`, invalid password …).
    #[error("authentication failed: {0}")]
    Authentication(ServerError),
    /// The server answered with an error reply.
    #[error("{0}")]
    Response(ServerError),
    /// The server answered `READONLY`: a write was sent to a read-only replica.
    #[error("{0}")]
    ReadOnly(ServerError),
    /// The server answered `LOADING`: it is still loading its dataset into memory.
    #[error("{0}")]
    BusyLoading(ServerError),
    /// A reply could not be converted into the requested Rust type.
    #[error("data error: {0}")]
    Data(String),
    /// The server sent bytes that are not valid RESP; the connection must be discarded.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// A transaction was aborted because a `WATCH`ed key changed (`EXEC` returned nil).
    #[error("transaction aborted: a WATCHed key was modified")]
    Watch,
    /// Misuse of a pub/sub connection, or an unexpected message on one.
    #[error("pub/sub error: {0}")]
    PubSub(String),
    /// A distributed lock could not be acquired or used.
    #[error("lock error: {0}")]
    Lock(String),
    /// A lock operation was attempted on a lock this client no longer owns.
    #[error("lock not owned: {0}")]
    LockNotOwned(String),
    /// A call this client refuses because it would misbehave, such as SELECT on a pooled
    /// client (it would change the database of a connection other callers reuse).
    #[error("usage error: {0}")]
    Usage(String),
    /// A configuration parameter or URL was invalid.
    #[error("invalid configuration: {param}: {message}")]
    Config {
        /// The parameter (or URL part) that was wrong, e.g. `socket_timeout` or `port`.
        param: String,
        /// Why it was rejected; never contains a password.
        message: String,
    },
    /// The pool has no free connection and may not open another.
    #[error("{}", describe_exhausted(*max_connections, *waited))]
    PoolExhausted {
        /// The pool's connection limit.
        max_connections: usize,
        /// How long a blocking pool waited before giving up; `None` for a non-blocking pool.
        waited: Option<Duration>,
    },
    /// Sentinel knows no master by that name.
    #[error("master not found: {0}")]
    MasterNotFound(String),
    /// Sentinel knows no usable replica for that master.
    #[error("replica not found: {0}")]
    SlaveNotFound(String),
}

/// `Result` with redis-client's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error reply from the server: its code, its message and the command it answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerError {
    code: String,
    message: String,
    command: Option<String>,
}

impl ServerError {
    /// Splits a raw error payload such as `WRONGTYPE Operation against a key …` into code and message.
    ///
    /// By Redis convention the first word is the code when it is upper case; a payload without
    /// such a word gets an empty code and keeps the whole text as its message.
    pub fn parse(payload: &[u8], command: Option<&str>) -> ServerError {
        let text = String::from_utf8_lossy(payload);
        let text = text.trim_end_matches(['\r', '\n']);
        let (first, rest) = match text.split_once(' ') {
            Some((first, rest)) => (first, rest),
            None => (text, ""),
        };
        let is_code = !first.is_empty()
            && first
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        let (code, message) = if is_code {
            (first.to_owned(), rest.to_owned())
        } else {
            (String::new(), text.to_owned())
        };
        ServerError {
            code,
            message,
            command: command.map(str::to_owned),
        }
    }

    /// The error code, e.g. `WRONGTYPE`; empty when the server sent none.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The message after the code.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The name of the command the server rejected, when known.
    pub fn command(&self) -> Option<&str> {
        self.command.as_deref()
    }

    /// The same error without its command name.
    pub(crate) fn without_command(&self) -> ServerError {
        ServerError {
            command: None,
            ..self.clone()
        }
    }

    /// Attaches the command's name unless one is already set.
    pub fn with_command(mut self, command: &str) -> ServerError {
        if self.command.is_none() {
            self.command = Some(command.to_owned());
        }
        self
    }

    /// Whether this error means the credentials were refused.
    fn is_auth_failure(&self) -> bool {
        match self.code.as_str() {
            "WRONGPASS" | "NOAUTH" => true,
            "ERR" => {
                let m = self.message.as_str();
                m.starts_with("invalid password")
                    || m.starts_with("invalid username-password pair")
                    || m.starts_with("AUTH <password> called without any password configured")
                    || m.starts_with("Client sent AUTH, but no password is set")
            }
            _ => false,
        }
    }
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.code.is_empty(), self.message.is_empty()) {
            (true, _) => f.write_str(&self.message)?,
            (false, true) => f.write_str(&self.code)?,
            (false, false) => write!(f, "{} {}", self.code, self.message)?,
        }
        if let Some(command) = &self.command {
            write!(f, " (command {command})")?;
        }
        Ok(())
    }
}

impl Error {
    /// Turns an error reply's payload into the matching variant.
    ///
    /// `READONLY` becomes [`Error::ReadOnly`], `LOADING` [`Error::BusyLoading`], refused
    /// credentials [`Error::Authentication`], everything else [`Error::Response`].
    pub fn from_server_reply(payload: &[u8], command: Option<&str>) -> Error {
        Error::from_server_error(ServerError::parse(payload, command))
    }

    /// Classifies an already parsed [`ServerError`]; see [`Error::from_server_reply`].
    pub fn from_server_error(error: ServerError) -> Error {
        if error.is_auth_failure() {
            return Error::Authentication(error);
        }
        match error.code.as_str() {
            "READONLY" => Error::ReadOnly(error),
            "LOADING" => Error::BusyLoading(error),
            _ => Error::Response(error),
        }
    }

    /// Attaches a command name to a server, connection or timeout error that has none; other
    /// errors pass through.
    pub fn with_command(self, command: &str) -> Error {
        match self {
            Error::Connection {
                addr,
                action,
                command: None,
                source,
            } => Error::Connection {
                addr,
                action,
                command: Some(command.to_owned()),
                source,
            },
            Error::Timeout {
                addr,
                action,
                command: None,
                after,
            } => Error::Timeout {
                addr,
                action,
                command: Some(command.to_owned()),
                after,
            },
            Error::Response(e) => Error::Response(e.with_command(command)),
            Error::ReadOnly(e) => Error::ReadOnly(e.with_command(command)),
            Error::BusyLoading(e) => Error::BusyLoading(e.with_command(command)),
            Error::Authentication(e) => Error::Authentication(e.with_command(command)),
            other => other,
        }
    }

    /// Shorthand for a configuration error naming `param`.
    pub(crate) fn config(param: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Config {
            param: param.into(),
            message: message.into(),
        }
    }

    /// The server error inside this error, when it came from an error reply.
    pub fn server_error(&self) -> Option<&ServerError> {
        match self {
            Error::Response(e)
            | Error::ReadOnly(e)
            | Error::BusyLoading(e)
            | Error::Authentication(e) => Some(e),
            _ => None,
        }
    }

    /// The server's error code (`WRONGTYPE`, `MOVED`, `NOPERM` …) when the server sent one.
    pub fn code(&self) -> Option<&str> {
        self.server_error()
            .map(ServerError::code)
            .filter(|code| !code.is_empty())
    }

    /// Whether the connection failed at the socket level (including timeouts and TLS failures),
    /// or could not be made because Sentinel named no server to connect to.
    pub fn is_connection_error(&self) -> bool {
        matches!(
            self,
            Error::Connection { .. }
                | Error::Timeout { .. }
                | Error::Tls { .. }
                | Error::MasterNotFound(_)
                | Error::SlaveNotFound(_)
        )
    }

    /// Whether this is a timeout.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout { .. })
    }

    /// Whether the failure is transient, so the same request may succeed later.
    ///
    /// True for socket errors, timeouts, `LOADING`, `TRYAGAIN`, and Sentinel knowing no usable
    /// master or replica (as during a failover). Whether a particular command may actually be
    /// sent again is a separate question that [`crate::Retry`] answers.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Connection { .. }
            | Error::Timeout { .. }
            | Error::BusyLoading(_)
            | Error::MasterNotFound(_)
            | Error::SlaveNotFound(_) => true,
            Error::Response(e) => e.code == "TRYAGAIN",
            _ => false,
        }
    }

    /// Whether the connection the error happened on must be discarded.
    pub fn breaks_connection(&self) -> bool {
        matches!(
            self,
            Error::Connection { .. }
                | Error::Timeout { .. }
                | Error::Tls { .. }
                | Error::Protocol(_)
        )
    }
}

fn describe_io(
    what: &str,
    action: &str,
    addr: &str,
    command: Option<&str>,
    source: Option<&io::Error>,
) -> String {
    let mut text = format!("{what}: {action} {addr}");
    if let Some(command) = command {
        text.push_str(&format!(" (command {command})"));
    }
    if let Some(source) = source {
        text.push_str(&format!(": {source}"));
    }
    text
}

fn describe_exhausted(max: usize, waited: Option<Duration>) -> String {
    match waited {
        Some(waited) => format!(
            "no connection available: all {max} pooled connections stayed in use for {waited:?}"
        ),
        None => format!("too many connections: all {max} pooled connections are in use"),
    }
}

impl Error {
    /// A copy of this error for another command: the same kind and cause, without the command
    /// name (the caller adds its own), e.g. for every caller of a multiplexed batch that a
    /// connection failure cut off. `Error` is not `Clone` because of its I/O source.
    pub(crate) fn copy_without_command(&self) -> Error {
        match self {
            Error::Connection {
                addr,
                action,
                source,
                ..
            } => Error::Connection {
                addr: addr.clone(),
                action,
                command: None,
                source: io::Error::new(source.kind(), source.to_string()),
            },
            Error::Timeout {
                addr,
                action,
                after,
                ..
            } => Error::Timeout {
                addr: addr.clone(),
                action,
                command: None,
                after: *after,
            },
            Error::Tls { addr, message } => Error::Tls {
                addr: addr.clone(),
                message: message.clone(),
            },
            Error::Authentication(e) => Error::Authentication(e.without_command()),
            Error::Response(e) => Error::Response(e.without_command()),
            Error::ReadOnly(e) => Error::ReadOnly(e.without_command()),
            Error::BusyLoading(e) => Error::BusyLoading(e.without_command()),
            Error::Data(message) => Error::Data(message.clone()),
            Error::Protocol(message) => Error::Protocol(message.clone()),
            Error::Watch => Error::Watch,
            Error::PubSub(message) => Error::PubSub(message.clone()),
            Error::Lock(message) => Error::Lock(message.clone()),
            Error::LockNotOwned(message) => Error::LockNotOwned(message.clone()),
            Error::Usage(message) => Error::Usage(message.clone()),
            Error::Config { param, message } => Error::Config {
                param: param.clone(),
                message: message.clone(),
            },
            Error::PoolExhausted {
                max_connections,
                waited,
            } => Error::PoolExhausted {
                max_connections: *max_connections,
                waited: *waited,
            },
            Error::MasterNotFound(name) => Error::MasterNotFound(name.clone()),
            Error::SlaveNotFound(name) => Error::SlaveNotFound(name.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_errors_are_classified_by_code() {
        let e = Error::from_server_reply(
            b"WRONGTYPE Operation against a key holding the wrong kind of value",
            Some("GET"),
        );
        assert!(matches!(e, Error::Response(_)));
        assert_eq!(e.code(), Some("WRONGTYPE"));
        assert_eq!(
            e.to_string(),
            "WRONGTYPE Operation against a key holding the wrong kind of value (command GET)"
        );
        let e = Error::from_server_reply(
            b"READONLY You can't write against a read only replica.",
            None,
        );
        assert!(matches!(e, Error::ReadOnly(_)));
        let e = Error::from_server_reply(b"LOADING Redis is loading the dataset in memory", None);
        assert!(matches!(e, Error::BusyLoading(_)));
        assert!(e.is_retryable());
        let e = Error::from_server_reply(b"MOVED 3999 127.0.0.1:6381", Some("GET"));
        assert_eq!(e.code(), Some("MOVED"));
        assert_eq!(e.server_error().unwrap().message(), "3999 127.0.0.1:6381");
        assert!(!e.is_retryable());
    }

    #[test]
    fn refused_credentials_are_authentication_errors() {
        for payload in [
            &b"WRONGPASS invalid username-password pair or user is disabled."[..],
            b"NOAUTH Authentication required.",
            b"ERR invalid password",
            b"ERR invalid username-password pair",
            b"ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
        ] {
            let e = Error::from_server_reply(payload, Some("HELLO"));
            assert!(matches!(e, Error::Authentication(_)), "{e:?}");
        }
        let e = Error::from_server_reply(b"ERR unknown command 'FOO'", None);
        assert!(matches!(e, Error::Response(_)));
    }

    #[test]
    fn payload_without_code_keeps_its_text() {
        let e = Error::from_server_reply(b"something odd happened", None);
        assert_eq!(e.code(), None);
        assert_eq!(e.to_string(), "something odd happened");
        let e = Error::from_server_reply(b"EXECABORT", Some("EXEC"));
        assert_eq!(e.code(), Some("EXECABORT"));
        assert_eq!(e.to_string(), "EXECABORT (command EXEC)");
    }

    #[test]
    fn command_is_attached_once() {
        let e = Error::from_server_reply(b"NOSCRIPT No matching script.", None)
            .with_command("EVALSHA")
            .with_command("OTHER");
        assert_eq!(
            e.server_error().unwrap().command(),
            Some("EVALSHA"),
            "the first command name wins"
        );
    }

    #[test]
    fn io_errors_name_address_and_command() {
        let e = Error::Connection {
            addr: "127.0.0.1:1".into(),
            action: "connect to",
            command: None,
            source: io::Error::from(io::ErrorKind::ConnectionRefused),
        };
        assert!(e.is_connection_error() && e.is_retryable() && !e.is_timeout());
        assert!(e.to_string().contains("connect to 127.0.0.1:1"), "{e}");
        let e = Error::Timeout {
            addr: "[::1]:7000".into(),
            action: "read from",
            command: Some("BLPOP".into()),
            after: Duration::from_millis(200),
        };
        assert!(e.is_timeout() && e.is_connection_error());
        assert_eq!(
            e.to_string(),
            "timed out: read from [::1]:7000 (command BLPOP) after 200ms"
        );
    }

    #[test]
    fn copies_keep_kind_and_cause_and_take_the_new_command() {
        let cut = Error::Connection {
            addr: "127.0.0.1:6379".into(),
            action: "read from",
            command: Some("GET".into()),
            source: io::Error::new(io::ErrorKind::UnexpectedEof, "the server closed it"),
        };
        let copy = cut.copy_without_command().with_command("INCR");
        assert!(copy.is_connection_error());
        let text = copy.to_string();
        assert!(text.contains("INCR") && !text.contains("GET"), "{text}");
        assert!(text.contains("the server closed it"), "{text}");
        match copy {
            Error::Connection { source, .. } => {
                assert_eq!(source.kind(), io::ErrorKind::UnexpectedEof)
            }
            other => panic!("{other:?}"),
        }

        let late = Error::Timeout {
            addr: "a".into(),
            action: "read from",
            command: Some("GET".into()),
            after: Duration::from_millis(5),
        };
        let copy = late.copy_without_command().with_command("SET");
        assert!(copy.is_timeout(), "{copy:?}");
        assert!(copy.to_string().contains("SET"), "{copy}");

        let refused = Error::from_server_reply(b"LOADING still loading", Some("GET"));
        let copy = refused.copy_without_command().with_command("HGET");
        assert!(matches!(copy, Error::BusyLoading(_)), "{copy:?}");
        assert_eq!(copy.server_error().unwrap().command(), Some("HGET"));
    }
}
