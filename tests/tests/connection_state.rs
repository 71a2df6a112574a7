//! Commands that change their connection's state (the spec's `rust.connection_state`) run on a
//! dedicated connection and are refused where the connection is shared.

use redis_client::{cmd, Client, Commands, Connection, ConnectionCommands, Error, Executor, Value};
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
