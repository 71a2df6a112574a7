//! A command encoded once, with what the runtime derives from it: its name, its metadata and
//! how long it may block on the server.
//!
//! Everything is read back from the encoded bytes, so any [`ToArgs`] value works and a retry can
//! resend the very same frame on another connection.

use std::borrow::Cow;
use std::time::Duration;

use bytes::BytesMut;

use crate::command::{connection_state_error, Command};
use crate::command_meta::{flags, lookup, lookup_args, BlockFor, CommandMeta};
use crate::error::Result;
use crate::resp::{write_command, ToArgs};

/// The facts about one encoded command that the connection and the client act on.
#[derive(Clone, Debug)]
pub(crate) struct CommandInfo {
    /// Upper-case name for errors and callbacks, e.g. `GET` or `CLIENT KILL`.
    pub(crate) name: Cow<'static, str>,
    /// The generated metadata, when the table knows the command.
    pub(crate) meta: Option<&'static CommandMeta>,
    /// For a blocking command: how long it asked the server to wait.
    pub(crate) block: Option<BlockFor>,
    /// The command changes the state of its connection (from the spec's `connection_state`,
    /// known for typed commands): it may leave the connection streaming frames that answer no
    /// later command (the RESP2 confirmations of `SUBSCRIBE a b`, `MONITOR` lines).
    pub(crate) connection_state: bool,
}

impl CommandInfo {
    /// Derives the facts from one encoded command (`frame` holds exactly that command).
    pub(crate) fn from_frame(frame: &[u8]) -> CommandInfo {
        let mut head: [&[u8]; 2] = [b"", b""];
        let mut n = 0;
        for (slot, arg) in head.iter_mut().zip(FrameArgs::new(frame)) {
            *slot = arg;
            n += 1;
        }
        let meta = lookup_args(&head[..n]);
        let name = match meta {
            Some(meta) => Cow::Borrowed(meta.name),
            None => Cow::Owned(String::from_utf8_lossy(head[0]).to_ascii_uppercase()),
        };
        let block = meta.and_then(|meta| {
            let blocking = meta.blocking_timeout?;
            let args: Vec<&[u8]> = FrameArgs::new(frame).skip(meta.name_words()).collect();
            blocking.find(&args)
        });
        CommandInfo {
            name,
            meta,
            block,
            connection_state: meta.is_some_and(|meta| meta.connection_state),
        }
    }

    /// The facts for a typed command: its generated metadata comes with its type, so there is
    /// no lookup at all; the frame is read only for a blocking command's timeout. A command type
    /// without metadata is looked up by its name. Same result as [`CommandInfo::from_frame`],
    /// which it falls back to for names the table does not know.
    pub(crate) fn for_typed(typed: Typed, frame: &[u8]) -> CommandInfo {
        let Some(meta) = typed.meta.or_else(|| lookup(typed.name.as_bytes())) else {
            return CommandInfo {
                connection_state: typed.connection_state,
                ..CommandInfo::from_frame(frame)
            };
        };
        let block = meta.blocking_timeout.and_then(|blocking| {
            let args: Vec<&[u8]> = FrameArgs::new(frame).skip(meta.name_words()).collect();
            blocking.find(&args)
        });
        CommandInfo {
            name: Cow::Borrowed(meta.name),
            meta: Some(meta),
            block,
            connection_state: typed.connection_state || meta.connection_state,
        }
    }

    /// [`CommandInfo::for_typed`] for a typed command, else [`CommandInfo::from_frame`].
    pub(crate) fn of(typed: Option<Typed>, frame: &[u8]) -> CommandInfo {
        match typed {
            Some(typed) => CommandInfo::for_typed(typed, frame),
            None => CommandInfo::from_frame(frame),
        }
    }

    /// The read timeout for this command on a connection whose socket timeout is `socket`.
    pub(crate) fn read_timeout(&self, socket: Option<Duration>) -> Option<Duration> {
        BlockFor::extend(self.block, socket)
    }

    /// Refuses the command when the generated table says it changes its connection's state
    /// (see [`CommandMeta::connection_state`]): `executor` shares its connections.
    #[inline]
    pub(crate) fn refuse_connection_state(&self, executor: &str) -> Result<()> {
        if self.meta.is_some_and(|meta| meta.connection_state) {
            return Err(self.connection_state_error(executor));
        }
        Ok(())
    }

    #[cold]
    fn connection_state_error(&self, executor: &str) -> crate::error::Error {
        connection_state_error(&self.name, executor)
    }

    /// Whether the generated table flags the command read-only.
    pub(crate) fn is_read_only(&self) -> bool {
        self.meta.is_some_and(CommandMeta::is_read_only)
    }

    /// Whether the command may share a multiplexed connection: a blocking one (`BLPOP`,
    /// `XREAD … BLOCK`, `WAIT` …, per the generated table) would hold up every command queued
    /// behind it, so it takes a connection of its own.
    pub(crate) fn may_share(&self) -> bool {
        self.block.is_none() && !self.meta.is_some_and(|meta| meta.has(flags::BLOCKING))
    }
}

/// What a typed command's type tells about it: its name, its generated metadata, and whether
/// it changes the state of its connection.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Typed {
    name: &'static str,
    meta: Option<&'static CommandMeta>,
    connection_state: bool,
}

impl Typed {
    /// What `C`'s type tells.
    pub(crate) fn of<C: Command>() -> Typed {
        Typed {
            name: C::NAME,
            meta: C::META,
            connection_state: C::CONNECTION_STATE,
        }
    }
}

/// An encoded command kept for sending, possibly more than once.
#[derive(Debug)]
pub(crate) struct Request {
    pub(crate) frame: BytesMut,
    pub(crate) info: CommandInfo,
}

impl Request {
    /// Encodes `args`; fails when they cannot be encoded (no arguments, NaN …).
    pub(crate) fn encode<A: ToArgs + ?Sized>(args: &A) -> Result<Request> {
        Request::encode_as(args, None)
    }

    /// Like [`Request::encode`]; `typed` (what a typed command's type tells) spares reading
    /// the name back out of the frame.
    pub(crate) fn encode_as<A: ToArgs + ?Sized>(args: &A, typed: Option<Typed>) -> Result<Request> {
        let mut frame = BytesMut::new();
        let info = encode_into(&mut frame, args, typed)?;
        Ok(Request { frame, info })
    }
}

/// Encodes `args` at the end of `out` and derives the command's facts from the bytes written:
/// how every command is encoded, whether into a [`Request`] of its own or straight into a
/// connection's output buffer. On an encoding error `out` is left as it was.
#[inline]
pub(crate) fn encode_into<A: ToArgs + ?Sized>(
    out: &mut BytesMut,
    args: &A,
    typed: Option<Typed>,
) -> Result<CommandInfo> {
    let start = out.len();
    write_command(out, args)?;
    Ok(CommandInfo::of(typed, &out[start..]))
}

/// The arguments of one encoded command (`*N\r\n` then `$len\r\narg\r\n` each).
///
/// The frame comes from our own encoder; on anything unexpected the iteration just ends.
pub(crate) struct FrameArgs<'a> {
    rest: &'a [u8],
    left: usize,
}

impl<'a> FrameArgs<'a> {
    pub(crate) fn new(frame: &'a [u8]) -> FrameArgs<'a> {
        let mut args = FrameArgs {
            rest: frame,
            left: 0,
        };
        if let Some(count) = args.header(b'*') {
            args.left = count;
        }
        args
    }

    /// Reads a `<kind><digits>\r\n` header.
    fn header(&mut self, kind: u8) -> Option<usize> {
        let rest = self.rest.strip_prefix(&[kind])?;
        let end = rest.iter().position(|&b| b == b'\r')?;
        let n = std::str::from_utf8(&rest[..end]).ok()?.parse().ok()?;
        self.rest = rest.get(end + 2..)?;
        Some(n)
    }
}

impl<'a> Iterator for FrameArgs<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let len = self.header(b'$')?;
        let arg = self.rest.get(..len)?;
        self.rest = self.rest.get(len + 2..)?;
        Some(arg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_args_read_back_what_was_encoded() {
        let mut frame = BytesMut::new();
        write_command(&mut frame, &["SET", "key with\r\nnewline", "", "v"]).unwrap();
        let args: Vec<&[u8]> = FrameArgs::new(&frame).collect();
        assert_eq!(args, [&b"SET"[..], b"key with\r\nnewline", b"", b"v"]);
        assert_eq!(FrameArgs::new(b"garbage").count(), 0);
        assert_eq!(FrameArgs::new(b"*2\r\n$3\r\nGET\r\n$9\r\nk").count(), 1);
    }

    #[test]
    fn info_for_a_known_name_matches_reading_the_frame() {
        for args in [
            &["GET", "k"][..],
            &["CLIENT", "KILL", "1.2.3.4:5"],
            &["BLPOP", "a", "b", "1.5"],
            &["FROBNICATE", "x"],
        ] {
            let request = Request::encode(&args).unwrap();
            let name: &'static str = match args[0] {
                "CLIENT" => "CLIENT KILL",
                "GET" => "GET",
                "BLPOP" => "BLPOP",
                _ => "FROBNICATE",
            };
            let typed = Typed {
                name,
                meta: None,
                connection_state: false,
            };
            let typed = CommandInfo::for_typed(typed, &request.frame);
            assert_eq!(typed.name, request.info.name, "{args:?}");
            assert_eq!(
                typed.meta.map(|m| m.name),
                request.info.meta.map(|m| m.name)
            );
            assert_eq!(typed.block, request.info.block, "{args:?}");
        }
    }

    #[test]
    fn info_names_unknown_commands_in_upper_case() {
        let request = Request::encode(&["get", "k"]).unwrap();
        // The generated table may or may not know GET; either way the name is upper case.
        assert_eq!(request.info.name, "GET");
        let request = Request::encode(&["frobnicate"]).unwrap();
        assert_eq!(request.info.name, "FROBNICATE");
        assert!(request.info.meta.is_none() && request.info.block.is_none());
        assert!(!request.info.is_read_only());
    }
}
