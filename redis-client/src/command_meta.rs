//! Facts about commands that the runtime needs at run time: flags, arity, key positions and
//! where a blocking command keeps its timeout.
//!
//! The facts live in the command spec; `cargo xtask codegen` turns them into the static table
//! in `src/generated/meta.rs`. Nothing here is written by hand per command — this module only
//! defines the shapes and the logic that reads them (lookup, read-timeout extension).

use std::time::Duration;

use crate::generated::meta::COMMANDS;

/// Command flags as bits of [`CommandMeta::flags`], named after the server's `COMMAND INFO` flags.
pub mod flags {
    /// The command may modify data.
    pub const WRITE: u32 = 1 << 0;
    /// The command only reads data; running it twice is harmless.
    pub const READONLY: u32 = 1 << 1;
    /// The command may grow memory use and is refused when the server is out of memory.
    pub const DENYOOM: u32 = 1 << 2;
    /// The command is implemented by a module.
    pub const MODULE: u32 = 1 << 3;
    /// An administrative command.
    pub const ADMIN: u32 = 1 << 4;
    /// A pub/sub command.
    pub const PUBSUB: u32 = 1 << 5;
    /// The command is not allowed inside scripts.
    pub const NOSCRIPT: u32 = 1 << 6;
    /// The command may block the client (`BLPOP`, `XREAD … BLOCK` …).
    pub const BLOCKING: u32 = 1 << 7;
    /// The command is allowed while the server loads its dataset.
    pub const LOADING: u32 = 1 << 8;
    /// The command is allowed on a replica with stale data.
    pub const STALE: u32 = 1 << 9;
    /// The command is not shown in `MONITOR`.
    pub const SKIP_MONITOR: u32 = 1 << 10;
    /// The command is not logged in the slow log.
    pub const SKIP_SLOWLOG: u32 = 1 << 11;
    /// The command is not logged in Valkey's command log (Valkey's successor of the slow log).
    pub const SKIP_COMMANDLOG: u32 = 1 << 24;
    /// The command is allowed on an importing cluster slot after `ASKING`.
    pub const ASKING: u32 = 1 << 12;
    /// The command runs in O(1) or O(log N).
    pub const FAST: u32 = 1 << 13;
    /// The command may run before authentication.
    pub const NO_AUTH: u32 = 1 << 14;
    /// The command may be replicated although it is not a write.
    pub const MAY_REPLICATE: u32 = 1 << 15;
    /// The command is available on Sentinel.
    pub const SENTINEL: u32 = 1 << 16;
    /// The command is available only on Sentinel.
    pub const ONLY_SENTINEL: u32 = 1 << 17;
    /// The command may be called without any key.
    pub const NO_MANDATORY_KEYS: u32 = 1 << 18;
    /// The command is protected (disabled by default configuration).
    pub const PROTECTED: u32 = 1 << 19;
    /// The command is refused during asynchronous loading.
    pub const NO_ASYNC_LOADING: u32 = 1 << 20;
    /// The command is not allowed inside `MULTI`.
    pub const NO_MULTI: u32 = 1 << 21;
    /// Key positions depend on the arguments (key specs say how).
    pub const MOVABLE_KEYS: u32 = 1 << 22;
    /// The command is allowed while a script or function is running too long.
    pub const ALLOW_BUSY: u32 = 1 << 23;
}

/// Where a blocking command's timeout argument sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeoutPosition {
    /// The last argument (`BLPOP key… timeout`).
    Last,
    /// The first argument after the command name (`BLMPOP timeout numkeys key…`).
    First,
    /// The argument after this token (`XREAD … BLOCK milliseconds …`); matched case-insensitively.
    AfterToken(&'static str),
}

/// The unit of a blocking command's timeout argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeUnit {
    /// Seconds, fractions allowed (`BLPOP`).
    Seconds,
    /// Milliseconds (`XREAD BLOCK`).
    Milliseconds,
}

/// Where a blocking command's timeout is and in which unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockingTimeout {
    /// The argument holding the timeout.
    pub position: TimeoutPosition,
    /// Its unit.
    pub unit: TimeUnit,
}

/// How long a blocking command asked the server to wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockFor {
    /// Timeout 0: block until data arrives.
    Forever,
    /// Block at most this long.
    Up(Duration),
}

impl BlockFor {
    /// The read timeout for a command that blocks for `block` (`None`: does not block) on a
    /// connection whose socket timeout is `socket_timeout`; `None` means no timeout.
    ///
    /// A blocking command waits on the server for its own timeout before the reply can even
    /// start, so that time is added to the socket timeout; blocking forever means no read
    /// timeout at all.
    pub fn extend(block: Option<BlockFor>, socket_timeout: Option<Duration>) -> Option<Duration> {
        let socket_timeout = socket_timeout?;
        match block {
            None => Some(socket_timeout),
            Some(BlockFor::Forever) => None,
            Some(BlockFor::Up(wait)) => Some(socket_timeout.saturating_add(wait)),
        }
    }
}

impl BlockingTimeout {
    /// Reads the timeout from `args`, the arguments after the command (and subcommand) name.
    ///
    /// `None` when the argument is absent or not a non-negative number; the server will refuse
    /// such a command, so there is nothing to wait for. For [`TimeoutPosition::AfterToken`] the
    /// first occurrence of the token counts: options precede the key lists they could clash with.
    pub fn find(&self, args: &[&[u8]]) -> Option<BlockFor> {
        let raw = match self.position {
            TimeoutPosition::Last => args.last()?,
            TimeoutPosition::First => args.first()?,
            TimeoutPosition::AfterToken(token) => {
                let at = args
                    .iter()
                    .position(|a| a.eq_ignore_ascii_case(token.as_bytes()))?;
                args.get(at + 1)?
            }
        };
        let number: f64 = std::str::from_utf8(raw).ok()?.trim().parse().ok()?;
        if !number.is_finite() || number < 0.0 {
            return None;
        }
        if number == 0.0 {
            return Some(BlockFor::Forever);
        }
        let seconds = match self.unit {
            TimeUnit::Seconds => number,
            TimeUnit::Milliseconds => number / 1000.0,
        };
        Duration::try_from_secs_f64(seconds).ok().map(BlockFor::Up)
    }
}

/// What the runtime knows about one command or subcommand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommandMeta {
    /// Upper-case name; subcommands as `"CONTAINER SUB"`, e.g. `"CLIENT KILL"`.
    pub name: &'static str,
    /// The server's arity: positive is exact, negative is a minimum (both count the name).
    pub arity: i32,
    /// Bits from [`flags`].
    pub flags: u32,
    /// Position of the first key argument (0: none), counting the command name as 0.
    pub first_key: i32,
    /// Position of the last key argument; negative counts from the end.
    pub last_key: i32,
    /// Distance between key arguments.
    pub key_step: i32,
    /// For blocking commands: where the timeout is.
    pub blocking_timeout: Option<BlockingTimeout>,
}

impl CommandMeta {
    /// Whether all bits of `flag` are set.
    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag == flag
    }

    /// Whether the command only reads (and so is safe to repeat).
    pub fn is_read_only(&self) -> bool {
        self.has(flags::READONLY)
    }

    /// How many words the name has: 1 for `GET`, 2 for `CLIENT KILL`.
    pub fn name_words(&self) -> usize {
        self.name.split(' ').count()
    }

    /// The read timeout for one run of this command, given the connection's socket timeout.
    ///
    /// See [`BlockFor::extend`]. `args` are the arguments after the name words; `None` is
    /// "no timeout".
    pub fn read_timeout(
        &self,
        args: &[&[u8]],
        socket_timeout: Option<Duration>,
    ) -> Option<Duration> {
        let block = self.blocking_timeout.and_then(|b| b.find(args));
        BlockFor::extend(block, socket_timeout)
    }
}

/// Finds a command's metadata by name (`b"blpop"`, `b"CLIENT KILL"`), ignoring case.
pub fn lookup(name: &[u8]) -> Option<&'static CommandMeta> {
    lookup_in(COMMANDS, name)
}

/// Finds the most specific entry for a command line: `CONTAINER SUB` when the table has it, else
/// the command itself. [`CommandMeta::name_words`] tells how many leading arguments it covers.
pub fn lookup_args(args: &[&[u8]]) -> Option<&'static CommandMeta> {
    lookup_args_in(COMMANDS, args)
}

pub(crate) fn lookup_args_in<'t>(
    table: &'t [CommandMeta],
    args: &[&[u8]],
) -> Option<&'t CommandMeta> {
    let first = args.first()?;
    if let Some(second) = args.get(1) {
        let mut both = [0u8; MAX_NAME];
        let len = first.len() + 1 + second.len();
        if len <= MAX_NAME {
            both[..first.len()].copy_from_slice(first);
            both[first.len()] = b' ';
            both[first.len() + 1..len].copy_from_slice(second);
            if let Some(meta) = lookup_in(table, &both[..len]) {
                return Some(meta);
            }
        }
    }
    lookup_in(table, first)
}

/// Longer names are not commands; this bound keeps the upper-casing on the stack.
const MAX_NAME: usize = 64;

pub(crate) fn lookup_in<'t>(table: &'t [CommandMeta], name: &[u8]) -> Option<&'t CommandMeta> {
    if name.len() > MAX_NAME {
        return None;
    }
    let mut upper = [0u8; MAX_NAME];
    let upper = &mut upper[..name.len()];
    upper.copy_from_slice(name);
    upper.make_ascii_uppercase();
    table
        .binary_search_by(|meta| meta.name.as_bytes().cmp(upper))
        .ok()
        .map(|i| &table[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn meta(
        name: &'static str,
        flags: u32,
        blocking: Option<BlockingTimeout>,
    ) -> CommandMeta {
        CommandMeta {
            name,
            arity: -2,
            flags,
            first_key: 1,
            last_key: 1,
            key_step: 1,
            blocking_timeout: blocking,
        }
    }

    const SECONDS_LAST: Option<BlockingTimeout> = Some(BlockingTimeout {
        position: TimeoutPosition::Last,
        unit: TimeUnit::Seconds,
    });

    static TABLE: &[CommandMeta] = &[
        meta(
            "BLMPOP",
            flags::WRITE | flags::BLOCKING,
            Some(BlockingTimeout {
                position: TimeoutPosition::First,
                unit: TimeUnit::Seconds,
            }),
        ),
        meta("BLPOP", flags::WRITE | flags::BLOCKING, SECONDS_LAST),
        meta("CLIENT", 0, None),
        meta("CLIENT KILL", flags::ADMIN, None),
        meta("GET", flags::READONLY | flags::FAST, None),
        meta(
            "XREAD",
            flags::READONLY | flags::BLOCKING,
            Some(BlockingTimeout {
                position: TimeoutPosition::AfterToken("BLOCK"),
                unit: TimeUnit::Milliseconds,
            }),
        ),
    ];

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn the_generated_table_is_sorted_for_binary_search() {
        for pair in COMMANDS.windows(2) {
            assert!(
                pair[0].name < pair[1].name,
                "{} must sort before {}",
                pair[0].name,
                pair[1].name
            );
        }
        for meta in COMMANDS {
            assert_eq!(meta.name, meta.name.to_ascii_uppercase());
        }
    }

    #[test]
    fn lookup_ignores_case_and_prefers_subcommands() {
        assert_eq!(lookup_in(TABLE, b"blpop").unwrap().name, "BLPOP");
        assert_eq!(
            lookup_in(TABLE, b"Client Kill").unwrap().name,
            "CLIENT KILL"
        );
        assert!(lookup_in(TABLE, b"NOPE").is_none());
        assert!(lookup_in(TABLE, &[b'A'; 200]).is_none());
        let args: [&[u8]; 3] = [b"client", b"kill", b"1.2.3.4:5"];
        assert_eq!(lookup_args_in(TABLE, &args).unwrap().name, "CLIENT KILL");
        let args: [&[u8]; 2] = [b"client", b"list"];
        assert_eq!(lookup_args_in(TABLE, &args).unwrap().name, "CLIENT");
        let args: [&[u8]; 2] = [b"get", b"k"];
        assert_eq!(lookup_args_in(TABLE, &args).unwrap().name, "GET");
    }

    #[test]
    fn blocking_timeouts_extend_the_socket_timeout() {
        let blpop = lookup_in(TABLE, b"BLPOP").unwrap();
        let socket = Some(ms(200));
        assert_eq!(
            blpop.read_timeout(&[b"a", b"b", b"1"], socket),
            Some(ms(1200))
        );
        assert_eq!(blpop.read_timeout(&[b"a", b"0.5"], socket), Some(ms(700)));
        assert_eq!(
            blpop.read_timeout(&[b"a", b"0"], socket),
            None,
            "0 blocks forever"
        );
        assert_eq!(
            blpop.read_timeout(&[b"a", b"1"], None),
            None,
            "no socket timeout"
        );
        assert_eq!(blpop.read_timeout(&[b"a", b"soon"], socket), socket);
        assert_eq!(blpop.read_timeout(&[b"a", b"-1"], socket), socket);

        let blmpop = lookup_in(TABLE, b"BLMPOP").unwrap();
        assert_eq!(
            blmpop.read_timeout(&[b"2", b"1", b"k", b"LEFT"], socket),
            Some(ms(2200))
        );

        let xread = lookup_in(TABLE, b"XREAD").unwrap();
        let args: [&[u8]; 6] = [b"COUNT", b"5", b"block", b"1500", b"STREAMS", b"s"];
        assert_eq!(xread.read_timeout(&args, socket), Some(ms(1700)));
        let args: [&[u8]; 3] = [b"STREAMS", b"s", b"0"];
        assert_eq!(
            xread.read_timeout(&args, socket),
            socket,
            "no BLOCK, no wait"
        );

        let get = lookup_in(TABLE, b"GET").unwrap();
        assert_eq!(get.read_timeout(&[b"k"], socket), socket);
        assert!(get.is_read_only() && !blpop.is_read_only());
        assert_eq!(lookup_in(TABLE, b"CLIENT KILL").unwrap().name_words(), 2);
    }
}
