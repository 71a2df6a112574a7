//! The shapes of the generated sample table (`samples.rs`) and the function its samples run
//! through; shared by the tests that include the table (`every_command_live`, and the routing
//! test of the harness crate, which reads the samples' wire forms).

use redis_client::command::Command;
use redis_client::{Connection, Error, Executor};

/// One command of the spec and its samples.
pub(crate) struct Entry {
    /// The spec file's stem (`client-kill`).
    pub stem: &'static str,
    /// The command as the server names it (`CLIENT KILL`).
    pub name: &'static str,
    /// The spec's group (`cluster`, `sentinel`, …).
    pub group: &'static str,
    /// The servers that know the command.
    pub servers: &'static [&'static str],
    /// The spec flags it as blocking.
    pub blocking: bool,
    /// Its golden samples.
    pub samples: &'static [Sample],
}

/// One golden sample: the servers that know every argument it writes, its wire form, and how
/// to run it.
pub(crate) struct Sample {
    pub servers: &'static [&'static str],
    pub wire: &'static [&'static str],
    pub run: fn(&mut Connection) -> Outcome,
}

/// What running one sample gave.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// The reply converted into the command's output type.
    Converted,
    /// The server answered with an error: its code and message.
    Server(String, String),
    /// Anything else: a conversion failure, a protocol error, a timeout, a lost connection.
    Failed(String),
}

/// Runs a typed command value and converts its reply into the generated output type.
pub(crate) fn run<C: Command>(conn: &mut Connection, cmd: C) -> Outcome {
    match conn.run(cmd) {
        Ok(_) => Outcome::Converted,
        Err(
            Error::Response(e)
            | Error::ReadOnly(e)
            | Error::BusyLoading(e)
            | Error::Authentication(e),
        ) => Outcome::Server(e.code().to_string(), e.message().to_string()),
        Err(other) => Outcome::Failed(other.to_string()),
    }
}
