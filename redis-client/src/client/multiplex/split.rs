//! The current split connection of a multiplexed client: opened on first use, replaced when it
//! ends, fails its health check or no longer goes where Sentinel points, closed when the client
//! is dropped.

use std::sync::{Arc, Mutex};

use super::link::{Link, Refused};
use super::slot::lock;
use crate::connection::connector::Connector;
use crate::connection::core::health;
use crate::connection::request::Request;
use crate::connection::Failure;
use crate::error::Result;
use crate::resp::Value;
use crate::retry::Sent;

/// Hands out the current [`Link`], connecting anew when needed.
pub(in crate::client) struct Split {
    connector: Connector,
    current: Mutex<Option<Arc<Link>>>,
}

impl Split {
    pub(super) fn new(connector: Connector) -> Split {
        Split {
            connector,
            current: Mutex::new(None),
        }
    }

    /// Runs `request` on the current connection. One that turns out to have just ended is
    /// replaced once; if the new one ends before taking the command too, the command fails
    /// unsent.
    pub(super) fn run(&self, request: &Request) -> Result<Value, Failure> {
        let unsent = |error: crate::Error| Failure {
            error: error.with_command(&request.info.name),
            sent: Sent::No,
        };
        let mut replaced = false;
        loop {
            let link = self.link().map_err(unsent)?;
            match link.send(request) {
                Ok(slot) => loop {
                    if let Some(outcome) = slot.wait() {
                        return outcome;
                    }
                },
                Err(Refused::Closed(cause)) => {
                    self.forget(&link);
                    if replaced {
                        return Err(unsent(cause));
                    }
                    replaced = true;
                }
            }
        }
    }

    /// Retires the connection: commands already on it get their replies, later ones go out on
    /// a new connection.
    pub(super) fn disconnect(&self) {
        if let Some(link) = lock(&self.current).take() {
            link.retire();
        }
    }

    /// The connection to use, opened if there is none or the current one may not be used.
    fn link(&self) -> Result<Arc<Link>> {
        let mut current = lock(&self.current);
        if let Some(link) = current.as_ref() {
            if self.still_good(link) {
                return Ok(Arc::clone(link));
            }
            link.retire();
            *current = None;
        }
        let link = Link::start(self.connector.connect()?)?;
        *current = Some(Arc::clone(&link));
        Ok(link)
    }

    /// Whether `link` still goes to the server the locator (Sentinel), if any, wants used, and
    /// answers `PING` if it sat idle longer than the health-check interval.
    fn still_good(&self, link: &Link) -> bool {
        let located = self
            .connector
            .locator()
            .is_none_or(|locator| locator.is_current(link.addr()));
        located && self.healthy(link)
    }

    fn healthy(&self, link: &Link) -> bool {
        let Some(interval) = self.connector.config().health_check_interval() else {
            return true;
        };
        if link.idle_for().is_none_or(|idle| idle <= interval) {
            return true;
        }
        let Ok(ping) = Request::encode(&["PING"]) else {
            return false;
        };
        let Ok(slot) = link.send(&ping) else {
            return false;
        };
        loop {
            if let Some(outcome) = slot.wait() {
                return outcome.is_ok_and(|pong| health::judge(pong).is_ok());
            }
        }
    }

    /// Drops `link` as the current connection if it still is.
    fn forget(&self, link: &Arc<Link>) {
        let mut current = lock(&self.current);
        if current.as_ref().is_some_and(|c| Arc::ptr_eq(c, link)) {
            link.retire();
            *current = None;
        }
    }
}

impl Drop for Split {
    fn drop(&mut self) {
        // Ends the reader thread: nothing is owed, as no caller is left.
        self.disconnect();
    }
}
