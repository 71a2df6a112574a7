//! Making one reply out of several nodes' replies: by the command's response policy for a
//! fan-out, in argument order for a split command.

use bytes::Bytes;

use crate::command::{ResponsePolicy, Special};
use crate::error::{Error, Result};
use crate::resp::Value;

use super::plan::{Merge, Part};

/// Combines the replies of a fan-out, each tagged with its node's address, by `policy`.
///
/// Per-node specials (INFO, MEMORY STATS, LATENCY …) become a map from node address to reply:
/// their numbers do not add up, so none is invented.
pub fn combine(policy: ResponsePolicy, replies: Vec<(String, Result<Value>)>) -> Result<Value> {
    match policy {
        ResponsePolicy::OneSucceeded => {
            let mut last = None;
            for (_, reply) in replies {
                match reply {
                    Ok(v) => return Ok(v),
                    Err(e) => last = Some(e),
                }
            }
            Err(last.unwrap_or_else(no_node))
        }
        ResponsePolicy::Special(Special::RandomKey) => {
            let values = all_ok(replies)?;
            Ok(values
                .into_iter()
                .find(|v| !v.is_nil())
                .unwrap_or(Value::Nil))
        }
        ResponsePolicy::Special(Special::FunctionStats) => {
            let values = all_ok(replies)?;
            // The primary running a function reports it; the engines are the same everywhere.
            let running = values
                .iter()
                .position(|v| field_of(v, b"running_script").is_some_and(|r| !r.is_nil()));
            values
                .into_iter()
                .nth(running.unwrap_or(0))
                .ok_or_else(no_node)
        }
        ResponsePolicy::Special(Special::Scan | Special::ClusterScan) => Err(Error::Usage(
            "a cluster-wide scan keeps one cursor per node; use the cluster scan iterator".into(),
        )),
        ResponsePolicy::Special(
            Special::Info | Special::MemoryStats | Special::LatencyHistogram | Special::PerNode,
        ) => {
            let mut map = Vec::with_capacity(replies.len());
            for (node, reply) in replies {
                map.push((Value::Bulk(Bytes::from(node)), reply?));
            }
            Ok(Value::Map(map))
        }
        ResponsePolicy::AllSucceeded => all_ok(replies)?.into_iter().next().ok_or_else(no_node),
        ResponsePolicy::AggSum => fold_ints(all_ok(replies)?, 0, |a, b| a.saturating_add(b)),
        ResponsePolicy::AggMin => fold_ints(all_ok(replies)?, i64::MAX, i64::min),
        ResponsePolicy::AggMax => fold_ints(all_ok(replies)?, i64::MIN, i64::max),
        ResponsePolicy::AggLogicalAnd => logical(all_ok(replies)?, |a, b| a && b),
        ResponsePolicy::AggLogicalOr => logical(all_ok(replies)?, |a, b| a || b),
        ResponsePolicy::Default => Ok(concat(all_ok(replies)?)),
    }
}

/// Puts the replies of a split command's parts back together. `replies[i]` answers `parts[i]`;
/// `groups` is how many key groups the whole command had.
pub fn reassemble(
    merge: Merge,
    parts: &[Part],
    groups: usize,
    replies: Vec<Result<Value>>,
) -> Result<Value> {
    match merge {
        Merge::InOrder => {
            let mut out = vec![Value::Nil; groups];
            for (part, reply) in parts.iter().zip(replies) {
                let items = match reply?.without_attributes() {
                    Value::Array(items) => items,
                    other => {
                        return Err(Error::Data(format!(
                            "a split command's part answered {}, not an array",
                            other.kind_name()
                        )))
                    }
                };
                if items.len() != part.groups.len() {
                    return Err(Error::Data(format!(
                        "a split command's part sent {} keys but got {} replies",
                        part.groups.len(),
                        items.len()
                    )));
                }
                for (&ordinal, item) in part.groups.iter().zip(items) {
                    out[ordinal] = item;
                }
            }
            Ok(Value::Array(out))
        }
        Merge::Policy(policy) => combine(
            policy,
            replies.into_iter().map(|r| (String::new(), r)).collect(),
        ),
    }
}

/// The value of `name` in a map reply (RESP3 map or RESP2 flat array).
fn field_of<'v>(value: &'v Value, name: &[u8]) -> Option<&'v Value> {
    match value {
        Value::Map(pairs) => pairs
            .iter()
            .find(|(k, _)| k.as_bytes() == Some(name))
            .map(|(_, v)| v),
        Value::Array(items) => items
            .chunks_exact(2)
            .find(|p| p[0].as_bytes() == Some(name))
            .map(|p| &p[1]),
        _ => None,
    }
}

/// The replies, or the first error among them.
fn all_ok(replies: Vec<(String, Result<Value>)>) -> Result<Vec<Value>> {
    if replies.is_empty() {
        return Err(no_node());
    }
    replies.into_iter().map(|(_, r)| r).collect()
}

fn no_node() -> Error {
    Error::Usage("the cluster has no node to send the command to".into())
}

fn fold_ints(values: Vec<Value>, start: i64, f: impl Fn(i64, i64) -> i64) -> Result<Value> {
    let mut acc = start;
    for v in values {
        let n = v.as_int().ok_or_else(|| {
            Error::Data(format!(
                "expected an integer to aggregate, got {}",
                v.kind_name()
            ))
        })?;
        acc = f(acc, n);
    }
    Ok(Value::Integer(acc))
}

/// Element-wise logic over 0/1 arrays (SCRIPT EXISTS), or over single integers.
fn logical(values: Vec<Value>, f: impl Fn(bool, bool) -> bool) -> Result<Value> {
    let truth = |v: &Value| match v {
        Value::Integer(i) => Ok(*i != 0),
        Value::Boolean(b) => Ok(*b),
        other => Err(Error::Data(format!(
            "expected 0 or 1 to combine, got {}",
            other.kind_name()
        ))),
    };
    let mut iter = values.into_iter();
    let first = iter.next().ok_or_else(no_node)?;
    match first {
        Value::Array(mut acc) => {
            for v in iter {
                let Value::Array(items) = v else {
                    return Err(Error::Data("nodes answered arrays and non-arrays".into()));
                };
                if items.len() != acc.len() {
                    return Err(Error::Data(
                        "nodes answered arrays of different lengths".into(),
                    ));
                }
                for (a, b) in acc.iter_mut().zip(&items) {
                    *a = Value::Integer(i64::from(f(truth(a)?, truth(b)?)));
                }
            }
            Ok(Value::Array(acc))
        }
        scalar => {
            let mut acc = truth(&scalar)?;
            for v in iter {
                acc = f(acc, truth(&v)?);
            }
            Ok(Value::Integer(i64::from(acc)))
        }
    }
}

/// The default for a fan-out without a policy: arrays and sets concatenated, maps merged; any
/// other reply, when the nodes agree, once; else every reply in node order.
fn concat(values: Vec<Value>) -> Value {
    let all = |f: fn(&Value) -> bool| values.iter().all(f);
    if all(|v| matches!(v, Value::Array(_))) {
        Value::Array(
            values
                .into_iter()
                .flat_map(|v| v.into_array().unwrap_or_default())
                .collect(),
        )
    } else if all(|v| matches!(v, Value::Set(_))) {
        Value::Set(
            values
                .into_iter()
                .flat_map(|v| match v {
                    Value::Set(items) => items,
                    _ => Vec::new(),
                })
                .collect(),
        )
    } else if all(|v| matches!(v, Value::Map(_))) {
        Value::Map(
            values
                .into_iter()
                .flat_map(|v| match v {
                    Value::Map(pairs) => pairs,
                    _ => Vec::new(),
                })
                .collect(),
        )
    } else if values.windows(2).all(|w| w[0] == w[1]) {
        values.into_iter().next().unwrap_or(Value::Nil)
    } else {
        Value::Array(values)
    }
}

#[cfg(test)]
mod tests;
