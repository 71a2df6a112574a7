//! No wrong reply ever (issue #12, items 1 and 3), on every executor: a stale reply left in a
//! connection never reaches the next command, and a reply that trickles in fails its command
//! once the whole-reply deadline passes instead of holding it for as long as bytes keep coming.

use std::thread;
use std::time::{Duration, Instant};

use redis_client::{Client, Commands, Config, Connection, Error, Retry, Value};
use redis_test_harness::{Extra, Proxy, Server, ServerKind};

const STALE: &[u8] = b"+STALE\r\n";
/// A value whose reply (about 70 bytes) takes 7 s at one byte per 100 ms.
const VALUE: &str = "0123456789012345678901234567890123456789012345678901234567890123";

/// The executors that share connections between commands.
#[derive(Clone, Copy, Debug)]
enum Mode {
    Pooled,
    Single,
    Multiplexed,
}

const MODES: [Mode; 3] = [Mode::Pooled, Mode::Single, Mode::Multiplexed];

fn config(url: &str, timeout: Duration) -> Config {
    Config::from_url(url)
        .unwrap()
        .to_builder()
        .socket_timeout(timeout)
        .connect_timeout(Duration::from_secs(5))
        .retry(Retry::none())
        .build()
        .unwrap()
}

fn client(mode: Mode, config: Config) -> Client {
    match mode {
        Mode::Pooled => Client::new(config).unwrap(),
        Mode::Single => Client::single_connection(config).unwrap(),
        Mode::Multiplexed => {
            Client::new(config.to_builder().multiplexed(true).build().unwrap()).unwrap()
        }
    }
}

/// `GET k` must give the value, or fail; anything else is a wrong reply.
fn get_is_right_or_fails(client: &Client, mode: Mode) -> Result<(), Error> {
    match client.execute(["GET", "k"]) {
        Ok(Value::Bulk(value)) if value == VALUE.as_bytes() => Ok(()),
        Ok(other) => panic!("{mode:?}: GET answered {other:?}, a reply that is not its own"),
        Err(error) => Err(error),
    }
}

#[test]
fn an_extra_reply_behind_a_reply_never_reaches_the_next_command() {
    let server = Server::redis();
    let proxy = Proxy::to(&server).unwrap();
    for mode in MODES {
        let client = client(mode, config(&proxy.url(), Duration::from_secs(5)));
        client.set("k", VALUE).unwrap();
        proxy.extra_reply(Extra::Bytes(STALE.to_vec()));
        // The GET's reply arrives with "+STALE" behind it: the stream is out of step, so the GET
        // itself may have been answered by a stale reply. It fails instead, and the connection
        // goes; later commands run on a new one.
        let first = get_is_right_or_fails(&client, mode);
        if let Err(error) = &first {
            assert!(matches!(error, Error::Protocol(_)), "{mode:?}: {error:?}");
        }
        for i in 0..3 {
            let after = get_is_right_or_fails(&client, mode);
            assert!(after.is_ok(), "{mode:?} GET #{i} after +STALE: {after:?}");
        }
        proxy.extra_reply(Extra::Duplicate);
        let _ = get_is_right_or_fails(&client, mode);
        for i in 0..3 {
            let after = get_is_right_or_fails(&client, mode);
            assert!(
                after.is_ok(),
                "{mode:?} GET #{i} after a duplicate: {after:?}"
            );
        }
    }
}

#[test]
fn a_stale_reply_waiting_on_an_idle_connection_is_never_handed_out() {
    let server = Server::redis();
    let proxy = Proxy::to(&server).unwrap();
    for mode in MODES {
        let client = client(mode, config(&proxy.url(), Duration::from_secs(5)));
        client.set("k", VALUE).unwrap();
        let before = proxy.accepted_connections();
        // The connection sits idle (in the pool, or as the single or multiplexed one) when a
        // reply nobody asked for reaches its socket.
        assert!(proxy.send_to_clients(STALE) >= 1);
        thread::sleep(Duration::from_millis(100));
        get_is_right_or_fails(&client, mode).unwrap();
        get_is_right_or_fails(&client, mode).unwrap();
        assert_eq!(
            proxy.accepted_connections(),
            before + 1,
            "{mode:?}: the connection with the stale reply was replaced"
        );
    }
}

#[test]
fn a_connection_takes_an_unsolicited_reply_for_a_protocol_error() {
    let server = Server::redis();
    let proxy = Proxy::to(&server).unwrap();
    let config = config(&proxy.url(), Duration::from_secs(5));
    let mut conn = Connection::open(&config).unwrap();
    conn.execute(["SET", "k", VALUE]).unwrap();
    proxy.extra_reply(Extra::Bytes(STALE.to_vec()));
    let err = conn.execute(["GET", "k"]).unwrap_err();
    assert!(matches!(err, Error::Protocol(_)), "{err:?}");
    assert!(err.to_string().contains("+STALE"), "{err}");
    assert!(conn.is_broken());

    // A reply while none is owed is one nobody asked for.
    let mut conn = Connection::open(&config).unwrap();
    conn.execute(["PING"]).unwrap();
    proxy.send_to_clients(STALE);
    let err = conn.read_reply().unwrap_err();
    assert!(matches!(err, Error::Protocol(_)), "{err:?}");
    assert!(conn.is_broken());
}

#[test]
fn tls_connections_are_reused_despite_what_tls_sends_after_the_handshake() {
    // TLS 1.3 servers send session tickets after the handshake: bytes on the raw socket that
    // are no reply. The check before reuse reads through TLS, so they do not discard anything.
    let server = Server::builder(ServerKind::Redis).tls().start();
    let ca = server.tls().unwrap().ca_cert();
    let tls = Config::from_url(&server.url())
        .unwrap()
        .to_builder()
        .tls(redis_client::TlsConfig::new().ca_certs(&ca))
        .socket_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    for mode in MODES {
        let client = client(mode, tls.clone());
        let id: i64 = client.query(["CLIENT", "ID"]).unwrap();
        for _ in 0..20 {
            client.set("k", VALUE).unwrap();
            get_is_right_or_fails(&client, mode).unwrap();
            thread::sleep(Duration::from_millis(5));
        }
        let again: i64 = client.query(["CLIENT", "ID"]).unwrap();
        assert_eq!(again, id, "{mode:?}: the TLS connection was reused");
    }
}

/// Runs `call` while the proxy trickles one byte per 100 ms; it must fail with a timeout naming
/// `command` within the 500 ms socket timeout plus slack, where it used to take the whole reply's
/// 7 s and succeed.
fn times_out_while_trickling<T: std::fmt::Debug>(
    proxy: &Proxy,
    what: &str,
    command: &str,
    call: impl FnOnce() -> Result<T, Error>,
) {
    proxy.trickle(Duration::from_millis(100));
    let started = Instant::now();
    let result = call();
    let took = started.elapsed();
    proxy.trickle(Duration::ZERO);
    let err = result.expect_err(what);
    assert!(err.is_timeout(), "{what}: {err:?}");
    assert!(err.to_string().contains(command), "{what}: {err}");
    assert!(took < Duration::from_millis(1500), "{what}: took {took:?}");
    assert!(took >= Duration::from_millis(450), "{what}: took {took:?}");
}

#[test]
fn a_reply_that_trickles_in_fails_once_its_deadline_passes() {
    let server = Server::redis();
    let proxy = Proxy::to(&server).unwrap();
    let timeout = Duration::from_millis(500);
    for mode in MODES {
        let client = client(mode, config(&proxy.url(), timeout));
        client.set("k", VALUE).unwrap();
        times_out_while_trickling(&proxy, &format!("{mode:?}"), "GET", || {
            client.execute(["GET", "k"])
        });
        // The timed-out connection is gone; the next command gets its own reply.
        get_is_right_or_fails(&client, mode).unwrap();
        let mut pipe = client.pipeline();
        // Pipelines of a multiplexed client take a pooled connection: open it first.
        pipe.transaction(false).get("k").execute().unwrap();
        pipe.transaction(false).get("k").get("k");
        times_out_while_trickling(&proxy, &format!("{mode:?} pipeline"), "GET", || {
            pipe.execute()
        });
        get_is_right_or_fails(&client, mode).unwrap();
    }
    let mut conn = Connection::open(&config(&proxy.url(), timeout)).unwrap();
    times_out_while_trickling(&proxy, "Connection", "GET", || conn.execute(["GET", "k"]));
    assert!(conn.is_broken());
}

#[test]
fn a_long_pipeline_is_not_failed_for_its_size_while_each_reply_is_timely() {
    let server = Server::redis();
    let proxy = Proxy::to(&server).unwrap();
    let timeout = Duration::from_millis(400);
    let client = Client::new(config(&proxy.url(), timeout)).unwrap();
    let kib = "x".repeat(1024);
    client.set("big", kib.as_str()).unwrap();
    // Every chunk of 16 KiB is held back 20 ms: the 2 000 replies (2 MiB) take seconds in all,
    // many times the timeout, yet none of them waits longer than a few chunks.
    proxy.delay(Duration::from_millis(20));
    let started = Instant::now();
    let mut pipe = client.pipeline();
    pipe.transaction(false);
    for _ in 0..2000 {
        pipe.get("big");
    }
    let replies = pipe.execute().unwrap();
    let took = started.elapsed();
    proxy.delay(Duration::ZERO);
    assert_eq!(replies.len(), 2000);
    assert!(replies
        .iter()
        .all(|reply| reply == &Value::Bulk(kib.clone().into())));
    assert!(took > timeout * 3, "the pipeline took {took:?}");
}
