//! Free loopback ports, never handed out twice by the same process.

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::sync::{Mutex, OnceLock};

use crate::error::{Error, IoContext, Result};

/// Asks the OS for a free port on `ip` (bind to port 0, read it, release it).
///
/// Another process may still grab the port before the server binds it; server spawning retries then.
/// Ports already handed out in this process are skipped, so parallel tests never collide with each other.
pub fn free_port(ip: IpAddr) -> Result<u16> {
    static HANDED_OUT: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    let handed_out = HANDED_OUT.get_or_init(Default::default);
    for _ in 0..64 {
        let listener = TcpListener::bind(SocketAddr::new(ip, 0))
            .context(|| format!("binding {ip}:0 to find a free port"))?;
        let port = listener
            .local_addr()
            .context(|| format!("reading the port bound on {ip}"))?
            .port();
        if handed_out
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(port)
        {
            return Ok(port);
        }
    }
    Err(Error::Timeout {
        what: format!("a free port on {ip} not handed out before"),
        waited_ms: 0,
        last: "64 attempts all returned ports already in use by this process".into(),
    })
}
