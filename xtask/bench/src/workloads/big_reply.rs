//! Workload 3: big replies on one connection — LRANGE 0 -1 over 10 000 elements, HGETALL over
//! 5 000 fields, MGET of 100 values of 1 KiB — each converted to the collection a caller would
//! ask for (redis-client: the typed `Commands` surface). redis-benchmark runs the same commands (as custom commands, `-c 1`).

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Duration;

use redis_client::Commands;

use super::{ours, theirs, Group, Runner, Workload};
use crate::measure::timed;
use crate::peers::{Peer, Target};
use crate::redis_benchmark::RedisBenchmark;

const LIST: &str = "bench:list";
const LIST_LEN: usize = 10_000;
const HASH: &str = "bench:hash";
const HASH_LEN: usize = 5_000;
const MGET_KEYS: usize = 100;
const MGET_VALUE: usize = 1024;

#[derive(Clone, Copy)]
enum Kind {
    Lrange,
    Hgetall,
    Mget,
}

/// The three big-reply workloads, after writing their data.
pub fn workloads(
    target: &Target,
    rb: Option<&RedisBenchmark>,
    budget: Duration,
) -> Result<Vec<Workload>, String> {
    let keys = write_data(target)?;
    let mut out = Vec::new();
    let kinds = [
        (Kind::Lrange, format!("LRANGE 0 -1 of {LIST_LEN}")),
        (Kind::Hgetall, format!("HGETALL of {HASH_LEN} fields")),
        (Kind::Mget, format!("MGET of {MGET_KEYS} × 1 KiB")),
    ];
    for (kind, name) in kinds {
        let mut runners: Vec<(Peer, Runner)> = vec![
            (Peer::Ours, ours_runner(target, kind, keys.clone())?),
            (Peer::RedisRs, redis_rs_runner(target, kind, keys.clone())?),
        ];
        if let Some(rb) = rb {
            let mut args: Vec<String> = ["-c", "1", "-P", "1"].map(String::from).to_vec();
            match kind {
                Kind::Lrange => args.extend(["LRANGE", LIST, "0", "-1"].map(String::from)),
                Kind::Hgetall => args.extend(["HGETALL", HASH].map(String::from)),
                Kind::Mget => {
                    args.push("MGET".into());
                    args.extend(keys.iter().cloned());
                }
            }
            runners.push((Peer::RedisBenchmark, rb.runner(args, 1)));
        }
        out.push(Workload {
            group: Group::BigReply,
            name,
            budget,
            runners,
        });
    }
    Ok(out)
}

/// Writes the list, the hash and the MGET keys; returns the MGET keys.
fn write_data(target: &Target) -> Result<Vec<String>, String> {
    let mut conn = target.ours_connection()?;
    let mget_keys: Vec<String> = (0..MGET_KEYS).map(|i| format!("bench:mget:{i}")).collect();
    conn.query::<()>(("DEL", LIST, HASH, mget_keys.as_slice()))
        .map_err(ours("DEL"))?;
    let members: Vec<String> = (0..LIST_LEN).map(|i| format!("member:{i:09}")).collect();
    for chunk in members.chunks(1000) {
        conn.query::<()>(("RPUSH", LIST, chunk))
            .map_err(ours("RPUSH"))?;
    }
    let fields: Vec<(String, String)> = (0..HASH_LEN)
        .map(|i| (format!("field:{i:06}"), format!("value:{i:06}")))
        .collect();
    for chunk in fields.chunks(1000) {
        let flat: Vec<&str> = chunk
            .iter()
            .flat_map(|(f, v)| [f.as_str(), v.as_str()])
            .collect();
        conn.query::<()>(("HSET", HASH, flat))
            .map_err(ours("HSET"))?;
    }
    let value = vec![b'v'; MGET_VALUE];
    for key in &mget_keys {
        conn.query::<()>(("SET", key, &value[..]))
            .map_err(ours("SET"))?;
    }
    let list_len: usize = conn.query(("LLEN", LIST)).map_err(ours("LLEN"))?;
    let hash_len: usize = conn.query(("HLEN", HASH)).map_err(ours("HLEN"))?;
    if (list_len, hash_len) != (LIST_LEN, HASH_LEN) {
        return Err(format!(
            "big-reply data: LLEN {list_len} (want {LIST_LEN}), HLEN {hash_len} (want {HASH_LEN})"
        ));
    }
    Ok(mget_keys)
}

fn ours_runner(target: &Target, kind: Kind, keys: Vec<String>) -> Result<Runner, String> {
    let mut conn = target.ours_connection()?;
    Ok(Box::new(move |budget| {
        timed(budget, || {
            match kind {
                Kind::Lrange => {
                    let items = conn.lrange(LIST, 0, -1).map_err(ours("LRANGE"))?;
                    check_len("LRANGE", items.len(), LIST_LEN)?;
                    black_box(items);
                }
                Kind::Hgetall => {
                    let map = conn.hgetall(HASH).map_err(ours("HGETALL"))?;
                    check_len("HGETALL", map.len(), HASH_LEN)?;
                    black_box(map);
                }
                Kind::Mget => {
                    let values = conn.mget(&keys).map_err(ours("MGET"))?;
                    check_len("MGET", values.len(), MGET_KEYS)?;
                    black_box(values);
                }
            }
            Ok(1)
        })
    }))
}

fn redis_rs_runner(target: &Target, kind: Kind, keys: Vec<String>) -> Result<Runner, String> {
    let mut conn = target.redis_rs_connection()?;
    Ok(Box::new(move |budget| {
        timed(budget, || {
            match kind {
                Kind::Lrange => {
                    let items: Vec<Vec<u8>> = redis::cmd("LRANGE")
                        .arg(LIST)
                        .arg("0")
                        .arg("-1")
                        .query(&mut conn)
                        .map_err(theirs("LRANGE"))?;
                    check_len("LRANGE", items.len(), LIST_LEN)?;
                    black_box(items);
                }
                Kind::Hgetall => {
                    let map: HashMap<Vec<u8>, Vec<u8>> = redis::cmd("HGETALL")
                        .arg(HASH)
                        .query(&mut conn)
                        .map_err(theirs("HGETALL"))?;
                    check_len("HGETALL", map.len(), HASH_LEN)?;
                    black_box(map);
                }
                Kind::Mget => {
                    let values: Vec<Option<Vec<u8>>> = redis::cmd("MGET")
                        .arg(&keys)
                        .query(&mut conn)
                        .map_err(theirs("MGET"))?;
                    check_len("MGET", values.len(), MGET_KEYS)?;
                    black_box(values);
                }
            }
            Ok(1)
        })
    }))
}

fn check_len(command: &str, got: usize, want: usize) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{command}: reply has {got} items, expected {want}"))
    }
}
