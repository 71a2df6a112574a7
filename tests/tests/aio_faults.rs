//! `AsyncClient` when the server dies: SIGKILL under load, then a restart on the same port.
//! No task may see a value it did not write, none may hang, and commands flow again.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use redis_client::prelude::*;
use redis_client::{AsyncClient, Backoff, Retry, TlsConfig};
use redis_test_harness::{Server, ServerKind};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_and_restarted_server_under_load() {
    for kind in [ServerKind::Redis, ServerKind::Valkey] {
        killed_and_restarted(kind).await;
    }
}

async fn killed_and_restarted(kind: ServerKind) {
    let mut server = Server::builder(kind).start();
    let config = Config::from_url(&server.url())
        .unwrap()
        .to_builder()
        .socket_timeout(Duration::from_millis(500))
        .connect_timeout(Duration::from_millis(200))
        .retry(Retry::new(2, Backoff::Constant(Duration::from_millis(20))))
        .build()
        .unwrap();
    let client = AsyncClient::new(config).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let mut tasks = Vec::new();
    for t in 0..50 {
        let (client, stop) = (client.clone(), Arc::clone(&stop));
        let (ok, failed) = (Arc::clone(&ok), Arc::clone(&failed));
        tasks.push(tokio::spawn(async move {
            let key = format!("aio:fault:{t}");
            let mut round = 0u64;
            while !stop.load(Ordering::Relaxed) {
                round += 1;
                let value = format!("{t}:{round}");
                if client.set(key.as_str(), value.as_str()).await.is_err() {
                    failed.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                match client.get(key.as_str()).await {
                    // None: the restarted server lost the key (persistence is off).
                    Ok(got) => {
                        let got: Option<Bytes> = got;
                        assert!(
                            got.is_none() || got.as_deref() == Some(value.as_bytes()),
                            "{key}: wrote {value}, read {got:?}"
                        );
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(_) => {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = ok.load(Ordering::Relaxed);
    assert!(before > 0, "no command succeeded before the kill");
    server.kill();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Blocking the test's thread while the server restarts is fine: the tasks run on the
    // runtime's worker threads.
    tokio::task::block_in_place(|| server.restart().unwrap());
    let restarted = Instant::now();
    let at_restart = ok.load(Ordering::Relaxed);
    let recovered = loop {
        if ok.load(Ordering::Relaxed) > at_restart + 100 {
            break restarted.elapsed();
        }
        assert!(
            restarted.elapsed() < Duration::from_secs(10),
            "commands did not flow again after the restart"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .expect("a task hung")
            .unwrap();
    }
    println!(
        "{kind:?}: {} round trips ok, {} failed during the outage; 100 commands flowed again {recovered:?} after the restart",
        ok.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed),
    );
    assert!(
        failed.load(Ordering::Relaxed) > 0,
        "the kill went unnoticed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_over_tls_and_a_unix_socket() {
    let server = Server::builder(ServerKind::Redis).tls().start();
    let config = Config::builder()
        .host("127.0.0.1")
        .port(server.port())
        .tls(TlsConfig::new().ca_certs(server.tls().unwrap().ca_cert()))
        .build()
        .unwrap();
    let client = AsyncClient::new(config).unwrap();
    let mut tasks = Vec::new();
    for i in 0..200 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let key = format!("aio:tls:{i}");
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
    let unverified = Config::builder()
        .host("127.0.0.1")
        .port(server.port())
        .tls(TlsConfig::new())
        .retry(Retry::none())
        .build()
        .unwrap();
    let err = AsyncClient::new(unverified)
        .unwrap()
        .get("k")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Tls { .. }), "{err:?}");

    let server = Server::builder(ServerKind::Valkey).unix_socket().start();
    let config = Config::builder()
        .unix(server.unix_path().unwrap())
        .build()
        .unwrap();
    let client = AsyncClient::new(config).unwrap();
    client.set("aio:unix", "ok").await.unwrap();
    let got: Option<Bytes> = client.get("aio:unix").await.unwrap();
    assert_eq!(got.as_deref(), Some(&b"ok"[..]));
}
