//! The commands a pipeline has buffered: all encoded back to back in one buffer, each with what
//! its reply needs (its name, how long it may block, the shape its reply is reshaped into).
//!
//! The buffer starts with a `MULTI` frame and has room for `EXEC` at its end, so a transaction
//! goes out as one contiguous slice, exactly as a plain pipeline (which skips the `MULTI`).

use std::ops::Range;

use bytes::BytesMut;

use crate::client::Client;
use crate::command::Command;
use crate::config::Protocol;
use crate::connection::request::{CommandInfo, Typed};
use crate::error::{Error, Result};
use crate::resp::{write_command, ToArgs, Value};
use crate::shape::{normalize, ReplyShape};

/// `MULTI` and `EXEC`, encoded.
pub(crate) const MULTI: &[u8] = b"*1\r\n$5\r\nMULTI\r\n";
pub(crate) const EXEC: &[u8] = b"*1\r\n$4\r\nEXEC\r\n";

/// One buffered command.
pub(crate) struct Entry {
    /// Where its frame ends in [`Queue::frames`].
    end: usize,
    pub(crate) info: CommandInfo,
    /// The reply's shapes for a typed command; raw commands keep the reply as it comes.
    shape: Option<(&'static ReplyShape, Option<&'static ReplyShape>)>,
}

/// The buffered commands of a pipeline, in order.
pub(crate) struct Queue {
    /// `MULTI`, then every command's frame.
    frames: BytesMut,
    entries: Vec<Entry>,
}

/// How pipelines are named in the error refusing connection-state commands.
pub(crate) const EXECUTOR: &str = "a pipeline (its connection returns to the pool)";

/// Buffers larger than this are not kept for the thread's next pipeline.
const KEEP_BYTES: usize = 1024 * 1024;
/// Entry lists longer than this are not kept for the thread's next pipeline.
const KEEP_ENTRIES: usize = 16 * 1024;

thread_local! {
    /// The buffers of this thread's last finished pipeline: a new pipeline per batch is the
    /// usual pattern, and growing a fresh buffer and entry list to a thousand commands took
    /// a dozen reallocations per batch.
    static SPARE: std::cell::Cell<Option<(BytesMut, Vec<Entry>)>> = const { std::cell::Cell::new(None) };
}

impl Queue {
    pub(crate) fn new() -> Queue {
        match SPARE.with(std::cell::Cell::take) {
            Some((frames, entries)) => Queue { frames, entries },
            None => {
                let mut frames = BytesMut::with_capacity(256);
                frames.extend_from_slice(MULTI);
                Queue {
                    frames,
                    entries: Vec::new(),
                }
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Drops every command, keeping the buffer's memory for the next round.
    pub(crate) fn clear(&mut self) {
        self.frames.truncate(MULTI.len());
        self.entries.clear();
    }

    /// Buffers a typed command; its reply will be reshaped into the command's shape.
    pub(crate) fn push_command<C: Command>(&mut self, cmd: &C) -> Result<()> {
        cmd.check()?;
        let shape = (cmd.reply_shape(), cmd.resp2_reply_shape());
        self.push(cmd, Some(shape), Some(Typed::of::<C>()))
    }

    /// Buffers a raw command; its reply is kept as the server sends it.
    pub(crate) fn push_raw(&mut self, args: &(impl ToArgs + ?Sized)) -> Result<()> {
        self.push(args, None, None)
    }

    /// `typed`, known for typed commands, spares reading the name back out of the frame.
    fn push(
        &mut self,
        args: &(impl ToArgs + ?Sized),
        shape: Option<(&'static ReplyShape, Option<&'static ReplyShape>)>,
        typed: Option<Typed>,
    ) -> Result<()> {
        let start = self.frames.len();
        write_command(&mut self.frames, args)?;
        let frame = &self.frames[start..];
        let info = CommandInfo::of(typed, frame);
        if let Err(refused) = info.refuse_connection_state(EXECUTOR) {
            self.frames.truncate(start);
            return Err(refused);
        }
        self.entries.push(Entry {
            end: self.frames.len(),
            info,
            shape,
        });
        Ok(())
    }

    /// Buffers a copy of command `index` of `from`, reply shape included (a cluster pipeline
    /// lays out its commands again when some are split by slot).
    pub(crate) fn push_copy(&mut self, from: &Queue, index: usize) {
        self.frames.extend_from_slice(from.frame(index));
        let entry = &from.entries[index];
        self.entries.push(Entry {
            end: self.frames.len(),
            info: entry.info.clone(),
            shape: entry.shape,
        });
    }

    pub(crate) fn entry(&self, index: usize) -> &Entry {
        &self.entries[index]
    }

    /// Whether every buffered command is flagged read-only, so running them twice is harmless.
    pub(crate) fn all_read_only(&self) -> bool {
        self.entries.iter().all(|e| e.info.is_read_only())
    }

    /// The encoded frame of command `index`.
    pub(crate) fn frame(&self, index: usize) -> &[u8] {
        let start = match index {
            0 => MULTI.len(),
            _ => self.entries[index - 1].end,
        };
        &self.frames[start..self.entries[index].end]
    }

    /// The command names in order, taken out for the replies (the queue is cleared next).
    pub(crate) fn take_names(&mut self) -> Vec<std::borrow::Cow<'static, str>> {
        self.entries
            .iter_mut()
            .map(|e| std::mem::take(&mut e.info.name))
            .collect()
    }

    /// The wire image of the pipeline: the commands alone, or wrapped in `MULTI` … `EXEC`.
    ///
    /// Returns the bytes and, per frame on the wire, where it ends within them.
    pub(crate) fn wire(&mut self, transaction: bool) -> Wire<'_> {
        if transaction {
            self.frames.extend_from_slice(EXEC);
        }
        Wire {
            queue: self,
            transaction,
        }
    }
}

/// The bytes of a pipeline as sent; removes the `EXEC` it appended when dropped.
pub(crate) struct Wire<'q> {
    queue: &'q mut Queue,
    transaction: bool,
}

impl Wire<'_> {
    /// How many frames go out (commands, plus `MULTI` and `EXEC` in a transaction).
    pub(crate) fn frames(&self) -> usize {
        self.queue.len() + if self.transaction { 2 } else { 0 }
    }

    /// The bytes of frames `range` (indices as counted by [`Wire::frames`]).
    pub(crate) fn bytes(&self, range: Range<usize>) -> &[u8] {
        &self.queue.frames[self.start(range.start)..self.end(range.end - 1)]
    }

    /// Where frame `index` starts in the buffer.
    fn start(&self, index: usize) -> usize {
        match (self.transaction, index) {
            (true, 0) => 0,
            (false, 0) => MULTI.len(),
            (_, i) => self.end(i - 1),
        }
    }

    /// Where frame `index` ends in the buffer.
    fn end(&self, index: usize) -> usize {
        match (self.transaction, index) {
            (false, i) => self.queue.entries[i].end,
            (true, 0) => MULTI.len(),
            (true, i) if i <= self.queue.len() => self.queue.entries[i - 1].end,
            (true, _) => self.queue.frames.len(),
        }
    }

    /// The end of the run of frames starting at `start` that stays within `max_bytes` (at least
    /// one frame), so a huge pipeline is written in bounded slices.
    pub(crate) fn chunk_end(&self, start: usize, max_bytes: usize) -> usize {
        let base = self.start(start);
        let total = self.frames();
        let mut end = start + 1;
        while end < total && self.end(end) - base <= max_bytes {
            end += 1;
        }
        end
    }

    pub(crate) fn queue(&self) -> &Queue {
        self.queue
    }

    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    /// Where each frame ends, counted from the start of [`Wire::bytes`]`(0..frames)`.
    pub(crate) fn ends(&self) -> impl Iterator<Item = usize> + '_ {
        let base = self.start(0);
        (0..self.frames()).map(move |index| self.end(index) - base)
    }
}

impl Drop for Wire<'_> {
    fn drop(&mut self) {
        if self.transaction {
            let len = self.queue.frames.len() - EXEC.len();
            self.queue.frames.truncate(len);
        }
    }
}

impl Drop for Queue {
    fn drop(&mut self) {
        if self.frames.capacity() > KEEP_BYTES || self.entries.capacity() > KEEP_ENTRIES {
            return;
        }
        self.clear();
        let frames = std::mem::take(&mut self.frames);
        let entries = std::mem::take(&mut self.entries);
        SPARE.with(|spare| spare.set(Some((frames, entries))));
    }
}

impl Entry {
    /// Turns this command's reply into its outcome: an error reply becomes `Err` naming the
    /// command; otherwise the client's `decode_responses` check and response callback run, and
    /// a typed command's reply is reshaped into its RESP3 shape.
    pub(crate) fn outcome(
        &self,
        frame: &[u8],
        value: Value,
        client: &Client,
        protocol: Protocol,
    ) -> Result<Value> {
        self.outcome_with(value, protocol, |value| {
            client.finish_reply(frame, &self.info, value)
        })
    }

    /// [`Entry::outcome`] with `finish` in place of the client's checks and callback (an async
    /// client has no response callbacks).
    pub(crate) fn outcome_with(
        &self,
        value: Value,
        protocol: Protocol,
        finish: impl FnOnce(Value) -> Result<Value>,
    ) -> Result<Value> {
        let name = self.info.name.as_ref();
        if let Value::Error(payload) = value {
            return Err(Error::from_server_reply(&payload, Some(name)));
        }
        let value = finish(value)?;
        match self.shape {
            None => Ok(value),
            Some((shape, resp2)) => normalize(value, shape, resp2, protocol).map_err(|e| match e {
                Error::Data(message) => Error::Data(format!("{name}: {message}")),
                other => other.with_command(name),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue_of(commands: &[&[&str]]) -> Queue {
        let mut queue = Queue::new();
        for args in commands {
            queue.push_raw(*args).unwrap();
        }
        queue
    }

    #[test]
    fn plain_wire_is_the_commands_alone() {
        let mut queue = queue_of(&[&["SET", "a", "1"], &["GET", "a"]]);
        assert_eq!(queue.frame(1), b"*2\r\n$3\r\nGET\r\n$1\r\na\r\n");
        let wire = queue.wire(false);
        assert_eq!(wire.frames(), 2);
        assert_eq!(
            wire.bytes(0..2),
            &b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\nGET\r\n$1\r\na\r\n"[..]
        );
        assert_eq!(wire.bytes(1..2), b"*2\r\n$3\r\nGET\r\n$1\r\na\r\n");
    }

    #[test]
    fn transaction_wire_wraps_in_multi_exec_and_unwraps_after() {
        let mut queue = queue_of(&[&["INCR", "n"]]);
        {
            let wire = queue.wire(true);
            assert_eq!(wire.frames(), 3);
            let all = wire.bytes(0..3);
            assert!(all.starts_with(MULTI) && all.ends_with(EXEC), "{all:?}");
            assert_eq!(wire.bytes(1..2), b"*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n");
            assert_eq!(wire.bytes(2..3), EXEC);
        }
        let first = queue.frame(0).to_vec();
        assert_eq!(queue.wire(false).bytes(0..1), first);
    }

    #[test]
    fn chunks_stay_within_the_byte_limit_but_take_at_least_one_frame() {
        let mut queue = Queue::new();
        for i in 0..10 {
            queue.push_raw(&("SET", format!("key{i}"), "v")).unwrap();
        }
        let frame_len = queue.frame(0).len();
        let wire = queue.wire(false);
        assert_eq!(wire.chunk_end(0, frame_len * 3), 3);
        assert_eq!(wire.chunk_end(3, frame_len * 3), 6);
        assert_eq!(wire.chunk_end(9, frame_len * 3), 10);
        assert_eq!(wire.chunk_end(0, 1), 1, "an oversized frame goes alone");
        assert_eq!(wire.chunk_end(0, usize::MAX), 10);
    }

    #[test]
    fn a_dropped_queue_leaves_its_buffers_to_the_next_empty_and_starting_with_multi() {
        let mut queue = queue_of(&[&["SET", "a", "1"], &["GET", "a"]]);
        queue.push_raw(&["PING"]).unwrap();
        drop(queue);
        let mut queue = Queue::new();
        assert!(queue.is_empty());
        queue.push_raw(&["ECHO", "x"]).unwrap();
        assert_eq!(queue.frame(0), b"*2\r\n$4\r\nECHO\r\n$1\r\nx\r\n");
        let wire = queue.wire(true);
        assert!(wire.bytes(0..3).starts_with(MULTI));
    }

    #[test]
    fn connection_state_commands_are_refused_and_leave_nothing_behind() {
        let mut queue = queue_of(&[&["GET", "a"]]);
        for args in [
            &["select", "1"][..],
            &["MULTI"],
            &["Client", "Reply", "OFF"],
        ] {
            let err = queue.push_raw(args).unwrap_err();
            let name = args[0].to_ascii_uppercase();
            assert!(
                matches!(&err, Error::Usage(m) if m.contains(&name) && m.contains("pipeline")),
                "{err}"
            );
        }
        assert_eq!(queue.len(), 1);
        queue.push_raw(&["CLIENT", "LIST"]).unwrap();
        assert_eq!(queue.frame(1), b"*2\r\n$6\r\nCLIENT\r\n$4\r\nLIST\r\n");
    }

    #[test]
    fn clear_keeps_the_multi_prefix() {
        let mut queue = queue_of(&[&["PING"]]);
        queue.clear();
        assert!(queue.is_empty());
        queue.push_raw(&["ECHO", "x"]).unwrap();
        assert_eq!(queue.frame(0), b"*2\r\n$4\r\nECHO\r\n$1\r\nx\r\n");
    }
}
