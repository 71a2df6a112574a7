//! What the commands run on a connection did to its state on the server, so that a connection
//! whose state differs from a freshly opened one never goes back into shared use.
//!
//! Only commands the generated table flags as changing connection state
//! ([`CommandMeta::connection_state`]) are looked at. Some are followed exactly, so a connection
//! that ends where it started costs nothing: `SELECT` moves [`Connection::db`] (pools close a
//! connection returned on another database), `MULTI` … `EXEC`/`DISCARD` and `WATCH` …
//! `EXEC`/`DISCARD`/`UNWATCH` open and close a transaction, `HELLO` may switch the protocol.
//! The others (`SUBSCRIBE`, `CLIENT REPLY`, `CLIENT TRACKING`, `AUTH`, a `HELLO` with `AUTH` or
//! `SETNAME`, `RESET`, `MONITOR` …) leave state the client cannot follow or undo: the connection
//! is marked altered and stays usable by whoever holds it, but is never reused by a pool or a
//! single-connection client.
//!
//! A command whose reply is awaited ([`Connection::execute`]) changes the state only when the
//! server accepted it. For a command written without waiting ([`Connection::write_command`])
//! the reply is not known, so the change is assumed, and a `SELECT` marks the connection
//! altered as well (it might have failed).

use crate::command_meta::{lookup_connection_state, may_change_connection_state, CommandMeta};
use crate::config::Protocol;
use crate::resp::Value;

use super::request::{CommandInfo, FrameArgs};
use super::Connection;

/// The tracked state of one connection; the default is a freshly opened connection's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Session {
    /// `MULTI` was accepted and no `EXEC`, `DISCARD` or `RESET` followed.
    multi: bool,
    /// `WATCH` was accepted and no `EXEC`, `DISCARD`, `UNWATCH` or `RESET` followed.
    watching: bool,
    /// The first command that left state the client cannot follow (say, `SUBSCRIBE`).
    altered_by: Option<&'static str>,
}

/// What a connection-state command will do once the server accepts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Pending {
    meta: &'static CommandMeta,
    effect: Effect,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Effect {
    Multi,
    /// `EXEC` or `DISCARD` inside a transaction: it ends, and with it every `WATCH`.
    EndTransaction,
    Watch,
    Unwatch,
    Select(u32),
    /// `HELLO`: the protocol it asks for (when it differs), and whether it changes anything
    /// else (`AUTH`, `SETNAME`).
    Hello {
        protocol: Option<Protocol>,
        alters: bool,
    },
    /// `RESET`: back to database 0 and RESP2, no transaction; the user and name are lost.
    Reset,
    Alter,
    /// Nothing changes (`EXEC` outside a transaction is refused, `WATCH` inside one too).
    Nothing,
}

/// How the server answered a connection-state command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Answer {
    Accepted,
    Refused,
    /// Written without waiting for the reply.
    Unknown,
}

impl Answer {
    pub(crate) fn of(reply: &Value) -> Answer {
        match reply {
            Value::Error(_) => Answer::Refused,
            _ => Answer::Accepted,
        }
    }
}

/// What the connection itself must change once a command took effect.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Change {
    pub(crate) db: Option<u32>,
    pub(crate) protocol: Option<Protocol>,
}

impl Session {
    /// Whether the connection's state is still the one it was opened with (apart from the
    /// database, which pools compare themselves).
    pub(crate) fn is_clean(&self) -> bool {
        !self.multi && !self.watching && self.altered_by.is_none()
    }

    /// What the command with entry `meta` and arguments `args` (after its name words) will do,
    /// judged by the state now: inside `MULTI` most commands are only queued.
    pub(crate) fn sending(
        &self,
        meta: &'static CommandMeta,
        args: &[&[u8]],
        protocol: Protocol,
    ) -> Pending {
        let effect = match meta.name {
            "MULTI" => Effect::Multi,
            "EXEC" | "DISCARD" if self.multi => Effect::EndTransaction,
            "EXEC" | "DISCARD" => Effect::Nothing,
            // RESET runs at once even inside MULTI.
            "RESET" => Effect::Reset,
            // Queued inside MULTI; EXEC ends every WATCH anyway.
            "UNWATCH" if self.multi => Effect::Nothing,
            "UNWATCH" => Effect::Unwatch,
            // Refused inside MULTI.
            "WATCH" if self.multi => Effect::Nothing,
            "WATCH" => Effect::Watch,
            "SELECT" if !self.multi => match args.first().and_then(|db| parse_db(db)) {
                Some(db) => Effect::Select(db),
                None => Effect::Alter,
            },
            "HELLO" if !self.multi => hello(args, protocol),
            _ => Effect::Alter,
        };
        Pending { meta, effect }
    }

    /// Records the outcome of a command announced by [`Session::sending`]; returns what the
    /// connection must change (its database or protocol).
    pub(crate) fn answered(&mut self, pending: Pending, answer: Answer) -> Change {
        let none = Change::default();
        if pending.effect == Effect::EndTransaction {
            // The transaction ends whatever EXEC answers (EXECABORT discards it too).
            self.transaction_ran();
            return none;
        }
        if answer == Answer::Refused {
            return none;
        }
        match pending.effect {
            Effect::Multi => self.multi = true,
            Effect::Watch => self.watching = true,
            Effect::Unwatch => self.watching = false,
            Effect::Select(db) => {
                if answer == Answer::Unknown {
                    self.alter(pending.meta);
                }
                return Change {
                    db: Some(db),
                    protocol: None,
                };
            }
            Effect::Hello { protocol, alters } => {
                if alters || protocol.is_some() {
                    self.alter(pending.meta);
                }
                return Change { db: None, protocol };
            }
            Effect::Reset => {
                self.transaction_ran();
                self.alter(pending.meta);
                return Change {
                    db: Some(0),
                    protocol: Some(Protocol::Resp2),
                };
            }
            Effect::Alter => self.alter(pending.meta),
            Effect::EndTransaction | Effect::Nothing => {}
        }
        none
    }

    /// A `MULTI` … `EXEC` written by a pipeline ran: the transaction and every `WATCH` ended.
    pub(crate) fn transaction_ran(&mut self) {
        self.multi = false;
        self.watching = false;
    }

    fn alter(&mut self, meta: &'static CommandMeta) {
        self.altered_by.get_or_insert(meta.name);
    }
}

/// `HELLO [protover [AUTH user pass] [SETNAME name]]`.
fn hello(args: &[&[u8]], current: Protocol) -> Effect {
    let protocol = match args.first().map(|p| p.trim_ascii()) {
        Some(b"2") => Some(Protocol::Resp2),
        Some(b"3") => Some(Protocol::Resp3),
        // No protocol: HELLO only describes the server. Any other is refused (NOPROTO).
        _ => None,
    };
    Effect::Hello {
        protocol: protocol.filter(|&p| p != current),
        alters: args.len() > 1,
    }
}

/// The first argument (the command name) of a frame from our encoder:
/// `*<count>\r\n$<len>\r\n<name>\r\n…`. Written out by hand: it runs for every command
/// written without awaiting its reply, most of which need nothing more.
#[inline]
fn first_arg(frame: &[u8]) -> Option<&[u8]> {
    // Fewer than ten arguments and a name under ten bytes: the name starts at byte 8.
    if let [b'*', _, b'\r', b'\n', b'$', len @ b'1'..=b'9', b'\r', b'\n', rest @ ..] = frame {
        return rest.get(..usize::from(len - b'0'));
    }
    let mut at = 1;
    while *frame.get(at)? != b'\r' {
        at += 1;
    }
    if frame.get(at + 2) != Some(&b'$') {
        return None;
    }
    at += 3;
    let mut len = 0usize;
    loop {
        let byte = *frame.get(at)?;
        if byte == b'\r' {
            break;
        }
        len = len
            .checked_mul(10)?
            .checked_add(usize::from(byte.wrapping_sub(b'0')))?;
        at += 1;
    }
    frame.get(at + 2..)?.get(..len)
}

fn parse_db(arg: &[u8]) -> Option<u32> {
    std::str::from_utf8(arg).ok()?.parse().ok()
}

impl Session {
    /// What the connection-state command in `frame` (with entry `info.meta`) will do, if it is
    /// one, on a connection speaking `protocol`; hand it to [`Session::settle`] with the reply.
    #[inline]
    pub(crate) fn announce(
        &self,
        info: &CommandInfo,
        frame: &[u8],
        protocol: Protocol,
    ) -> Option<Pending> {
        let meta = info.meta.filter(|meta| meta.connection_state)?;
        Some(self.pending(meta, frame, protocol))
    }

    /// Records the reply to an announced command; returns what the connection must change.
    #[inline]
    pub(crate) fn settle(&mut self, pending: Option<Pending>, reply: &Value) -> Change {
        match pending {
            Some(pending) => self.answered(pending, Answer::of(reply)),
            None => Change::default(),
        }
    }

    /// Records a command written (`frame`) whose reply is not awaited by whoever wrote it.
    #[inline]
    pub(crate) fn record_unawaited(&mut self, frame: &[u8], protocol: Protocol) -> Change {
        // Most commands are ruled out by their name alone, read without parsing the frame.
        if first_arg(frame).is_some_and(may_change_connection_state) {
            return self.record_unawaited_candidate(frame, protocol);
        }
        Change::default()
    }

    #[cold]
    #[inline(never)]
    fn record_unawaited_candidate(&mut self, frame: &[u8], protocol: Protocol) -> Change {
        let head: Vec<&[u8]> = FrameArgs::new(frame).take(2).collect();
        match lookup_connection_state(&head) {
            Some(meta) => {
                let pending = self.pending(meta, frame, protocol);
                self.answered(pending, Answer::Unknown)
            }
            None => Change::default(),
        }
    }

    fn pending(&self, meta: &'static CommandMeta, frame: &[u8], protocol: Protocol) -> Pending {
        let args: Vec<&[u8]> = FrameArgs::new(frame).skip(meta.name_words()).collect();
        self.sending(meta, &args, protocol)
    }
}

impl Connection {
    /// What the connection-state command in `frame` will do, if it is one; call
    /// [`Connection::settle`] with the reply.
    #[inline]
    pub(super) fn announce(&self, info: &CommandInfo, frame: &[u8]) -> Option<Pending> {
        self.session.announce(info, frame, self.core.protocol())
    }

    /// Records the reply to an announced command.
    pub(super) fn settle(&mut self, pending: Option<Pending>, reply: &Value) {
        if pending.is_some() {
            let change = self.session.settle(pending, reply);
            self.apply(change);
        }
    }

    /// Records the command just written to the output buffer from `start` on, whose reply is
    /// not awaited here.
    #[inline]
    pub(super) fn record_unawaited(&mut self, start: usize) {
        let protocol = self.core.protocol();
        let change = self
            .session
            .record_unawaited(&self.core.output()[start..], protocol);
        self.apply(change);
    }

    /// The session state starts over: the handshake just set the connection up as configured.
    pub(super) fn session_opened(&mut self) {
        self.session = Session::default();
    }

    /// A pipeline's `MULTI` … `EXEC` ran on this connection.
    pub(crate) fn transaction_ran(&mut self) {
        self.session.transaction_ran();
    }

    fn apply(&mut self, change: Change) {
        if let Some(db) = change.db {
            self.db = db;
        }
        if let Some(protocol) = change.protocol {
            self.core.set_protocol(protocol);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command_meta::lookup_args;

    fn run(session: &mut Session, line: &[&str], answer: Answer) -> Change {
        let words: Vec<&[u8]> = line.iter().map(|a| a.as_bytes()).collect();
        let meta = lookup_args(&words).unwrap();
        assert!(meta.connection_state, "{}", meta.name);
        let pending = session.sending(meta, &words[meta.name_words()..], Protocol::Resp3);
        session.answered(pending, answer)
    }

    #[test]
    fn the_first_argument_is_read_off_the_encoded_frame() {
        let mut frame = bytes::BytesMut::new();
        crate::resp::write_command(&mut frame, &["SELECT", "1"]).unwrap();
        assert_eq!(first_arg(&frame), Some(&b"SELECT"[..]));
        frame.clear();
        let args: Vec<String> = (0..12).map(|i| format!("a{i}")).collect();
        crate::resp::write_command(&mut frame, &args).unwrap();
        assert_eq!(first_arg(&frame), Some(&b"a0"[..]));
        frame.clear();
        crate::resp::write_command(&mut frame, &["CLIENT", "SETNAME", "x"]).unwrap();
        assert_eq!(first_arg(&frame), Some(&b"CLIENT"[..]));
        frame.clear();
        crate::resp::write_command(&mut frame, &["PUNSUBSCRIBE"]).unwrap();
        assert_eq!(first_arg(&frame), Some(&b"PUNSUBSCRIBE"[..]));
        let long = "x".repeat(300);
        frame.clear();
        crate::resp::write_command(&mut frame, &[long.as_str()]).unwrap();
        assert_eq!(first_arg(&frame), Some(long.as_bytes()));
        assert_eq!(first_arg(b"*1\r\n$6\r\nSEL"), None);
        assert_eq!(first_arg(b"garbage"), None);
    }

    #[test]
    fn a_finished_transaction_leaves_the_session_clean() {
        let mut s = Session::default();
        run(&mut s, &["WATCH", "k"], Answer::Accepted);
        assert!(!s.is_clean());
        run(&mut s, &["MULTI"], Answer::Accepted);
        run(&mut s, &["WATCH", "k"], Answer::Refused);
        run(&mut s, &["UNWATCH"], Answer::Accepted);
        assert!(!s.is_clean(), "UNWATCH is only queued inside MULTI");
        run(&mut s, &["EXEC"], Answer::Refused);
        assert!(s.is_clean(), "EXECABORT ends the transaction too");

        run(&mut s, &["WATCH", "k"], Answer::Unknown);
        run(&mut s, &["UNWATCH"], Answer::Unknown);
        assert!(s.is_clean());
        run(&mut s, &["MULTI"], Answer::Accepted);
        run(&mut s, &["DISCARD"], Answer::Accepted);
        assert!(s.is_clean());
        run(&mut s, &["EXEC"], Answer::Refused);
        assert!(s.is_clean(), "EXEC without MULTI changes nothing");
    }

    #[test]
    fn an_open_transaction_or_watch_is_not_clean() {
        let mut s = Session::default();
        run(&mut s, &["MULTI"], Answer::Accepted);
        assert!(!s.is_clean());
        let mut s = Session::default();
        run(&mut s, &["MULTI"], Answer::Refused);
        assert!(s.is_clean(), "a refused MULTI opens nothing");
        run(&mut s, &["WATCH", "a"], Answer::Unknown);
        assert!(!s.is_clean());
        s.transaction_ran();
        assert!(s.is_clean());
    }

    #[test]
    fn select_moves_the_database_only_when_accepted() {
        let mut s = Session::default();
        assert_eq!(run(&mut s, &["select", "2"], Answer::Accepted).db, Some(2));
        assert!(s.is_clean(), "the database is compared by the pool itself");
        assert_eq!(run(&mut s, &["SELECT", "3"], Answer::Refused).db, None);
        assert!(s.is_clean());
        assert_eq!(run(&mut s, &["SELECT", "0"], Answer::Unknown).db, Some(0));
        assert!(!s.is_clean(), "an unconfirmed SELECT may have failed");

        let mut s = Session::default();
        run(&mut s, &["MULTI"], Answer::Accepted);
        assert_eq!(run(&mut s, &["SELECT", "1"], Answer::Accepted).db, None);
        run(&mut s, &["EXEC"], Answer::Accepted);
        assert!(!s.is_clean(), "a SELECT queued in MULTI runs at EXEC");
        let mut s = Session::default();
        run(&mut s, &["SELECT", "x"], Answer::Accepted);
        assert!(!s.is_clean());
    }

    #[test]
    fn hello_alters_only_what_it_changes() {
        let mut s = Session::default();
        assert_eq!(run(&mut s, &["HELLO"], Answer::Accepted), Change::default());
        assert_eq!(
            run(&mut s, &["HELLO", "3"], Answer::Accepted),
            Change::default()
        );
        assert!(
            s.is_clean(),
            "HELLO 3 on a RESP3 connection changes nothing"
        );
        assert_eq!(
            run(&mut s, &["HELLO", "2"], Answer::Refused),
            Change::default()
        );
        assert!(s.is_clean());
        let change = run(&mut s, &["HELLO", "2"], Answer::Accepted);
        assert_eq!(change.protocol, Some(Protocol::Resp2));
        assert!(!s.is_clean());
        let mut s = Session::default();
        run(&mut s, &["HELLO", "3", "SETNAME", "x"], Answer::Accepted);
        assert!(!s.is_clean());
    }

    #[test]
    fn state_the_client_cannot_follow_alters_the_session() {
        for line in [
            &["SUBSCRIBE", "ch"][..],
            &["PSUBSCRIBE", "p*"],
            &["SSUBSCRIBE", "s"],
            &["CLIENT", "REPLY", "OFF"],
            &["CLIENT", "TRACKING", "ON"],
            &["CLIENT", "SETNAME", "x"],
            &["AUTH", "pw"],
            &["RESET"],
            &["MONITOR"],
            &["READONLY"],
        ] {
            let mut s = Session::default();
            run(&mut s, line, Answer::Refused);
            assert!(s.is_clean(), "{line:?} refused");
            run(&mut s, line, Answer::Accepted);
            assert!(!s.is_clean(), "{line:?}");
            assert!(s
                .altered_by
                .is_some_and(|by| line.join(" ").starts_with(by)));
        }
        let mut s = Session::default();
        run(&mut s, &["WATCH", "k"], Answer::Accepted);
        run(&mut s, &["MULTI"], Answer::Accepted);
        let change = run(&mut s, &["RESET"], Answer::Accepted);
        assert!(!s.multi && !s.watching && s.altered_by == Some("RESET"));
        assert_eq!(
            (change.db, change.protocol),
            (Some(0), Some(Protocol::Resp2))
        );
    }
}
