//! Pipelines and transactions against real servers: replies in order and typed, errors in
//! place, EXECABORT, reshaped typed replies, deferred argument errors, clean connections.

use std::collections::HashMap;

use redis_client::command::{Command, ReplyShape};
use redis_client::resp::ArgWriter;
use redis_client::{Client, Config, Error, Executor, Protocol, ToArgs, Value};
use redis_test_harness::{client, Server};

/// Every server kind in both protocols.
fn each_setup(mut f: impl FnMut(&Client, &str)) {
    for server in [Server::redis(), Server::valkey()] {
        for protocol in [Protocol::Resp2, Protocol::Resp3] {
            let client = client(&server, protocol);
            client.execute(["FLUSHALL"]).unwrap();
            f(&client, &format!("{} {protocol:?}", server.server_id()));
        }
    }
}

/// `HGETALL`, typed by hand the way the generated surface types it: a map in both protocols.
struct HGetAll(&'static str);

static STRING_MAP: ReplyShape = ReplyShape::Map(&ReplyShape::Bulk, &ReplyShape::Bulk);

impl ToArgs for HGetAll {
    fn write_args(&self, out: &mut ArgWriter<'_>) {
        out.arg(b"HGETALL");
        self.0.write_args(out);
    }
}

impl Command for HGetAll {
    type Output = HashMap<String, String>;
    const NAME: &'static str = "HGETALL";
    fn reply_shape(&self) -> &'static ReplyShape {
        &STRING_MAP
    }
}

/// `DEL` refusing an empty key list, as generated commands check their arguments.
struct Del(Vec<&'static str>);

impl ToArgs for Del {
    fn write_args(&self, out: &mut ArgWriter<'_>) {
        out.arg(b"DEL");
        self.0.write_args(out);
    }
}

impl Command for Del {
    type Output = i64;
    const NAME: &'static str = "DEL";
    fn reply_shape(&self) -> &'static ReplyShape {
        &ReplyShape::Integer
    }
    fn check(&self) -> redis_client::Result<()> {
        if self.0.is_empty() {
            return Err(Error::Data(
                "DEL: argument `key` needs at least one value".into(),
            ));
        }
        Ok(())
    }
}

#[test]
fn replies_come_back_in_order_plain_and_as_a_transaction() {
    each_setup(|client, setup| {
        for transaction in [true, false] {
            let mut pipe = client.pipeline();
            pipe.transaction(transaction)
                .raw(["SET", "a", "1"])
                .raw(["INCR", "a"])
                .raw(["GET", "a"])
                .raw(["GET", "missing"]);
            assert_eq!(pipe.len(), 4);
            let replies = pipe.execute().unwrap();
            assert!(pipe.is_empty(), "{setup}: execute empties the pipeline");
            assert_eq!(
                replies,
                [
                    Value::Simple("OK".into()),
                    Value::Integer(2),
                    Value::Bulk("2".into()),
                    Value::Nil
                ],
                "{setup} transaction={transaction}"
            );
            // The same pipeline value is reusable.
            pipe.raw(["INCR", "a"]).raw(["GET", "a"]);
            let (n, text): (i64, String) = pipe.execute_typed().unwrap();
            assert_eq!((n, text.as_str()), (3, "3"), "{setup}");
        }
        assert!(client.pipeline().execute().unwrap().is_empty());
    });
}

#[test]
fn a_failing_command_keeps_its_place_and_the_others_their_replies() {
    each_setup(|client, setup| {
        for transaction in [true, false] {
            let mut pipe = client.pipeline();
            pipe.transaction(transaction)
                .raw(["SET", "s", "text"])
                .raw(["INCR", "s"])
                .raw(["GET", "s"]);
            let results = pipe.execute_results().unwrap();
            assert_eq!(results.len(), 3, "{setup}");
            assert_eq!(results[0].as_ref().unwrap(), &Value::Simple("OK".into()));
            let err = results[1].as_ref().unwrap_err();
            assert_eq!(err.code(), Some("ERR"), "{setup}: {err}");
            assert_eq!(err.server_error().unwrap().command(), Some("INCR"));
            assert_eq!(results[2].as_ref().unwrap(), &Value::Bulk("text".into()));

            // Raising on the first error still reads every reply: the connection stays clean.
            pipe.raw(["INCR", "s"]).raw(["SET", "after", "1"]);
            let err = pipe.execute().unwrap_err();
            assert_eq!(err.server_error().unwrap().command(), Some("INCR"));
            assert_eq!(
                client.query::<Option<String>>(["GET", "after"]).unwrap(),
                Some("1".into()),
                "{setup}: the command after the error ran"
            );
            pipe.raw(["INCR", "s"]).raw(["GET", "s"]);
            let err = pipe.execute_typed::<(i64, String)>().unwrap_err();
            assert_eq!(err.code(), Some("ERR"), "{setup}");
        }
        let stats = client.pool_stats().unwrap();
        assert_eq!(
            (stats.open, stats.idle),
            (1, 1),
            "{setup}: one clean connection"
        );
    });
}

#[test]
fn a_command_refused_while_queueing_aborts_the_transaction() {
    each_setup(|client, setup| {
        let mut pipe = client.pipeline();
        pipe.raw(["SET", "k", "1"])
            .raw(["NOSUCHCOMMAND", "x"])
            .raw(["INCR", "k"]);
        let err = pipe.execute().unwrap_err();
        assert_eq!(err.code(), Some("EXECABORT"), "{setup}: {err}");
        let text = err.to_string();
        assert!(
            text.contains("command #2") && text.contains("NOSUCHCOMMAND"),
            "{setup}: {text}"
        );
        assert_eq!(
            client.query::<Option<String>>(["GET", "k"]).unwrap(),
            None,
            "{setup}: nothing ran"
        );
        // Without a transaction the same commands run, the unknown one failing in place.
        pipe.transaction(false)
            .raw(["SET", "k", "1"])
            .raw(["NOSUCHCOMMAND", "x"])
            .raw(["INCR", "k"]);
        let results = pipe.execute_results().unwrap();
        assert!(results[1].is_err() && results[2].is_ok(), "{setup}");
        let stats = client.pool_stats().unwrap();
        assert_eq!((stats.open, stats.idle), (1, 1), "{setup}");
    });
}

#[test]
fn typed_commands_are_reshaped_the_same_in_both_protocols() {
    each_setup(|client, setup| {
        for transaction in [true, false] {
            client
                .execute(["HSET", "h", "f1", "v1", "f2", "v2"])
                .unwrap();
            let mut pipe = client.pipeline();
            pipe.transaction(transaction)
                .run(HGetAll("h"))
                .run(HGetAll("nope"))
                .raw(["HGETALL", "h"]);
            let replies = pipe.execute().unwrap();
            // The typed command's reply is a map whatever the protocol; the raw one is not
            // reshaped (a flat array under RESP2).
            assert!(
                matches!(&replies[0], Value::Map(pairs) if pairs.len() == 2),
                "{setup}: {replies:?}"
            );
            assert_eq!(replies[1], Value::Map(vec![]), "{setup}");
            pipe.run(HGetAll("h")).run(Del(vec!["h"]));
            let (map, deleted): (HashMap<String, String>, i64) = pipe.execute_typed().unwrap();
            assert_eq!(map["f2"], "v2", "{setup}");
            assert_eq!(deleted, 1);
        }
    });
}

#[test]
fn bad_arguments_fail_the_pipeline_before_anything_is_sent() {
    let server = Server::redis();
    let client = client(&server, Protocol::Resp3);
    let mut pipe = client.pipeline();
    pipe.raw(["SET", "x", "1"])
        .run(Del(vec![]))
        .raw(("SET", "y", f64::NAN));
    let err = pipe.execute().unwrap_err();
    assert!(
        matches!(&err, Error::Data(m) if m.contains("pipeline command #2") && m.contains("DEL")),
        "{err}"
    );
    assert_eq!(client.query::<Option<String>>(["GET", "x"]).unwrap(), None);
    // The next round starts afresh.
    pipe.raw(["SET", "x", "1"]);
    pipe.execute().unwrap();
    assert_eq!(
        client.query::<Option<String>>(["GET", "x"]).unwrap(),
        Some("1".into())
    );
}

#[test]
fn typed_results_check_the_arity_and_name_the_reply() {
    let server = Server::redis();
    let client = client(&server, Protocol::Resp2);
    let mut pipe = client.pipeline();
    pipe.raw(["SET", "a", "x"]).raw(["GET", "a"]);
    let err = pipe.execute_typed::<((), i64)>().unwrap_err();
    assert!(err.to_string().contains("reply #2 (GET)"), "{err}");
    pipe.raw(["PING"]);
    let err = pipe.execute_typed::<(String, String)>().unwrap_err();
    assert!(err.to_string().contains("gave 1 replies"), "{err}");
    pipe.raw(["RPUSH", "l", "a", "b"])
        .raw(["LRANGE", "l", "0", "-1"]);
    let all: Vec<Value> = pipe.execute_typed().unwrap();
    assert_eq!(all.len(), 2);
}

#[test]
fn response_callbacks_apply_in_pipelines() {
    let server = Server::redis();
    let mut client = client(&server, Protocol::Resp3);
    client.set_response_callback("GET", |v| {
        Ok(match v {
            Value::Nil => Value::Bulk("default".into()),
            other => other,
        })
    });
    let mut pipe = client.pipeline();
    pipe.transaction(false).raw(["GET", "nothing"]);
    assert_eq!(pipe.execute().unwrap(), [Value::Bulk("default".into())]);
}

#[test]
fn a_single_connection_client_pipelines_on_its_connection() {
    let server = Server::valkey();
    let config = Config::from_url(&server.url()).unwrap();
    let client = Client::single_connection(config).unwrap();
    let mut pipe = client.pipeline();
    pipe.raw(["SET", "a", "1"]).raw(["INCR", "a"]);
    let (_, n): ((), i64) = pipe.execute_typed().unwrap();
    assert_eq!(n, 2);
    drop(pipe);
    // The pipeline gave the connection back: the client is usable again.
    assert_eq!(client.query::<i64>(["INCR", "a"]).unwrap(), 3);
}

#[test]
fn the_generated_surface_chains_on_pipelines_and_runs_at_once_when_watching() {
    use redis_client::{cmd, Commands};

    each_setup(|client, setup| {
        let mut pipe = client.pipeline();
        pipe.set("a", 1).incr("a").get("a").hset("h", [("f", "v")]);
        pipe.run(cmd::Set::new("b", "x").get()).hgetall("h");
        let (set, n, a, added, old, h): (
            (),
            i64,
            Option<bytes::Bytes>,
            i64,
            Option<bytes::Bytes>,
            HashMap<String, String>,
        ) = pipe.execute_typed().unwrap();
        assert_eq!(set, ());
        assert_eq!(n, 2, "{setup}");
        assert_eq!(a.as_deref(), Some(&b"2"[..]));
        assert_eq!(added, 1);
        assert_eq!(old, None);
        assert_eq!(h["f"], "v", "{setup}");

        // Immediate mode: the same methods return their typed replies at once.
        let mut watched = pipe.watch(["a"]).unwrap();
        let a: Option<bytes::Bytes> = watched.get("a").unwrap();
        assert_eq!(a.as_deref(), Some(&b"2"[..]));
        let n = watched.incr("other").unwrap();
        assert_eq!(n, 1);
        watched.multi().unwrap().incr("a").incr("a");
        let counts: Vec<i64> = pipe.execute_typed().unwrap();
        assert_eq!(counts, [3, 4], "{setup}");
    });
}

#[test]
fn a_typed_pipeline_returns_each_commands_own_type() {
    use redis_client::Commands;

    each_setup(|client, setup| {
        client.execute(["HSET", "h", "f", "v"]).unwrap();
        for transaction in [true, false] {
            let (set, n, value, hash, raw) = client
                .typed_pipeline()
                .transaction(transaction)
                .set("a", 1)
                .incr("a")
                .get("a")
                .run(HGetAll("h"))
                .raw(["PING"])
                .execute()
                .unwrap();
            // The types come from the commands; these bindings only state them.
            let (_, n, value, hash, raw): (
                (),
                i64,
                Option<bytes::Bytes>,
                HashMap<String, String>,
                Value,
            ) = (set, n, value, hash, raw);
            assert_eq!(n, 2, "{setup}");
            assert_eq!(value.as_deref(), Some(&b"2"[..]));
            assert_eq!(hash["f"], "v");
            assert_eq!(raw, Value::Simple("PONG".into()));
        }
        let pipe = client.typed_pipeline().set("t", "text").incr("t");
        assert_eq!(pipe.len(), 2);
        let err = pipe.execute().unwrap_err();
        assert_eq!(
            err.server_error().unwrap().command(),
            Some("INCR"),
            "{setup}"
        );
    });
}
