//! The futures an [`AsyncClient`](super::AsyncClient) hands out: [`ClientReplyFuture`] for a
//! raw command's reply, [`ClientFuture`] for a typed command's output. Both own what they need
//! (`Send + 'static`); the shared-connection path allocates nothing beyond the encoded request,
//! which is kept so that a retry can resend it.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use tokio::time::Sleep;

use super::client_inner::Inner;
use super::mux::Submitted;
use crate::command::Decoder;
use crate::config::Protocol;
use crate::connection::request::Request;
use crate::connection::Failure;
use crate::error::{Error, Result};
use crate::resp::{FromValue, Value};

type Boxed = Pin<Box<dyn Future<Output = Result<Value>> + Send>>;

enum Step {
    /// To be queued on the shared connection (or handed to a dedicated one).
    Start,
    /// Queued; its reply comes to this slot.
    Waiting(u64),
    /// Waiting before a retry.
    Backoff(Pin<Box<Sleep>>),
    /// Running on a dedicated connection (blocking commands).
    Dedicated(Boxed),
    Failed(Option<Error>),
    Done,
}

/// The reply to one command on an [`AsyncClient`](super::AsyncClient); an error reply resolves
/// to `Err` naming the command. Dropping it abandons the reply.
#[must_use = "a command future does nothing unless awaited"]
pub struct ClientReplyFuture {
    inner: Arc<Inner>,
    request: Option<Request>,
    safe_to_repeat: bool,
    attempt: u32,
    step: Step,
}

impl fmt::Debug for ClientReplyFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientReplyFuture")
            .field("command", &self.name())
            .field("attempt", &self.attempt)
            .finish_non_exhaustive()
    }
}

impl ClientReplyFuture {
    pub(crate) fn new(inner: Arc<Inner>, request: Request, safe_to_repeat: bool) -> Self {
        ClientReplyFuture {
            inner,
            request: Some(request),
            safe_to_repeat,
            attempt: 0,
            step: Step::Start,
        }
    }

    pub(crate) fn failed(inner: Arc<Inner>, error: Error) -> Self {
        ClientReplyFuture {
            inner,
            request: None,
            safe_to_repeat: false,
            attempt: 0,
            step: Step::Failed(Some(error)),
        }
    }

    /// The command's name (empty when it was refused before being encoded).
    pub(crate) fn name(&self) -> Cow<'static, str> {
        self.request
            .as_ref()
            .map_or(Cow::Borrowed(""), |request| request.info.name.clone())
    }

    /// A reply that is no error: with `decode_responses`, its strings must be UTF-8.
    fn finish(&self, value: Value) -> Result<Value> {
        if self.inner.config.decode_responses() {
            crate::client::check_utf8(&value, &self.name())?;
        }
        Ok(value)
    }

    /// After `failure`: the next step under the retry policy, or the error to resolve to.
    fn retry_or_fail(&mut self, failure: Failure) -> Option<Error> {
        let config = &self.inner.config;
        let retry = config.retry();
        let again = retry.should_retry(
            &failure.error,
            failure.sent,
            self.safe_to_repeat,
            config.retry_on_timeout(),
            self.attempt,
        );
        if !again {
            self.step = Step::Done;
            return Some(failure.error.with_command(&self.name()));
        }
        let delay = retry.backoff().delay(self.attempt);
        self.attempt += 1;
        self.step = if delay.is_zero() {
            Step::Start
        } else {
            Step::Backoff(Box::pin(tokio::time::sleep(delay)))
        };
        None
    }
}

impl Future for ClientReplyFuture {
    type Output = Result<Value>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<Value>> {
        let this = self.get_mut();
        loop {
            match &mut this.step {
                Step::Start => {
                    let request = this.request.as_ref().expect("kept until done");
                    if !request.info.may_share() {
                        let request = this.request.take().expect("kept until done");
                        let run = dedicated(Arc::clone(&this.inner), request, this.safe_to_repeat);
                        this.step = Step::Dedicated(Box::pin(run));
                        continue;
                    }
                    match this.inner.mux.submit(request, cx) {
                        Ok(Submitted::Queued(seq)) => this.step = Step::Waiting(seq),
                        Ok(Submitted::Full) => return Poll::Pending,
                        Err(failure) => {
                            if let Some(error) = this.retry_or_fail(failure) {
                                return Poll::Ready(Err(error));
                            }
                        }
                    }
                }
                Step::Waiting(seq) => {
                    let outcome = ready!(this.inner.mux.poll_outcome(*seq, cx));
                    this.step = Step::Done;
                    let failure = match outcome {
                        Ok(Value::Error(payload)) => {
                            let name = this.name();
                            Failure::maybe_sent(Error::from_server_reply(&payload, Some(&name)))
                        }
                        Ok(value) => return Poll::Ready(this.finish(value)),
                        Err(failure) => failure,
                    };
                    if let Some(error) = this.retry_or_fail(failure) {
                        return Poll::Ready(Err(error));
                    }
                }
                Step::Backoff(sleep) => {
                    ready!(sleep.as_mut().poll(cx));
                    this.step = Step::Start;
                }
                Step::Dedicated(run) => {
                    let result = ready!(run.as_mut().poll(cx));
                    this.step = Step::Done;
                    return Poll::Ready(result.and_then(|value| this.finish(value)));
                }
                Step::Failed(error) => {
                    let error = error.take();
                    this.step = Step::Done;
                    return Poll::Ready(Err(error.unwrap_or_else(polled_after_completion)));
                }
                Step::Done => return Poll::Ready(Err(polled_after_completion())),
            }
        }
    }
}

impl Drop for ClientReplyFuture {
    fn drop(&mut self) {
        if let Step::Waiting(seq) = self.step {
            self.inner.mux.abandon(seq);
        }
    }
}

#[cold]
fn polled_after_completion() -> Error {
    Error::Usage("a command future was polled after it completed".into())
}

/// Runs `request` on a dedicated connection, retrying under the config's policy.
async fn dedicated(inner: Arc<Inner>, request: Request, safe_to_repeat: bool) -> Result<Value> {
    let config = &inner.config;
    let retry = config.retry();
    let mut attempt = 0;
    loop {
        let failure = match inner.pool.get().await {
            Ok(mut conn) => match conn.run_request(&request).await {
                Ok(value) => return Ok(value),
                Err(failure) => failure,
            },
            Err(error) => Failure::unsent(error),
        };
        let again = retry.should_retry(
            &failure.error,
            failure.sent,
            safe_to_repeat,
            config.retry_on_timeout(),
            attempt,
        );
        if !again {
            return Err(failure.error.with_command(&request.info.name));
        }
        tokio::time::sleep(retry.backoff().delay(attempt)).await;
        attempt += 1;
    }
}

/// A typed command's output on an [`AsyncClient`](super::AsyncClient): what
/// [`Executor::run`](crate::Executor::run) and every generated
/// [`Commands`](crate::Commands) method return there.
#[must_use = "a command future does nothing unless awaited"]
pub struct ClientFuture<T> {
    reply: ClientReplyFuture,
    decoder: Decoder<T>,
    protocol: Protocol,
}

impl<T> fmt::Debug for ClientFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientFuture")
            .field("reply", &self.reply)
            .finish()
    }
}

impl<T> ClientFuture<T> {
    pub(crate) fn new(reply: ClientReplyFuture, decoder: Decoder<T>, protocol: Protocol) -> Self {
        ClientFuture {
            reply,
            decoder,
            protocol,
        }
    }
}

impl<T: FromValue> Future for ClientFuture<T> {
    type Output = Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        let this = self.get_mut();
        let value = ready!(Pin::new(&mut this.reply).poll(cx))?;
        Poll::Ready(this.decoder.decode(value, this.protocol))
    }
}
