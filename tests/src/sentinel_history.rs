//! What a [`SentinelSetup`]'s sentinels logged: the masters they switched to, in turn, and their
//! whole logs when a test fails.
//!
//! Tests that fail a master over must not assume exactly one failover: on a loaded machine a
//! freshly promoted master can miss `down-after-milliseconds` of pings and be failed over in
//! turn, which is the sentinels' decision, not the client's. The `+switch-master` lines are the
//! record of what the client had to follow.

use std::net::SocketAddr;

use crate::sentinel::SentinelSetup;

impl SentinelSetup {
    /// The master at the start, then every master the sentinels switched to, in order, as the
    /// sentinel that logged the most switches saw them.
    pub fn masters_in_turn(&self) -> Vec<SocketAddr> {
        let first = self.master().addr();
        self.sentinels()
            .iter()
            .map(|sentinel| switches(&sentinel.log()))
            .max_by_key(Vec::len)
            .map(|switches| {
                let mut masters = vec![first];
                masters.extend(switches.into_iter().map(|(_, to)| to));
                masters
            })
            .unwrap_or_else(|| vec![first])
    }
}

/// A failing test's setup prints its sentinels' logs (their `+sdown`, `+switch-master`, …
/// events): what the sentinels decided usually explains the failure, and the logs go with the
/// setup's temp dirs.
impl Drop for SentinelSetup {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        let servers: Vec<String> = std::iter::once(self.master())
            .chain(self.replicas())
            .map(|s| s.addr().to_string())
            .collect();
        eprintln!("sentinel setup at failure: master then replicas {servers:?}");
        for sentinel in self.sentinels() {
            eprintln!(
                "--- log of the sentinel at {} ---\n{}",
                sentinel.addr(),
                sentinel.log()
            );
        }
    }
}

/// The `(from, to)` of every `+switch-master <name> <ip> <port> <ip> <port>` line of a sentinel
/// log.
fn switches(log: &str) -> Vec<(SocketAddr, SocketAddr)> {
    log.lines()
        .filter_map(|line| {
            let rest = line.split_once("+switch-master ")?.1;
            let words: Vec<&str> = rest.split_whitespace().collect();
            let [_name, from_ip, from_port, to_ip, to_port] = words[..] else {
                return None;
            };
            let from = format!("{from_ip}:{from_port}").parse().ok()?;
            let to = format!("{to_ip}:{to_port}").parse().ok()?;
            Some((from, to))
        })
        .collect()
}

/// Whether `seen` (servers in the order a client used them, repeats allowed) follows `masters`
/// in order: the client never went back to a master it had left, nor to a server that was not
/// a master.
pub fn follows_in_turn(seen: &[SocketAddr], masters: &[SocketAddr]) -> bool {
    let mut at = 0;
    seen.iter().all(
        |server| match masters[at..].iter().position(|m| m == server) {
            Some(ahead) => {
                at += ahead;
                true
            }
            None => false,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[test]
    fn reads_switches_from_a_sentinel_log() {
        let log = "21729:X 04 Dec 2026 23:12:49.253 # +switch-master mymaster 127.0.0.1 35303 127.0.0.1 36165\n\
                   21729:X 04 Dec 2026 23:12:49.253 * +slave slave 127.0.0.1:33471 127.0.0.1 33471 @ mymaster 127.0.0.1 36165\n\
                   21729:X 04 Dec 2026 23:12:51.440 # +switch-master mymaster 127.0.0.1 36165 127.0.0.1 33471\n";
        assert_eq!(
            switches(log),
            vec![(addr(35303), addr(36165)), (addr(36165), addr(33471))]
        );
    }

    #[test]
    fn a_client_may_only_move_forward_along_the_masters() {
        let masters = [addr(1), addr(2), addr(3)];
        assert!(follows_in_turn(
            &[addr(1), addr(1), addr(2), addr(3)],
            &masters
        ));
        assert!(follows_in_turn(&[addr(1), addr(3)], &masters));
        assert!(!follows_in_turn(&[addr(1), addr(2), addr(1)], &masters));
        assert!(!follows_in_turn(&[addr(1), addr(4)], &masters));
        assert!(!follows_in_turn(&[addr(3), addr(2)], &masters));
    }
}
