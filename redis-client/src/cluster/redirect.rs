//! What an error from a cluster node means for the command that got it: go elsewhere (MOVED,
//! ASK), wait and try again (TRYAGAIN, CLUSTERDOWN, MASTERDOWN, LOADING), refresh the slot map
//! and try again (READONLY, a node that cannot be reached), or give up.

use std::time::Duration;

use crate::error::Error;

/// A cluster error reply, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Redirect {
    /// `MOVED slot host:port`: the slot lives on that node now, for good.
    Moved {
        /// The slot.
        slot: u16,
        /// The node that owns it.
        addr: String,
    },
    /// `ASK slot host:port`: the slot is being migrated and this key may be on that node;
    /// send `ASKING` and the command there once, and leave the slot map alone.
    Ask {
        /// The slot.
        slot: u16,
        /// The importing node.
        addr: String,
    },
    /// `TRYAGAIN`: a multi-key command whose keys are split by a migration in progress.
    TryAgain,
    /// `CLUSTERDOWN`: the cluster cannot serve the slot now (a failover in progress).
    ClusterDown,
    /// `MASTERDOWN`: the replica lost its primary and refuses stale reads.
    MasterDown,
    /// `LOADING`: the node is loading its dataset.
    Loading,
    /// `READONLY`: a write reached a replica (the slot map is stale after a failover).
    ReadOnly,
}

impl Redirect {
    /// The cluster meaning of `error`, if it has one.
    pub fn of(error: &Error) -> Option<Redirect> {
        let server = error.server_error()?;
        let message = server.message();
        Some(match server.code() {
            "MOVED" | "ASK" => {
                let (slot, addr) = parse_target(message)?;
                if server.code() == "MOVED" {
                    Redirect::Moved { slot, addr }
                } else {
                    Redirect::Ask { slot, addr }
                }
            }
            "TRYAGAIN" => Redirect::TryAgain,
            "CLUSTERDOWN" => Redirect::ClusterDown,
            "MASTERDOWN" => Redirect::MasterDown,
            "LOADING" => Redirect::Loading,
            "READONLY" => Redirect::ReadOnly,
            _ => return None,
        })
    }
}

/// `3999 127.0.0.1:6381` (or `3999 :6381` when the node does not know its host).
fn parse_target(message: &str) -> Option<(u16, String)> {
    let (slot, addr) = message.trim().split_once(' ')?;
    let slot = slot.parse().ok()?;
    (addr.rsplit_once(':')?.1.parse::<u16>().is_ok()).then(|| (slot, addr.to_string()))
}

/// What to do with a command after an error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Patch the slot map (`slot` → `addr`), refresh it soon, send the command to `addr`.
    Moved {
        /// The slot that moved.
        slot: u16,
        /// Its new owner.
        addr: String,
    },
    /// Send `ASKING` and the command to `addr`, once.
    Ask {
        /// The importing node.
        addr: String,
    },
    /// Wait `delay`, refresh the slot map if `refresh`, route again.
    Retry {
        /// How long to wait first.
        delay: Duration,
        /// Whether the slot map is suspect.
        refresh: bool,
    },
    /// Return the error to the caller.
    Fail,
}

/// How many redirections and retries one command gets, and the clock they run on.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// Redirections and retries allowed.
    pub attempts: u32,
    /// Total time the retries may wait.
    pub wait: Duration,
}

impl Default for Budget {
    /// 32 attempts within 15 s: enough to ride out the failover of a killed primary, which
    /// takes the cluster about its node timeout plus one to three seconds.
    fn default() -> Self {
        Budget {
            attempts: 32,
            wait: Duration::from_secs(15),
        }
    }
}

/// Decides what to do after `error`, on attempt `attempt` (0 for the first failure), having
/// waited `waited` so far. `repeatable`: the command may run twice without harm (read-only, or
/// declared idempotent), so a connection that broke mid-command may be retried.
pub fn decide(
    error: &Error,
    attempt: u32,
    waited: Duration,
    budget: &Budget,
    repeatable: bool,
) -> Action {
    if attempt >= budget.attempts {
        return Action::Fail;
    }
    let backoff = |base_ms: u64| {
        let delay = Duration::from_millis(base_ms.saturating_mul(1 << attempt.min(5)).min(500));
        if waited + delay > budget.wait {
            None
        } else {
            Some(delay)
        }
    };
    let retry = |base_ms: u64, refresh: bool| match backoff(base_ms) {
        Some(delay) => Action::Retry { delay, refresh },
        None => Action::Fail,
    };
    if let Some(redirect) = Redirect::of(error) {
        return match redirect {
            Redirect::Moved { slot, addr } => Action::Moved { slot, addr },
            Redirect::Ask { addr, .. } => Action::Ask { addr },
            Redirect::TryAgain => retry(10, false),
            Redirect::Loading => retry(50, false),
            Redirect::ClusterDown | Redirect::MasterDown | Redirect::ReadOnly => retry(50, true),
        };
    }
    match error {
        // Nothing was sent: always safe to try the (possibly new) owner.
        Error::Connection {
            action: "connect to",
            ..
        } => retry(50, true),
        Error::Timeout {
            action: "connect to",
            ..
        } => retry(50, true),
        Error::Connection { .. } | Error::Timeout { .. } if repeatable => retry(50, true),
        _ => Action::Fail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ServerError;
    use std::io;

    fn server(text: &str) -> Error {
        Error::from_server_reply(text.as_bytes(), Some("GET"))
    }

    #[test]
    fn parses_every_cluster_error() {
        assert_eq!(
            Redirect::of(&server("MOVED 3999 127.0.0.1:6381")),
            Some(Redirect::Moved {
                slot: 3999,
                addr: "127.0.0.1:6381".into()
            })
        );
        assert_eq!(
            Redirect::of(&server("ASK 1 [::1]:7000")),
            Some(Redirect::Ask {
                slot: 1,
                addr: "[::1]:7000".into()
            })
        );
        assert_eq!(
            Redirect::of(&server(
                "TRYAGAIN Multiple keys request during rehashing of slot"
            )),
            Some(Redirect::TryAgain)
        );
        assert_eq!(
            Redirect::of(&server("CLUSTERDOWN The cluster is down")),
            Some(Redirect::ClusterDown)
        );
        assert_eq!(
            Redirect::of(&server("MASTERDOWN Link with MASTER is down")),
            Some(Redirect::MasterDown)
        );
        assert_eq!(
            Redirect::of(&server("LOADING Redis is loading the dataset in memory")),
            Some(Redirect::Loading)
        );
        assert_eq!(
            Redirect::of(&server(
                "READONLY You can't write against a read only replica."
            )),
            Some(Redirect::ReadOnly)
        );
        assert_eq!(
            Redirect::of(&server("WRONGTYPE Operation against a key")),
            None
        );
        assert_eq!(Redirect::of(&server("MOVED garbage")), None);
        assert_eq!(
            Redirect::of(&Error::Response(ServerError::parse(
                b"MOVED 1 host:notaport",
                None
            ))),
            None
        );
    }

    #[test]
    fn decisions() {
        let b = Budget::default();
        let zero = Duration::ZERO;
        assert_eq!(
            decide(&server("MOVED 5 h:1"), 0, zero, &b, false),
            Action::Moved {
                slot: 5,
                addr: "h:1".into()
            }
        );
        assert_eq!(
            decide(&server("ASK 5 h:1"), 0, zero, &b, false),
            Action::Ask { addr: "h:1".into() }
        );
        assert!(matches!(
            decide(&server("TRYAGAIN x"), 0, zero, &b, false),
            Action::Retry { refresh: false, .. }
        ));
        assert!(matches!(
            decide(&server("CLUSTERDOWN x"), 0, zero, &b, false),
            Action::Retry { refresh: true, .. }
        ));
        assert_eq!(
            decide(&server("ERR unknown"), 0, zero, &b, true),
            Action::Fail
        );
        assert_eq!(
            decide(&server("MOVED 5 h:1"), b.attempts, zero, &b, false),
            Action::Fail,
            "budget spent"
        );
        assert_eq!(
            decide(&server("TRYAGAIN x"), 1, b.wait, &b, false),
            Action::Fail,
            "time spent"
        );

        let broke = |action| Error::Connection {
            addr: "h:1".into(),
            action,
            command: None,
            source: io::Error::from(io::ErrorKind::ConnectionReset),
        };
        assert!(matches!(
            decide(&broke("connect to"), 0, zero, &b, false),
            Action::Retry { refresh: true, .. }
        ));
        // A write that may have run is not repeated unless it is harmless to.
        assert_eq!(
            decide(&broke("read from"), 0, zero, &b, false),
            Action::Fail
        );
        assert!(matches!(
            decide(&broke("read from"), 0, zero, &b, true),
            Action::Retry { .. }
        ));
    }
}
