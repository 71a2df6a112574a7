//! Reading `CLUSTER SHARDS` and `CLUSTER SLOTS` replies (RESP2 or RESP3) into a [`Topology`].

use super::map::{Shard, Topology};
use crate::cluster::slot::SLOT_COUNT;
use crate::error::{Error, Result};
use crate::resp::Value;

/// The map from a `CLUSTER SHARDS` reply. `asked` is the `host` the reply came from, used for a
/// node that does not know its own address (`endpoint` `?` or empty).
///
/// Failed replicas are left out: reads must not go there.
pub fn from_shards(reply: &Value, asked: &str) -> Result<Topology> {
    let shards = array(reply, "CLUSTER SHARDS")?;
    let mut ranges = Vec::new();
    for shard in shards {
        let fields = pairs(shard, "CLUSTER SHARDS shard")?;
        let slots = match field(&fields, "slots") {
            Some(v) => array(v, "CLUSTER SHARDS slots")?,
            None => return Err(bad("CLUSTER SHARDS", "a shard has no `slots`")),
        };
        let nodes = match field(&fields, "nodes") {
            Some(v) => array(v, "CLUSTER SHARDS nodes")?,
            None => return Err(bad("CLUSTER SHARDS", "a shard has no `nodes`")),
        };
        let mut primary = None;
        let mut replicas = Vec::new();
        for node in nodes {
            let node = pairs(node, "CLUSTER SHARDS node")?;
            let text = |name: &str| field(&node, name).and_then(as_text);
            let port = field(&node, "port")
                .or_else(|| field(&node, "tls-port"))
                .and_then(as_int)
                .ok_or_else(|| bad("CLUSTER SHARDS", "a node has no port"))?;
            let host = [text("endpoint"), text("ip")]
                .into_iter()
                .flatten()
                .find(|h| !h.is_empty() && h != "?")
                .unwrap_or_else(|| asked.to_string());
            let addr = join(&host, port);
            // Redis 7.0 reports a replica `loading` while its offset is 0 (nothing written
            // yet); one that really loads answers LOADING, which sends the read to the primary.
            let online = text("health").is_none_or(|h| h != "failed");
            match text("role").as_deref() {
                // After a failover the dead former primary may still be listed as one; the
                // online primary wins.
                Some("master") if online || primary.is_none() => primary = Some(addr),
                Some("master") => {}
                _ if online => replicas.push(addr),
                _ => {}
            }
        }
        let Some(primary) = primary else {
            // A shard whose primary is gone owns nothing the client can reach.
            continue;
        };
        let shard = Shard { primary, replicas };
        for pair in slots.chunks(2) {
            let (Some(first), Some(last)) =
                (pair.first().and_then(as_int), pair.get(1).and_then(as_int))
            else {
                return Err(bad("CLUSTER SHARDS", "slots are not pairs of numbers"));
            };
            ranges.push((slot(first)?, slot(last)?, shard.clone()));
        }
    }
    Ok(Topology::from_ranges(ranges))
}

/// The map from a `CLUSTER SLOTS` reply (for servers before 7.0, or when `CLUSTER SHARDS` is
/// refused); `asked` as for [`from_shards`].
pub fn from_slots(reply: &Value, asked: &str) -> Result<Topology> {
    let mut ranges = Vec::new();
    for range in array(reply, "CLUSTER SLOTS")? {
        let items = array(range, "CLUSTER SLOTS range")?;
        let (Some(first), Some(last)) = (
            items.first().and_then(as_int),
            items.get(1).and_then(as_int),
        ) else {
            return Err(bad(
                "CLUSTER SLOTS",
                "a range does not start with two numbers",
            ));
        };
        let mut addrs = Vec::new();
        for node in &items[2..] {
            let node = array(node, "CLUSTER SLOTS node")?;
            let host = node
                .first()
                .and_then(as_text)
                .filter(|h| !h.is_empty() && h != "?");
            let port = node
                .get(1)
                .and_then(as_int)
                .ok_or_else(|| bad("CLUSTER SLOTS", "a node has no port"))?;
            addrs.push(join(&host.unwrap_or_else(|| asked.to_string()), port));
        }
        let mut addrs = addrs.into_iter();
        let Some(primary) = addrs.next() else {
            return Err(bad("CLUSTER SLOTS", "a range has no primary"));
        };
        let shard = Shard {
            primary,
            replicas: addrs.collect(),
        };
        ranges.push((slot(first)?, slot(last)?, shard));
    }
    Ok(Topology::from_ranges(ranges))
}

fn join(host: &str, port: i64) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

fn slot(n: i64) -> Result<u16> {
    u16::try_from(n)
        .ok()
        .filter(|&s| s < SLOT_COUNT)
        .ok_or_else(|| bad("cluster topology", &format!("slot {n} is out of range")))
}

fn bad(what: &str, why: &str) -> Error {
    Error::Protocol(format!("{what}: {why}"))
}

fn array<'v>(value: &'v Value, what: &str) -> Result<&'v [Value]> {
    match value {
        Value::Array(items) | Value::Set(items) => Ok(items),
        Value::Attribute { value, .. } => array(value, what),
        other => Err(bad(
            what,
            &format!("expected an array, got {}", other.kind_name()),
        )),
    }
}

/// A RESP3 map, or RESP2's flat `[name, value, …]` array, as pairs.
fn pairs<'v>(value: &'v Value, what: &str) -> Result<Vec<(&'v Value, &'v Value)>> {
    match value {
        Value::Map(pairs) => Ok(pairs.iter().map(|(k, v)| (k, v)).collect()),
        Value::Array(items) => Ok(items.chunks_exact(2).map(|p| (&p[0], &p[1])).collect()),
        Value::Attribute { value, .. } => pairs(value, what),
        other => Err(bad(
            what,
            &format!("expected a map, got {}", other.kind_name()),
        )),
    }
}

fn field<'v>(pairs: &[(&'v Value, &'v Value)], name: &str) -> Option<&'v Value> {
    pairs
        .iter()
        .find(|(k, _)| k.as_bytes() == Some(name.as_bytes()))
        .map(|(_, v)| *v)
}

fn as_text(value: &Value) -> Option<String> {
    value
        .as_bytes()
        .map(|b| String::from_utf8_lossy(b).into_owned())
}

fn as_int(value: &Value) -> Option<i64> {
    match value {
        Value::Integer(i) => Some(*i),
        other => std::str::from_utf8(other.as_bytes()?).ok()?.parse().ok(),
    }
}
