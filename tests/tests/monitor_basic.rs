//! MONITOR against real servers: commands with spaces, quotes and binary bytes come back as
//! their original bytes, with database, source (TCP, Unix socket, Lua) and time; dropping the
//! monitor ends it.

use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use redis_client::{Client, Config, Monitor, MonitorEvent, MonitorSource, Protocol};
use redis_test_harness::{Server, ServerKind};

fn config(server: &Server, protocol: Protocol, db: u32) -> Config {
    Config::from_url(&server.url())
        .unwrap()
        .to_builder()
        .protocol(protocol)
        .db(db)
        .socket_timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// The next event whose command is `command` (other clients' handshakes come too).
fn next_of(monitor: &mut Monitor, command: &str) -> MonitorEvent {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let event = monitor
            .next_event_timeout(left)
            .unwrap()
            .unwrap_or_else(|| panic!("no {command} within 10 s"));
        if event.command.eq_ignore_ascii_case(command) {
            return event;
        }
    }
}

/// Counts the connections in MONITOR mode (flag `O`).
fn monitors(client: &Client) -> usize {
    let list: String = client.query(["CLIENT", "LIST"]).unwrap();
    list.lines()
        .filter(|line| {
            line.split(' ').any(|field| {
                field
                    .strip_prefix("flags=")
                    .is_some_and(|f| f.contains('O'))
            })
        })
        .count()
}

#[test]
fn commands_with_spaces_quotes_and_binary_bytes_come_back_intact() {
    let awkward: Vec<Bytes> = vec![
        Bytes::from_static(b"key with spaces"),
        Bytes::from_static(b"say \"hi\" and \\ back\\slash"),
        Bytes::from_static(b"\x00\x01\x7f\x80\xff binary"),
        Bytes::from_static(b"lines\r\n\ttab\x07\x08"),
        Bytes::from("ünïcödé"),
        Bytes::new(),
    ];
    for kind in [ServerKind::Redis, ServerKind::Valkey] {
        let server = Server::builder(kind).start();
        for protocol in [Protocol::Resp2, Protocol::Resp3] {
            let watcher = Client::new(config(&server, protocol, 0)).unwrap();
            let mut monitor = watcher.monitor().unwrap();
            let other = Client::new(config(&server, protocol, 5)).unwrap();
            let before = SystemTime::now() - Duration::from_secs(1);
            let mut args = vec![Bytes::from_static(b"monitor:list")];
            args.extend(awkward.iter().cloned());
            other.execute(("RPUSH", &args)).unwrap();

            let event = next_of(&mut monitor, "RPUSH");
            assert_eq!(event.args, args, "{} {protocol:?}", server.server_id());
            assert_eq!(event.db, 5);
            match &event.client {
                MonitorSource::Tcp(addr) => assert!(addr.starts_with("127.0.0.1:"), "{addr}"),
                other => panic!("expected a TCP client, got {other:?}"),
            }
            assert!(
                event.time >= before && event.time <= SystemTime::now() + Duration::from_secs(1)
            );

            // A number is shown as its digits.
            other.execute(("INCRBY", "monitor:n", -42)).unwrap();
            let event = next_of(&mut monitor, "INCRBY");
            assert_eq!(event.args, [Bytes::from("monitor:n"), Bytes::from("-42")]);

            // Commands a script runs show up with the source `lua`.
            other
                .execute((
                    "EVAL",
                    "return redis.call('SET', KEYS[1], 'from lua')",
                    1,
                    "monitor:lua",
                ))
                .unwrap();
            let event = next_of(&mut monitor, "SET");
            assert_eq!(event.client, MonitorSource::Lua, "{}", server.server_id());
            assert_eq!(event.args[1], Bytes::from("from lua"));
        }
    }
}

#[test]
fn idle_polling_times_out_and_drop_ends_monitoring() {
    let server = Server::redis();
    let client = Client::new(config(&server, Protocol::Resp3, 0)).unwrap();
    let mut monitor = client.monitor().unwrap();
    assert_eq!(monitors(&client), 1);
    // That opened a second pooled connection, whose handshake (HELLO) was monitored; once
    // it has passed, nothing runs.
    while monitor
        .next_event_timeout(Duration::from_millis(300))
        .unwrap()
        .is_some()
    {}
    let started = Instant::now();
    assert!(monitor
        .next_event_timeout(Duration::from_millis(100))
        .unwrap()
        .is_none());
    assert!(started.elapsed() >= Duration::from_millis(100));

    // The iterator form.
    client.execute(["PING"]).unwrap();
    client.execute(["ECHO", "two"]).unwrap();
    let names: Vec<String> = monitor
        .by_ref()
        .map(|e| e.unwrap().command)
        .skip_while(|c| !c.eq_ignore_ascii_case("ping"))
        .take(2)
        .collect();
    assert!(names[0].eq_ignore_ascii_case("ping") && names[1].eq_ignore_ascii_case("echo"));

    drop(monitor);
    let deadline = Instant::now() + Duration::from_secs(5);
    while monitors(&client) != 0 {
        assert!(
            Instant::now() < deadline,
            "the monitor connection stayed open"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // The monitor took its connection out of the pool for good; the pool still works.
    assert_eq!(client.query::<String>(["ECHO", "ok"]).unwrap(), "ok");
}

#[test]
fn unix_socket_clients_and_single_connection_clients() {
    let server = Server::builder(ServerKind::Redis).unix_socket().start();
    let path = server.unix_path().unwrap().to_owned();
    let single = Client::single_connection(config(&server, Protocol::Resp2, 0)).unwrap();
    let mut monitor = single.monitor().unwrap();
    // The single connection stays free for commands while monitoring.
    single.execute(["SET", "from", "tcp"]).unwrap();
    assert_eq!(next_of(&mut monitor, "SET").args[1], Bytes::from("tcp"));

    let unix = Client::new(
        Config::builder()
            .unix(&path)
            .socket_timeout(Duration::from_secs(10))
            .build()
            .unwrap(),
    )
    .unwrap();
    unix.execute(["SET", "from", "unix"]).unwrap();
    let event = next_of(&mut monitor, "SET");
    assert_eq!(
        event.client,
        MonitorSource::Unix(path.to_string_lossy().into_owned())
    );
}
