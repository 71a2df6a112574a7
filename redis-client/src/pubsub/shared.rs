//! [`Shared`]: the session behind a lock, the read loop, and reconnection.
//!
//! One thread at a time reads; commands from other threads (a `subscribe` while
//! `run_in_thread` runs) take the same lock. A reader holds it for at most [`SLICE`] while
//! waiting for bytes and steps aside between slices whenever a writer is waiting, so a command
//! from another thread goes out within a slice even on an idle connection.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::message::Message;
use super::registry::{self, Family, Handler};
use super::session::Session;
use super::state::Outcome;
use super::wire;
use crate::config::Config;
use crate::connection::connector::Connector;
use crate::connection::shortcut::Polled;
use crate::error::{Error, Result};

/// The longest a reader holds the session lock while waiting for bytes.
const SLICE: Duration = Duration::from_millis(20);

/// What one step of the read loop produced.
pub(super) enum Next {
    /// A message for the caller.
    Message(Message),
    /// A message went to its handler, or was swallowed (ignored confirmation, health pong).
    Handled,
    /// Nothing arrived before the deadline.
    TimedOut,
    /// Not subscribed and owed nothing, and there is no deadline to wait for one.
    NotSubscribed,
}

/// How hard to try when the connection is lost.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Reconnect {
    /// Reconnect right away, under the client's retry policy.
    Policy,
    /// Report the loss; one connect attempt per call (the worker thread backs off itself).
    Once,
}

pub(super) struct Shared {
    pub(super) config: Config,
    connector: Connector,
    session: Mutex<Session>,
    /// Signalled when a subscription is made or the session is closed, for readers waiting
    /// to be subscribed.
    changed: Condvar,
    /// Threads waiting for the lock to send a command; readers step aside for them.
    writers: AtomicUsize,
    pub(super) ignore_subscribe_messages: AtomicBool,
}

impl Shared {
    pub(super) fn new(config: Config) -> Result<Shared> {
        Ok(Shared::with_connector(Connector::new(config)?))
    }

    /// A session connecting through `connector` (a client's, so that a Sentinel client's
    /// pub/sub follows its master too).
    pub(super) fn with_connector(connector: Connector) -> Shared {
        Shared {
            config: connector.config().clone(),
            connector,
            session: Mutex::default(),
            changed: Condvar::new(),
            writers: AtomicUsize::new(0),
            ignore_subscribe_messages: AtomicBool::new(false),
        }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, Session> {
        // Handlers never run under this lock, and the session stays consistent between the
        // statements that change it, so a panic elsewhere leaves nothing half-done.
        self.session.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes the lock ahead of readers.
    pub(super) fn lock_for_write(&self) -> MutexGuard<'_, Session> {
        self.writers.fetch_add(1, Ordering::SeqCst);
        let guard = self.lock();
        self.writers.fetch_sub(1, Ordering::SeqCst);
        guard
    }

    /// Lets every waiting writer take the lock first.
    fn let_writers_in(&self) {
        while self.writers.load(Ordering::SeqCst) > 0 {
            thread::yield_now();
        }
    }

    /// Reads until a message for the caller arrives, one is handled, or `deadline` passes
    /// (`None`: no deadline, but stop when not subscribed).
    pub(super) fn next(
        &self,
        deadline: Option<Instant>,
        ignore_subscribe: bool,
        reconnect: Reconnect,
    ) -> Result<Next> {
        let mut lost: Option<Error> = None;
        loop {
            self.let_writers_in();
            let mut s = self.lock();
            if s.conn.as_ref().is_some_and(|c| c.is_broken()) {
                s.disconnect();
            }
            if s.conn.is_none() && s.state.has_subscriptions() {
                drop(s);
                self.reconnect(reconnect, lost.take())?;
                continue;
            }
            if !s.wants_read() {
                let Some(deadline) = deadline else {
                    return Ok(Next::NotSubscribed);
                };
                let now = Instant::now();
                if now >= deadline {
                    return Ok(Next::TimedOut);
                }
                // Wait for a subscription from another thread.
                drop(
                    self.changed
                        .wait_timeout(s, deadline - now)
                        .unwrap_or_else(PoisonError::into_inner),
                );
                continue;
            }
            if let Err(e) = s.check_health(&self.config) {
                if s.conn.is_some() {
                    return Err(e);
                }
                drop(s);
                lost = Some(self.lost(e, reconnect)?);
                continue;
            }
            let mut slice = SLICE;
            if let Some(deadline) = deadline {
                slice = slice.min(deadline.saturating_duration_since(Instant::now()));
            }
            if let Some(interval) = self.config.health_check_interval() {
                slice = slice.min(interval);
            }
            let conn = s.conn.as_mut().expect("wants_read implies a connection");
            match conn.poll_frame_with(Some(slice), &mut wire::take) {
                Ok(Some(polled)) => {
                    let mut message = match polled {
                        Polled::Taken(message) => message,
                        Polled::Frame(frame) => Message::from_frame(frame, s.state.last_command)?,
                    };
                    if self.config.decode_responses() {
                        message = message.decode()?;
                    }
                    let outcome = s.state.dispatch(message, ignore_subscribe);
                    drop(s);
                    return Ok(match outcome {
                        Outcome::Deliver(message) => Next::Message(message),
                        Outcome::Handle(handler, message) => {
                            registry::call(&handler, message);
                            Next::Handled
                        }
                        Outcome::Drop => Next::Handled,
                    });
                }
                Ok(None) => {
                    drop(s);
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        return Ok(Next::TimedOut);
                    }
                }
                Err(e) => {
                    s.disconnect();
                    drop(s);
                    lost = Some(self.lost(e, reconnect)?);
                }
            }
        }
    }

    /// The connection was lost with `error`: returns it to reconnect under the retry policy,
    /// or fails with it when no reconnect may follow now.
    fn lost(&self, error: Error, reconnect: Reconnect) -> Result<Error> {
        if reconnect == Reconnect::Once || self.config.retry().retries() == 0 {
            return Err(error);
        }
        Ok(error)
    }

    /// Opens a new connection and resubscribes. `lost` is the failure that lost the old one;
    /// it counts as the first failed attempt.
    fn reconnect(&self, mode: Reconnect, lost: Option<Error>) -> Result<()> {
        let retry = self.config.retry();
        let mut retries = 0;
        let mut last = lost;
        loop {
            if let Some(error) = last.take() {
                if mode == Reconnect::Once || !error.is_retryable() || retries >= retry.retries() {
                    return Err(error);
                }
                thread::sleep(retry.backoff().delay(retries));
                retries += 1;
            }
            let mut s = self.lock_for_write();
            if s.conn.is_some() || !s.state.has_subscriptions() {
                // Another thread reconnected, or closed the session.
                return Ok(());
            }
            match s.connect(&self.connector) {
                Ok(()) => {
                    drop(s);
                    self.changed.notify_all();
                    return Ok(());
                }
                Err(error) => last = Some(error),
            }
        }
    }

    /// Runs `op` on the connection (opened first if needed), again under the retry policy
    /// when the connection fails.
    pub(super) fn with_connection(
        &self,
        mut op: impl FnMut(&mut Session) -> Result<()>,
    ) -> Result<()> {
        let retry = self.config.retry();
        let mut attempt = 0;
        loop {
            let mut s = self.lock_for_write();
            if s.conn.as_ref().is_some_and(|c| c.is_broken()) {
                s.disconnect();
            }
            let result = match s.conn {
                Some(_) => Ok(()),
                None => s.connect(&self.connector),
            }
            .and_then(|()| op(&mut s));
            drop(s);
            match result {
                Ok(()) => {
                    self.changed.notify_all();
                    return Ok(());
                }
                Err(e) if e.is_connection_error() && attempt < retry.retries() => {
                    thread::sleep(retry.backoff().delay(attempt));
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Subscribes to `names` of `family`, each with `handler` (or none).
    pub(super) fn subscribe(
        &self,
        family: Family,
        names: Vec<Bytes>,
        handler: Option<Handler>,
    ) -> Result<()> {
        if names.is_empty() {
            return Err(Error::PubSub(format!(
                "{} needs at least one {}",
                family.subscribe_command(),
                family.noun()
            )));
        }
        self.with_connection(|s| {
            s.send(family.subscribe_command(), &names)?;
            s.state.subscribed_to(family, &names, handler.clone());
            Ok(())
        })
    }

    /// Unsubscribes from `names` of `family` (all of them when empty).
    pub(super) fn unsubscribe(&self, family: Family, names: Vec<Bytes>) -> Result<()> {
        let mut s = self.lock_for_write();
        if s.conn.as_ref().is_some_and(|c| c.is_broken()) {
            s.disconnect();
        }
        if s.conn.is_some() {
            match s.send(family.unsubscribe_command(), &names) {
                Ok(()) => {
                    s.state.registry_mut(family).unsubscribing(&names);
                    return Ok(());
                }
                // The server dropped every subscription with the connection.
                Err(e) if e.breaks_connection() => {}
                Err(e) => return Err(e),
            }
        }
        // No connection: nothing on the server to undo, and no confirmation will come.
        s.state.removed_now(family, &names);
        Ok(())
    }

    /// Forgets the connection and every subscription.
    pub(super) fn close(&self) {
        self.lock_for_write().reset();
        self.changed.notify_all();
    }
}
