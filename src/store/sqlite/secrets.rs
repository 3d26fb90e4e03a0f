//! Secrets on SQLite: the `secrets` rows (migration 0018), and every sealed value the store
//! keeps read and replaced for a rekey. The rules are in `control::local_secrets`.

use rusqlite::{OptionalExtension, Row, Transaction, params};

use crate::Result;
use crate::model::SecretInfo;
use crate::store::api::{SealedAt, SealedValue, SecretRecord, SecretsTx};

const COLUMNS: &str = "scope, name, version, created_at, created_by, updated_at, updated_by";

fn from_row(r: &Row<'_>) -> rusqlite::Result<SecretInfo> {
    let scope: String = r.get(0)?;
    let version: i64 = r.get(2)?;
    Ok(SecretInfo {
        workflow: (!scope.is_empty()).then_some(scope),
        name: r.get(1)?,
        version: u64::try_from(version).unwrap_or(0),
        created_at: r.get(3)?,
        created_by: r.get(4)?,
        updated_at: r.get(5)?,
        updated_by: r.get(6)?,
    })
}

fn get(tx: &Transaction<'_>, scope: &str, name: &str) -> Result<Option<SecretInfo>> {
    Ok(tx
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM secrets WHERE scope = ?1 AND name = ?2"
        ))?
        .query_row(params![scope, name], from_row)
        .optional()?)
}

impl SecretsTx for Transaction<'_> {
    fn put_secret(&self, rec: &SecretRecord<'_>, must_exist: bool) -> Result<Option<SecretInfo>> {
        let n = if must_exist {
            self.prepare_cached(
                "UPDATE secrets SET value = ?3, version = version + 1, updated_at = ?4, \
                 updated_by = ?5 WHERE scope = ?1 AND name = ?2",
            )?
            .execute(params![rec.scope, rec.name, rec.sealed, rec.at, rec.by])?
        } else {
            self.prepare_cached(
                "INSERT INTO secrets (scope, name, value, version, created_at, created_by, \
                 updated_at, updated_by) VALUES (?1, ?2, ?3, 1, ?4, ?5, ?4, ?5) \
                 ON CONFLICT (scope, name) DO UPDATE SET value = excluded.value, \
                 version = secrets.version + 1, updated_at = excluded.updated_at, \
                 updated_by = excluded.updated_by",
            )?
            .execute(params![rec.scope, rec.name, rec.sealed, rec.at, rec.by])?
        };
        if n == 0 {
            return Ok(None);
        }
        get(self, rec.scope, rec.name)
    }

    fn list_secrets(&self, scope: Option<&str>) -> Result<Vec<SecretInfo>> {
        let mut stmt = self.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM secrets WHERE ?1 IS NULL OR scope = ?1 ORDER BY scope, name"
        ))?;
        let rows = stmt.query_map([scope], from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn delete_secret(&self, scope: &str, name: &str) -> Result<bool> {
        Ok(self
            .prepare_cached("DELETE FROM secrets WHERE scope = ?1 AND name = ?2")?
            .execute(params![scope, name])?
            > 0)
    }

    fn secrets_for(
        &self,
        workflow: &str,
        names: &[String],
    ) -> Result<Vec<(String, String, Vec<u8>)>> {
        let mut stmt = self.prepare_cached(
            "SELECT scope, value FROM secrets WHERE name = ?1 AND scope IN (?2, '') \
             ORDER BY scope DESC LIMIT 1",
        )?;
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            let found: Option<(String, Vec<u8>)> = stmt
                .query_row(params![name, workflow], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            if let Some((scope, sealed)) = found {
                out.push((name.clone(), scope, sealed));
            }
        }
        Ok(out)
    }

    fn sealed_values(&self) -> Result<Vec<SealedValue>> {
        let mut out = Vec::new();
        let mut stmt = self.prepare_cached("SELECT scope, name, value FROM secrets")?;
        for row in stmt.query_map([], |r| {
            Ok(SealedValue {
                at: SealedAt::Secret {
                    scope: r.get(0)?,
                    name: r.get(1)?,
                },
                sealed: r.get(2)?,
            })
        })? {
            out.push(row?);
        }
        let mut stmt =
            self.prepare_cached("SELECT name, secret FROM triggers WHERE secret IS NOT NULL")?;
        for row in stmt.query_map([], |r| {
            Ok(SealedValue {
                at: SealedAt::Trigger { name: r.get(0)? },
                sealed: r.get(1)?,
            })
        })? {
            out.push(row?);
        }
        let mut stmt =
            self.prepare_cached("SELECT id, secret FROM notify_channels WHERE secret IS NOT NULL")?;
        for row in stmt.query_map([], |r| {
            Ok(SealedValue {
                at: SealedAt::Channel { id: r.get(0)? },
                sealed: r.get(1)?,
            })
        })? {
            out.push(row?);
        }
        Ok(out)
    }

    fn replace_sealed(&self, value: &SealedValue) -> Result<()> {
        match &value.at {
            SealedAt::Secret { scope, name } => self
                .prepare_cached("UPDATE secrets SET value = ?3 WHERE scope = ?1 AND name = ?2")?
                .execute(params![scope, name, value.sealed])?,
            SealedAt::Trigger { name } => self
                .prepare_cached("UPDATE triggers SET secret = ?2 WHERE name = ?1")?
                .execute(params![name, value.sealed])?,
            SealedAt::Channel { id } => self
                .prepare_cached("UPDATE notify_channels SET secret = ?2 WHERE id = ?1")?
                .execute(params![id, value.sealed])?,
        };
        Ok(())
    }

    fn set_store_key_check(&self, check: &str) -> Result<()> {
        super::settings::set_store_key_check(self, check)
    }
}
