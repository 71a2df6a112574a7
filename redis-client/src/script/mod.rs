//! Lua scripts (documented on [`Script`]).

mod sha1;

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;

use crate::client::{Client, ClientConnection};
use crate::connection::Connection;
use crate::error::{Error, Result};
use crate::pool::PooledConnection;
use crate::resp::{Cmd, FromValue, ToArgs, Value};

/// A Lua script and its SHA-1 digest; cheap to clone.
///
/// Lua scripts, shaped after redis-py's `Script`.
///
/// A [`Script`] is the script's source and its SHA-1 digest, computed locally. It is tied to no
/// client or server: call it on any client, connection or pipeline, even of another server.
/// A call sends `EVALSHA`; when the server answers `NOSCRIPT` (first use, a restart, a
/// `SCRIPT FLUSH`) the script is loaded with `SCRIPT LOAD` and the call sent again. On a
/// pipeline the call is queued, and the pipeline loads its scripts before it is sent.
///
/// ```no_run
/// use redis_client::Client;
///
/// let client = Client::open("redis://127.0.0.1/")?;
/// let incr_by = client.register_script("return redis.call('INCRBY', KEYS[1], ARGV[1])");
/// let n: i64 = incr_by.key("counter").arg(5).call(&client)?;
///
/// let mut pipe = client.pipeline();
/// incr_by.key("counter").arg(1).queue(&mut pipe);
/// incr_by.key("other").arg(2).queue(&mut pipe);
/// let (a, b): (i64, i64) = pipe.execute_typed()?;
/// # Ok::<(), redis_client::Error>(())
/// ```
///
/// Redis functions (`FUNCTION LOAD`, `FCALL` …) are ordinary commands of the generated
/// surface.
#[derive(Clone)]
pub struct Script {
    inner: Arc<Inner>,
}

struct Inner {
    source: Bytes,
    sha: String,
}

impl Script {
    /// A script from its Lua source; the digest is computed now, nothing is sent.
    pub fn new(source: impl AsRef<[u8]>) -> Script {
        let source = Bytes::copy_from_slice(source.as_ref());
        let sha = sha1::hex_digest(&source);
        Script {
            inner: Arc::new(Inner { source, sha }),
        }
    }

    /// The SHA-1 digest in lower-case hex, as `SCRIPT LOAD` returns it and `EVALSHA` takes it.
    pub fn sha(&self) -> &str {
        &self.inner.sha
    }

    /// The Lua source.
    pub fn source(&self) -> &[u8] {
        &self.inner.source
    }

    /// A call with `key` (a list adds several) in `KEYS`.
    pub fn key(&self, key: impl ToArgs) -> Invocation<'_> {
        Invocation::new(self).key(key)
    }

    /// A call with `arg` (a list adds several) in `ARGV`.
    pub fn arg(&self, arg: impl ToArgs) -> Invocation<'_> {
        Invocation::new(self).arg(arg)
    }

    /// Calls the script without keys or arguments; see [`Invocation::call`].
    pub fn call<T: FromValue>(&self, runner: impl ScriptRunner) -> Result<T> {
        Invocation::new(self).call(runner)
    }

    /// A call without keys or arguments yet.
    pub(crate) fn invocation(&self) -> Invocation<'_> {
        Invocation::new(self)
    }

    /// Loads the script into the script cache of `runner`'s server (`SCRIPT LOAD`).
    pub fn load(&self, mut runner: impl ScriptRunner) -> Result<()> {
        self.load_with(&mut runner)
    }

    pub(crate) fn load_on(&self, conn: &mut Connection) -> Result<()> {
        self.load_with(&mut &mut *conn)
    }

    fn load_with(&self, runner: &mut impl ScriptRunner) -> Result<()> {
        let reply = runner.execute_raw(&self.load_args())?;
        self.check_loaded(reply)
    }

    /// The `SCRIPT LOAD` command for this script.
    pub(crate) fn load_args(&self) -> (&'static str, &'static str, &[u8]) {
        ("SCRIPT", "LOAD", self.source())
    }

    /// Checks the reply to [`Script::load_args`]: the server must name the script by the
    /// digest computed here.
    pub(crate) fn check_loaded(&self, reply: Value) -> Result<()> {
        let sha = String::from_value(reply).map_err(|e| e.with_command("SCRIPT LOAD"))?;
        // The server digests the same bytes, so a difference means our SHA-1 is wrong and
        // EVALSHA would never find the script.
        if !sha.eq_ignore_ascii_case(self.sha()) {
            return Err(Error::Data(format!(
                "SCRIPT LOAD: the server named the script {sha}, the client computed {}",
                self.sha()
            )));
        }
        Ok(())
    }
}

impl fmt::Debug for Script {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Script")
            .field("sha", &self.sha())
            .field("source", &String::from_utf8_lossy(self.source()))
            .finish()
    }
}

impl Client {
    /// A [`Script`] for `source` (redis-py's name). Nothing is sent: the script is loaded on
    /// first use, and may be called on other clients too.
    pub fn register_script(&self, source: impl AsRef<[u8]>) -> Script {
        Script::new(source)
    }
}

/// One call of a [`Script`]: its keys and arguments, then [`Invocation::call`] or
/// [`Invocation::queue`].
#[derive(Debug)]
pub struct Invocation<'s> {
    script: &'s Script,
    keys: Cmd,
    args: Cmd,
}

impl<'s> Invocation<'s> {
    fn new(script: &'s Script) -> Invocation<'s> {
        Invocation {
            script,
            keys: Cmd::default(),
            args: Cmd::default(),
        }
    }

    /// Adds `key` (a list adds several) to `KEYS`.
    pub fn key(mut self, key: impl ToArgs) -> Self {
        self.keys.push(&key);
        self
    }

    /// Adds `arg` (a list adds several) to `ARGV`.
    pub fn arg(mut self, arg: impl ToArgs) -> Self {
        self.args.push(&arg);
        self
    }

    /// Runs the script on `runner` (a `&Client`, a `&mut Connection`, a pipeline's
    /// [`Immediate`](crate::Immediate) handle …) and converts what it returns into `T`.
    ///
    /// Sends `EVALSHA`; on `NOSCRIPT`, loads the script and sends it again.
    pub fn call<T: FromValue>(&self, mut runner: impl ScriptRunner) -> Result<T> {
        let value = self.eval(&mut runner)?;
        Invocation::convert(value)
    }

    /// The script, its keys and its arguments (pipelines queue them).
    pub(crate) fn parts(&self) -> (&Script, &Cmd, &Cmd) {
        (self.script, &self.keys, &self.args)
    }

    /// The `EVALSHA` command of this call.
    pub(crate) fn evalsha_args(&self) -> (&'static str, &str, usize, &Cmd, &Cmd) {
        (
            "EVALSHA",
            self.script.sha(),
            self.keys.len(),
            &self.keys,
            &self.args,
        )
    }

    /// Converts the script's result into `T`, naming `EVALSHA` in a conversion error.
    pub(crate) fn convert<T: FromValue>(value: Value) -> Result<T> {
        T::from_value(value).map_err(|e| e.with_command("EVALSHA"))
    }

    fn eval(&self, runner: &mut impl ScriptRunner) -> Result<Value> {
        let evalsha = self.evalsha_args();
        match runner.execute_raw(&evalsha) {
            Err(e) if needs_load(&e) => {
                self.script.load_with(runner)?;
                runner.execute_raw(&evalsha)
            }
            other => other,
        }
    }
}

/// Whether `EVALSHA` failed because the server does not have the script cached (first use, a
/// restart, a `SCRIPT FLUSH`): then it is loaded and the call sent once more.
pub(crate) fn needs_load(error: &Error) -> bool {
    error.code() == Some("NOSCRIPT")
}

/// Where a script can run and its result be read at once: a client, a connection, the
/// immediate handle of a watching pipeline. (Pipelines queue calls with
/// [`Invocation::queue`] instead.)
pub trait ScriptRunner {
    /// Sends one raw command and returns its reply; error replies become `Err`.
    #[doc(hidden)]
    fn execute_raw<A: ToArgs + ?Sized>(&mut self, args: &A) -> Result<Value>;
}

macro_rules! runner {
    ($($ty:ty),+) => {$(
        impl ScriptRunner for $ty {
            fn execute_raw<A: ToArgs + ?Sized>(&mut self, args: &A) -> Result<Value> {
                self.execute(args)
            }
        }
    )+};
}

runner!(
    &Client,
    &mut Connection,
    &mut ClientConnection<'_>,
    &mut PooledConnection
);
