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
    let mut stale = Vec::new();
    for file in &files {
        let formatted =
            rustfmt(&file.source).map_err(|e| format!("generated/{}: {e}", file.name))?;
        let path = out_dir.join(&file.name);
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        if current == formatted {
            continue;
        }
        if check {
            stale.push(file.name.as_str());
        } else {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
            }
            std::fs::write(&path, formatted)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            println!("wrote {}", path.display());
        }
    }
    let live = generate_live(&commands).map_err(|e| e.to_string())?;
    let formatted = rustfmt(&live.source).map_err(|e| format!("{}: {e}", live.name))?;
    if std::fs::read_to_string(&live_out).unwrap_or_default() != formatted {
        if check {
            stale.push(live.name.as_str());
        } else {
            if let Some(parent) = live_out.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
            }
            std::fs::write(&live_out, formatted)
                .map_err(|e| format!("cannot write {}: {e}", live_out.display()))?;
            println!("wrote {}", live_out.display());
        }
    }
    let generated: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    let leftovers = leftover_files(&out_dir, &generated)?;
    if check {
        if !stale.is_empty() || !leftovers.is_empty() {
            return Err(format!(
                "generated files are stale (differs: {:?}; not generated: {:?}); run `cargo xtask codegen`",
                stale, leftovers
            ));
        }
        println!(
            "redis-client/src/generated/: {} files up to date with commands/",
            files.len()
        );
    } else {
        for name in leftovers {
            std::fs::remove_file(out_dir.join(&name))
                .map_err(|e| format!("cannot remove generated/{name}: {e}"))?;
            println!("removed generated/{name}");
        }
    }
    Ok(())
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
