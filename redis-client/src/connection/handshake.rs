//! The commands a new connection sends before it is handed out, pipelined in one round trip.

use std::time::Duration;

use crate::config::{Config, Protocol};
use crate::error::{Error, Result};
use crate::resp::Value;

use super::Connection;

/// How a handshake step's error reply is treated.
#[derive(Clone, Copy, PartialEq, Eq)]
enum OnError {
    Fail,
    /// `CLIENT SETINFO` only labels the connection: servers before Redis 7.2 lack it, and a
    /// restricted ACL user may not run it; neither must keep the client from connecting.
    IgnoreMissingOrDenied,
}

struct Step {
    name: &'static str,
    args: Vec<String>,
    on_error: OnError,
}

fn steps(config: &Config) -> Vec<Step> {
    let mut steps = Vec::new();
    let password = config.password().map(|p| p.expose().to_owned());
    let user = config.username().unwrap_or("default").to_owned();
    match config.protocol() {
        Protocol::Resp3 => {
            let mut args = vec!["HELLO".to_owned(), "3".to_owned()];
            if let Some(password) = password {
                args.extend(["AUTH".to_owned(), user, password]);
            }
            if let Some(name) = config.client_name() {
                args.extend(["SETNAME".to_owned(), name.to_owned()]);
            }
            steps.push(Step {
                name: "HELLO",
                args,
                on_error: OnError::Fail,
            });
        }
        Protocol::Resp2 => {
            if let Some(password) = password {
                let args = match config.username() {
                    Some(_) => vec!["AUTH".to_owned(), user, password],
                    None => vec!["AUTH".to_owned(), password],
                };
                steps.push(Step {
                    name: "AUTH",
                    args,
                    on_error: OnError::Fail,
                });
            }
            if let Some(name) = config.client_name() {
                steps.push(Step {
                    name: "CLIENT SETNAME",
                    args: vec!["CLIENT".into(), "SETNAME".into(), name.to_owned()],
                    on_error: OnError::Fail,
                });
            }
        }
    }
    if config.db() != 0 {
        steps.push(Step {
            name: "SELECT",
            args: vec!["SELECT".into(), config.db().to_string()],
            on_error: OnError::Fail,
        });
    }
    for (field, value) in [
        ("LIB-NAME", "redis-client"),
        ("LIB-VER", env!("CARGO_PKG_VERSION")),
    ] {
        steps.push(Step {
            name: "CLIENT SETINFO",
            args: vec![
                "CLIENT".into(),
                "SETINFO".into(),
                field.into(),
                value.into(),
            ],
            on_error: OnError::IgnoreMissingOrDenied,
        });
    }
    steps
}

/// Sends every step at once and checks the replies in order; the first real failure wins.
pub(super) fn run(conn: &mut Connection, config: &Config, timeout: Option<Duration>) -> Result<()> {
    let steps = steps(config);
    for step in &steps {
        conn.write_command(&step.args)?;
    }
    conn.flush()?;
    let mut first_error = None;
    for step in &steps {
        let reply = conn
            .read_reply_within(timeout, Some(step.name))
            .map_err(|e| e.with_command(step.name))?;
        let Value::Error(payload) = reply else {
            continue;
        };
        let error = Error::from_server_reply(&payload, Some(step.name));
        if step.on_error == OnError::IgnoreMissingOrDenied && is_missing_or_denied(&error) {
            continue;
        }
        first_error.get_or_insert(error);
    }
    match first_error {
        None => Ok(()),
        Some(error) => Err(hint(error)),
    }
}

fn is_missing_or_denied(error: &Error) -> bool {
    let Some(server) = error.server_error() else {
        return false;
    };
    let message = server.message().to_ascii_lowercase();
    server.code() == "NOPERM"
        || (server.code() == "ERR"
            && (message.starts_with("unknown subcommand")
                || message.starts_with("unknown command")))
}

/// A server without `HELLO` predates RESP3; say how to connect to it.
fn hint(error: Error) -> Error {
    match &error {
        Error::Response(server)
            if server.command() == Some("HELLO")
                && server
                    .message()
                    .to_ascii_lowercase()
                    .starts_with("unknown command") =>
        {
            Error::Response(crate::error::ServerError::parse(
                format!(
                    "{} {} (the server does not speak RESP3; connect with protocol=2)",
                    server.code(),
                    server.message()
                )
                .as_bytes(),
                Some("HELLO"),
            ))
        }
        _ => error,
    }
}
