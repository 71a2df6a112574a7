//! Script calls queued on a pipeline: `EVALSHA` goes in the queue, and the script joins the
//! ones the pipeline loads before it is sent.

use super::batch::Pipeline;
use crate::resp::Cmd;
use crate::script::{Invocation, Script};

impl<'c> Pipeline<'c> {
    /// Queues a script call (`EVALSHA`); the script is loaded before the pipeline is sent.
    fn queue_script(&mut self, script: &Script, keys: &Cmd, args: &Cmd) -> &mut Self {
        if !self.scripts.iter().any(|s| s.sha() == script.sha()) {
            self.scripts.push(script.clone());
        }
        let pushed = self
            .queue
            .push_raw(&("EVALSHA", script.sha(), keys.len(), keys, args));
        self.defer(pushed);
        self
    }
}

impl Script {
    /// Queues a call without keys or arguments; see [`Invocation::queue`].
    pub fn queue<'p, 'c>(&self, pipe: &'p mut Pipeline<'c>) -> &'p mut Pipeline<'c> {
        self.invocation().queue(pipe)
    }
}

impl Invocation<'_> {
    /// Queues the call (`EVALSHA`) on `pipe`; the pipeline loads the script before sending.
    pub fn queue<'p, 'c>(&self, pipe: &'p mut Pipeline<'c>) -> &'p mut Pipeline<'c> {
        let (script, keys, args) = self.parts();
        pipe.queue_script(script, keys, args)
    }
}
