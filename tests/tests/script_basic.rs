//! Lua scripts against real servers: EVALSHA with NOSCRIPT recovery (first use, SCRIPT FLUSH,
//! another server), scripts in pipelines on a fresh server, on connections and watching
//! pipelines; and Redis functions through the generated surface.

use bytes::Bytes;
use redis_client::{cmd, Client, Commands, Error, Executor, FromValue, Protocol, Script, Value};
use redis_test_harness::{client, Server};

fn each_setup(mut f: impl FnMut(&Client, &str)) {
    for server in [Server::redis(), Server::valkey()] {
        for protocol in [Protocol::Resp2, Protocol::Resp3] {
            let client = client(&server, protocol);
            f(&client, &format!("{} {protocol:?}", server.server_id()));
        }
    }
}

const INCR_BY: &str = "return redis.call('INCRBY', KEYS[1], ARGV[1])";
const PAIR: &str = "return {KEYS[1], ARGV[1], #KEYS, #ARGV}";

fn cached(client: &Client, script: &Script) -> bool {
    let exists: Vec<bool> = client.query(("SCRIPT", "EXISTS", script.sha())).unwrap();
    exists[0]
}

#[test]
fn the_digest_is_the_servers() {
    let server = Server::redis();
    let client = client(&server, Protocol::Resp3);
    for source in [INCR_BY, PAIR, "return 1", "-- é ünïcode\nreturn 'ok'"] {
        let script = client.register_script(source);
        let sha: String = client.query(("SCRIPT", "LOAD", source)).unwrap();
        assert_eq!(script.sha(), sha);
    }
}

#[test]
fn a_call_loads_the_script_when_the_server_lacks_it_and_survives_script_flush() {
    each_setup(|client, setup| {
        client.execute(["SCRIPT", "FLUSH"]).unwrap();
        client.execute(["DEL", "n"]).unwrap();
        let script = client.register_script(INCR_BY);
        assert!(!cached(client, &script), "{setup}");
        let n: i64 = script.key("n").arg(5).call(client).unwrap();
        assert_eq!(n, 5, "{setup}");
        assert!(cached(client, &script), "{setup}: loaded on NOSCRIPT");
        client.execute(["SCRIPT", "FLUSH"]).unwrap();
        let n: i64 = script.key("n").arg(2).call(client).unwrap();
        assert_eq!(n, 7, "{setup}: reloaded after SCRIPT FLUSH");

        // Keys and arguments: lists add several, the key count is computed.
        let pair = client.register_script(PAIR);
        let (k, a, nkeys, nargs): (String, String, i64, i64) = pair
            .key(["k1", "k2"])
            .arg("a1")
            .arg([1, 2])
            .call(client)
            .unwrap();
        assert_eq!(
            (k.as_str(), a.as_str(), nkeys, nargs),
            ("k1", "a1", 2, 3),
            "{setup}"
        );
        let none: Option<String> = client.register_script("return nil").call(client).unwrap();
        assert_eq!(none, None);
    });
}

#[test]
fn one_script_value_runs_on_clients_of_different_servers() {
    let redis = Server::redis();
    let valkey = Server::valkey();
    let a = client(&redis, Protocol::Resp2);
    let b = client(&valkey, Protocol::Resp3);
    let script = Script::new(INCR_BY);
    for _ in 0..2 {
        assert_eq!(script.key("x").arg(1).call::<i64>(&a).unwrap(), {
            a.query::<i64>(["GET", "x"]).unwrap()
        });
        let n: i64 = script.key("x").arg(10).call(&b).unwrap();
        assert_eq!(n % 10, 0);
    }
    assert_eq!(a.query::<i64>(["GET", "x"]).unwrap(), 2);
    assert_eq!(b.query::<i64>(["GET", "x"]).unwrap(), 20);
}

#[test]
fn scripts_in_a_pipeline_are_loaded_before_it_is_sent_on_a_fresh_server() {
    for transaction in [true, false] {
        for protocol in [Protocol::Resp2, Protocol::Resp3] {
            // A fresh server: the script cache is empty.
            let server = Server::redis();
            let client = client(&server, protocol);
            let incr_by = client.register_script(INCR_BY);
            let pair = client.register_script(PAIR);
            let mut pipe = client.pipeline();
            pipe.transaction(transaction);
            incr_by.key("n").arg(3).queue(&mut pipe);
            pipe.raw(["GET", "n"]);
            incr_by.key("n").arg(4).queue(&mut pipe);
            pair.key("k").arg("v").queue(&mut pipe);
            let (a, text, b, p): (i64, String, i64, Vec<Value>) = pipe.execute_typed().unwrap();
            assert_eq!(
                (a, text.as_str(), b),
                (3, "3", 7),
                "{protocol:?} {transaction}"
            );
            assert_eq!(p.len(), 4);
            assert!(cached(&client, &incr_by) && cached(&client, &pair));

            // Flushed between pipelines: loaded again.
            client.execute(["SCRIPT", "FLUSH"]).unwrap();
            incr_by.key("n").arg(1).queue(&mut pipe);
            assert_eq!(pipe.execute().unwrap(), [Value::Integer(8)]);
        }
    }
}

#[test]
fn scripts_run_on_connections_and_on_a_watching_pipeline() {
    let server = Server::valkey();
    let client = client(&server, Protocol::Resp3);
    let script = client.register_script(INCR_BY);
    let mut conn = client.get_connection().unwrap();
    let n: i64 = script.key("c").arg(1).call(&mut conn).unwrap();
    assert_eq!(n, 1);
    let n: i64 = script.key("c").arg(1).call(&mut *conn).unwrap();
    assert_eq!(n, 2);
    drop(conn);

    let mut pipe = client.pipeline();
    let mut watched = pipe.watch(["c"]).unwrap();
    // Immediate mode: the script runs now, on the watching connection. (A write to a watched
    // key would abort the transaction even from this connection, so it only reads.)
    let read = client.register_script("return redis.call('GET', KEYS[1])");
    let n: i64 = read.key("c").call(&mut watched).unwrap();
    assert_eq!(n, 2);
    let pipe = watched.multi().unwrap();
    script.key("c").arg(110).queue(pipe);
    assert_eq!(pipe.execute().unwrap(), [Value::Integer(112)]);
}

#[test]
fn script_errors_name_the_command_and_keep_the_server_message() {
    let server = Server::redis();
    let client = client(&server, Protocol::Resp2);
    client.execute(["SET", "s", "text"]).unwrap();
    let script = client.register_script(INCR_BY);
    let err = script.key("s").arg(1).call::<i64>(&client).unwrap_err();
    assert_eq!(
        err.server_error().unwrap().command(),
        Some("EVALSHA"),
        "{err}"
    );
    assert!(err.to_string().contains("not an integer"), "{err}");
    let err = client
        .register_script("this is not lua")
        .call::<Value>(&client)
        .unwrap_err();
    assert!(matches!(err, Error::Response(_)), "{err:?}");
    assert!(err.to_string().contains("compiling"), "{err}");
    // In a pipeline, a script that cannot be loaded fails the pipeline before it is sent.
    let mut pipe = client.pipeline();
    pipe.raw(["SET", "untouched", "1"]);
    client.register_script("nope nope").queue(&mut pipe);
    assert!(pipe.execute().is_err());
    assert_eq!(
        client
            .query::<Option<String>>(["GET", "untouched"])
            .unwrap(),
        None
    );
}

const LIBRARY: &str = "#!lua name=mylib\n\
    redis.register_function('incr_by', function(keys, args) \
        return redis.call('INCRBY', keys[1], args[1]) end)\n\
    redis.register_function{function_name='peek', \
        callback=function(keys, args) return redis.call('GET', keys[1]) end, \
        flags={'no-writes'}}";

#[test]
fn functions_load_list_call_dump_restore_delete_and_flush() {
    each_setup(|client, setup| {
        client.function_flush().unwrap();
        client.execute(["DEL", "f"]).unwrap();
        let name = client.function_load(LIBRARY).unwrap();
        assert_eq!(name, "mylib", "{setup}");
        let err = client.function_load(LIBRARY).unwrap_err();
        assert!(err.to_string().contains("already exists"), "{setup}: {err}");
        client
            .run(cmd::FunctionLoad::new(LIBRARY).replace())
            .unwrap();

        let libraries = client.function_list().unwrap();
        assert_eq!(libraries.len(), 1, "{setup}");
        let library = &libraries[0];
        assert_eq!(
            String::from_value(library["library_name"].clone()).unwrap(),
            "mylib"
        );
        let functions = library["functions"].as_array().unwrap();
        assert_eq!(functions.len(), 2, "{setup}");
        let with_code = client
            .run(cmd::FunctionList::new().libraryname("my*").withcode())
            .unwrap();
        assert!(with_code[0].contains_key("library_code"), "{setup}");

        let n = client
            .run(cmd::Fcall::new("incr_by").key(["f"]).arg([5]))
            .unwrap();
        assert_eq!(n, Value::Integer(5), "{setup}");
        let peek = client.run(cmd::FcallRo::new("peek").key(["f"])).unwrap();
        assert_eq!(String::from_value(peek).unwrap(), "5");
        let err = client
            .run(cmd::FcallRo::new("incr_by").key(["f"]).arg([1]))
            .unwrap_err();
        assert!(
            err.code().is_some(),
            "{setup}: a writing function refused by FCALL_RO"
        );

        // In a pipeline, as a transaction.
        let mut pipe = client.pipeline();
        pipe.run(cmd::Fcall::new("incr_by").key(["f"]).arg([1]))
            .run(cmd::FcallRo::new("peek").key(["f"]));
        let (n, peek): (i64, String) = pipe.execute_typed().unwrap();
        assert_eq!((n, peek.as_str()), (6, "6"), "{setup}");

        let dump: Bytes = client.function_dump().unwrap();
        client.function_delete("mylib").unwrap();
        assert!(client.function_list().unwrap().is_empty(), "{setup}");
        assert!(client.fcall("peek").is_err());
        client.function_restore(dump.clone()).unwrap();
        let peek = client.run(cmd::FcallRo::new("peek").key(["f"])).unwrap();
        assert_eq!(String::from_value(peek).unwrap(), "6", "{setup}: restored");
        client.function_flush().unwrap();
        assert!(client.function_list().unwrap().is_empty(), "{setup}");
    });
}
