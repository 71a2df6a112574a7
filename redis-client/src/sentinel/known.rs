//! What a [`super::Sentinel`] has learned about one master, and the rules for believing a
//! sentinel's answer in its light.
//!
//! Two things make a plain "first usable answer" unsafe around failovers:
//!
//! - Sentinels learn of a failover one after another (the others through hello messages from
//!   the one that ran it). A sentinel that has not heard yet still names the old master, with
//!   the old `config-epoch`; an answer older than one already accepted is refused.
//! - After `SENTINEL FAILOVER` the old master keeps accepting writes, and a replica not yet
//!   moved to the new master keeps acknowledging them (`WAIT`), until the sentinels demote it
//!   seconds later; those writes are then lost. So once a sentinel announces `+try-failover`,
//!   the old master is *fenced*: no connection goes to it until some sentinel names another
//!   master, the sentinel running the failover reports it over without a change, or the
//!   failover timeout passes.
//!
//! While the sentinel running a failover has promoted a replica but not finished
//! reconfiguring the others, `SENTINEL MASTER` still describes the old master (flagged
//! `failover_in_progress`) while `SENTINEL GET-MASTER-ADDR-BY-NAME` already names the promoted
//! replica; that address is taken, as newer than the old epoch.

use std::time::{Duration, Instant};

use super::instance::Instance;
use crate::config::ConnectionAddr;

/// Fences last at most this long when the master's failover timeout is not known yet (the
/// sentinel default).
const DEFAULT_FAILOVER_TIMEOUT: Duration = Duration::from_secs(180);

/// One sentinel's answer: `SENTINEL MASTER` and `SENTINEL GET-MASTER-ADDR-BY-NAME`.
#[derive(Clone, Debug)]
pub(crate) struct Answer {
    pub(crate) record: Instance,
    pub(crate) current: Option<ConnectionAddr>,
}

/// A failover away from `addr` that sentinel number `by` announced.
#[derive(Clone, Debug)]
struct Fence {
    addr: String,
    by: usize,
    until: Instant,
}

/// What is known about one master name.
#[derive(Debug, Default)]
pub(crate) struct Known {
    /// The highest `config-epoch` accepted.
    epoch: Option<u64>,
    /// The master connections go to, as [`crate::Connection::addr`] spells it.
    current: Option<String>,
    fence: Option<Fence>,
    failover_timeout: Option<Duration>,
}

impl Known {
    /// Whether a connection to `addr` may be used.
    pub(crate) fn is_current(&self, addr: &str, now: Instant) -> bool {
        if self
            .fence
            .as_ref()
            .is_some_and(|f| f.addr == addr && now < f.until)
        {
            return false;
        }
        self.current.as_deref().is_none_or(|c| c == addr)
    }

    /// Sentinel number `by` announced a failover away from `addr`.
    pub(crate) fn fence(&mut self, addr: &ConnectionAddr, by: usize, now: Instant) {
        let timeout = self.failover_timeout.unwrap_or(DEFAULT_FAILOVER_TIMEOUT);
        self.fence = Some(Fence {
            addr: addr.to_string(),
            by,
            until: now + timeout,
        });
    }

    /// A sentinel announced `addr` as the new master (used when asking it failed).
    pub(crate) fn switch_to(&mut self, addr: &ConnectionAddr) {
        let text = addr.to_string();
        if self.fence.as_ref().is_some_and(|f| f.addr != text) {
            self.fence = None;
        }
        self.current = Some(text);
    }

    /// The master sentinel number `from` names in `answer`, or why that cannot be believed;
    /// an accepted answer becomes the current master.
    pub(crate) fn judge(
        &mut self,
        from: usize,
        answer: &Answer,
        now: Instant,
    ) -> Result<ConnectionAddr, String> {
        let record = &answer.record;
        if let Some(timeout) = record.failover_timeout {
            self.failover_timeout = Some(timeout);
        }
        let (addr, epoch) = match &answer.current {
            Some(promoted) if record.failover_in_progress() && *promoted != record.addr => {
                // The failover will end with a higher epoch than the record's.
                (promoted.clone(), record.config_epoch.map(|e| e + 1))
            }
            _ => {
                if let Some(why) = record.master_unusable() {
                    return Err(why);
                }
                (record.addr.clone(), record.config_epoch)
            }
        };
        if let (Some(epoch), Some(known)) = (epoch, self.epoch) {
            if epoch < known {
                return Err(format!(
                    "reports {addr} from config-epoch {epoch}, older than the {known} already seen"
                ));
            }
        }
        let text = addr.to_string();
        if let Some(fence) = &self.fence {
            let over = now >= fence.until
                || fence.addr != text
                || (fence.by == from && !record.failover_in_progress());
            if !over {
                return Err(format!(
                    "reports {addr}, but a failover away from it is under way"
                ));
            }
            self.fence = None;
        }
        if let Some(epoch) = epoch {
            self.epoch = Some(self.epoch.map_or(epoch, |known| known.max(epoch)));
        }
        self.current = Some(text);
        Ok(addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> ConnectionAddr {
        ConnectionAddr::Tcp {
            host: "127.0.0.1".into(),
            port,
        }
    }

    fn answer(port: u16, flags: &str, epoch: u64, current: u16) -> Answer {
        Answer {
            record: Instance {
                addr: addr(port),
                flags: flags.split(',').map(str::to_owned).collect(),
                role_reported: Some("master".into()),
                config_epoch: Some(epoch),
                failover_timeout: Some(Duration::from_secs(2)),
            },
            current: Some(addr(current)),
        }
    }

    #[test]
    fn an_older_epoch_never_wins_back() {
        let now = Instant::now();
        let mut known = Known::default();
        assert_eq!(known.judge(0, &answer(1, "master", 0, 1), now), Ok(addr(1)));
        assert_eq!(known.judge(1, &answer(2, "master", 1, 2), now), Ok(addr(2)));
        let stale = known.judge(2, &answer(1, "master", 0, 1), now).unwrap_err();
        assert!(stale.contains("older"), "{stale}");
        assert!(known.is_current("127.0.0.1:2", now));
        assert!(!known.is_current("127.0.0.1:1", now));
    }

    #[test]
    fn a_promoted_replica_is_taken_before_the_failover_ends() {
        let now = Instant::now();
        let mut known = Known::default();
        known.judge(0, &answer(1, "master", 4, 1), now).unwrap();
        let during = answer(1, "master,failover_in_progress", 4, 2);
        assert_eq!(known.judge(0, &during, now), Ok(addr(2)));
        // A sentinel that has not heard of it yet is now behind.
        assert!(known.judge(1, &answer(1, "master", 4, 1), now).is_err());
        assert_eq!(known.judge(1, &answer(2, "master", 5, 2), now), Ok(addr(2)));
    }

    #[test]
    fn a_fenced_master_is_refused_until_the_failover_moves_or_ends() {
        let now = Instant::now();
        let mut known = Known::default();
        known.judge(0, &answer(1, "master", 0, 1), now).unwrap();
        known.fence(&addr(1), 2, now);
        assert!(!known.is_current("127.0.0.1:1", now));
        // Neither the announcing sentinel mid-failover nor one that has not heard of it.
        assert!(known
            .judge(2, &answer(1, "master,failover_in_progress", 0, 1), now)
            .is_err());
        assert!(known.judge(0, &answer(1, "master", 0, 1), now).is_err());
        // The announcing sentinel gave up without a change: the old master is good again.
        assert_eq!(known.judge(2, &answer(1, "master", 0, 1), now), Ok(addr(1)));
        assert!(known.is_current("127.0.0.1:1", now));

        known.fence(&addr(1), 2, now);
        assert_eq!(known.judge(0, &answer(3, "master", 1, 3), now), Ok(addr(3)));
        assert!(known.is_current("127.0.0.1:3", now));

        // A fence lapses after the failover timeout.
        let mut known = Known::default();
        known.judge(0, &answer(1, "master", 0, 1), now).unwrap();
        known.fence(&addr(1), 2, now);
        let later = now + Duration::from_secs(3);
        assert!(known.is_current("127.0.0.1:1", later));
        assert_eq!(
            known.judge(0, &answer(1, "master", 0, 1), later),
            Ok(addr(1))
        );
    }

    #[test]
    fn down_masters_are_refused_with_the_reason() {
        let mut known = Known::default();
        let why = known
            .judge(0, &answer(1, "master,s_down,o_down", 0, 1), Instant::now())
            .unwrap_err();
        assert!(why.contains("s_down,o_down"), "{why}");
    }
}
