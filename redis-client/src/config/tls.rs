//! TLS settings for `rediss://` connections.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// How a TLS connection authenticates the server (and optionally itself).
///
/// The default verifies the server's certificate against the system roots (plus
/// [`TlsConfig::ca_certs`] when given) and checks that it was issued for the host name connected
/// to. Switching either check off is possible only through the loudly named `danger_*` setters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsConfig {
    ca_certs: Option<PathBuf>,
    certfile: Option<PathBuf>,
    keyfile: Option<PathBuf>,
    accept_invalid_certs: bool,
    accept_invalid_hostnames: bool,
}

impl TlsConfig {
    /// Full verification, system roots, no client certificate.
    pub fn new() -> TlsConfig {
        TlsConfig::default()
    }

    /// Trusts the CA certificate(s) in this PEM file in addition to the system roots.
    pub fn ca_certs(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_certs = Some(path.into());
        self
    }

    /// Presents a client certificate: a PEM certificate and its PKCS#8 PEM private key.
    pub fn client_cert(
        mut self,
        certfile: impl Into<PathBuf>,
        keyfile: impl Into<PathBuf>,
    ) -> Self {
        self.certfile = Some(certfile.into());
        self.keyfile = Some(keyfile.into());
        self
    }

    pub(crate) fn set_certfile(&mut self, path: PathBuf) {
        self.certfile = Some(path);
    }

    pub(crate) fn set_keyfile(&mut self, path: PathBuf) {
        self.keyfile = Some(path);
    }

    /// DANGER: accepts any server certificate — expired, self-signed, for another host.
    ///
    /// The connection is then encrypted but not authenticated; anyone on the path can
    /// impersonate the server. redis-py's `ssl_cert_reqs=none`.
    pub fn danger_accept_invalid_certs(mut self, accept: bool) -> Self {
        self.accept_invalid_certs = accept;
        self
    }

    /// DANGER: accepts a valid certificate issued for a different host name.
    ///
    /// redis-py's `ssl_check_hostname=false`.
    pub fn danger_accept_invalid_hostnames(mut self, accept: bool) -> Self {
        self.accept_invalid_hostnames = accept;
        self
    }

    /// The extra CA file, if any.
    pub fn ca_certs_path(&self) -> Option<&Path> {
        self.ca_certs.as_deref()
    }

    /// The client certificate file, if any.
    pub fn certfile(&self) -> Option<&Path> {
        self.certfile.as_deref()
    }

    /// The client private key file, if any.
    pub fn keyfile(&self) -> Option<&Path> {
        self.keyfile.as_deref()
    }

    /// Whether certificate verification is switched off.
    pub fn accepts_invalid_certs(&self) -> bool {
        self.accept_invalid_certs
    }

    /// Whether host name verification is switched off.
    pub fn accepts_invalid_hostnames(&self) -> bool {
        self.accept_invalid_hostnames
    }

    pub(crate) fn validate(&self) -> Result<()> {
        match (&self.certfile, &self.keyfile) {
            (Some(_), None) => Err(Error::config(
                "ssl_keyfile",
                "a client certificate (ssl_certfile) needs its private key file",
            )),
            (None, Some(_)) => Err(Error::config(
                "ssl_certfile",
                "a private key (ssl_keyfile) needs its client certificate file",
            )),
            _ => Ok(()),
        }
    }
}
