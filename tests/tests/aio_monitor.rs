//! `AsyncMonitor` against Redis 7.0 and Valkey 9 in both protocols: events parsed, timeouts,
//! cancelled reads, and the end of monitoring on drop.

use std::future::Future;
use std::time::{Duration, Instant};

use bytes::Bytes;
use redis_client::aio::{AsyncClient, AsyncMonitor};
use redis_client::{AsyncConnection, Config, Protocol};
use redis_test_harness::{Server, ServerKind};

const WAIT: Duration = Duration::from_secs(5);

fn config(url: &str, protocol: Protocol) -> Config {
    Config::from_url(url)
        .unwrap()
        .to_builder()
        .protocol(protocol)
        .socket_timeout(WAIT)
        .build()
        .unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Runs `test` with the URL of a Redis and of a Valkey server, in both protocols.
fn each_setup<F: Future<Output = ()>>(test: impl Fn(String, Protocol) -> F) {
    for kind in [ServerKind::Redis, ServerKind::Valkey] {
        let server = Server::builder(kind).start();
        for protocol in [Protocol::Resp2, Protocol::Resp3] {
            runtime().block_on(test(server.url(), protocol));
        }
    }
}

async fn publisher(url: &str) -> AsyncConnection {
    AsyncConnection::open(&config(url, Protocol::Resp2))
        .await
        .unwrap()
}

#[test]
fn monitor_streams_commands_and_stops_on_drop() {
    each_setup(|url, protocol| async move {
        let server = url.as_str();
        let mut monitor = if protocol == Protocol::Resp2 {
            let conn = AsyncConnection::open(&config(server, protocol))
                .await
                .unwrap();
            AsyncMonitor::start(conn).await.unwrap()
        } else {
            let client = AsyncClient::new(config(server, protocol)).unwrap();
            client.monitor().await.unwrap()
        };
        let mut other = publisher(server).await;
        other
            .execute(("SET", "mon:k", "a \"quoted\"\n value"))
            .await
            .unwrap();
        let deadline = Instant::now() + WAIT;
        let event = loop {
            let event = monitor
                .next_event_timeout(WAIT)
                .await
                .unwrap()
                .expect("an event in time");
            if event.command.eq_ignore_ascii_case("SET") {
                break event;
            }
            assert!(Instant::now() < deadline);
        };
        assert_eq!(
            event.args,
            [Bytes::from("mon:k"), Bytes::from("a \"quoted\"\n value")]
        );
        assert_eq!(event.db, 0);
        let none = monitor
            .next_event_timeout(Duration::from_millis(100))
            .await
            .unwrap();
        assert!(none.is_none(), "{none:?}");
        // A read cancelled midway leaves the stream in step.
        let cancelled = tokio::time::timeout(Duration::from_millis(20), monitor.next_event()).await;
        assert!(cancelled.is_err());
        other.execute(("GET", "mon:after")).await.unwrap();
        let event = monitor.next_event().await.unwrap().unwrap();
        assert_eq!(
            (event.command.to_ascii_uppercase().as_str(), &event.args[..]),
            ("GET", &[Bytes::from("mon:after")][..])
        );
        drop(monitor);
        let deadline = Instant::now() + WAIT;
        loop {
            let clients: String = other.query(("CLIENT", "LIST")).await.unwrap();
            if !clients.contains("cmd=monitor") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the monitor connection stayed open"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
}
