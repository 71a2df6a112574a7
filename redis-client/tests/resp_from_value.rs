//! FromValue: every impl's accepted shapes and the messages of its refusals.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use bytes::Bytes;
use redis_client::Error;
use redis_client::{FromValue, Value};

fn bulk(s: &str) -> Value {
    Value::Bulk(Bytes::copy_from_slice(s.as_bytes()))
}

fn simple(s: &str) -> Value {
    Value::Simple(Bytes::copy_from_slice(s.as_bytes()))
}

fn ok<T: FromValue>(v: Value) -> T {
    match T::from_value(v.clone()) {
        Ok(t) => t,
        Err(e) => panic!("{v} as {}: {e}", std::any::type_name::<T>()),
    }
}

/// The data-error message of converting `v` into `T`.
fn fails<T: FromValue + std::fmt::Debug>(v: Value) -> String {
    match T::from_value(v.clone()) {
        Ok(t) => panic!("{v} as {} gave {t:?}", std::any::type_name::<T>()),
        Err(Error::Data(message)) => message,
        Err(other) => panic!("{v}: not a data error: {other}"),
    }
}

#[test]
fn strings_from_string_replies() {
    assert_eq!(ok::<String>(bulk("héllo")), "héllo");
    assert_eq!(ok::<String>(simple("OK")), "OK");
    let verbatim = Value::Verbatim {
        format: *b"txt",
        text: "body".into(),
    };
    assert_eq!(ok::<String>(verbatim.clone()), "body");
    assert_eq!(ok::<Bytes>(verbatim), Bytes::from_static(b"body"));
    assert_eq!(ok::<Vec<u8>>(bulk("raw")), b"raw");
    assert_eq!(ok::<Bytes>(Value::BigNumber("123".into())), "123");
    assert_eq!(
        fails::<String>(Value::Bulk(Bytes::from_static(b"ab\xff"))),
        "expected UTF-8 string, got bytes \"ab\\xff\" (invalid UTF-8 at byte 2)"
    );
    assert_eq!(
        fails::<String>(Value::Integer(5)),
        "expected string, got integer 5"
    );
    assert_eq!(fails::<Bytes>(Value::Nil), "expected string, got nil");
    assert_eq!(
        fails::<Vec<u8>>(Value::Double(1.0)),
        "expected string, got double 1"
    );
}

#[test]
fn integers_from_integers_and_decimal_text() {
    assert_eq!(ok::<i64>(Value::Integer(-7)), -7);
    assert_eq!(ok::<u8>(Value::Integer(255)), 255);
    assert_eq!(ok::<i64>(bulk("-12")), -12);
    assert_eq!(ok::<u64>(simple("18446744073709551615")), u64::MAX);
    assert_eq!(
        ok::<i128>(Value::BigNumber(
            "-170141183460469231731687303715884105728".into()
        )),
        i128::MIN
    );
    assert_eq!(ok::<usize>(bulk("42")), 42);
    assert_eq!(
        fails::<u8>(Value::Integer(300)),
        "expected u8, got integer 300 (out of range)"
    );
    assert_eq!(
        fails::<u32>(Value::Integer(-1)),
        "expected u32, got integer -1 (out of range)"
    );
    assert_eq!(
        fails::<i64>(bulk("abc")),
        "expected i64, got bulk string \"abc\""
    );
    assert_eq!(
        fails::<i64>(bulk("1.5")),
        "expected i64, got bulk string \"1.5\""
    );
    assert_eq!(
        fails::<i32>(bulk(" 1")),
        "expected i32, got bulk string \" 1\""
    );
    assert_eq!(fails::<i64>(Value::Nil), "expected i64, got nil");
    assert_eq!(
        fails::<i64>(Value::Double(1.0)),
        "expected i64, got double 1"
    );
    assert_eq!(
        fails::<i16>(Value::Array(vec![])),
        "expected i16, got array of 0 elements"
    );
}

#[test]
fn floats_from_doubles_integers_and_text() {
    assert_eq!(ok::<f64>(Value::Double(2.5)), 2.5);
    assert_eq!(ok::<f64>(Value::Integer(3)), 3.0);
    assert_eq!(ok::<f64>(bulk("0.1")), 0.1);
    assert_eq!(ok::<f64>(bulk("1e300")), 1e300);
    assert_eq!(ok::<f64>(bulk("inf")), f64::INFINITY);
    assert_eq!(ok::<f64>(bulk("-inf")), f64::NEG_INFINITY);
    assert!(ok::<f64>(bulk("nan")).is_nan());
    assert_eq!(ok::<f32>(bulk("0.1")), 0.1f32);
    assert_eq!(ok::<f32>(Value::Double(f64::INFINITY)), f32::INFINITY);
    assert_eq!(
        fails::<f64>(bulk("1.2.3")),
        "expected f64, got bulk string \"1.2.3\""
    );
    assert_eq!(
        fails::<f32>(bulk("1e300")),
        "expected f32, got bulk string \"1e300\""
    );
    assert_eq!(
        fails::<f32>(Value::Double(1e300)),
        "expected f32, got double 1e300 (out of range)"
    );
    assert_eq!(
        fails::<f64>(Value::Boolean(true)),
        "expected f64, got boolean true"
    );
}

#[test]
fn booleans_only_from_booleans_and_zero_or_one() {
    assert!(ok::<bool>(Value::Boolean(true)));
    assert!(!ok::<bool>(Value::Boolean(false)));
    assert!(ok::<bool>(Value::Integer(1)));
    assert!(!ok::<bool>(Value::Integer(0)));
    for v in [Value::Integer(2), bulk("1"), simple("OK"), Value::Nil] {
        let message = fails::<bool>(v.clone());
        assert!(
            message.starts_with("expected boolean (or integer 0 or 1), got"),
            "{v}: {message}"
        );
    }
}

#[test]
fn unit_accepts_any_non_error() {
    for v in [
        simple("OK"),
        Value::Integer(1),
        Value::Nil,
        Value::Array(vec![]),
    ] {
        ok::<()>(v);
    }
}

/// The server error a conversion of `v` into `T` fails with.
fn server_error<T: FromValue + std::fmt::Debug>(v: Value) -> redis_client::ServerError {
    match T::from_value(v.clone()) {
        Err(Error::Response(e)) => e,
        other => panic!("{v} as {}: {other:?}", std::any::type_name::<T>()),
    }
}

#[test]
fn error_replies_become_server_errors() {
    let err = Value::Error("WRONGTYPE Operation against a key".into());
    for e in [
        server_error::<()>(err.clone()),
        server_error::<Value>(err.clone()),
        server_error::<Option<String>>(err.clone()),
        server_error::<i64>(err.clone()),
        server_error::<Vec<i64>>(err.clone()),
        server_error::<HashMap<String, i64>>(err.clone()),
        // Inside an array, the element that is an error fails the conversion.
        server_error::<Vec<i64>>(Value::Array(vec![Value::Integer(1), err.clone()])),
        server_error::<(i64, String)>(Value::Array(vec![Value::Integer(1), err.clone()])),
    ] {
        assert_eq!(e.code(), "WRONGTYPE");
        assert_eq!(e.message(), "Operation against a key");
    }
    assert!(matches!(
        <()>::from_value(Value::Error("READONLY You can't write".into())),
        Err(Error::ReadOnly(_))
    ));
}

#[test]
fn value_passes_through_untouched() {
    let v = Value::Attribute {
        attributes: vec![],
        value: Box::new(Value::Integer(1)),
    };
    assert_eq!(ok::<Value>(v.clone()), v);
    // Other types look through attributes.
    assert_eq!(ok::<i64>(v), 1);
}

#[test]
fn options_map_nil_to_none() {
    assert_eq!(ok::<Option<String>>(Value::Nil), None);
    assert_eq!(ok::<Option<String>>(bulk("x")), Some("x".to_owned()));
    assert_eq!(ok::<Option<Vec<i64>>>(Value::Nil), None);
    assert_eq!(
        ok::<Vec<Option<i64>>>(Value::Array(vec![Value::Integer(1), Value::Nil])),
        vec![Some(1), None]
    );
    assert_eq!(
        fails::<Option<i64>>(bulk("x")),
        "expected i64, got bulk string \"x\""
    );
}

#[test]
fn sequences_and_sets() {
    let arr = Value::Array(vec![bulk("b"), bulk("a"), bulk("b")]);
    assert_eq!(ok::<Vec<String>>(arr.clone()), ["b", "a", "b"]);
    assert_eq!(
        ok::<HashSet<String>>(arr.clone()),
        HashSet::from(["a".to_owned(), "b".to_owned()])
    );
    assert_eq!(
        ok::<BTreeSet<String>>(Value::Set(vec![bulk("z"), bulk("y")])),
        BTreeSet::from(["y".to_owned(), "z".to_owned()])
    );
    assert_eq!(ok::<Vec<i64>>(Value::Push(vec![Value::Integer(1)])), [1]);
    assert_eq!(
        ok::<Vec<u8>>(Value::Array(vec![Value::Integer(1), Value::Integer(2)])),
        [1, 2]
    );
    assert_eq!(
        ok::<Vec<Vec<String>>>(Value::Array(vec![Value::Array(vec![bulk("x")])])),
        [["x"]]
    );
    assert_eq!(fails::<Vec<String>>(Value::Nil), "expected array, got nil");
    assert_eq!(
        fails::<Vec<i64>>(Value::Array(vec![Value::Integer(1), bulk("two")])),
        "element 1: expected i64, got bulk string \"two\""
    );
    assert_eq!(
        fails::<HashSet<i64>>(bulk("x")),
        "expected set or array, got bulk string \"x\""
    );
}

#[test]
fn maps_from_every_shape() {
    let expected: HashMap<String, i64> = [("a".to_owned(), 1), ("b".to_owned(), 2)].into();
    let resp3 = Value::Map(vec![
        (bulk("a"), Value::Integer(1)),
        (bulk("b"), Value::Integer(2)),
    ]);
    let flat = Value::Array(vec![bulk("a"), bulk("1"), bulk("b"), bulk("2")]);
    let nested = Value::Array(vec![
        Value::Array(vec![bulk("a"), Value::Integer(1)]),
        Value::Array(vec![bulk("b"), Value::Integer(2)]),
    ]);
    for shape in [resp3, flat, nested] {
        assert_eq!(
            ok::<HashMap<String, i64>>(shape.clone()),
            expected,
            "{shape}"
        );
        assert_eq!(
            ok::<BTreeMap<String, i64>>(shape.clone()),
            expected.clone().into_iter().collect::<BTreeMap<_, _>>()
        );
    }
    assert_eq!(
        ok::<HashMap<String, i64>>(Value::Array(vec![])),
        HashMap::new()
    );
    assert_eq!(
        fails::<HashMap<String, i64>>(Value::Array(vec![bulk("a"), bulk("1"), bulk("b")])),
        "expected map, got array of 3 elements (a flat map needs an even count)"
    );
    assert_eq!(
        fails::<HashMap<String, i64>>(Value::Map(vec![(bulk("a"), bulk("x"))])),
        "map entry 0: expected i64, got bulk string \"x\""
    );
    assert_eq!(
        fails::<BTreeMap<String, i64>>(Value::Integer(1)),
        "expected map, got integer 1"
    );
}

#[test]
fn tuples_from_arrays_and_map_entries() {
    assert_eq!(
        ok::<(String, i64)>(Value::Array(vec![bulk("k"), Value::Integer(1)])),
        ("k".to_owned(), 1)
    );
    assert_eq!(ok::<(i64,)>(Value::Array(vec![Value::Integer(9)])), (9,));
    let twelve = Value::Array((0..12).map(Value::Integer).collect());
    assert_eq!(
        ok::<(
            i8,
            i16,
            i32,
            i64,
            u8,
            u16,
            u32,
            u64,
            usize,
            isize,
            i128,
            String
        )>(Value::Array(
            (0..11).map(Value::Integer).chain([bulk("s")]).collect()
        )),
        (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, "s".to_owned())
    );
    assert_eq!(
        fails::<(i64, i64, i64)>(twelve),
        "expected array of 3 elements, got array of 12 elements"
    );
    assert_eq!(
        fails::<(i64, String)>(Value::Array(vec![Value::Integer(1), Value::Integer(2)])),
        "expected string, got integer 2"
    );
    // RESP3 map entries and RESP2 flat arrays both become a Vec of pairs.
    let scores = [("a".to_owned(), 1.5), ("b".to_owned(), 2.0)];
    let resp3 = Value::Map(vec![
        (bulk("a"), Value::Double(1.5)),
        (bulk("b"), Value::Double(2.0)),
    ]);
    let resp2 = Value::Array(vec![bulk("a"), bulk("1.5"), bulk("b"), bulk("2")]);
    let resp3_array = Value::Array(vec![
        Value::Array(vec![bulk("a"), Value::Double(1.5)]),
        Value::Array(vec![bulk("b"), Value::Double(2.0)]),
    ]);
    for shape in [resp3, resp2, resp3_array] {
        assert_eq!(ok::<Vec<(String, f64)>>(shape.clone()), scores, "{shape}");
    }
    let triples = Value::Array((1..=6).map(Value::Integer).collect());
    assert_eq!(ok::<Vec<(i64, i64, i64)>>(triples), [(1, 2, 3), (4, 5, 6)]);
    assert_eq!(
        fails::<Vec<(i64, i64)>>(Value::Array(vec![Value::Integer(1)])),
        "expected array of 2-element arrays or a flat array of a multiple of 2 elements, got array of 1 elements"
    );
    assert_eq!(
        fails::<Vec<(i64, i64)>>(Value::Array(vec![bulk("x"), Value::Integer(1)])),
        "tuple 0: expected i64, got bulk string \"x\""
    );
    assert!(
        fails::<Vec<i64>>(Value::Map(vec![(bulk("a"), Value::Integer(1))])).starts_with(
            "map entry 0: expected i64, got a map entry (bulk string \"a\" => integer 1)"
        )
    );
}
