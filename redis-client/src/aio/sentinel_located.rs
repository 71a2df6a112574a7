//! [`Located`]: the server an [`AsyncSentinelClient`](super::AsyncSentinelClient) follows,
//! shared by its clones, its pub/sub sessions and its failover followers. Apart from the client
//! so those can hold it without depending on the client.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use super::client::AsyncClient;
use super::sentinel::AsyncSentinel;
use crate::config::ConnectionAddr;
use crate::error::{Error, Result};
use crate::resp::{Cmd, Value};

/// Which server a client follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Role {
    /// The master of the name.
    Master,
    /// Its replicas, in turn.
    Replica,
}

/// The client currently in use and where it goes.
struct Current {
    addr: String,
    client: AsyncClient,
}

/// What clones of one [`AsyncSentinelClient`] share (and its failover followers hold weakly).
pub(super) struct Located {
    pub(super) sentinel: AsyncSentinel,
    pub(super) name: String,
    pub(super) role: Role,
    current: Mutex<Option<Current>>,
    /// Held while asking the sentinels, so that the tasks needing a server at once (all of
    /// them, after a failover) ask once instead of each opening connections to the sentinels.
    locating: tokio::sync::Mutex<()>,
    /// Round-robin position over the replicas.
    next: AtomicUsize,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The slot holds a whole value at every step.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Located {
    /// Following the `role` server of `name`, found when first needed.
    pub(super) fn new(sentinel: &AsyncSentinel, name: &str, role: Role) -> Located {
        Located {
            sentinel: sentinel.clone(),
            name: name.to_owned(),
            role,
            current: Mutex::new(None),
            locating: tokio::sync::Mutex::new(()),
            next: AtomicUsize::new(0),
        }
    }

    /// The client for the server in use, if it is still current; else a new one for the
    /// server the sentinels name now.
    pub(super) async fn client(&self) -> Result<AsyncClient> {
        if let Some(client) = self.current_client() {
            return Ok(client);
        }
        let _locating = self.locating.lock().await;
        // Another task may have found it meanwhile.
        if let Some(client) = self.current_client() {
            return Ok(client);
        }
        let addr = match self.role {
            Role::Master => self.sentinel.discover_master(&self.name).await?,
            Role::Replica => self.replica().await?,
        };
        let config = self
            .sentinel
            .options()
            .data()
            .to_builder()
            .addr(addr.clone())
            .build()?;
        let client = AsyncClient::new(config)?;
        *lock(&self.current) = Some(Current {
            addr: addr.to_string(),
            client: client.clone(),
        });
        Ok(client)
    }

    /// The client in use, if its server is still current.
    fn current_client(&self) -> Option<AsyncClient> {
        let inner = &self.sentinel.sentinel.inner;
        let current = lock(&self.current);
        let current = current.as_ref()?;
        let usable = self.role == Role::Replica || inner.is_current(&self.name, &current.addr);
        usable.then(|| current.client.clone())
    }

    /// The next usable replica in turn, or the master when the sentinels list none.
    async fn replica(&self) -> Result<ConnectionAddr> {
        let mut problems = Vec::new();
        match self.sentinel.discover_slaves(&self.name).await {
            Ok(replicas) if !replicas.is_empty() => {
                let at = self.next.fetch_add(1, Ordering::Relaxed) % replicas.len();
                return Ok(replicas[at].clone());
            }
            Ok(_) => problems.push("the sentinels list no usable replica".to_owned()),
            Err(e) => problems.push(e.to_string()),
        }
        // As the blocking client does: with no replica, reads go to the master.
        match self.sentinel.discover_master(&self.name).await {
            Ok(addr) => Ok(addr),
            Err(e) => {
                problems.push(e.to_string());
                Err(Error::SlaveNotFound(format!(
                    "{:?}: {}",
                    self.name,
                    problems.join("; ")
                )))
            }
        }
    }

    /// The address of the server in use, if any.
    pub(super) fn current_addr(&self) -> Option<String> {
        lock(&self.current).as_ref().map(|c| c.addr.clone())
    }

    /// Forgets the client in use if it goes to `addr` (any, when `None`): the next command
    /// finds the server afresh.
    pub(super) fn forget(&self, addr: Option<&str>) {
        let mut current = lock(&self.current);
        if addr.is_none()
            || current
                .as_ref()
                .is_some_and(|c| Some(c.addr.as_str()) == addr)
        {
            *current = None;
        }
    }

    /// Whether `error` means the server moved, for this client's role.
    fn server_moved(&self, error: &Error) -> bool {
        match self.role {
            Role::Master => matches!(error, Error::ReadOnly(_)) || error.is_connection_error(),
            Role::Replica => error.is_connection_error(),
        }
    }

    /// Runs `raw` on the server in use, finding it again (and resending under the retry
    /// policy) when it moved.
    pub(super) async fn run(&self, raw: Cmd, read_only: bool) -> Result<Value> {
        let retry = self.sentinel.options().data().retry();
        let mut attempt = 0;
        loop {
            let result = match self.client().await {
                Ok(client) => {
                    let used = lock(&self.current).as_ref().map(|c| c.addr.clone());
                    let result = client.execute(&raw).await;
                    if let Err(e) = &result {
                        if self.server_moved(e) {
                            self.forget(used.as_deref());
                        }
                    }
                    result
                }
                Err(e) => Err(e),
            };
            let error = match result {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            // A refused write did not run; a read may run twice; finding no server sent
            // nothing at all.
            let again = matches!(error, Error::ReadOnly(_))
                || matches!(error, Error::MasterNotFound(_) | Error::SlaveNotFound(_))
                || (read_only && error.is_connection_error());
            if !again || attempt >= retry.retries() {
                return Err(error);
            }
            tokio::time::sleep(retry.backoff().delay(attempt)).await;
            attempt += 1;
        }
    }
}
