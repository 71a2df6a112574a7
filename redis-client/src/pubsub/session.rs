//! The state behind one [`super::PubSub`]: its connection (when it has one) and its
//! subscription [`State`].

use std::time::Instant;

use bytes::Bytes;

use super::state::{health_timeout, Health, State, HEALTH_CHECK_MESSAGE};
use crate::config::Config;
use crate::connection::connector::Connector;
use crate::connection::Connection;
use crate::error::{Error, Result};

#[derive(Default)]
pub(super) struct Session {
    pub(super) conn: Option<Connection>,
    pub(super) state: State,
}

impl Session {
    /// Whether reading makes sense: connected, and subscribed or owed a pong.
    pub(super) fn wants_read(&self) -> bool {
        self.conn.is_some() && self.state.owes_reads()
    }

    /// The connection is known to be lost: the server forgot every subscription with it.
    pub(super) fn disconnect(&mut self) {
        self.conn = None;
        self.state.disconnected();
    }

    /// Forgets the connection and every subscription (redis-py's `close`/`reset`).
    pub(super) fn reset(&mut self) {
        self.conn = None;
        self.state.reset();
    }

    /// Opens a connection and subscribes again to everything recorded.
    pub(super) fn connect(&mut self, connector: &Connector) -> Result<()> {
        self.disconnect();
        let mut conn = connector.connect()?;
        let mut last = None;
        for (command, names) in self.state.resubscribe_commands() {
            conn.write_command(&(command, &names))?;
            last = Some(command);
        }
        conn.flush()?;
        if let Some(command) = last {
            self.state.sent(command);
        }
        self.conn = Some(conn);
        Ok(())
    }

    /// Writes and sends one command on the connection, which must exist.
    pub(super) fn send(&mut self, command: &'static str, args: &[Bytes]) -> Result<()> {
        let conn = self.connection()?;
        let written = conn
            .write_command(&(command, args))
            .and_then(|()| conn.flush());
        if let Err(e) = written {
            let e = e.with_command(command);
            if e.breaks_connection() {
                self.disconnect();
            }
            return Err(e);
        }
        self.state.sent(command);
        Ok(())
    }

    pub(super) fn connection(&mut self) -> Result<&mut Connection> {
        self.conn.as_mut().ok_or_else(|| {
            Error::PubSub("the pub/sub connection is not open; subscribe first".into())
        })
    }

    /// Sends a health-check `PING` once the connection sat idle for the interval, and fails
    /// (dropping the connection) when one went unanswered while nothing at all arrived for
    /// the socket timeout (the interval when there is none).
    pub(super) fn check_health(&mut self, config: &Config) -> Result<()> {
        if config.health_check_interval().is_none() {
            return Ok(());
        }
        let idle = self.connection()?.idle_time();
        let now = Instant::now();
        match self.state.health(
            config.health_check_interval(),
            config.socket_timeout(),
            idle,
            now,
        ) {
            Health::Fine => {}
            Health::Ping => {
                self.send("PING", &[Bytes::from_static(HEALTH_CHECK_MESSAGE)])?;
                self.state.health_ping_sent(now);
            }
            Health::Lost(limit) => {
                let addr = self.connection()?.addr().to_owned();
                self.disconnect();
                return Err(health_timeout(addr, limit));
            }
        }
        Ok(())
    }
}
