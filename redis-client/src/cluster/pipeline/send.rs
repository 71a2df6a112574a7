//! Sending one round of a cluster pipeline: each node's share goes out on a connection of its
//! own, and the nodes' slices are interleaved (write a slice to every node, then read every
//! node's replies to it), so all nodes work at once from the calling thread.
//!
//! As on a plain [`Pipeline`](crate::Pipeline), at most [`CHUNK_BYTES`] go to one connection
//! before its replies are read, so a pipeline of any length cannot deadlock; each reply becomes
//! its command's outcome as soon as it is read.

use bytes::BytesMut;

use super::split::Assembly;
use crate::client::{Client, ClientConnection};
use crate::command_meta::BlockFor;
use crate::error::{Error, Result};
use crate::pipeline::queue::Queue;
use crate::pipeline::send::CHUNK_BYTES;
use crate::resp::Value;

/// `ASKING`, encoded: sent before a command the server redirected with `ASK`.
const ASKING: &[u8] = b"*1\r\n$6\r\nASKING\r\n";

/// One node's share of a round.
pub(crate) struct Share {
    /// The node's client.
    pub(crate) client: Client,
    /// Positions of the commands in the pipeline, ascending.
    pub(crate) commands: Vec<usize>,
    /// Each command goes after an `ASKING` (the slot is being imported by this node).
    pub(crate) asking: bool,
}

/// What goes on one node's connection: the share's frames back to back, and per frame on
/// the wire the command it carries (`None` for an `ASKING`).
struct Lane<'c> {
    share: &'c Share,
    conn: Option<ClientConnection<'c>>,
    bytes: BytesMut,
    /// Where each wire frame ends in `bytes`.
    ends: Vec<usize>,
    /// The command each wire frame carries.
    carries: Vec<Option<usize>>,
    /// The first wire frame not written yet.
    next: usize,
    /// The wire frames of the slice written last and not read yet.
    unread: std::ops::Range<usize>,
}

impl<'c> Lane<'c> {
    fn new(queue: &Queue, share: &'c Share) -> Lane<'c> {
        let per = if share.asking { 2 } else { 1 };
        let mut lane = Lane {
            share,
            conn: None,
            bytes: BytesMut::with_capacity(
                share
                    .commands
                    .iter()
                    .map(|&i| queue.frame(i).len() + if share.asking { ASKING.len() } else { 0 })
                    .sum(),
            ),
            ends: Vec::with_capacity(share.commands.len() * per),
            carries: Vec::with_capacity(share.commands.len() * per),
            next: 0,
            unread: 0..0,
        };
        for &index in &share.commands {
            if share.asking {
                lane.bytes.extend_from_slice(ASKING);
                lane.ends.push(lane.bytes.len());
                lane.carries.push(None);
            }
            lane.bytes.extend_from_slice(queue.frame(index));
            lane.ends.push(lane.bytes.len());
            lane.carries.push(Some(index));
        }
        lane
    }

    fn start(&self, frame: usize) -> usize {
        match frame {
            0 => 0,
            i => self.ends[i - 1],
        }
    }

    fn done(&self) -> bool {
        self.next == self.ends.len()
    }

    /// Every command from wire frame `from` on gets a copy of `error`; the lane stops.
    /// `unsent`, when given, collects them: they surely did not reach the server.
    fn fail_from(
        &mut self,
        from: usize,
        error: &Error,
        queue: &Queue,
        out: &mut Assembly<Result<Value>>,
        mut unsent: Option<&mut Vec<usize>>,
    ) {
        for &index in self.carries[from..].iter().flatten() {
            let name = &queue.entry(index).info.name;
            out.place(index, Err(error.copy_without_command().with_command(name)));
            if let Some(unsent) = unsent.as_deref_mut() {
                unsent.push(index);
            }
        }
        if let Some(conn) = self.conn.as_mut() {
            conn.mark_broken();
        }
        self.conn = None;
        self.next = self.ends.len();
        self.unread = 0..0;
    }

    /// Writes the next slice; a failure fails every command not answered yet (those never
    /// handed to a connection are added to `unsent`).
    fn write(&mut self, queue: &Queue, out: &mut Assembly<Result<Value>>, unsent: &mut Vec<usize>) {
        if self.done() {
            return;
        }
        if self.conn.is_none() {
            match self.share.client.get_connection() {
                Ok(conn) => self.conn = Some(conn),
                Err(error) => return self.fail_from(self.next, &error, queue, out, Some(unsent)),
            }
        }
        let start = self.next;
        let base = self.start(start);
        let mut end = start + 1;
        while end < self.ends.len() && self.ends[end] - base <= CHUNK_BYTES {
            end += 1;
        }
        let blocks = self.carries[start..end]
            .iter()
            .map(|c| c.and_then(|index| queue.entry(index).info.block))
            .collect::<Vec<Option<BlockFor>>>();
        let bytes = &self.bytes[base..self.ends[end - 1]];
        let sent = match self.conn.as_mut() {
            Some(conn) => conn.send_frames(bytes, blocks),
            None => unreachable!("a connection was taken above"),
        };
        match sent {
            Ok(()) => {
                self.next = end;
                self.unread = start..end;
            }
            Err(error) => {
                // This slice may have partly gone out; the later ones surely did not.
                self.fail_from(start, &error, queue, out, None);
                let later = self.carries.get(end..).unwrap_or_default();
                unsent.extend(later.iter().flatten());
            }
        }
    }

    /// Reads the replies to the slice written last.
    fn read(&mut self, queue: &Queue, out: &mut Assembly<Result<Value>>) {
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        let protocol = conn.protocol();
        for frame in self.unread.clone() {
            let name = match self.carries[frame] {
                Some(index) => queue.entry(index).info.name.as_ref(),
                None => "ASKING",
            };
            let value = match conn.next_reply() {
                Ok(value) => value,
                Err(error) => {
                    let error = error.with_command(name);
                    return self.fail_from(frame, &error, queue, out, None);
                }
            };
            // An ASKING refused leaves its command to answer for itself (with a redirection).
            if let Some(index) = self.carries[frame] {
                let entry = queue.entry(index);
                let outcome =
                    entry.outcome(queue.frame(index), value, &self.share.client, protocol);
                out.place(index, outcome);
            }
        }
        self.unread = 0..0;
    }
}

/// Sends every share and records each command's outcome in `out`, in its place; returns the
/// commands that failed without reaching a server (safe to send again).
///
/// A connection that fails gives each of its commands not answered yet a copy of the error;
/// the other nodes' commands are not affected.
pub(crate) fn round(
    queue: &Queue,
    shares: &[Share],
    out: &mut Assembly<Result<Value>>,
) -> Vec<usize> {
    let mut lanes: Vec<Lane<'_>> = shares.iter().map(|s| Lane::new(queue, s)).collect();
    let mut unsent = Vec::new();
    while lanes.iter().any(|lane| !lane.done()) {
        for lane in &mut lanes {
            lane.write(queue, out, &mut unsent);
        }
        for lane in &mut lanes {
            lane.read(queue, out);
        }
    }
    unsent
}
