//! Polling a condition against a deadline, keeping the last observation for the timeout message.

use std::thread;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// Calls `check` every 50 ms until it returns `Ok`, or fails with [`Error::Timeout`] after `timeout`.
///
/// `check` returns `Err(observation)` while the condition does not hold yet; the last observation is
/// put into the timeout error, so a failure says how far things got.
pub fn wait_until<T>(
    what: &str,
    timeout: Duration,
    mut check: impl FnMut() -> std::result::Result<T, String>,
) -> Result<T> {
    let started = Instant::now();
    loop {
        let last = match check() {
            Ok(value) => return Ok(value),
            Err(observation) => observation,
        };
        if started.elapsed() >= timeout {
            return Err(Error::Timeout {
                what: what.to_string(),
                waited_ms: started.elapsed().as_millis(),
                last,
            });
        }
        thread::sleep(POLL_INTERVAL);
    }
}
