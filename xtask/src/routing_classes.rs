//! The routing part of `cargo xtask coverage`: the cluster routing class of every command of
//! the spec (`codegen::routing::class`: `by-key`, `keyless`, `by-channel`, `all-nodes`,
//! `all-shards`, `multi-shard`, `special:<handler>`), with its response policy where it has
//! one, and a count per class. The table is one for every server, so it is printed once.

use std::collections::BTreeMap;

use codegen::routing::{class, policies, Response};
use codegen::spec::Command;

/// One line per command (sorted by name), then the count of each class; an error names the
/// commands the routing table cannot place.
pub fn render(spec: &[Command]) -> Result<String, String> {
    let mut sorted: Vec<&Command> = spec.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let mut out =
        String::from("== cluster routing (one table for every server, from commands/) ==\n");
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    for command in sorted {
        let placed = class(command).and_then(|class| Ok((class, policies(command)?.response)));
        match placed {
            Ok((class, response)) => {
                let response = match response {
                    Response::Default | Response::Special => String::new(),
                    other => format!("  (response {})", response_name(other)),
                };
                out.push_str(&format!(
                    "  routing:   {:<32} {class}{response}\n",
                    command.name
                ));
                *counts.entry(class).or_default() += 1;
            }
            Err(message) => failures.push(format!("{}: {message}", command.file)),
        }
    }
    if !failures.is_empty() {
        return Err(format!(
            "commands without a routing class:\n{}",
            failures.join("\n")
        ));
    }
    let total: usize = counts.values().sum();
    let summary: Vec<String> = counts.iter().map(|(c, n)| format!("{n} {c}")).collect();
    out.push_str(&format!(
        "routing: {total} commands and subcommands, every one classed: {}\n\n",
        summary.join(", ")
    ));
    Ok(out)
}

fn response_name(response: Response) -> &'static str {
    match response {
        Response::Default => "default",
        Response::AllSucceeded => "all_succeeded",
        Response::OneSucceeded => "one_succeeded",
        Response::AggLogicalAnd => "agg_logical_and",
        Response::AggLogicalOr => "agg_logical_or",
        Response::AggMin => "agg_min",
        Response::AggMax => "agg_max",
        Response::AggSum => "agg_sum",
        Response::Special => "special",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::setup::workspace_root;

    /// Every command of the real spec gets a class, and the classes the cluster needs appear.
    #[test]
    fn every_command_has_a_class() {
        let spec = codegen::spec::load_dir(&workspace_root().join("commands")).unwrap();
        let out = render(&spec).unwrap();
        let lines = out
            .lines()
            .filter(|l| l.trim_start().starts_with("routing:   "));
        assert_eq!(lines.count(), spec.len());
        for needle in [
            "GET                              by-key",
            "PING                             all-shards  (response all_succeeded)",
            "DEL                              multi-shard  (response agg_sum)",
            "SCAN                             special:scan",
            "SPUBLISH                         by-channel",
            "ECHO                             keyless",
        ] {
            assert!(out.contains(needle), "{needle:?} in\n{out}");
        }
    }
}
