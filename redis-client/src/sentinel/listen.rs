//! Following the sentinels' failover announcements, so a master client leaves the old master
//! as soon as a failover starts and reaches the new one as soon as it is named — not only
//! when the old one fails (after a `SENTINEL FAILOVER` it keeps accepting writes for seconds,
//! until the sentinels demote it, and those writes are lost).
//!
//! - `+try-failover master <name> <ip> <port>`: fence the old master (see [`super::known`]).
//! - `+switch-master <name> <old-ip> <old-port> <new-ip> <new-port>`: the new master.
//!
//! One thread per sentinel subscribes to both channels. The threads hold the locator weakly
//! and end once the client (every clone of it) is gone.

use std::io;
use std::sync::{Arc, Weak};
use std::thread;
use std::time::Duration;

use super::locate::MasterLocator;
use crate::config::ConnectionAddr;
use crate::pubsub::PubSub;

pub(crate) const TRY_FAILOVER: &str = "+try-failover";
pub(crate) const SWITCH_MASTER: &str = "+switch-master";
/// How long one read waits: bounds how late a thread notices that its client is gone.
const POLL: Duration = Duration::from_millis(100);
/// How long to wait before subscribing again to a sentinel that could not be reached.
const PAUSE: Duration = Duration::from_secs(1);

/// Starts one thread per sentinel following announcements for `locator`'s master.
pub(crate) fn spawn(locator: &Arc<MasterLocator>) -> io::Result<()> {
    for index in 0..locator.sentinel().inner.nodes.len() {
        let weak = Arc::downgrade(locator);
        thread::Builder::new()
            .name(format!("sentinel-{index}-{}", locator.name()))
            .spawn(move || follow(&weak, index))?;
    }
    Ok(())
}

fn follow(weak: &Weak<MasterLocator>, index: usize) {
    let mut pubsub: Option<PubSub> = None;
    loop {
        let Some(locator) = weak.upgrade() else {
            return;
        };
        let subscribed = match pubsub.take() {
            Some(existing) => Some(existing),
            None => subscribe(&locator, index),
        };
        let Some(subscribed) = subscribed else {
            drop(locator);
            pause(weak);
            continue;
        };
        match subscribed.get_message(POLL) {
            Ok(Some(message)) if message.kind.is_published() => {
                let channel = message.channel_str().unwrap_or("");
                if let Some(data) = message.data.as_str() {
                    handle(&locator, index, channel, data);
                }
                pubsub = Some(subscribed);
            }
            Ok(_) => pubsub = Some(subscribed),
            Err(_) => {
                // The sentinel went away; subscribe afresh after a pause.
                drop(locator);
                pause(weak);
            }
        }
    }
}

/// Sleeps [`PAUSE`] in [`POLL`] steps, returning early once the client is gone.
fn pause(weak: &Weak<MasterLocator>) {
    let mut slept = Duration::ZERO;
    while slept < PAUSE && weak.strong_count() > 0 {
        thread::sleep(POLL);
        slept += POLL;
    }
}

fn subscribe(locator: &MasterLocator, index: usize) -> Option<PubSub> {
    let config = locator.sentinel().inner.nodes.get(index).config.clone();
    let pubsub = PubSub::new(config).ok()?;
    pubsub.set_ignore_subscribe_messages(true);
    pubsub.subscribe([TRY_FAILOVER, SWITCH_MASTER]).ok()?;
    Some(pubsub)
}

/// What a sentinel announced about a master.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Announcement {
    /// A failover away from this master started.
    FailoverStarted(ConnectionAddr),
    /// This is the new master.
    Switched(ConnectionAddr),
}

fn handle(locator: &MasterLocator, index: usize, channel: &str, data: &str) {
    match parse(channel, data, locator.name()) {
        Some(Announcement::FailoverStarted(old)) => locator.failover_started(index, &old),
        Some(Announcement::Switched(new)) => locator.switched(index, &new),
        None => {}
    }
}

/// The announcement in a message on `channel`, when it is about master `name`.
pub(crate) fn parse(channel: &str, data: &str, name: &str) -> Option<Announcement> {
    let words: Vec<&str> = data.split(' ').collect();
    match (channel, words.as_slice()) {
        (TRY_FAILOVER, ["master", master, host, port, ..]) if *master == name => {
            addr(host, port).map(Announcement::FailoverStarted)
        }
        (SWITCH_MASTER, [master, _, _, host, port]) if *master == name => {
            addr(host, port).map(Announcement::Switched)
        }
        _ => None,
    }
}

fn addr(host: &str, port: &str) -> Option<ConnectionAddr> {
    Some(ConnectionAddr::Tcp {
        host: host.to_owned(),
        port: port.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn announcements_are_read_for_the_named_master_only() {
        let tcp = |host: &str, port| ConnectionAddr::Tcp {
            host: host.into(),
            port,
        };
        assert_eq!(
            parse(
                SWITCH_MASTER,
                "mymaster 127.0.0.1 6379 ::1 6380",
                "mymaster"
            ),
            Some(Announcement::Switched(tcp("::1", 6380)))
        );
        assert_eq!(
            parse(TRY_FAILOVER, "master mymaster 127.0.0.1 6379", "mymaster"),
            Some(Announcement::FailoverStarted(tcp("127.0.0.1", 6379)))
        );
        for (channel, data) in [
            (SWITCH_MASTER, "other 127.0.0.1 6379 127.0.0.1 6380"),
            (SWITCH_MASTER, "mymaster 127.0.0.1 6379 127.0.0.1"),
            (SWITCH_MASTER, "mymaster 127.0.0.1 6379 127.0.0.1 x"),
            (
                TRY_FAILOVER,
                "slave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster 127.0.0.1 6379",
            ),
            ("+sdown", "master mymaster 127.0.0.1 6379"),
        ] {
            assert_eq!(parse(channel, data, "mymaster"), None, "{channel} {data}");
        }
    }
}
