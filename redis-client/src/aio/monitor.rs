//! [`AsyncMonitor`]: `MONITOR` on a tokio connection, event by event.

use std::fmt;
use std::time::{Duration, Instant};

use super::connection::AsyncConnection;
use crate::error::Result;
use crate::executor::Executor;
use crate::generated::cmd;
use crate::monitor::{event_from_frame, MonitorEvent};

/// A connection in `MONITOR` mode, driven by tokio: every command the server runs, as parsed
/// [`MonitorEvent`]s (the same lines and parsing as the blocking [`crate::Monitor`]).
///
/// ```no_run
/// use redis_client::aio::{AsyncConnection, AsyncMonitor};
/// use redis_client::Config;
///
/// # async fn demo() -> redis_client::Result<()> {
/// let conn = AsyncConnection::open(&Config::from_url("redis://127.0.0.1/")?).await?;
/// let mut monitor = AsyncMonitor::start(conn).await?;
/// while let Some(event) = monitor.next_event().await? {
///     println!("db {} {:?}: {} {:?}", event.db, event.client, event.command, event.args);
/// }
/// # Ok(())
/// # }
/// ```
///
/// Dropping it closes the connection, which ends the monitoring. A read future dropped midway
/// keeps what arrived for the next read.
pub struct AsyncMonitor {
    conn: AsyncConnection,
    /// A read failed; the connection is gone, so the stream is over.
    failed: bool,
}

impl fmt::Debug for AsyncMonitor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncMonitor")
            .field("addr", &self.conn.addr())
            .field("failed", &self.failed)
            .finish()
    }
}

impl super::client::AsyncClient {
    /// Starts monitoring on a new connection opened from this client's config.
    pub async fn monitor(&self) -> Result<AsyncMonitor> {
        AsyncMonitor::start(AsyncConnection::open(self.config()).await?).await
    }
}

impl AsyncMonitor {
    /// Sends `MONITOR` on `conn` and waits for the server's `OK`.
    pub async fn start(mut conn: AsyncConnection) -> Result<AsyncMonitor> {
        // Typed, so the connection knows the command changes its state: monitor lines may
        // follow the `OK` at once.
        (&mut conn).run(cmd::Monitor::new()).await?;
        Ok(AsyncMonitor {
            conn,
            failed: false,
        })
    }

    /// The next command the server ran, waiting as long as it takes; `None` once a read
    /// failed (the error was returned by the read before).
    pub async fn next_event(&mut self) -> Result<Option<MonitorEvent>> {
        if self.failed {
            return Ok(None);
        }
        self.read(None).await
    }

    /// Waits up to `timeout` for the next command; `Ok(None)` when none came in time.
    pub async fn next_event_timeout(&mut self, timeout: Duration) -> Result<Option<MonitorEvent>> {
        if self.failed {
            return Ok(None);
        }
        self.read(Instant::now().checked_add(timeout)).await
    }

    async fn read(&mut self, until: Option<Instant>) -> Result<Option<MonitorEvent>> {
        loop {
            let frame = self
                .conn
                .next_frame_until(until)
                .await
                .inspect_err(|_| self.failed = true)?;
            let Some(frame) = frame else {
                return Ok(None);
            };
            if let Some(event) = event_from_frame(frame)? {
                return Ok(Some(event));
            }
        }
    }
}
