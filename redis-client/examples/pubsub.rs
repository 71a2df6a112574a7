//! Publish/subscribe against a running server: plain reads, handlers, `listen()` and a
//! background worker.
//!
//! `cargo run -p redis-client --example pubsub -- redis://127.0.0.1:6379` (it publishes to
//! channels under `example:`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redis_client::pubsub::{ExceptionHandler, MessageKind};
use redis_client::{Client, Result};

fn main() {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "redis://127.0.0.1:6379".to_string());
    if let Err(e) = run(&url) {
        eprintln!("pubsub example failed: {e}");
        std::process::exit(1);
    }
}

fn run(url: &str) -> Result<()> {
    let client = Client::open(url)?;

    println!("== subscribe, then read with get_message");
    let pubsub = client.pubsub()?;
    pubsub.subscribe(["example:news"])?;
    pubsub.psubscribe(["example:alerts.*"])?;
    // Confirmations come first: one per channel or pattern, with the subscription count.
    for _ in 0..2 {
        if let Some(m) = pubsub.get_message(Duration::from_secs(1))? {
            println!("{} {:?} -> {:?}", m.kind, m.channel, m.data);
        }
    }
    client.execute(("PUBLISH", "example:news", "hello"))?;
    client.execute(("PUBLISH", "example:alerts.disk", "90% full"))?;
    while let Some(m) = pubsub.get_message(Duration::from_millis(200))? {
        println!(
            "{} on {:?} (pattern {:?}): {:?}",
            m.kind,
            m.channel_str().unwrap_or("?"),
            m.pattern_str(),
            m.data.as_str()
        );
    }

    println!("\n== a handler takes its channel's messages; get_message returns the others");
    pubsub.subscribe_with("example:handled", |m| {
        println!("  handler got {:?}", m.data.as_str());
    })?;
    pubsub.set_ignore_subscribe_messages(true);
    client.execute(("PUBLISH", "example:handled", "for the handler"))?;
    client.execute(("PUBLISH", "example:news", "for get_message"))?;
    while let Some(m) = pubsub.get_message(Duration::from_millis(200))? {
        println!("  get_message got {:?}", m.data.as_str());
    }

    println!("\n== listen() until the last unsubscription");
    pubsub.unsubscribe(["example:handled"])?;
    pubsub.punsubscribe(Vec::<&str>::new())?;
    client.execute(("PUBLISH", "example:news", "last one"))?;
    pubsub.set_ignore_subscribe_messages(false);
    for message in pubsub.listen() {
        let message = message?;
        println!(
            "  {} {:?} {:?}",
            message.kind, message.channel, message.data
        );
        if message.kind == MessageKind::Message {
            pubsub.unsubscribe(["example:news"])?;
        }
    }
    pubsub.close();

    println!("\n== run_in_thread: every subscription needs a handler");
    let pubsub = client.pubsub()?;
    let count = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&count);
    pubsub.subscribe_with("example:counted", move |_| {
        counter.fetch_add(1, Ordering::Relaxed);
    })?;
    let on_error: ExceptionHandler = Box::new(|error, _control| {
        eprintln!("  worker error (it keeps going): {error}");
    });
    let worker = pubsub.run_in_thread(Duration::from_millis(100), Some(on_error))?;
    let mut conn = client.get_connection()?;
    // Wait for the SUBSCRIBE to land before publishing from another connection.
    while conn.query::<Vec<redis_client::Value>>(["PUBSUB", "NUMSUB", "example:counted"])?[1]
        .as_int()
        != Some(1)
    {
        std::thread::sleep(Duration::from_millis(10));
    }
    let started = Instant::now();
    for i in 0..10_000 {
        conn.write_command(&("PUBLISH", "example:counted", i))?;
    }
    conn.flush()?;
    for _ in 0..10_000 {
        conn.read_reply()?;
    }
    while count.load(Ordering::Relaxed) < 10_000 && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(5));
    }
    println!(
        "  {} messages handled in {:?}",
        count.load(Ordering::Relaxed),
        started.elapsed()
    );
    worker.stop();
    worker.join()?;
    println!(
        "  worker stopped; the pub/sub is closed: connected = {}",
        pubsub.is_connected()
    );
    Ok(())
}
