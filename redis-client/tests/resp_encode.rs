//! The command encoder: golden bytes, every ToArgs impl, float round-trips, failures.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use redis_client::resp::{write_command, ArgWriter, Cmd, EncodeError};
use redis_client::ToArgs;

fn encode(args: &(impl ToArgs + ?Sized)) -> Vec<u8> {
    let mut out = BytesMut::new();
    write_command(&mut out, args).expect("encodes");
    out.to_vec()
}

/// The RESP encoding of `args` given as plain byte strings, built independently of the encoder.
fn golden(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// The arguments `args` writes, as byte strings.
fn args_of(args: &(impl ToArgs + ?Sized)) -> Vec<Vec<u8>> {
    let cmd = Cmd::from_args(args);
    assert_eq!(
        cmd.len(),
        args.num_args(),
        "num_args disagrees with write_args"
    );
    cmd.args().map(<[u8]>::to_vec).collect()
}

#[test]
fn golden_bytes() {
    assert_eq!(
        encode(&["SET", "key", "value"]),
        b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n"
    );
    assert_eq!(encode(&"PING"), b"*1\r\n$4\r\nPING\r\n");
    assert_eq!(
        encode(&("SET", "k", "", "EX", 10u64)),
        b"*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n$2\r\nEX\r\n$2\r\n10\r\n"
    );
    let binary: &[u8] = b"\x00\r\n\xff";
    assert_eq!(
        encode(&("SET", binary, -1i64)),
        b"*3\r\n$3\r\nSET\r\n$4\r\n\x00\r\n\xff\r\n$2\r\n-1\r\n"
    );
    let long = "x".repeat(1000);
    assert_eq!(
        encode(&("ECHO", &long)),
        golden(&[b"ECHO", long.as_bytes()])
    );
}

#[test]
fn commands_append_after_existing_output() {
    let mut out = BytesMut::from(&b"*1\r\n$4\r\nPING\r\n"[..]);
    write_command(&mut out, &["GET", "k"]).unwrap();
    assert_eq!(
        &out[..],
        b"*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
    );
}

#[test]
fn strings_and_bytes_are_one_argument_each() {
    let owned = String::from("owned");
    let cow: Cow<'_, str> = Cow::Borrowed("cow");
    let arc: Arc<str> = Arc::from("arc");
    let expected: Vec<Vec<u8>> = ["str", "owned", "cow", "arc", "bytes", "vec", "slice", "arr"]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
    assert_eq!(
        args_of(&(
            "str",
            &owned,
            cow,
            arc,
            Bytes::from_static(b"bytes"),
            b"vec".to_vec(),
            &b"slice"[..],
            *b"arr",
        )),
        expected
    );
    // An empty byte string is still an argument; an empty list of numbers is none.
    assert_eq!(args_of(&Vec::<u8>::new()), vec![Vec::<u8>::new()]);
    assert_eq!(args_of(&Vec::<i32>::new()), Vec::<Vec<u8>>::new());
}

#[test]
fn integers_format_in_decimal() {
    assert_eq!(
        args_of(&(
            0u8,
            255u8,
            i8::MIN,
            i16::MIN,
            u16::MAX,
            i32::MIN,
            u32::MAX,
            i64::MIN,
            u64::MAX,
            isize::MIN,
            usize::MAX,
            i128::MIN,
        )),
        [
            "0".to_owned(),
            "255".to_owned(),
            i8::MIN.to_string(),
            i16::MIN.to_string(),
            u16::MAX.to_string(),
            i32::MIN.to_string(),
            u32::MAX.to_string(),
            i64::MIN.to_string(),
            u64::MAX.to_string(),
            isize::MIN.to_string(),
            usize::MAX.to_string(),
            i128::MIN.to_string(),
        ]
        .map(String::into_bytes)
    );
    assert_eq!(args_of(&u128::MAX), [u128::MAX.to_string().into_bytes()]);
    for v in [-1_000_000_007i64, -10, -9, -1, 1, 9, 10, 99, 100, 1 << 40] {
        assert_eq!(args_of(&v), [v.to_string().into_bytes()]);
    }
}

#[test]
fn collections_flatten_in_order() {
    assert_eq!(
        args_of(&vec![1i32, 2, 3]),
        [b"1".to_vec(), b"2".to_vec(), b"3".to_vec()]
    );
    assert_eq!(args_of(&[[1u16, 2], [3, 4]]).len(), 4);
    let pairs = [("a", 1.5f64), ("b", 2.0)];
    assert_eq!(
        args_of(&("ZADD", "z", &pairs[..])),
        [&b"ZADD"[..], b"z", b"a", b"1.5", b"b", b"2"].map(<[u8]>::to_vec)
    );
    let map: BTreeMap<&str, i32> = [("f1", 1), ("f2", 2)].into_iter().collect();
    assert_eq!(
        args_of(&("HSET", "h", &map)),
        [&b"HSET"[..], b"h", b"f1", b"1", b"f2", b"2"].map(<[u8]>::to_vec)
    );
    let set: BTreeSet<String> = ["m1".to_owned(), "m2".to_owned()].into();
    assert_eq!(args_of(&set), [b"m1".to_vec(), b"m2".to_vec()]);
    let keys: Vec<Vec<u8>> = vec![b"k1".to_vec(), b"k2".to_vec()];
    assert_eq!(args_of(&keys), keys);
    // Twelve-tuples, nested.
    let t = (
        1i32,
        2i32,
        3i32,
        4i32,
        5i32,
        6i32,
        7i32,
        8i32,
        9i32,
        10i32,
        11i32,
        (12i32, "x"),
    );
    assert_eq!(args_of(&t).len(), 13);
}

#[test]
fn floats_round_trip_exactly() {
    let mut values = vec![
        0.0,
        -0.0,
        0.1,
        0.2,
        0.3,
        1.0 / 3.0,
        -2.5,
        1e300,
        -1e300,
        5e-324,
        -5e-324,
        2.2250738585072014e-308,
        f64::MAX,
        f64::MIN,
        f64::MIN_POSITIVE,
        f64::EPSILON,
        9007199254740993.0,
        1e15,
        1e16,
        1e-5,
        1e-6,
        123456.789,
        std::f64::consts::PI,
    ];
    // A deterministic spread over the whole bit space.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..20_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let v = f64::from_bits(x);
        if v.is_finite() {
            values.push(v);
        }
    }
    for v in values {
        let [text] = &args_of(&v)[..] else {
            panic!("{v} is not one argument");
        };
        let text = std::str::from_utf8(text).unwrap();
        let back: f64 = text.parse().unwrap();
        assert_eq!(back.to_bits(), v.to_bits(), "{v:e} -> {text}");
        assert!(text.len() <= 24, "{v:e} -> {text} is not short");
    }
    assert_eq!(args_of(&f64::INFINITY), [b"inf".to_vec()]);
    assert_eq!(args_of(&f64::NEG_INFINITY), [b"-inf".to_vec()]);
    assert_eq!(args_of(&1e300), [b"1e300".to_vec()]);
    assert_eq!(args_of(&0.1f32), [b"0.1".to_vec()]);
    for v in [0.1f32, 1e-30, 3.4028235e38, -1.5, 16777217.0] {
        let text = String::from_utf8(args_of(&v).remove(0)).unwrap();
        assert_eq!(text.parse::<f32>().unwrap(), v, "{text}");
    }
}

#[test]
fn nan_fails_the_command_and_writes_nothing() {
    let mut out = BytesMut::from(&b"earlier"[..]);
    let err = write_command(&mut out, &("ZADD", "z", f64::NAN, "m")).unwrap_err();
    assert_eq!(
        err,
        EncodeError::NotANumber {
            command: "\"ZADD\"".to_owned(),
            index: 2
        }
    );
    assert_eq!(
        err.to_string(),
        "argument 2 of \"ZADD\" is NaN, which Redis does not accept as a number"
    );
    assert_eq!(&out[..], b"earlier");
    let err = write_command(&mut out, &("INCRBYFLOAT", "k", f32::NAN)).unwrap_err();
    assert!(matches!(err, EncodeError::NotANumber { index: 2, .. }));
    // Through a Cmd, the failure surfaces when the command is encoded.
    let cmd = Cmd::new("ZADD").arg("z").arg(f64::NAN).arg("m");
    assert_eq!(
        write_command(&mut out, &cmd),
        Err(EncodeError::NotANumber {
            command: "\"ZADD\"".to_owned(),
            index: 2
        })
    );
    assert_eq!(&out[..], b"earlier");
}

#[test]
fn empty_commands_are_refused() {
    let mut out = BytesMut::new();
    assert_eq!(
        write_command(&mut out, &Vec::<String>::new()),
        Err(EncodeError::NoArguments)
    );
    assert_eq!(
        write_command(&mut out, &Cmd::default()),
        Err(EncodeError::NoArguments)
    );
    assert!(out.is_empty());
}

/// A hand-written impl whose count is wrong cannot desynchronise the stream: the header counts
/// what was written.
struct Liar;

impl ToArgs for Liar {
    fn write_args(&self, out: &mut ArgWriter<'_>) {
        out.arg(b"GET");
        out.arg(b"k");
    }

    fn num_args(&self) -> usize {
        3
    }
}

#[test]
fn the_header_counts_what_was_written_not_what_num_args_says() {
    let mut out = BytesMut::new();
    write_command(&mut out, &Liar).unwrap();
    assert_eq!(&out[..], b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
}

/// The shape a generated command takes: only `write_args`, the count by dry run.
struct Set {
    key: String,
    value: Bytes,
    ex: Option<u64>,
    get: bool,
}

impl ToArgs for Set {
    fn write_args(&self, out: &mut ArgWriter<'_>) {
        out.arg(b"SET");
        self.key.write_args(out);
        self.value.write_args(out);
        if let Some(ex) = self.ex {
            out.arg(b"EX");
            ex.write_args(out);
        }
        if self.get {
            out.arg(b"GET");
        }
    }
}

#[test]
fn typed_commands_count_by_dry_run() {
    let set = Set {
        key: "k".into(),
        value: Bytes::from_static(b"v"),
        ex: Some(10),
        get: true,
    };
    assert_eq!(set.num_args(), 6);
    assert_eq!(
        encode(&set),
        golden(&[b"SET", b"k", b"v", b"EX", b"10", b"GET"])
    );
}

#[test]
fn cmd_builds_raw_commands() {
    let mut cmd = Cmd::new("CLIENT");
    cmd.push(&"SETNAME").push(&["conn", "1"][..]);
    assert_eq!(cmd.len(), 4);
    assert!(!cmd.is_empty());
    assert_eq!(cmd.get(0), Some(&b"CLIENT"[..]));
    assert_eq!(cmd.get(3), Some(&b"1"[..]));
    assert_eq!(cmd.get(4), None);
    assert_eq!(format!("{cmd:?}"), r#"Cmd["CLIENT" "SETNAME" "conn" "1"]"#);
    assert_eq!(
        encode(&cmd),
        golden(&[b"CLIENT", b"SETNAME", b"conn", b"1"])
    );
    // A Cmd inside a tuple or a slice of Cmds flattens like any ToArgs.
    assert_eq!(args_of(&(Cmd::new("A"), "B")).len(), 2);
    let from_array = Cmd::from_args(&["SET", "k", "v"]);
    assert_eq!(encode(&from_array), golden(&[b"SET", b"k", b"v"]));
    assert_eq!(from_array, Cmd::new("SET").arg("k").arg("v"));
}
