//! `MONITOR`: every command the server runs, as parsed events (documented on [`Monitor`]).

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use crate::client::{Client, ClientConnection};
use crate::connection::request::Typed;
use crate::connection::shortcut::{Polled, Shortcut};
use crate::connection::Connection;
use crate::error::{Error, Result};
use crate::generated::cmd;
use crate::resp::Value;

/// Where a monitored command came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MonitorSource {
    /// A TCP client, with its address (`127.0.0.1:50000`, `[::1]:50000`).
    Tcp(String),
    /// A client on the Unix socket at this path.
    Unix(String),
    /// A Lua script or function (the command ran inside it).
    Lua,
}

/// One command the server ran.
#[derive(Clone, Debug, PartialEq)]
pub struct MonitorEvent {
    /// When the server ran it (microsecond precision).
    pub time: SystemTime,
    /// The database it ran against.
    pub db: u32,
    /// Who sent it.
    pub client: MonitorSource,
    /// The command's name as sent (`"set"` or `"SET"`).
    pub command: String,
    /// The arguments after the name, as the original bytes.
    pub args: Vec<Bytes>,
}

/// A connection in `MONITOR` mode.
///
/// `MONITOR`: every command the server runs, as parsed events.
///
/// [`Client::monitor`] gives a [`Monitor`] on a connection of its own; it is an iterator of
/// [`MonitorEvent`]s and stops monitoring when dropped (the connection is closed).
///
/// ```no_run
/// use redis_client::Client;
///
/// let client = Client::open("redis://127.0.0.1/")?;
/// for event in client.monitor()?.take(10) {
///     let event = event?;
///     println!("db {} {:?}: {} {:?}", event.db, event.client, event.command, event.args);
/// }
/// # Ok::<(), redis_client::Error>(())
/// ```
///
/// The server writes each command as a line such as
/// `1700000000.123456 [0 127.0.0.1:50000] "SET" "key" "a \"quoted\"\x00 value"`: arguments in
/// double quotes with C-style escapes (`\"`, `\\`, `\n`, `\r`, `\t`, `\a`, `\b`, `\xHH`), which
/// are decoded back into the original bytes.
pub struct Monitor {
    conn: Connection,
    /// A read failed; the connection is gone, so iteration is over.
    failed: bool,
}

impl Client {
    /// Starts monitoring on a new connection (taken out of the pool for good, or opened from
    /// the config for a single-connection client).
    pub fn monitor(&self) -> Result<Monitor> {
        let conn = if self.is_single_connection() {
            Connection::open(self.config())?
        } else {
            match self.get_connection()? {
                ClientConnection::Pooled(pooled) => pooled.detach(),
                ClientConnection::Single(_) => unreachable!("checked: not single-connection"),
            }
        };
        Monitor::start(conn)
    }
}

impl Monitor {
    /// Sends `MONITOR` on `conn` and waits for the server's `OK`.
    pub fn start(mut conn: Connection) -> Result<Monitor> {
        // Typed, so the connection knows the command changes its state: monitor lines may
        // follow the `OK` at once.
        conn.execute_as(["MONITOR"], Typed::of::<cmd::Monitor>())?;
        Ok(Monitor {
            conn,
            failed: false,
        })
    }

    /// Waits for the next command, without a time limit.
    pub fn next_event(&mut self) -> Result<MonitorEvent> {
        loop {
            match self.read(None)? {
                Some(event) => return Ok(event),
                None => continue,
            }
        }
    }

    /// Waits up to `timeout` for the next command; `Ok(None)` when none came.
    pub fn next_event_timeout(&mut self, timeout: Duration) -> Result<Option<MonitorEvent>> {
        self.read(Some(timeout))
    }

    fn read(&mut self, timeout: Option<Duration>) -> Result<Option<MonitorEvent>> {
        loop {
            let frame = self
                .conn
                .poll_frame_with(timeout, &mut |_| Shortcut::<()>::Declined)
                .inspect_err(|_| self.failed = true)?;
            let value = match frame {
                None => return Ok(None),
                Some(Polled::Frame(value)) => value,
                Some(Polled::Taken(())) => continue,
            };
            if let Some(event) = event_from_frame(value)? {
                return Ok(Some(event));
            }
        }
    }
}

/// What one frame on a monitoring connection is: a command the server ran, or `None` for a
/// push (an invalidation, say), which is no command.
pub(crate) fn event_from_frame(value: Value) -> Result<Option<MonitorEvent>> {
    match value {
        Value::Simple(line) | Value::Bulk(line) => parse_line(&line).map(Some),
        Value::Push(_) => Ok(None),
        Value::Error(payload) => Err(Error::from_server_reply(&payload, Some("MONITOR"))),
        other => Err(Error::Protocol(format!(
            "MONITOR: expected a status line, got {}",
            other.kind_name()
        ))),
    }
}

impl Iterator for Monitor {
    type Item = Result<MonitorEvent>;

    /// The next command; iteration ends after a connection failure.
    fn next(&mut self) -> Option<Result<MonitorEvent>> {
        if self.failed {
            return None;
        }
        Some(self.next_event())
    }
}

impl fmt::Debug for Monitor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Monitor")
            .field("addr", &self.conn.addr())
            .finish()
    }
}

/// Parses one `MONITOR` line.
pub fn parse_line(line: &[u8]) -> Result<MonitorEvent> {
    let bad = |why: &str| {
        Error::Protocol(format!(
            "MONITOR line {:?}: {why}",
            String::from_utf8_lossy(line)
        ))
    };
    let (stamp, rest) = split_once(line, b' ').ok_or_else(|| bad("no timestamp"))?;
    let time = parse_time(stamp).ok_or_else(|| bad("bad timestamp"))?;
    let rest = rest
        .strip_prefix(b"[")
        .ok_or_else(|| bad("no `[db client]`"))?;
    let (db, rest) = split_once(rest, b' ').ok_or_else(|| bad("no database"))?;
    let db = std::str::from_utf8(db)
        .ok()
        .and_then(|d| d.parse().ok())
        .ok_or_else(|| bad("bad database"))?;
    // The arguments start at the first `] "`; an IPv6 address's own `]` is followed by `:`.
    let end = find(rest, b"] \"").ok_or_else(|| bad("no arguments"))?;
    let source = String::from_utf8_lossy(&rest[..end]).into_owned();
    let client = if source == "lua" {
        MonitorSource::Lua
    } else if let Some(path) = source.strip_prefix("unix:") {
        MonitorSource::Unix(path.to_owned())
    } else {
        MonitorSource::Tcp(source)
    };
    let mut args = parse_args(&rest[end + 2..]).map_err(|why| bad(&why))?;
    if args.is_empty() {
        return Err(bad("no command"));
    }
    let command = String::from_utf8_lossy(&args.remove(0)).into_owned();
    Ok(MonitorEvent {
        time,
        db,
        client,
        command,
        args,
    })
}

/// `seconds.microseconds` since the epoch.
fn parse_time(stamp: &[u8]) -> Option<SystemTime> {
    let stamp = std::str::from_utf8(stamp).ok()?;
    let (secs, micros) = stamp.split_once('.')?;
    let secs: u64 = secs.parse().ok()?;
    let micros: u32 = micros.parse().ok()?;
    if micros >= 1_000_000 {
        return None;
    }
    UNIX_EPOCH.checked_add(Duration::new(secs, micros * 1000))
}

/// Space-separated double-quoted arguments with C-style escapes.
fn parse_args(mut rest: &[u8]) -> std::result::Result<Vec<Bytes>, String> {
    let mut args = Vec::new();
    while !rest.is_empty() {
        rest = rest
            .strip_prefix(b"\"")
            .ok_or_else(|| format!("argument {} does not start with a quote", args.len() + 1))?;
        let mut arg = Vec::new();
        loop {
            match rest {
                [] => return Err(format!("argument {} is not closed", args.len() + 1)),
                [b'"', tail @ ..] => {
                    rest = tail;
                    break;
                }
                [b'\\', b'x', hi, lo, tail @ ..]
                    if hi.is_ascii_hexdigit() && lo.is_ascii_hexdigit() =>
                {
                    arg.push((hex(*hi) << 4) | hex(*lo));
                    rest = tail;
                }
                [b'\\', escaped, tail @ ..] => {
                    arg.push(match escaped {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'a' => 0x07,
                        b'b' => 0x08,
                        other => *other,
                    });
                    rest = tail;
                }
                [byte, tail @ ..] => {
                    arg.push(*byte);
                    rest = tail;
                }
            }
        }
        args.push(Bytes::from(arg));
        match rest {
            [] => {}
            [b' ', tail @ ..] => rest = tail,
            _ => return Err(format!("no space after argument {}", args.len())),
        }
    }
    Ok(args)
}

fn hex(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        _ => digit - b'A' + 10,
    }
}

fn split_once(bytes: &[u8], sep: u8) -> Option<(&[u8], &[u8])> {
    let at = bytes.iter().position(|&b| b == sep)?;
    Some((&bytes[..at], &bytes[at + 1..]))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_tcp_line_with_escapes() {
        let line = br#"1700000000.012345 [3 127.0.0.1:50000] "SET" "a b" "q\"uote\\d\n\r\t\a\b\x00\xff\xAb" "\xc3\xa9""#;
        let event = parse_line(line).unwrap();
        assert_eq!(
            event.time,
            UNIX_EPOCH + Duration::new(1_700_000_000, 12_345_000)
        );
        assert_eq!(event.db, 3);
        assert_eq!(event.client, MonitorSource::Tcp("127.0.0.1:50000".into()));
        assert_eq!(event.command, "SET");
        assert_eq!(
            event.args,
            [
                Bytes::from_static(b"a b"),
                Bytes::from_static(b"q\"uote\\d\n\r\t\x07\x08\x00\xff\xab"),
                Bytes::from("é"),
            ]
        );
    }

    #[test]
    fn parses_ipv6_unix_and_lua_sources() {
        let event = parse_line(br#"1.000001 [0 [::1]:6379] "PING""#).unwrap();
        assert_eq!(event.client, MonitorSource::Tcp("[::1]:6379".into()));
        assert!(event.args.is_empty());
        let event = parse_line(br#"1.5 [12 unix:/tmp/redis.sock] "get" "k""#).unwrap();
        assert_eq!(event.client, MonitorSource::Unix("/tmp/redis.sock".into()));
        assert_eq!(event.db, 12);
        let event = parse_line(br#"1.5 [0 lua] "incrby" "n" "1""#).unwrap();
        assert_eq!(event.client, MonitorSource::Lua);
        assert_eq!(event.args.len(), 2);
    }

    #[test]
    fn malformed_lines_are_protocol_errors_showing_the_line() {
        for line in [
            &b"OK"[..],
            b"x.1 [0 lua] \"a\"",
            b"1.1 [0 lua]",
            b"1.1 [0 lua] \"open",
            b"1.1 [0 lua] \"a\"\"b\"",
            b"1.1 [z lua] \"a\"",
        ] {
            let e = parse_line(line).unwrap_err();
            assert!(matches!(e, Error::Protocol(_)), "{e:?}");
            assert!(e.to_string().contains("MONITOR line"), "{e}");
        }
    }
}
