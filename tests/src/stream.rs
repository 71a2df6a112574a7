//! How to reach a server (TCP, Unix socket or TLS) and the byte stream that results.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

/// An address a server listens on, with what is needed to open a connection to it.
#[derive(Clone, Debug)]
pub enum Endpoint {
    /// Plain TCP.
    Tcp(SocketAddr),
    /// A Unix domain socket.
    Unix(PathBuf),
    /// TLS over TCP, verified against `domain` with `connector`'s roots.
    Tls {
        /// The TCP address.
        addr: SocketAddr,
        /// The name the server certificate must be valid for.
        domain: String,
        /// Trusts the harness CA and presents the harness client certificate.
        connector: native_tls::TlsConnector,
    },
}

impl Endpoint {
    /// Opens a connection; `timeout` bounds the connect and every later read and write.
    pub fn connect(&self, timeout: Duration) -> io::Result<Stream> {
        match self {
            Endpoint::Tcp(addr) => {
                let tcp = tcp_connect(addr, timeout)?;
                Ok(Stream::Tcp(tcp))
            }
            Endpoint::Unix(path) => {
                let unix = UnixStream::connect(path)?;
                unix.set_read_timeout(Some(timeout))?;
                unix.set_write_timeout(Some(timeout))?;
                Ok(Stream::Unix(unix))
            }
            Endpoint::Tls {
                addr,
                domain,
                connector,
            } => {
                let tcp = tcp_connect(addr, timeout)?;
                let tls = connector.connect(domain, tcp).map_err(|e| {
                    io::Error::other(format!("TLS handshake with {addr} as {domain}: {e}"))
                })?;
                Ok(Stream::Tls(Box::new(tls)))
            }
        }
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Tcp(addr) => write!(f, "{addr}"),
            Endpoint::Unix(path) => write!(f, "unix:{}", path.display()),
            Endpoint::Tls { addr, domain, .. } => write!(f, "tls:{addr} ({domain})"),
        }
    }
}

fn tcp_connect(addr: &SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
    let tcp = TcpStream::connect_timeout(addr, timeout)?;
    tcp.set_read_timeout(Some(timeout))?;
    tcp.set_write_timeout(Some(timeout))?;
    tcp.set_nodelay(true)?;
    Ok(tcp)
}

/// An open connection of any transport.
#[derive(Debug)]
pub enum Stream {
    /// Plain TCP.
    Tcp(TcpStream),
    /// A Unix domain socket.
    Unix(UnixStream),
    /// TLS over TCP.
    Tls(Box<native_tls::TlsStream<TcpStream>>),
}

impl Stream {
    /// Changes the read timeout (`None` blocks forever).
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.set_read_timeout(timeout),
            Stream::Unix(s) => s.set_read_timeout(timeout),
            Stream::Tls(s) => s.get_ref().set_read_timeout(timeout),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.flush(),
            Stream::Unix(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}
