//! Transactions: MULTI/EXEC, an aborted EXEC, and optimistic locking with WATCH — by hand and
//! with `Client::transaction`, which retries when another client gets in between.
//!
//! `cargo run -p redis-client --example transaction -- redis://127.0.0.1:6379/15` (it writes
//! keys under `example:tx:` in the database you name).

use std::cell::Cell;

use redis_client::{Client, Commands, Error, Result};

fn main() {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "redis://127.0.0.1:6379/15".to_string());
    if let Err(e) = run(&url) {
        eprintln!("transaction example failed: {e}");
        std::process::exit(1);
    }
}

fn run(url: &str) -> Result<()> {
    let client = Client::open(url)?;
    let other = Client::open(url)?;
    client.set("example:tx:balance", 100)?;

    println!("== a pipeline is a MULTI/EXEC transaction by default");
    let mut pipe = client.pipeline();
    pipe.incrby("example:tx:balance", 10)
        .incrby("example:tx:balance", -30);
    let (after_deposit, after_withdrawal): (i64, i64) = pipe.execute_typed()?;
    println!("deposit -> {after_deposit}, withdrawal -> {after_withdrawal}");

    println!("\n== a command the server refuses while queueing discards the whole transaction");
    pipe.incr("example:tx:balance")
        .raw(["NO-SUCH-COMMAND"])
        .incr("example:tx:balance");
    match pipe.execute() {
        Err(e) => println!("EXEC aborted: {e}"),
        Ok(replies) => println!("unexpectedly ran: {replies:?}"),
    }
    let balance: Option<i64> = client.query(["GET", "example:tx:balance"])?;
    println!("balance untouched: {balance:?}");

    println!("\n== WATCH by hand: another client's write makes EXEC fail with Error::Watch");
    let mut watched = pipe.watch(["example:tx:balance"])?;
    // Immediate mode: this GET runs now, on the watching connection.
    let balance: Option<i64> = watched.query(["GET", "example:tx:balance"])?;
    let balance = balance.unwrap_or(0);
    other.set("example:tx:balance", 5)?; // gets in between our read and our write
    watched.multi()?.set("example:tx:balance", balance * 2);
    match pipe.execute() {
        Err(Error::Watch) => println!("EXEC aborted: the watched key changed"),
        other => println!("unexpected: {other:?}"),
    }

    println!("\n== Client::transaction retries the whole read-modify-write until it commits");
    let attempts = Cell::new(0);
    let doubled = client.transaction(
        |pipe| {
            attempts.set(attempts.get() + 1);
            let balance: Option<i64> = pipe.immediate()?.query(["GET", "example:tx:balance"])?;
            if attempts.get() == 1 {
                other.incrby("example:tx:balance", 1)?; // a conflict on the first attempt
            }
            let doubled = balance.unwrap_or(0) * 2;
            pipe.multi()?.set("example:tx:balance", doubled);
            Ok(doubled)
        },
        ["example:tx:balance"],
    )?;
    println!(
        "committed after {} attempts: the balance is now {doubled}",
        attempts.get()
    );

    client.del(["example:tx:balance"])?;
    Ok(())
}
