//! Connection configuration (documented on [`Config`]).

mod tls;
mod url;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::retry::Retry;

pub use tls::TlsConfig;

/// Where the server listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnectionAddr {
    /// A TCP host (name, IPv4 or IPv6 literal without brackets) and port.
    Tcp {
        /// Host name or IP address.
        host: String,
        /// TCP port.
        port: u16,
    },
    /// A Unix domain socket path.
    Unix(PathBuf),
}

impl fmt::Display for ConnectionAddr {
    /// `host:port` (IPv6 hosts in brackets) or the socket path.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectionAddr::Tcp { host, port } if host.contains(':') => {
                write!(f, "[{host}]:{port}")
            }
            ConnectionAddr::Tcp { host, port } => write!(f, "{host}:{port}"),
            ConnectionAddr::Unix(path) => write!(f, "{}", path.display()),
        }
    }
}

/// The wire protocol to speak.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Protocol {
    /// RESP2: no `HELLO`; authentication with `AUTH`.
    Resp2,
    /// RESP3 via `HELLO 3`: typed replies (maps, doubles, booleans) and out-of-band pushes.
    #[default]
    Resp3,
}

/// A password that never shows up in `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// The secret itself, for sending it to the server.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Everything needed to open a connection and run a pool.
///
/// A [`Config`] comes from [`Config::builder`] or from a URL ([`Config::from_url`]); both give equal
/// values for equal settings. Passwords are never printed: `Debug` shows `<redacted>` instead.
#[derive(Clone, PartialEq)]
pub struct Config {
    addr: ConnectionAddr,
    tls: Option<TlsConfig>,
    username: Option<String>,
    password: Option<Password>,
    db: u32,
    protocol: Protocol,
    connect_timeout: Option<Duration>,
    socket_timeout: Option<Duration>,
    retry_on_timeout: bool,
    health_check_interval: Option<Duration>,
    client_name: Option<String>,
    max_connections: Option<usize>,
    decode_responses: bool,
    multiplexed: bool,
    retry: Retry,
    /// Send `READONLY` when connecting: set by the cluster client on the connections it may
    /// read from replicas with, never by users (a plain client has no use for it).
    cluster_readonly: bool,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("addr", &self.addr)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password)
            .field("db", &self.db)
            .field("protocol", &self.protocol)
            .field("connect_timeout", &self.connect_timeout)
            .field("socket_timeout", &self.socket_timeout)
            .field("retry_on_timeout", &self.retry_on_timeout)
            .field("health_check_interval", &self.health_check_interval)
            .field("client_name", &self.client_name)
            .field("max_connections", &self.max_connections)
            .field("decode_responses", &self.decode_responses)
            .field("multiplexed", &self.multiplexed)
            .field("retry", &self.retry)
            .finish()
    }
}

impl Default for Config {
    /// `localhost:6379`, db 0, RESP3, no timeouts, no authentication, default retry policy.
    fn default() -> Self {
        Config {
            addr: ConnectionAddr::Tcp {
                host: "localhost".into(),
                port: 6379,
            },
            tls: None,
            username: None,
            password: None,
            db: 0,
            protocol: Protocol::default(),
            connect_timeout: None,
            socket_timeout: None,
            retry_on_timeout: false,
            health_check_interval: None,
            client_name: None,
            max_connections: None,
            decode_responses: false,
            multiplexed: false,
            retry: Retry::default(),
            cluster_readonly: false,
        }
    }
}

impl Config {
    /// A builder starting from the defaults (see [`Config::default`]).
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder {
            config: Config::default(),
        }
    }

    /// Whether connections send `READONLY` after the handshake (cluster replica reads).
    pub(crate) fn cluster_readonly(&self) -> bool {
        self.cluster_readonly
    }

    /// This configuration for another TCP address, optionally sending `READONLY` on connect;
    /// the cluster client opens each node's pool with it.
    pub(crate) fn for_cluster_node(&self, host: &str, port: u16, readonly: bool) -> Config {
        let mut config = self.clone();
        config.addr = ConnectionAddr::Tcp {
            host: host.to_string(),
            port,
        };
        config.cluster_readonly = readonly;
        config
    }

    /// A builder starting from this configuration, to change a few settings.
    pub fn to_builder(&self) -> ConfigBuilder {
        ConfigBuilder {
            config: self.clone(),
        }
    }

    /// Parses a `redis://`, `rediss://` or `unix://` URL (also `valkey://` and `valkeys://`).
    ///
    /// Forms: `redis://[[user][:password]@]host[:port][/db][?param=value&…]`, `[::1]` for IPv6,
    /// `unix://[[user][:password]@]/path/to.sock[?db=N&…]`. User, password and path are
    /// percent-decoded. Query parameters use redis-py's names: `db`, `protocol` (2 or 3),
    /// `socket_timeout`, `socket_connect_timeout` (seconds, fractions allowed),
    /// `socket_keepalive`, `retry_on_timeout`, `health_check_interval` (seconds, 0 disables),
    /// `client_name`, `max_connections`, `username`, `password`, `decode_responses`,
    /// `multiplexed` (this crate's own: see [`Config::multiplexed`]), and for
    /// `rediss://` `ssl_cert_reqs` (`none`/`optional`/`required`), `ssl_ca_certs`,
    /// `ssl_certfile`, `ssl_keyfile`, `ssl_check_hostname`. A `db` in the query wins over the
    /// path; user and password in the authority win over the query. Unknown parameters and
    /// malformed values are [`Error::Config`] naming the parameter.
    pub fn from_url(url: &str) -> Result<Config> {
        url::parse(url)
    }

    /// Where the server listens.
    pub fn addr(&self) -> &ConnectionAddr {
        &self.addr
    }

    /// TLS settings; `Some` means the connection is encrypted.
    pub fn tls(&self) -> Option<&TlsConfig> {
        self.tls.as_ref()
    }

    /// The ACL user name, if any (`None` authenticates as `default` when a password is set).
    pub fn username(&self) -> Option<&str> {
        self.username.as_deref()
    }

    /// The password, if any.
    pub fn password(&self) -> Option<&Password> {
        self.password.as_ref()
    }

    /// The database index selected after connecting.
    pub fn db(&self) -> u32 {
        self.db
    }

    /// The protocol spoken on new connections.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// Timeout for establishing a connection: the TCP connect, TLS, and each handshake reply
    /// (whole, as [`Config::socket_timeout`] describes for replies).
    ///
    /// Falls back to [`Config::socket_timeout`] when unset, as in redis-py.
    pub fn connect_timeout(&self) -> Option<Duration> {
        self.connect_timeout.or(self.socket_timeout)
    }

    /// How long a reply may take to arrive, whole; `None` waits forever.
    ///
    /// - A reply must arrive **whole** within the timeout, counted from when the client starts
    ///   waiting for it: once its command went out and the replies before it arrived. Bytes that
    ///   trickle in do not extend it. Past it the command fails with [`Error::Timeout`] naming
    ///   the command, and the connection is closed (its late reply would answer the next
    ///   command).
    /// - Blocking commands (`BLPOP`, `XREAD … BLOCK`, `WAIT` …, known from the generated command
    ///   table) get the time they ask the server to wait added; one that blocks forever has no
    ///   deadline.
    /// - Pipelines: each reply gets the whole timeout from when the reply before it arrived or
    ///   its slice of commands was written, whichever is later. A pipeline of 10 000 commands is
    ///   never failed for being big, but no single reply may take longer than the timeout. In a
    ///   transaction `EXEC`'s reply carries every result and must arrive within one timeout.
    /// - Multiplexed clients: the same, with the clock of a reply starting when its command was
    ///   queued if nothing was owed then.
    /// - Writes: each write system call may block this long.
    ///
    /// redis-py applies `socket_timeout` to each socket operation instead (`socket.settimeout`):
    /// there a reply whose bytes keep coming never times out, however long it takes in all.
    /// Here, choose a timeout that covers sending your largest reply.
    pub fn socket_timeout(&self) -> Option<Duration> {
        self.socket_timeout
    }

    /// Whether timeouts may be retried (for commands safe to repeat; see [`crate::Retry`]).
    pub fn retry_on_timeout(&self) -> bool {
        self.retry_on_timeout
    }

    /// A connection idle longer than this is checked with `PING` before it is used.
    pub fn health_check_interval(&self) -> Option<Duration> {
        self.health_check_interval
    }

    /// The name set with `CLIENT SETNAME` on every connection.
    pub fn client_name(&self) -> Option<&str> {
        self.client_name.as_deref()
    }

    /// The most connections a pool opens; `None` is unlimited.
    pub fn max_connections(&self) -> Option<usize> {
        self.max_connections
    }

    /// Whether string replies must be valid UTF-8 (checked before they are returned).
    pub fn decode_responses(&self) -> bool {
        self.decode_responses
    }

    /// Whether a pooled [`crate::Client`] sends the commands of all its threads in batches over
    /// one shared connection (blocking commands, pipelines and pub/sub still use the pool); see
    /// [multiplexed mode](crate::Client#multiplexed-mode). Off by default.
    pub fn multiplexed(&self) -> bool {
        self.multiplexed
    }

    /// The retry policy a [`crate::Client`] applies.
    pub fn retry(&self) -> Retry {
        self.retry
    }
}

impl FromStr for Config {
    type Err = Error;

    fn from_str(url: &str) -> Result<Config> {
        Config::from_url(url)
    }
}

/// Builds a [`Config`]; finish with [`ConfigBuilder::build`], which checks the combination.
#[derive(Clone, Debug)]
pub struct ConfigBuilder {
    config: Config,
}

impl ConfigBuilder {
    /// Connects over TCP to `host` (a name or an IP literal; IPv6 without brackets).
    pub fn host(mut self, host: impl Into<String>) -> Self {
        let port = match &self.config.addr {
            ConnectionAddr::Tcp { port, .. } => *port,
            ConnectionAddr::Unix(_) => 6379,
        };
        self.config.addr = ConnectionAddr::Tcp {
            host: host.into(),
            port,
        };
        self
    }

    /// The TCP port (default 6379).
    pub fn port(mut self, port: u16) -> Self {
        let host = match &self.config.addr {
            ConnectionAddr::Tcp { host, .. } => host.clone(),
            ConnectionAddr::Unix(_) => "localhost".into(),
        };
        self.config.addr = ConnectionAddr::Tcp { host, port };
        self
    }

    /// Connects through a Unix domain socket instead of TCP.
    pub fn unix(mut self, path: impl Into<PathBuf>) -> Self {
        self.config.addr = ConnectionAddr::Unix(path.into());
        self
    }

    /// Sets the address directly.
    pub fn addr(mut self, addr: ConnectionAddr) -> Self {
        self.config.addr = addr;
        self
    }

    /// Encrypts the connection with TLS (TCP only).
    pub fn tls(mut self, tls: TlsConfig) -> Self {
        self.config.tls = Some(tls);
        self
    }

    /// Authenticates as this ACL user (needs a password too).
    pub fn username(mut self, username: impl Into<String>) -> Self {
        self.config.username = Some(username.into());
        self
    }

    /// Authenticates with this password (as `default` unless a username is set).
    pub fn password(mut self, password: impl Into<String>) -> Self {
        self.config.password = Some(Password(password.into()));
        self
    }

    /// Selects this database after connecting.
    pub fn db(mut self, db: u32) -> Self {
        self.config.db = db;
        self
    }

    /// Speaks RESP2 or RESP3.
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.config.protocol = protocol;
        self
    }

    /// Limits connecting (TCP, TLS and handshake) to this long.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.config.connect_timeout = Some(timeout);
        self
    }

    /// Limits how long each reply may take to arrive, whole (see [`Config::socket_timeout`]).
    pub fn socket_timeout(mut self, timeout: Duration) -> Self {
        self.config.socket_timeout = Some(timeout);
        self
    }

    /// Allows retrying timed-out commands that are safe to repeat.
    pub fn retry_on_timeout(mut self, enabled: bool) -> Self {
        self.config.retry_on_timeout = enabled;
        self
    }

    /// PINGs a connection before use when it sat idle longer than `interval`; zero disables.
    pub fn health_check_interval(mut self, interval: Duration) -> Self {
        self.config.health_check_interval = (!interval.is_zero()).then_some(interval);
        self
    }

    /// Names every connection with `CLIENT SETNAME`.
    pub fn client_name(mut self, name: impl Into<String>) -> Self {
        self.config.client_name = Some(name.into());
        self
    }

    /// Caps the number of connections a pool opens.
    pub fn max_connections(mut self, max: usize) -> Self {
        self.config.max_connections = Some(max);
        self
    }

    /// Requires string replies to be valid UTF-8.
    pub fn decode_responses(mut self, enabled: bool) -> Self {
        self.config.decode_responses = enabled;
        self
    }

    /// Makes a pooled client share one connection between its threads, batching their commands
    /// (see [`Config::multiplexed`]).
    pub fn multiplexed(mut self, enabled: bool) -> Self {
        self.config.multiplexed = enabled;
        self
    }

    /// Sets the retry policy.
    pub fn retry(mut self, retry: Retry) -> Self {
        self.config.retry = retry;
        self
    }

    /// Checks the combination and returns the configuration.
    pub fn build(self) -> Result<Config> {
        let c = &self.config;
        match &c.addr {
            ConnectionAddr::Tcp { host, port } => {
                if host.is_empty() {
                    return Err(Error::config("host", "must not be empty"));
                }
                if *port == 0 {
                    return Err(Error::config("port", "must be between 1 and 65535"));
                }
            }
            ConnectionAddr::Unix(path) => {
                if path.as_os_str().is_empty() {
                    return Err(Error::config("path", "the Unix socket path is empty"));
                }
                if c.tls.is_some() {
                    return Err(Error::config(
                        "tls",
                        "TLS is only available over TCP, not Unix sockets",
                    ));
                }
            }
        }
        if c.username.is_some() && c.password.is_none() {
            return Err(Error::config(
                "password",
                "a username was given without a password",
            ));
        }
        if c.max_connections == Some(0) {
            return Err(Error::config("max_connections", "must be at least 1"));
        }
        for (param, timeout) in [
            ("socket_connect_timeout", c.connect_timeout),
            ("socket_timeout", c.socket_timeout),
        ] {
            if timeout == Some(Duration::ZERO) {
                return Err(Error::config(
                    param,
                    "must be greater than zero (leave it unset to wait forever)",
                ));
            }
        }
        if let Some(tls) = &c.tls {
            tls.validate()?;
        }
        Ok(self.config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_password() {
        let config = Config::builder()
            .username("alice")
            .password("hunter2-secret")
            .build()
            .unwrap();
        let text = format!("{config:?} {:?}", config.to_builder());
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("<redacted>"), "{text}");
        assert_eq!(config.password().unwrap().expose(), "hunter2-secret");
    }

    #[test]
    fn build_rejects_inconsistent_settings() {
        let err = Config::builder().username("u").build().unwrap_err();
        assert!(matches!(&err, Error::Config { param, .. } if param == "password"));
        let err = Config::builder()
            .unix("/tmp/x.sock")
            .tls(TlsConfig::new())
            .build()
            .unwrap_err();
        assert!(matches!(&err, Error::Config { param, .. } if param == "tls"));
        let err = Config::builder().max_connections(0).build().unwrap_err();
        assert!(matches!(&err, Error::Config { param, .. } if param == "max_connections"));
        let err = Config::builder()
            .socket_timeout(Duration::ZERO)
            .build()
            .unwrap_err();
        assert!(matches!(&err, Error::Config { param, .. } if param == "socket_timeout"));
    }

    #[test]
    fn connect_timeout_falls_back_to_socket_timeout() {
        let c = Config::builder()
            .socket_timeout(Duration::from_secs(2))
            .build()
            .unwrap();
        assert_eq!(c.connect_timeout(), Some(Duration::from_secs(2)));
        let c = c
            .to_builder()
            .connect_timeout(Duration::from_secs(1))
            .build()
            .unwrap();
        assert_eq!(c.connect_timeout(), Some(Duration::from_secs(1)));
    }

    #[test]
    fn addresses_display_like_urls() {
        let v6 = ConnectionAddr::Tcp {
            host: "::1".into(),
            port: 7000,
        };
        assert_eq!(v6.to_string(), "[::1]:7000");
        let v4 = ConnectionAddr::Tcp {
            host: "127.0.0.1".into(),
            port: 6379,
        };
        assert_eq!(v4.to_string(), "127.0.0.1:6379");
    }
}
