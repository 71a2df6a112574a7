//! `Client` in multiplexed mode against real servers: many threads on one connection without
//! cross-talk (TCP, Unix socket, TLS), batching with several batches in flight, error replies
//! reaching only their caller, blocking commands on the pool, recovery after a cut, a timeout,
//! a protocol error and a server restart, callers racing a dying connection, an idle reader
//! thread that stays put, and the reader thread ending with the last client.

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use redis_client::{Client, Config, Error, Protocol, Retry, Value};
use redis_test_harness::{info_field, Proxy, Server, ServerKind};

/// A multiplexed client config for `url`: 5 s socket timeout, no retries unless asked, so
/// failures surface as they happen.
fn config(url: &str, protocol: Protocol) -> Config {
    Config::from_url(&format!("{url}?multiplexed=true"))
        .unwrap()
        .to_builder()
        .protocol(protocol)
        .socket_timeout(Duration::from_secs(5))
        .retry(Retry::none())
        .build()
        .unwrap()
}

fn mux_client(url: &str, protocol: Protocol) -> Client {
    let client = Client::new(config(url, protocol)).unwrap();
    assert!(client.is_multiplexed());
    assert!(format!("{client:?}").contains("multiplexed: true"));
    client
}

/// A counter from `INFO stats`.
fn stat(admin: &Client, name: &str) -> u64 {
    let info: String = admin.query(["INFO", "stats"]).unwrap();
    info_field(&info, name)
        .unwrap_or_else(|| panic!("INFO stats has no {name}"))
        .parse()
        .unwrap()
}

/// Waits for every worker, then checks that none of their commands needed the pool.
fn join_on_the_shared_connection(workers: Vec<thread::JoinHandle<()>>, client: &Client) {
    for worker in workers {
        worker.join().unwrap();
    }
    assert_eq!(
        client.pool_stats().unwrap().open,
        0,
        "every command went over the shared connection, none through the pool"
    );
}

#[test]
fn sixteen_threads_share_one_connection_in_batches() {
    const THREADS: usize = 16;
    const ROUNDS: usize = 667; // 3 commands a round: 2 001 commands per thread
    let server = Server::redis();
    let admin = Client::new(Config::from_url(&server.url()).unwrap()).unwrap();
    for protocol in [Protocol::Resp2, Protocol::Resp3] {
        let connections = stat(&admin, "total_connections_received");
        let reads = stat(&admin, "total_reads_processed");
        let client = mux_client(&server.url(), protocol);
        let started = Instant::now();
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let client = client.clone();
                thread::spawn(move || {
                    let key = format!("{protocol:?}:value:{t}");
                    let counter = format!("{protocol:?}:counter:{t}");
                    for i in 0..ROUNDS {
                        let value = format!("{t}-{i}");
                        client
                            .execute(["SET", key.as_str(), value.as_str()])
                            .unwrap();
                        let got: String = client.query(["GET", key.as_str()]).unwrap();
                        assert_eq!(got, value, "thread {t} got another caller's reply");
                        let n: i64 = client.query(["INCR", counter.as_str()]).unwrap();
                        assert_eq!(n, i as i64 + 1, "thread {t} got another caller's count");
                    }
                })
            })
            .collect();
        join_on_the_shared_connection(workers, &client);
        let elapsed = started.elapsed();
        let commands = (THREADS * ROUNDS * 3) as u64;
        // The admin's own INFO command adds one read; everything else came from `client`.
        let reads = stat(&admin, "total_reads_processed") - reads - 1;
        assert_eq!(
            stat(&admin, "total_connections_received") - connections,
            1,
            "{protocol:?}: every command went over one connection"
        );
        eprintln!(
            "{protocol:?}: {commands} commands in {elapsed:?}, {reads} reads on the server \
             ({:.1} commands per read)",
            commands as f64 / reads as f64
        );
        assert!(
            reads < commands * 3 / 4,
            "{protocol:?}: {reads} server reads for {commands} commands: no batching"
        );
        assert!(elapsed < Duration::from_secs(30), "{elapsed:?}");
    }
}

#[test]
fn an_error_reply_reaches_only_its_caller() {
    const THREADS: usize = 8;
    const ROUNDS: usize = 300;
    let server = Server::valkey();
    for protocol in [Protocol::Resp2, Protocol::Resp3] {
        let client = mux_client(&server.url(), protocol);
        client.execute(["SET", "text", "not a number"]).unwrap();
        let start = Arc::new(Barrier::new(THREADS));
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let client = client.clone();
                let start = Arc::clone(&start);
                thread::spawn(move || {
                    let key = format!("k{t}");
                    client.execute(["SET", key.as_str(), "v"]).unwrap();
                    start.wait();
                    for _ in 0..ROUNDS {
                        if t == 0 {
                            let err = client.execute(["INCR", "text"]).unwrap_err();
                            assert_eq!(err.code(), Some("ERR"), "{err:?}");
                            assert_eq!(err.server_error().unwrap().command(), Some("INCR"));
                        } else {
                            let got: String = client.query(["GET", key.as_str()]).unwrap();
                            assert_eq!(got, "v");
                        }
                    }
                })
            })
            .collect();
        for worker in workers {
            worker.join().unwrap();
        }
        let text: String = client.query(["GET", "text"]).unwrap();
        assert_eq!(text, "not a number");
    }
}

#[test]
fn decode_responses_callbacks_and_typed_commands_apply_per_caller() {
    use redis_client::Commands;

    let server = Server::redis();
    let mut client = Client::new(
        config(&server.url(), Protocol::Resp3)
            .to_builder()
            .decode_responses(true)
            .build()
            .unwrap(),
    )
    .unwrap();
    client.set_response_callback("GET", |value| {
        let text = value.as_str().unwrap_or_default().to_uppercase();
        Ok(Value::Bulk(text.into()))
    });
    client.execute(["SET", "text", "quiet"]).unwrap();
    client
        .execute(("SET", "binary", &[0xffu8, 0xfe][..]))
        .unwrap();
    let workers: Vec<_> = (0..4)
        .map(|t| {
            let client = client.clone();
            thread::spawn(move || {
                for _ in 0..100 {
                    if t == 0 {
                        let err = client.execute(["GET", "binary"]).unwrap_err();
                        assert!(matches!(err, Error::Data(_)), "{err:?}");
                        assert!(err.to_string().contains("GET"), "{err}");
                    } else {
                        let got: String = client.query(["GET", "text"]).unwrap();
                        assert_eq!(got, "QUIET");
                        let n: i64 = client.incr(format!("typed{t}")).unwrap();
                        assert!(n > 0);
                    }
                }
            })
        })
        .collect();
    join_on_the_shared_connection(workers, &client);
}

#[test]
fn a_blocking_command_takes_the_pool_and_stalls_nobody() {
    const READERS: usize = 4;
    const GETS: usize = 200;
    let server = Server::redis();
    let client = mux_client(&server.url(), Protocol::Resp3);
    client.execute(["SET", "k", "v"]).unwrap();
    let started = Instant::now();
    let blocker = {
        let client = client.clone();
        thread::spawn(move || {
            let popped = client.execute(["BLPOP", "empty-list", "1"]).unwrap();
            (popped, started.elapsed())
        })
    };
    // Give BLPOP time to reach the server before the readers start.
    thread::sleep(Duration::from_millis(100));
    let readers: Vec<_> = (0..READERS)
        .map(|_| {
            let client = client.clone();
            thread::spawn(move || {
                for _ in 0..GETS {
                    let got: String = client.query(["GET", "k"]).unwrap();
                    assert_eq!(got, "v");
                }
                started.elapsed()
            })
        })
        .collect();
    let readers_done = readers
        .into_iter()
        .map(|r| r.join().unwrap())
        .max()
        .unwrap();
    let (popped, blpop_done) = blocker.join().unwrap();
    assert_eq!(popped, Value::Nil, "BLPOP timed out on an empty list");
    assert!(blpop_done >= Duration::from_millis(900), "{blpop_done:?}");
    assert!(
        readers_done < blpop_done,
        "the GETs ({readers_done:?}) waited for BLPOP ({blpop_done:?})"
    );
    assert_eq!(
        client.pool_stats().unwrap().open,
        1,
        "BLPOP ran on a pooled connection"
    );
}

#[test]
fn a_cut_fails_the_unread_rest_of_the_batch_and_the_next_batch_reconnects() {
    const THREADS: usize = 8;
    let server = Server::redis();
    let proxy = Proxy::to(&server).unwrap();
    let client = mux_client(&proxy.url(), Protocol::Resp2);
    client.execute(["PING"]).unwrap();
    // Nothing moves while stalled: every command is written to the proxy, none is answered.
    proxy.stall(true);
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let client = client.clone();
            thread::spawn(move || {
                // Both reply `:1` (4 bytes), under different names.
                let (command, by) = if t % 2 == 0 {
                    ("INCRBY", "1")
                } else {
                    ("DECRBY", "-1")
                };
                let key = format!("n{t}");
                (t, command, client.execute([command, key.as_str(), by]))
            })
        })
        .collect();
    thread::sleep(Duration::from_millis(300));
    // Three replies get through, then the connection is cut in the middle of the batch.
    proxy.cut_after(3 * 4);
    proxy.stall(false);
    let mut failed = 0;
    for worker in workers {
        let (t, command, outcome) = worker.join().unwrap();
        match outcome {
            Ok(value) => assert_eq!(value, Value::Integer(1), "thread {t}"),
            Err(e) => {
                failed += 1;
                assert!(e.is_connection_error(), "thread {t}: {e:?}");
                let text = e.to_string();
                assert!(text.contains(command), "thread {t} ran {command}: {text}");
            }
        }
    }
    assert_eq!(failed, THREADS - 3, "every reply after the cut was lost");
    // The server received every command, so each ran exactly once, answered or not; the
    // commands after the cut ran on a new connection.
    for t in 0..THREADS {
        let n: i64 = client.query(["GET", format!("n{t}").as_str()]).unwrap();
        assert_eq!(n, 1, "n{t}");
    }
    assert_eq!(proxy.accepted_connections(), 2);
    assert_eq!(client.pool_stats().unwrap().open, 0);
}

#[test]
fn a_timeout_discards_the_connection() {
    let server = Server::redis();
    let proxy = Proxy::to(&server).unwrap();
    let client = Client::new(
        config(&proxy.url(), Protocol::Resp3)
            .to_builder()
            .socket_timeout(Duration::from_millis(300))
            .build()
            .unwrap(),
    )
    .unwrap();
    let id: i64 = client.query(["CLIENT", "ID"]).unwrap();
    proxy.stall(true);
    let err = client.execute(["GET", "k"]).unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(err.to_string().contains("GET"), "{err}");
    proxy.stall(false);
    let new_id: i64 = client.query(["CLIENT", "ID"]).unwrap();
    assert_ne!(new_id, id, "the timed-out connection was not reused");
    assert_eq!(proxy.accepted_connections(), 2);
}

#[test]
fn a_protocol_error_discards_the_connection() {
    let server = Server::redis();
    let proxy = Proxy::to(&server).unwrap();
    let client = mux_client(&proxy.url(), Protocol::Resp2);
    let id: i64 = client.query(["CLIENT", "ID"]).unwrap();
    // What a replication stream (`REPLCONF capa eof`, `PSYNC ? -1`) would send; the client
    // refuses to send those on a shared connection, so the bytes come from the proxy. The
    // reader thread finds no valid reply while no command waits, and ends the connection; a
    // command that went out before that would get the garbage as its reply and fail instead.
    assert_eq!(
        proxy.send_to_clients(b"$EOF:0123456789012345678901234567890123456789\r\n"),
        1
    );
    thread::sleep(Duration::from_millis(500));
    match client.execute(["GET", "k"]) {
        Ok(value) => assert_eq!(value, Value::Nil),
        Err(err) => assert!(matches!(err, Error::Protocol(_)), "{err:?}"),
    }
    let new_id: i64 = client.query(["CLIENT", "ID"]).unwrap();
    assert_ne!(new_id, id);
}

#[test]
fn commands_succeed_again_after_a_server_restart() {
    let mut server = Server::redis();
    let client = mux_client(&server.url(), Protocol::Resp3);
    client.execute(["SET", "k", "v"]).unwrap();
    server.kill();
    let err = client.execute(["INCR", "n"]).unwrap_err();
    assert!(err.is_connection_error(), "{err:?}");
    assert!(err.to_string().contains("INCR"), "{err}");
    server.restart().unwrap();
    let n: i64 = client.query(["INCR", "n"]).unwrap();
    assert_eq!(n, 1, "the restarted server starts empty");
}

#[test]
fn later_commands_go_out_while_earlier_replies_are_owed() {
    let server = Server::redis();
    let admin = Client::new(Config::from_url(&server.url()).unwrap()).unwrap();
    let client = mux_client(&server.url(), Protocol::Resp3);
    let id: i64 = client.query(["CLIENT", "ID"]).unwrap();
    // Write commands wait until the pause ends; the server keeps reading what follows them.
    admin.execute(["CLIENT", "PAUSE", "1500", "WRITE"]).unwrap();
    let started = Instant::now();
    let writer = {
        let client = client.clone();
        thread::spawn(move || client.execute(["SET", "a", "1"]))
    };
    thread::sleep(Duration::from_millis(200));
    let reader = {
        let client = client.clone();
        thread::spawn(move || client.query::<Option<String>>(["GET", "a"]))
    };
    thread::sleep(Duration::from_millis(200));
    // GET is already on the server, queued behind the SET whose reply is still owed.
    let list: String = admin
        .query(["CLIENT", "LIST", "ID", id.to_string().as_str()])
        .unwrap();
    let qbuf: usize = list
        .split_whitespace()
        .find_map(|field| field.strip_prefix("qbuf="))
        .unwrap_or_else(|| panic!("no qbuf in {list}"))
        .parse()
        .unwrap();
    assert!(!writer.is_finished(), "SET was paused");
    assert!(
        qbuf > 0,
        "GET was not written while SET's reply was owed: {list}"
    );
    assert_eq!(writer.join().unwrap().unwrap(), Value::Simple("OK".into()));
    assert_eq!(reader.join().unwrap().unwrap().as_deref(), Some("1"));
    assert!(started.elapsed() >= Duration::from_millis(1000));
}

#[test]
fn callers_racing_a_dying_connection_get_an_answer_or_an_error() {
    const THREADS: usize = 6;
    let server = Server::redis();
    let proxy = Proxy::to(&server).unwrap();
    let client = mux_client(&proxy.url(), Protocol::Resp2);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (done, results) = std::sync::mpsc::channel();
    for t in 0..THREADS {
        let client = client.clone();
        let stop = Arc::clone(&stop);
        let done = done.clone();
        thread::spawn(move || {
            let key = format!("race{t}");
            let (mut ok, mut failed) = (0u64, 0u64);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                match client.execute(["INCR", key.as_str()]) {
                    Ok(Value::Integer(_)) => ok += 1,
                    Ok(other) => panic!("thread {t}: INCR gave {other:?}"),
                    Err(e) => {
                        assert!(e.is_connection_error(), "thread {t}: {e:?}");
                        assert!(e.to_string().contains("INCR"), "thread {t}: {e}");
                        failed += 1;
                    }
                }
            }
            done.send((t, ok, failed)).unwrap();
        });
    }
    drop(done);
    for _ in 0..10 {
        thread::sleep(Duration::from_millis(100));
        proxy.cut();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut failures = 0;
    for _ in 0..THREADS {
        // A caller stuck on a dead connection would never report.
        let (t, ok, failed) = results
            .recv_timeout(Duration::from_secs(10))
            .expect("a caller hung on a dying connection");
        let n: i64 = client.query(["GET", format!("race{t}").as_str()]).unwrap();
        assert!(
            n as u64 >= ok,
            "thread {t}: {ok} INCRs answered, counter {n}"
        );
        assert!(n as u64 <= ok + failed, "thread {t}: {n} > {ok} + {failed}");
        failures += failed;
    }
    assert!(failures > 0, "the cuts failed nobody");
    assert!(proxy.accepted_connections() > 2);
    assert_eq!(
        client.execute(["PING"]).unwrap(),
        Value::Simple("PONG".into())
    );
}

#[test]
fn an_idle_reader_keeps_its_connection_past_the_socket_timeout() {
    let server = Server::redis();
    let client = Client::new(
        config(&server.url(), Protocol::Resp3)
            .to_builder()
            .socket_timeout(Duration::from_millis(150))
            .build()
            .unwrap(),
    )
    .unwrap();
    let id: i64 = client.query(["CLIENT", "ID"]).unwrap();
    thread::sleep(Duration::from_millis(700));
    let again: i64 = client.query(["CLIENT", "ID"]).unwrap();
    assert_eq!(again, id, "the idle connection was dropped");
}

/// Threads of this process named like the reader threads ("redis-client-mux-reader", which
/// Linux cuts to 15 bytes).
fn reader_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .filter(|name| name.trim_end() == "redis-client-mu")
        .count()
}

/// Run alone in a child process by the test below, so no other test's reader threads count.
#[test]
#[ignore = "run by the_reader_thread_ends_with_the_last_client in a process of its own"]
fn reader_thread_probe() {
    let server = Server::redis();
    let admin = Client::new(Config::from_url(&server.url()).unwrap()).unwrap();
    let connected = || {
        let info: String = admin.query(["INFO", "clients"]).unwrap();
        info_field(&info, "connected_clients").unwrap().to_owned()
    };
    let before = connected();
    assert_eq!(reader_threads(), 0);
    let client = mux_client(&server.url(), Protocol::Resp3);
    let copy = client.clone();
    client.execute(["PING"]).unwrap();
    assert_eq!(reader_threads(), 1);
    assert_ne!(connected(), before);
    drop(client);
    copy.execute(["PING"]).unwrap();
    assert_eq!(reader_threads(), 1, "a clone keeps the connection");
    drop(copy);
    let deadline = Instant::now() + Duration::from_secs(5);
    while reader_threads() != 0 || connected() != before {
        assert!(
            Instant::now() < deadline,
            "the reader thread or its connection outlived the client"
        );
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_reader_thread_ends_with_the_last_client() {
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "reader_thread_probe",
            "--ignored",
            "--test-threads=1",
        ])
        .status()
        .unwrap();
    assert!(status.success(), "the probe failed: {status}");
}

/// Many threads on one multiplexed client over `url`, each checking its replies are its own.
fn no_cross_talk(url: &str, config: impl Fn(Config) -> Config) {
    let client = Client::new(config(self::config(url, Protocol::Resp3))).unwrap();
    let workers: Vec<_> = (0..6)
        .map(|t| {
            let client = client.clone();
            thread::spawn(move || {
                for i in 0..300 {
                    let key = format!("talk{t}");
                    let value = format!("{t}-{i}");
                    client
                        .execute(["SET", key.as_str(), value.as_str()])
                        .unwrap();
                    let got: String = client.query(["GET", key.as_str()]).unwrap();
                    assert_eq!(got, value, "thread {t} got another caller's reply");
                }
            })
        })
        .collect();
    join_on_the_shared_connection(workers, &client);
}

#[test]
fn unix_socket_and_tls_connections_multiplex_too() {
    let unix = Server::builder(ServerKind::Redis).unix_socket().start();
    let path = unix.unix_path().unwrap().to_owned();
    no_cross_talk(&unix.url(), |config| {
        config.to_builder().unix(&path).build().unwrap()
    });
    // TLS streams cannot be split: batches take turns on the connection.
    let tls = Server::builder(ServerKind::Redis).tls().start();
    let ca = tls.tls().unwrap().ca_cert();
    no_cross_talk(&tls.url(), |config| {
        config
            .to_builder()
            .tls(redis_client::TlsConfig::new().ca_certs(&ca))
            .build()
            .unwrap()
    });
}
