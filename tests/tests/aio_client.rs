//! `AsyncClient`: many tasks on one multiplexed connection, cancellation at random points,
//! blocking commands beside it, connection-state refusal, timeouts, both runtime flavours.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use redis_client::aio::AsyncClientOptions;
use redis_client::prelude::*;
use redis_client::{AsyncClient, Protocol};
use redis_test_harness::Server;

fn client(server: &Server, protocol: Protocol) -> AsyncClient {
    let config = Config::from_url(&server.url())
        .unwrap()
        .to_builder()
        .protocol(protocol)
        .build()
        .unwrap();
    AsyncClient::new(config).unwrap()
}

async fn thousand_tasks(client: &AsyncClient, tag: &str) {
    let mut tasks = Vec::new();
    for i in 0..1000 {
        let client = client.clone();
        let key = format!("aio:{tag}:{i}");
        tasks.push(tokio::spawn(async move {
            let value = format!("value-{i}-{}", "x".repeat(i % 50));
            client.set(key.as_str(), value.as_str()).await.unwrap();
            let got: Option<Bytes> = client.get(key.as_str()).await.unwrap();
            assert_eq!(got.as_deref(), Some(value.as_bytes()), "{key}");
            let raw: String = client.query(["GET", key.as_str()]).await.unwrap();
            assert_eq!(raw, value);
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_tasks_share_one_connection_and_each_gets_its_own_values() {
    for server in [Server::redis(), Server::valkey()] {
        for protocol in [Protocol::Resp2, Protocol::Resp3] {
            let client = client(&server, protocol);
            let before: i64 = client.query(["CLIENT", "ID"]).await.unwrap();
            thousand_tasks(&client, &format!("{protocol:?}")).await;
            // The same one connection served them all.
            let after: i64 = client.query(["CLIENT", "ID"]).await.unwrap();
            assert_eq!(before, after);
        }
    }
}

#[test]
fn a_current_thread_runtime_drives_the_client_too() {
    let server = Server::valkey();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = client(&server, Protocol::Resp3);
        thousand_tasks(&client, "current").await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_commands_never_hand_their_replies_to_others() {
    let server = Server::redis();
    let client = client(&server, Protocol::Resp3);
    let fired = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for i in 0..10_000u64 {
        let client = client.clone();
        let fired = Arc::clone(&fired);
        tasks.push(tokio::spawn(async move {
            let key = format!("aio:storm:{}", i % 100);
            // Timeouts from 0 to ~200 µs: some fire before the command is queued, some while
            // it is written, most while its reply is on its way.
            let limit = Duration::from_micros((i * 7919) % 200);
            let incr = client.incr(key.as_str());
            if tokio::time::timeout(limit, incr).await.is_err() {
                fired.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert!(
        fired.load(Ordering::Relaxed) > 0,
        "no timeout fired: the storm tested nothing"
    );
    let mut tasks = Vec::new();
    for i in 0..1000 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let key = format!("aio:own:{i}");
            client.set(key.as_str(), i).await.unwrap();
            let got: Option<Bytes> = client.get(key.as_str()).await.unwrap();
            assert_eq!(got.as_deref(), Some(i.to_string().as_bytes()));
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    println!(
        "{} of 10000 commands were cancelled",
        fired.load(Ordering::Relaxed)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blpop_does_not_stall_other_tasks() {
    let server = Server::valkey();
    let client = client(&server, Protocol::Resp3);
    let blocked = {
        let client = client.clone();
        tokio::spawn(async move { client.run(cmd::Blpop::new(["aio:queue"], 2.0)).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..1000 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let key = format!("aio:beside:{i}");
            client.set(key.as_str(), i).await.unwrap();
            client.get(key.as_str()).await.unwrap()
        }));
    }
    for task in tasks {
        assert!(task.await.unwrap().is_some());
    }
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(1),
        "GETs waited behind BLPOP: {took:?}"
    );
    client.rpush("aio:queue", ["item"]).await.unwrap();
    let popped = blocked.await.unwrap().unwrap();
    assert_eq!(popped.map(|(_, v)| v).as_deref(), Some(&b"item"[..]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_state_commands_are_refused_and_run_on_a_borrowed_connection() {
    let server = Server::redis();
    let client = client(&server, Protocol::Resp3);
    for raw in [
        &["SELECT", "1"][..],
        &["WATCH", "k"],
        &["MULTI"],
        &["subscribe", "c"],
    ] {
        let err = client.execute(raw).await.unwrap_err();
        assert!(matches!(err, Error::Usage(_)), "{raw:?}: {err:?}");
        assert!(err.to_string().contains("an async client"), "{err}");
    }
    let err = client.run(cmd::Select::new(1)).await.unwrap_err();
    assert!(matches!(err, Error::Usage(_)), "{err:?}");
    let mut conn = client.get_connection().await.unwrap();
    (&mut *conn).watch(["aio:watched"]).await.unwrap();
    conn.select(1).await.unwrap();
    assert_eq!(conn.db(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_reply_times_out_naming_its_command_and_the_client_recovers() {
    let server = Server::redis();
    let config = Config::from_url(&server.url())
        .unwrap()
        .to_builder()
        .socket_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let client = AsyncClient::new(config).unwrap();
    client.set("aio:t", "1").await.unwrap();
    let err = client.execute(["DEBUG", "SLEEP", "0.5"]).await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(err.to_string().contains("DEBUG"), "{err}");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let got: Option<Bytes> = client.get("aio:t").await.unwrap();
    assert_eq!(got.as_deref(), Some(&b"1"[..]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backpressure_bounds_the_commands_in_flight() {
    let server = Server::valkey();
    let config = Config::from_url(&server.url()).unwrap();
    let client =
        AsyncClient::with_options(config, AsyncClientOptions::default().max_in_flight(8)).unwrap();
    let mut tasks = Vec::new();
    for i in 0..500 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let key = format!("aio:bp:{i}");
            client.set(key.as_str(), i).await.unwrap();
            client.get(key.as_str()).await.unwrap()
        }));
    }
    for (i, task) in tasks.into_iter().enumerate() {
        assert_eq!(
            task.await.unwrap().as_deref(),
            Some(i.to_string().as_bytes())
        );
    }
}
