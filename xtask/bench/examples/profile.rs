//! A fixed amount of one redis-client workload, for instruction counts under callgrind,
//! where the timed loops of the benchmark would make per-operation figures guesswork:
//!
//! ```text
//! valgrind --tool=callgrind target/release/examples/profile redis://127.0.0.1:PORT pipeline-get 100
//! ```
//!
//! Divide the totals by `rounds × operations per round` (printed at the end).

use std::hint::black_box;

use bytes::Bytes;
use redis_client::{Client, Commands, Config, FromValue, Value};

const KEY: &str = "key:__rand_int__";
const VALUE: &[u8; 64] = &[b'x'; 64];
const PIPELINE: usize = 1000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, scenario, rounds] = args.as_slice() else {
        return Err(
            "usage: profile URL SCENARIO ROUNDS (scenarios: pipeline-get, \
                    pipeline-set, raw-get, raw-set, get, conn-get, hgetall, mget)"
                .into(),
        );
    };
    let rounds: usize = rounds.parse()?;
    let config = Config::from_url(url)?;
    let client = Client::new(config.clone())?;
    let mut conn = redis_client::Connection::open(&config)?;
    client.set(KEY, VALUE)?;
    let per_round = match scenario.as_str() {
        "pipeline-get" | "pipeline-set" => {
            let get = scenario == "pipeline-get";
            for _ in 0..rounds {
                let mut pipe = client.pipeline();
                pipe.transaction(false);
                if get {
                    for _ in 0..PIPELINE {
                        pipe.get(KEY);
                    }
                    black_box(pipe.execute_typed::<Vec<Option<Bytes>>>()?);
                } else {
                    for _ in 0..PIPELINE {
                        pipe.set(KEY, VALUE);
                    }
                    black_box(pipe.execute_typed::<Vec<()>>()?);
                }
            }
            PIPELINE
        }
        "raw-get" | "raw-set" => {
            let get = scenario == "raw-get";
            for _ in 0..rounds {
                for _ in 0..PIPELINE {
                    if get {
                        conn.write_command(&("GET", KEY))?;
                    } else {
                        conn.write_command(&("SET", KEY, VALUE))?;
                    }
                }
                conn.flush()?;
                let mut values = Vec::with_capacity(PIPELINE);
                for _ in 0..PIPELINE {
                    values.push(Option::<Bytes>::from_value(conn.read_reply()?).ok());
                }
                black_box(values);
            }
            PIPELINE
        }
        "get" => {
            for _ in 0..rounds {
                black_box(client.get(KEY)?);
            }
            1
        }
        // The round-trip benchmark's own path: the typed surface on a `Connection`.
        "conn-get" => {
            for _ in 0..rounds {
                black_box(conn.get(KEY)?);
            }
            1
        }
        "hgetall" => {
            let fields: Vec<(String, String)> = (0..5000)
                .map(|i| (format!("field:{i}"), format!("value:{i}")))
                .collect();
            conn.query::<Value>(("DEL", "profile:hash"))?;
            for chunk in fields.chunks(500) {
                conn.query::<Value>(("HSET", "profile:hash", chunk.to_vec()))?;
            }
            for _ in 0..rounds {
                black_box(client.hgetall("profile:hash")?);
            }
            5000
        }
        "mget" => {
            let keys: Vec<String> = (0..100).map(|i| format!("profile:mget:{i}")).collect();
            for k in &keys {
                client.set(k.as_str(), vec![b'v'; 1024])?;
            }
            for _ in 0..rounds {
                black_box(client.mget(keys.clone())?);
            }
            100
        }
        other => return Err(format!("unknown scenario {other:?}").into()),
    };
    println!(
        "{} operations ({rounds} rounds × {per_round})",
        rounds * per_round
    );
    Ok(())
}
