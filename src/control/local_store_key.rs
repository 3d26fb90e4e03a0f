//! The local control plane's store key (`crate::keys`): resolved on first need from the source
//! this process was given (`imx server --store-key-file`/`IMX_STORE_KEY`, or for a SQLite store
//! the OS keyring with its 0600 file fallback), checked against the check value in the store's
//! settings, and recorded there on first use. What seals or opens a secret kept in the store
//! (notification channels, webhook triggers, later workflow secrets) calls
//! [`LocalControlPlane::store_key`].

use crate::keys::{StoreKey, StoreKeySource};
use crate::{Error, Result};

use super::local::LocalControlPlane;

/// What a process on a store shared by replicas is told when it was given no key.
pub const MISSING_HINT: &str = "start imx server with --store-key-file FILE or IMX_STORE_KEY \
     (64 hex digits, e.g. from: openssl rand -hex 32); every replica of a store needs the same key";

impl LocalControlPlane {
    /// The store key, checked against the store (and, on first use of a key with this store,
    /// its check value recorded). Cached once it has been checked.
    pub fn store_key(&self) -> Result<StoreKey> {
        let mut cached = self
            .store_key_cache()
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(key) = cached.as_ref() {
            return Ok(key.clone());
        }
        let (store_id, check) = self
            .store()
            .read_quick(|tx| Ok((crate::audit::store_id(tx)?, tx.store_key_check()?)))?;
        let default;
        let source = match self.store_key_source() {
            Some(source) => source,
            None => {
                default = if self.store().as_sqlite().is_some() {
                    StoreKeySource::local_system(true)?
                } else {
                    StoreKeySource::missing(MISSING_HINT)
                };
                &default
            }
        };
        let resolved = source.resolve(&store_id, check.as_deref())?;
        if check.is_none() {
            let mine = resolved.key.check();
            let recorded = self.store().write(|tx| tx.init_store_key_check(&mine))?;
            // Another process recorded a different key first: this one must not seal anything.
            resolved.key.verify(&recorded, &resolved.origin)?;
        }
        if let Some(warning) = &resolved.warning {
            tracing::warn!("{warning}");
        }
        *cached = Some(resolved.key.clone());
        Ok(resolved.key)
    }
}

/// A store key error for `what` (e.g. a channel's secret that does not open).
pub fn unopenable(what: &str, e: Error) -> Error {
    match e {
        Error::StoreKey { message, hint } => Error::StoreKey {
            message: format!("{what}: {message}"),
            hint,
        },
        other => other,
    }
}
