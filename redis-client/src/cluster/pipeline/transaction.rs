//! Transactions on a cluster: every key in one slot, run by that slot's primary as a plain
//! [`Pipeline`](crate::Pipeline) transaction would, sent again where the slot went when it
//! moved before `EXEC` ran.

use std::time::Instant;

use super::super::redirect::{decide, Action, Redirect};
use super::super::ClusterClient;
use super::route::slot_of;
use crate::connection::request::FrameArgs;
use crate::error::{Error, Result};
use crate::pipeline::queue::Queue;
use crate::pipeline::Pipeline;
use crate::resp::{ToArgs, Value};
use crate::script::Script;

/// The one slot every key of `queue` hashes to (`None`: no command has keys); an error naming
/// the slots when there are several.
fn single_slot(queue: &Queue) -> Result<Option<u16>> {
    let mut found: Option<(u16, usize)> = None;
    for index in 0..queue.len() {
        let argv: Vec<&[u8]> = FrameArgs::new(queue.frame(index)).collect();
        let Some(slot) = slot_of(queue.entry(index).info.meta, &argv)? else {
            continue;
        };
        match found {
            None => found = Some((slot, index)),
            Some((first, at)) if first != slot => {
                return Err(Error::Usage(format!(
                    "a cluster transaction runs on one node, so all its keys must lie in one \
                     slot: command #{} ({}) is in slot {first}, command #{} ({}) in slot \
                     {slot}; put a hash tag in the keys ({{user:1}}:a, {{user:1}}:b)",
                    at + 1,
                    queue.entry(at).info.name,
                    index + 1,
                    queue.entry(index).info.name,
                )))
            }
            Some(_) => {}
        }
    }
    Ok(found.map(|(slot, _)| slot))
}

/// The redirection that kept a transaction from running, if that is why it failed: of `MULTI`
/// or `EXEC` itself, or of a queued command, which aborts `EXEC` with `EXECABORT` and shows
/// only in its text (`… was refused: MOVED 15106 127.0.0.1:7002`).
fn redirection(error: &Error) -> Option<Error> {
    if Redirect::of(error).is_some() {
        return Some(error.copy_without_command());
    }
    if error.code() != Some("EXECABORT") {
        return None;
    }
    let text = error.to_string();
    ["MOVED ", "ASK ", "TRYAGAIN", "CLUSTERDOWN"]
        .iter()
        .find_map(|code| text.find(code))
        .map(|at| {
            let refusal = text[at..].split(" (command").next().unwrap_or_default();
            Error::from_server_reply(refusal.trim().as_bytes(), None)
        })
        .filter(|refusal| Redirect::of(refusal).is_some())
}

/// Runs `queue` as `MULTI` … `EXEC` on the primary of its slot; gives the queue back.
pub(super) fn run(
    cluster: &ClusterClient,
    mut queue: Queue,
    scripts: &[Script],
) -> (Result<Vec<Result<Value>>>, Queue) {
    let slot = match single_slot(&queue) {
        Ok(slot) => slot,
        Err(error) => return (Err(error), queue),
    };
    let budget = cluster.redirect_budget();
    let started = Instant::now();
    let mut attempt = 0;
    loop {
        let client = match cluster
            .primary_addr(slot)
            .and_then(|addr| cluster.node_client(&addr))
        {
            Ok(client) => client,
            Err(error) => return (Err(error), queue),
        };
        let pipe = client.pipeline_of(queue, true, scripts.to_vec());
        let (result, back) = pipe.run_and_take_queue();
        queue = back;
        let error = match result {
            Err(error) => match redirection(&error) {
                Some(redirect) => redirect,
                None => return (Err(error), queue),
            },
            other => return (other, queue),
        };
        // Nothing ran: the transaction may go again, to wherever the slot is now.
        match decide(&error, attempt, started.elapsed(), &budget, true) {
            Action::Fail => return (Err(error), queue),
            Action::Moved { slot, addr } => cluster.note_moved(slot, &addr),
            Action::Ask { .. } => {
                // Mid-migration: wait for the slot to settle, then look again.
                std::thread::sleep(std::time::Duration::from_millis(20 << attempt.min(4)));
                cluster.refresh_map();
            }
            Action::Retry { delay, refresh } => {
                std::thread::sleep(delay);
                if refresh {
                    cluster.refresh_map();
                }
            }
        }
        attempt += 1;
    }
}

impl ClusterClient {
    /// Runs an optimistic transaction over `keys` (which must lie in one slot) on the primary
    /// of that slot, as [`Client::transaction`](crate::Client::transaction) does on one server:
    /// `WATCH`, `f` reads through [`Pipeline::immediate`] and queues after
    /// [`Pipeline::multi`], `EXEC`, and all over again when a watched key changed.
    ///
    /// Keys of several slots fail before anything is sent. Every command `f` queues must have
    /// its keys in the same slot too, or the server refuses it (`CROSSSLOT`/`MOVED`).
    pub fn transaction<R, F>(&self, mut f: F, keys: impl ToArgs) -> Result<R>
    where
        F: FnMut(&mut Pipeline<'_>) -> Result<R>,
    {
        let mut watch = crate::resp::Cmd::new("WATCH");
        watch.push(&keys);
        let encoded = crate::connection::request::Request::encode(&watch)?;
        let argv: Vec<&[u8]> = FrameArgs::new(&encoded.frame).collect();
        let slot = slot_of(encoded.info.meta, &argv)?;
        let budget = self.redirect_budget();
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            let client = self.node_client(&self.primary_addr(slot)?)?;
            let error = match client.transaction(&mut f, &keys) {
                Err(error) => match redirection(&error) {
                    Some(redirect) => redirect,
                    None => return Err(error),
                },
                other => return other,
            };
            match decide(&error, attempt, started.elapsed(), &budget, true) {
                Action::Fail => return Err(error),
                Action::Moved { slot, addr } => self.note_moved(slot, &addr),
                Action::Ask { .. } | Action::Retry { .. } => {
                    std::thread::sleep(std::time::Duration::from_millis(20 << attempt.min(4)));
                    self.refresh_map();
                }
            }
            attempt += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redirection_is_found_in_an_exec_abort() {
        let abort = Error::from_server_reply(
            b"EXECABORT Transaction discarded because of previous errors: command #1 (INCR) \
              was refused: MOVED 15106 127.0.0.1:7002",
            Some("EXEC"),
        );
        let found = redirection(&abort).unwrap();
        assert_eq!(
            Redirect::of(&found),
            Some(Redirect::Moved {
                slot: 15106,
                addr: "127.0.0.1:7002".into()
            })
        );
        let plain = Error::from_server_reply(b"EXECABORT because of WRONGTYPE", Some("EXEC"));
        assert!(redirection(&plain).is_none());
        let moved = Error::from_server_reply(b"MOVED 1 127.0.0.1:7000", Some("WATCH"));
        assert!(redirection(&moved).is_some());
        let other = Error::from_server_reply(b"WRONGTYPE no", Some("INCR"));
        assert!(redirection(&other).is_none());
    }
}
