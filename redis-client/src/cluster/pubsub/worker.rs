//! [`ClusterPubSub::run_in_thread`](super::ClusterPubSub::run_in_thread): a thread that reads
//! every connection of a cluster pub/sub and passes each message to its handler.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use super::subscriber::ClusterPubSub;
use crate::error::{Error, Result};

/// Receives the errors of a cluster pub/sub worker; it may stop the worker through the flag.
pub type ClusterExceptionHandler = Box<dyn FnMut(Error, &AtomicBool) + Send>;

/// The handle of a [`ClusterPubSub::run_in_thread`] worker; dropping it stops the worker and
/// waits for it.
pub struct ClusterPubSubWorker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Result<()>>>,
}

impl fmt::Debug for ClusterPubSubWorker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterPubSubWorker")
            .field("running", &self.is_running())
            .finish()
    }
}

impl ClusterPubSub {
    /// Starts a thread that reads every message and passes it to its handler (see
    /// [`PubSub::run_in_thread`](crate::pubsub::PubSub::run_in_thread)); refused while some subscription has no handler.
    pub fn run_in_thread(
        &self,
        sleep_time: Duration,
        exception_handler: Option<ClusterExceptionHandler>,
    ) -> Result<ClusterPubSubWorker> {
        self.ensure_handlers("run_in_thread")?;
        spawn(self.clone_handle(), sleep_time, exception_handler)
    }
}

/// The least a worker waits after a failure, so it never spins.
const MIN_BACKOFF: Duration = Duration::from_millis(25);

pub(super) fn spawn(
    pubsub: ClusterPubSub,
    sleep_time: Duration,
    mut exception_handler: Option<ClusterExceptionHandler>,
) -> Result<ClusterPubSubWorker> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let sleep_time = sleep_time.max(Duration::from_millis(1));
    let thread = thread::Builder::new()
        .name("redis-cluster-pubsub-worker".into())
        .spawn(move || {
            let result = (|| {
                while !flag.load(Ordering::SeqCst) {
                    // Messages with handlers were handled inside; any other is a pong.
                    if let Err(error) = pubsub.get_message(sleep_time) {
                        let lost = error.breaks_connection();
                        match &mut exception_handler {
                            Some(handler) => handler(error, &flag),
                            None if lost => {}
                            None => return Err(error),
                        }
                        thread::sleep(MIN_BACKOFF);
                    }
                }
                Ok(())
            })();
            pubsub.close();
            result
        })
        .map_err(|e| Error::PubSub(format!("cannot start the worker thread: {e}")))?;
    Ok(ClusterPubSubWorker {
        stop,
        thread: Some(thread),
    })
}

impl ClusterPubSubWorker {
    /// Asks the worker to stop; it finishes within its `sleep_time`, then closes the pub/sub.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Whether the thread is still running.
    pub fn is_running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Waits for the thread to end (call [`ClusterPubSubWorker::stop`] first); `Err` is the
    /// error that ended it, or a handler's panic.
    pub fn join(mut self) -> Result<()> {
        self.wait()
    }

    fn wait(&mut self) -> Result<()> {
        let Some(thread) = self.thread.take() else {
            return Ok(());
        };
        thread
            .join()
            .unwrap_or_else(|_| Err(Error::PubSub("the pub/sub worker thread panicked".into())))
    }
}

impl Drop for ClusterPubSubWorker {
    fn drop(&mut self) {
        self.stop();
        let _ = self.wait();
    }
}
