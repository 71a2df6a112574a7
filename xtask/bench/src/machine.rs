//! Facts about the machine and the server that the report states next to the numbers.

use redis_client::Value;

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
