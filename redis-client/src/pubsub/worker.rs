//! `run_in_thread`: a background thread that feeds every message to its handler.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::client::PubSub;
use super::registry::Family;
use super::shared::{Next, Reconnect};
use crate::error::{Error, Result};

impl PubSub {
    /// Starts a thread that reads every message and passes it to its handler, checking the
    /// connection's health on the way (redis-py's `run_in_thread`).
    ///
    /// Refused while some subscription has no handler: its messages would have nowhere to go.
    /// `sleep_time` is how long each wait for a message lasts, hence how soon a
    /// [`PubSubWorker::stop`] is noticed (at least 1 ms). Confirmations are skipped. A lost
    /// connection is reopened and resubscribed until the worker is stopped, with the client's
    /// backoff between attempts; each failure goes to `exception_handler` if there is one.
    /// Without one, failures other than lost connections end the worker (see
    /// [`PubSubWorker::join`]). When the worker ends it closes this pub/sub.
    pub fn run_in_thread(
        &self,
        sleep_time: Duration,
        exception_handler: Option<ExceptionHandler>,
    ) -> Result<PubSubWorker> {
        {
            let s = self.shared.lock();
            for family in Family::ALL {
                if let Some(name) = s.state.registry(family).without_handler() {
                    return Err(Error::PubSub(format!(
                        "run_in_thread: {} {:?} has no handler registered",
                        family.noun(),
                        String::from_utf8_lossy(name)
                    )));
                }
            }
        }
        spawn(self.clone_handle(), sleep_time, exception_handler)
    }
}

/// Receives the errors of a [`PubSub::run_in_thread`] worker (redis-py's
/// `exception_handler(error, pubsub, thread)`); the loop goes on after it returns unless it
/// calls [`WorkerControl::stop`].
pub type ExceptionHandler = Box<dyn FnMut(Error, &WorkerControl) + Send>;

/// What an [`ExceptionHandler`] can reach: the pub/sub and the worker's stop switch.
pub struct WorkerControl {
    pubsub: PubSub,
    stop: Arc<AtomicBool>,
}

impl WorkerControl {
    /// The pub/sub the worker reads from.
    pub fn pubsub(&self) -> &PubSub {
        &self.pubsub
    }

    /// Asks the worker to stop after the current step.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

impl fmt::Debug for WorkerControl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkerControl")
            .field("stopping", &self.stop.load(Ordering::SeqCst))
            .finish_non_exhaustive()
    }
}

/// The handle of a [`PubSub::run_in_thread`] worker (redis-py's `PubSubWorkerThread`).
///
/// Dropping it stops the worker and waits for it, so the thread never outlives its handle.
pub struct PubSubWorker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Result<()>>>,
}

impl fmt::Debug for PubSubWorker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PubSubWorker")
            .field("running", &self.is_running())
            .finish()
    }
}

impl PubSubWorker {
    /// Asks the worker to stop; it finishes within `sleep_time` (or the connect attempt under
    /// way) and then closes the pub/sub.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Whether the thread is still running.
    pub fn is_running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Waits for the thread to end (call [`PubSubWorker::stop`] first, or it runs on).
    ///
    /// `Err` is the error that ended it: without an exception handler, any error other than a
    /// lost connection (a server error reply, a payload that is not UTF-8 under
    /// `decode_responses`) ends the worker; or a panic in a handler.
    pub fn join(mut self) -> Result<()> {
        self.wait()
    }

    fn wait(&mut self) -> Result<()> {
        let Some(thread) = self.thread.take() else {
            return Ok(());
        };
        thread.join().unwrap_or_else(|panic| {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".to_owned());
            Err(Error::PubSub(format!(
                "the pub/sub worker thread panicked: {what}"
            )))
        })
    }
}

impl Drop for PubSubWorker {
    fn drop(&mut self) {
        self.stop();
        let _ = self.wait();
    }
}

/// Closes the pub/sub when the worker ends, however it ends (redis-py closes it too).
struct CloseOnExit(PubSub);

impl Drop for CloseOnExit {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// The least a worker waits after a failure, so a policy without backoff does not spin.
const MIN_BACKOFF: Duration = Duration::from_millis(25);
/// The shortest wait for a message, so a zero `sleep_time` does not spin either.
const MIN_SLEEP: Duration = Duration::from_millis(1);

pub(super) fn spawn(
    pubsub: PubSub,
    sleep_time: Duration,
    exception_handler: Option<ExceptionHandler>,
) -> Result<PubSubWorker> {
    let stop = Arc::new(AtomicBool::new(false));
    let control = WorkerControl {
        pubsub,
        stop: Arc::clone(&stop),
    };
    let thread = thread::Builder::new()
        .name("redis-pubsub-worker".into())
        .spawn(move || run(control, sleep_time, exception_handler))
        .map_err(|e| Error::PubSub(format!("cannot start the worker thread: {e}")))?;
    Ok(PubSubWorker {
        stop,
        thread: Some(thread),
    })
}

fn run(
    control: WorkerControl,
    sleep_time: Duration,
    mut exception_handler: Option<ExceptionHandler>,
) -> Result<()> {
    let _close = CloseOnExit(control.pubsub.clone_handle());
    let shared = &control.pubsub.shared;
    let backoff = shared.config.retry().backoff();
    let sleep_time = sleep_time.max(MIN_SLEEP);
    let mut failures = 0;
    while !control.stop.load(Ordering::SeqCst) {
        let deadline = Instant::now() + sleep_time;
        match shared.next(Some(deadline), true, Reconnect::Once) {
            // A message without a handler: only a pong to a user's PING can be one, since
            // every subscription has a handler; redis-py drops it here too.
            Ok(Next::Message(_) | Next::Handled | Next::TimedOut | Next::NotSubscribed) => {
                failures = 0;
            }
            Err(error) => {
                let lost_connection = error.breaks_connection();
                match &mut exception_handler {
                    Some(handler) => handler(error, &control),
                    None if lost_connection => {}
                    None => return Err(error),
                }
                // Back off before trying again, in slices so a stop is noticed; never spin,
                // whatever the policy says.
                let delay = backoff.delay(failures).max(MIN_BACKOFF);
                let until = Instant::now() + delay;
                failures = failures.saturating_add(1);
                while !control.stop.load(Ordering::SeqCst) {
                    let left = until.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    thread::sleep(left.min(Duration::from_millis(20)));
                }
            }
        }
    }
    Ok(())
}
