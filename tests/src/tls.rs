//! Test certificates made at run time with the `openssl` CLI: a CA, two server certificates and a client one.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::binaries::Binary;
use crate::error::{Error, IoContext, Result};

/// The hostname of the second server certificate, which does not match `localhost` or `127.0.0.1`.
pub const OTHER_HOSTNAME: &str = "other.example";

/// Which certificate a TLS server presents.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ServerCert {
    /// Valid for `localhost`, `127.0.0.1` and `::1`.
    #[default]
    Localhost,
    /// Valid only for [`OTHER_HOSTNAME`], to test that clients check hostnames.
    OtherHost,
}

impl ServerCert {
    /// The DNS name the certificate is valid for.
    pub fn hostname(self) -> &'static str {
        match self {
            ServerCert::Localhost => "localhost",
            ServerCert::OtherHost => OTHER_HOSTNAME,
        }
    }
}

/// PEM files of a throwaway PKI, all signed by one CA; keys are PKCS#8 (what `native-tls` loads).
#[derive(Clone, Debug)]
pub struct TlsFiles {
    dir: PathBuf,
}

/// The OpenSSL config holding every extension profile, so no system `openssl.cnf` defaults leak in.
const OPENSSL_CNF: &str = "\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = redis-test-harness
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth,clientAuth
subjectAltName = DNS:localhost,IP:127.0.0.1,IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[other_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth,clientAuth
subjectAltName = DNS:other.example
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
";

impl TlsFiles {
    /// Generates `ca.crt`, `server.{crt,key}`, `other.{crt,key}` and `client.{crt,key}` in `dir`.
    pub fn generate(dir: &Path) -> Result<TlsFiles> {
        let openssl = Binary::Openssl.find()?;
        let files = TlsFiles {
            dir: dir.to_path_buf(),
        };
        let cnf = dir.join("openssl.cnf");
        fs::write(&cnf, OPENSSL_CNF).context(|| format!("writing {}", cnf.display()))?;
        let cnf = cnf.to_string_lossy().into_owned();
        let run = |args: &[&str]| run_tool(&openssl, dir, args);
        let new_key = |name: &str| {
            run(&[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                name,
            ])
        };

        new_key("ca.key")?;
        run(&[
            "req",
            "-x509",
            "-new",
            "-config",
            &cnf,
            "-extensions",
            "ca_ext",
            "-key",
            "ca.key",
            "-subj",
            "/CN=redis-test-harness CA",
            "-days",
            "3",
            "-sha256",
            "-out",
            "ca.crt",
        ])?;
        let leaves = [
            ("server", "/CN=localhost", "server_ext", "1001"),
            ("other", "/CN=other.example", "other_ext", "1002"),
            (
                "client",
                "/CN=redis-test-harness client",
                "client_ext",
                "1003",
            ),
        ];
        for (name, subject, extensions, serial) in leaves {
            let (key, csr, crt) = (
                format!("{name}.key"),
                format!("{name}.csr"),
                format!("{name}.crt"),
            );
            new_key(&key)?;
            run(&[
                "req", "-new", "-config", &cnf, "-key", &key, "-subj", subject, "-out", &csr,
            ])?;
            run(&[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-set_serial",
                serial,
                "-days",
                "2",
                "-sha256",
                "-extfile",
                &cnf,
                "-extensions",
                extensions,
                "-out",
                &crt,
            ])?;
        }
        Ok(files)
    }

    /// The directory holding the files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The CA certificate every other certificate is signed by.
    pub fn ca_cert(&self) -> PathBuf {
        self.dir.join("ca.crt")
    }

    /// The CA's private key, to sign more certificates in a test.
    pub fn ca_key(&self) -> PathBuf {
        self.dir.join("ca.key")
    }

    /// The certificate for `localhost`, `127.0.0.1` and `::1`.
    pub fn server_cert(&self) -> PathBuf {
        self.dir.join("server.crt")
    }

    /// The key of [`TlsFiles::server_cert`].
    pub fn server_key(&self) -> PathBuf {
        self.dir.join("server.key")
    }

    /// The certificate valid only for [`OTHER_HOSTNAME`].
    pub fn other_cert(&self) -> PathBuf {
        self.dir.join("other.crt")
    }

    /// The key of [`TlsFiles::other_cert`].
    pub fn other_key(&self) -> PathBuf {
        self.dir.join("other.key")
    }

    /// The certificate/key pair a server presents for `which`.
    pub fn server_pair(&self, which: ServerCert) -> (PathBuf, PathBuf) {
        match which {
            ServerCert::Localhost => (self.server_cert(), self.server_key()),
            ServerCert::OtherHost => (self.other_cert(), self.other_key()),
        }
    }

    /// A client certificate, for servers that require or accept client authentication.
    pub fn client_cert(&self) -> PathBuf {
        self.dir.join("client.crt")
    }

    /// The key of [`TlsFiles::client_cert`].
    pub fn client_key(&self) -> PathBuf {
        self.dir.join("client.key")
    }

    /// A `native-tls` connector that trusts the CA and presents the client certificate.
    pub fn connector(&self) -> Result<native_tls::TlsConnector> {
        let read =
            |path: PathBuf| fs::read(&path).context(|| format!("reading {}", path.display()));
        let ca = native_tls::Certificate::from_pem(&read(self.ca_cert())?)
            .map_err(|e| tls_error(format!("loading {}", self.ca_cert().display()), e))?;
        let identity =
            native_tls::Identity::from_pkcs8(&read(self.client_cert())?, &read(self.client_key())?)
                .map_err(|e| tls_error("loading the client certificate".into(), e))?;
        native_tls::TlsConnector::builder()
            .add_root_certificate(ca)
            .identity(identity)
            .build()
            .map_err(|e| tls_error("building a TLS connector".into(), e))
    }
}

fn tls_error(action: String, e: native_tls::Error) -> Error {
    Error::Io {
        action,
        source: std::io::Error::other(e),
    }
}

fn run_tool(program: &Path, dir: &Path, args: &[&str]) -> Result<()> {
    let command = format!("{} {}", program.display(), args.join(" "));
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .context(|| format!("running {command}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(Error::Tool {
            command,
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        })
    }
}
