//! Triggers on SQLite: the `triggers` and `trigger_fires` rows (migration 0014) and the
//! run-end cursor in `meta`. The rules are in `control::local_triggers`.

use rusqlite::{OptionalExtension, Row, Transaction, params};

use crate::model::{Trigger, TriggerKind};
use crate::store::api::{TriggerRecord, TriggersTx};
use crate::{Error, Result};

const COLUMNS: &str = "name, kind, workflow, upstream, statuses, param_map, managed_by, \
     created_by, created_at, fired, last_fired_at, last_error, labels";

const CURSOR: &str = "trigger_cursor";

/// A column that does not hold what it should.
fn corrupt(i: usize, what: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, what.into())
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<Trigger> {
    let kind: String = r.get(1)?;
    let statuses: String = r.get(4)?;
    let map: String = r.get(5)?;
    let fired: i64 = r.get(9)?;
    Ok(Trigger {
        name: r.get(0)?,
        kind: TriggerKind::parse(&kind)
            .ok_or_else(|| corrupt(1, format!("trigger kind {kind:?}")))?,
        workflow: r.get(2)?,
        upstream: r.get(3)?,
        statuses: serde_json::from_str(&statuses).map_err(|e| corrupt(4, e.to_string()))?,
        param_map: serde_json::from_str(&map).map_err(|e| corrupt(5, e.to_string()))?,
        managed_by: r.get(6)?,
        created_by: r.get(7)?,
        created_at: r.get(8)?,
        fired: u64::try_from(fired).unwrap_or(0),
        last_fired_at: r.get(10)?,
        last_error: r.get(11)?,
        labels: crate::store::sqlite::rows::labels_from(r.get_ref(12)?.as_str_or_null()?),
    })
}

/// The bound values of a record, in `COLUMNS` order up to `created_at`, then the secret and
/// the labels.
fn insert(tx: &Transaction<'_>, rec: &TriggerRecord<'_>, on_conflict: &str) -> Result<usize> {
    let t = rec.trigger;
    Ok(tx
        .prepare_cached(&format!(
            "INSERT INTO triggers (name, kind, workflow, upstream, statuses, param_map, managed_by, \
             created_by, created_at, secret, labels) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) \
             {on_conflict}"
        ))?
        .execute(params![
            t.name,
            t.kind.as_str(),
            t.workflow,
            t.upstream,
            serde_json::to_string(&t.statuses)?,
            serde_json::to_string(&t.param_map)?,
            t.managed_by,
            t.created_by,
            t.created_at,
            rec.sealed_secret,
            crate::store::sqlite::runs::labels_json(&t.labels)?,
        ])?)
}

impl TriggersTx for Transaction<'_> {
    fn insert_trigger(&self, rec: &TriggerRecord<'_>) -> Result<()> {
        match insert(self, rec, "ON CONFLICT (name) DO NOTHING")? {
            0 => Err(Error::Conflict(format!(
                "a trigger named {:?} exists already",
                rec.trigger.name
            ))),
            _ => Ok(()),
        }
    }

    fn upsert_declared_trigger(&self, rec: &TriggerRecord<'_>) -> Result<bool> {
        let n = insert(
            self,
            rec,
            "ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, workflow = excluded.workflow, \
             upstream = excluded.upstream, statuses = excluded.statuses, \
             param_map = excluded.param_map, labels = excluded.labels WHERE triggers.managed_by = excluded.managed_by",
        )?;
        Ok(n > 0)
    }

    fn trigger(&self, name: &str) -> Result<Option<(Trigger, Option<Vec<u8>>)>> {
        Ok(self
            .prepare_cached(&format!(
                "SELECT {COLUMNS}, secret FROM triggers WHERE name = ?1"
            ))?
            .query_row([name], |r| Ok((from_row(r)?, r.get(13)?)))
            .optional()?)
    }

    fn list_triggers(&self) -> Result<Vec<Trigger>> {
        let mut stmt =
            self.prepare_cached(&format!("SELECT {COLUMNS} FROM triggers ORDER BY name"))?;
        let rows = stmt.query_map([], from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn triggers_after(&self, upstream: &str) -> Result<Vec<Trigger>> {
        let mut stmt = self.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM triggers WHERE upstream = ?1 AND kind = 'after' ORDER BY name"
        ))?;
        let rows = stmt.query_map([upstream], from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn any_after_trigger(&self) -> Result<bool> {
        Ok(self
            .prepare_cached("SELECT 1 FROM triggers WHERE upstream IS NOT NULL LIMIT 1")?
            .exists([])?)
    }

    fn delete_trigger(&self, name: &str) -> Result<bool> {
        self.prepare_cached("DELETE FROM trigger_fires WHERE trigger_name = ?1")?
            .execute([name])?;
        Ok(self
            .prepare_cached("DELETE FROM triggers WHERE name = ?1")?
            .execute([name])?
            > 0)
    }

    fn delete_declared_triggers(&self, workflow: &str, keep: &[String]) -> Result<Vec<String>> {
        let mut stmt =
            self.prepare_cached("SELECT name FROM triggers WHERE managed_by = ?1 ORDER BY name")?;
        let names: Vec<String> = stmt
            .query_map([workflow], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let gone: Vec<String> = names.into_iter().filter(|n| !keep.contains(n)).collect();
        for name in &gone {
            self.delete_trigger(name)?;
        }
        Ok(gone)
    }

    fn set_trigger_secret(&self, name: &str, sealed: &[u8]) -> Result<()> {
        self.prepare_cached("UPDATE triggers SET secret = ?2 WHERE name = ?1")?
            .execute(params![name, sealed])?;
        Ok(())
    }

    fn claim_trigger_fire(&self, trigger: &str, key: &str, at: i64) -> Result<bool> {
        Ok(self
            .prepare_cached(
                "INSERT INTO trigger_fires (trigger_name, key, at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT DO NOTHING",
            )?
            .execute(params![trigger, key, at])?
            > 0)
    }

    fn trigger_fire_run(&self, trigger: &str, key: &str) -> Result<Option<String>> {
        Ok(self
            .prepare_cached(
                "SELECT run_id FROM trigger_fires WHERE trigger_name = ?1 AND key = ?2",
            )?
            .query_row(params![trigger, key], |r| r.get(0))
            .optional()?
            .flatten())
    }

    fn finish_trigger_fire(
        &self,
        trigger: &str,
        key: &str,
        run_id: Option<&str>,
        error: Option<&str>,
        at: i64,
    ) -> Result<()> {
        self.prepare_cached(
            "UPDATE trigger_fires SET run_id = ?3 WHERE trigger_name = ?1 AND key = ?2",
        )?
        .execute(params![trigger, key, run_id])?;
        self.prepare_cached(
            "UPDATE triggers SET fired = fired + (?2 IS NOT NULL), \
             last_fired_at = CASE WHEN ?2 IS NOT NULL THEN ?4 ELSE last_fired_at END, \
             last_error = ?3 WHERE name = ?1",
        )?
        .execute(params![trigger, run_id, error, at])?;
        Ok(())
    }

    fn prune_trigger_fires(&self, before: i64) -> Result<u64> {
        let n = self
            .prepare_cached(
                "DELETE FROM trigger_fires WHERE at < ?1 AND trigger_name IN \
                 (SELECT name FROM triggers WHERE kind = 'webhook')",
            )?
            .execute([before])?;
        Ok(n as u64)
    }

    fn trigger_cursor(&self) -> Result<Option<i64>> {
        let v: Option<String> = self
            .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
            .query_row([CURSOR], |r| r.get(0))
            .optional()?;
        Ok(v.and_then(|v| v.parse().ok()))
    }

    fn advance_trigger_cursor(&self, id: i64) -> Result<()> {
        self.prepare_cached(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE \
             SET value = excluded.value WHERE CAST(meta.value AS INTEGER) < CAST(excluded.value AS INTEGER)",
        )?
        .execute(params![CURSOR, id.to_string()])?;
        Ok(())
    }
}
