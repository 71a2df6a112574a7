//! The readiness check: an inline `PING` and the first reply line, independent of the client under test.

use std::io::{BufRead, BufReader, Write};
use std::time::Duration;

use crate::stream::Endpoint;

const PROBE_TIMEOUT: Duration = Duration::from_millis(500);

/// Sends `PING` and succeeds when the server answers `+PONG`, or `-NOAUTH` (alive, but wants a password).
///
/// `-LOADING` and connection errors are reported as not ready, with the reason.
pub(crate) fn ping(endpoint: &Endpoint) -> Result<(), String> {
    let mut stream = endpoint
        .connect(PROBE_TIMEOUT)
        .map_err(|e| format!("connect: {e}"))?;
    stream
        .write_all(b"PING\r\n")
        .map_err(|e| format!("write: {e}"))?;
    let mut line = String::new();
    BufReader::new(stream)
        .read_line(&mut line)
        .map_err(|e| format!("read: {e}"))?;
    if line.starts_with("+PONG") || line.starts_with("-NOAUTH") {
        Ok(())
    } else if line.is_empty() {
        Err("connection closed before a reply".into())
    } else {
        Err(format!("reply {:?}", line.trim_end()))
    }
}
