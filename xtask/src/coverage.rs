//! `cargo xtask coverage [--url redis://HOST:PORT]… [--strict] [--list]`: holds live servers'
//! `COMMAND LIST` and `COMMAND DOCS` against the generated command surface.
//!
//! Without `--url` it spawns the servers installed here (Redis, Valkey, Redis Sentinel) on
//! loopback and audits each. The comparison rules live in `codegen::coverage`; this module
//! fetches, prints (one summary line per group, one line per problem or note, totals last) and
//! decides the exit status: `--strict` fails on any missing command or argument mismatch.
//! Before the totals it prints the cluster routing class of every command (`routing_classes`),
//! failing when a command has none.

use codegen::coverage::{audit, Report, Status, Totals};
use codegen::import::{import, ServerReplies};
use codegen::spec::{load_dir, Command};
use redis_client::Value;
use redis_test_harness::{RawConnection, SentinelServer, Server, ServerKind};

use crate::import::sources::{connect, fetch};
use crate::setup::workspace_root;

const USAGE: &str =
    "usage: cargo xtask coverage [--url redis://HOST:PORT]… [--strict] [--list (name covered commands)]";

/// Runs the audit with the command line after `coverage`.
pub fn run(args: &[String]) -> Result<(), String> {
    let mut urls = Vec::new();
    let mut strict = false;
    let mut list = false;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--url" => urls.push(
                rest.next()
                    .ok_or_else(|| format!("--url needs a value; {USAGE}"))?
                    .clone(),
            ),
            "--strict" => strict = true,
            "--list" => list = true,
            other => return Err(format!("unknown argument `{other}`; {USAGE}")),
        }
    }
    let spec_dir = workspace_root().join("commands");
    let spec = load_dir(&spec_dir).map_err(|err| err.to_string())?;
    // Spawned servers must live until every audit is fetched; they stop when dropped.
    let (_spawned, targets) = if urls.is_empty() {
        let (spawned, targets) = spawned()?;
        (Some(spawned), targets)
    } else {
        (None, from_urls(&urls)?)
    };
    let mut totals = Totals::default();
    for target in &targets {
        let report = audit_target(&spec, target)?;
        print!("{}", render(&report, &target.url, list));
        totals += report.totals();
    }
    print!("{}", crate::routing_classes::render(&spec)?);
    println!("{}", total_line(targets.len(), &totals));
    verdict(&totals, strict)
}

/// What one server answered: its docs and info (for `codegen::import`) and its command list.
pub struct Target {
    /// Where it was reached, for the output.
    pub url: String,
    /// `COMMAND DOCS` and `COMMAND INFO`.
    pub replies: ServerReplies,
    /// `COMMAND LIST`, as sent (`client|kill`).
    pub listed: Vec<String>,
}

/// The servers spawned for an audit; they stop when this is dropped.
struct Spawned {
    _servers: Vec<Server>,
    _sentinel: SentinelServer,
}

fn spawned() -> Result<(Spawned, Vec<Target>), String> {
    let start = |kind: ServerKind| {
        Server::spawn(kind).map_err(|err| format!("starting {}-server: {err}", kind.name()))
    };
    let redis = start(ServerKind::Redis)?;
    let valkey = start(ServerKind::Valkey)?;
    let sentinel =
        SentinelServer::monitor(&redis).map_err(|err| format!("starting redis-sentinel: {err}"))?;
    let mut targets = Vec::new();
    for (addr, url) in [
        (redis.addr(), redis.url()),
        (valkey.addr(), valkey.url()),
        (sentinel.addr(), sentinel.url()),
    ] {
        let mut conn =
            RawConnection::connect(addr).map_err(|err| format!("connecting to {url}: {err}"))?;
        targets.push(fetch_target(&mut conn, &url)?);
    }
    let spawned = Spawned {
        _servers: vec![redis, valkey],
        _sentinel: sentinel,
    };
    Ok((spawned, targets))
}

fn from_urls(urls: &[String]) -> Result<Vec<Target>, String> {
    urls.iter()
        .map(|url| {
            let mut conn = connect(url, "audited")?;
            fetch_target(&mut conn, url)
        })
        .collect()
}

/// Fetches docs and info (as the importer does) and `COMMAND LIST`.
fn fetch_target(conn: &mut RawConnection, url: &str) -> Result<Target, String> {
    let replies = fetch(conn, url)?;
    let reply = conn
        .call_ok(&["COMMAND", "LIST"])
        .map_err(|err| format!("{url} ({}): COMMAND LIST: {err}", replies.id))?;
    let listed = command_list(&reply)
        .map_err(|err| format!("{url} ({}): COMMAND LIST: {err}", replies.id))?;
    Ok(Target {
        url: url.to_string(),
        replies,
        listed,
    })
}

fn command_list(reply: &Value) -> Result<Vec<String>, String> {
    let (Value::Array(items) | Value::Set(items)) = reply else {
        return Err(format!("expected a list of names, got {reply:?}"));
    };
    items
        .iter()
        .map(|item| match item {
            Value::Bulk(name) | Value::Simple(name) => String::from_utf8(name.to_vec())
                .map_err(|_| format!("a command name is not UTF-8: {item:?}")),
            other => Err(format!("expected a command name, got {other:?}")),
        })
        .collect()
}

/// Turns the server's docs into spec commands and audits the surface generated from `spec`.
pub fn audit_target(spec: &[Command], target: &Target) -> Result<Report, String> {
    let imported = import(std::slice::from_ref(&target.replies)).map_err(|err| err.to_string())?;
    audit(spec, &target.replies.id, &target.listed, &imported.commands)
        .map_err(|err| err.to_string())
}

/// The human-readable audit of one server: per group a summary line, then one line per missing
/// command, mismatched argument and note; the server's totals last.
pub fn render(report: &Report, url: &str, list: bool) -> String {
    let mut out = format!("== {} ({url}) ==\n", report.server);
    for (group, (totals, commands)) in report.groups() {
        out.push_str(&format!("{group}: {}\n", counts(&totals)));
        for command in commands {
            match &command.status {
                Status::Covered if list => {
                    out.push_str(&format!("  covered:   {}\n", command.name));
                }
                Status::Missing => {
                    out.push_str(&format!(
                        "  missing:   {} (no generated command of this name)\n",
                        command.name
                    ));
                }
                Status::Mismatch(problems) => {
                    for problem in problems {
                        out.push_str(&format!(
                            "  mismatch:  {} {}: {}\n",
                            command.name, problem.path, problem.message
                        ));
                    }
                }
                _ => {}
            }
            for note in &command.notes {
                out.push_str(&format!("  note:      {note}\n"));
            }
        }
    }
    if !report.unlisted.is_empty() {
        out.push_str(&format!(
            "generated for {} but not in its COMMAND LIST (not a gap): {}\n",
            report.server,
            report.unlisted.join(", ")
        ));
    }
    out.push_str(&format!(
        "{}: {} commands and subcommands: {}\n\n",
        report.server,
        report.totals().total(),
        counts(&report.totals())
    ));
    out
}

fn counts(totals: &Totals) -> String {
    let mut text = format!(
        "{} covered, {} missing, {} with argument mismatches",
        totals.covered, totals.missing, totals.mismatched
    );
    if totals.containers > 0 {
        text.push_str(&format!(
            ", {} bare containers (callable only with a subcommand)",
            totals.containers
        ));
    }
    text
}

fn total_line(servers: usize, totals: &Totals) -> String {
    format!(
        "total over {servers} servers: {}; {} gaps",
        counts(totals),
        totals.gaps()
    )
}

/// The exit status: with `--strict`, any gap is an error.
pub fn verdict(totals: &Totals, strict: bool) -> Result<(), String> {
    if strict && totals.gaps() > 0 {
        return Err(format!(
            "--strict: {} gaps ({} missing commands, {} commands with argument mismatches)",
            totals.gaps(),
            totals.missing,
            totals.mismatched
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A COMMAND DOCS-derived model with an argument the spec lacks: the audit names the
    /// command and argument, and `--strict` fails on it.
    #[test]
    fn an_argument_the_spec_lacks_is_reported_and_fails_strict() {
        let valkey = Server::spawn(ServerKind::Valkey).expect("valkey starts");
        let mut conn = RawConnection::connect(valkey.addr()).expect("connects");
        let target = fetch_target(&mut conn, &valkey.url()).expect("fetches");
        let spec = load_dir(&workspace_root().join("commands")).expect("spec loads");
        let mismatches = |report: &Report| -> Vec<String> {
            render(report, "test", false)
                .lines()
                .filter(|l| l.trim_start().starts_with("mismatch:"))
                .map(str::to_string)
                .collect()
        };
        let before = audit_target(&spec, &target).expect("audit runs");

        let mut extended = Target {
            url: target.url.clone(),
            replies: target.replies.clone(),
            listed: target.listed.clone(),
        };
        extended.replies.docs["set"]["arguments"]
            .as_array_mut()
            .expect("SET has arguments")
            .push(serde_json::json!({
                "name": "frobnicate",
                "type": "pure-token",
                "token": "FROBNICATE",
                "flags": ["optional"],
            }));
        let after = audit_target(&spec, &extended).expect("audit runs");

        let new: Vec<String> = mismatches(&after)
            .into_iter()
            .filter(|line| !mismatches(&before).contains(line))
            .collect();
        assert_eq!(new.len(), 1, "{new:?}");
        assert!(
            new[0].contains("SET frobnicate:") && new[0].contains("token FROBNICATE"),
            "{}",
            new[0]
        );
        let totals = after.totals();
        assert_eq!(totals.mismatched, before.totals().mismatched + 1);
        assert!(verdict(&totals, true).is_err());
        assert!(verdict(&totals, false).is_ok());
    }

    #[test]
    fn command_list_takes_arrays_and_sets_of_names() {
        let names = Value::Set(vec![
            Value::Bulk("get".into()),
            Value::Simple("client|kill".into()),
        ]);
        assert_eq!(command_list(&names).unwrap(), ["get", "client|kill"]);
        assert!(command_list(&Value::Integer(3)).is_err());
        assert!(command_list(&Value::Array(vec![Value::Integer(3)])).is_err());
    }
}
