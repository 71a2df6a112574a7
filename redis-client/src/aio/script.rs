//! Lua scripts on the tokio front end: [`Invocation::call_async`] sends `EVALSHA`, and on
//! `NOSCRIPT` loads the script and sends it again, as the blocking [`Invocation::call`] does
//! (the commands and the checks are the same functions).

use std::future::Future;

use super::client::AsyncClient;
use super::connection::AsyncConnection;
use super::sentinel_client::AsyncSentinelClient;
use crate::error::Result;
use crate::resp::{FromValue, ToArgs, Value};
use crate::script::{needs_load, Invocation, Script};

/// Where raw commands run on the tokio front end for scripts, scans and locks: an
/// [`AsyncConnection`] and the async client.
pub trait AsyncRunner: Send {
    /// Sends one raw command and returns its reply; error replies become `Err`.
    #[doc(hidden)]
    fn execute_raw<'a, A: ToArgs + ?Sized + Sync>(
        &'a mut self,
        args: &'a A,
    ) -> impl Future<Output = Result<Value>> + Send + 'a;
}

impl AsyncRunner for &mut AsyncConnection {
    fn execute_raw<'a, A: ToArgs + ?Sized + Sync>(
        &'a mut self,
        args: &'a A,
    ) -> impl Future<Output = Result<Value>> + Send + 'a {
        (**self).execute(args)
    }
}

impl Script {
    /// Calls the script without keys or arguments; see [`Invocation::call_async`].
    pub async fn call_async<T: FromValue>(&self, runner: impl AsyncRunner) -> Result<T> {
        self.invocation().call_async(runner).await
    }

    /// Loads the script into the script cache of `runner`'s server (`SCRIPT LOAD`).
    pub async fn load_async(&self, mut runner: impl AsyncRunner) -> Result<()> {
        load(self, &mut runner).await
    }
}

async fn load(script: &Script, runner: &mut impl AsyncRunner) -> Result<()> {
    let args = script.load_args();
    let reply = runner.execute_raw(&args).await?;
    script.check_loaded(reply)
}

impl Invocation<'_> {
    /// Runs the script on `runner` (a `&mut AsyncConnection`, a `&AsyncClient` …) and
    /// converts what it returns into `T`.
    ///
    /// Sends `EVALSHA`; on `NOSCRIPT`, loads the script and sends it again.
    pub async fn call_async<T: FromValue>(&self, mut runner: impl AsyncRunner) -> Result<T> {
        let evalsha = self.evalsha_args();
        let value = match runner.execute_raw(&evalsha).await {
            Err(e) if needs_load(&e) => {
                let (script, _, _) = self.parts();
                load(script, &mut runner).await?;
                runner.execute_raw(&evalsha).await
            }
            other => other,
        }?;
        Invocation::convert(value)
    }
}

impl AsyncRunner for &AsyncClient {
    fn execute_raw<'a, A: ToArgs + ?Sized + Sync>(
        &'a mut self,
        args: &'a A,
    ) -> impl Future<Output = Result<Value>> + Send + 'a {
        (**self).execute(args)
    }
}

impl AsyncRunner for &AsyncSentinelClient {
    fn execute_raw<'a, A: ToArgs + ?Sized + Sync>(
        &'a mut self,
        args: &'a A,
    ) -> impl Future<Output = Result<Value>> + Send + 'a {
        (**self).execute(args)
    }
}
