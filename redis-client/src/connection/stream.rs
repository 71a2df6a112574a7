//! The byte stream under a connection: TCP, TLS over TCP, or a Unix socket.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
#[cfg(unix)]
use std::os::unix::net::UnixStream;
use std::time::Duration;

use bytes::BytesMut;
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

    /// Whether bytes are waiting on the socket, found without waiting for any (three system
    /// calls: non-blocking on, one read attempt, non-blocking off). A closed socket is an
    /// `UnexpectedEof` error.
    ///
    /// TCP is peeked at. Unix sockets are read, and so is TLS, through the TLS layer: the raw
    /// socket may hold records that are no reply at all, such as the session tickets a TLS 1.3
    /// server sends after the handshake, which the TLS layer consumes. What such a read takes is
    /// appended to `into`.
    pub(crate) fn has_unread_data(&mut self, into: &mut BytesMut) -> io::Result<bool> {
        let read = match self {
            Stream::Tcp(s) => {
                let mut byte = [0; 1];
                nonblocking(s, |s| s.peek(&mut byte), TcpStream::set_nonblocking)
            }
            // Peeking a Unix socket is not stable yet; what a read takes is kept in `into`.
            #[cfg(unix)]
            Stream::Unix(s) => read_nonblocking(s, into, UnixStream::set_nonblocking),
            Stream::Tls(s) => {
                if s.buffered_read_size().map_err(io::Error::other)? > 0 {
                    return Ok(true);
                }
                read_nonblocking(s, into, |s, on| s.get_ref().set_nonblocking(on))
            }
        };
        match read {
            Ok(0) => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the server closed the connection",
            )),
            Ok(_) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(false),
            Err(e) => Err(e),
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

/// Runs `attempt` on `socket` switched to non-blocking mode, then switches it back.
fn nonblocking<S, T>(
    socket: &mut S,
    attempt: impl FnOnce(&mut S) -> io::Result<T>,
    set_nonblocking: impl Fn(&S, bool) -> io::Result<()>,
) -> io::Result<T> {
    set_nonblocking(socket, true)?;
    let result = attempt(socket);
    set_nonblocking(socket, false)?;
    result
}

/// Reads what `socket` holds without waiting, appending it to `into`.
fn read_nonblocking<S: Read>(
    socket: &mut S,
    into: &mut BytesMut,
    set_nonblocking: impl Fn(&S, bool) -> io::Result<()>,
) -> io::Result<usize> {
    let mut buf = [0; 512];
    let n = nonblocking(socket, |s| s.read(&mut buf), set_nonblocking)?;
    into.extend_from_slice(&buf[..n]);
    Ok(n)
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
