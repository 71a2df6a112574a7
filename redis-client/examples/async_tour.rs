//! The async client on tokio: the same generated commands, awaited; many tasks sharing one
//! connection; pipelines; pub/sub; scans.
//!
//! `cargo run -p redis-client --features tokio --example async_tour -- redis://127.0.0.1:6379/15`
//! (it writes keys under `example:async:` in the database you name).

use std::time::{Duration, Instant};

use bytes::Bytes;
use redis_client::aio::AsyncClient;
use redis_client::{cmd, Commands, Executor, Result};

fn main() {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "redis://127.0.0.1:6379/15".to_string());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    if let Err(e) = runtime.block_on(run(&url)) {
        eprintln!("async tour failed: {e}");
        std::process::exit(1);
    }
}

async fn run(url: &str) -> Result<()> {
    let client = AsyncClient::open(url)?;

    println!("== every generated command is a future on an AsyncClient");
    client.set("example:async:greeting", "hello").await?;
    let v: Option<Bytes> = client.get("example:async:greeting").await?;
    let old: Option<Bytes> = client
        .run(cmd::Set::new("example:async:greeting", "hi").get())
        .await?;
    println!("GET -> {v:?}; SET … GET -> {old:?}");

    println!("\n== 1 000 tasks share one connection; their commands go out in batches");
    client.del(["example:async:counter"]).await?;
    let started = Instant::now();
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.incr("example:async:counter").await })
        })
        .collect();
    for task in tasks {
        task.await.expect("the task ran")?;
    }
    let total: Option<i64> = client.query(("GET", "example:async:counter")).await?;
    println!(
        "counter = {total:?} after 1 000 concurrent INCRs in {:?}",
        started.elapsed()
    );

    println!("\n== a dropped future never hands its reply to anyone else");
    let waiting = tokio::time::timeout(
        Duration::from_millis(50),
        client.execute(("BLPOP", "example:async:empty-list", "1")),
    )
    .await;
    match waiting {
        Err(_) => println!("BLPOP (1 s) dropped after 50 ms: its reply will be read and discarded"),
        Ok(reply) => println!("BLPOP finished first: {reply:?}"),
    }
    let after: Option<Bytes> = client.get("example:async:greeting").await?;
    println!("the next GET gets its own reply: {after:?}");

    println!("\n== pipelines and MULTI/EXEC, typed replies");
    let mut pipe = client.pipeline();
    pipe.transaction(true)
        .set("example:async:a", 1)
        .incr("example:async:a")
        .get("example:async:a");
    let ((), n, a): ((), i64, Option<Bytes>) = pipe.execute_typed().await?;
    println!("MULTI SET INCR GET EXEC -> {n}, {a:?}");

    println!("\n== pub/sub: subscribe, publish from the shared client, read the message");
    let mut pubsub = client.pubsub();
    pubsub.set_ignore_subscribe_messages(true);
    pubsub.subscribe(["example:async:news"]).await?;
    let receivers: i64 = client
        .publish("example:async:news", "hello, subscribers")
        .await?;
    let message = pubsub.get_message(Duration::from_secs(2)).await?;
    println!(
        "PUBLISH reached {receivers}; got {:?}",
        message.map(|m| (m.channel, m.data))
    );

    println!("\n== scans as async iterators");
    for i in 0..5 {
        client.set(format!("example:async:scan:{i}"), i).await?;
    }
    let mut keys: Vec<String> = client
        .scan_iter()
        .matching("example:async:scan:*")
        .collect()
        .await?;
    keys.sort();
    println!("SCAN MATCH example:async:scan:* -> {keys:?}");
    Ok(())
}
