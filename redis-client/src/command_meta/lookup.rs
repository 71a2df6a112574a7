//! Finding a command's entry in the generated table by name, for commands given as raw
//! arguments.

use std::sync::OnceLock;

use super::entry::CommandMeta;
use crate::generated::meta::COMMANDS;

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

/// The entry of a command line that changes its connection's state
/// ([`CommandMeta::connection_state`]), else `None`; the same entry [`lookup_args`] finds.
///
/// Cheaper than [`lookup_args`] for the commands that do not: most are ruled out by their
/// first word's initial and length alone, with no search.
pub(crate) fn lookup_connection_state(args: &[&[u8]]) -> Option<&'static CommandMeta> {
    let first = args.first()?;
    if !may_change_connection_state(first) {
        return None;
    }
    lookup_args(args).filter(|meta| meta.connection_state)
}

/// `false` when no command (or subcommand) whose first word is `name` changes connection
/// state; `true` means perhaps ([`lookup_connection_state`] tells).
#[inline]
pub(crate) fn may_change_connection_state(name: &[u8]) -> bool {
    StateFilter::get().may_match(name)
}

/// Which (initial, length) pairs the first words of connection-state commands have, built once
/// from the generated table: bit `len` (lengths over 31 share bit 31) of the entry for the
/// initial's low five bits.
struct StateFilter([u32; 32]);

impl StateFilter {
    #[inline]
    fn get() -> &'static StateFilter {
        static FILTER: OnceLock<StateFilter> = OnceLock::new();
        FILTER.get_or_init(|| StateFilter::of(COMMANDS))
    }

    fn of(table: &[CommandMeta]) -> StateFilter {
        let mut bits = [0u32; 32];
        for meta in table.iter().filter(|meta| meta.connection_state) {
            let first = meta.name.split(' ').next().unwrap_or(meta.name);
            let (slot, bit) = StateFilter::position(first.as_bytes());
            bits[slot] |= bit;
        }
        StateFilter(bits)
    }

    /// Case-insensitive for letters; other initials share slots with them, which only lets
    /// more names through to the exact lookup.
    #[inline]
    fn position(word: &[u8]) -> (usize, u32) {
        let initial = word.first().copied().unwrap_or(0);
        (usize::from(initial & 31), 1 << word.len().min(31))
    }

    #[inline]
    fn may_match(&self, word: &[u8]) -> bool {
        let (slot, bit) = StateFilter::position(word);
        self.0[slot] & bit != 0
    }
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
    use std::time::Duration;

    use crate::command_meta::entry::{flags, BlockingTimeout, TimeUnit, TimeoutPosition};

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
            connection_state: false,
            routing: crate::command_meta::Routing::DEFAULT,
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

    #[test]
    fn connection_state_lookup_finds_exactly_the_flagged_entries() {
        let select = lookup(b"SELECT").unwrap();
        assert!(select.connection_state);
        assert!(!lookup(b"GET").unwrap().connection_state);
        let args: [&[u8]; 2] = [b"select", b"1"];
        assert_eq!(lookup_connection_state(&args), Some(select));
        let args: [&[u8]; 3] = [b"Client", b"reply", b"OFF"];
        assert_eq!(lookup_connection_state(&args).unwrap().name, "CLIENT REPLY");
        let args: [&[u8]; 2] = [b"CLIENT", b"LIST"];
        assert_eq!(lookup_connection_state(&args), None);
        let args: [&[u8]; 2] = [b"SET", b"k"];
        assert_eq!(lookup_connection_state(&args), None);
        assert_eq!(lookup_connection_state(&[]), None);
        // The filter never hides an entry the full lookup would find, whatever the case.
        for meta in COMMANDS {
            let words: Vec<Vec<u8>> = meta
                .name
                .split(' ')
                .map(|w| w.to_ascii_lowercase().into_bytes())
                .collect();
            let args: Vec<&[u8]> = words.iter().map(Vec::as_slice).collect();
            let found = lookup_connection_state(&args);
            assert_eq!(found.is_some(), meta.connection_state, "{}", meta.name);
        }
    }

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
