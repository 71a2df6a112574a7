//! Property-style fuzzing of the parser with a self-written PRNG.
//!
//! Over 100 000 inputs — random bytes, valid frames, and valid frames mutated or truncated — are
//! fed in random chunk sizes. The parser must never panic, must parse valid frames back to the
//! values they encode, and must never hold much more memory than the input it was given: a
//! counting global allocator tracks this thread's live heap bytes while each input is parsed.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use bytes::{Bytes, BytesMut};
use redis_client::resp::{Parser, MAX_DEPTH};
use redis_client::Value;

/// Counts live heap bytes per thread, so parallel tests in this binary do not disturb each other.
struct CountingAlloc;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn note(delta: isize) {
    // `try_with`: the allocator may run while this thread's locals are being torn down.
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so `System`'s
// guarantees carry over; the bookkeeping only touches `Cell`s in const-initialised thread-locals,
// which never allocate.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = System.alloc(layout);
        if !ptr.is_null() {
            note(layout.size() as isize);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let ptr = System.alloc_zeroed(layout);
        if !ptr.is_null() {
            note(layout.size() as isize);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        note(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = System.realloc(ptr, layout, new_size);
        if !new.is_null() {
            // Counted as a fresh block before the old one goes, like a copying realloc.
            note(new_size as isize);
            note(-(layout.size() as isize));
        }
        new
    }
}

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// Runs `f` and returns how far this thread's live heap rose above where it started.
fn peak_growth(f: impl FnOnce()) -> isize {
    let start = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(start));
    f();
    PEAK.with(Cell::get) - start
}

/// The most heap a parse may hold for an input of `len` bytes.
///
/// A 3-byte element (`_\r\n`) becomes a 40-byte `Value` in a vector that may be up to twice as
/// large as its contents, and each 4-byte nesting header an open-aggregate record; the feeding
/// buffer itself is counted too. Anything that trusts a header's count blows far past this.
fn allowed(len: usize) -> isize {
    (64 * len + 16 * 1024) as isize
}

/// xorshift64*: small, fast and good enough to spread test inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform-ish in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn bytes(&mut self, max_len: usize, alphabet: &[u8]) -> Vec<u8> {
        let len = self.below(max_len + 1);
        (0..len)
            .map(|_| alphabet[self.below(alphabet.len())])
            .collect()
    }
}

const TEXT: &[u8] = b"abcXYZ019 -_:+.";
const WIRE: &[u8] = b"+-:$*_,#!=(%~|>;.?\r\n0123456789-tfinax";

/// A random value, at most `depth` aggregates deep.
fn random_value(rng: &mut Rng, depth: usize) -> Value {
    let kinds = if depth == 0 { 9 } else { 14 };
    match rng.below(kinds) {
        0 => Value::Nil,
        1 => Value::Simple(rng.bytes(12, TEXT).into()),
        2 => Value::Error(rng.bytes(12, TEXT).into()),
        3 => Value::Integer(match rng.below(4) {
            0 => i64::MIN,
            1 => i64::MAX,
            _ => rng.next() as i64 >> rng.below(64),
        }),
        4 => Value::Double(match rng.below(6) {
            0 => f64::INFINITY,
            1 => f64::NEG_INFINITY,
            2 => 0.1,
            _ => loop {
                let d = f64::from_bits(rng.next());
                if d.is_finite() {
                    break d;
                }
            },
        }),
        5 => Value::Boolean(rng.chance(50)),
        6 => {
            let mut digits = rng.bytes(30, b"0123456789");
            digits.insert(0, b'7');
            if rng.chance(30) {
                digits.insert(0, b'-');
            }
            Value::BigNumber(digits.into())
        }
        7 => Value::Bulk(rng.bytes(20, b"ab\r\n\x00\xff$*:").into()),
        8 => Value::Verbatim {
            format: *b"txt",
            text: rng.bytes(10, TEXT).into(),
        },
        9 => Value::Array(random_items(rng, depth)),
        10 => Value::Set(random_items(rng, depth)),
        11 => Value::Push(random_items(rng, depth)),
        12 => Value::Map(random_pairs(rng, depth)),
        _ => Value::Attribute {
            attributes: random_pairs(rng, depth),
            value: Box::new(random_value(rng, depth - 1)),
        },
    }
}

fn random_items(rng: &mut Rng, depth: usize) -> Vec<Value> {
    (0..rng.below(5))
        .map(|_| random_value(rng, depth - 1))
        .collect()
}

fn random_pairs(rng: &mut Rng, depth: usize) -> Vec<(Value, Value)> {
    (0..rng.below(4))
        .map(|_| (random_value(rng, depth - 1), random_value(rng, depth - 1)))
        .collect()
}

/// Encodes `value` as RESP3, choosing among equivalent encodings at random.
fn encode(rng: &mut Rng, value: &Value, out: &mut Vec<u8>) {
    let header = |out: &mut Vec<u8>, tag: u8, n: usize| {
        out.push(tag);
        out.extend_from_slice(n.to_string().as_bytes());
        out.extend_from_slice(b"\r\n");
    };
    let line = |out: &mut Vec<u8>, tag: u8, text: &[u8]| {
        out.push(tag);
        out.extend_from_slice(text);
        out.extend_from_slice(b"\r\n");
    };
    let string = |out: &mut Vec<u8>, tag: u8, payload: &[u8]| {
        header(out, tag, payload.len());
        out.extend_from_slice(payload);
        out.extend_from_slice(b"\r\n");
    };
    match value {
        Value::Nil => out.extend_from_slice([&b"_\r\n"[..], b"$-1\r\n", b"*-1\r\n"][rng.below(3)]),
        Value::Simple(s) => line(out, b'+', s),
        Value::Error(s) if rng.chance(50) => line(out, b'-', s),
        Value::Error(s) => string(out, b'!', s),
        Value::Integer(i) => line(out, b':', i.to_string().as_bytes()),
        Value::Double(d) => line(out, b',', format!("{d:?}").as_bytes()),
        Value::Boolean(b) => line(out, b'#', if *b { b"t" } else { b"f" }),
        Value::BigNumber(digits) => line(out, b'(', digits),
        Value::Bulk(data) => string(out, b'$', data),
        Value::Verbatim { format, text } => string(out, b'=', &[&format[..], b":", text].concat()),
        Value::Array(items) | Value::Set(items) | Value::Push(items) => {
            let tag = match value {
                Value::Array(_) => b'*',
                Value::Set(_) => b'~',
                _ => b'>',
            };
            header(out, tag, items.len());
            items.iter().for_each(|item| encode(rng, item, out));
        }
        Value::Map(pairs)
        | Value::Attribute {
            attributes: pairs, ..
        } => {
            header(
                out,
                if value.as_map().is_some() { b'%' } else { b'|' },
                pairs.len(),
            );
            for (k, v) in pairs {
                encode(rng, k, out);
                encode(rng, v, out);
            }
            if let Value::Attribute { value, .. } = value {
                encode(rng, value, out);
            }
        }
    }
}

/// Corrupts a valid encoding in one of several ways.
fn mutate(rng: &mut Rng, wire: &mut Vec<u8>) {
    if wire.is_empty() {
        wire.extend(rng.bytes(8, WIRE));
        return;
    }
    for _ in 0..=rng.below(3) {
        let at = rng.below(wire.len().max(1));
        match rng.below(6) {
            0 => wire.truncate(at),
            1 => {
                if let Some(b) = wire.get_mut(at) {
                    *b = WIRE[rng.below(WIRE.len())];
                }
            }
            2 => wire.insert(at.min(wire.len()), WIRE[rng.below(WIRE.len())]),
            3 => {
                if at < wire.len() {
                    wire.remove(at);
                }
            }
            4 => {
                // Swap a length for a hostile one.
                let huge: &[u8] =
                    [&b"999999999999"[..], b"2147483647", b"536870912", b"-7"][rng.below(4)];
                let at = at.min(wire.len());
                wire.splice(at..at, huge.iter().copied());
            }
            _ => {
                let extra = rng.bytes(6, WIRE);
                wire.extend(extra);
            }
        }
        if wire.is_empty() {
            break;
        }
    }
}

/// Feeds `wire` in random chunks; returns every frame parsed, or `None` after a protocol error.
fn feed(rng: &mut Rng, wire: &[u8]) -> Option<Vec<Value>> {
    let mut parser = Parser::new();
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    let mut rest = wire;
    loop {
        let chunk = 1 + rng.below(rest.len().clamp(1, 48));
        let (now, later) = rest.split_at(chunk.min(rest.len()));
        buf.extend_from_slice(now);
        rest = later;
        loop {
            match parser.parse(&mut buf) {
                Ok(Some(frame)) => frames.push(frame),
                Ok(None) => break,
                Err(_) => return None,
            }
        }
        if rest.is_empty() {
            return Some(frames);
        }
    }
}

#[test]
fn fuzz_never_panics_round_trips_and_bounds_memory() {
    let mut rng = Rng(0x5EED_CAFE_F00D_1234);
    let mut worst_ratio = 0.0f64;
    for round in 0..100_000 {
        let kind = round % 4;
        let frames: Vec<Value> = (0..1 + rng.below(2))
            .map(|_| {
                let depth = 1 + rng.below(4);
                random_value(&mut rng, depth)
            })
            .collect();
        let mut wire = Vec::new();
        frames.iter().for_each(|v| encode(&mut rng, v, &mut wire));
        match kind {
            0 => wire = rng.bytes(64, WIRE),
            1 => mutate(&mut rng, &mut wire),
            2 => {
                let cut = rng.below(wire.len() + 1);
                wire.truncate(cut);
            }
            _ => {}
        }
        let mut parsed = None;
        let growth = peak_growth(|| parsed = feed(&mut rng, &wire));
        assert!(
            growth <= allowed(wire.len()),
            "input {} of {} bytes held {growth} heap bytes",
            wire.escape_ascii(),
            wire.len()
        );
        worst_ratio = worst_ratio.max(growth as f64 / (wire.len() + 1) as f64);
        if kind == 3 {
            // Both error encodings parse to `Value::Error`, all three nulls to `Value::Nil`.
            assert_eq!(parsed, Some(frames), "input {}", wire.escape_ascii());
        }
    }
    eprintln!("worst heap growth per input byte: {worst_ratio:.1}");
}

#[test]
fn hostile_headers_reserve_only_what_arrived() {
    let nested_counts = b"*1000000\r\n".repeat(MAX_DEPTH);
    let nested_maps = b"%100000000\r\n".repeat(MAX_DEPTH);
    let mut wide_then_nested = b"*2147483647\r\n".to_vec();
    wide_then_nested.extend(b"*2147483647\r\n".repeat(MAX_DEPTH - 1));
    wide_then_nested.extend(b"_\r\n".repeat(10_000));
    let cases: Vec<Vec<u8>> = vec![
        b"*2147483647\r\n".to_vec(),
        b"%2147483647\r\n:1\r\n:1\r\n".to_vec(),
        b"$536870912\r\nabc".to_vec(),
        nested_counts,
        nested_maps,
        wide_then_nested,
        [&b"~1000000\r\n"[..], &b"+x\r\n".repeat(5_000)].concat(),
    ];
    for wire in cases {
        let mut parser = Parser::new();
        let mut buf = BytesMut::from(&wire[..]);
        let growth = peak_growth(|| {
            let _ = parser.parse(&mut buf);
        });
        assert!(
            growth <= allowed(wire.len()),
            "{}… ({} bytes) held {growth} heap bytes",
            wire[..wire.len().min(40)].escape_ascii(),
            wire.len()
        );
    }
}

/// Feeds `wire` to a fresh parser whole or in `chunk`-byte pieces (the buffer is counted too)
/// and returns the peak heap growth.
fn peak_of(wire: &[u8], chunk: usize) -> isize {
    let mut parser = Parser::new();
    let mut buf = BytesMut::new();
    peak_growth(|| {
        for piece in wire.chunks(chunk.min(wire.len())) {
            buf.extend_from_slice(piece);
            if parser.parse(&mut buf).is_err() {
                break;
            }
        }
    })
}

/// Nested headers announcing 2³¹−1 elements each, then 0.9 MB the counts do not justify: the
/// parser may hold at most 8× the bytes received (the buffer included), at every depth and
/// however the bytes are fed. Reserving each level's capacity from the bytes after its
/// header held 14× here, and up to 58× with short elements behind the headers.
#[test]
fn nested_hostile_headers_hold_at_most_8x_the_input_at_every_depth() {
    const FILLER: usize = 900_000;
    let unfinished_bulk = [format!("${}\r\n", FILLER * 2).as_bytes(), &[b'x'; FILLER]].concat();
    let fillers: [(&str, Vec<u8>); 3] = [
        ("bytes that are no element", vec![b'x'; FILLER]),
        ("an unfinished bulk string", unfinished_bulk.clone()),
        (
            "one element, then an unfinished bulk string",
            [&b"+x\r\n"[..], &unfinished_bulk].concat(),
        ),
    ];
    for depth in [1, 2, 16, 64, MAX_DEPTH - 1] {
        for (name, filler) in &fillers {
            let wire = [b"*2147483647\r\n".repeat(depth), filler.clone()].concat();
            for chunk in [usize::MAX, 16 * 1024, 1000] {
                let peak = peak_of(&wire, chunk);
                assert!(
                    peak <= 8 * wire.len() as isize,
                    "depth {depth}, {name}, chunks of {chunk}: {peak} heap bytes for {} bytes",
                    wire.len()
                );
            }
        }
    }
}

/// The same headers with short elements behind them: each element is a 40-byte `Value`
/// however short on the wire (`_\r\n` is 3 bytes), so those are the reply itself; beyond
/// them the parser holds at most 8× the input, plus spare capacity no larger than the Values
/// and, while the vector grows, its old copy. Before, this peaked at 58-64× the input.
#[test]
fn nested_hostile_headers_with_short_elements_hold_their_values_and_little_more() {
    let value = std::mem::size_of::<Value>() as isize;
    for (element, count) in [(&b"_\r\n"[..], 300_000), (&b"+x\r\n"[..], 225_000)] {
        for depth in [1, 64, MAX_DEPTH - 1] {
            let wire = [b"*2147483647\r\n".repeat(depth), element.repeat(count)].concat();
            for chunk in [usize::MAX, 16 * 1024, 1000] {
                let peak = peak_of(&wire, chunk);
                let bound = 8 * wire.len() as isize + 3 * value * count as isize;
                assert!(
                    peak <= bound,
                    "depth {depth}, {count} × {}, chunks of {chunk}: {peak} heap bytes, over {bound}",
                    element.escape_ascii()
                );
            }
        }
    }
}

#[test]
fn bulk_strings_allocate_nothing_per_element() {
    let count = 1000;
    let mut wire = format!("*{count}\r\n").into_bytes();
    for _ in 0..count {
        wire.extend_from_slice(b"$10\r\n0123456789\r\n");
    }
    let mut buf = BytesMut::from(&wire[..]);
    let mut parser = Parser::new();
    let mut reply = None;
    let growth = peak_growth(|| reply = parser.parse(&mut buf).unwrap());
    let Some(Value::Array(items)) = reply else {
        panic!("array did not parse");
    };
    assert_eq!(items.len(), count);
    assert_eq!(items[0], Value::Bulk(Bytes::from_static(b"0123456789")));
    // One element vector and the buffer's shared header; nothing per bulk string.
    let element_vec = (count * std::mem::size_of::<Value>()) as isize;
    assert!(
        growth <= element_vec + 1024,
        "{growth} heap bytes for {count} bulk strings"
    );
}
