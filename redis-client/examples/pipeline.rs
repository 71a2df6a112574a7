//! Pipelines: many commands in one round trip, typed replies, errors in place.
//!
//! `cargo run -p redis-client --example pipeline -- redis://127.0.0.1:6379/15` (it writes keys
//! under `example:pipeline:` in the database you name).

use std::time::Instant;

use bytes::Bytes;
use redis_client::{cmd, Client, Commands, Executor, Result, Value};

fn main() {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "redis://127.0.0.1:6379/15".to_string());
    if let Err(e) = run(&url) {
        eprintln!("pipeline example failed: {e}");
        std::process::exit(1);
    }
}

fn run(url: &str) -> Result<()> {
    let client = Client::open(url)?;

    println!("== the generated surface chains on a pipeline; replies come back as a typed tuple");
    let mut pipe = client.pipeline();
    pipe.set("example:pipeline:a", 1)
        .incr("example:pipeline:a")
        .get("example:pipeline:a")
        .run(cmd::Set::new("example:pipeline:a", "replaced").get());
    let (set, n, a, old): ((), i64, Option<Bytes>, Option<Bytes>) = pipe.execute_typed()?;
    println!("SET -> {set:?}, INCR -> {n}, GET -> {a:?}, SET … GET -> {old:?}");

    println!("\n== plain pipelining (no MULTI/EXEC) and every reply as a Value");
    pipe.transaction(false)
        .raw(["RPUSH", "example:pipeline:list", "x", "y"])
        .lrange("example:pipeline:list", 0, -1)
        .raw(["DEL", "example:pipeline:list"]);
    for reply in pipe.execute()? {
        println!("  {reply}");
    }

    println!("\n== one failing command keeps its place; the others still reply");
    pipe.set("example:pipeline:text", "not a number")
        .incr("example:pipeline:text")
        .get("example:pipeline:text");
    for (i, outcome) in pipe.execute_results()?.into_iter().enumerate() {
        match outcome {
            Ok(value) => println!("  #{} ok: {value}", i + 1),
            Err(e) => println!("  #{} failed: {e}", i + 1),
        }
    }
    let err = pipe
        .incr("example:pipeline:text")
        .execute()
        .expect_err("INCR of text fails");
    println!("execute() returns the first error: {err}");

    println!("\n== 100 000 commands in one pipeline: written in slices, replies read as they come");
    let started = Instant::now();
    pipe.transaction(false);
    for i in 0..100_000u32 {
        pipe.raw(("INCRBY", "example:pipeline:sum", i % 10));
    }
    let sums: Vec<i64> = pipe.execute_typed()?;
    println!(
        "{} replies in {:?}; the last running sum is {}",
        sums.len(),
        started.elapsed(),
        sums.last().copied().unwrap_or_default()
    );

    let deleted: i64 = client.query([
        "DEL",
        "example:pipeline:a",
        "example:pipeline:text",
        "example:pipeline:sum",
    ])?;
    println!("\ncleaned up {deleted} keys");
    let _: Value = client.execute(["PING"])?;
    Ok(())
}
