//! Facts about the machine and the server that the report states next to the numbers.

use std::net::IpAddr;

use redis_client::Value;

use crate::cpu::ServerProcess;
use crate::peers::Target;

/// The CPU model and how many logical cores the machine has (not just this process).
pub fn cpu() -> (String, usize) {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = info
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")?
                .split_once(':')
                .map(|(_, m)| m.trim())
        })
        .unwrap_or("unknown CPU")
        .to_string();
    let cores = info.lines().filter(|l| l.starts_with("processor")).count();
    (model, cores)
}

/// The 1, 5 and 15 minute load averages, as `/proc/loadavg` shows them.
pub fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|e| format!("unknown ({e})"))
}

/// The CPUs a process may run on (`Cpus_allowed_list`); `pid` `None` is this process.
pub fn cpus_allowed(pid: Option<u32>) -> String {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/status"),
        None => "/proc/self/status".to_string(),
    };
    std::fs::read_to_string(&path)
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("Cpus_allowed_list:")
                    .map(|v| v.trim().to_string())
            })
        })
        .unwrap_or_else(|| "unknown".to_string())
}

/// The server's name and version (`redis 7.0.15`) and process id, from `INFO server`.
pub fn server(target: &Target) -> Result<(String, Option<u32>), String> {
    let mut conn = target.ours_connection()?;
    let info = match conn.execute(("INFO", "server")) {
        Ok(Value::Bulk(text)) | Ok(Value::Verbatim { text, .. }) => {
            String::from_utf8_lossy(&text).into_owned()
        }
        Ok(other) => {
            return Err(format!(
                "INFO server: unexpected {} reply",
                other.kind_name()
            ))
        }
        Err(e) => return Err(format!("INFO server: {e}")),
    };
    let field = |name: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':').map(str::trim))
    };
    let name = if field("valkey_version").is_some() {
        "valkey"
    } else {
        "redis"
    };
    let version = field("valkey_version")
        .or_else(|| field("redis_version"))
        .unwrap_or("unknown");
    let pid = field("process_id").and_then(|p| p.parse().ok());
    Ok((format!("{name} {version}"), pid))
}

/// The server's process, when its CPU time can be read here: the target is a loopback address
/// (a remote server's `process_id` would name some unrelated local process, or none) and `pid`
/// is a running `redis-server` or `valkey-server` (its thread name, which the server keeps for
/// its main thread). The error says why not.
pub fn server_process(target: &Target, pid: Option<u32>) -> Result<ServerProcess, String> {
    if !is_loopback(&target.host) {
        return Err(format!("{} is not a loopback address", target.host));
    }
    let pid = pid.ok_or("INFO server gave no process_id")?;
    let path = format!("/proc/{pid}/comm");
    let name = std::fs::read_to_string(&path).map_err(|e| format!("reading {path}: {e}"))?;
    let name = name.trim();
    if !["redis-server", "valkey-server"].contains(&name) {
        return Err(format!(
            "process {pid} is {name:?}, not redis-server or valkey-server"
        ));
    }
    ServerProcess::new(pid)
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_servers_are_read() {
        assert!(is_loopback("127.0.0.1") && is_loopback("::1") && is_loopback("[::1]"));
        assert!(is_loopback("localhost") && is_loopback("127.0.0.2"));
        assert!(!is_loopback("10.0.0.5") && !is_loopback("redis.example.com"));
        let remote = Target {
            host: "192.0.2.1".into(),
            port: 6379,
            resp3: false,
        };
        let err = server_process(&remote, Some(std::process::id())).unwrap_err();
        assert!(err.contains("not a loopback address"), "{err}");
        let local = Target {
            host: "127.0.0.1".into(),
            ..remote
        };
        assert!(server_process(&local, None).is_err());
        // This test binary is no redis server, whatever its pid.
        let err = server_process(&local, Some(std::process::id())).unwrap_err();
        assert!(err.contains("not redis-server or valkey-server"), "{err}");
    }

    #[test]
    fn a_local_redis_server_is_read() {
        // A server on a Unix socket only (port 0: no TCP); only its process matters here.
        let socket =
            std::env::temp_dir().join(format!("bench-machine-{}.sock", std::process::id()));
        let mut server = std::process::Command::new("redis-server")
            .args([
                "--port",
                "0",
                "--save",
                "",
                "--appendonly",
                "no",
                "--unixsocket",
            ])
            .arg(&socket)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("starting redis-server (apt-get install redis-server)");
        let local = Target {
            host: "::1".into(),
            port: 6379,
            resp3: false,
        };
        // `spawn` may return a moment before the exec renames the child's thread.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        let found = loop {
            let found = server_process(&local, Some(server.id()));
            if found.is_ok() || std::time::Instant::now() > deadline {
                break found;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        };
        server.kill().unwrap();
        server.wait().unwrap();
        let _ = std::fs::remove_file(&socket);
        assert_eq!(found.unwrap().pid(), server.id());
    }
}
