//! Following the sentinels' failover announcements on tokio tasks, for
//! [`AsyncSentinel::master_for`](super::AsyncSentinel::master_for) clients: the async side of
//! [`crate::sentinel::listen`], with its parsing and its rules (`+try-failover` fences the old
//! master, `+switch-master` names the new one).
//!
//! One task per sentinel subscribes to both channels. The tasks hold the client's shared
//! state weakly and end once every clone of the client is gone.

use std::sync::{Arc, Weak};
use std::time::Duration;

use super::pubsub::AsyncPubSub;
use super::sentinel_located::Located;
use crate::error::{Error, Result};
use crate::sentinel::listen::{parse, Announcement, SWITCH_MASTER, TRY_FAILOVER};

/// How long one read waits: bounds how late a task notices that its client is gone.
const POLL: Duration = Duration::from_millis(100);
/// How long to wait before subscribing again to a sentinel that could not be reached.
const PAUSE: Duration = Duration::from_secs(1);

/// Starts one task per sentinel following announcements for `located`'s master.
pub(super) fn spawn(located: &Arc<Located>) -> Result<()> {
    let runtime = tokio::runtime::Handle::try_current().map_err(|e| {
        Error::config(
            "listen_for_switch",
            format!("following +switch-master needs a tokio runtime: {e}"),
        )
    })?;
    for index in 0..located.sentinel.sentinel.inner.nodes.len() {
        runtime.spawn(follow(Arc::downgrade(located), index));
    }
    Ok(())
}

async fn follow(weak: Weak<Located>, index: usize) {
    let mut pubsub: Option<AsyncPubSub> = None;
    loop {
        let Some(located) = weak.upgrade() else {
            return;
        };
        if pubsub.is_none() {
            pubsub = subscribe(&located, index).await;
        }
        let Some(subscribed) = pubsub.as_mut() else {
            drop(located);
            pause(&weak).await;
            continue;
        };
        match subscribed.get_message(POLL).await {
            Ok(Some(message)) if message.kind.is_published() => {
                let channel = message.channel_str().unwrap_or("");
                if let Some(data) = message.data.as_str() {
                    if let Some(announcement) = parse(channel, data, &located.name) {
                        handle(&located, index, announcement).await;
                    }
                }
            }
            Ok(_) => {}
            Err(_) => {
                // The sentinel went away; subscribe afresh after a pause.
                pubsub = None;
                drop(located);
                pause(&weak).await;
            }
        }
    }
}

/// Sleeps [`PAUSE`] in [`POLL`] steps, returning early once the client is gone.
async fn pause(weak: &Weak<Located>) {
    let mut slept = Duration::ZERO;
    while slept < PAUSE && weak.strong_count() > 0 {
        tokio::time::sleep(POLL).await;
        slept += POLL;
    }
}

async fn subscribe(located: &Located, index: usize) -> Option<AsyncPubSub> {
    let config = located
        .sentinel
        .sentinel
        .inner
        .nodes
        .get(index)
        .config
        .clone();
    let mut pubsub = AsyncPubSub::new(config);
    pubsub.set_ignore_subscribe_messages(true);
    pubsub.subscribe([TRY_FAILOVER, SWITCH_MASTER]).await.ok()?;
    Some(pubsub)
}

async fn handle(located: &Located, index: usize, announcement: Announcement) {
    let inner = &located.sentinel.sentinel.inner;
    match announcement {
        Announcement::FailoverStarted(old) => {
            inner.failover_started(index, &located.name, &old);
            located.forget(Some(&old.to_string()));
        }
        Announcement::Switched(new) => {
            // Asking the announcing sentinel records the new config-epoch, so a sentinel that
            // has not heard of the failover yet cannot send the client back.
            let judged = located.sentinel.master_from(index, &located.name).await;
            inner.settle_switch(index, &located.name, judged, &new);
            let current = located.current_addr();
            if current.is_some_and(|addr| !inner.is_current(&located.name, &addr)) {
                located.forget(None);
            }
        }
    }
}
