//! Helpers shared by the Sentinel integration tests.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use redis_client::sentinel::{Sentinel, SentinelOptions};
use redis_client::{Config, Protocol};
use redis_test_harness::SentinelSetup;

/// Timeouts for data connections, so that nothing in a test can hang.
pub const TIMEOUT: Duration = Duration::from_secs(2);

/// A data-connection config with [`TIMEOUT`], speaking `protocol`.
pub fn data_config(protocol: Protocol) -> Config {
    Config::builder()
        .protocol(protocol)
        .connect_timeout(TIMEOUT)
        .socket_timeout(TIMEOUT)
        .build()
        .unwrap()
}

/// A sentinel-connection config with short timeouts, speaking `protocol`.
pub fn sentinel_config(protocol: Protocol) -> Config {
    Config::builder()
        .protocol(protocol)
        .connect_timeout(Duration::from_millis(500))
        .socket_timeout(Duration::from_millis(500))
        .build()
        .unwrap()
}

/// `(host, port)` pairs for [`Sentinel::new`].
pub fn host_ports(addrs: &[SocketAddr]) -> Vec<(String, u16)> {
    addrs
        .iter()
        .map(|a| (a.ip().to_string(), a.port()))
        .collect()
}

/// A [`Sentinel`] over all of `setup`'s sentinels.
pub fn sentinel(setup: &SentinelSetup, options: SentinelOptions) -> Sentinel {
    Sentinel::new(&host_ports(&setup.sentinel_addrs()), options).unwrap()
}

/// Default options with [`data_config`] and [`sentinel_config`] in `protocol`.
pub fn options(protocol: Protocol) -> SentinelOptions {
    SentinelOptions::new()
        .sentinel_config(sentinel_config(protocol))
        .data_config(data_config(protocol))
}

/// Waits until `sentinel` lists `n` usable replicas of the harness master: a replica the
/// sentinels have only just found stays flagged disconnected until they connect to it.
pub fn wait_for_usable_replicas(sentinel: &Sentinel, n: usize) {
    redis_test_harness::wait_until(
        &format!("{n} usable replicas"),
        Duration::from_secs(10),
        || match sentinel.discover_slaves(redis_test_harness::MASTER_NAME) {
            Ok(found) if found.len() == n => Ok(()),
            other => Err(format!("{other:?}")),
        },
    )
    .unwrap();
}
