//! Scripts on a [`ClusterClient`]: `EVALSHA` goes where its first key lives.

use super::ClusterClient;
use crate::error::Result;
use crate::resp::{ToArgs, Value};
use crate::script::{Script, ScriptRunner};

/// `EVALSHA` is routed by its keys like any command (the generated key positions: the keys
/// after `numkeys`). On `NOSCRIPT` the script is loaded with `SCRIPT LOAD`, which the cluster
/// sends to every node as its request tip says, so the node that lacked it has it now, and
/// the call goes again.
impl ScriptRunner for &ClusterClient {
    fn execute_raw<A: ToArgs + ?Sized>(&mut self, args: &A) -> Result<Value> {
        self.execute(args)
    }
}

impl ClusterClient {
    /// A [`Script`] for `source`; nothing is sent until it is called.
    pub fn register_script(&self, source: impl AsRef<[u8]>) -> Script {
        Script::new(source)
    }
}
