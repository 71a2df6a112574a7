//! Key extraction on the generated table, for the key spec shapes the servers use.

use super::*;
use crate::command_meta::lookup_args;

/// The keys `for_each_key` finds in a command line, as the words at those positions.
fn keys(line: &str) -> Vec<String> {
    let words: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
    let routing = lookup_args(&words)
        .unwrap_or_else(|| panic!("{line}: no such command"))
        .routing();
    let mut found = Vec::new();
    routing
        .for_each_key(&words, |i| {
            found.push(line.split(' ').nth(i).unwrap().to_string())
        })
        .unwrap_or_else(|e| panic!("{line}: {e}"));
    found
}

fn routing_of(name: &str) -> Routing {
    *crate::command_meta::lookup(name.as_bytes())
        .unwrap()
        .routing()
}

#[test]
fn single_and_subcommand_keys() {
    assert_eq!(keys("GET k"), ["k"]);
    assert_eq!(keys("OBJECT ENCODING k"), ["k"]);
    assert_eq!(keys("object encoding k"), ["k"]);
    assert_eq!(routing_of("GET").request, RequestPolicy::ByKey);
}

#[test]
fn counted_keys() {
    assert_eq!(keys("EVAL return 2 a b x y"), ["a", "b"]);
    assert_eq!(keys("EVAL return 0 x"), Vec::<String>::new());
    assert_eq!(keys("FCALL f 1 a x"), ["a"]);
    assert_eq!(keys("ZUNION 2 a b WEIGHTS 1 2"), ["a", "b"]);
    assert_eq!(keys("LMPOP 2 a b LEFT COUNT 3"), ["a", "b"]);
}

#[test]
fn a_bad_key_count_is_an_error_naming_the_command() {
    let words: [&[u8]; 4] = [b"EVAL", b"s", b"two", b"a"];
    let err = routing_of("EVAL").for_each_key(&words, |_| {}).unwrap_err();
    assert!(
        err.to_string().contains("EVAL") && err.to_string().contains("two"),
        "{err}"
    );
    let words: [&[u8]; 4] = [b"EVAL", b"s", b"3", b"a"];
    assert!(routing_of("EVAL").for_each_key(&words, |_| {}).is_err());
}

#[test]
fn keyword_searches() {
    assert_eq!(keys("XREAD COUNT 2 STREAMS a b 0 0"), ["a", "b"]);
    assert_eq!(keys("XREAD STREAMS a 0"), ["a"]);
    assert_eq!(keys("GEORADIUS k 1 2 3 m STORE d"), ["k", "d"]);
}

#[test]
fn migrate_keys_follow_keys_after_the_empty_key() {
    assert_eq!(keys("MIGRATE h 1 k 0 5"), ["k"]);
    let line: [&[u8]; 9] = [b"MIGRATE", b"h", b"1", b"", b"0", b"5", b"KEYS", b"a", b"b"];
    let mut found = Vec::new();
    routing_of("MIGRATE")
        .for_each_key(&line, |i| found.push(i))
        .unwrap();
    assert_eq!(found, [7, 8]);
    // A password spelled KEYS is the AUTH option's value, not the keyword.
    let line: [&[u8]; 11] = [
        b"MIGRATE", b"h", b"1", b"", b"0", b"5", b"AUTH", b"KEYS", b"KEYS", b"a", b"b",
    ];
    let mut found = Vec::new();
    routing_of("MIGRATE")
        .for_each_key(&line, |i| found.push(i))
        .unwrap();
    assert_eq!(found, [9, 10]);
    // A key and KEYS together: the server refuses it, and so does the routing.
    let line: [&[u8]; 9] = [
        b"MIGRATE", b"h", b"1", b"k", b"0", b"5", b"KEYS", b"a", b"b",
    ];
    let err = routing_of("MIGRATE")
        .for_each_key(&line, |_| {})
        .unwrap_err();
    assert!(err.to_string().contains("must be \"\""), "{err}");
}

#[test]
fn sort_store_is_found_past_option_values() {
    assert_eq!(keys("SORT k"), ["k"]);
    assert_eq!(keys("SORT k STORE d"), ["k", "d"]);
    assert_eq!(keys("SORT k BY store GET x LIMIT 0 1 STORE d"), ["k", "d"]);
    assert_eq!(keys("SORT_RO k BY x GET y"), ["k"]);
}

#[test]
fn multi_shard_commands_split_by_group() {
    let mset = routing_of("MSET");
    assert_eq!(keys("MSET a 1 b 2"), ["a", "b"]);
    assert_eq!(mset.request, RequestPolicy::MultiShard);
    assert_eq!(mset.response, ResponsePolicy::AllSucceeded);
    assert_eq!(mset.key_group(&[]), Some(2));
    assert_eq!(routing_of("DEL").key_group(&[]), Some(1));
    assert_eq!(routing_of("MGET").key_group(&[]), Some(1));
    assert_eq!(routing_of("DEL").response, ResponsePolicy::AggSum);
    assert_eq!(routing_of("GET").key_group(&[]), None);
    // Valkey's tips: MSETNX is all or nothing, so it stays in one slot.
    assert_eq!(routing_of("MSETNX").request, RequestPolicy::ByKey);
}

#[test]
fn keyless_and_fan_out_commands() {
    assert_eq!(keys("PING"), Vec::<String>::new());
    assert!(routing_of("PING").keys.is_empty());
    assert_eq!(routing_of("PING").request, RequestPolicy::AllShards);
    assert_eq!(routing_of("ECHO"), Routing::DEFAULT);
    let dbsize = routing_of("DBSIZE");
    assert_eq!(
        (dbsize.request, dbsize.response),
        (RequestPolicy::AllShards, ResponsePolicy::AggSum)
    );
}

#[test]
fn special_handlers_are_named() {
    let scan = routing_of("SCAN");
    assert_eq!(scan.request, RequestPolicy::Special(Special::Scan));
    assert_eq!(scan.response, ResponsePolicy::Special(Special::Scan));
    assert_eq!(
        routing_of("INFO").response,
        ResponsePolicy::Special(Special::Info)
    );
    assert_eq!(
        routing_of("LATENCY DOCTOR").response,
        ResponsePolicy::Special(Special::PerNode)
    );
    // Every handler is used by some command.
    for special in Special::ALL {
        let used = crate::generated::meta::COMMANDS.iter().any(|m| {
            m.routing.request == RequestPolicy::Special(special)
                || m.routing.response == ResponsePolicy::Special(special)
        });
        assert!(used, "{} names no command", special.name());
    }
}

#[test]
fn shard_channels_route_like_keys() {
    assert_eq!(keys("SPUBLISH ch m"), ["ch"]);
    assert_eq!(keys("SSUBSCRIBE a b"), ["a", "b"]);
    assert_eq!(keys("SUNSUBSCRIBE"), Vec::<String>::new());
    let words: [&[u8]; 3] = [b"SPUBLISH", b"ch", b"m"];
    let mut not_key = Vec::new();
    routing_of("SPUBLISH")
        .for_each_key_spec(&words, |spec, _| not_key.push(spec.not_key))
        .unwrap();
    assert_eq!(not_key, [true]);
}

#[test]
fn multi_shard_layouts() {
    let words =
        |line: &'static str| -> Vec<&'static [u8]> { line.split(' ').map(str::as_bytes).collect() };
    let groups = |name: &str, line: &'static str| routing_of(name).key_groups(&words(line));
    let del = groups("DEL", "DEL a b c").unwrap().unwrap();
    assert_eq!(
        (del.first, del.groups, del.width, del.count_at),
        (1, 3, 1, None)
    );
    let mset = groups("MSET", "MSET a 1 b 2").unwrap().unwrap();
    assert_eq!((mset.key(1), mset.groups, mset.tail()), (3, 2, 5));
    assert!(groups("MSET", "MSET a 1 b").is_err());
    let msetex = groups("MSETEX", "MSETEX 2 a 1 b 2 EX 10").unwrap().unwrap();
    assert_eq!(msetex.count_at, Some(1));
    assert_eq!((msetex.first, msetex.groups, msetex.width), (2, 2, 2));
    assert_eq!(msetex.tail(), 6, "EX 10 is repeated by every part");
    assert!(groups("MSETEX", "MSETEX 3 a 1 b 2").is_err());
    assert_eq!(groups("GET", "GET a").unwrap(), None);
}
