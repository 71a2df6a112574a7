//! Where the replies come from: servers given by `--url`, or Redis, Valkey and Sentinel spawned
//! on free loopback ports through the test harness.

use codegen::import::{server_id, ServerReplies};
use redis_client::{Config, ConnectionAddr};
use redis_test_harness::{RawConnection, SentinelServer, Server, ServerKind};

use super::resp_json::to_json;

/// The servers spawned for an import; they stop when this is dropped.
pub struct Spawned {
    _servers: Vec<Server>,
    _sentinel: SentinelServer,
}

/// A raw connection to the TCP server at `redis://HOST:PORT` (authenticated when the URL has a
/// password); errors name the URL and say that only TCP servers can be `what` (imported, audited).
pub fn connect(url: &str, what: &str) -> Result<RawConnection, String> {
    let config = Config::from_url(url).map_err(|err| format!("--url {url}: {err}"))?;
    let ConnectionAddr::Tcp { host, port } = config.addr() else {
        return Err(format!("--url {url}: only TCP servers can be {what}"));
    };
    let mut conn = RawConnection::connect((host.as_str(), *port))
        .map_err(|err| format!("connecting to {url}: {err}"))?;
    if let Some(password) = config.password() {
        let mut auth = vec!["AUTH"];
        auth.extend(config.username());
        auth.push(password.expose());
        conn.call_ok(&auth).map_err(|err| format!("{url}: {err}"))?;
    }
    Ok(conn)
}

/// Connects to each `redis://HOST:PORT` URL and fetches its replies.
pub fn from_urls(urls: &[String]) -> Result<Vec<ServerReplies>, String> {
    urls.iter()
        .map(|url| {
            let mut conn = connect(url, "imported")?;
            fetch(&mut conn, url)
        })
        .collect()
}

/// Spawns Redis, Valkey and a Sentinel (monitoring the Redis) and fetches their replies.
pub fn spawned() -> Result<(Spawned, Vec<ServerReplies>), String> {
    let start = |kind: ServerKind| {
        Server::spawn(kind).map_err(|err| format!("starting {}-server: {err}", kind.name()))
    };
    let redis = start(ServerKind::Redis)?;
    let valkey = start(ServerKind::Valkey)?;
    let sentinel =
        SentinelServer::monitor(&redis).map_err(|err| format!("starting redis-sentinel: {err}"))?;
    let mut replies = Vec::new();
    let addrs = [
        (valkey.addr(), valkey.url()),
        (redis.addr(), redis.url()),
        (sentinel.addr(), sentinel.url()),
    ];
    for (addr, url) in addrs {
        let mut conn =
            RawConnection::connect(addr).map_err(|err| format!("connecting to {url}: {err}"))?;
        replies.push(fetch(&mut conn, &url)?);
    }
    let spawned = Spawned {
        _servers: vec![valkey, redis],
        _sentinel: sentinel,
    };
    Ok((spawned, replies))
}

/// Switches to RESP3 and reads `INFO server`, `COMMAND DOCS` and `COMMAND INFO`.
pub(crate) fn fetch(conn: &mut RawConnection, label: &str) -> Result<ServerReplies, String> {
    let call = |conn: &mut RawConnection, args: &[&str]| {
        conn.call_ok(args).map_err(|err| format!("{label}: {err}"))
    };
    call(conn, &["HELLO", "3"])?;
    let info = conn
        .info("server")
        .map_err(|err| format!("{label}: {err}"))?;
    let id = server_id(&info).map_err(|err| format!("{label}: {}", err.message))?;
    let json = |value| to_json(&value).map_err(|err| format!("{label} ({id}): {err}"));
    let docs = json(call(conn, &["COMMAND", "DOCS"])?)?;
    let info = json(call(conn, &["COMMAND", "INFO"])?)?;
    Ok(ServerReplies { id, docs, info })
}
