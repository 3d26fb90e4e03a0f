//! Secrets on PostgreSQL: the `secrets` rows (migration 0012), and every sealed value the store
//! keeps read and replaced for a rekey, as `store::sqlite::secrets`.

use tokio_postgres::Row;

use super::tx::{PgTx, get};
use crate::Result;
use crate::model::SecretInfo;
use crate::store::api::{SealedAt, SealedValue, SecretRecord, SecretsTx};

const COLUMNS: &str = "scope, name, version, created_at, created_by, updated_at, updated_by";

fn from_row(r: &Row) -> Result<SecretInfo> {
    let scope: String = get(r, 0)?;
    let version: i64 = get(r, 2)?;
    Ok(SecretInfo {
        workflow: (!scope.is_empty()).then_some(scope),
        name: get(r, 1)?,
        version: u64::try_from(version).unwrap_or(0),
        created_at: get(r, 3)?,
        created_by: get(r, 4)?,
        updated_at: get(r, 5)?,
        updated_by: get(r, 6)?,
    })
}

impl SecretsTx for PgTx<'_> {
    fn put_secret(&self, rec: &SecretRecord<'_>, must_exist: bool) -> Result<Option<SecretInfo>> {
        let sql = if must_exist {
            format!(
                "UPDATE secrets SET value = $3, version = version + 1, updated_at = $4, \
                 updated_by = $5 WHERE scope = $1 AND name = $2 RETURNING {COLUMNS}"
            )
        } else {
            format!(
                "INSERT INTO secrets (scope, name, value, version, created_at, created_by, \
                 updated_at, updated_by) VALUES ($1, $2, $3, 1, $4, $5, $4, $5) \
                 ON CONFLICT (scope, name) DO UPDATE SET value = excluded.value, \
                 version = secrets.version + 1, updated_at = excluded.updated_at, \
                 updated_by = excluded.updated_by RETURNING {COLUMNS}"
            )
        };
        self.query_opt(
            &sql,
            &[&rec.scope, &rec.name, &rec.sealed, &rec.at, &rec.by],
        )?
        .map(|r| from_row(&r))
        .transpose()
    }

    fn list_secrets(&self, scope: Option<&str>) -> Result<Vec<SecretInfo>> {
        self.query(
            &format!(
                "SELECT {COLUMNS} FROM secrets WHERE $1::text IS NULL OR scope = $1 \
                 ORDER BY scope, name"
            ),
            &[&scope],
        )?
        .iter()
        .map(from_row)
        .collect()
    }

    fn delete_secret(&self, scope: &str, name: &str) -> Result<bool> {
        Ok(self.execute(
            "DELETE FROM secrets WHERE scope = $1 AND name = $2",
            &[&scope, &name],
        )? > 0)
    }

    fn secrets_for(
        &self,
        workflow: &str,
        names: &[String],
    ) -> Result<Vec<(String, String, Vec<u8>)>> {
        self.query(
            "SELECT DISTINCT ON (name) name, scope, value FROM secrets \
             WHERE name = ANY($1) AND scope IN ($2, '') ORDER BY name, scope DESC",
            &[&names, &workflow],
        )?
        .iter()
        .map(|r| Ok((get(r, 0)?, get(r, 1)?, get(r, 2)?)))
        .collect()
    }

    fn sealed_values(&self) -> Result<Vec<SealedValue>> {
        let mut out = Vec::new();
        for r in self.query("SELECT scope, name, value FROM secrets", &[])? {
            out.push(SealedValue {
                at: SealedAt::Secret {
                    scope: get(&r, 0)?,
                    name: get(&r, 1)?,
                },
                sealed: get(&r, 2)?,
            });
        }
        for r in self.query(
            "SELECT name, secret FROM triggers WHERE secret IS NOT NULL",
            &[],
        )? {
            out.push(SealedValue {
                at: SealedAt::Trigger { name: get(&r, 0)? },
                sealed: get(&r, 1)?,
            });
        }
        for r in self.query(
            "SELECT id, secret FROM notify_channels WHERE secret IS NOT NULL",
            &[],
        )? {
            out.push(SealedValue {
                at: SealedAt::Channel { id: get(&r, 0)? },
                sealed: get(&r, 1)?,
            });
        }
        Ok(out)
    }

    fn replace_sealed(&self, value: &SealedValue) -> Result<()> {
        match &value.at {
            SealedAt::Secret { scope, name } => self.execute(
                "UPDATE secrets SET value = $3 WHERE scope = $1 AND name = $2",
                &[scope, name, &value.sealed],
            )?,
            SealedAt::Trigger { name } => self.execute(
                "UPDATE triggers SET secret = $2 WHERE name = $1",
                &[name, &value.sealed],
            )?,
            SealedAt::Channel { id } => self.execute(
                "UPDATE notify_channels SET secret = $2 WHERE id = $1",
                &[id, &value.sealed],
            )?,
        };
        Ok(())
    }

    fn set_store_key_check(&self, check: &str) -> Result<()> {
        super::settings::set_store_key_check(self, check)
    }
}
