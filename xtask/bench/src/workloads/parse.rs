//! Micro: parsing replies (the cases in `crate::cases`), fed whole and in 1 KiB chunks —
//! redis-client's `Parser` against redis-rs's `Parser`.
//!
//! Replies are parsed in batches (many copies back to back, so clock reads vanish). Whole:
//! redis-client parses a buffer already holding the batch, redis-rs reads it from a byte slice;
//! only the parse calls are timed. 1 KiB chunks: redis-client copies each chunk into its
//! buffer and parses after every one, redis-rs reads from a reader that returns at most 1 KiB
//! per call; copying counts, as a socket read would. Dropping replies is never timed.

use std::hint::black_box;
use std::io::Read;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use redis_client::resp::Parser;

use super::{Group, Runner, Workload};
use crate::alloc::allocations;
use crate::cases;
use crate::measure::Sample;
use crate::peers::Peer;

const CHUNK: usize = 1024;

/// How much longer than its budget a run may take because of untimed work. Parsing a 1 MiB bulk
/// costs nanoseconds (it is not copied) while refilling the buffer with it costs far more, so
/// without this bound the timed part would take minutes to add up.
pub(super) const UNTIMED_STRETCH: u32 = 4;

/// Two workloads per case: fed whole and in 1 KiB chunks.
pub fn workloads(budget: Duration) -> Vec<Workload> {
    let mut out = Vec::new();
    for case in cases::all() {
        for chunked in [false, true] {
            let feed = if chunked { "1 KiB chunks" } else { "whole" };
            out.push(Workload {
                group: Group::Parse,
                name: format!("{}, {feed}", case.name),
                budget,
                runners: vec![
                    (
                        Peer::Ours,
                        ours_runner(case.wire.clone(), chunked, case.name),
                    ),
                    (
                        Peer::RedisRs,
                        redis_rs_runner(case.wire.clone(), chunked, case.name),
                    ),
                ],
            });
        }
    }
    out
}

/// How many copies of a reply one batch parses: enough to make clock reads negligible.
fn batch_size(wire: &[u8]) -> usize {
    (64 * 1024 / wire.len()).clamp(1, 1024)
}

/// What one batch measured: replies parsed, and the time and allocations of the parse calls.
struct Batch {
    replies: u64,
    time: Duration,
    allocs: u64,
}

/// Repeats `batch` until the timed parts add up to `budget`, or the untimed parts (filling the
/// buffer, dropping replies) have stretched the run to [`UNTIMED_STRETCH`] × `budget`.
fn run_batches(
    budget: Duration,
    mut batch: impl FnMut() -> Result<Batch, String>,
) -> Result<Sample, String> {
    let started = Instant::now();
    let (mut ops, mut time, mut allocs) = (0, Duration::ZERO, 0);
    while ops == 0 || (time < budget && started.elapsed() < budget * UNTIMED_STRETCH) {
        let b = batch()?;
        ops += b.replies;
        time += b.time;
        allocs += b.allocs;
    }
    Ok(Sample {
        ops,
        wall: time,
        // Parsing never waits: its time on the clock is CPU time.
        cpu: time,
        allocs: Some(allocs),
    })
}

fn ours_runner(wire: Vec<u8>, chunked: bool, name: &'static str) -> Runner {
    Box::new(move |budget| {
        let batch = batch_size(&wire);
        let stream = wire.repeat(batch);
        let mut parser = Parser::new();
        let mut buf = BytesMut::with_capacity(stream.len());
        let mut out = Vec::with_capacity(batch);
        run_batches(budget, || {
            if !chunked {
                buf.extend_from_slice(&stream);
            }
            let allocs = allocations();
            let started = Instant::now();
            if chunked {
                for chunk in stream.chunks(CHUNK) {
                    buf.extend_from_slice(chunk);
                    while let Some(reply) = parser.parse(&mut buf).map_err(|e| bad(name, e))? {
                        out.push(reply);
                    }
                }
            } else {
                while let Some(reply) = parser.parse(&mut buf).map_err(|e| bad(name, e))? {
                    out.push(reply);
                }
            }
            let time = started.elapsed();
            let allocs = allocations() - allocs;
            let replies = check_batch("redis-client", name, out.len(), batch, buf.is_empty())?;
            black_box(&out);
            out.clear();
            Ok(Batch {
                replies,
                time,
                allocs,
            })
        })
    })
}

fn redis_rs_runner(wire: Vec<u8>, chunked: bool, name: &'static str) -> Runner {
    Box::new(move |budget| {
        let batch = batch_size(&wire);
        let stream = wire.repeat(batch);
        let mut parser = redis::Parser::new();
        let mut out = Vec::with_capacity(batch);
        run_batches(budget, || {
            let mut reader = Chunks {
                rest: &stream,
                chunk: if chunked { CHUNK } else { usize::MAX },
            };
            let allocs = allocations();
            let started = Instant::now();
            for _ in 0..batch {
                let value = parser
                    .parse_value(&mut reader)
                    .map_err(|e| format!("redis-rs parse {name}: {e}"))?;
                out.push(value);
            }
            let time = started.elapsed();
            let allocs = allocations() - allocs;
            let replies = check_batch("redis-rs", name, out.len(), batch, reader.rest.is_empty())?;
            black_box(&out);
            out.clear();
            Ok(Batch {
                replies,
                time,
                allocs,
            })
        })
    })
}

/// A reader over a byte slice that returns at most `chunk` bytes per call.
struct Chunks<'a> {
    rest: &'a [u8],
    chunk: usize,
}

impl Read for Chunks<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = out.len().min(self.chunk).min(self.rest.len());
        out[..n].copy_from_slice(&self.rest[..n]);
        self.rest = &self.rest[n..];
        Ok(n)
    }
}

fn check_batch(
    client: &str,
    name: &str,
    parsed: usize,
    batch: usize,
    drained: bool,
) -> Result<u64, String> {
    if parsed == batch && drained {
        Ok(batch as u64)
    } else {
        Err(format!(
            "{client} parse {name}: parsed {parsed} of {batch} replies, input {}",
            if drained { "used up" } else { "left over" }
        ))
    }
}

fn bad(name: &str, e: redis_client::resp::ProtocolError) -> String {
    format!("redis-client parse {name}: {e}")
}
