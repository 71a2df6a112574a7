//! Turning a freshly started `cluster-enabled` node into a one-node cluster that owns every slot.

use std::time::Duration;

use crate::error::{IoContext, Result};
use crate::raw::RawConnection;
use crate::reply::{info_field, text};
use crate::server::Server;
use crate::wait::wait_until;

/// How long a node gets to report `cluster_state:ok` after taking all slots.
const CLUSTER_OK_DEADLINE: Duration = Duration::from_secs(10);

/// Assigns slots 0–16383 to `server` and waits until `CLUSTER INFO` says `cluster_state:ok`.
pub(crate) fn assign_all_slots(server: &Server) -> Result<()> {
    let mut conn =
        RawConnection::connect_to(server).context(|| format!("connecting to {server}"))?;
    conn.call_ok(&["CLUSTER", "ADDSLOTSRANGE", "0", "16383"])?;
    wait_until(
        &format!("cluster_state:ok on {}", server.addr()),
        CLUSTER_OK_DEADLINE,
        || {
            let reply = conn.call(&["CLUSTER", "INFO"]).map_err(|e| e.to_string())?;
            let info = text(&reply).unwrap_or_default();
            match info_field(&info, "cluster_state") {
                Some("ok") => Ok(()),
                other => Err(format!("cluster_state:{}", other.unwrap_or("(missing)"))),
            }
        },
    )
}
