//! `cargo xtask import [--url redis://HOST:PORT]…`: writes `commands/*.json` from the
//! `COMMAND DOCS` and `COMMAND INFO` of live servers.
//!
//! Without `--url` it spawns Redis, Valkey and Redis Sentinel on loopback. The union rules and
//! the file format live in `codegen::import` and `commands/README.md`.

mod resp_json;
mod sources;
mod write;

use codegen::import::{import, ImportReport};

use crate::setup::workspace_root;

/// Runs the import with the command line after `import`.
pub fn run(args: &[String]) -> Result<(), String> {
    let mut urls = Vec::new();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--url" => urls.push(
                rest.next()
                    .ok_or("--url needs a value: --url redis://HOST:PORT")?
                    .clone(),
            ),
            other => {
                return Err(format!(
                "unknown argument `{other}`; usage: cargo xtask import [--url redis://HOST:PORT]…"
            ))
            }
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
    let dir = workspace_root().join("commands");
    let written = write::write_all(&dir, &imported.commands)?;
    print_report(&imported.report, imported.commands.len());
    println!(
        "commands/: {} created, {} updated, {} unchanged",
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
    let mut by_field = std::collections::BTreeMap::<&str, usize>::new();
    for (_, fields) in &report.per_server_diffs {
        for field in fields {
            *by_field.entry(field).or_default() += 1;
        }
    }
    println!(
        "per_server differences in {} commands; by field: {}",
        report.per_server_diffs.len(),
        join_counts(by_field.iter().map(|(k, v)| (*k, *v)))
    );
    println!(
        "arguments kept in several shapes: {} in {} commands",
        report.multi_shape_arguments.len(),
        report
            .multi_shape_arguments
            .iter()
            .map(|(command, _, _)| command)
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    );
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
