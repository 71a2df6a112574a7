//! Health checks: when an idle connection is due a `PING`, and whether the answer is healthy.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::resp::Value;

/// The name health-check errors and timeouts carry.
pub(crate) const PING: &str = "PING";

/// Whether a connection idle for `idle`, owing `owed` replies, is due a `PING` under a
/// health-check `interval`. A connection owing replies is in use, not idle.
pub(crate) fn due(interval: Duration, idle: Duration, owed: usize) -> bool {
    idle > interval && owed == 0
}

/// Judges the reply to a health-check `PING`: `PONG`, or `["pong", ""]` from a RESP2
/// connection in subscribe mode. An error reply is the server's error; anything else means the
/// stream is out of step, a protocol error.
pub(crate) fn judge(reply: Value) -> Result<()> {
    match reply {
        Value::Simple(pong) if pong.eq_ignore_ascii_case(b"PONG") => Ok(()),
        Value::Array(items)
            if items
                .first()
                .and_then(Value::as_bytes)
                .is_some_and(|b| b.eq_ignore_ascii_case(b"pong")) =>
        {
            Ok(())
        }
        Value::Error(payload) => Err(Error::from_server_reply(&payload, Some(PING))),
        other => Err(Error::Protocol(format!(
            "health check: expected PONG, got {}",
            other.kind_name()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_idle_connection_past_the_interval_is_due() {
        let second = Duration::from_secs(1);
        assert!(!due(second, second, 0));
        assert!(due(second, second * 2, 0));
        assert!(!due(second, second * 2, 1));
    }

    #[test]
    fn pong_in_either_protocol_is_healthy_and_anything_else_is_not() {
        assert!(judge(Value::Simple("PONG".into())).is_ok());
        let subscribed = Value::Array(vec![Value::Bulk("pong".into()), Value::Bulk("".into())]);
        assert!(judge(subscribed).is_ok());
        let err = judge(Value::Error("LOADING busy".into())).unwrap_err();
        assert_eq!(err.code(), Some("LOADING"));
        let err = judge(Value::Integer(1)).unwrap_err();
        assert!(matches!(err, Error::Protocol(_)), "{err:?}");
    }
}
