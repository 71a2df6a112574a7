//! The read loop of an [`AsyncPubSub`]: requests from handles, health checks, reconnects, and
//! the wait for the next message.

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::pubsub::AsyncPubSub;
use super::pubsub_handle::Request;
use crate::error::{Error, Result};
use crate::pubsub::state::{health_timeout, Health, HEALTH_CHECK_MESSAGE};
use crate::pubsub::Message;
use crate::resp::Value;

/// What one wait produced.
enum Step {
    /// A frame arrived, or `None`: the wait ran out.
    Frame(Result<Option<Value>>),
    /// A handle asked for something.
    Request(Request),
}

impl AsyncPubSub {
    /// The next message; `None` once nothing is subscribed and no pong is owed (the stream is
    /// over; subscribing again starts a new one).
    ///
    /// Confirmations skipped under [`AsyncPubSub::set_ignore_subscribe_messages`] and
    /// health-check pongs are consumed without being returned. A lost connection is reopened
    /// and resubscribed under the retry policy; `Err` when that fails (the next call tries
    /// again), for an error reply, or for a payload that is not UTF-8 under
    /// `decode_responses`.
    pub async fn next_message(&mut self) -> Result<Option<Message>> {
        self.read(None).await
    }

    /// The next message, waiting up to `timeout` (zero: only what has arrived already);
    /// `None` when none came in time, or when nothing is subscribed.
    pub async fn get_message(&mut self, timeout: Duration) -> Result<Option<Message>> {
        self.read(Instant::now().checked_add(timeout)).await
    }

    async fn read(&mut self, deadline: Option<Instant>) -> Result<Option<Message>> {
        let mut lost: Option<Error> = None;
        loop {
            while let Ok(request) = self.requests.try_recv() {
                self.apply(request).await?;
            }
            self.drop_broken();
            if self.conn.is_none() && self.state.has_subscriptions() {
                self.reconnect(lost.take()).await?;
                continue;
            }
            if self.conn.is_none() || !self.state.owes_reads() {
                return Ok(None);
            }
            if let Err(e) = self.check_health().await {
                lost = Some(self.lost(e)?);
                continue;
            }
            let now = Instant::now();
            // Past the deadline the wait takes only what has arrived already.
            let mut until = deadline;
            if let Some(interval) = self.config.health_check_interval() {
                let tick = now + interval;
                until = Some(until.map_or(tick, |d| d.min(tick)));
            }
            match self.wait(until).await {
                Step::Request(request) => self.apply(request).await?,
                Step::Frame(Ok(Some(frame))) => {
                    if let Some(message) = self.take_frame(frame)? {
                        return Ok(Some(message));
                    }
                }
                Step::Frame(Ok(None)) => {
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        return Ok(None);
                    }
                }
                Step::Frame(Err(e)) => {
                    self.disconnect();
                    lost = Some(self.lost(e)?);
                }
            }
        }
    }

    /// Waits until `until` (`None`: for ever) for a frame or a handle's request, whichever
    /// comes first. Dropping the frame read midway keeps what arrived in the connection's
    /// buffer, so nothing is lost.
    async fn wait(&mut self, until: Option<Instant>) -> Step {
        let conn = self.conn.as_mut().expect("read checked the connection");
        let requests = &mut self.requests;
        let mut frame = pin!(conn.next_frame_until(until));
        poll_fn(|cx| {
            if let Poll::Ready(frame) = frame.as_mut().poll(cx) {
                return Poll::Ready(Step::Frame(frame));
            }
            match requests.poll_recv(cx) {
                Poll::Ready(Some(request)) => Poll::Ready(Step::Request(request)),
                // The pub/sub holds a sender itself, so the channel never closes.
                Poll::Ready(None) | Poll::Pending => Poll::Pending,
            }
        })
        .await
    }

    /// Carries out a handle's request.
    async fn apply(&mut self, request: Request) -> Result<()> {
        match request {
            Request::Subscribe(family, names) => self.subscribe_family(family, names).await,
            Request::Unsubscribe(family, names) => self.unsubscribe_family(family, names).await,
            Request::Ping(args) => {
                self.with_connection("PING", &args).await?;
                self.state.pinged();
                Ok(())
            }
        }
    }

    /// Sends a health-check `PING` when one is due; fails (dropping the connection) when an
    /// earlier one went unanswered too long.
    async fn check_health(&mut self) -> Result<()> {
        let Some(conn) = self.conn.as_ref() else {
            return Ok(());
        };
        let now = Instant::now();
        let idle = now.saturating_duration_since(self.last_io);
        match self.state.health(
            self.config.health_check_interval(),
            self.config.socket_timeout(),
            idle,
            now,
        ) {
            Health::Fine => Ok(()),
            Health::Ping => {
                self.send("PING", &[Bytes::from_static(HEALTH_CHECK_MESSAGE)])
                    .await?;
                self.state.health_ping_sent(now);
                Ok(())
            }
            Health::Lost(limit) => {
                let addr = conn.addr().to_owned();
                self.disconnect();
                Err(health_timeout(addr, limit))
            }
        }
    }

    /// The connection was lost with `error`: returns it to reconnect under the retry policy,
    /// or fails with it when the policy allows no retry.
    fn lost(&self, error: Error) -> Result<Error> {
        if self.config.retry().retries() == 0 {
            return Err(error);
        }
        Ok(error)
    }

    /// Opens a new connection and resubscribes; `lost`, the failure that lost the old one,
    /// counts as the first failed attempt.
    async fn reconnect(&mut self, lost: Option<Error>) -> Result<()> {
        let retry = self.config.retry();
        let mut retries = 0;
        let mut last = lost;
        loop {
            if let Some(error) = last.take() {
                if !error.is_retryable() || retries >= retry.retries() {
                    return Err(error);
                }
                tokio::time::sleep(retry.backoff().delay(retries)).await;
                retries += 1;
            }
            if !self.state.has_subscriptions() {
                return Ok(());
            }
            match self.connect().await {
                Ok(()) => return Ok(()),
                Err(error) => last = Some(error),
            }
        }
    }
}
