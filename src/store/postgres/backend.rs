//! The PostgreSQL [`PgStore`] as a [`Backend`]: transactions through [`PgStore::write`] and
//! [`PgStore::read`] (a write body may run again after a serialization failure), and a change
//! feed woken by this process's own commits and, through [`super::wake_feed`], by other
//! replicas' (LISTEN/NOTIFY, or polling). Maintenance runs only on the replica holding the
//! maintenance lease ([`PgStore::maintain`]).

use super::store::PgStore;
use crate::Result;
use crate::engine::SpecCache;
use crate::store::api::{Backend, Body, Site};
use crate::store::feed::ChangeFeed;

impl Backend for PgStore {
    fn write_tx(&self, body: Body<'_>) -> Result<()> {
        self.write(|tx| body(tx))?;
        self.feed().notify_local();
        Ok(())
    }

    fn write_durable_tx(&self, body: Body<'_>) -> Result<()> {
        // A commit returns once PostgreSQL has made it durable (synchronous_commit).
        self.write_tx(body)
    }

    fn maintain_tx(&self, body: Body<'_>) -> Result<bool> {
        let ran = self.maintain(|tx| body(tx))?.is_some();
        if ran {
            self.feed().notify_local();
        }
        Ok(ran)
    }

    fn maintenance_leader(&self) -> Option<bool> {
        Some(PgStore::maintenance_leader(self))
    }

    fn sync_feeds(&self) -> Result<()> {
        PgStore::sync_feeds(self)
    }

    fn combines_writes(&self) -> bool {
        true
    }

    fn read_tx(&self, body: Body<'_>) -> Result<()> {
        self.read(|tx| body(tx))
    }

    fn read_quick_tx(&self, site: Site, body: Body<'_>) -> Result<()> {
        self.read_quick_at(site, |tx| body(tx))
    }

    fn feed(&self) -> &ChangeFeed {
        PgStore::feed(self)
    }

    fn specs(&self) -> &SpecCache {
        PgStore::specs(self)
    }

    fn location(&self) -> String {
        self.display().to_string()
    }

    fn created(&self) -> bool {
        PgStore::created(self)
    }

    fn schema_version(&self) -> Result<i64> {
        self.read(|tx| {
            super::tx::get(
                &tx.query_one("SELECT max(version) FROM schema_version", &[])?,
                0,
            )
        })
    }
}
