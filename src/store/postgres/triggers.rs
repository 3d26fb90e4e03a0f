//! Triggers on PostgreSQL: the `triggers` and `trigger_fires` rows (migration 0008) and the
//! run-end cursor in `meta`, as `store::sqlite::triggers`. The primary key of `trigger_fires`
//! is what makes a key fire once when several replicas see the same call or run end.

use tokio_postgres::Row;

use super::tx::{PgTx, get};
use crate::model::{Trigger, TriggerKind};
use crate::store::api::{TriggerRecord, TriggersTx};
use crate::{Error, Result};

const COLUMNS: &str = "name, kind, workflow, upstream, statuses, param_map, managed_by, \
     created_by, created_at, fired, last_fired_at, last_error, labels";

const CURSOR: &str = "trigger_cursor";

fn from_row(r: &Row) -> Result<Trigger> {
    let kind: String = get(r, 1)?;
    let statuses: String = get(r, 4)?;
    let map: String = get(r, 5)?;
    let fired: i64 = get(r, 9)?;
    Ok(Trigger {
        name: get(r, 0)?,
        kind: TriggerKind::parse(&kind)
            .ok_or_else(|| Error::Store(format!("trigger kind {kind:?} in the store")))?,
        workflow: get(r, 2)?,
        upstream: get(r, 3)?,
        statuses: serde_json::from_str(&statuses)?,
        param_map: serde_json::from_str(&map)?,
        managed_by: get(r, 6)?,
        created_by: get(r, 7)?,
        created_at: get(r, 8)?,
        fired: u64::try_from(fired).unwrap_or(0),
        last_fired_at: get(r, 10)?,
        last_error: get(r, 11)?,
        labels: crate::store::sqlite::rows::labels_from(get(r, 12)?),
    })
}

fn insert(tx: &PgTx<'_>, rec: &TriggerRecord<'_>, on_conflict: &str) -> Result<u64> {
    let t = rec.trigger;
    tx.execute(
        &format!(
            "INSERT INTO triggers (name, kind, workflow, upstream, statuses, param_map, managed_by, \
             created_by, created_at, secret, labels) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             {on_conflict}"
        ),
        &[
            &t.name,
            &t.kind.as_str(),
            &t.workflow,
            &t.upstream,
            &serde_json::to_string(&t.statuses)?,
            &serde_json::to_string(&t.param_map)?,
            &t.managed_by,
            &t.created_by,
            &t.created_at,
            &rec.sealed_secret,
            &crate::store::sqlite::runs::labels_json(&t.labels)?,
        ],
    )
}

impl TriggersTx for PgTx<'_> {
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
        self.query_opt(
            &format!("SELECT {COLUMNS}, secret FROM triggers WHERE name = $1"),
            &[&name],
        )?
        .map(|r| Ok((from_row(&r)?, get(&r, 13)?)))
        .transpose()
    }

    fn list_triggers(&self) -> Result<Vec<Trigger>> {
        self.query(
            &format!("SELECT {COLUMNS} FROM triggers ORDER BY name"),
            &[],
        )?
        .iter()
        .map(from_row)
        .collect()
    }

    fn triggers_after(&self, upstream: &str) -> Result<Vec<Trigger>> {
        self.query(
            &format!(
                "SELECT {COLUMNS} FROM triggers WHERE upstream = $1 AND kind = 'after' ORDER BY name"
            ),
            &[&upstream],
        )?
        .iter()
        .map(from_row)
        .collect()
    }

    fn any_after_trigger(&self) -> Result<bool> {
        Ok(self
            .query_opt(
                "SELECT 1 FROM triggers WHERE upstream IS NOT NULL LIMIT 1",
                &[],
            )?
            .is_some())
    }

    fn delete_trigger(&self, name: &str) -> Result<bool> {
        self.execute(
            "DELETE FROM trigger_fires WHERE trigger_name = $1",
            &[&name],
        )?;
        Ok(self.execute("DELETE FROM triggers WHERE name = $1", &[&name])? > 0)
    }

    fn delete_declared_triggers(&self, workflow: &str, keep: &[String]) -> Result<Vec<String>> {
        let names: Vec<String> = self
            .query(
                "SELECT name FROM triggers WHERE managed_by = $1 ORDER BY name",
                &[&workflow],
            )?
            .iter()
            .map(|r| get(r, 0))
            .collect::<Result<_>>()?;
        let gone: Vec<String> = names.into_iter().filter(|n| !keep.contains(n)).collect();
        for name in &gone {
            self.delete_trigger(name)?;
        }
        Ok(gone)
    }

    fn set_trigger_secret(&self, name: &str, sealed: &[u8]) -> Result<()> {
        self.execute(
            "UPDATE triggers SET secret = $2 WHERE name = $1",
            &[&name, &sealed],
        )?;
        Ok(())
    }

    fn claim_trigger_fire(&self, trigger: &str, key: &str, at: i64) -> Result<bool> {
        Ok(self.execute(
            "INSERT INTO trigger_fires (trigger_name, key, at) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
            &[&trigger, &key, &at],
        )? > 0)
    }

    fn trigger_fire_run(&self, trigger: &str, key: &str) -> Result<Option<String>> {
        Ok(self
            .query_opt(
                "SELECT run_id FROM trigger_fires WHERE trigger_name = $1 AND key = $2",
                &[&trigger, &key],
            )?
            .map(|r| get::<Option<String>>(&r, 0))
            .transpose()?
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
        self.execute(
            "UPDATE trigger_fires SET run_id = $3 WHERE trigger_name = $1 AND key = $2",
            &[&trigger, &key, &run_id],
        )?;
        self.execute(
            "UPDATE triggers SET fired = fired + CASE WHEN $2::text IS NULL THEN 0 ELSE 1 END, \
             last_fired_at = CASE WHEN $2::text IS NULL THEN last_fired_at ELSE $4 END, \
             last_error = $3 WHERE name = $1",
            &[&trigger, &run_id, &error, &at],
        )?;
        Ok(())
    }

    fn prune_trigger_fires(&self, before: i64) -> Result<u64> {
        self.execute(
            "DELETE FROM trigger_fires WHERE at < $1 AND trigger_name IN \
             (SELECT name FROM triggers WHERE kind = 'webhook')",
            &[&before],
        )
    }

    fn trigger_cursor(&self) -> Result<Option<i64>> {
        let v: Option<String> = self
            .query_opt("SELECT value FROM meta WHERE key = $1", &[&CURSOR])?
            .map(|r| get(&r, 0))
            .transpose()?;
        Ok(v.and_then(|v| v.parse().ok()))
    }

    fn advance_trigger_cursor(&self, id: i64) -> Result<()> {
        self.execute(
            "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE \
             SET value = excluded.value WHERE meta.value::bigint < excluded.value::bigint",
            &[&CURSOR, &id.to_string()],
        )?;
        Ok(())
    }
}
