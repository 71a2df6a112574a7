//! Writes the imported commands into `commands/`, keeping project-owned fields, and finds the
//! files no imported server knows any more.

use std::collections::BTreeSet;
use std::path::Path;

use codegen::spec::Command;
use codegen::spec_file;

/// What writing changed.
#[derive(Debug, Default)]
pub struct Written {
    /// Files created.
    pub created: Vec<String>,
    /// Files whose text changed.
    pub updated: Vec<String>,
    /// Files left as they were.
    pub unchanged: usize,
    /// Existing `*.json` files of commands no imported server knows; left alone.
    pub not_imported: Vec<String>,
}

/// Writes one file per command into `dir`, touching only files whose text changes. With
/// `check`, nothing is written: the result says what a write would change.
pub fn write_all(dir: &Path, commands: &[Command], check: bool) -> Result<Written, String> {
    if !check {
        std::fs::create_dir_all(dir).map_err(|err| format!("creating {}: {err}", dir.display()))?;
    }
    let mut written = Written::default();
    let mut imported = BTreeSet::new();
    for command in commands {
        let name = command.file_name();
        let path = dir.join(&name);
        let shown = path.display().to_string();
        let previous = match std::fs::read_to_string(&path) {
            Ok(text) => Some(text),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
            Err(err) => return Err(format!("reading {}: {err}", path.display())),
        };
        let text = spec_file::render(command, previous.as_deref(), &shown)
            .map_err(|err| err.to_string())?;
        if previous.as_deref() != Some(text.as_str()) {
            if !check {
                std::fs::write(&path, &text)
                    .map_err(|err| format!("writing {}: {err}", path.display()))?;
            }
            if previous.is_some() {
                written.updated.push(name.clone());
            } else {
                written.created.push(name.clone());
            }
        } else {
            written.unchanged += 1;
        }
        imported.insert(name);
    }
    if !dir.exists() {
        return Ok(written);
    }
    let entries =
        std::fs::read_dir(dir).map_err(|err| format!("listing {}: {err}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|err| format!("listing {}: {err}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".json") && !imported.contains(&name) {
            written.not_imported.push(name);
        }
    }
    written.not_imported.sort();
    Ok(written)
}
