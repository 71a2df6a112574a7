//! Sentinel: discover a master and its replicas, write through a master client, read through a
//! replica client, and optionally keep writing while you trigger a failover.
//!
//! `cargo run -p redis-client --example sentinel -- mymaster 127.0.0.1:26379,127.0.0.1:26380 [SECONDS]`
//!
//! With SECONDS, it increments `example:sentinel:counter` every 100 ms for that long and says
//! whenever the master changes — run `redis-cli -p 26379 SENTINEL FAILOVER mymaster` meanwhile.

use std::time::{Duration, Instant};

use redis_client::sentinel::{Sentinel, SentinelOptions};
use redis_client::{Config, Error, Result};

fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "mymaster".to_string());
    let sentinels = args.next().unwrap_or_else(|| "127.0.0.1:26379".to_string());
    let seconds: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    if let Err(e) = run(&name, &sentinels, Duration::from_secs(seconds)) {
        eprintln!("sentinel example failed: {e}");
        std::process::exit(1);
    }
}

fn parse_sentinels(list: &str) -> Result<Vec<(String, u16)>> {
    list.split(',')
        .map(|entry| {
            let (host, port) = entry.rsplit_once(':').ok_or_else(|| Error::Config {
                param: "sentinels".into(),
                message: format!("{entry:?} is not host:port"),
            })?;
            let port = port.parse().map_err(|_| Error::Config {
                param: "sentinels".into(),
                message: format!("{port:?} is not a port"),
            })?;
            Ok((host.trim_matches(['[', ']']).to_string(), port))
        })
        .collect()
}

fn run(name: &str, sentinels: &str, watch: Duration) -> Result<()> {
    let timeout = Duration::from_secs(1);
    let data = Config::builder()
        .connect_timeout(timeout)
        .socket_timeout(timeout)
        .build()?;
    let options = SentinelOptions::new().data_config(data);
    let sentinel = Sentinel::new(&parse_sentinels(sentinels)?, options)?;

    println!("master of {name}: {}", sentinel.discover_master(name)?);
    let replicas: Vec<String> = sentinel
        .discover_slaves(name)?
        .iter()
        .map(ToString::to_string)
        .collect();
    println!("usable replicas: {replicas:?}");

    let master = sentinel.master_for(name)?;
    master.execute(["SET", "example:sentinel:greeting", "hello"])?;
    let replica = sentinel.slave_for(name)?;
    // Replication is asynchronous: the replica may not have the write yet.
    let seen: Option<String> = replica.query(["GET", "example:sentinel:greeting"])?;
    println!("read from {}: {seen:?}", replica.get_connection()?.addr());

    if watch.is_zero() {
        return Ok(());
    }
    println!("incrementing for {watch:?}; trigger a failover now");
    let started = Instant::now();
    let mut last_server = String::new();
    while started.elapsed() < watch {
        let outcome = master.get_connection().and_then(|mut conn| {
            let value: i64 = conn.query(["INCR", "example:sentinel:counter"])?;
            Ok((conn.addr().to_string(), value))
        });
        match outcome {
            Ok((server, value)) if server != last_server => {
                println!(
                    "{:>6.1?}  writing to {server} (counter {value})",
                    started.elapsed()
                );
                last_server = server;
            }
            Ok(_) => {}
            Err(e) => println!("{:>6.1?}  {e}", started.elapsed()),
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}
