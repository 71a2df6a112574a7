//! The byte stream under a connection: TCP, TLS over TCP, or a Unix socket.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
#[cfg(unix)]
use std::os::unix::net::UnixStream;
use std::time::Duration;

use native_tls::{TlsConnector, TlsStream};

use super::tls;
use crate::config::{Config, ConnectionAddr};
use crate::error::{Error, Result};

/// An open socket, plain or encrypted.
pub(crate) enum Stream {
    Tcp(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    #[cfg(unix)]
    Unix(UnixStream),
}

impl Stream {
    /// Opens the socket `config` names, with `timeout` on connecting and on each read and write
    /// until [`Stream::set_write_timeout`] / [`Stream::set_read_timeout`] change it.
    pub(crate) fn connect(
        config: &Config,
        tls: Option<&TlsConnector>,
        addr_label: &str,
        timeout: Option<Duration>,
    ) -> Result<Stream> {
        match config.addr() {
            ConnectionAddr::Tcp { host, port } => {
                let tcp = connect_tcp(host, *port, addr_label, timeout)?;
                let io_err = |e| connection_error(addr_label, "set up", e);
                tcp.set_nodelay(true).map_err(io_err)?;
                tcp.set_read_timeout(timeout).map_err(io_err)?;
                tcp.set_write_timeout(timeout).map_err(io_err)?;
                match tls {
                    None => Ok(Stream::Tcp(tcp)),
                    Some(connector) => {
                        let stream = tls::handshake(connector, host, tcp, addr_label, timeout)?;
                        Ok(Stream::Tls(Box::new(stream)))
                    }
                }
            }
            #[cfg(unix)]
            ConnectionAddr::Unix(path) => {
                let unix = UnixStream::connect(path)
                    .map_err(|e| connection_error(addr_label, "connect to", e))?;
                let io_err = |e| connection_error(addr_label, "set up", e);
                unix.set_read_timeout(timeout).map_err(io_err)?;
                unix.set_write_timeout(timeout).map_err(io_err)?;
                Ok(Stream::Unix(unix))
            }
            #[cfg(not(unix))]
            ConnectionAddr::Unix(_) => Err(Error::config(
                "path",
                "Unix sockets are not available on this platform",
            )),
        }
    }

    /// A second handle on the same socket, for a writer thread beside the reader; `None` for
    /// TLS, whose session state cannot be shared between two handles.
    pub(crate) fn try_clone_plain(&self) -> Option<io::Result<Stream>> {
        match self {
            Stream::Tcp(s) => Some(s.try_clone().map(Stream::Tcp)),
            Stream::Tls(_) => None,
            #[cfg(unix)]
            Stream::Unix(s) => Some(s.try_clone().map(Stream::Unix)),
        }
    }

    /// Shuts the socket down for every handle on it, waking any thread blocked reading it.
    pub(crate) fn shutdown(&self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.shutdown(Shutdown::Both),
            Stream::Tls(s) => s.get_ref().shutdown(Shutdown::Both),
            #[cfg(unix)]
            Stream::Unix(s) => s.shutdown(Shutdown::Both),
        }
    }

    pub(crate) fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.set_read_timeout(timeout),
            Stream::Tls(s) => s.get_ref().set_read_timeout(timeout),
            #[cfg(unix)]
            Stream::Unix(s) => s.set_read_timeout(timeout),
        }
    }

    pub(crate) fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.set_write_timeout(timeout),
            Stream::Tls(s) => s.get_ref().set_write_timeout(timeout),
            #[cfg(unix)]
            Stream::Unix(s) => s.set_write_timeout(timeout),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
            #[cfg(unix)]
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
            #[cfg(unix)]
            Stream::Unix(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
            #[cfg(unix)]
            Stream::Unix(s) => s.flush(),
        }
    }
}

/// Tries every address the host resolves to, in order, and reports the last failure.
fn connect_tcp(
    host: &str,
    port: u16,
    addr_label: &str,
    timeout: Option<Duration>,
) -> Result<TcpStream> {
    let addrs = (host, port)
        .to_socket_addrs()
        .map_err(|e| connection_error(addr_label, "resolve", e))?;
    let mut last = None;
    for addr in addrs {
        let attempt = match timeout {
            Some(t) => TcpStream::connect_timeout(&addr, t),
            None => TcpStream::connect(addr),
        };
        match attempt {
            Ok(stream) => return Ok(stream),
            Err(e) => last = Some(e),
        }
    }
    let e = last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            "the host name resolved to no address",
        )
    });
    Err(match e.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => Error::Timeout {
            addr: addr_label.to_owned(),
            action: "connect to",
            command: None,
            after: timeout.unwrap_or_default(),
        },
        _ => connection_error(addr_label, "connect to", e),
    })
}

pub(crate) fn connection_error(addr: &str, action: &'static str, source: io::Error) -> Error {
    Error::Connection {
        addr: addr.to_owned(),
        action,
        command: None,
        source,
    }
}
