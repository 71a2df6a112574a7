//! [`SentinelOptions`]: how to reach the sentinels and the servers they name.

use std::time::Duration;

use crate::config::Config;

/// Settings for a [`Sentinel`](super::Sentinel): one [`Config`] for the connections to the sentinels, another
/// for the connections to masters and replicas (both with their address ignored).
#[derive(Clone, Debug)]
pub struct SentinelOptions {
    sentinel: Config,
    data: Config,
    listen_for_switch: bool,
}

impl Default for SentinelOptions {
    /// Sentinel connections with 1 s connect and socket timeouts (a sentinel that does not
    /// answer quickly is passed over), data connections with [`Config::default`] apart from
    /// the address, and `+switch-master` followed.
    fn default() -> Self {
        let second = Duration::from_secs(1);
        SentinelOptions {
            sentinel: Config::builder()
                .connect_timeout(second)
                .socket_timeout(second)
                .build()
                .expect("timeouts above zero are valid"),
            data: Config::default(),
            listen_for_switch: true,
        }
    }
}

impl SentinelOptions {
    /// The defaults (see [`SentinelOptions::default`]).
    pub fn new() -> SentinelOptions {
        SentinelOptions::default()
    }

    /// How to connect to the sentinels: credentials (`requirepass` of the sentinels, not of
    /// the data servers), timeouts, TLS, protocol. The address is ignored.
    pub fn sentinel_config(mut self, config: Config) -> Self {
        self.sentinel = config;
        self
    }

    /// How to connect to masters and replicas: credentials, timeouts, TLS, database, pool
    /// size, retry policy. The address is ignored.
    pub fn data_config(mut self, config: Config) -> Self {
        self.data = config;
        self
    }

    /// Whether master clients follow the sentinels' `+try-failover` and `+switch-master`
    /// announcements on background threads (default `true`); without, they move only when
    /// their master fails or turns read-only, and writes a failover discards may be
    /// acknowledged meanwhile (see [`crate::sentinel`]).
    pub fn listen_for_switch(mut self, enabled: bool) -> Self {
        self.listen_for_switch = enabled;
        self
    }

    /// The configuration for sentinel connections.
    pub fn sentinel(&self) -> &Config {
        &self.sentinel
    }

    /// The configuration for master and replica connections.
    pub fn data(&self) -> &Config {
        &self.data
    }

    /// Whether master clients follow the sentinels' announcements.
    pub(crate) fn follows_switches(&self) -> bool {
        self.listen_for_switch
    }
}
