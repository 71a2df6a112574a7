//! Script calls queued on a cluster pipeline: `EVALSHA` goes in the queue, routed by its keys;
//! a node that answers `NOSCRIPT` gets the pipeline's scripts (`SCRIPT LOAD`) and the call
//! again, once.

use super::ClusterPipeline;
use crate::client::Client;
use crate::error::Result;
use crate::script::{Invocation, Script};

/// Loads `scripts` on the node of `client`.
pub(super) fn load(client: &Client, scripts: &[Script]) -> Result<()> {
    scripts.iter().try_for_each(|script| script.load(client))
}

impl Invocation<'_> {
    /// Queues the call (`EVALSHA`) on a cluster pipeline, to the node owning its keys; a node
    /// without the script gets it when it answers `NOSCRIPT`, and the call is sent again.
    pub fn queue_cluster<'p, 'c>(
        &self,
        pipe: &'p mut ClusterPipeline<'c>,
    ) -> &'p mut ClusterPipeline<'c> {
        let (script, keys, args) = self.parts();
        if !pipe.scripts.iter().any(|s| s.sha() == script.sha()) {
            pipe.scripts.push(script.clone());
        }
        let pushed = pipe
            .queue
            .push_raw(&("EVALSHA", script.sha(), keys.len(), keys, args));
        pipe.defer(pushed);
        pipe
    }
}
