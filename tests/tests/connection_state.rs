//! Commands that change their connection's state (the spec's `rust.connection_state`) run on a
//! dedicated connection and are refused where the connection is shared.

use redis_client::{
    cmd, Client, Commands, Config, Connection, ConnectionCommands, Error, Executor, Protocol, Value,
};
use redis_test_harness::Server;

#[test]
fn a_pooled_client_refuses_select_and_keeps_its_database() {
    let server = Server::redis();
    let client = Client::open(&format!("{}/0", server.url())).unwrap();
    client.set("where", "db0").unwrap();
    match client.run(cmd::Select::new(1)) {
        Err(Error::Usage(message)) => {
            assert!(message.contains("SELECT"), "{message}");
            assert!(message.contains("pooled client"), "{message}");
        }
        other => panic!("expected a usage error, got {other:?}"),
    }
    // Nothing was sent, so every pooled connection still sees database 0.
    for _ in 0..4 {
        let v: Option<String> = client.query(["GET", "where"]).unwrap();
        assert_eq!(v.as_deref(), Some("db0"));
    }
}

#[test]
fn a_pipeline_refuses_watch_before_sending_anything() {
    let server = Server::valkey();
    let client = Client::open(&server.url()).unwrap();
    let mut pipe = client.pipeline();
    pipe.set("a", 1).run(cmd::Watch::new(["a"]));
    let err = pipe.execute().unwrap_err();
    assert!(
        matches!(&err, Error::Usage(m) if m.contains("WATCH")),
        "{err}"
    );
    let a: Option<i64> = client.query(["GET", "a"]).unwrap();
    assert_eq!(a, None, "the pipeline must not have run at all");
}

#[test]
fn a_dedicated_connection_runs_them() {
    let server = Server::redis();
    let client = Client::open(&server.url()).unwrap();
    let mut conn = Connection::open(client.config()).unwrap();
    (&mut conn).run(cmd::Select::new(2)).unwrap();
    assert_eq!((&mut conn).client_setname("worker").unwrap(), ());
    let name: Option<String> = conn.query(["CLIENT", "GETNAME"]).unwrap();
    assert_eq!(name.as_deref(), Some("worker"));
    (&mut conn).watch(["k"]).unwrap();
    (&mut conn).multi().unwrap();
    let queued = conn.execute(["INCR", "k"]).unwrap();
    assert_eq!(queued, Value::Simple("QUEUED".into()));
    let replies = (&mut conn).exec().unwrap();
    assert_eq!(replies.map(|r| r.len()), Some(1));
    // The borrowed pooled connection is dedicated too.
    let mut pooled = client.get_connection().unwrap();
    (&mut *pooled).client_setname("borrowed").unwrap();
}

/// The three clients whose connections are shared: by the pool's users, by the threads on one
/// multiplexed connection, by the clones of a single-connection client.
#[derive(Clone, Copy, Debug)]
enum Shared {
    Pooled,
    Multiplexed,
    Single,
}

const SHARED: [Shared; 3] = [Shared::Pooled, Shared::Multiplexed, Shared::Single];

fn config(server: &Server, protocol: Protocol, db: u32) -> Config {
    // A socket timeout bounds the commands that never answer (CLIENT REPLY OFF) on a client
    // that would send them.
    Config::from_url(&format!("{}/{db}?socket_timeout=3", server.url()))
        .unwrap()
        .to_builder()
        .protocol(protocol)
        .build()
        .unwrap()
}

fn shared_client(server: &Server, protocol: Protocol, kind: Shared) -> Client {
    let config = config(server, protocol, 0);
    match kind {
        Shared::Pooled => Client::new(config).unwrap(),
        Shared::Multiplexed => {
            Client::new(config.to_builder().multiplexed(true).build().unwrap()).unwrap()
        }
        Shared::Single => Client::single_connection(config).unwrap(),
    }
}

fn servers() -> [Server; 2] {
    [Server::redis(), Server::valkey()]
}

const PROTOCOLS: [Protocol; 2] = [Protocol::Resp2, Protocol::Resp3];

fn assert_refused(result: redis_client::Result<Value>, name: &str, kind: &str) {
    match result {
        Err(Error::Usage(message)) => {
            assert!(message.contains(name), "{message}");
            assert!(message.contains(kind), "{message}");
            assert!(message.contains("get_connection"), "{message}");
        }
        other => panic!("{name} on {kind}: expected a usage error, got {other:?}"),
    }
}

/// What `SELECT` in db 1 would have made of later commands: they still see db 0.
fn assert_still_db0(client: &Client, label: &str) {
    for _ in 0..4 {
        let v: Option<String> = client.query(["GET", "where"]).unwrap();
        assert_eq!(v.as_deref(), Some("db0"), "{label}");
        // After a MULTI every command would answer QUEUED; after a RESP2 SUBSCRIBE, GET and
        // INCR would be refused or answered with a message.
        let n: i64 = client.query(["INCR", "counter"]).unwrap();
        assert!(n > 0, "{label}");
    }
}

#[test]
fn shared_clients_refuse_raw_connection_state_commands() {
    for server in servers() {
        for protocol in PROTOCOLS {
            for kind in SHARED {
                let label = format!("{} {protocol:?} {kind:?}", server.kind().name());
                let client = shared_client(&server, protocol, kind);
                let kind_name = match kind {
                    Shared::Pooled => "a pooled client",
                    Shared::Multiplexed => "a multiplexed client",
                    Shared::Single => "a single-connection client",
                };
                client.set("where", "db0").unwrap();
                assert_refused(client.execute(["SELECT", "1"]), "SELECT", kind_name);
                assert_refused(client.execute(["select", "1"]), "SELECT", kind_name);
                assert_refused(client.execute_idempotent(["Multi"]), "MULTI", kind_name);
                assert_refused(client.query(["SUBSCRIBE", "ch"]), "SUBSCRIBE", kind_name);
                assert_refused(
                    client.execute(["client", "reply", "off"]),
                    "CLIENT REPLY",
                    kind_name,
                );
                assert_refused(client.execute(("HELLO", 2)), "HELLO", kind_name);
                assert_refused(client.execute(["RESET"]), "RESET", kind_name);
                // The typed path gives the same error.
                assert_refused(
                    client.run(cmd::Select::new(1)).map(|()| Value::Nil),
                    "SELECT",
                    kind_name,
                );
                assert_still_db0(&client, &label);
                // Subcommands that leave the connection alone still run.
                let name: Option<String> = client.query(["CLIENT", "GETNAME"]).unwrap();
                assert_eq!(name, None, "{label}");
            }
            // Nothing reached database 1.
            let mut db1 = Connection::open(&config(&server, protocol, 1)).unwrap();
            let v: Option<String> = db1.query(["GET", "where"]).unwrap();
            assert_eq!(v, None);
        }
    }
}

#[test]
fn pipelines_refuse_raw_connection_state_commands_before_sending() {
    for server in servers() {
        for kind in SHARED {
            let client = shared_client(&server, Protocol::Resp3, kind);
            for transaction in [true, false] {
                for raw in [&["SELECT", "1"][..], &["MULTI"], &["subscribe", "ch"]] {
                    let mut pipe = client.pipeline();
                    pipe.transaction(transaction)
                        .raw(["SET", "a", "1"])
                        .raw(raw);
                    let err = pipe.execute().unwrap_err();
                    assert!(
                        matches!(&err, Error::Usage(m)
                            if m.contains(&raw[0].to_ascii_uppercase()) && m.contains("pipeline")),
                        "{err}"
                    );
                    let a: Option<i64> = client.query(["GET", "a"]).unwrap();
                    assert_eq!(a, None, "the pipeline must not have run at all");
                }
            }
        }
    }
}

/// The id of the connection the client's next command runs on. Pools hand out the connection
/// returned last, so a connection that went back to the pool shows up here again.
fn next_connection_id(client: &Client) -> i64 {
    client.query(["CLIENT", "ID"]).unwrap()
}

fn borrowed_id(conn: &mut Connection) -> i64 {
    conn.query(["CLIENT", "ID"]).unwrap()
}

/// Runs `leave` on a borrowed connection, gives it back, and says whether the client's next
/// command ran on that same connection.
fn reused_after(client: &Client, leave: impl FnOnce(&mut Connection)) -> bool {
    let mut conn = client.get_connection().unwrap();
    let id = borrowed_id(&mut conn);
    leave(&mut conn);
    drop(conn);
    next_connection_id(client) == id
}

/// Runs `test` with a pooled and a single-connection client of Redis and Valkey, in RESP2
/// and RESP3, and a label naming them for messages.
fn each_borrowing_client(mut test: impl FnMut(&Server, Protocol, &Client, &str)) {
    for server in servers() {
        for protocol in PROTOCOLS {
            for kind in [Shared::Pooled, Shared::Single] {
                let client = shared_client(&server, protocol, kind);
                let label = format!("{} {protocol:?} {kind:?}", server.kind().name());
                test(&server, protocol, &client, &label);
            }
        }
    }
}

#[test]
fn a_borrowed_connection_switched_by_raw_select_is_not_reused() {
    each_borrowing_client(|server, protocol, client, label| {
        client.execute(["FLUSHALL"]).unwrap();
        assert!(!reused_after(client, |conn| {
            conn.execute(["SELECT", "2"]).unwrap();
            assert_eq!(conn.db(), 2, "raw SELECT is tracked");
        }));
        client.set("landed", "here").unwrap();
        let mut db2 = Connection::open(&config(server, protocol, 2)).unwrap();
        let in_db2: Option<String> = db2.query(["GET", "landed"]).unwrap();
        assert_eq!(in_db2, None, "{label}: the next SET ran in database 2");
        let in_db0: Option<String> = client.query(["GET", "landed"]).unwrap();
        assert_eq!(in_db0.as_deref(), Some("here"), "{label}");
        // Back on the configured database, nothing is lost.
        assert!(
            reused_after(client, |conn| {
                conn.execute(["select", "2"]).unwrap();
                conn.execute(["SELECT", "0"]).unwrap();
            }),
            "{label}"
        );
        // A refused SELECT changes nothing.
        assert!(reused_after(client, |conn| {
            conn.execute(["SELECT", "100000"]).unwrap_err();
            assert_eq!(conn.db(), 0);
        }));
    });
}

#[test]
fn a_borrowed_connection_left_in_multi_is_not_reused() {
    each_borrowing_client(|_server, _protocol, client, label| {
        assert!(
            !reused_after(client, |conn| {
                conn.execute(["MULTI"]).unwrap();
                let queued = conn.execute(["INCR", "n"]).unwrap();
                assert_eq!(queued, Value::Simple("QUEUED".into()));
            }),
            "{label}"
        );
        let n: i64 = client.query(["INCR", "after"]).unwrap();
        assert_eq!(n, 1, "{label}");
        assert!(!reused_after(client, |conn| {
            // Pipelined: the reply is not awaited, MULTI is assumed to have run.
            conn.write_command(&["MULTI"]).unwrap();
            conn.flush().unwrap();
            conn.read_reply().unwrap();
        }));
        client.execute(["DEL", "n", "after"]).unwrap();
    });
}

#[test]
fn a_borrowed_connection_that_subscribed_is_not_reused() {
    each_borrowing_client(|_server, protocol, client, label| {
        client.set("k", "v").unwrap();
        let reused = reused_after(client, |conn| match protocol {
            Protocol::Resp2 => {
                // RESP2: the confirmation is the reply.
                let confirmation = conn.execute(["SUBSCRIBE", "news"]).unwrap();
                assert!(matches!(confirmation, Value::Array(_)), "{confirmation:?}");
            }
            Protocol::Resp3 => {
                // RESP3: the confirmation is a push; PING answers normally.
                conn.write_command(&["SUBSCRIBE", "news"]).unwrap();
                conn.write_command(&["PING"]).unwrap();
                conn.flush().unwrap();
                let confirmation = conn.read_frame().unwrap();
                assert!(matches!(confirmation, Value::Push(_)), "{confirmation:?}");
                assert_eq!(conn.read_reply().unwrap(), Value::Simple("PONG".into()));
            }
        });
        assert!(!reused, "{label}");
        let published: i64 = client.query(["PUBLISH", "news", "hello"]).unwrap();
        assert_eq!(published, 0, "{label}: the subscriber was closed");
        let v: Option<String> = client.query(["GET", "k"]).unwrap();
        assert_eq!(v.as_deref(), Some("v"), "{label}");
    });
}

#[test]
fn a_borrowed_connection_after_client_reply_or_hello_is_not_reused() {
    each_borrowing_client(|_server, protocol, client, label| {
        assert!(
            !reused_after(client, |conn| {
                // SKIP: no reply to this command nor the next; then ON again.
                conn.write_command(&["CLIENT", "REPLY", "SKIP"]).unwrap();
                conn.write_command(&["SET", "skipped", "1"]).unwrap();
                conn.write_command(&["CLIENT", "REPLY", "ON"]).unwrap();
                conn.flush().unwrap();
                assert_eq!(conn.read_reply().unwrap(), Value::Simple("OK".into()));
                // Two replies will never come; the connection is abandoned anyway.
            }),
            "{label}"
        );
        let other = match protocol {
            Protocol::Resp2 => 3,
            Protocol::Resp3 => 2,
        };
        assert!(
            !reused_after(client, |conn| {
                conn.execute(("HELLO", other)).unwrap();
                let switched = match other {
                    2 => Protocol::Resp2,
                    _ => Protocol::Resp3,
                };
                assert_eq!(conn.protocol(), switched, "raw HELLO is tracked");
            }),
            "{label}"
        );
        // The next user gets the configured protocol: a map stays a map.
        client.hset("h", [("f", "1")]).unwrap();
        let all = client.hgetall("h").unwrap();
        assert_eq!(
            all.get(&b"f"[..]).map(|v| &v[..]),
            Some(&b"1"[..]),
            "{label}"
        );
        // HELLO that only describes the server changes nothing.
        assert!(
            reused_after(client, |conn| {
                let hello = conn.execute(["HELLO"]).unwrap();
                assert!(!matches!(hello, Value::Error(_)));
            }),
            "{label}"
        );
        assert!(
            !reused_after(client, |conn| {
                conn.execute(["CLIENT", "SETNAME", "mine"]).unwrap();
            }),
            "{label}"
        );
        let name: Option<String> = client.query(["CLIENT", "GETNAME"]).unwrap();
        assert_eq!(name, None, "{label}");
        client.execute(["DEL", "h", "skipped"]).unwrap();
    });
}

#[test]
fn a_finished_watch_on_a_borrowed_connection_costs_no_reconnect() {
    each_borrowing_client(|_server, _protocol, client, label| {
        assert!(
            reused_after(client, |conn| {
                conn.execute(["WATCH", "w"]).unwrap();
                conn.execute(["MULTI"]).unwrap();
                conn.execute(["INCR", "w"]).unwrap();
                let replies = conn.execute(["EXEC"]).unwrap();
                assert_eq!(replies, Value::Array(vec![Value::Integer(1)]));
            }),
            "{label}: WATCH … EXEC"
        );
        assert!(
            reused_after(client, |conn| {
                (&mut *conn).watch(["w"]).unwrap();
                (&mut *conn).unwatch().unwrap();
            }),
            "{label}: WATCH … UNWATCH"
        );
        assert!(
            reused_after(client, |conn| {
                conn.execute(["MULTI"]).unwrap();
                conn.execute(["DISCARD"]).unwrap();
            }),
            "{label}: MULTI … DISCARD"
        );
        assert!(
            !reused_after(client, |conn| {
                conn.execute(["WATCH", "w"]).unwrap();
            }),
            "{label}: a WATCH left behind"
        );
        // The pipeline's own WATCH … MULTI … EXEC keeps its connection too.
        let id = next_connection_id(client);
        let mut pipe = client.pipeline();
        pipe.watch(["w"]).unwrap();
        pipe.multi().unwrap().incr("w");
        pipe.execute().unwrap();
        drop(pipe);
        assert_eq!(next_connection_id(client), id, "{label}: pipeline WATCH");
        client.execute(["DEL", "w"]).unwrap();
    });
}
