//! `Proxy`: a loopback TCP forwarder that tests can cut, stall, slow down, trickle or feed extra
//! replies while traffic flows.

mod bounds;
mod pump;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crate::error::{IoContext, Result};
use crate::server::Server;
use pump::{lock, pump, Controls, Direction, Link};

pub use pump::Extra;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// A TCP proxy on a free loopback port forwarding every connection to one target.
///
/// Controls act on traffic already flowing: [`Proxy::cut`], [`Proxy::stall`], [`Proxy::delay`],
/// [`Proxy::cut_after`], [`Proxy::trickle`], and extra replies the server never sent
/// ([`Proxy::extra_reply`], [`Proxy::send_to_clients`]). Dropping the proxy closes every
/// connection and joins all its threads.
#[derive(Debug)]
pub struct Proxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept_thread: Option<JoinHandle<()>>,
}

#[derive(Debug)]
struct Shared {
    target: SocketAddr,
    accepted: AtomicUsize,
    pumps: pump::Shared,
    links: Mutex<Vec<Arc<Link>>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl Proxy {
    /// Starts a proxy to `target`, listening on the same loopback family (`127.0.0.1` or `::1`).
    pub fn new(target: SocketAddr) -> Result<Proxy> {
        let ip = if target.is_ipv6() {
            IpAddr::V6(Ipv6Addr::LOCALHOST)
        } else {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        };
        let listener = TcpListener::bind(SocketAddr::new(ip, 0))
            .context(|| format!("binding a proxy listener on {ip}"))?;
        let addr = listener
            .local_addr()
            .context(|| "reading the proxy's address".to_string())?;
        let shared = Arc::new(Shared {
            target,
            accepted: AtomicUsize::new(0),
            pumps: pump::Shared {
                stopping: AtomicBool::new(false),
                controls: Mutex::new(Controls::default()),
                changed: Condvar::new(),
            },
            links: Mutex::new(Vec::new()),
            threads: Mutex::new(Vec::new()),
        });
        let accept_shared = Arc::clone(&shared);
        let accept_thread = thread::Builder::new()
            .name(format!("proxy-accept-{}", addr.port()))
            .spawn(move || accept_loop(listener, accept_shared))
            .context(|| "spawning the proxy accept thread".to_string())?;
        Ok(Proxy {
            addr,
            shared,
            accept_thread: Some(accept_thread),
        })
    }

    /// Starts a proxy in front of `server`.
    pub fn to(server: &Server) -> Result<Proxy> {
        Proxy::new(server.addr())
    }

    /// The address clients connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The proxy's loopback address.
    pub fn host(&self) -> IpAddr {
        self.addr.ip()
    }

    /// The proxy's port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `redis://HOST:PORT` of the proxy.
    pub fn url(&self) -> String {
        format!("redis://{}", self.addr)
    }

    /// Where connections are forwarded.
    pub fn target(&self) -> SocketAddr {
        self.shared.target
    }

    /// Closes every connection open right now; new connections are accepted as usual.
    pub fn cut(&self) {
        let links: Vec<Arc<Link>> = lock(&self.shared.links).drain(..).collect();
        for link in links {
            link.close();
        }
        self.shared.pumps.changed.notify_all();
    }

    /// While `true`, no bytes are forwarded in either direction (connections stay open).
    pub fn stall(&self, stalled: bool) {
        self.control(|c| c.stalled = stalled);
    }

    /// Waits `delay` before forwarding each chunk, in both directions (`Duration::ZERO` turns it off).
    pub fn delay(&self, delay: Duration) {
        self.control(|c| c.delay = delay);
    }

    /// Forwards the next `n` bytes from server to client, then cuts the connection that carried the last one.
    ///
    /// One-shot: after the cut, traffic flows normally. Use it to end a reply mid-frame.
    pub fn cut_after(&self, n: usize) {
        self.control(|c| c.cut_after = Some(n));
    }

    /// Forwards server→client bytes one at a time, `interval` apart, like a server whose replies
    /// trickle in (`Duration::ZERO` turns it off; bytes already held back then go at once).
    pub fn trickle(&self, interval: Duration) {
        self.control(|c| c.trickle = interval);
    }

    /// One-shot: right after the next server→client chunk that ends where a reply ends and
    /// answers the last command the client sent so far, sends an extra reply the server never
    /// sent, in the same write (so the client receives both at once): a stale reply in the
    /// stream, behind a reply to the last command owed. (When the client's commands cannot be
    /// followed, such as inline commands, any reply's end will do.)
    pub fn extra_reply(&self, extra: Extra) {
        self.control(|c| c.extra = Some(extra));
    }

    /// Sends `bytes` to the client of every open connection now, between forwarded chunks, as
    /// if the server had sent a reply nobody asked for. Returns how many connections got them.
    pub fn send_to_clients(&self, bytes: &[u8]) -> usize {
        let links: Vec<Arc<Link>> = lock(&self.shared.links).clone();
        links
            .iter()
            .filter(|link| !link.is_closed() && link.send_to_client(bytes).is_ok())
            .count()
    }

    fn control(&self, change: impl FnOnce(&mut Controls)) {
        change(&mut lock(&self.shared.pumps.controls));
        self.shared.pumps.changed.notify_all();
    }

    /// Connections currently open through the proxy.
    pub fn open_connections(&self) -> usize {
        let mut links = lock(&self.shared.links);
        links.retain(|l| !l.is_closed());
        links.len()
    }

    /// Connections accepted since the proxy started.
    pub fn accepted_connections(&self) -> usize {
        self.shared.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.pumps.stopping.store(true, Ordering::SeqCst);
        self.cut();
        // The accept thread blocks in accept(); a throwaway connection wakes it to see `stopping`.
        let _ = TcpStream::connect_timeout(&self.addr, CONNECT_TIMEOUT);
        if let Some(handle) = self.accept_thread.take() {
            let _ = handle.join();
        }
        let threads: Vec<JoinHandle<()>> = lock(&self.shared.threads).drain(..).collect();
        for handle in threads {
            let _ = handle.join();
        }
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    for client in listener.incoming() {
        if shared.pumps.stopping.load(Ordering::SeqCst) {
            return;
        }
        let Ok(client) = client else { continue };
        shared.accepted.fetch_add(1, Ordering::SeqCst);
        // A target that refuses means the client just sees its connection closed, like a dead server.
        let Ok(server) = TcpStream::connect_timeout(&shared.target, CONNECT_TIMEOUT) else {
            continue;
        };
        let _ = client.set_nodelay(true);
        let _ = server.set_nodelay(true);
        if let Err(e) = start_link(client, server, &shared) {
            eprintln!("proxy {}: dropping a connection: {e}", shared.target);
        }
    }
}

fn start_link(client: TcpStream, server: TcpStream, shared: &Arc<Shared>) -> std::io::Result<()> {
    let link = Arc::new(Link::new(client.try_clone()?, server.try_clone()?));
    let mut threads = lock(&shared.threads);
    threads.retain(|t| !t.is_finished());
    let pumps = [
        (
            client.try_clone()?,
            server.try_clone()?,
            Direction::ClientToServer,
        ),
        (server, client, Direction::ServerToClient),
    ];
    for (from, to, direction) in pumps {
        let (link, shared) = (Arc::clone(&link), Arc::clone(shared));
        threads.push(
            thread::Builder::new()
                .name("proxy-pump".into())
                .spawn(move || pump(from, to, direction, &link, &shared.pumps))?,
        );
    }
    lock(&shared.links).push(link);
    Ok(())
}
