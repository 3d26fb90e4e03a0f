//! The SQLite [`Store`] as a [`Backend`]: each method forwards to the store's own (one writer
//! connection, read connections beside it; see `store/mod.rs`).

use crate::Result;
use crate::engine::SpecCache;
use crate::store::Store;
use crate::store::api::{Backend, Body, Site};
use crate::store::feed::ChangeFeed;

impl Backend for Store {
    fn write_tx(&self, body: Body<'_>) -> Result<()> {
        self.write(|tx| body(tx))
    }

    fn write_durable_tx(&self, body: Body<'_>) -> Result<()> {
        self.write_durable(|tx| body(tx))
    }

    fn read_tx(&self, body: Body<'_>) -> Result<()> {
        self.read(|tx| body(tx))
    }

    fn read_quick_tx(&self, _site: Site, body: Body<'_>) -> Result<()> {
        self.read_quick(|tx| body(tx))
    }

    fn feed(&self) -> &ChangeFeed {
        Store::feed(self)
    }

    fn specs(&self) -> &SpecCache {
        Store::specs(self)
    }

    fn location(&self) -> String {
        self.path().display().to_string()
    }

    fn created(&self) -> bool {
        Store::created(self)
    }

    fn schema_version(&self) -> Result<i64> {
        Store::schema_version(self)
    }

    fn as_sqlite(&self) -> Option<&Store> {
        Some(self)
    }
}
