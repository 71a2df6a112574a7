//! The commands a new connection sends before it is handed out, as data: the frames to queue
//! (pipelined in one round trip) and the check of their replies, in order, where the first real
//! failure wins.

use crate::config::{Config, Protocol};
use crate::error::{Error, Result};
use crate::resp::Value;

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

impl Step {
    /// Whether a reply that is no error is the one this step gets: the server's description for
    /// `HELLO`, `OK` for every other step. Anything else answers another command: the stream is
    /// out of step (a stale reply ahead of the handshake's).
    fn fits(&self, reply: &Value) -> bool {
        match self.name {
            "HELLO" => matches!(reply, Value::Map(_) | Value::Array(_)),
            _ => matches!(reply, Value::Simple(ok) if ok == "OK"),
        }
    }
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
    if config.cluster_readonly() {
        // Lets a cluster replica serve reads of its primary's slots instead of redirecting.
        steps.push(Step {
            name: "READONLY",
            args: vec!["READONLY".into()],
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

/// The handshake of one connection: which commands it sends and how their replies are judged.
pub(crate) struct Handshake {
    steps: Vec<Step>,
}

impl Handshake {
    /// The steps `config` asks for: `HELLO 3` (with `AUTH` and `SETNAME`) or, for RESP2, `AUTH`
    /// and `CLIENT SETNAME`; then `SELECT` and `CLIENT SETINFO`.
    pub(crate) fn new(config: &Config) -> Handshake {
        Handshake {
            steps: steps(config),
        }
    }

    /// How many replies the handshake waits for.
    pub(crate) fn len(&self) -> usize {
        self.steps.len()
    }

    /// The steps in order: each command's name and arguments.
    pub(crate) fn steps(&self) -> impl Iterator<Item = (&'static str, &[String])> {
        self.steps
            .iter()
            .map(|step| (step.name, step.args.as_slice()))
    }

    /// Judges the replies, one per step in order: the first real failure wins (an error reply,
    /// or a reply that answers no such step), and a server without `HELLO` gets told to use
    /// RESP2.
    pub(crate) fn check(&self, replies: impl IntoIterator<Item = Value>) -> Result<()> {
        let mut first_error = None;
        let mut answered = 0;
        for (step, reply) in self.steps.iter().zip(replies) {
            answered += 1;
            let Value::Error(payload) = reply else {
                if !step.fits(&reply) {
                    first_error.get_or_insert(Error::Protocol(format!(
                        "the handshake's {} answered {}, which is no answer to it: the reply \
                         stream is out of step",
                        step.name,
                        reply.kind_name()
                    )));
                }
                continue;
            };
            let error = Error::from_server_reply(&payload, Some(step.name));
            if step.on_error == OnError::IgnoreMissingOrDenied && is_missing_or_denied(&error) {
                continue;
            }
            first_error.get_or_insert(error);
        }
        if let Some(error) = first_error {
            return Err(hint(error));
        }
        if answered != self.steps.len() {
            return Err(Error::Protocol(format!(
                "the handshake got {answered} replies for {} commands",
                self.steps.len()
            )));
        }
        Ok(())
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
