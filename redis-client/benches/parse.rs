//! Parser throughput: `cargo bench -p redis-client --bench parse`.
//!
//! Each reply is parsed whole (the complete frame already in the buffer) and fed in 1 KiB chunks
//! (a parse call after every chunk, as a connection reading 1 KiB at a time would). Reported per
//! case: nanoseconds per reply, per element (every value the reply holds, keys and values of a
//! map both counting), and heap allocations per reply, counted by a wrapping global allocator.
//! Replies are parsed in batches (many small replies back to back, so the timer's own cost
//! vanishes); the time is the best batch's. Whole: only the parse calls are timed. Chunked: the
//! copying of each chunk into the buffer is timed too, as a socket read would do it. Dropping
//! the replies is never timed.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use redis_client::resp::{Parser, Value};

struct CountingAlloc;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the counter
// is a relaxed atomic increment, which neither allocates nor touches the memory handed out.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// One benchmark case: a reply's wire bytes and how many values it holds.
struct Case {
    name: &'static str,
    wire: Vec<u8>,
    elements: usize,
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
    Case {
        name,
        wire,
        elements: n + 1,
    }
}

fn cases() -> Vec<Case> {
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
            elements: 1,
        },
        Case {
            name: ":123",
            wire: b":123\r\n".to_vec(),
            elements: 1,
        },
        Case {
            name: "64-byte bulk",
            wire: bulk64,
            elements: 1,
        },
        array_of_bulks("array of 100 bulks", 100),
        array_of_bulks("array of 10000 bulks", 10_000),
        Case {
            name: "map of 5000 pairs",
            wire: map,
            elements: 10_001,
        },
        Case {
            name: "array of 10000 ints",
            wire: ints,
            elements: 10_001,
        },
        Case {
            name: "1 MiB bulk",
            wire: bulk1m,
            elements: 1,
        },
    ]
}

/// Time and allocations for one batch of replies.
struct Sample {
    time: Duration,
    replies: usize,
    allocations: u64,
}

/// How many copies of a reply one batch parses: enough to make timer overhead negligible.
fn batch_size(wire: &[u8]) -> usize {
    (64 * 1024 / wire.len()).clamp(1, 1024)
}

/// Parses a batch of complete replies already in the buffer; the buffer is filled untimed.
fn parse_whole(
    parser: &mut Parser,
    buf: &mut BytesMut,
    wire: &[u8],
    out: &mut Vec<Value>,
) -> Sample {
    let batch = batch_size(wire);
    buf.reserve(wire.len() * batch);
    for _ in 0..batch {
        buf.extend_from_slice(wire);
    }
    let allocations = ALLOCATIONS.load(Ordering::Relaxed);
    let started = Instant::now();
    while let Some(reply) = parser.parse(buf).expect("benchmark input is valid") {
        out.push(reply);
    }
    let time = started.elapsed();
    finish(buf, out, batch, time, allocations)
}

/// Feeds a batch of replies 1 KiB at a time, parsing after every chunk; the timing includes
/// copying each chunk into the buffer, as a socket read would.
fn parse_chunked(
    parser: &mut Parser,
    buf: &mut BytesMut,
    wire: &[u8],
    out: &mut Vec<Value>,
) -> Sample {
    let batch = batch_size(wire);
    let stream = wire.repeat(batch);
    buf.reserve(stream.len());
    let allocations = ALLOCATIONS.load(Ordering::Relaxed);
    let started = Instant::now();
    for chunk in stream.chunks(1024) {
        buf.extend_from_slice(chunk);
        while let Some(reply) = parser.parse(buf).expect("benchmark input is valid") {
            out.push(reply);
        }
    }
    let time = started.elapsed();
    finish(buf, out, batch, time, allocations)
}

fn finish(
    buf: &BytesMut,
    out: &mut Vec<Value>,
    batch: usize,
    time: Duration,
    allocations: u64,
) -> Sample {
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - allocations;
    assert!(buf.is_empty(), "bytes left after the batch");
    assert_eq!(out.len(), batch, "every reply parsed");
    black_box(&out);
    // Dropped untimed, so the reply's release does not count as parsing.
    out.clear();
    Sample {
        time,
        replies: batch,
        allocations,
    }
}

type Feed = fn(&mut Parser, &mut BytesMut, &[u8], &mut Vec<Value>) -> Sample;

/// Parses the case repeatedly for about `budget`; returns the best per-reply time over the
/// batches (the one least disturbed by other processes) and the allocations per reply.
fn measure(case: &Case, feed: Feed, budget: Duration) -> (f64, f64) {
    let mut parser = Parser::new();
    let mut buf = BytesMut::new();
    let mut out = Vec::with_capacity(batch_size(&case.wire));
    let started = Instant::now();
    let mut best = f64::MAX;
    let (mut replies, mut allocations) = (0, 0);
    while started.elapsed() < budget || replies == 0 {
        let sample = feed(&mut parser, &mut buf, &case.wire, &mut out);
        best = best.min(sample.time.as_nanos() as f64 / sample.replies as f64);
        replies += sample.replies;
        allocations += sample.allocations;
    }
    (best, allocations as f64 / replies as f64)
}

fn main() {
    // `cargo test --benches` runs this too; keep that run short.
    let budget = if std::env::args().any(|a| a == "--bench") {
        Duration::from_millis(400)
    } else {
        Duration::from_millis(5)
    };
    println!(
        "{:<22} {:>7} {:>13} {:>13} {:>13}",
        "reply", "feed", "ns/reply", "ns/element", "allocs/reply"
    );
    // Any other argument filters cases by name, as `cargo bench -- ints` does.
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wanted =
        |case: &Case| filters.is_empty() || filters.iter().any(|f| case.name.contains(f.as_str()));
    for case in cases().into_iter().filter(wanted) {
        let feeds: [(&str, Feed); 2] = [("whole", parse_whole), ("1 KiB", parse_chunked)];
        for (feed, run) in feeds {
            let (ns, allocs) = measure(&case, run, budget);
            println!(
                "{:<22} {:>7} {:>13.0} {:>13.2} {:>13.2}",
                case.name,
                feed,
                ns,
                ns / case.elements as f64,
                allocs
            );
        }
    }
}
