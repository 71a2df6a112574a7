//! The async clients under comparison, behind one small interface: SET, GET and a plain
//! pipeline of GETs, each through the client's usual API.

use bytes::Bytes;
use fred::interfaces::{ClientLike, KeysInterface};
use redis_client::prelude::*;

/// An async client being measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AsyncPeer {
    /// redis-client's `AsyncClient` (one multiplexed connection, a driver task).
    Ours,
    /// redis-rs `MultiplexedConnection` on tokio.
    RedisRs,
    /// fred's default client.
    Fred,
}

impl AsyncPeer {
    /// Every peer, ours first.
    pub const ALL: [AsyncPeer; 3] = [AsyncPeer::Ours, AsyncPeer::RedisRs, AsyncPeer::Fred];

    /// The name used in tables.
    pub fn label(self) -> &'static str {
        match self {
            AsyncPeer::Ours => "redis-client AsyncClient",
            AsyncPeer::RedisRs => "redis-rs MultiplexedConnection",
            AsyncPeer::Fred => "fred Client",
        }
    }

    /// Connects a handle to the server at `url` (`redis://HOST:PORT`), RESP2 for all.
    pub async fn connect(self, url: &str) -> Result<Handle, String> {
        match self {
            AsyncPeer::Ours => {
                // RESP2, the peers' default.
                let url = format!("{}?protocol=2", url.trim_end_matches('/'));
                let client = redis_client::AsyncClient::open(&url).map_err(|e| e.to_string())?;
                client.execute(["PING"]).await.map_err(|e| e.to_string())?;
                Ok(Handle::Ours(client))
            }
            AsyncPeer::RedisRs => {
                let client = redis::Client::open(url).map_err(|e| e.to_string())?;
                let conn = client
                    .get_multiplexed_async_connection()
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(Handle::RedisRs(conn))
            }
            AsyncPeer::Fred => {
                let config =
                    fred::types::config::Config::from_url(url).map_err(|e| e.to_string())?;
                let client = fred::types::Builder::from_config(config)
                    .build()
                    .map_err(|e| e.to_string())?;
                client.init().await.map_err(|e| e.to_string())?;
                Ok(Handle::Fred(client))
            }
        }
    }
}

/// A connected client; clones share its connection.
#[derive(Clone)]
pub enum Handle {
    /// Ours.
    Ours(redis_client::AsyncClient),
    /// redis-rs.
    RedisRs(redis::aio::MultiplexedConnection),
    /// fred.
    Fred(fred::clients::Client),
}

impl Handle {
    /// `SET key value`.
    pub async fn set(&mut self, key: &str, value: &[u8]) -> Result<(), String> {
        match self {
            Handle::Ours(c) => c.set(key, value).await.map_err(|e| e.to_string()),
            Handle::RedisRs(c) => redis::cmd("SET")
                .arg(key)
                .arg(value)
                .query_async::<()>(c)
                .await
                .map_err(|e| e.to_string()),
            Handle::Fred(c) => c
                .set::<(), _, _>(key, value, None, None, false)
                .await
                .map_err(|e| e.to_string()),
        }
    }

    /// `GET key`.
    pub async fn get(&mut self, key: &str) -> Result<Option<Bytes>, String> {
        match self {
            Handle::Ours(c) => c.get(key).await.map_err(|e| e.to_string()),
            Handle::RedisRs(c) => redis::cmd("GET")
                .arg(key)
                .query_async::<Option<Vec<u8>>>(c)
                .await
                .map(|v| v.map(Bytes::from))
                .map_err(|e| e.to_string()),
            Handle::Fred(c) => c
                .get::<Option<Bytes>, _>(key)
                .await
                .map_err(|e| e.to_string()),
        }
    }

    /// A plain (non-transactional) pipeline of `GET`s of `keys`; returns how many replies
    /// held a value.
    pub async fn pipeline_gets(&mut self, keys: &[String]) -> Result<usize, String> {
        match self {
            Handle::Ours(c) => {
                let mut pipe = c.pipeline();
                pipe.transaction(false);
                for key in keys {
                    pipe.get(key.as_str());
                }
                let values: Vec<Option<Bytes>> =
                    pipe.execute_typed().await.map_err(|e| e.to_string())?;
                Ok(values.iter().filter(|v| v.is_some()).count())
            }
            Handle::RedisRs(c) => {
                let mut pipe = redis::pipe();
                for key in keys {
                    pipe.cmd("GET").arg(key);
                }
                let values: Vec<Option<Vec<u8>>> =
                    pipe.query_async(c).await.map_err(|e| e.to_string())?;
                Ok(values.iter().filter(|v| v.is_some()).count())
            }
            Handle::Fred(c) => {
                let pipe = c.pipeline();
                for key in keys {
                    let () = pipe.get(key.as_str()).await.map_err(|e| e.to_string())?;
                }
                let values: Vec<Option<Bytes>> = pipe.all().await.map_err(|e| e.to_string())?;
                Ok(values.iter().filter(|v| v.is_some()).count())
            }
        }
    }
}
