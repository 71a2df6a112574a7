//! `AsyncPipeline` and `AsyncClient::transaction`: plain pipelines and MULTI/EXEC on the
//! shared connection, errors in place, EXECABORT, big batches, blocking commands, cancelled
//! pipelines, and WATCH retries under contention.

use std::time::Duration;

use bytes::Bytes;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_and_transaction_pipelines_typed_and_raw() {
    for server in [Server::redis(), Server::valkey()] {
        for protocol in [Protocol::Resp2, Protocol::Resp3] {
            let client = client(&server, protocol);
            client.execute(["DEL", "p:n", "p:h"]).await.unwrap();
            for transaction in [true, false] {
                let mut pipe = client.pipeline();
                pipe.transaction(transaction)
                    .set("p:a", 1)
                    .incr("p:n")
                    .raw(["GET", "p:a"])
                    .hset("p:h", [("f", "v")]);
                let (set, n, a, added): ((), i64, String, i64) =
                    pipe.execute_typed().await.unwrap();
                assert_eq!(set, ());
                assert_eq!(n, if transaction { 1 } else { 2 });
                assert_eq!(a, "1");
                assert!(added <= 1);
                assert!(pipe.is_empty());
            }
            let mut pipe = client.pipeline();
            pipe.transaction(false).hgetall("p:h");
            let replies = pipe.execute().await.unwrap();
            assert_eq!(replies.len(), 1);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_come_back_in_place_and_execabort_names_the_command() {
    let server = Server::redis();
    let client = client(&server, Protocol::Resp3);
    client.execute(["RPUSH", "p:list", "x"]).await.unwrap();
    let mut pipe = client.pipeline();
    pipe.transaction(false).get("p:list").incr("p:count");
    let results = pipe.execute_results().await.unwrap();
    assert!(results[0]
        .as_ref()
        .unwrap_err()
        .to_string()
        .contains("WRONGTYPE"));
    assert!(results[1].is_ok());
    let mut pipe = client.pipeline();
    pipe.raw(["SET", "p:x", "1"]).raw(["INCR"]);
    let err = pipe.execute().await.unwrap_err();
    assert_eq!(err.code(), Some("EXECABORT"), "{err}");
    assert!(err.to_string().contains("#2 (INCR)"), "{err}");
    let mut pipe = client.pipeline();
    pipe.raw(["SELECT", "1"]);
    let err = pipe.execute().await.unwrap_err();
    assert!(matches!(err, Error::Usage(_)), "{err:?}");
    // Nothing leaked into the shared connection.
    assert_eq!(client.get("p:x").await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn big_pipelines_beside_concurrent_commands() {
    let server = Server::valkey();
    let client = client(&server, Protocol::Resp3);
    let mut tasks = Vec::new();
    for t in 0..8 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let mut pipe = client.pipeline();
            pipe.transaction(t % 2 == 0);
            for i in 0..1000 {
                pipe.set(format!("p:big:{t}:{i}").as_str(), i);
            }
            pipe.execute().await.unwrap();
            for i in 0..1000 {
                pipe.get(format!("p:big:{t}:{i}").as_str());
            }
            let values: Vec<Option<Bytes>> = pipe.execute_typed().await.unwrap();
            for (i, v) in values.iter().enumerate() {
                assert_eq!(v.as_deref(), Some(i.to_string().as_bytes()));
            }
            let single: Option<Bytes> = client.get(format!("p:big:{t}:7").as_str()).await.unwrap();
            assert_eq!(single.as_deref(), Some(&b"7"[..]));
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipeline_with_a_blocking_command_runs_on_its_own_connection() {
    let server = Server::redis();
    let client = client(&server, Protocol::Resp3);
    let blocked = {
        let client = client.clone();
        tokio::spawn(async move {
            let mut pipe = client.pipeline();
            pipe.transaction(false)
                .raw(["BLPOP", "p:q", "2"])
                .get("p:after");
            pipe.execute().await
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    for i in 0..100 {
        client
            .set(format!("p:beside:{i}").as_str(), i)
            .await
            .unwrap();
    }
    client.rpush("p:q", ["item"]).await.unwrap();
    let replies = blocked.await.unwrap().unwrap();
    assert_eq!(replies.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_pipelines_leave_the_connection_in_step() {
    let server = Server::redis();
    let client = client(&server, Protocol::Resp3);
    for round in 0..100u64 {
        let mut pipe = client.pipeline();
        pipe.transaction(round % 2 == 0);
        for i in 0..200 {
            pipe.incr(format!("p:c:{i}").as_str());
        }
        let limit = Duration::from_micros(round * 13 % 400);
        let _ = tokio::time::timeout(limit, pipe.execute()).await;
        let key = format!("p:own:{round}");
        client.set(key.as_str(), round).await.unwrap();
        let got: Option<Bytes> = client.get(key.as_str()).await.unwrap();
        assert_eq!(got.as_deref(), Some(round.to_string().as_bytes()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watched_transactions_retry_until_they_commit() {
    let server = Server::valkey();
    let client = client(&server, Protocol::Resp3);
    client.set("p:counter", 0).await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..10 {
                client
                    .transaction(
                        |tx| {
                            Box::pin(async move {
                                let n: i64 = tx.conn().query(["GET", "p:counter"]).await?;
                                tx.pipe().set("p:counter", n + 1);
                                Ok(())
                            })
                        },
                        "p:counter",
                    )
                    .await
                    .unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let n: i64 = client.query(["GET", "p:counter"]).await.unwrap();
    assert_eq!(n, 200, "every increment committed exactly once");
}
