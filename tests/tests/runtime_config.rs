//! Every URL form gives the same `Config` as the builder; bad URLs name the bad parameter;
//! no password shows up in any `Debug` or `Display`.

use std::time::Duration;

use redis_client::{Client, Config, Error, Protocol, TlsConfig};

#[test]
fn url_forms_equal_their_builder_configs() {
    let cases: Vec<(&str, Config)> = vec![
        (
            "redis://localhost",
            Config::builder().host("localhost").build().unwrap(),
        ),
        (
            "redis://127.0.0.1:6380/2",
            Config::builder()
                .host("127.0.0.1")
                .port(6380)
                .db(2)
                .build()
                .unwrap(),
        ),
        (
            "redis://:pw@h",
            Config::builder().host("h").password("pw").build().unwrap(),
        ),
        (
            "redis://user:p%23w@h/1?db=9",
            Config::builder()
                .host("h")
                .username("user")
                .password("p#w")
                .db(9)
                .build()
                .unwrap(),
        ),
        (
            "redis://[::1]:7000?protocol=2&client_name=app&max_connections=8",
            Config::builder()
                .host("::1")
                .port(7000)
                .protocol(Protocol::Resp2)
                .client_name("app")
                .max_connections(8)
                .build()
                .unwrap(),
        ),
        (
            "redis://h?socket_timeout=1.5&socket_connect_timeout=0.25&retry_on_timeout=true&health_check_interval=10&decode_responses=yes",
            Config::builder()
                .host("h")
                .socket_timeout(Duration::from_millis(1500))
                .connect_timeout(Duration::from_millis(250))
                .retry_on_timeout(true)
                .health_check_interval(Duration::from_secs(10))
                .decode_responses(true)
                .build()
                .unwrap(),
        ),
        (
            "rediss://h:6390?ssl_cert_reqs=required&ssl_ca_certs=%2Fetc%2Fca.pem&ssl_certfile=/c.pem&ssl_keyfile=/k.pem",
            Config::builder()
                .host("h")
                .port(6390)
                .tls(
                    TlsConfig::new()
                        .ca_certs("/etc/ca.pem")
                        .client_cert("/c.pem", "/k.pem"),
                )
                .build()
                .unwrap(),
        ),
        (
            "rediss://h?ssl_cert_reqs=none&ssl_check_hostname=false",
            Config::builder()
                .host("h")
                .tls(
                    TlsConfig::new()
                        .danger_accept_invalid_certs(true)
                        .danger_accept_invalid_hostnames(true),
                )
                .build()
                .unwrap(),
        ),
        (
            "unix:///run/redis.sock",
            Config::builder().unix("/run/redis.sock").build().unwrap(),
        ),
        (
            "unix://u:pw@/run/redis%20x.sock?db=3&protocol=3",
            Config::builder()
                .unix("/run/redis x.sock")
                .username("u")
                .password("pw")
                .db(3)
                .protocol(Protocol::Resp3)
                .build()
                .unwrap(),
        ),
        (
            "valkey://h:1234",
            Config::builder().host("h").port(1234).build().unwrap(),
        ),
    ];
    for (url, built) in cases {
        assert_eq!(Config::from_url(url).unwrap(), built, "{url}");
        assert_eq!(url.parse::<Config>().unwrap(), built, "{url}");
    }
}

#[test]
fn bad_urls_name_the_parameter() {
    for (url, param) in [
        ("redis://h?db=one", "db"),
        ("redis://h?protocol=5", "protocol"),
        ("redis://h?socket_timeout=fast", "socket_timeout"),
        ("redis://h?max_connections=0", "max_connections"),
        ("redis://h?not_a_thing=1", "not_a_thing"),
        ("redis://h:port", "port"),
        ("ftp://h", "scheme"),
        ("redis://h?ssl_ca_certs=/ca.pem", "ssl_ca_certs"),
        ("rediss://h?ssl_keyfile=/k.pem", "ssl_certfile"),
        ("unix://", "path"),
    ] {
        match Config::from_url(url) {
            Err(Error::Config { param: got, .. }) => assert_eq!(got, param, "{url}"),
            other => panic!("{url}: expected a config error for {param}, got {other:?}"),
        }
        assert!(Client::open(url).is_err(), "{url}");
    }
}

#[test]
fn passwords_never_appear_in_debug_or_display() {
    let secret = "Sup3rS3cretValue";
    let url = format!("redis://alice:{secret}@127.0.0.1:1/0?socket_connect_timeout=0.2");
    let config = Config::from_url(&url).unwrap();
    let client = Client::open(&url).unwrap();
    // Connecting fails (nothing listens on port 1); the error must not carry the password.
    let err = client.execute(["PING"]).unwrap_err();
    let texts = [
        format!("{config:?}"),
        format!("{:?}", config.to_builder()),
        format!("{client:?}"),
        format!("{err} {err:?}"),
        format!(
            "{:?}",
            Config::from_url(&format!("{url}&bogus=1")).unwrap_err()
        ),
        format!(
            "{}",
            Config::from_url(&format!("{url}&bogus=1")).unwrap_err()
        ),
    ];
    for text in texts {
        assert!(!text.contains(secret), "{text}");
    }
}
