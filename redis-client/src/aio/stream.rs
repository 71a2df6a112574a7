//! The byte stream under an async connection: TCP, TLS over TCP (certificates verified unless
//! the config says otherwise), or a Unix socket, all tokio's.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
#[cfg(unix)]
use tokio::net::UnixStream;
use tokio_native_tls::{TlsConnector, TlsStream};

use crate::config::{Config, ConnectionAddr};
use crate::connection::connection_error;
use crate::error::{Error, Result};

/// An open socket, plain or encrypted.
#[derive(Debug)]
pub(crate) enum AsyncStream {
    Tcp(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    #[cfg(unix)]
    Unix(UnixStream),
}

/// Builds the TLS connector for `config` once (reading its certificate files), to be shared by
/// every connection a client opens; `None` without TLS.
pub(crate) fn tls_connector(config: &Config) -> Result<Option<TlsConnector>> {
    let Some(tls) = config.tls() else {
        return Ok(None);
    };
    let connector = crate::connection::tls::connector(tls)?;
    Ok(Some(TlsConnector::from(connector)))
}

impl AsyncStream {
    /// Opens the socket `config` names (with TLS through `tls` when given), the whole of it —
    /// TCP connect and TLS handshake — within `timeout`.
    pub(crate) async fn connect(
        config: &Config,
        tls: Option<&TlsConnector>,
        addr: &str,
        timeout: Option<Duration>,
    ) -> Result<AsyncStream> {
        let opening = AsyncStream::open(config, tls, addr);
        match timeout {
            None => opening.await,
            Some(limit) => match tokio::time::timeout(limit, opening).await {
                Ok(result) => result,
                Err(_) => Err(Error::Timeout {
                    addr: addr.to_owned(),
                    action: "connect to",
                    command: None,
                    after: limit,
                }),
            },
        }
    }

    async fn open(config: &Config, tls: Option<&TlsConnector>, addr: &str) -> Result<AsyncStream> {
        match config.addr() {
            ConnectionAddr::Tcp { host, port } => {
                let tcp = TcpStream::connect((host.as_str(), *port))
                    .await
                    .map_err(|e| connection_error(addr, "connect to", e))?;
                tcp.set_nodelay(true)
                    .map_err(|e| connection_error(addr, "set up", e))?;
                match tls {
                    None => Ok(AsyncStream::Tcp(tcp)),
                    Some(connector) => {
                        let stream =
                            connector.connect(host, tcp).await.map_err(|e| Error::Tls {
                                addr: addr.to_owned(),
                                message: e.to_string(),
                            })?;
                        Ok(AsyncStream::Tls(Box::new(stream)))
                    }
                }
            }
            #[cfg(unix)]
            ConnectionAddr::Unix(path) => {
                let unix = UnixStream::connect(path)
                    .await
                    .map_err(|e| connection_error(addr, "connect to", e))?;
                Ok(AsyncStream::Unix(unix))
            }
            #[cfg(not(unix))]
            ConnectionAddr::Unix(_) => Err(Error::config(
                "path",
                "Unix sockets are not available on this platform",
            )),
        }
    }
}

impl AsyncRead for AsyncStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            AsyncStream::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            AsyncStream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            #[cfg(unix)]
            AsyncStream::Unix(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for AsyncStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            AsyncStream::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            AsyncStream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            #[cfg(unix)]
            AsyncStream::Unix(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            AsyncStream::Tcp(s) => Pin::new(s).poll_flush(cx),
            AsyncStream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            #[cfg(unix)]
            AsyncStream::Unix(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            AsyncStream::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            AsyncStream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            #[cfg(unix)]
            AsyncStream::Unix(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}
