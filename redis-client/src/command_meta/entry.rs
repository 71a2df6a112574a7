//! One command's entry in the generated table ([`CommandMeta`]) and the facts it holds: flags,
//! arity, key positions, where a blocking command keeps its timeout, connection state, and how
//! a cluster routes it.

use std::time::Duration;

use super::routing::Routing;

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
    /// The command changes or relies on the state of the connection it runs on (`SELECT`,
    /// `MULTI`, `WATCH`, `SUBSCRIBE`, `CLIENT REPLY`, `HELLO` …; the spec's
    /// `rust.connection_state`), so executors that share their connections refuse it.
    pub connection_state: bool,
    /// How a cluster client routes the command: key specs and request/response policies.
    pub routing: Routing,
}

impl CommandMeta {
    /// Whether all bits of `flag` are set.
    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag == flag
    }

    /// How a cluster client routes the command (see [`Routing`]).
    pub fn routing(&self) -> &Routing {
        &self.routing
    }

    /// Whether the command only reads (and so is safe to repeat, and may go to a replica).
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
