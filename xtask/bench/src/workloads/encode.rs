//! Micro: encoding `SET key value` (16-byte key, 64-byte value) into a reused output buffer —
//! redis-client's `write_command` against building a redis-rs `Cmd` and packing it.

use std::hint::black_box;
use std::time::Duration;

use bytes::BytesMut;
use redis_client::resp::write_command;

use super::{Group, Runner, Workload, KEY, VALUE};
use crate::measure::timed;
use crate::peers::Peer;

/// Commands encoded between clock reads.
const BATCH: usize = 1000;

/// The encode workload.
pub fn workloads(budget: Duration) -> Vec<Workload> {
    let ours: Runner = Box::new(|budget| {
        let mut buf = BytesMut::with_capacity(128 * BATCH);
        timed(budget, || {
            for _ in 0..BATCH {
                write_command(&mut buf, &("SET", black_box(KEY), black_box(VALUE)))
                    .map_err(|e| format!("redis-client encode SET: {e}"))?;
            }
            black_box(&buf);
            buf.clear();
            Ok(BATCH as u64)
        })
    });
    let theirs: Runner = Box::new(|budget| {
        let mut buf = Vec::with_capacity(128 * BATCH);
        timed(budget, || {
            for _ in 0..BATCH {
                let mut cmd = redis::cmd("SET");
                cmd.arg(black_box(KEY)).arg(black_box(VALUE));
                cmd.write_packed_command(&mut buf);
            }
            black_box(&buf);
            buf.clear();
            Ok(BATCH as u64)
        })
    });
    vec![Workload {
        group: Group::Encode,
        name: "SET, 16-byte key, 64-byte value".to_string(),
        budget,
        runners: vec![(Peer::Ours, ours), (Peer::RedisRs, theirs)],
    }]
}
