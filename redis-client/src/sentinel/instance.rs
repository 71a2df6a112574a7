//! What a sentinel says about one master or replica: the name/value lists of `SENTINEL MASTER`
//! and `SENTINEL REPLICAS`, which come as a RESP3 map or a RESP2 flat array.

use std::time::Duration;

use crate::config::ConnectionAddr;
use crate::error::{Error, Result};
use crate::resp::{FromValue, Value};

/// One instance as a sentinel reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Instance {
    pub(crate) addr: ConnectionAddr,
    /// `flags`, split at commas: `master`, `slave`, `s_down`, `o_down`, `disconnected` …
    pub(crate) flags: Vec<String>,
    /// `role-reported`: what the instance itself last said it is.
    pub(crate) role_reported: Option<String>,
    /// `config-epoch` (masters only): bumped by every failover, the same on all sentinels once
    /// they agree.
    pub(crate) config_epoch: Option<u64>,
    /// `failover-timeout` (masters only).
    pub(crate) failover_timeout: Option<Duration>,
}

impl Instance {
    /// Reads one instance's name/value list; `command` names the command for errors.
    pub(crate) fn from_reply(value: Value, command: &str) -> Result<Instance> {
        let fields = Vec::<(String, String)>::from_value(value).map_err(|e| {
            Error::Data(format!(
                "{command}: expected a name/value list for an instance: {e}"
            ))
        })?;
        let get = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let missing = |name: &str| Error::Data(format!("{command}: the reply has no `{name}`"));
        let host = get("ip").ok_or_else(|| missing("ip"))?.to_owned();
        let port = get("port").ok_or_else(|| missing("port"))?;
        let port = port.parse::<u16>().map_err(|_| {
            Error::Data(format!("{command}: `port` is {port:?}, not a port number"))
        })?;
        let flags = get("flags")
            .ok_or_else(|| missing("flags"))?
            .split(',')
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
            .collect();
        let number = |name: &str| match get(name) {
            None => Ok(None),
            Some(text) => text
                .parse::<u64>()
                .map(Some)
                .map_err(|_| Error::Data(format!("{command}: `{name}` is {text:?}, not a number"))),
        };
        let config_epoch = number("config-epoch")?;
        let failover_timeout = number("failover-timeout")?.map(Duration::from_millis);
        Ok(Instance {
            addr: ConnectionAddr::Tcp { host, port },
            flags,
            role_reported: get("role-reported").map(str::to_owned),
            config_epoch,
            failover_timeout,
        })
    }

    fn has_flag(&self, flag: &str) -> bool {
        self.flags.iter().any(|f| f == flag)
    }

    /// Whether this sentinel is failing the master over right now.
    pub(crate) fn failover_in_progress(&self) -> bool {
        self.has_flag("failover_in_progress")
    }

    /// Subjectively or objectively down.
    pub(crate) fn is_down(&self) -> bool {
        self.has_flag("s_down") || self.has_flag("o_down")
    }

    /// Why this sentinel's view of a master cannot be used, if it cannot: it must be flagged and
    /// reported as a master, and be neither subjectively nor objectively down.
    pub(crate) fn master_unusable(&self) -> Option<String> {
        let role_ok = self.role_reported.as_deref().is_none_or(|r| r == "master");
        if self.has_flag("master") && role_ok && !self.is_down() {
            return None;
        }
        Some(format!(
            "reports {} with flags {}{}",
            self.addr,
            self.flags.join(","),
            match &self.role_reported {
                Some(role) => format!(" and role {role}"),
                None => String::new(),
            }
        ))
    }

    /// Whether a replica may be used: not down, and the sentinel is connected to it.
    pub(crate) fn replica_usable(&self) -> bool {
        !self.is_down() && !self.has_flag("disconnected")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::Bulk(s.to_owned().into())
    }

    fn flat(pairs: &[(&str, &str)]) -> Value {
        Value::Array(pairs.iter().flat_map(|(k, v)| [bulk(k), bulk(v)]).collect())
    }

    fn map(pairs: &[(&str, &str)]) -> Value {
        Value::Map(pairs.iter().map(|(k, v)| (bulk(k), bulk(v))).collect())
    }

    const MASTER: &[(&str, &str)] = &[
        ("name", "mymaster"),
        ("ip", "::1"),
        ("port", "6380"),
        ("flags", "master"),
        ("role-reported", "master"),
        ("config-epoch", "3"),
        ("failover-timeout", "2000"),
    ];

    #[test]
    fn resp2_flat_arrays_and_resp3_maps_read_alike() {
        let a = Instance::from_reply(flat(MASTER), "SENTINEL MASTER").unwrap();
        let b = Instance::from_reply(map(MASTER), "SENTINEL MASTER").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.addr.to_string(), "[::1]:6380");
        assert_eq!(a.config_epoch, Some(3));
        assert_eq!(a.failover_timeout, Some(Duration::from_secs(2)));
        assert!(!a.failover_in_progress());
        assert_eq!(a.master_unusable(), None);
    }

    #[test]
    fn down_or_demoted_masters_are_refused_with_the_reason() {
        let mut fields = MASTER.to_vec();
        fields[3] = ("flags", "master,s_down,o_down");
        let down = Instance::from_reply(map(&fields), "SENTINEL MASTER").unwrap();
        let why = down.master_unusable().unwrap();
        assert!(why.contains("s_down,o_down"), "{why}");
        let mut fields = MASTER.to_vec();
        fields[4] = ("role-reported", "slave");
        let demoted = Instance::from_reply(map(&fields), "SENTINEL MASTER").unwrap();
        assert!(demoted.master_unusable().unwrap().contains("role slave"));
    }

    #[test]
    fn replicas_down_or_disconnected_are_unusable() {
        let replica = |flags| {
            Instance::from_reply(
                flat(&[("ip", "127.0.0.1"), ("port", "7000"), ("flags", flags)]),
                "SENTINEL REPLICAS",
            )
            .unwrap()
        };
        assert!(replica("slave").replica_usable());
        assert!(!replica("slave,s_down").replica_usable());
        assert!(!replica("slave,disconnected").replica_usable());
    }

    #[test]
    fn malformed_replies_name_the_command_and_field() {
        let err = Instance::from_reply(flat(&[("ip", "h")]), "SENTINEL MASTER").unwrap_err();
        assert!(err.to_string().contains("SENTINEL MASTER") && err.to_string().contains("port"));
        let err = Instance::from_reply(
            flat(&[("ip", "h"), ("port", "99999"), ("flags", "master")]),
            "SENTINEL MASTER",
        )
        .unwrap_err();
        assert!(err.to_string().contains("99999"), "{err}");
        let err = Instance::from_reply(Value::Integer(1), "SENTINEL MASTER").unwrap_err();
        assert!(err.to_string().contains("SENTINEL MASTER"), "{err}");
    }
}
