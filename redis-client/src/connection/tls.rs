//! Building a TLS connector from [`TlsConfig`] and wrapping a TCP stream in TLS.

use std::fs;
use std::io;
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use native_tls::{Certificate, HandshakeError, Identity, TlsConnector, TlsStream};

use crate::config::TlsConfig;
use crate::error::{Error, Result};

/// Reads the certificate files once and builds a connector every connection can share.
pub(crate) fn connector(tls: &TlsConfig) -> Result<TlsConnector> {
    let mut builder = TlsConnector::builder();
    if let Some(path) = tls.ca_certs_path() {
        let pem = read_file("ssl_ca_certs", path)?;
        let certs = Certificate::stack_from_pem(&pem).map_err(|e| {
            Error::config(
                "ssl_ca_certs",
                format!("{} holds no usable PEM certificate: {e}", path.display()),
            )
        })?;
        if certs.is_empty() {
            return Err(Error::config(
                "ssl_ca_certs",
                format!("{} holds no PEM certificate", path.display()),
            ));
        }
        for cert in certs {
            builder.add_root_certificate(cert);
        }
    }
    if let (Some(certfile), Some(keyfile)) = (tls.certfile(), tls.keyfile()) {
        let cert = read_file("ssl_certfile", certfile)?;
        let key = read_file("ssl_keyfile", keyfile)?;
        if !contains(&key, b"-----BEGIN PRIVATE KEY-----") {
            return Err(Error::config(
                "ssl_keyfile",
                format!(
                    "{} is not an unencrypted PKCS#8 PEM key (BEGIN PRIVATE KEY); convert it with \
                     `openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8`",
                    keyfile.display()
                ),
            ));
        }
        let identity = Identity::from_pkcs8(&cert, &key).map_err(|e| {
            Error::config(
                "ssl_certfile",
                format!(
                    "cannot use {} with key {}: {e}",
                    certfile.display(),
                    keyfile.display()
                ),
            )
        })?;
        builder.identity(identity);
    }
    builder.danger_accept_invalid_certs(tls.accepts_invalid_certs());
    builder.danger_accept_invalid_hostnames(tls.accepts_invalid_hostnames());
    builder
        .build()
        .map_err(|e| Error::config("tls", format!("cannot set up TLS: {e}")))
}

/// Runs the TLS handshake over `tcp`, verifying the certificate against `host`.
///
/// `timeout` is the one already set on the socket; it is only used to describe a stall.
pub(crate) fn handshake(
    connector: &TlsConnector,
    host: &str,
    tcp: TcpStream,
    addr: &str,
    timeout: Option<Duration>,
) -> Result<TlsStream<TcpStream>> {
    match connector.connect(host, tcp) {
        Ok(stream) => Ok(stream),
        Err(HandshakeError::Failure(e)) => Err(Error::Tls {
            addr: addr.to_owned(),
            message: e.to_string(),
        }),
        // The socket is blocking, so "would block" can only mean its timeout expired.
        Err(HandshakeError::WouldBlock(_)) => Err(Error::Timeout {
            addr: addr.to_owned(),
            action: "complete the TLS handshake with",
            command: None,
            after: timeout.unwrap_or_default(),
        }),
    }
}

fn read_file(param: &str, path: &Path) -> Result<Vec<u8>> {
    fs::read(path).map_err(|e: io::Error| {
        Error::config(param, format!("cannot read {}: {e}", path.display()))
    })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
