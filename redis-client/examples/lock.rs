//! Distributed locks: threads taking turns on a shared counter, a bounded wait, extending a
//! lock, and what happens to a holder whose lock expired.
//!
//! `cargo run -p redis-client --example lock -- redis://127.0.0.1:6379/15` (it writes keys
//! under `example:lock:` in the database you name).

use std::thread;
use std::time::Duration;

use redis_client::{Client, Commands, Error, Result};

fn main() {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "redis://127.0.0.1:6379/15".to_string());
    if let Err(e) = run(&url) {
        eprintln!("lock example failed: {e}");
        std::process::exit(1);
    }
}

fn run(url: &str) -> Result<()> {
    let client = Client::open(url)?;
    client.del(["example:lock:counter"])?;

    println!("== four threads do a read-modify-write under one lock: no update is lost");
    let lock = client
        .lock("example:lock:counter-lock")
        .timeout(Duration::from_secs(5))
        .sleep(Duration::from_millis(2));
    thread::scope(|s| {
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let (lock, client) = (lock.clone(), client.clone());
                s.spawn(move || -> Result<()> {
                    for _ in 0..25 {
                        let _guard = lock.acquire()?; // released at the end of the iteration
                        let n: Option<i64> = client.query(["GET", "example:lock:counter"])?;
                        client.set("example:lock:counter", n.unwrap_or(0) + 1)?;
                    }
                    Ok(())
                })
            })
            .collect();
        workers
            .into_iter()
            .try_for_each(|w| w.join().expect("a worker panicked"))
    })?;
    let total: i64 = client.query(["GET", "example:lock:counter"])?;
    println!("counter = {total} (4 threads × 25)");

    println!("\n== a bounded wait for a lock someone holds fails with Error::Lock");
    let held = lock.acquire()?;
    let impatient = lock.clone().blocking_timeout(Duration::from_millis(100));
    match impatient.acquire() {
        Err(Error::Lock(message)) => println!("{message}"),
        other => println!("unexpected: {other:?}"),
    }

    println!("\n== extend: add to the lifetime, or replace it");
    held.extend(Duration::from_secs(10), false)?;
    let ttl: i64 = client.query(["PTTL", "example:lock:counter-lock"])?;
    println!("after adding 10 s: {ttl} ms left");
    held.extend(Duration::from_secs(2), true)?;
    let ttl: i64 = client.query(["PTTL", "example:lock:counter-lock"])?;
    println!("after replacing with 2 s: {ttl} ms left");
    held.release()?;

    println!("\n== a lock that expired under its holder is no longer theirs to release");
    let short = client
        .lock("example:lock:short")
        .timeout(Duration::from_millis(50));
    let guard = short.acquire()?;
    thread::sleep(Duration::from_millis(100));
    let thief = short.acquire()?; // someone else takes the expired lock
    match guard.release() {
        Err(Error::LockNotOwned(message)) => println!("{message}"),
        other => println!("unexpected: {other:?}"),
    }
    println!("the new holder still owns it: {}", thief.owned()?);
    drop(thief);

    client.del(["example:lock:counter"])?;
    Ok(())
}
