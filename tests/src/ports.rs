//! Free loopback ports, never handed out twice by the same process.

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::sync::{Mutex, OnceLock};

use crate::error::{Error, IoContext, Result};

/// Redis puts a cluster node's bus on its port plus this, unless `cluster-port` says otherwise.
pub const CLUSTER_BUS_OFFSET: u16 = 10000;
const ATTEMPTS: usize = 256;

fn handed_out() -> std::sync::MutexGuard<'static, HashSet<u16>> {
    static HANDED_OUT: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    HANDED_OUT
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

/// Binds `ip:0` and returns the port the OS chose, with the listener still holding it.
fn bind_any(ip: IpAddr) -> Result<(TcpListener, u16)> {
    let listener = TcpListener::bind(SocketAddr::new(ip, 0))
        .context(|| format!("binding {ip}:0 to find a free port"))?;
    let port = listener
        .local_addr()
        .context(|| format!("reading the port bound on {ip}"))?
        .port();
    Ok((listener, port))
}

/// Asks the OS for a free port on `ip` (bind to port 0, read it, release it).
///
/// Another process may still grab the port before the server binds it; server spawning retries then.
/// Ports already handed out in this process are skipped, so parallel tests never collide with each other.
pub fn free_port(ip: IpAddr) -> Result<u16> {
    for _ in 0..ATTEMPTS {
        let (_listener, port) = bind_any(ip)?;
        if handed_out().insert(port) {
            return Ok(port);
        }
    }
    Err(exhausted(ip))
}

/// A free port `p` on `ip` whose cluster bus port `p + 10000` is free too, so the node works with
/// the default bus port (as `CLUSTER MEET host port` without a bus port assumes).
pub fn free_cluster_port(ip: IpAddr) -> Result<u16> {
    for _ in 0..ATTEMPTS {
        let (_listener, port) = bind_any(ip)?;
        let Some(bus) = port.checked_add(CLUSTER_BUS_OFFSET) else {
            continue;
        };
        if TcpListener::bind(SocketAddr::new(ip, bus)).is_err() {
            continue;
        }
        let mut taken = handed_out();
        if !taken.contains(&port) && !taken.contains(&bus) {
            taken.insert(port);
            taken.insert(bus);
            return Ok(port);
        }
    }
    Err(exhausted(ip))
}

fn exhausted(ip: IpAddr) -> Error {
    Error::Timeout {
        what: format!("a free port on {ip}"),
        waited_ms: 0,
        last: format!("{ATTEMPTS} attempts returned only ports this process already uses"),
    }
}
