//! A short tour of ClusterClient: the slot map, commands routed by key, MGET across slots,
//! a command that must stay in one slot, and per-node reports.
//!
//! `cargo run -p redis-client --example cluster -- redis://127.0.0.1:7000` (any node of a
//! cluster is enough as a seed; it writes keys under `example:cluster:`).

use redis_client::cluster::{key_slot, ClusterClient, Nodes};
use redis_client::{Commands, Result};

fn main() {
    let seed = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "redis://127.0.0.1:7000".to_string());
    if let Err(e) = run(&seed) {
        eprintln!("cluster example failed: {e}");
        std::process::exit(1);
    }
}

fn run(seed: &str) -> Result<()> {
    let cluster = ClusterClient::open([seed])?;
    println!("== the slot map, read from every node (the majority view wins)");
    for (first, last, primary) in cluster.topology().ranges() {
        println!("   slots {first:>5}-{last:<5} on {primary}");
    }

    println!("== each key goes to the primary owning its slot");
    let keys = [
        "example:cluster:a",
        "example:cluster:b",
        "example:cluster:c",
    ];
    for (i, key) in keys.iter().enumerate() {
        cluster.set(*key, i as i64)?;
        let slot = key_slot(key.as_bytes());
        let owner = cluster.slot_owner(slot).unwrap_or_default();
        println!("   SET {key} {i}  (slot {slot}, {owner})");
    }

    println!("== MGET across slots: split per node, sent in parallel, answered in order");
    let values: Vec<Option<i64>> = cluster.query(["MGET", keys[0], keys[1], keys[2]])?;
    println!("   MGET {keys:?} -> {values:?}");

    println!("== a command that must run on one slot is refused before sending");
    match cluster.sunionstore("example:cluster:dest", [keys[0], keys[1]]) {
        Ok(n) => println!("   unexpectedly ran: {n}"),
        Err(e) => println!("   {e}"),
    }
    let tagged = ["{example:cluster}x", "{example:cluster}y"];
    cluster.sadd(tagged[0], ["1"])?;
    cluster.sadd(tagged[1], ["2"])?;
    let n = cluster.sunionstore("{example:cluster}dest", tagged)?;
    println!("   with a common hash tag it runs: SUNIONSTORE -> {n}");

    println!("== keyless commands fan out and combine by their policy");
    println!("   DBSIZE (summed over primaries) -> {}", cluster.dbsize()?);
    for (node, size) in cluster.on(Nodes::Primaries).dbsize()? {
        println!("   DBSIZE on {node} -> {size}");
    }
    let deleted = cluster.del(keys)?
        + cluster.del([
            "{example:cluster}x",
            "{example:cluster}y",
            "{example:cluster}dest",
        ])?;
    println!("   DEL across slots (summed) -> {deleted}");
    Ok(())
}
