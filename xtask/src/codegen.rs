//! `cargo xtask codegen [--check]`: regenerates `redis-client/src/generated/` from `commands/`.
//!
//! With `--check` nothing is written; it fails when the checked-in files differ from what the
//! spec produces (CI runs this, so a spec change without regeneration cannot land).
//! `--spec-dir DIR` and `--out-dir DIR` read another spec and write somewhere else (to try a
//! spec or generator change on a scratch copy without touching the real tree).
//!
//! It also writes the sample table of the live test of every command
//! (`redis-client/tests/every_command_live/samples.rs`, or `--live-out FILE`).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use codegen::generate::{generate, generate_live};
use codegen::validate::validate_dir;

use crate::setup::workspace_root;

/// Runs the generator; `args` may hold `--check`, `--spec-dir DIR`, `--out-dir DIR` and
/// `--live-out FILE`.
pub fn run(args: &[String]) -> Result<(), String> {
    let root = workspace_root();
    let mut check = false;
    let mut spec_dir = root.join("commands");
    let mut out_dir = root.join("redis-client").join("src").join("generated");
    let mut live_out = root.join(codegen::generate::LIVE_SAMPLES_PATH);
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--check" => check = true,
            "--spec-dir" | "--out-dir" | "--live-out" => {
                let path = args
                    .next()
                    .ok_or_else(|| format!("{arg} needs a path"))?;
                match arg.as_str() {
                    "--spec-dir" => spec_dir = path.into(),
                    "--out-dir" => out_dir = path.into(),
                    _ => live_out = path.into(),
                }
            }
            other => {
                return Err(format!(
                    "unknown argument `{other}` (expected --check, --spec-dir DIR, --out-dir DIR, --live-out FILE)"
                ))
            }
        }
    }
    let commands = validate_dir(&spec_dir).map_err(|problems| {
        let lines: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        format!(
            "the spec has {} problem(s); fix them first:\n{}",
            lines.len(),
            lines.join("\n")
        )
    })?;
    let files = generate(&commands).map_err(|e| e.to_string())?;
    let live = generate_live(&commands).map_err(|e| e.to_string())?;
    let mut outputs = Outputs {
        check,
        stale: Vec::new(),
    };
    for file in &files {
        let label = format!("generated/{}", file.name);
        let formatted = format(&file.source).map_err(|e| format!("{label}: {e}"))?;
        outputs.ensure(&out_dir.join(&file.name), &label, &formatted)?;
    }
    let formatted = format(&live.source).map_err(|e| format!("{}: {e}", live.name))?;
    outputs.ensure(&live_out, &live.name, &formatted)?;
    let generated: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    for name in leftover_files(&out_dir, &generated)? {
        outputs.remove(&out_dir.join(&name), &format!("generated/{name}"))?;
    }
    if check {
        if !outputs.stale.is_empty() {
            return Err(format!(
                "{} generated file(s) are stale; run `cargo xtask codegen`:\n  {}",
                outputs.stale.len(),
                outputs.stale.join("\n  ")
            ));
        }
        println!(
            "redis-client/src/generated/: {} files up to date with commands/",
            files.len()
        );
    }
    Ok(())
}

/// Where generated text goes: written when it differs from what is on disk, or, with
/// `--check`, only noted (every stale file is reported before the check fails).
struct Outputs {
    check: bool,
    /// What differs from the generator's output, and how.
    stale: Vec<String>,
}

impl Outputs {
    /// Makes `path` hold `contents` (rust-analyzer's `ensure_file_contents`).
    fn ensure(&mut self, path: &Path, label: &str, contents: &str) -> Result<(), String> {
        match std::fs::read_to_string(path) {
            Ok(current) if current == contents => return Ok(()),
            Ok(_) if self.check => {
                self.stale.push(format!("{label} differs"));
                return Ok(());
            }
            Err(_) if self.check => {
                self.stale.push(format!("{label} is missing"));
                return Ok(());
            }
            _ => {}
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::write(path, contents)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        println!("wrote {}", path.display());
        Ok(())
    }

    /// Removes a file the generator no longer produces.
    fn remove(&mut self, path: &Path, label: &str) -> Result<(), String> {
        if self.check {
            self.stale.push(format!("{label} is no longer generated"));
            return Ok(());
        }
        std::fs::remove_file(path).map_err(|e| format!("cannot remove {label}: {e}"))?;
        println!("removed {label}");
        Ok(())
    }
}

/// The checked-in form of generated source: rustfmt's, with doc comments and blank lines put
/// back ([`codegen::generate::polish`]), and rustfmt's again so the result is exactly what
/// `cargo fmt` keeps.
fn format(source: &str) -> Result<String, String> {
    let polished = codegen::generate::polish(&rustfmt(source)?)?;
    rustfmt(&polished)
}

/// Files in `generated/` (and its subdirectories) that the generator no longer produces, as
/// paths relative to `generated/`.
fn leftover_files(dir: &Path, generated: &[&str]) -> Result<Vec<String>, String> {
    let mut leftovers = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(current) = dirs.pop() {
        let entries = std::fs::read_dir(&current)
            .map_err(|e| format!("cannot read {}: {e}", current.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let relative = path
                .strip_prefix(dir)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            if relative.ends_with(".rs") && !generated.contains(&relative.as_str()) {
                leftovers.push(relative);
            }
        }
    }
    leftovers.sort();
    Ok(leftovers)
}

/// Formats source with the toolchain's rustfmt, so the result is what `cargo fmt` keeps.
fn rustfmt(source: &str) -> Result<String, String> {
    let mut child = Command::new("rustfmt")
        .args(["--edition", "2021", "--emit", "stdout", "--quiet"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run rustfmt (rustup component add rustfmt): {e}"))?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    let input = source.to_string();
    // Write from another thread: rustfmt may fill its stdout pipe before reading all its input.
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child
        .wait_with_output()
        .map_err(|e| format!("rustfmt failed: {e}"))?;
    writer
        .join()
        .expect("writer thread")
        .map_err(|e| format!("cannot feed rustfmt: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "rustfmt rejected the generated code: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    String::from_utf8(output.stdout).map_err(|e| format!("rustfmt printed invalid UTF-8: {e}"))
}
