//! [`AsyncClient::transaction`]: watch, read, queue, execute — and start over when a watched
//! key changed; the async form of the blocking `Client::transaction`.

use std::future::Future;
use std::pin::Pin;

use super::client::AsyncClient;
use super::connection::AsyncConnection;
use super::pipeline::AsyncPipeline;
use super::pool::PooledAsyncConnection;
use crate::error::{Error, Result};
use crate::pipeline::TransactionOptions;
use crate::resp::ToArgs;

/// One attempt of an [`AsyncClient::transaction`]: a dedicated connection on which the keys are
/// watched (read through [`AsyncTransaction::conn`]), and the pipeline the writes are queued
/// on ([`AsyncTransaction::pipe`]), run as `MULTI` … `EXEC` on that connection.
#[derive(Debug)]
pub struct AsyncTransaction {
    conn: PooledAsyncConnection,
    pipe: AsyncPipeline,
}

impl AsyncTransaction {
    /// The connection the keys are watched on: read what the writes depend on here.
    pub fn conn(&mut self) -> &mut AsyncConnection {
        &mut self.conn
    }

    /// The pipeline the writes go on; it runs as a transaction once the closure returns.
    pub fn pipe(&mut self) -> &mut AsyncPipeline {
        &mut self.pipe
    }
}

/// What the closure of [`AsyncClient::transaction`] returns: a boxed future borrowing the
/// attempt (`|tx| Box::pin(async move { … })`).
pub type TransactionFuture<'t, R> = Pin<Box<dyn Future<Output = Result<R>> + Send + 't>>;

impl AsyncClient {
    /// Runs an optimistic transaction over `keys`, retrying when one of them changes under it.
    ///
    /// Each attempt borrows a dedicated connection, `WATCH`es `keys` and calls `f`, which reads
    /// through [`AsyncTransaction::conn`] and queues the writes on
    /// [`AsyncTransaction::pipe`]; they then run as `MULTI` … `EXEC` on that connection. If a
    /// watched key changed ([`Error::Watch`]) all of it starts over, up to 100 times. Returns
    /// what `f` returned in the attempt that committed; an error from `f` or from a queued
    /// command ends it at once.
    ///
    /// ```no_run
    /// use redis_client::prelude::*;
    /// use redis_client::AsyncClient;
    ///
    /// # async fn demo(client: AsyncClient) -> redis_client::Result<()> {
    /// let doubled: i64 = client
    ///     .transaction(
    ///         |tx| {
    ///             Box::pin(async move {
    ///                 let n: Option<i64> = tx.conn().query(["GET", "n"]).await?;
    ///                 let doubled = n.unwrap_or(1) * 2;
    ///                 tx.pipe().set("n", doubled);
    ///                 Ok(doubled)
    ///             })
    ///         },
    ///         "n",
    ///     )
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn transaction<R, F>(&self, f: F, keys: impl ToArgs) -> Result<R>
    where
        F: for<'t> FnMut(&'t mut AsyncTransaction) -> TransactionFuture<'t, R>,
    {
        self.transaction_with(TransactionOptions::default(), f, keys)
            .await
    }

    /// [`AsyncClient::transaction`] with the retry bound and delay of `options`.
    pub async fn transaction_with<R, F>(
        &self,
        options: TransactionOptions,
        mut f: F,
        keys: impl ToArgs,
    ) -> Result<R>
    where
        F: for<'t> FnMut(&'t mut AsyncTransaction) -> TransactionFuture<'t, R>,
    {
        let mut retries = 0;
        loop {
            let mut conn = self.get_connection().await?;
            conn.execute(("WATCH", &keys)).await?;
            let mut tx = AsyncTransaction {
                conn,
                pipe: self.pipeline(),
            };
            let value = f(&mut tx).await?;
            let AsyncTransaction { mut conn, mut pipe } = tx;
            match pipe.execute_on(&mut conn).await {
                Ok(_) => return Ok(value),
                Err(Error::Watch) if retries < options.max_retries_count() => {
                    retries += 1;
                    let delay = options.retry_delay_time();
                    if !delay.is_zero() {
                        tokio::time::sleep(delay).await;
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }
}
