//! A guided tour of redis-client against a running server.
//!
//! `cargo xtask demo` starts a throwaway redis-server and runs this; to run it against your own
//! server: `cargo run -p redis-client --example tour -- redis://127.0.0.1:6379/15` (it writes
//! keys under `tour:` in the database you name).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use redis_client::{Client, Config, Connection, Error, Protocol, Result, Value};

fn main() {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "redis://127.0.0.1:6379/15".to_string());
    if let Err(e) = tour(&url) {
        eprintln!("tour failed: {e}");
        std::process::exit(1);
    }
}

fn step(title: &str) {
    println!("\n== {title}");
}

fn tour(url: &str) -> Result<()> {
    step("Client::open parses the URL into a Config (the password never prints)");
    let client = Client::open(url)?;
    println!("{:?}", client.config());

    step("execute: the raw escape hatch, any command, a Value back");
    let reply = client.execute(["SET", "tour:greeting", "hello"])?;
    println!("SET tour:greeting hello -> {reply}");

    step("query: typed replies through FromValue");
    let greeting: Option<String> = client.query(["GET", "tour:greeting"])?;
    let missing: Option<Bytes> = client.query(["GET", "tour:missing"])?;
    println!("GET tour:greeting -> {greeting:?}; GET tour:missing -> {missing:?}");
    client.execute(["DEL", "tour:scores"])?;
    client.execute(["ZADD", "tour:scores", "1.5", "ann", "2.25", "bob"])?;
    let scores: Vec<(String, f64)> =
        client.query(["ZRANGE", "tour:scores", "0", "-1", "WITHSCORES"])?;
    println!("ZRANGE … WITHSCORES -> {scores:?}");

    step("arguments: integers and floats are written so Redis reads them back exactly");
    client.execute(("SET", "tour:pi", std::f64::consts::PI))?;
    let pi: f64 = client.query(["GET", "tour:pi"])?;
    println!(
        "stored π and read back {pi} (exact: {})",
        pi == std::f64::consts::PI
    );

    step("errors keep the server's code and name the command");
    match client.execute(["LPUSH", "tour:greeting", "x"]) {
        Err(Error::Response(e)) => println!("code {}: {}", e.code(), e),
        other => println!("unexpected: {other:?}"),
    }
    match client.query::<i64>(["GET", "tour:greeting"]) {
        Err(e @ Error::Data(_)) => println!("typed conversion refused: {e}"),
        other => println!("unexpected: {other:?}"),
    }

    step("RESP2 and RESP3: a map reply and its flat RESP2 form give the same typed value");
    client.execute(["HSET", "tour:user", "name", "ann", "lang", "rust"])?;
    for protocol in [Protocol::Resp2, Protocol::Resp3] {
        let config = Config::from_url(url)?
            .to_builder()
            .protocol(protocol)
            .build()?;
        let raw = Client::new(config.clone())?.execute(["HGETALL", "tour:user"])?;
        let user: HashMap<String, String> = Client::new(config)?.query(["HGETALL", "tour:user"])?;
        println!("{protocol:?}: wire {raw} -> {user:?}");
    }

    step("a pool shared by threads: clones of one Client share its connections");
    client.execute(["DEL", "tour:counter"])?;
    let started = Instant::now();
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let client = client.clone();
            std::thread::spawn(move || -> Result<()> {
                for _ in 0..1000 {
                    client.execute(["INCR", "tour:counter"])?;
                }
                Ok(())
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("worker thread")?;
    }
    let counter: i64 = client.query(["GET", "tour:counter"])?;
    println!(
        "8 threads × 1000 INCR -> {counter} in {:?}; pool: {:?}",
        started.elapsed(),
        client.pool_stats()
    );

    step("a blocking command waits longer than the socket timeout without timing out");
    let patient = Client::new(
        Config::from_url(url)?
            .to_builder()
            .socket_timeout(Duration::from_millis(200))
            .build()?,
    )?;
    let started = Instant::now();
    let popped: Option<(String, String)> = patient.query(["BLPOP", "tour:empty", "0.5"])?;
    println!(
        "BLPOP tour:empty 0.5 with a 200 ms socket timeout -> {popped:?} after {:?}",
        started.elapsed()
    );

    step("a dedicated Connection: pipelining by hand, and SELECT (not offered on pooled clients)");
    let mut conn = Connection::open(client.config())?;
    conn.write_commands([["INCR", "tour:pipelined"], ["INCR", "tour:pipelined"]])?;
    conn.flush()?;
    let first = conn.read_reply()?;
    let second = conn.read_reply()?;
    println!("two INCRs in one write -> {first}, {second}");
    let db = conn.db();
    conn.select(db)?;
    println!("SELECT {db} on a Connection -> ok");

    step("response callbacks rewrite a command's reply before typed conversion");
    let mut shouting = client.clone();
    shouting.set_response_callback("GET", |value| match value {
        Value::Bulk(b) => Ok(Value::Bulk(Bytes::from(b.to_ascii_uppercase()))),
        other => Ok(other),
    });
    let loud: String = shouting.query(["GET", "tour:greeting"])?;
    println!("GET through a callback -> {loud}");

    client.execute([
        "DEL",
        "tour:greeting",
        "tour:scores",
        "tour:pi",
        "tour:user",
        "tour:counter",
        "tour:pipelined",
    ])?;
    println!("\ntour done.");
    Ok(())
}
