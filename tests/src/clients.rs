//! Clients of redis-client pointed at a harness server, for integration tests.

use std::time::Duration;

use redis_client::{Client, Config, Protocol};

use crate::Server;

/// A pooled [`Client`] for `server` speaking `protocol`, with a 10 s socket timeout so a hung
/// test fails instead of waiting forever.
pub fn client(server: &Server, protocol: Protocol) -> Client {
    let config = Config::from_url(&server.url())
        .and_then(|config| {
            config
                .to_builder()
                .protocol(protocol)
                .socket_timeout(Duration::from_secs(10))
                .build()
        })
        .unwrap_or_else(|e| panic!("a client config for {server}: {e}"));
    Client::new(config).unwrap_or_else(|e| panic!("a client for {server}: {e}"))
}
