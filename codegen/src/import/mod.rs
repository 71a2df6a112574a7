//! Turns the `COMMAND DOCS` and `COMMAND INFO` replies of several servers into spec commands.
//!
//! The replies come in as JSON (maps as objects, sets and arrays as lists, strings as strings),
//! so this module knows nothing of RESP; `cargo xtask import` fetches them and writes the files.
//! How several servers are united is documented in `commands/README.md`.

mod merge;
mod server;

use std::collections::BTreeMap;

use serde_json::Value;

use crate::spec::Command;

/// What one server answered, ready to import.
#[derive(Clone, Debug)]
pub struct ServerReplies {
    /// The server's id (`redis-7.0.15`), usually from [`server_id`].
    pub id: String,
    /// The reply to `COMMAND DOCS` with no arguments: a map from command name to its docs.
    pub docs: Value,
    /// The reply to `COMMAND INFO` with no arguments: a list of command descriptions.
    pub info: Value,
}

/// An import that could not be done: which server, and what in its replies was unexpected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{server}: {message}")]
pub struct ImportError {
    /// The server id, or `import` for problems that concern no single server.
    pub server: String,
    /// What was wrong, naming the command and field.
    pub message: String,
}

/// The united commands and what the union had to do to build them.
#[derive(Clone, Debug, Default)]
pub struct Import {
    /// Every command and subcommand, sorted by file name; `reply` and `rust` are never set.
    pub commands: Vec<Command>,
    /// Facts about the union, for the importer's report.
    pub report: ImportReport,
}

/// Counts and lists that show where the servers disagree.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Number of commands and subcommands each server knows, by server id.
    pub per_server_counts: BTreeMap<String, usize>,
    /// Commands with a `per_server` entry, with the fields that differ.
    pub per_server_diffs: Vec<(String, Vec<String>)>,
    /// Arguments kept in more than one shape: command, argument path, number of shapes.
    pub multi_shape_arguments: Vec<(String, String, usize)>,
    /// How often an argument field was taken from another server because a server never sends
    /// that field at all (for example `display_text`, which Redis 7.0 does not report).
    pub unreported_fields: BTreeMap<String, usize>,
    /// Mistakes in a server's docs that the import corrected (see `commands/README.md`).
    pub corrections: Vec<String>,
}

/// Rank of a server kind in the union: the first server's values are the file's own.
fn priority(id: &str) -> usize {
    const ORDER: [&str; 3] = ["valkey-", "redis-", "sentinel-"];
    ORDER
        .iter()
        .position(|prefix| id.starts_with(prefix))
        .unwrap_or(ORDER.len())
}

/// The server id from the text of `INFO server`: `valkey-9.1.2`, `redis-7.0.15`, or
/// `sentinel-7.0.15` (a Redis in sentinel mode; a Valkey one is `valkey-sentinel-…`).
pub fn server_id(info_server: &str) -> Result<String, ImportError> {
    let fields: BTreeMap<&str, &str> = info_server
        .lines()
        .filter_map(|line| line.trim_end_matches('\r').split_once(':'))
        .collect();
    let sentinel = [fields.get("redis_mode"), fields.get("server_mode")]
        .into_iter()
        .flatten()
        .any(|mode| *mode == "sentinel");
    let (kind, version) = if let Some(version) = fields.get("valkey_version") {
        (
            if sentinel {
                "valkey-sentinel"
            } else {
                "valkey"
            },
            *version,
        )
    } else if let Some(version) = fields.get("redis_version") {
        (if sentinel { "sentinel" } else { "redis" }, *version)
    } else {
        return Err(ImportError {
            server: "import".into(),
            message: "INFO server has neither valkey_version nor redis_version".into(),
        });
    };
    Ok(format!("{kind}-{version}"))
}

/// Unites the replies of `servers` into one command list.
///
/// Servers are ranked valkey, redis, sentinel (then any other kind), keeping the given order
/// within a kind; the first server that knows a command provides the file's own values.
pub fn import(servers: &[ServerReplies]) -> Result<Import, ImportError> {
    let mut ranked: Vec<&ServerReplies> = servers.iter().collect();
    ranked.sort_by_key(|server| priority(&server.id));
    for (i, server) in ranked.iter().enumerate() {
        if ranked[..i].iter().any(|other| other.id == server.id) {
            return Err(ImportError {
                server: server.id.clone(),
                message: "imported twice; give each server once".into(),
            });
        }
    }
    let parsed = ranked
        .iter()
        .map(|server| server::parse(&server.id, &server.docs, &server.info))
        .collect::<Result<Vec<_>, _>>()?;
    let mut report = ImportReport::default();
    for server in &parsed {
        report
            .per_server_counts
            .insert(server.id.clone(), server.commands.len());
        report
            .corrections
            .extend(server.corrections.iter().cloned());
    }
    let commands = merge::merge(&parsed, &mut report);
    Ok(Import { commands, report })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_ids_come_from_info_server() {
        let valkey = "# Server\r\nredis_version:7.2.4\r\nserver_name:valkey\r\nvalkey_version:9.1.2\r\nserver_mode:standalone\r\n";
        assert_eq!(server_id(valkey).unwrap(), "valkey-9.1.2");
        let redis = "# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\n";
        assert_eq!(server_id(redis).unwrap(), "redis-7.0.15");
        let sentinel = "# Server\r\nredis_version:7.0.15\r\nredis_mode:sentinel\r\n";
        assert_eq!(server_id(sentinel).unwrap(), "sentinel-7.0.15");
        assert!(server_id("# Server\r\nos:Linux\r\n").is_err());
    }
}
