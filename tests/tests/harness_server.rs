//! Spawning redis-server and valkey-server in their variants, checked with inline commands on the wire.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use redis_test_harness::{
    field, fields, Endpoint, RawConnection, Server, ServerCert, ServerKind, TlsAuthClients,
    OTHER_HOSTNAME,
};

const TIMEOUT: Duration = Duration::from_secs(5);

/// Sends inline commands on one connection and returns the first line of each reply.
fn inline<S: std::io::Read + Write>(stream: S, commands: &[&str]) -> Vec<String> {
    let mut reader = BufReader::new(stream);
    commands
        .iter()
        .map(|command| {
            let stream = reader.get_mut();
            stream
                .write_all(format!("{command}\r\n").as_bytes())
                .unwrap();
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            line.trim_end().to_string()
        })
        .collect()
}

fn inline_to(server: &Server, commands: &[&str]) -> Vec<String> {
    let stream = server.endpoint().unwrap().connect(TIMEOUT).unwrap();
    inline(stream, commands)
}

#[test]
fn redis_answers_ping_and_reports_its_id() {
    let server = Server::redis();
    assert_eq!(inline_to(&server, &["PING"]), ["+PONG"]);
    assert_eq!(server.kind(), ServerKind::Redis);
    assert!(
        server.server_id().starts_with("redis-7."),
        "{}",
        server.server_id()
    );
    assert_eq!(server.url(), format!("redis://127.0.0.1:{}", server.port()));
    assert_eq!(
        server.addr().to_string(),
        format!("127.0.0.1:{}", server.port())
    );
}

#[test]
fn valkey_answers_ping_and_reports_its_id() {
    let server = Server::valkey();
    assert_eq!(inline_to(&server, &["PING"]), ["+PONG"]);
    assert!(
        server.server_id().starts_with("valkey-"),
        "{}",
        server.server_id()
    );
    let config = std::fs::read_to_string(server.config_path()).unwrap();
    assert!(config.contains("save \"\""), "{config}");
}

#[test]
fn drop_stops_the_server_and_removes_its_dir() {
    let server = Server::redis();
    let (addr, dir) = (server.addr(), server.dir().to_path_buf());
    assert!(dir.join("server.conf").exists());
    drop(server);
    assert!(!dir.exists(), "{} still exists", dir.display());
    assert!(std::net::TcpStream::connect_timeout(&addr, TIMEOUT).is_err());
}

#[test]
fn two_servers_get_distinct_ports() {
    let (a, b) = (Server::redis(), Server::redis());
    assert_ne!(a.port(), b.port());
}

#[test]
fn ipv6_loopback() {
    let server = Server::builder(ServerKind::Redis).ipv6().start();
    assert_eq!(server.host().to_string(), "::1");
    assert_eq!(server.url(), format!("redis://[::1]:{}", server.port()));
    assert_eq!(inline_to(&server, &["PING"]), ["+PONG"]);
}

#[test]
fn unix_socket() {
    let server = Server::builder(ServerKind::Valkey).unix_socket().start();
    let path = server.unix_path().expect("unix socket configured");
    let stream = UnixStream::connect(path).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    assert_eq!(inline(stream, &["PING"]), ["+PONG"]);
    let endpoint = Endpoint::Unix(path.to_path_buf());
    assert_eq!(
        inline(endpoint.connect(TIMEOUT).unwrap(), &["PING"]),
        ["+PONG"]
    );
}

#[test]
fn requirepass_demands_auth() {
    let server = Server::builder(ServerKind::Redis)
        .requirepass("s3cret")
        .start();
    assert_eq!(server.password(), Some("s3cret"));
    let replies = inline_to(&server, &["PING", "AUTH wrong", "AUTH s3cret", "PING"]);
    assert!(replies[0].starts_with("-NOAUTH"), "{replies:?}");
    assert!(replies[1].starts_with("-WRONGPASS"), "{replies:?}");
    assert_eq!(replies[2..], ["+OK", "+PONG"]);
}

#[test]
fn acl_users() {
    let server = Server::builder(ServerKind::Valkey)
        .user("alice", "pw")
        .acl_user("bob on >bobpw ~bob:* +get")
        .start();
    let replies = inline_to(
        &server,
        &[
            "AUTH alice pw",
            "SET k v",
            "AUTH bob bobpw",
            "SET bob:k v",
            "GET bob:k",
        ],
    );
    assert_eq!(replies[..2], ["+OK", "+OK"]);
    assert_eq!(replies[2], "+OK");
    assert!(replies[3].starts_with("-NOPERM"), "{replies:?}");
    assert_eq!(replies[4], "$-1");
}

#[test]
fn extra_config_lines_apply() {
    let server = Server::builder(ServerKind::Redis)
        .config("maxmemory 12345678")
        .start();
    let mut conn = RawConnection::connect_to(&server).unwrap();
    let reply = conn.call_ok(&["CONFIG", "GET", "maxmemory"]).unwrap();
    assert_eq!(field(&fields(&reply), "maxmemory"), Some("12345678"));
    let reply = conn.call_ok(&["CONFIG", "GET", "save"]).unwrap();
    assert_eq!(field(&fields(&reply), "save"), Some(""));
}

#[test]
fn restart_keeps_the_port() {
    let mut server = Server::redis();
    let port = server.port();
    server.kill();
    assert!(!server.is_running());
    assert!(server.endpoint().unwrap().connect(TIMEOUT).is_err());
    server.restart().unwrap();
    assert!(server.is_running());
    assert_eq!(server.port(), port);
    assert_eq!(inline_to(&server, &["PING"]), ["+PONG"]);
}

#[test]
fn tls_server_with_optional_client_certs() {
    let server = Server::builder(ServerKind::Redis).tls().start();
    let files = server.tls().expect("tls configured");
    assert!(files.ca_cert().exists() && files.client_key().exists());
    assert_eq!(
        server.url(),
        format!("rediss://127.0.0.1:{}", server.port())
    );
    // With the client certificate (the harness's own connector).
    assert_eq!(inline_to(&server, &["PING"]), ["+PONG"]);
    // Without one: allowed under `tls-auth-clients optional`.
    let ca = std::fs::read(files.ca_cert()).unwrap();
    let connector = native_tls::TlsConnector::builder()
        .add_root_certificate(native_tls::Certificate::from_pem(&ca).unwrap())
        .build()
        .unwrap();
    let endpoint = Endpoint::Tls {
        addr: server.addr(),
        domain: "localhost".into(),
        connector,
    };
    assert_eq!(
        inline(endpoint.connect(TIMEOUT).unwrap(), &["PING"]),
        ["+PONG"]
    );
    // Plain text on the TLS port gets no PONG.
    let plain = Endpoint::Tcp(server.addr()).connect(TIMEOUT).unwrap();
    let mut reader = BufReader::new(plain);
    reader.get_mut().write_all(b"PING\r\n").unwrap();
    let mut line = String::new();
    let _ = reader.read_line(&mut line);
    assert!(!line.starts_with("+PONG"), "{line:?}");
}

#[test]
fn tls_server_requiring_client_certs_rejects_anonymous_clients() {
    let server = Server::builder(ServerKind::Redis)
        .tls_auth_clients(TlsAuthClients::Yes)
        .start();
    assert_eq!(inline_to(&server, &["PING"]), ["+PONG"]);
    let ca = std::fs::read(server.tls().unwrap().ca_cert()).unwrap();
    let connector = native_tls::TlsConnector::builder()
        .add_root_certificate(native_tls::Certificate::from_pem(&ca).unwrap())
        .build()
        .unwrap();
    let endpoint = Endpoint::Tls {
        addr: server.addr(),
        domain: "localhost".into(),
        connector,
    };
    // TLS 1.3 may finish the client side of the handshake before the server rejects it,
    // so the refusal shows up either at connect or at the first read.
    let refused = match endpoint.connect(TIMEOUT) {
        Err(_) => true,
        Ok(stream) => {
            let mut reader = BufReader::new(stream);
            let _ = reader.get_mut().write_all(b"PING\r\n");
            let mut line = String::new();
            reader.read_line(&mut line).is_err() || line.is_empty()
        }
    };
    assert!(refused, "a client without a certificate was served");
}

#[test]
fn tls_other_host_certificate_fails_hostname_verification() {
    let server = Server::builder(ServerKind::Redis)
        .tls_server_cert(ServerCert::OtherHost)
        .start();
    assert_eq!(server.tls_hostname(), Some(OTHER_HOSTNAME));
    // The harness verified it as other.example while starting it.
    assert_eq!(inline_to(&server, &["PING"]), ["+PONG"]);
    let endpoint = Endpoint::Tls {
        addr: server.addr(),
        domain: "localhost".into(),
        connector: server.tls().unwrap().connector().unwrap(),
    };
    let err = endpoint.connect(TIMEOUT).unwrap_err();
    assert!(err.to_string().contains("TLS handshake"), "{err}");
}
