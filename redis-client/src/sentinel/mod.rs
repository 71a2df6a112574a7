//! Redis Sentinel: find the master and replicas of a monitored service, and clients that
//! follow them through failovers (shaped after redis-py's `Sentinel`).
//!
//! ```no_run
//! use redis_client::sentinel::{Sentinel, SentinelOptions};
//!
//! let sentinel = Sentinel::new(&[("127.0.0.1", 26379), ("127.0.0.1", 26380)], SentinelOptions::new())?;
//! let master_addr = sentinel.discover_master("mymaster")?;
//! let master = sentinel.master_for("mymaster")?;   // an ordinary pooled Client
//! master.execute(["SET", "k", "v"])?;
//! let replica = sentinel.slave_for("mymaster")?;
//! let v: Option<String> = replica.query(["GET", "k"])?;
//! # Ok::<(), redis_client::Error>(())
//! ```
//!
//! - Sentinels are asked in turn; one that answers about the master goes to the front.
//!   An answer counts only when the sentinel flags the instance as a master, it reports itself
//!   as one, and it is neither subjectively nor objectively down (`s_down` / `o_down`). An
//!   answer with an older `config-epoch` than one seen before is passed over, so a sentinel
//!   that has not yet heard of a failover cannot send clients back to the demoted master.
//! - [`Sentinel::master_for`] and [`Sentinel::slave_for`] give [`Client`](crate::Client)s whose pools ask the
//!   sentinels on every new connection. Replicas are used round-robin, and the master when no
//!   replica answers. No usable master or replica is [`Error::MasterNotFound`](crate::Error::MasterNotFound) /
//!   [`Error::SlaveNotFound`](crate::Error::SlaveNotFound), which count as connection errors and are retried.
//! - A master client that gets `READONLY` (its server was demoted) or a connection error closes
//!   all its pooled connections, so the next ones go to the master the sentinels name then, and
//!   retries under its [`crate::Retry`] policy: a `READONLY` command any time (the server
//!   refused it), otherwise by the usual rule (a write that may have run is not resent).
//! - Unless switched off ([`SentinelOptions::listen_for_switch`]), master clients also follow
//!   the sentinels' announcements (one thread per sentinel per master client). On
//!   `+try-failover` the old master is fenced off: its connections are closed as they are
//!   checked out or returned and no new one goes to it — because after `SENTINEL FAILOVER` it
//!   keeps accepting writes that a replica still acknowledges and that the failover then
//!   discards. The fence lifts when a sentinel names another master (the promoted replica, as
//!   soon as the sentinel running the failover reports it, or `+switch-master`), when that
//!   sentinel reports the failover over without a change, or after the failover timeout.
//!   Meanwhile commands fail with [`Error::MasterNotFound`](crate::Error::MasterNotFound) and are retried per the policy.
//!
//! Once the new master is known, no command goes to the old one; a command already under
//! way on a connection that is checked out (including a [`crate::ClientConnection`] held for
//! a while) finishes there.
//!
//! The clients' [`crate::Config`] is [`SentinelOptions::data_config`]; its address is only a
//! placeholder, as every connection (pub/sub included) goes where the sentinels say.

mod clients;
mod instance;
mod known;
pub(crate) mod listen;
mod locate;
pub(crate) mod nodes;
mod options;
pub(crate) mod sentinels;

pub use options::SentinelOptions;
pub use sentinels::Sentinel;
