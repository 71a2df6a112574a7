//! The generated command values on the wire, for the commands whose arguments are hardest to
//! get right: every option of SET, ZADD, XADD, XREADGROUP, GEOSEARCH, CLIENT KILL, BITFIELD,
//! MIGRATE, SORT, EVAL/FCALL, CONFIG SET, LPOS, ZRANGE, HSETEX and HGETEX; the output types
//! the options select; and the arguments `check` refuses before anything is sent.

use std::marker::PhantomData;
use std::time::{Duration, UNIX_EPOCH};

use bytes::Bytes;
use redis_client::cmd::{self, *};
use redis_client::command::Command;
use redis_client::resp::Cmd;
use redis_client::{ToArgs, Value};

/// The arguments a command writes, as text.
fn args(c: &impl ToArgs) -> Vec<String> {
    Cmd::from_args(c)
        .args()
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

/// GEOSEARCH … WITHCOORD WITHDIST: name, distance, (longitude, latitude).
type Located = Vec<(Bytes, f64, (f64, f64))>;

/// Pins the output type of a command value at compile time.
fn output<C: Command>(_: &C) -> PhantomData<C::Output> {
    PhantomData
}

#[test]
fn set_with_every_option_and_each_reply_type() {
    let plain = cmd::Set::new("k", "v");
    assert_eq!(args(&plain), ["SET", "k", "v"]);
    let _: PhantomData<()> = output(&plain);

    let get = cmd::Set::new("k", "v").get();
    assert_eq!(args(&get), ["SET", "k", "v", "GET"]);
    let _: PhantomData<Option<Bytes>> = output(&get);

    let nx = cmd::Set::new("k", "v").nx();
    assert_eq!(args(&nx), ["SET", "k", "v", "NX"]);
    let _: PhantomData<Option<()>> = output(&nx);

    // GET is the first variant: with both, the old value comes back.
    let both = cmd::Set::new("k", 1)
        .xx()
        .get()
        .ex(Duration::from_millis(1500));
    assert_eq!(args(&both), ["SET", "k", "1", "XX", "GET", "EX", "2"]);
    let _: PhantomData<Option<Bytes>> = output(&both);

    // Choice setters replace each other; the enum setter is the same choice.
    let ifeq = cmd::Set::new("k", "v").nx().ifeq("old").px(250);
    assert_eq!(args(&ifeq), ["SET", "k", "v", "IFEQ", "old", "PX", "250"]);
    let enum_form = cmd::Set::new("k", "v")
        .condition(SetCondition::ifeq("old"))
        .expiration(SetExpiration::Px(250));
    assert_eq!(args(&enum_form), args(&ifeq));

    let at = UNIX_EPOCH + Duration::from_millis(1_700_000_000_500);
    assert_eq!(
        args(&cmd::Set::new("k", "v").exat(at)),
        ["SET", "k", "v", "EXAT", "1700000001"]
    );
    assert_eq!(
        args(&cmd::Set::new("k", "v").pxat(at)),
        ["SET", "k", "v", "PXAT", "1700000000500"]
    );
    assert_eq!(
        args(&cmd::Set::new("k", "v").ex(10).keepttl()),
        ["SET", "k", "v", "KEEPTTL"]
    );
}

#[test]
fn zadd_conditions_comparisons_ch_and_incr() {
    let c = cmd::Zadd::new("z", [(1.0, "a"), (2.5, "b")]).nx().gt().ch();
    assert_eq!(
        args(&c),
        ["ZADD", "z", "NX", "GT", "CH", "1", "a", "2.5", "b"]
    );
    let _: PhantomData<i64> = output(&c);
    let c = cmd::Zadd::new("z", [(-1.5, "a")]).xx().lt().incr();
    assert_eq!(args(&c), ["ZADD", "z", "XX", "LT", "INCR", "-1.5", "a"]);
    let _: PhantomData<Option<f64>> = output(&c);
    let c = cmd::Zadd::new("z", [(f64::INFINITY, "top")]).condition(ZaddCondition::Xx);
    assert_eq!(args(&c), ["ZADD", "z", "XX", "inf", "top"]);
}

#[test]
fn xadd_trimming_and_ids() {
    let c = cmd::Xadd::new("s", XaddIdSelector::AutoId, [("f", "v"), ("g", "w")])
        .nomkstream()
        .trim(
            XaddTrim::new(XaddStrategy::Maxlen, 1000)
                .approximately()
                .limit(10),
        );
    assert_eq!(
        args(&c),
        [
            "XADD",
            "s",
            "NOMKSTREAM",
            "MAXLEN",
            "~",
            "1000",
            "LIMIT",
            "10",
            "*",
            "f",
            "v",
            "g",
            "w"
        ]
    );
    let _: PhantomData<Option<String>> = output(&c);
    let c = cmd::Xadd::new("s", XaddIdSelector::id("5-1"), [("f", "v")])
        .trim(XaddTrim::new(XaddStrategy::Minid, "0-1").equal());
    assert_eq!(
        args(&c),
        ["XADD", "s", "MINID", "=", "0-1", "5-1", "f", "v"]
    );
    let _: PhantomData<String> = output(&c);
}

#[test]
fn xreadgroup_writes_keys_then_ids() {
    let c = cmd::Xreadgroup::new("g", "alice", [("s1", ">"), ("s2", "0")])
        .count(10)
        .block(Duration::from_millis(100))
        .noack();
    assert_eq!(
        args(&c),
        [
            "XREADGROUP",
            "GROUP",
            "g",
            "alice",
            "COUNT",
            "10",
            "BLOCK",
            "100",
            "NOACK",
            "STREAMS",
            "s1",
            "s2",
            ">",
            "0"
        ]
    );
    assert_eq!(
        args(&cmd::Xread::new([("a", "$")]).block(0)),
        ["XREAD", "BLOCK", "0", "STREAMS", "a", "$"]
    );
}

#[test]
fn geosearch_origins_shapes_and_units() {
    let c = cmd::Geosearch::new("geo", GeosearchBy::circle(200.0, GeosearchUnit::Km))
        .frommember("Palermo")
        .asc()
        .count(GeosearchCount::new(2).any())
        .withcoord()
        .withdist();
    assert_eq!(
        args(&c),
        [
            "GEOSEARCH",
            "geo",
            "FROMMEMBER",
            "Palermo",
            "BYRADIUS",
            "200",
            "KM",
            "ASC",
            "COUNT",
            "2",
            "ANY",
            "WITHCOORD",
            "WITHDIST"
        ]
    );
    let _: PhantomData<Located> = output(&c);
    let c = cmd::Geosearch::new("geo", GeosearchBy::box_(400.0, 300.5, GeosearchUnit::Mi))
        .fromlonlat(15.0, 37.25)
        .withhash();
    assert_eq!(
        args(&c),
        [
            "GEOSEARCH",
            "geo",
            "FROMLONLAT",
            "15",
            "37.25",
            "BYBOX",
            "400",
            "300.5",
            "MI",
            "WITHHASH"
        ]
    );
    let _: PhantomData<Vec<(Bytes, i64)>> = output(&c);
    // Valkey's polygon counts its own vertices.
    let c = cmd::Geosearch::new(
        "geo",
        GeosearchBy::polygon([(1.0, 2.0), (3.0, 4.0), (5.0, 6.0)]),
    );
    assert_eq!(
        args(&c),
        [
            "GEOSEARCH",
            "geo",
            "BYPOLYGON",
            "3",
            "1",
            "2",
            "3",
            "4",
            "5",
            "6"
        ]
    );
}

#[test]
fn client_kill_with_several_filters_or_the_old_form() {
    let c = cmd::ClientKill::new_format([
        ClientKillNewFormat::id([7, 8]),
        ClientKillNewFormat::type_(ClientKillClientType::Normal),
        ClientKillNewFormat::user("bob"),
        ClientKillNewFormat::skipme(ClientKillSkipme::Yes),
        ClientKillNewFormat::maxage(30),
    ]);
    assert_eq!(
        args(&c),
        [
            "CLIENT", "KILL", "ID", "7", "8", "TYPE", "NORMAL", "USER", "bob", "SKIPME", "YES",
            "MAXAGE", "30"
        ]
    );
    let _: PhantomData<i64> = output(&c);
    let old = cmd::ClientKill::old_format("127.0.0.1:5000");
    assert_eq!(args(&old), ["CLIENT", "KILL", "127.0.0.1:5000"]);
    let _: PhantomData<()> = output(&old);
}

#[test]
fn bitfield_get_set_incrby_and_overflow() {
    let c = cmd::Bitfield::new("bf")
        .get("u8", 0)
        .write(
            BitfieldWrite::new(BitfieldWriteOperation::set("u8", 0, 255))
                .overflow(BitfieldOverflow::Sat),
        )
        .write(BitfieldWrite::new(BitfieldWriteOperation::incrby(
            "i5", 100, 1,
        )))
        .operation([BitfieldOperation::get("u4", 8)]);
    // The list setter replaced what the appending ones built up.
    assert_eq!(args(&c), ["BITFIELD", "bf", "GET", "u4", "8"]);
    let c = cmd::Bitfield::new("bf")
        .get("u8", 0)
        .write(
            BitfieldWrite::new(BitfieldWriteOperation::set("u8", 0, 255))
                .overflow(BitfieldOverflow::Sat),
        )
        .write(BitfieldWrite::new(BitfieldWriteOperation::incrby(
            "i5", 100, 1,
        )));
    assert_eq!(
        args(&c),
        [
            "BITFIELD", "bf", "GET", "u8", "0", "OVERFLOW", "SAT", "SET", "u8", "0", "255",
            "INCRBY", "i5", "100", "1"
        ]
    );
    let _: PhantomData<Vec<Option<i64>>> = output(&c);
}

#[test]
fn migrate_with_keys_and_the_empty_key() {
    let c = cmd::Migrate::new("127.0.0.1", 6380, MigrateKeySelector::EmptyString, 0, 5000)
        .copy()
        .replace()
        .auth2("user", "secret")
        .keys(["a", "b"]);
    assert_eq!(
        args(&c),
        [
            "MIGRATE",
            "127.0.0.1",
            "6380",
            "",
            "0",
            "5000",
            "COPY",
            "REPLACE",
            "AUTH2",
            "user",
            "secret",
            "KEYS",
            "a",
            "b"
        ]
    );
    let c = cmd::Migrate::new("::1", 6380, MigrateKeySelector::key("k"), 3, 100).auth("pw");
    assert_eq!(
        args(&c),
        ["MIGRATE", "::1", "6380", "k", "3", "100", "AUTH", "pw"]
    );
    // An empty KEYS list leaves the option out rather than sending a bare KEYS.
    let c = cmd::Migrate::new("h", 1, MigrateKeySelector::key("k"), 0, 1).keys(Vec::<&str>::new());
    assert_eq!(args(&c), ["MIGRATE", "h", "1", "k", "0", "1"]);
}

#[test]
fn sort_with_by_limit_several_gets_and_store() {
    let c = cmd::Sort::new("list")
        .by("weight_*")
        .limit(0, 10)
        .get(["#", "object_*"])
        .desc()
        .alpha()
        .store("dst");
    assert_eq!(
        args(&c),
        [
            "SORT", "list", "BY", "weight_*", "LIMIT", "0", "10", "GET", "#", "GET", "object_*",
            "DESC", "ALPHA", "STORE", "dst"
        ]
    );
    let _: PhantomData<i64> = output(&c);
    let c = cmd::SortRo::new("list").get(["#"]);
    let _: PhantomData<Vec<Option<Bytes>>> = output(&c);
}

#[test]
fn eval_and_fcall_count_their_keys() {
    let c = cmd::Eval::new("return 1")
        .key(["k1", "k2"])
        .arg(["a", "b", "c"]);
    assert_eq!(
        args(&c),
        ["EVAL", "return 1", "2", "k1", "k2", "a", "b", "c"]
    );
    let _: PhantomData<Value> = output(&c);
    assert_eq!(
        args(&cmd::Fcall::new("f").arg([1, 2])),
        ["FCALL", "f", "0", "1", "2"]
    );
    assert_eq!(
        args(&cmd::EvalshaRo::new("abc").key(["k"])),
        ["EVALSHA_RO", "abc", "1", "k"]
    );
}

#[test]
fn config_set_pairs_lpos_and_zrange() {
    assert_eq!(
        args(&cmd::ConfigSet::new([
            ("hz", "15"),
            ("maxmemory-policy", "allkeys-lru")
        ])),
        [
            "CONFIG",
            "SET",
            "hz",
            "15",
            "maxmemory-policy",
            "allkeys-lru"
        ]
    );
    let c = cmd::Lpos::new("l", "x").rank(-1).maxlen(100);
    assert_eq!(args(&c), ["LPOS", "l", "x", "RANK", "-1", "MAXLEN", "100"]);
    let _: PhantomData<Option<i64>> = output(&c);
    let c = cmd::Lpos::new("l", "x").count(0);
    assert_eq!(args(&c), ["LPOS", "l", "x", "COUNT", "0"]);
    let _: PhantomData<Vec<i64>> = output(&c);

    let c = cmd::Zrange::new("z", "+inf", "(1")
        .byscore()
        .rev()
        .limit(0, 2)
        .withscores();
    assert_eq!(
        args(&c),
        [
            "ZRANGE",
            "z",
            "+inf",
            "(1",
            "BYSCORE",
            "REV",
            "LIMIT",
            "0",
            "2",
            "WITHSCORES"
        ]
    );
    let _: PhantomData<Vec<(Bytes, f64)>> = output(&c);
    let c = cmd::Zrange::new("z", "[a", "(c").bylex().limit(1, 1);
    assert_eq!(
        args(&c),
        ["ZRANGE", "z", "[a", "(c", "BYLEX", "LIMIT", "1", "1"]
    );
    let _: PhantomData<Vec<Bytes>> = output(&c);
}

#[test]
fn hsetex_and_hgetex_count_their_fields() {
    let c = cmd::Hsetex::new("h", [("f1", "v1"), ("f2", "v2")])
        .fnx()
        .ex(60);
    assert_eq!(
        args(&c),
        ["HSETEX", "h", "FNX", "EX", "60", "FIELDS", "2", "f1", "v1", "f2", "v2"]
    );
    let _: PhantomData<bool> = output(&c);
    let c = cmd::Hgetex::new("h", ["f1", "f2", "f3"]).persist();
    assert_eq!(
        args(&c),
        ["HGETEX", "h", "PERSIST", "FIELDS", "3", "f1", "f2", "f3"]
    );
    let _: PhantomData<Vec<Option<Bytes>>> = output(&c);
}

#[test]
fn check_refuses_empty_required_lists() {
    let err = cmd::Del::new(Vec::<&str>::new()).check().unwrap_err();
    assert_eq!(
        err.to_string(),
        "data error: DEL: argument `key` needs at least one value, got none"
    );
    let err = cmd::Xadd::new("s", XaddIdSelector::AutoId, Vec::<(&str, &str)>::new())
        .check()
        .unwrap_err();
    assert!(err.to_string().contains("XADD: argument `data`"), "{err}");
    let err = cmd::ClientKill::new_format([ClientKillNewFormat::id([])])
        .check()
        .unwrap_err();
    assert!(err.to_string().contains("CLIENT KILL"), "{err}");
    assert!(cmd::Del::new(["k"]).check().is_ok());
    assert!(cmd::Get::new("k").check().is_ok());
}
