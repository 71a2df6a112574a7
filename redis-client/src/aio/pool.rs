//! The dedicated connections of an [`AsyncClient`](super::AsyncClient): a small pool for what
//! must not share the multiplexed connection (blocking commands, `WATCH` … `EXEC`,
//! connection-state commands on a borrowed connection).

use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_native_tls::TlsConnector;

use super::connection::AsyncConnection;
use crate::config::Config;
use crate::error::Result;

/// At most `size` connections open at once; idle ones are kept for the next borrower.
pub(crate) struct Pool {
    config: Config,
    tls: Option<TlsConnector>,
    permits: Arc<Semaphore>,
    idle: Mutex<Vec<AsyncConnection>>,
}

impl Pool {
    pub(crate) fn new(config: Config, tls: Option<TlsConnector>, size: usize) -> Pool {
        Pool {
            config,
            tls,
            permits: Arc::new(Semaphore::new(size.max(1))),
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Borrows a connection, waiting while all are in use; an idle one when there is one,
    /// else a new one.
    pub(crate) async fn get(self: &Arc<Self>) -> Result<PooledAsyncConnection> {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .expect("the pool's semaphore is never closed");
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let conn = match idle {
            Some(conn) => conn,
            None => AsyncConnection::open_with(&self.config, self.tls.as_ref()).await?,
        };
        Ok(PooledAsyncConnection {
            conn: Some(conn),
            pool: Arc::clone(self),
            _permit: permit,
        })
    }
}

/// A connection borrowed from an [`AsyncClient`](super::AsyncClient): use it as an
/// [`AsyncConnection`] (it is a [`Dedicated`](crate::Dedicated) executor through
/// `&mut *conn`); it goes back to the client when dropped, unless it broke or its state on
/// the server changed (a transaction, a `WATCH`, a subscription, another database …).
pub struct PooledAsyncConnection {
    conn: Option<AsyncConnection>,
    pool: Arc<Pool>,
    _permit: OwnedSemaphorePermit,
}

impl std::fmt::Debug for PooledAsyncConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("PooledAsyncConnection")
            .field(&self.conn)
            .finish()
    }
}

impl Deref for PooledAsyncConnection {
    type Target = AsyncConnection;

    fn deref(&self) -> &AsyncConnection {
        self.conn.as_ref().expect("present until dropped")
    }
}

impl DerefMut for PooledAsyncConnection {
    fn deref_mut(&mut self) -> &mut AsyncConnection {
        self.conn.as_mut().expect("present until dropped")
    }
}

impl Drop for PooledAsyncConnection {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        if conn.is_reusable() && conn.db() == self.pool.config.db() {
            self.pool
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(conn);
        }
    }
}
