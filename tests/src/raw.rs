//! `RawConnection`: a minimal tooling client over `redis_client::resp`, for setting servers up and
//! checking them from tests; not the client under test.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use bytes::BytesMut;
use redis_client::resp::{write_command, Parser};
use redis_client::Value;

use crate::error::{Error, Result};
use crate::reply::text;
use crate::sentinel::SentinelServer;
use crate::server::Server;
use crate::stream::{Endpoint, Stream};

/// How long a connect, a write or a reply may take by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
const READ_CHUNK: usize = 16 * 1024;

/// One connection that sends commands and reads whole replies, in RESP2 or (after `HELLO 3`) RESP3.
#[derive(Debug)]
pub struct RawConnection {
    stream: Stream,
    peer: String,
    parser: Parser,
    input: BytesMut,
    output: BytesMut,
}

impl RawConnection {
    /// Connects over TCP to `addr` (`"127.0.0.1:6379"`, `(ip, port)`, a `SocketAddr`).
    pub fn connect(addr: impl ToSocketAddrs) -> io::Result<RawConnection> {
        let addr: SocketAddr = addr.to_socket_addrs()?.next().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "the address resolved to nothing",
            )
        })?;
        RawConnection::open(&Endpoint::Tcp(addr))
    }

    /// Connects to `endpoint` (TCP, Unix socket or TLS).
    pub fn open(endpoint: &Endpoint) -> io::Result<RawConnection> {
        let stream = endpoint
            .connect(DEFAULT_TIMEOUT)
            .map_err(|e| io::Error::new(e.kind(), format!("connecting to {endpoint}: {e}")))?;
        Ok(RawConnection {
            stream,
            peer: endpoint.to_string(),
            parser: Parser::new(),
            input: BytesMut::with_capacity(READ_CHUNK),
            output: BytesMut::new(),
        })
    }

    /// Connects to `server` over TCP or TLS as it is configured, and authenticates with its
    /// `requirepass` password if it has one.
    pub fn connect_to(server: &Server) -> io::Result<RawConnection> {
        let endpoint = server.endpoint().map_err(io::Error::other)?;
        let mut conn = RawConnection::open(&endpoint)?;
        if let Some(password) = server.password() {
            conn.call_ok(&["AUTH", password])
                .map_err(io::Error::other)?;
        }
        Ok(conn)
    }

    /// Connects to a sentinel.
    pub fn connect_to_sentinel(sentinel: &SentinelServer) -> io::Result<RawConnection> {
        RawConnection::open(&sentinel.endpoint())
    }

    /// Changes how long a reply may take (`None` waits forever, e.g. for blocking commands).
    pub fn set_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.stream.set_read_timeout(timeout)
    }

    /// Sends one command without waiting for its reply (pipelining; read replies with
    /// [`RawConnection::read_reply`]).
    pub fn send<A: AsRef<[u8]>>(&mut self, args: &[A]) -> io::Result<()> {
        let parts: Vec<&[u8]> = args.iter().map(AsRef::as_ref).collect();
        self.output.clear();
        write_command(&mut self.output, parts.as_slice())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
        self.stream.write_all(&self.output)?;
        self.stream.flush()
    }

    /// Reads the next whole reply (or RESP3 push) from the connection.
    pub fn read_reply(&mut self) -> io::Result<Value> {
        let mut chunk = [0u8; READ_CHUNK];
        loop {
            match self.parser.parse(&mut self.input) {
                Ok(Some(value)) => return Ok(value),
                Ok(None) => {}
                Err(e) => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("reply from {}: {e}", self.peer),
                    ))
                }
            }
            let n = self.stream.read(&mut chunk)?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("{} closed the connection", self.peer),
                ));
            }
            self.input.extend_from_slice(&chunk[..n]);
        }
    }

    /// Sends a command and returns its reply; an error reply is `Ok(Value::Error(..))`.
    pub fn call<A: AsRef<[u8]>>(&mut self, args: &[A]) -> io::Result<Value> {
        self.send(args)?;
        self.read_reply()
    }

    /// Like [`RawConnection::call`], but an error reply or an I/O failure becomes an [`Error`]
    /// naming the command.
    pub fn call_ok<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Result<Value> {
        let peer = self.peer.clone();
        let context = || {
            let words: Vec<String> = args
                .iter()
                .map(|a| String::from_utf8_lossy(a.as_ref()).into_owned())
                .collect();
            format!("{} on {peer}", words.join(" "))
        };
        match self.call(args) {
            Ok(Value::Error(message)) => Err(Error::UnexpectedReply {
                context: context(),
                reply: String::from_utf8_lossy(&message).into_owned(),
            }),
            Ok(value) => Ok(value),
            Err(source) => Err(Error::Io {
                action: context(),
                source,
            }),
        }
    }

    /// Sends `HELLO <proto>` and returns the server's reply (a map under RESP3).
    pub fn hello(&mut self, proto: u8) -> io::Result<Value> {
        self.call(&["HELLO".to_string(), proto.to_string()])
    }

    /// `INFO <section>` as text.
    pub fn info(&mut self, section: &str) -> Result<String> {
        let reply = self.call_ok(&["INFO", section])?;
        text(&reply).ok_or_else(|| Error::UnexpectedReply {
            context: format!("INFO {section} on {}", self.peer),
            reply: format!("{reply:?}"),
        })
    }
}
