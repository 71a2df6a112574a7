//! Parsing `redis://`, `rediss://` and `unix://` URLs into a [`Config`].
//!
//! Error messages name the URL part or query parameter and may quote its value, except for
//! passwords, whose value is never repeated.

use std::path::PathBuf;
use std::time::Duration;

use super::{Config, ConfigBuilder, Protocol, TlsConfig};
use crate::error::{Error, Result};

enum Scheme {
    Tcp { tls: bool },
    Unix,
}

/// A URL cut into its parts; nothing is decoded yet.
struct Parts<'u> {
    scheme: Scheme,
    /// `user:password` before the last `@`, if any.
    userinfo: Option<&'u str>,
    /// `host:port` (empty for `unix://`).
    hostport: &'u str,
    /// From the first `/` after the authority on (the database, or the socket path).
    path: &'u str,
    query: Option<&'u str>,
}

/// A username and password, from the authority or from the query.
#[derive(Default)]
struct Credentials {
    user: Option<String>,
    password: Option<String>,
}

/// What the query parameters set besides the builder's plain settings.
#[derive(Default)]
struct QueryExtras {
    credentials: Credentials,
    tls: Option<TlsConfig>,
}

pub(super) fn parse(url: &str) -> Result<Config> {
    let parts = split(url)?;
    let (mut builder, tls) = address(Config::builder(), &parts)?;
    let from_authority = userinfo(parts.userinfo)?;
    let mut extras = QueryExtras {
        tls,
        ..QueryExtras::default()
    };
    let params = parts
        .query
        .map(parse_query)
        .transpose()?
        .unwrap_or_default();
    for (name, value) in params {
        builder = apply_param(builder, &mut extras, name, value)?;
    }
    finish(builder, from_authority, extras)
}

/// Cuts `url` into scheme, user info, host and port, path and query.
fn split(url: &str) -> Result<Parts<'_>> {
    let (scheme, rest) = url.split_once("://").ok_or_else(|| {
        Error::config(
            "url",
            "expected scheme://…, e.g. redis://host:6379/0 or unix:///path/to.sock",
        )
    })?;
    let scheme = scheme_of(scheme)?;
    if rest.contains('#') {
        return Err(Error::config(
            "url",
            "a #fragment is not allowed (percent-encode '#' in a password as %23)",
        ));
    }
    let (rest, query) = match rest.split_once('?') {
        Some((rest, query)) => (rest, Some(query)),
        None => (rest, None),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    // The last '@' ends the user info, so an unencoded '@' in a password still parses.
    let (userinfo, hostport) = match authority.rfind('@') {
        Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
        None => (None, authority),
    };
    Ok(Parts {
        scheme,
        userinfo,
        hostport,
        path,
        query,
    })
}

fn scheme_of(scheme: &str) -> Result<Scheme> {
    Ok(match scheme.to_ascii_lowercase().as_str() {
        "redis" | "valkey" => Scheme::Tcp { tls: false },
        "rediss" | "valkeys" => Scheme::Tcp { tls: true },
        "unix" => Scheme::Unix,
        other => {
            return Err(Error::config(
                "scheme",
                format!("unsupported scheme {other:?}; expected redis, rediss or unix"),
            ))
        }
    })
}

/// Where to connect: host, port and database (and TLS for `rediss://`), or the socket path.
fn address(
    mut builder: ConfigBuilder,
    parts: &Parts<'_>,
) -> Result<(ConfigBuilder, Option<TlsConfig>)> {
    match parts.scheme {
        Scheme::Tcp { tls } => {
            let (host, port) = parse_hostport(parts.hostport)?;
            builder = builder.host(host);
            if let Some(port) = port {
                builder = builder.port(port);
            }
            if let Some(db) = parse_path_db(parts.path)? {
                builder = builder.db(db);
            }
            Ok((builder, tls.then(TlsConfig::new)))
        }
        Scheme::Unix => {
            if !parts.hostport.is_empty() {
                return Err(Error::config(
                    "host",
                    "a unix:// URL has no host; write unix:///absolute/path.sock",
                ));
            }
            let path = decode(parts.path, "path")?;
            if path.is_empty() || path == "/" {
                return Err(Error::config("path", "the Unix socket path is empty"));
            }
            Ok((builder.unix(PathBuf::from(path)), None))
        }
    }
}

/// The username and password of `user:password@`, percent-decoded; empty ones count as unset.
fn userinfo(userinfo: Option<&str>) -> Result<Credentials> {
    let Some(userinfo) = userinfo else {
        return Ok(Credentials::default());
    };
    let (user, password) = match userinfo.split_once(':') {
        Some((user, password)) => (user, Some(password)),
        None => (userinfo, None),
    };
    let password = match password {
        Some(password) => Some(decode(password, "password")?).filter(|p| !p.is_empty()),
        None => None,
    };
    Ok(Credentials {
        user: Some(decode(user, "username")?).filter(|u| !u.is_empty()),
        password,
    })
}

/// Applies one query parameter: a builder setting, a credential, or a TLS setting.
fn apply_param(
    builder: ConfigBuilder,
    extras: &mut QueryExtras,
    name: String,
    value: String,
) -> Result<ConfigBuilder> {
    Ok(match name.as_str() {
        "db" => builder.db(parse_number(&name, &value)?),
        "protocol" => builder.protocol(match value.as_str() {
            "2" => Protocol::Resp2,
            "3" => Protocol::Resp3,
            _ => return Err(bad_value(&name, &value, "expected 2 or 3")),
        }),
        "socket_timeout" => builder.socket_timeout(parse_seconds(&name, &value, false)?),
        "socket_connect_timeout" => builder.connect_timeout(parse_seconds(&name, &value, false)?),
        "socket_keepalive" => {
            if parse_bool(&name, &value)? {
                return Err(Error::config(
                    name,
                    "SO_KEEPALIVE cannot be enabled: the standard library has no setter for it \
                     and this crate uses neither unsafe code nor a socket crate",
                ));
            }
            builder
        }
        "retry_on_timeout" => builder.retry_on_timeout(parse_bool(&name, &value)?),
        "health_check_interval" => {
            builder.health_check_interval(parse_seconds(&name, &value, true)?)
        }
        "client_name" => builder.client_name(value),
        "max_connections" => builder.max_connections(parse_number(&name, &value)?),
        "decode_responses" => builder.decode_responses(parse_bool(&name, &value)?),
        "multiplexed" => builder.multiplexed(parse_bool(&name, &value)?),
        "username" => {
            extras.credentials.user = Some(value);
            builder
        }
        "password" => {
            extras.credentials.password = Some(value);
            builder
        }
        "ssl_cert_reqs" | "ssl_ca_certs" | "ssl_certfile" | "ssl_keyfile"
        | "ssl_check_hostname" => {
            let Some(tls) = extras.tls.take() else {
                return Err(Error::config(name, "TLS parameters need a rediss:// URL"));
            };
            extras.tls = Some(apply_tls_param(tls, &name, value)?);
            builder
        }
        _ => return Err(Error::config(name, "unknown URL parameter")),
    })
}

/// Sets the credentials and TLS, then builds (which checks the whole).
fn finish(
    mut builder: ConfigBuilder,
    from_authority: Credentials,
    extras: QueryExtras,
) -> Result<Config> {
    // As in redis-py, credentials in the authority win over those in the query.
    if let Some(user) = from_authority.user.or(extras.credentials.user) {
        builder = builder.username(user);
    }
    if let Some(password) = from_authority.password.or(extras.credentials.password) {
        builder = builder.password(password);
    }
    if let Some(tls) = extras.tls {
        builder = builder.tls(tls);
    }
    builder.build()
}

fn apply_tls_param(tls: TlsConfig, name: &str, value: String) -> Result<TlsConfig> {
    Ok(match name {
        "ssl_cert_reqs" => match value.to_ascii_lowercase().as_str() {
            // In client mode Python treats CERT_OPTIONAL like CERT_REQUIRED; so do we.
            "required" | "optional" => tls.danger_accept_invalid_certs(false),
            "none" => tls.danger_accept_invalid_certs(true),
            _ => {
                return Err(bad_value(
                    name,
                    &value,
                    "expected none, optional or required",
                ))
            }
        },
        "ssl_ca_certs" => tls.ca_certs(non_empty_path(name, value)?),
        "ssl_check_hostname" => {
            let check = parse_bool(name, &value)?;
            tls.danger_accept_invalid_hostnames(!check)
        }
        "ssl_certfile" => {
            let mut tls = tls;
            tls.set_certfile(non_empty_path(name, value)?);
            tls
        }
        _ => {
            let mut tls = tls;
            tls.set_keyfile(non_empty_path(name, value)?);
            tls
        }
    })
}

fn non_empty_path(name: &str, value: String) -> Result<PathBuf> {
    if value.is_empty() {
        return Err(Error::config(name, "the path is empty"));
    }
    Ok(PathBuf::from(value))
}

fn parse_hostport(hostport: &str) -> Result<(String, Option<u16>)> {
    let (host, port) = if let Some(inner) = hostport.strip_prefix('[') {
        let (host, after) = inner.split_once(']').ok_or_else(|| {
            Error::config("host", "an IPv6 address opened with '[' lacks its ']'")
        })?;
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':').ok_or_else(|| {
                Error::config(
                    "host",
                    format!("unexpected {after:?} after the IPv6 address"),
                )
            })?),
        };
        (host.to_owned(), port)
    } else {
        let (host, port) = match hostport.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (hostport, None),
        };
        if host.contains(':') {
            return Err(Error::config(
                "host",
                "IPv6 addresses must be written in brackets, e.g. redis://[::1]:6379",
            ));
        }
        (decode(host, "host")?, port)
    };
    let port = match port {
        None => None,
        Some(text) => match text.parse::<u16>() {
            Ok(port) if port != 0 => Some(port),
            _ => {
                return Err(bad_value(
                    "port",
                    text,
                    "expected a number between 1 and 65535",
                ))
            }
        },
    };
    let host = if host.is_empty() {
        "localhost".to_owned()
    } else {
        host
    };
    Ok((host, port))
}

fn parse_path_db(path: &str) -> Result<Option<u32>> {
    let text = decode(path, "db")?;
    let digits = text.trim_start_matches('/');
    if digits.is_empty() {
        return Ok(None);
    }
    parse_number("db", digits).map(Some)
}

fn parse_query(query: &str) -> Result<Vec<(String, String)>> {
    let mut params: Vec<(String, String)> = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair
            .split_once('=')
            .ok_or_else(|| Error::config(pair, "a URL parameter needs a value (name=value)"))?;
        let name = decode_query(name, "url parameter name")?;
        let value = decode_query(value, &name)?;
        if params.iter().any(|(seen, _)| *seen == name) {
            return Err(Error::config(name, "given more than once"));
        }
        params.push((name, value));
    }
    Ok(params)
}

fn decode_query(text: &str, what: &str) -> Result<String> {
    // Query strings encode spaces as '+' (as parse_qs reads them).
    decode(&text.replace('+', " "), what)
}

/// Percent-decodes `text`; `what` names the URL part in the error, never its value.
fn decode(text: &str, what: &str) -> Result<String> {
    if !text.contains('%') {
        return Ok(text.to_owned());
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).and_then(|h| {
                let h = std::str::from_utf8(h).ok()?;
                u8::from_str_radix(h, 16).ok()
            });
            let Some(byte) = hex else {
                return Err(Error::config(
                    what,
                    "invalid percent-encoding ('%' must be followed by two hex digits)",
                ));
            };
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out)
        .map_err(|_| Error::config(what, "percent-encoding does not decode to UTF-8"))
}

fn bad_value(name: &str, value: &str, expected: &str) -> Error {
    Error::config(name, format!("invalid value {value:?}: {expected}"))
}

fn parse_number<T: std::str::FromStr>(name: &str, value: &str) -> Result<T> {
    value
        .parse()
        .map_err(|_| bad_value(name, value, "expected a non-negative integer"))
}

fn parse_bool(name: &str, value: &str) -> Result<bool> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "y" | "on" => Ok(true),
        "0" | "false" | "no" | "n" | "off" => Ok(false),
        _ => Err(bad_value(name, value, "expected true or false")),
    }
}

fn parse_seconds(name: &str, value: &str, zero_allowed: bool) -> Result<Duration> {
    let seconds: f64 = value
        .parse()
        .map_err(|_| bad_value(name, value, "expected a number of seconds"))?;
    match Duration::try_from_secs_f64(seconds) {
        Ok(d) if zero_allowed || !d.is_zero() => Ok(d),
        _ => Err(bad_value(
            name,
            value,
            if zero_allowed {
                "expected zero or a positive number of seconds"
            } else {
                "expected a positive number of seconds"
            },
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConnectionAddr;

    fn param_of(url: &str) -> String {
        match Config::from_url(url) {
            Err(Error::Config { param, .. }) => param,
            other => panic!("{url}: expected a config error, got {other:?}"),
        }
    }

    #[test]
    fn tcp_url_with_everything() {
        let c = Config::from_url("redis://al%40ice:p%3Ass@example.com:7000/3?protocol=2").unwrap();
        assert_eq!(
            c.addr(),
            &ConnectionAddr::Tcp {
                host: "example.com".into(),
                port: 7000
            }
        );
        assert_eq!(c.username(), Some("al@ice"));
        assert_eq!(c.password().unwrap().expose(), "p:ss");
        assert_eq!(c.db(), 3);
        assert_eq!(c.protocol(), Protocol::Resp2);
        assert!(c.tls().is_none());
    }

    #[test]
    fn defaults_and_ipv6() {
        let c = Config::from_url("redis://").unwrap();
        assert_eq!(c, Config::default());
        let c = Config::from_url("redis://[::1]:6380").unwrap();
        assert_eq!(
            c.addr(),
            &ConnectionAddr::Tcp {
                host: "::1".into(),
                port: 6380
            }
        );
        let c = Config::from_url("redis://[::1]/2").unwrap();
        assert_eq!(c.db(), 2);
        assert_eq!(param_of("redis://::1:6379"), "host");
        assert_eq!(param_of("redis://[::1"), "host");
    }

    #[test]
    fn password_only_and_raw_at_sign() {
        let c = Config::from_url("redis://:p@ss@localhost").unwrap();
        assert_eq!(c.username(), None);
        assert_eq!(c.password().unwrap().expose(), "p@ss");
    }

    #[test]
    fn query_db_wins_over_path_and_authority_wins_over_query() {
        let c = Config::from_url("redis://u:pw@h/1?db=5&username=x&password=y").unwrap();
        assert_eq!(c.db(), 5);
        assert_eq!(c.username(), Some("u"));
        assert_eq!(c.password().unwrap().expose(), "pw");
        let c = Config::from_url("redis://h?username=x&password=y").unwrap();
        assert_eq!(c.username(), Some("x"));
        assert_eq!(c.password().unwrap().expose(), "y");
    }

    #[test]
    fn unix_urls() {
        let c = Config::from_url("unix:///tmp/my%20redis.sock?db=4").unwrap();
        assert_eq!(c.addr(), &ConnectionAddr::Unix("/tmp/my redis.sock".into()));
        assert_eq!(c.db(), 4);
        let c = Config::from_url("unix://bob:secret@/run/redis.sock").unwrap();
        assert_eq!(c.username(), Some("bob"));
        assert_eq!(c.password().unwrap().expose(), "secret");
        assert_eq!(param_of("unix://host/run/redis.sock"), "host");
        assert_eq!(param_of("unix://"), "path");
        assert_eq!(param_of("unix:///x.sock?ssl_ca_certs=/a"), "ssl_ca_certs");
    }

    #[test]
    fn tls_parameters() {
        let c = Config::from_url(
            "rediss://h:6390?ssl_ca_certs=/ca.pem&ssl_certfile=/c.pem&ssl_keyfile=/k.pem&ssl_check_hostname=false",
        )
        .unwrap();
        let tls = c.tls().unwrap();
        assert_eq!(tls.ca_certs_path(), Some(std::path::Path::new("/ca.pem")));
        assert_eq!(tls.certfile(), Some(std::path::Path::new("/c.pem")));
        assert!(tls.accepts_invalid_hostnames());
        assert!(!tls.accepts_invalid_certs());
        let c = Config::from_url("rediss://h?ssl_cert_reqs=none").unwrap();
        assert!(c.tls().unwrap().accepts_invalid_certs());
        assert_eq!(param_of("rediss://h?ssl_cert_reqs=maybe"), "ssl_cert_reqs");
        assert_eq!(param_of("rediss://h?ssl_certfile=/c.pem"), "ssl_keyfile");
        assert_eq!(
            param_of("redis://h?ssl_check_hostname=false"),
            "ssl_check_hostname"
        );
    }

    #[test]
    fn malformed_values_name_their_parameter() {
        for (url, param) in [
            ("redis://h?db=x", "db"),
            ("redis://h/abc", "db"),
            ("redis://h?protocol=4", "protocol"),
            ("redis://h?socket_timeout=-1", "socket_timeout"),
            ("redis://h?socket_timeout=0", "socket_timeout"),
            (
                "redis://h?socket_connect_timeout=soon",
                "socket_connect_timeout",
            ),
            ("redis://h?retry_on_timeout=perhaps", "retry_on_timeout"),
            ("redis://h?health_check_interval=x", "health_check_interval"),
            ("redis://h?max_connections=0", "max_connections"),
            ("redis://h?max_connections=-3", "max_connections"),
            ("redis://h?decode_responses=2", "decode_responses"),
            ("redis://h?multiplexed=sometimes", "multiplexed"),
            ("redis://h?multiplexed=", "multiplexed"),
            ("redis://h?socket_keepalive=true", "socket_keepalive"),
            ("redis://h?frobnicate=1", "frobnicate"),
            ("redis://h?db=1&db=2", "db"),
            ("redis://h?db", "db"),
            ("redis://h:0", "port"),
            ("redis://h:99999", "port"),
            ("redis://h:", "port"),
            ("http://h", "scheme"),
            ("localhost:6379", "url"),
            ("redis://u:p%zz@h", "password"),
            ("redis://h#frag", "url"),
        ] {
            assert_eq!(param_of(url), param, "{url}");
        }
    }

    #[test]
    fn errors_never_repeat_the_password() {
        for url in [
            "redis://u:s3cr%zzet@h",
            "redis://u:s3cret@h?frobnicate=1",
            "redis://u:s3cret@h:70000",
            "redis://h?password=s3cr%zzet",
        ] {
            let err = Config::from_url(url).unwrap_err();
            let text = format!("{err} {err:?}");
            assert!(!text.contains("s3cr"), "{url}: {text}");
        }
    }

    #[test]
    fn timeouts_and_flags() {
        let c = Config::from_url(
            "redis://h?socket_timeout=0.25&socket_connect_timeout=2&retry_on_timeout=yes&health_check_interval=30&client_name=my+app&max_connections=7&decode_responses=true&socket_keepalive=false",
        )
        .unwrap();
        assert_eq!(c.socket_timeout(), Some(Duration::from_millis(250)));
        assert_eq!(c.connect_timeout(), Some(Duration::from_secs(2)));
        assert!(c.retry_on_timeout());
        assert_eq!(c.health_check_interval(), Some(Duration::from_secs(30)));
        assert_eq!(c.client_name(), Some("my app"));
        assert_eq!(c.max_connections(), Some(7));
        assert!(c.decode_responses());
        let c = Config::from_url("redis://h?health_check_interval=0").unwrap();
        assert_eq!(c.health_check_interval(), None);
        assert!(!c.multiplexed(), "off by default");
    }

    #[test]
    fn multiplexed_parameter() {
        for (value, on) in [("true", true), ("1", true), ("false", false), ("no", false)] {
            let c = Config::from_url(&format!("redis://h?multiplexed={value}")).unwrap();
            assert_eq!(c.multiplexed(), on, "{value}");
        }
        let built = Config::builder()
            .host("h")
            .multiplexed(true)
            .build()
            .unwrap();
        assert_eq!(
            Config::from_url("redis://h?multiplexed=true").unwrap(),
            built
        );
        match Config::from_url("redis://h?multiplexed=sometimes") {
            Err(e @ Error::Config { .. }) => {
                let text = e.to_string();
                assert!(
                    text.contains("multiplexed") && text.contains("sometimes"),
                    "{text}"
                );
            }
            other => panic!("expected a config error, got {other:?}"),
        }
    }
}
