//! `cargo xtask import [--url redis://HOST:PORT]…`: writes `commands/*.json` from the
//! `COMMAND DOCS` and `COMMAND INFO` of live servers.
//!
//! Without `--url` it spawns Redis, Valkey and Redis Sentinel on loopback. The union rules and
//! the file format live in `codegen::import` and `commands/README.md`.

mod resp_json;
pub(crate) mod sources;
mod write;

use std::collections::BTreeMap;

use codegen::import::{import, ImportReport};

use crate::setup::workspace_root;

const USAGE: &str =
    "usage: cargo xtask import [--url redis://HOST:PORT]… [--dir DIR (default commands/)] [--check]";

/// Runs the import with the command line after `import`.
pub fn run(args: &[String]) -> Result<(), String> {
    let mut urls = Vec::new();
    let mut dir = workspace_root().join("commands");
    let mut check = false;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--url" => urls.push(
                rest.next()
                    .ok_or_else(|| format!("--url needs a value; {USAGE}"))?
                    .clone(),
            ),
            "--check" => check = true,
            "--dir" => dir = rest.next().ok_or("--dir needs a directory")?.into(),
            other => return Err(format!("unknown argument `{other}`; {USAGE}")),
        }
    }
    // The spawned servers must outlive the fetch; they stop when `_spawned` drops.
    let (_spawned, replies) = if urls.is_empty() {
        let (spawned, replies) = sources::spawned()?;
        (Some(spawned), replies)
    } else {
        (None, sources::from_urls(&urls)?)
    };
    let imported = import(&replies).map_err(|err| err.to_string())?;
    let written = write::write_all(&dir, &imported.commands, check)?;
    print_report(&imported.report, imported.commands.len());
    if check {
        let stale: Vec<&str> = written
            .created
            .iter()
            .chain(&written.updated)
            .map(String::as_str)
            .collect();
        if !stale.is_empty() {
            return Err(format!(
                "{} files differ from a fresh import (run `cargo xtask import`): {}",
                stale.len(),
                stale.join(", ")
            ));
        }
        println!(
            "{}: all {} files match a fresh import",
            dir.display(),
            written.unchanged
        );
        return Ok(());
    }
    println!(
        "{}: {} created, {} updated, {} unchanged",
        dir.display(),
        written.created.len(),
        written.updated.len(),
        written.unchanged
    );
    if !written.not_imported.is_empty() {
        println!(
            "left alone ({} files no imported server knows): {}",
            written.not_imported.len(),
            written.not_imported.join(", ")
        );
    }
    Ok(())
}

fn print_report(report: &ImportReport, total: usize) {
    for (server, count) in &report.per_server_counts {
        println!("{server}: {count} commands and subcommands");
    }
    println!("union: {total} commands and subcommands");
    let mut by_field = BTreeMap::<&str, Vec<&str>>::new();
    for (command, fields) in &report.per_server_diffs {
        for field in fields {
            by_field.entry(field).or_default().push(command);
        }
    }
    println!(
        "per_server differences in {} commands:",
        report.per_server_diffs.len()
    );
    for (field, commands) in by_field {
        // Long lists (every summary Valkey reworded) would drown the short ones.
        if commands.len() > 40 {
            println!("  {field}: {} commands", commands.len());
        } else {
            println!("  {field}: {} ({})", commands.len(), commands.join(", "));
        }
    }
    println!(
        "arguments kept in several shapes: {}",
        report.multi_shape_arguments.len()
    );
    for (command, path, shapes) in &report.multi_shape_arguments {
        println!("  {command} {path}: {shapes} shapes");
    }
    if !report.unreported_fields.is_empty() {
        println!(
            "argument fields taken from servers that report them (others never send them): {}",
            join_counts(
                report
                    .unreported_fields
                    .iter()
                    .map(|(k, v)| (k.as_str(), *v))
            )
        );
    }
    for correction in &report.corrections {
        println!("corrected: {correction}");
    }
}

fn join_counts<'a>(counts: impl Iterator<Item = (&'a str, usize)>) -> String {
    counts
        .map(|(name, count)| format!("{name} {count}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed spec is what the servers here say (plus project-owned fields), and the
    /// import is deterministic: a fresh import would change no file.
    #[test]
    fn committed_spec_matches_a_fresh_import() {
        let (_spawned, replies) = sources::spawned().expect("servers start");
        let imported = import(&replies).expect("import succeeds");
        assert_eq!(imported.commands.len(), 421);
        let dir = workspace_root().join("commands");
        let written = write::write_all(&dir, &imported.commands, true).expect("check runs");
        assert!(
            written.created.is_empty() && written.updated.is_empty(),
            "stale: {:?} {:?}",
            written.created,
            written.updated
        );
    }
}
