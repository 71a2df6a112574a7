//! `Proxy`: a loopback TCP forwarder that tests can cut, stall or slow down while traffic flows.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::error::{IoContext, Result};
use crate::server::Server;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const CHUNK: usize = 16 * 1024;

/// A TCP proxy on a free loopback port forwarding every connection to one target.
///
/// Controls act on traffic already flowing: [`Proxy::cut`], [`Proxy::stall`], [`Proxy::delay`],
/// [`Proxy::cut_after`]. Dropping the proxy closes every connection and joins all its threads.
#[derive(Debug)]
pub struct Proxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept_thread: Option<JoinHandle<()>>,
}

#[derive(Debug)]
struct Shared {
    target: SocketAddr,
    stopping: AtomicBool,
    accepted: AtomicUsize,
    controls: Mutex<Controls>,
    changed: Condvar,
    links: Mutex<Vec<Arc<Link>>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

#[derive(Debug, Default)]
struct Controls {
    stalled: bool,
    delay: Duration,
    /// Bytes still allowed server→client before the connection carrying them is cut.
    cut_after: Option<usize>,
}

/// One proxied connection: the client side and the server side.
#[derive(Debug)]
struct Link {
    client: TcpStream,
    server: TcpStream,
    closed: AtomicBool,
}

impl Link {
    fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        // Shutting the sockets down wakes pump threads blocked in read or write on their clones.
        let _ = self.client.shutdown(Shutdown::Both);
        let _ = self.server.shutdown(Shutdown::Both);
    }

    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    ClientToServer,
    ServerToClient,
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
            stopping: AtomicBool::new(false),
            accepted: AtomicUsize::new(0),
            controls: Mutex::new(Controls::default()),
            changed: Condvar::new(),
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
        self.shared.changed.notify_all();
    }

    /// While `true`, no bytes are forwarded in either direction (connections stay open).
    pub fn stall(&self, stalled: bool) {
        lock(&self.shared.controls).stalled = stalled;
        self.shared.changed.notify_all();
    }

    /// Waits `delay` before forwarding each chunk, in both directions (`Duration::ZERO` turns it off).
    pub fn delay(&self, delay: Duration) {
        lock(&self.shared.controls).delay = delay;
        self.shared.changed.notify_all();
    }

    /// Forwards the next `n` bytes from server to client, then cuts the connection that carried the last one.
    ///
    /// One-shot: after the cut, traffic flows normally. Use it to end a reply mid-frame.
    pub fn cut_after(&self, n: usize) {
        lock(&self.shared.controls).cut_after = Some(n);
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
        self.shared.stopping.store(true, Ordering::SeqCst);
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

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking pump thread must not disable the controls for the test thread.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    for client in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
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
    let link = Arc::new(Link {
        client: client.try_clone()?,
        server: server.try_clone()?,
        closed: AtomicBool::new(false),
    });
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
                .spawn(move || pump(from, to, direction, &link, &shared))?,
        );
    }
    lock(&shared.links).push(link);
    Ok(())
}

/// Copies `from` → `to` chunk by chunk, applying the controls; closes the whole link when either side ends.
fn pump(
    mut from: TcpStream,
    mut to: TcpStream,
    direction: Direction,
    link: &Link,
    shared: &Shared,
) {
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let Some((len, cut)) = shared.admit(n, direction, link) else {
            break;
        };
        if to.write_all(&buf[..len]).is_err() || cut {
            break;
        }
    }
    link.close();
}

impl Shared {
    /// Waits out stalls and delays for a chunk of `n` bytes; returns how many to forward and whether to cut
    /// afterwards, or `None` when the link was closed meanwhile.
    fn admit(&self, n: usize, direction: Direction, link: &Link) -> Option<(usize, bool)> {
        let mut controls = lock(&self.controls);
        let gone = |link: &Link| link.is_closed() || self.stopping.load(Ordering::SeqCst);
        while controls.stalled && !gone(link) {
            controls = self
                .changed
                .wait(controls)
                .unwrap_or_else(|e| e.into_inner());
        }
        let deadline = Instant::now() + controls.delay;
        loop {
            if gone(link) {
                return None;
            }
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            controls = self
                .changed
                .wait_timeout(controls, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        if direction == Direction::ServerToClient {
            if let Some(budget) = controls.cut_after {
                if n >= budget {
                    controls.cut_after = None;
                    return Some((budget, true));
                }
                controls.cut_after = Some(budget - n);
            }
        }
        Some((n, false))
    }
}
