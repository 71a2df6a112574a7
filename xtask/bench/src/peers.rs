//! The clients under comparison and how each connects to the benchmark server.

use redis::io::tcp::TcpSettings;
use redis::IntoConnectionInfo;

/// A client being measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Peer {
    /// This project's redis-client.
    Ours,
    /// redis-client's lower layer, where it differs from the user-facing API (pipelines:
    /// `Connection::write_command` + `read_reply` instead of `Pipeline`).
    OursRaw,
    /// redis-client's `Client` in multiplexed mode: threads share one connection, their
    /// commands go out in batches.
    OursMultiplexed,
    /// redis-rs, sync API.
    RedisRs,
    /// Redis's own `redis-benchmark` tool (C, hiredis), run as a child process.
    RedisBenchmark,
}

impl Peer {
    /// The name used in tables and JSON.
    pub fn label(self) -> &'static str {
        match self {
            Peer::Ours => "redis-client",
            Peer::OursRaw => "redis-client (raw)",
            Peer::OursMultiplexed => "redis-client (multiplexed)",
            Peer::RedisRs => "redis-rs",
            Peer::RedisBenchmark => "redis-benchmark",
        }
    }
}

/// The server every network workload talks to, and the protocol all clients speak.
#[derive(Clone, Debug)]
pub struct Target {
    /// Server host (a loopback address).
    pub host: String,
    /// Server port.
    pub port: u16,
    /// RESP3 for every client instead of RESP2.
    pub resp3: bool,
}

impl Target {
    /// Parses `redis://HOST:PORT`.
    pub fn from_url(url: &str, resp3: bool) -> Result<Target, String> {
        let rest = url
            .strip_prefix("redis://")
            .ok_or_else(|| format!("--url {url}: expected redis://HOST:PORT"))?;
        let rest = rest.trim_end_matches('/');
        let (host, port) = rest
            .rsplit_once(':')
            .ok_or_else(|| format!("--url {url}: no port"))?;
        let port = port
            .parse()
            .map_err(|e| format!("--url {url}: bad port {port:?}: {e}"))?;
        Ok(Target {
            host: host.to_string(),
            port,
            resp3,
        })
    }

    fn protocol(&self) -> u8 {
        if self.resp3 {
            3
        } else {
            2
        }
    }

    fn url(&self) -> String {
        format!("redis://{}:{}/0", self.host, self.port)
    }

    /// A redis-client connection (redis-client always sets `TCP_NODELAY`).
    pub fn ours_connection(&self) -> Result<redis_client::Connection, String> {
        let config = redis_client::Config::from_url(&self.ours_url(None))
            .map_err(|e| format!("redis-client config: {e}"))?;
        redis_client::Connection::open(&config).map_err(|e| format!("redis-client connect: {e}"))
    }

    /// A pooled redis-client [`redis_client::Client`] of at most `max_connections`.
    pub fn ours_client(&self, max_connections: usize) -> Result<redis_client::Client, String> {
        redis_client::Client::open(&self.ours_url(Some(max_connections)))
            .map_err(|e| format!("redis-client client: {e}"))
    }

    /// A multiplexed redis-client [`redis_client::Client`]: one shared connection for every
    /// thread (its pool, of at most `max_connections`, serves only blocking commands).
    pub fn ours_multiplexed_client(
        &self,
        max_connections: usize,
    ) -> Result<redis_client::Client, String> {
        let url = format!("{}&multiplexed=true", self.ours_url(Some(max_connections)));
        redis_client::Client::open(&url).map_err(|e| format!("redis-client client: {e}"))
    }

    fn ours_url(&self, max_connections: Option<usize>) -> String {
        let mut url = format!("{}?protocol={}", self.url(), self.protocol());
        if let Some(max) = max_connections {
            url.push_str(&format!("&max_connections={max}"));
        }
        url
    }

    /// A redis-rs client with `TCP_NODELAY` on (its default is off).
    pub fn redis_rs_client(&self) -> Result<redis::Client, String> {
        let url = format!("{}?protocol=resp{}", self.url(), self.protocol());
        let info = url
            .as_str()
            .into_connection_info()
            .map_err(|e| format!("redis-rs connection info for {url}: {e}"))?
            .set_tcp_settings(TcpSettings::default().set_nodelay(true));
        redis::Client::open(info).map_err(|e| format!("redis-rs client: {e}"))
    }

    /// A redis-rs sync connection with `TCP_NODELAY` on.
    pub fn redis_rs_connection(&self) -> Result<redis::Connection, String> {
        self.redis_rs_client()?
            .get_connection()
            .map_err(|e| format!("redis-rs connect: {e}"))
    }

    /// An r2d2 pool of `size` redis-rs connections.
    ///
    /// r2d2 pings every connection on checkout by default; that is turned off here so the pool
    /// costs what redis-client's pool costs (its health check only runs after idle time).
    pub fn redis_rs_pool(&self, size: u32) -> Result<r2d2::Pool<redis::Client>, String> {
        r2d2::Pool::builder()
            .max_size(size)
            .test_on_check_out(false)
            .build(self.redis_rs_client()?)
            .map_err(|e| format!("r2d2 pool of redis-rs connections: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_from_url() {
        let t = Target::from_url("redis://127.0.0.1:6390", false).unwrap();
        assert_eq!((t.host.as_str(), t.port), ("127.0.0.1", 6390));
        assert_eq!(
            t.ours_url(Some(8)),
            "redis://127.0.0.1:6390/0?protocol=2&max_connections=8"
        );
        assert!(Target::from_url("127.0.0.1:6390", false).is_err());
        assert!(Target::from_url("redis://127.0.0.1", false).is_err());
    }
}
