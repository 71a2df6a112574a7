//! Test harness: real servers on loopback, spawned in temp dirs and stopped on drop.
//!
//! - [`Server`] runs `redis-server` or `valkey-server` (TCP, IPv6, Unix socket, TLS, password, ACL users,
//!   single-node cluster, replica) on a free port; [`SentinelServer`] and [`SentinelSetup`] run
//!   `redis-sentinel`; [`ClusterSetup`] runs a cluster of primaries and replicas.
//! - [`Proxy`] sits between a client and a server to cut, stall, delay or trickle the connection, or
//!   to add replies the server never sent.
//! - [`RawConnection`] is a tiny tooling client over `redis_client::resp`.
//!
//! Binaries are found by [`Binary::find`]; a missing one is an error naming what to install, so tests
//! fail rather than skip. Everything is a plain library, usable by `xtask` as well as by tests.

#![warn(missing_docs)]

mod binaries;
mod clients;
mod cluster;
mod cluster_ops;
mod cluster_setup;
mod cluster_view;
mod error;
mod ports;
mod probe;
mod process;
mod proxy;
mod raw;
mod reply;
pub mod reply_check;
mod sentinel;
mod sentinel_history;
mod server;
mod stream;
mod tls;
mod wait;
mod workspace;

pub use binaries::{find_in_path, Binary};
pub use clients::client;
pub use cluster_ops::Migration;
pub use cluster_setup::{ClusterSetup, ClusterSetupBuilder, SLOTS};
pub use cluster_view::{nodes_of, parse_nodes, slot_signature, NodeLine};
pub use error::{Error, Result};
pub use ports::free_port;
pub use process::STARTUP_DEADLINE;
pub use proxy::{Extra, Proxy};
pub use raw::{RawConnection, DEFAULT_TIMEOUT};
pub use reply::{field, fields, info_field, text};
pub use sentinel::{
    SentinelBuilder, SentinelServer, SentinelSetup, SentinelSetupBuilder, MASTER_NAME,
};
pub use sentinel_history::follows_in_turn;
pub use server::{Server, ServerBuilder, ServerKind, TlsAuthClients};
pub use stream::{Endpoint, Stream};
pub use tls::{ServerCert, TlsFiles, OTHER_HOSTNAME};
pub use wait::wait_until;
pub use workspace::{workspace_root, TempDir};
