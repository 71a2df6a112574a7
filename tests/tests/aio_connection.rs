//! `AsyncConnection`: the handshake, typed and raw commands, connection-state commands,
//! cancelled futures, timeouts naming the command, pushes and frames, TLS and Unix sockets.

use std::time::{Duration, Instant};

use bytes::Bytes;
use redis_client::prelude::*;
use redis_client::{AsyncConnection, Protocol, TlsConfig};
use redis_test_harness::{Server, ServerKind};

fn config(server: &Server, protocol: Protocol) -> Config {
    Config::from_url(&server.url())
        .unwrap()
        .to_builder()
        .protocol(protocol)
        .build()
        .unwrap()
}

async fn typed_and_raw(server: &Server, protocol: Protocol) {
    let mut conn = AsyncConnection::open(&config(server, protocol))
        .await
        .unwrap();
    assert_eq!(conn.protocol(), protocol);
    conn.set("aio:k", "v1").await.unwrap();
    let got: Option<Bytes> = conn.get("aio:k").await.unwrap();
    assert_eq!(got.as_deref(), Some(&b"v1"[..]));
    let old = conn.run(cmd::Set::new("aio:k", "v2").get()).await.unwrap();
    assert_eq!(old.as_deref(), Some(&b"v1"[..]));
    let raw: String = conn.query(["GET", "aio:k"]).await.unwrap();
    assert_eq!(raw, "v2");
    assert_eq!(
        conn.execute(["GET", "aio:k"]).await.unwrap(),
        Value::Bulk("v2".into())
    );
    conn.execute(["RPUSH", "aio:l", "a"]).await.unwrap();
    let err = conn.get("aio:l").await.unwrap_err();
    assert!(err.to_string().contains("WRONGTYPE"), "{err}");
    assert!(
        err.to_string().contains("GET"),
        "the error names the command: {err}"
    );
    // The connection stays usable after an error reply.
    conn.execute(["DEL", "aio:n"]).await.unwrap();
    assert_eq!(conn.incr("aio:n").await.unwrap(), 1);
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn typed_and_raw_commands_on_redis_and_valkey_in_both_protocols() {
    for server in [Server::redis(), Server::valkey()] {
        for protocol in [Protocol::Resp2, Protocol::Resp3] {
            runtime().block_on(typed_and_raw(&server, protocol));
        }
    }
}

#[test]
fn the_handshake_authenticates_selects_and_names_the_connection() {
    let server = Server::builder(ServerKind::Redis)
        .requirepass("s3cret")
        .start();
    runtime().block_on(async {
        let base = Config::from_url(&server.url()).unwrap();
        for protocol in [Protocol::Resp2, Protocol::Resp3] {
            let config = base
                .to_builder()
                .password("s3cret")
                .db(3)
                .client_name("aio-test")
                .protocol(protocol)
                .build()
                .unwrap();
            let mut conn = AsyncConnection::open(&config).await.unwrap();
            assert_eq!(conn.db(), 3);
            let name: String = conn.query(["CLIENT", "GETNAME"]).await.unwrap();
            assert_eq!(name, "aio-test");
            let info: String = conn.query(["CLIENT", "INFO"]).await.unwrap();
            assert!(info.contains(" db=3 "), "{info}");
            let wrong = base.to_builder().password("nope").build().unwrap();
            let err = AsyncConnection::open(&wrong).await.unwrap_err();
            assert!(err.to_string().contains("WRONGPASS"), "{err}");
        }
    });
}

#[test]
fn connection_state_commands_run_on_a_dedicated_connection() {
    let server = Server::redis();
    runtime().block_on(async {
        let mut conn = AsyncConnection::open(&config(&server, Protocol::Resp3))
            .await
            .unwrap();
        conn.select(2).await.unwrap();
        assert_eq!(conn.db(), 2);
        conn.watch(["aio:w"]).await.unwrap();
        conn.unwatch().await.unwrap();
        conn.set("aio:w", "in-db-2").await.unwrap();
        conn.select(0).await.unwrap();
        assert_eq!(conn.get("aio:w").await.unwrap(), None);
    });
}

#[test]
fn a_dropped_future_never_hands_its_reply_to_the_next_command() {
    let server = Server::redis();
    runtime().block_on(async {
        let mut conn = AsyncConnection::open(&config(&server, Protocol::Resp3))
            .await
            .unwrap();
        conn.set("aio:a", "A").await.unwrap();
        conn.set("aio:b", "B").await.unwrap();
        for round in 0..200 {
            // Dropped after a random amount of progress: before sending, while waiting.
            let slow = conn.execute(("DEBUG", "SLEEP", "0.001"));
            let _ = tokio::time::timeout(Duration::from_micros(round * 10), slow).await;
            let got: Option<Bytes> = conn.get("aio:b").await.unwrap();
            assert_eq!(got.as_deref(), Some(&b"B"[..]), "round {round}");
        }
        assert!(!conn.is_broken());
    });
}

#[test]
fn a_reply_past_the_socket_timeout_fails_naming_the_command() {
    let server = Server::redis();
    runtime().block_on(async {
        let config = config(&server, Protocol::Resp3)
            .to_builder()
            .socket_timeout(Duration::from_millis(100))
            .build()
            .unwrap();
        let mut conn = AsyncConnection::open(&config).await.unwrap();
        let started = Instant::now();
        let err = conn.execute(["DEBUG", "SLEEP", "0.5"]).await.unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
        assert!(err.to_string().contains("DEBUG"), "{err}");
        assert!(started.elapsed() < Duration::from_millis(400));
        assert!(conn.is_broken());
        // The server itself sleeps on; a blocking command gets its own timeout on top of the
        // socket timeout.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let config = config
            .to_builder()
            .socket_timeout(Duration::from_millis(300))
            .build()
            .unwrap();
        let mut conn = AsyncConnection::open(&config).await.unwrap();
        let popped = conn.run(cmd::Blpop::new(["aio:empty"], 0.5)).await.unwrap();
        assert_eq!(popped, None);
    });
}

#[test]
fn pipelined_raw_writes_and_frames() {
    let server = Server::valkey();
    runtime().block_on(async {
        let mut conn = AsyncConnection::open(&config(&server, Protocol::Resp3))
            .await
            .unwrap();
        for i in 0..100 {
            conn.send_command(&["SET".to_string(), format!("aio:p{i}"), i.to_string()])
                .unwrap();
        }
        conn.flush().await.unwrap();
        for _ in 0..100 {
            assert_eq!(conn.read_reply().await.unwrap(), Value::Simple("OK".into()));
        }
        // Frames that answer no command: pub/sub messages.
        let mut sub = AsyncConnection::open(&config(&server, Protocol::Resp3))
            .await
            .unwrap();
        sub.send_command(&["SUBSCRIBE", "aio:ch"]).unwrap();
        sub.flush().await.unwrap();
        let confirm = sub.read_frame().await.unwrap();
        assert!(matches!(confirm, Value::Push(_)), "{confirm:?}");
        assert_eq!(
            sub.poll_frame(Duration::from_millis(20)).await.unwrap(),
            None
        );
        let n: i64 = conn.query(["PUBLISH", "aio:ch", "hello"]).await.unwrap();
        assert_eq!(n, 1);
        let message = sub.read_frame().await.unwrap();
        assert!(format!("{message:?}").contains("hello"), "{message:?}");
    });
}

#[test]
fn tls_with_verification_and_unix_sockets() {
    let server = Server::builder(ServerKind::Redis).tls().start();
    let files = server.tls().unwrap();
    runtime().block_on(async {
        let verified = Config::builder()
            .host("127.0.0.1")
            .port(server.port())
            .tls(TlsConfig::new().ca_certs(files.ca_cert()))
            .build()
            .unwrap();
        let mut conn = AsyncConnection::open(&verified).await.unwrap();
        conn.set("aio:tls", "ok").await.unwrap();
        assert_eq!(
            conn.get("aio:tls").await.unwrap().as_deref(),
            Some(&b"ok"[..])
        );
        // Without the CA, verification fails.
        let unverified = Config::builder()
            .host("127.0.0.1")
            .port(server.port())
            .tls(TlsConfig::new())
            .build()
            .unwrap();
        let err = AsyncConnection::open(&unverified).await.unwrap_err();
        assert!(matches!(err, Error::Tls { .. }), "{err:?}");
    });
    let server = Server::builder(ServerKind::Valkey).unix_socket().start();
    runtime().block_on(async {
        let config = Config::builder()
            .unix(server.unix_path().unwrap())
            .build()
            .unwrap();
        let mut conn = AsyncConnection::open(&config).await.unwrap();
        conn.set("aio:unix", "ok").await.unwrap();
        assert_eq!(
            conn.get("aio:unix").await.unwrap().as_deref(),
            Some(&b"ok"[..])
        );
    });
}
