//! Reading a node's `CLUSTER NODES` text: who is primary, who replicates whom, who owns which slots.

use crate::error::{Error, Result};
use crate::raw::RawConnection;
use crate::reply::text;

/// One line of `CLUSTER NODES`, as the harness needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeLine {
    /// The node id.
    pub id: String,
    /// The client port (from `ip:port@bus`).
    pub port: u16,
    /// Whether the flags say `master`.
    pub primary: bool,
    /// Whether the flags say `fail` or `fail?`.
    pub failing: bool,
    /// The primary's id, for a replica.
    pub primary_id: Option<String>,
    /// Slot ranges owned (inclusive), for a primary; importing/migrating markers are skipped.
    pub slots: Vec<(u16, u16)>,
}

/// Parses the text of `CLUSTER NODES`.
pub fn parse_nodes(nodes: &str) -> Vec<NodeLine> {
    nodes.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<NodeLine> {
    let mut words = line.split_whitespace();
    let id = words.next()?.to_string();
    let addr = words.next()?;
    let port = addr.split('@').next()?.rsplit(':').next()?.parse().ok()?;
    let flags = words.next()?;
    let primary_id = words.next()?;
    // ping-sent, pong-recv, config-epoch, link-state
    let rest: Vec<&str> = words.skip(4).collect();
    let flag = |name: &str| flags.split(',').any(|f| f == name);
    let slots = rest
        .iter()
        .filter(|w| !w.starts_with('['))
        .filter_map(|w| match w.split_once('-') {
            Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
            None => {
                let s = w.parse().ok()?;
                Some((s, s))
            }
        })
        .collect();
    Some(NodeLine {
        id,
        port,
        primary: flag("master"),
        failing: flag("fail") || flag("fail?"),
        primary_id: (primary_id != "-").then(|| primary_id.to_string()),
        slots,
    })
}

/// `CLUSTER NODES` of the node behind `conn`, parsed.
pub fn nodes_of(conn: &mut RawConnection) -> Result<Vec<NodeLine>> {
    let reply = conn.call_ok(&["CLUSTER", "NODES"])?;
    let body = text(&reply).ok_or_else(|| Error::UnexpectedReply {
        context: "CLUSTER NODES".into(),
        reply: format!("{reply:?}"),
    })?;
    Ok(parse_nodes(&body))
}

/// What a node believes about slot ownership, in a form two nodes can be compared by:
/// sorted `(first, last, owner id)` ranges.
pub fn slot_signature(nodes: &[NodeLine]) -> Vec<(u16, u16, String)> {
    let mut ranges: Vec<(u16, u16, String)> = nodes
        .iter()
        .filter(|n| n.primary)
        .flat_map(|n| n.slots.iter().map(|&(a, b)| (a, b, n.id.clone())))
        .collect();
    ranges.sort();
    ranges
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_primaries_replicas_and_slots() {
        let text = "\
a1 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460 6000 [7->-b2]\n\
b2 127.0.0.1:7001@17001 slave a1 0 1 1 connected\n\
c3 127.0.0.1:7002@17002 master,fail? - 0 1 2 disconnected 5461-10922\n";
        let nodes = parse_nodes(text);
        assert_eq!(nodes.len(), 3);
        assert_eq!(nodes[0].slots, vec![(0, 5460), (6000, 6000)]);
        assert!(nodes[0].primary && !nodes[0].failing);
        assert_eq!(nodes[1].primary_id.as_deref(), Some("a1"));
        assert!(!nodes[1].primary);
        assert!(nodes[2].failing);
        assert_eq!(nodes[2].port, 7002);
        assert_eq!(slot_signature(&nodes).len(), 3);
    }
}
