//! [`Connector`]: opens connections from one configuration, wherever its locator (if any) says.

use std::sync::Arc;

use native_tls::TlsConnector;

use super::locator::Locator;
use super::{tls, Connection};
use crate::config::Config;
use crate::error::Result;

/// Builds connections from one configuration, reading TLS certificate files only once.
#[derive(Clone)]
pub(crate) struct Connector {
    config: Config,
    tls: Option<TlsConnector>,
    /// When set, chooses the server of each connection instead of the config's address.
    locator: Option<Arc<dyn Locator>>,
}

impl Connector {
    pub(crate) fn new(config: Config) -> Result<Connector> {
        let tls = config.tls().map(tls::connector).transpose()?;
        Ok(Connector {
            config,
            tls,
            locator: None,
        })
    }

    /// A connector whose every connection goes where `locator` says at that moment.
    pub(crate) fn with_locator(config: Config, locator: Arc<dyn Locator>) -> Result<Connector> {
        Ok(Connector {
            locator: Some(locator),
            ..Connector::new(config)?
        })
    }

    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    pub(crate) fn locator(&self) -> Option<&Arc<dyn Locator>> {
        self.locator.as_ref()
    }

    pub(crate) fn connect(&self) -> Result<Connection> {
        match &self.locator {
            None => Connection::open_with(&self.config, self.tls.as_ref()),
            Some(locator) => self.connect_located(locator.as_ref()),
        }
    }

    /// Opens a connection wherever the locator says, with everything but the address from
    /// this connector's config.
    fn connect_located(&self, locator: &dyn Locator) -> Result<Connection> {
        locator.connect(&|addr| {
            let config = self.config.to_builder().addr(addr.clone()).build()?;
            Connection::open_with(&config, self.tls.as_ref())
        })
    }
}
