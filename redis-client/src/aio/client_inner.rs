//! What every clone of an [`AsyncClient`](super::AsyncClient) and every future it hands out
//! share: the config, the multiplexed connection and the pool of dedicated connections. Apart
//! from the client so its futures can hold it without depending on the client.

use std::sync::Arc;

use super::mux::Mux;
use super::pool::Pool;
use crate::config::Config;

/// The state an [`AsyncClient`](super::AsyncClient)'s clones share; the last one dropped
/// closes the multiplexed connection.
pub(crate) struct Inner {
    pub(crate) config: Config,
    pub(crate) mux: Arc<Mux>,
    pub(crate) pool: Arc<Pool>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.mux.close();
    }
}
