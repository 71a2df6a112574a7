//! The generated key positions against the servers' own: for every command with keys, on every
//! golden sample the live test of every command runs (its generated table, included here), the
//! keys [`Routing::for_each_key`] finds must be the ones `COMMAND GETKEYS` returns on Redis 7.0
//! and on Valkey 9, in order.
//!
//! Shard channels (key specs flagged `not_key`) are routed like keys but `COMMAND GETKEYS`
//! leaves them out, so they are compared with that left out and counted apart.
//!
//! Where `COMMAND GETKEYS` cannot answer, the sample is listed (printed on every run), never
//! passed silently: Redis 7.0 refuses a one-word command line (`COMMAND GETKEYS SUNSUBSCRIBE`
//! is an arity error of `COMMAND GETKEYS` itself), and both servers' key-spec engines refuse a
//! line whose trailing key range is empty (`PFMERGE dest`) although the command runs; such a
//! line is run on the (throwaway) server to show it is valid, and it fails the test if the
//! server refuses it while the routing found keys.

#[path = "../../redis-client/tests/every_command_live/samples.rs"]
mod samples;
// Only the samples' wire forms are read here; what running them gives is every_command_live's.
#[allow(dead_code)]
#[path = "../../redis-client/tests/every_command_live/table.rs"]
mod table;

/// The samples name command types as `crate::cmd::…`.
pub(crate) use redis_client::cmd;
use table::{run, Entry, Sample};

use redis_client::command::{lookup, Routing};
use redis_client::{Config, Connection, Error, Value};
use redis_test_harness::{Server, ServerKind};

/// The server's answer when a command line has no keys.
const NO_KEYS: &str = "The command has no key arguments";
/// Redis 7.0's answer to `COMMAND GETKEYS` with a one-word command line.
const GETKEYS_ARITY: &str = "wrong number of arguments for 'command|getkeys' command";
/// The key-spec engine's answer when a spec finds its keys out of range.
const INVALID: &str = "Invalid arguments specified for command";

/// Command lines the golden samples do not reach, where a naive reading of the key specs
/// goes wrong: a token spelled as another option's value, empty trailing ranges, counts of
/// zero, keywords searched from the end. Checked the same way on both servers.
const EDGE_LINES: &[&[&str]] = &[
    &[
        "SORT", "k", "BY", "store", "GET", "STORE", "LIMIT", "0", "1", "STORE", "dst",
    ],
    &["SORT", "k", "ALPHA", "DESC"],
    &["SORT_RO", "k", "BY", "w_*", "GET", "#"],
    &[
        "MIGRATE", "h", "1", "", "0", "5", "AUTH", "KEYS", "KEYS", "a", "b",
    ],
    &[
        "MIGRATE", "h", "1", "", "0", "5", "AUTH2", "u", "KEYS", "KEYS", "a",
    ],
    &["MIGRATE", "h", "1", "k", "0", "5", "COPY"],
    &["EVAL", "return 1", "0"],
    &["EVAL", "return 1", "3", "a", "b", "c", "x"],
    &["FCALL_RO", "f", "2", "a", "b"],
    &["ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"],
    &["BLMPOP", "0", "2", "a", "b", "LEFT", "COUNT", "1"],
    &[
        "XREAD", "COUNT", "1", "BLOCK", "0", "STREAMS", "a", "b", "c", "0", "0", "0",
    ],
    &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "streams", "0"],
    &["GEORADIUS", "k", "0", "0", "1", "km", "STOREDIST", "d"],
    &["GEORADIUSBYMEMBER", "k", "m", "1", "km", "STORE", "d"],
    &["MSET", "a", "1", "b", "2", "c", "3"],
    &["OBJECT", "ENCODING", "k"],
    &["BITOP", "AND", "d", "a", "b"],
    &["LCS", "a", "b"],
    &["SINTERCARD", "2", "a", "b", "LIMIT", "1"],
];

/// What one server × samples run found.
#[derive(Default)]
struct Tally {
    commands: usize,
    checked: usize,
    agreed_no_keys: usize,
    both_refused: usize,
    with_channels: usize,
    other_servers: usize,
    unanswered: Vec<String>,
    mismatches: Vec<String>,
}

/// The keys `routing` finds in `wire` (leaving out `not_key` arguments, as the server does),
/// as the words at those positions.
fn ours(routing: &Routing, wire: &[&str], channels: &mut bool) -> Result<Vec<String>, String> {
    let argv: Vec<&[u8]> = wire.iter().map(|w| w.as_bytes()).collect();
    let mut keys = Vec::new();
    routing
        .for_each_key_spec(&argv, |spec, index| {
            if spec.not_key {
                *channels = true;
            } else {
                keys.push(wire[index].to_string());
            }
        })
        .map_err(|e| e.to_string())?;
    Ok(keys)
}

/// The keys `COMMAND GETKEYS` returns for `wire`; `Err` with the server's message when it
/// refuses (other than for having no keys).
fn theirs(conn: &mut Connection, wire: &[&str]) -> Result<Vec<String>, String> {
    let mut args = vec!["COMMAND", "GETKEYS"];
    args.extend_from_slice(wire);
    match conn.execute(args) {
        Ok(Value::Array(items)) => items
            .into_iter()
            .map(|item| match item {
                Value::Bulk(bytes) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
                other => Err(format!("GETKEYS returned {other:?}")),
            })
            .collect(),
        Ok(other) => Err(format!("GETKEYS returned {other:?}")),
        Err(Error::Response(e)) if e.message().contains(NO_KEYS) => Ok(Vec::new()),
        Err(Error::Response(e)) => Err(format!("{} {}", e.code(), e.message())),
        Err(other) => panic!("COMMAND GETKEYS {}: {other}", wire.join(" ")),
    }
}

/// Whether the server runs `wire` without an error reply.
fn runs(conn: &mut Connection, wire: &[&str]) -> bool {
    !matches!(conn.execute(wire.to_vec()), Err(Error::Response(_)))
}

fn check_sample(
    conn: &mut Connection,
    entry: &Entry,
    sample: &Sample,
    routing: &Routing,
    tally: &mut Tally,
) {
    let mut channels = false;
    let ours = ours(routing, sample.wire, &mut channels);
    let theirs = theirs(conn, sample.wire);
    tally.checked += 1;
    if channels {
        tally.with_channels += 1;
    }
    match (&ours, &theirs) {
        (Ok(a), Ok(b)) if a == b => {
            if a.is_empty() {
                tally.agreed_no_keys += 1;
            }
        }
        (Err(_), Err(_)) => tally.both_refused += 1,
        (Ok(keys), Err(refusal)) if refusal.contains(GETKEYS_ARITY) && sample.wire.len() == 1 => {
            tally.unanswered.push(format!(
                "`{}`: GETKEYS takes no one-word line here; routing {keys:?}",
                sample.wire[0]
            ))
        }
        (Ok(keys), Err(refusal)) if refusal.contains(INVALID) && runs(conn, sample.wire) => {
            tally.unanswered.push(format!(
                "`{}`: GETKEYS refuses it, the server runs it; routing {keys:?}",
                sample.wire.join(" ")
            ))
        }
        _ => tally.mismatches.push(format!(
            "commands/{}.json: `{}`: routing {ours:?}, COMMAND GETKEYS {theirs:?}",
            entry.stem,
            sample.wire.join(" ")
        )),
    }
}

/// Checks [`EDGE_LINES`]; returns how many.
fn check_edge_lines(conn: &mut Connection, tally: &mut Tally) -> usize {
    for line in EDGE_LINES {
        let meta = redis_client::command::lookup_args(
            &line.iter().map(|w| w.as_bytes()).collect::<Vec<_>>(),
        )
        .unwrap_or_else(|| panic!("{line:?}: not in the command table"));
        let mut channels = false;
        let ours = ours(meta.routing(), line, &mut channels);
        let theirs = theirs(conn, line);
        if ours != theirs {
            tally.mismatches.push(format!(
                "edge line `{}`: routing {ours:?}, COMMAND GETKEYS {theirs:?}",
                line.join(" ")
            ));
        }
    }
    EDGE_LINES.len()
}

fn check_server(kind: ServerKind) {
    let server = Server::builder(kind).start();
    let server_id = server.server_id();
    let config = Config::from_url(&server.url()).unwrap();
    let mut conn = Connection::open(&config).unwrap();
    let mut tally = Tally::default();
    for entry in samples::ENTRIES {
        if !entry.servers.contains(&server_id.as_str()) {
            continue;
        }
        let meta = lookup(entry.name.as_bytes())
            .unwrap_or_else(|| panic!("{} is not in the command table", entry.name));
        let routing = meta.routing();
        if routing.keys.is_empty() {
            continue;
        }
        tally.commands += 1;
        for sample in entry.samples {
            if sample.servers.contains(&server_id.as_str()) {
                check_sample(&mut conn, entry, sample, routing, &mut tally);
            } else {
                tally.other_servers += 1;
            }
        }
    }
    let edge = check_edge_lines(&mut conn, &mut tally);
    eprintln!(
        "{server_id}: {edge} edge lines checked against COMMAND GETKEYS; {} commands with keys, {} samples checked against COMMAND GETKEYS \
         ({} without keys on both sides, {} refused by both, {} with shard channels), \
         {} samples use arguments this server lacks, {} GETKEYS could not answer, {} mismatches",
        tally.commands,
        tally.checked,
        tally.agreed_no_keys,
        tally.both_refused,
        tally.with_channels,
        tally.other_servers,
        tally.unanswered.len(),
        tally.mismatches.len()
    );
    for line in &tally.unanswered {
        eprintln!("  unanswered: {line}");
    }
    assert!(
        tally.commands > 150,
        "{} commands with keys",
        tally.commands
    );
    assert!(
        tally.mismatches.is_empty(),
        "{server_id}: {} of {} samples disagree with COMMAND GETKEYS:\n{}",
        tally.mismatches.len(),
        tally.checked,
        tally.mismatches.join("\n")
    );
}

#[test]
fn redis_getkeys_agrees() {
    check_server(ServerKind::Redis);
}

#[test]
fn valkey_getkeys_agrees() {
    check_server(ServerKind::Valkey);
}

/// The generator's list of handlers `rust.cluster_special` may name is the runtime's `Special`,
/// name for name, so a name the spec validates always has its hand-written variant.
#[test]
fn special_handlers_match_the_runtime() {
    let runtime: Vec<&str> = redis_client::command::Special::ALL
        .iter()
        .map(|s| s.name())
        .collect();
    assert_eq!(runtime, codegen::routing::SPECIAL_HANDLERS);
}
