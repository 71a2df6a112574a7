//! The incremental parser: every type whole and split at every byte, nesting, limits, errors.

use bytes::{Bytes, BytesMut};
use redis_client::resp::{Parser, ProtocolError, MAX_DEPTH};
use redis_client::Value;

fn bulk(s: &str) -> Value {
    Value::Bulk(Bytes::copy_from_slice(s.as_bytes()))
}

fn simple(s: &str) -> Value {
    Value::Simple(Bytes::copy_from_slice(s.as_bytes()))
}

fn parse_one(wire: &[u8]) -> Result<Option<Value>, ProtocolError> {
    Parser::new().parse(&mut BytesMut::from(wire))
}

/// Every frame with the value it must parse to.
fn frames() -> Vec<(&'static [u8], Value)> {
    vec![
        (b"+OK\r\n", simple("OK")),
        (b"+\r\n", simple("")),
        (b"-ERR unknown command\r\n", Value::Error("ERR unknown command".into())),
        (b":0\r\n", Value::Integer(0)),
        (b":-42\r\n", Value::Integer(-42)),
        (b":+7\r\n", Value::Integer(7)),
        (b":9223372036854775807\r\n", Value::Integer(i64::MAX)),
        (b":-9223372036854775808\r\n", Value::Integer(i64::MIN)),
        (b"$5\r\nhello\r\n", bulk("hello")),
        (b"$0\r\n\r\n", bulk("")),
        (b"$4\r\na\r\nb\r\n", bulk("a\r\nb")),
        (b"$-1\r\n", Value::Nil),
        (b"*-1\r\n", Value::Nil),
        (b"_\r\n", Value::Nil),
        (b",1.5\r\n", Value::Double(1.5)),
        (b",-0.25e3\r\n", Value::Double(-250.0)),
        (b",10\r\n", Value::Double(10.0)),
        (b",inf\r\n", Value::Double(f64::INFINITY)),
        (b",-inf\r\n", Value::Double(f64::NEG_INFINITY)),
        (b"#t\r\n", Value::Boolean(true)),
        (b"#f\r\n", Value::Boolean(false)),
        (
            b"(3492890328409238509324850943850943825024385\r\n",
            Value::BigNumber("3492890328409238509324850943850943825024385".into()),
        ),
        (b"(-1\r\n", Value::BigNumber("-1".into())),
        (b"!21\r\nSYNTAX invalid syntax\r\n", Value::Error("SYNTAX invalid syntax".into())),
        (
            b"=15\r\ntxt:Some string\r\n",
            Value::Verbatim {
                format: *b"txt",
                text: "Some string".into(),
            },
        ),
        (
            b"=4\r\nmkd:\r\n",
            Value::Verbatim {
                format: *b"mkd",
                text: Bytes::new(),
            },
        ),
        (b"*0\r\n", Value::Array(vec![])),
        (
            b"*3\r\n:1\r\n$3\r\nfoo\r\n_\r\n",
            Value::Array(vec![Value::Integer(1), bulk("foo"), Value::Nil]),
        ),
        (
            b"~2\r\n+a\r\n#t\r\n",
            Value::Set(vec![simple("a"), Value::Boolean(true)]),
        ),
        (b"~0\r\n", Value::Set(vec![])),
        (
            // A long line followed by a short one: a partial search must not leak into the next.
            b"*3\r\n+hello world\r\n+x\r\n:1\r\n",
            Value::Array(vec![simple("hello world"), simple("x"), Value::Integer(1)]),
        ),
        (
            b"%2\r\n+first\r\n:1\r\n$6\r\nsecond\r\n,2.5\r\n",
            Value::Map(vec![
                (simple("first"), Value::Integer(1)),
                (bulk("second"), Value::Double(2.5)),
            ]),
        ),
        (b"%0\r\n", Value::Map(vec![])),
        (
            b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n",
            Value::Push(vec![bulk("message"), bulk("ch"), bulk("hi")]),
        ),
        (
            b"|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n*2\r\n:2039123\r\n:9543892\r\n",
            Value::Attribute {
                attributes: vec![(
                    simple("key-popularity"),
                    Value::Map(vec![
                        (bulk("a"), Value::Double(0.1923)),
                        (bulk("b"), Value::Double(0.0012)),
                    ]),
                )],
                value: Box::new(Value::Array(vec![
                    Value::Integer(2039123),
                    Value::Integer(9543892),
                ])),
            },
        ),
        (
            b"|0\r\n:1\r\n",
            Value::Attribute {
                attributes: vec![],
                value: Box::new(Value::Integer(1)),
            },
        ),
        (
            // An attribute inside an array annotates one element and is not an element itself.
            b"*2\r\n|1\r\n+ttl\r\n:3\r\n$1\r\nx\r\n:5\r\n",
            Value::Array(vec![
                Value::Attribute {
                    attributes: vec![(simple("ttl"), Value::Integer(3))],
                    value: Box::new(bulk("x")),
                },
                Value::Integer(5),
            ]),
        ),
        (
            b"*2\r\n*2\r\n:1\r\n*0\r\n%1\r\n~1\r\n_\r\n*1\r\n$-1\r\n",
            Value::Array(vec![
                Value::Array(vec![Value::Integer(1), Value::Array(vec![])]),
                Value::Map(vec![(
                    Value::Set(vec![Value::Nil]),
                    Value::Array(vec![Value::Nil]),
                )]),
            ]),
        ),
    ]
}

#[test]
fn parses_every_type_whole_and_leaves_following_bytes() {
    for (wire, expected) in frames() {
        let mut buf = BytesMut::from(wire);
        buf.extend_from_slice(b"+next\r\n");
        let mut parser = Parser::new();
        assert_eq!(
            parser.parse(&mut buf),
            Ok(Some(expected)),
            "{}",
            wire.escape_ascii()
        );
        assert_eq!(&buf[..], b"+next\r\n", "{}", wire.escape_ascii());
        assert!(parser.is_idle());
        assert_eq!(parser.parse(&mut buf), Ok(Some(simple("next"))));
        assert!(buf.is_empty());
    }
}

#[test]
fn nan_double_parses_as_nan() {
    let Ok(Some(Value::Double(d))) = parse_one(b",nan\r\n") else {
        panic!("nan did not parse as a double");
    };
    assert!(d.is_nan());
}

#[test]
fn every_type_split_at_every_byte_boundary() {
    for (wire, expected) in frames() {
        for split in 1..wire.len() {
            let mut parser = Parser::new();
            let mut buf = BytesMut::from(&wire[..split]);
            assert_eq!(
                parser.parse(&mut buf),
                Ok(None),
                "{} split at {split}",
                wire.escape_ascii()
            );
            buf.extend_from_slice(&wire[split..]);
            assert_eq!(
                parser.parse(&mut buf),
                Ok(Some(expected.clone())),
                "{} split at {split}",
                wire.escape_ascii()
            );
            assert!(buf.is_empty());
        }
    }
}

#[test]
fn every_type_fed_one_byte_at_a_time() {
    for (wire, expected) in frames() {
        let mut parser = Parser::new();
        let mut buf = BytesMut::new();
        for (i, &byte) in wire.iter().enumerate() {
            buf.extend_from_slice(&[byte]);
            let result = parser.parse(&mut buf);
            if i + 1 < wire.len() {
                assert_eq!(result, Ok(None), "{} at byte {i}", wire.escape_ascii());
            } else {
                assert_eq!(
                    result,
                    Ok(Some(expected.clone())),
                    "{}",
                    wire.escape_ascii()
                );
            }
        }
    }
}

#[test]
fn empty_buffer_needs_more() {
    assert_eq!(parse_one(b""), Ok(None));
}

#[test]
fn bulk_payloads_share_the_read_buffer() {
    let mut buf = BytesMut::with_capacity(64);
    buf.extend_from_slice(b"*2\r\n$5\r\nhello\r\n+world\r\n");
    let region = buf.as_ptr() as usize..buf.as_ptr() as usize + buf.capacity();
    let Ok(Some(Value::Array(items))) = Parser::new().parse(&mut buf) else {
        panic!("array did not parse");
    };
    for item in &items {
        let payload = item.as_bytes().expect("string payload");
        assert!(
            region.contains(&(payload.as_ptr() as usize)),
            "{item} was copied out of the read buffer"
        );
    }
}

#[test]
fn consumes_complete_elements_while_waiting() {
    let mut parser = Parser::new();
    let mut buf = BytesMut::from(&b"*3\r\n$3\r\nabc\r\n$3\r\nde"[..]);
    assert_eq!(parser.parse(&mut buf), Ok(None));
    assert!(!parser.is_idle());
    // The finished first element is held by the parser; the partial one waits in the buffer.
    assert_eq!(&buf[..], b"de");
    buf.extend_from_slice(b"f\r\n:9\r\n");
    assert_eq!(
        parser.parse(&mut buf),
        Ok(Some(Value::Array(vec![
            bulk("abc"),
            bulk("def"),
            Value::Integer(9)
        ])))
    );
}

#[test]
fn large_bulk_in_small_chunks_completes() {
    let payload = vec![b'x'; 1 << 20];
    let mut wire = format!("${}\r\n", payload.len()).into_bytes();
    wire.extend_from_slice(&payload);
    wire.extend_from_slice(b"\r\n");
    let mut parser = Parser::new();
    let mut buf = BytesMut::new();
    let mut result = None;
    for chunk in wire.chunks(1024) {
        assert!(result.is_none(), "completed before the last chunk");
        buf.extend_from_slice(chunk);
        result = parser.parse(&mut buf).unwrap();
    }
    assert_eq!(result, Some(Value::Bulk(payload.into())));
}

/// Re-scanning a partial frame from its start on every read would make this quadratic
/// (20 000 reads over a 200 KB frame); consuming each byte once keeps it instant.
#[test]
fn many_small_reads_do_not_rescan_the_frame() {
    let count = 20_000;
    let mut wire = format!("*{count}\r\n").into_bytes();
    for i in 0..count {
        wire.extend_from_slice(format!("+element-{i}\r\n").as_bytes());
    }
    let started = std::time::Instant::now();
    let mut parser = Parser::new();
    let mut buf = BytesMut::new();
    let mut result = None;
    for chunk in wire.chunks(7) {
        buf.extend_from_slice(chunk);
        if let Some(v) = parser.parse(&mut buf).unwrap() {
            result = Some(v);
        }
    }
    let Some(Value::Array(items)) = result else {
        panic!("array did not complete");
    };
    assert_eq!(items.len(), count);
    assert_eq!(items[count - 1], simple(&format!("element-{}", count - 1)));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn hostile_headers_are_errors_not_allocations() {
    let cases: [(&[u8], &str); 12] = [
        (
            b"$999999999999\r\n",
            "invalid header \"$999999999999\": length over the 512 MiB limit",
        ),
        (b"$536870913\r\n", "length over the 512 MiB limit"),
        (
            b"*99999999999\r\n",
            "invalid header \"*99999999999\": element count over the limit",
        ),
        (b"%99999999999\r\n", "element count over the limit"),
        (b"$-2\r\n", "invalid header \"$-2\": negative length"),
        (b"*-5\r\n", "negative length"),
        (b"%-1\r\n", "negative length"),
        (b"!-1\r\n", "negative length"),
        (
            b"$99999999999999999999\r\n",
            "length is not a decimal integer",
        ),
        (b"$\r\n", "length is not a decimal integer"),
        (b"*1x\r\n", "length is not a decimal integer"),
        (
            b"$12345678901234567890123456789012345",
            "header line longer than 32 bytes",
        ),
    ];
    for (wire, message) in cases {
        let err = parse_one(wire).expect_err(&wire.escape_ascii().to_string());
        assert!(
            err.to_string().contains(message),
            "{}: {err}",
            wire.escape_ascii()
        );
    }
    // A large but legal count with little data reserves little and waits.
    let mut parser = Parser::new();
    let mut buf = BytesMut::from(&b"*2000000000\r\n:1\r\n"[..]);
    assert_eq!(parser.parse(&mut buf), Ok(None));
}

#[test]
fn malformed_input_names_what_was_wrong() {
    let cases: [(&[u8], &str); 13] = [
        (
            b"?what\r\n",
            "unknown RESP type byte \"?\" in line \"?what\\r\\n\"",
        ),
        (b"hello\r\n", "unknown RESP type byte \"h\""),
        (b":12a\r\n", "invalid integer line \":12a\""),
        (b":\r\n", "invalid integer line \":\""),
        (b":99999999999999999999\r\n", "invalid integer line"),
        (b",1.2.3\r\n", "invalid double line \",1.2.3\""),
        (b"#x\r\n", "invalid boolean line \"#x\""),
        (b"_x\r\n", "invalid null line \"_x\""),
        (b"(12a\r\n", "invalid big number line \"(12a\""),
        (
            b"+OK\n",
            "missing CRLF after simple string line \"+OK\": got \"\\n\"",
        ),
        (
            b"$3\r\nabcde\r\n",
            "missing CRLF after bulk string of 3 bytes: got \"de\"",
        ),
        (b"=3\r\nabc\r\n", "invalid verbatim string payload \"abc\""),
        (b"$?\r\n", "streamed RESP3 types are not supported: \"$?\""),
    ];
    for (wire, message) in cases {
        let err = parse_one(wire).expect_err(&wire.escape_ascii().to_string());
        assert!(
            err.to_string().contains(message),
            "{}: {err}",
            wire.escape_ascii()
        );
    }
    for streamed in [&b"*?\r\n"[..], b";4\r\nabcd\r\n", b".\r\n", b"%?\r\n"] {
        assert!(
            matches!(parse_one(streamed), Err(ProtocolError::Streamed { .. })),
            "{}",
            streamed.escape_ascii()
        );
    }
}

#[test]
fn errors_inside_aggregates_are_reported_and_reset_the_parser() {
    let mut parser = Parser::new();
    let mut buf = BytesMut::from(&b"*2\r\n:1\r\n:x\r\n"[..]);
    assert!(parser.parse(&mut buf).is_err());
    assert!(parser.is_idle());
    let mut fresh = BytesMut::from(&b":5\r\n"[..]);
    assert_eq!(parser.parse(&mut fresh), Ok(Some(Value::Integer(5))));
}

#[test]
fn nesting_is_bounded() {
    let nested = |depth: usize| {
        let mut wire = b"*1\r\n".repeat(depth);
        wire.extend_from_slice(b":1\r\n");
        wire
    };
    let mut expected = Value::Integer(1);
    for _ in 0..MAX_DEPTH {
        expected = Value::Array(vec![expected]);
    }
    assert_eq!(parse_one(&nested(MAX_DEPTH)), Ok(Some(expected)));
    assert_eq!(
        parse_one(&nested(MAX_DEPTH + 1)),
        Err(ProtocolError::TooDeep { limit: MAX_DEPTH })
    );
    // A million nested headers fail fast instead of overflowing the stack.
    assert!(parse_one(&b"*1\r\n".repeat(1_000_000)).is_err());
    let attrs = b"|1\r\n:1\r\n:1\r\n".repeat(MAX_DEPTH + 1);
    assert_eq!(
        parse_one(&attrs),
        Err(ProtocolError::TooDeep { limit: MAX_DEPTH })
    );
}

#[test]
fn converts_into_the_crate_error() {
    let err: redis_client::Error = parse_one(b"@\r\n").unwrap_err().into();
    assert!(matches!(err, redis_client::Error::Protocol(_)));
    assert!(
        err.to_string().contains("unknown RESP type byte \"@\""),
        "{err}"
    );
}
