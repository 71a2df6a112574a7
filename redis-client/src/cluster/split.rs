//! Sending a split command's parts: the parts for one node as one pipeline (one round trip
//! per node), the nodes in parallel, a part that meets a redirection resent on its own.

use crate::connection::request::Typed;
use crate::error::{Error, Result};
use crate::resp::{Cmd, Value};

use super::dispatch::{failed_before, parallel, Engine, Route};
use super::plan::Part;
use super::redirect::Redirect;

impl Engine {
    /// Sends the parts of a split command: the parts for one node as one pipeline (one round
    /// trip), the nodes in parallel; a part that meets a redirection or fails alone is sent
    /// again on its own, following the redirect rules.
    pub(super) fn run_parts(
        &self,
        argv: &[&[u8]],
        parts: &[Part],
        typed: Option<Typed>,
        read_only: bool,
        repeatable: bool,
    ) -> Vec<Result<Value>> {
        let commands: Vec<Cmd> = parts.iter().map(|p| part_command(argv, p)).collect();
        let route = |i: usize| Route::Slot {
            slot: parts[i].slot,
            read_only,
        };
        // Group the parts by the node the map sends them to now.
        let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
        for i in 0..parts.len() {
            let addr = self.pick(&route(i), false).unwrap_or_default();
            match groups.iter_mut().find(|(a, _)| *a == addr) {
                Some((_, members)) => members.push(i),
                None => groups.push((addr, vec![i])),
            }
        }
        let one = |i: usize| self.send(route(i), &commands[i], typed, repeatable);
        let per_group = parallel(groups, |(addr, members)| {
            if members.len() == 1 || addr.is_empty() {
                return members.iter().map(|&i| (i, one(i))).collect::<Vec<_>>();
            }
            let replies = self.nodes.get(&addr).and_then(|client| {
                let mut pipe = client.pipeline();
                pipe.transaction(false);
                for &i in &members {
                    pipe.raw(&commands[i]);
                }
                pipe.execute_results()
            });
            match replies {
                Ok(replies) => members
                    .iter()
                    .zip(replies)
                    .map(|(&i, reply)| match reply {
                        Err(e) if Redirect::of(&e).is_some() => (i, one(i)),
                        other => (i, other),
                    })
                    .collect(),
                // The pipeline as a whole failed; each part decides on its own whether it
                // may be sent again.
                Err(e) if repeatable || failed_before(&e, &commands[members[0]]) => {
                    members.iter().map(|&i| (i, one(i))).collect()
                }
                Err(e) => members.iter().map(|&i| (i, Err(clone_error(&e)))).collect(),
            }
        });
        let mut out: Vec<Option<Result<Value>>> = (0..parts.len()).map(|_| None).collect();
        for (i, reply) in per_group.into_iter().flatten() {
            out[i] = Some(reply);
        }
        out.into_iter()
            .map(|r| r.unwrap_or_else(|| Err(Error::Usage("a split part got no reply".into()))))
            .collect()
    }
}

/// The command line of one part of a split command.
pub(crate) fn part_command(argv: &[&[u8]], part: &Part) -> Cmd {
    let mut cmd = Cmd::default();
    for (position, &index) in part.args.iter().enumerate() {
        match part.count {
            Some((at, count)) if at == position => {
                cmd.push(&(count as u64));
            }
            _ => {
                cmd.push(argv[index]);
            }
        }
    }
    cmd
}

/// The same failure for every part of a pipeline that failed as a whole (errors are not
/// `Clone`: their I/O sources are not).
fn clone_error(error: &Error) -> Error {
    match error {
        Error::Connection {
            addr,
            action,
            command,
            source,
        } => Error::Connection {
            addr: addr.clone(),
            action,
            command: command.clone(),
            source: std::io::Error::new(source.kind(), source.to_string()),
        },
        Error::Timeout {
            addr,
            action,
            command,
            after,
        } => Error::Timeout {
            addr: addr.clone(),
            action,
            command: command.clone(),
            after: *after,
        },
        other => match other.server_error() {
            Some(server) => Error::from_server_error(server.clone()),
            None => Error::Usage(format!("a split command's node failed: {other}")),
        },
    }
}
