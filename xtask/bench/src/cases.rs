//! The replies the parser micro-benchmarks feed: wire bytes built here, identical for every
//! parser under test (moved from redis-client's former `benches/parse.rs`, which this crate
//! subsumes).

/// One reply to parse: a name and its wire bytes.
pub struct Case {
    /// Short name for tables.
    pub name: &'static str,
    /// The complete RESP frame.
    pub wire: Vec<u8>,
}

fn bulk(out: &mut Vec<u8>, payload: &[u8]) {
    out.extend_from_slice(format!("${}\r\n", payload.len()).as_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(b"\r\n");
}

fn array_of_bulks(name: &'static str, n: usize) -> Case {
    let mut wire = format!("*{n}\r\n").into_bytes();
    for i in 0..n {
        bulk(&mut wire, format!("member:{i:09}").as_bytes());
    }
    Case { name, wire }
}

/// Every case, smallest first.
pub fn all() -> Vec<Case> {
    let mut bulk64 = Vec::new();
    bulk(&mut bulk64, &[b'v'; 64]);
    let mut bulk1m = Vec::new();
    bulk(&mut bulk1m, &vec![b'x'; 1 << 20]);
    let mut map = b"%5000\r\n".to_vec();
    for i in 0..5000 {
        bulk(&mut map, format!("field:{i:06}").as_bytes());
        bulk(&mut map, format!("value:{i:06}").as_bytes());
    }
    let mut ints = b"*10000\r\n".to_vec();
    for i in 0..10_000 {
        ints.extend_from_slice(format!(":{}\r\n", i * 7919).as_bytes());
    }
    vec![
        Case {
            name: "+OK",
            wire: b"+OK\r\n".to_vec(),
        },
        Case {
            name: ":123",
            wire: b":123\r\n".to_vec(),
        },
        Case {
            name: "64-byte bulk",
            wire: bulk64,
        },
        array_of_bulks("*100 bulks", 100),
        array_of_bulks("*10000 bulks", 10_000),
        Case {
            name: "*10000 ints",
            wire: ints,
        },
        Case {
            name: "%5000 map",
            wire: map,
        },
        Case {
            name: "1 MiB bulk",
            wire: bulk1m,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BytesMut;
    use redis_client::resp::Parser;

    #[test]
    fn every_case_is_one_complete_reply_for_both_parsers() {
        for case in all() {
            let mut buf = BytesMut::from(&case.wire[..]);
            let ours = Parser::new().parse(&mut buf).unwrap();
            assert!(ours.is_some() && buf.is_empty(), "{}", case.name);
            let theirs = redis::parse_redis_value(&case.wire);
            assert!(theirs.is_ok(), "{}: {theirs:?}", case.name);
        }
    }
}
