//! The audit tools' access ([`AuditStore`]) on a PostgreSQL transaction. Appending goes
//! through the chain's head row (`audit_head`, see [`super::audit`]): in a write transaction
//! [`head`](AuditStore::head) locks it, so appends from every replica queue there and form one
//! linear chain, and [`insert`](AuditStore::insert) moves it. The checkpoint log is kept here
//! too (`audit_checkpoints`, and the signing key's public half in `meta`), for every replica.

use std::collections::BTreeMap;

use tokio_postgres::Row;

use super::tx::{PgTx, get};
use crate::audit::{AuditFilter, AuditStore, Base, GENESIS, RawRecord};
use crate::model::AuditRecord;
use crate::{Error, Result};

const COLUMNS: &str = "seq, time, actor, source, action, target, outcome, details, prev_hash, hash";

fn record(r: &Row) -> Result<AuditRecord> {
    let details: String = get(r, 7)?;
    Ok(AuditRecord {
        seq: get(r, 0)?,
        time: get(r, 1)?,
        actor: get(r, 2)?,
        source: get(r, 3)?,
        action: get(r, 4)?,
        target: get(r, 5)?,
        outcome: get(r, 6)?,
        details: serde_json::from_str(&details).unwrap_or(serde_json::Value::String(details)),
        prev_hash: get(r, 8)?,
        hash: get(r, 9)?,
    })
}

fn meta(tx: &PgTx<'_>, key: &str) -> Result<Option<String>> {
    tx.query_opt("SELECT value FROM meta WHERE key = $1", &[&key])?
        .map(|r| get(&r, 0))
        .transpose()
}

fn set_meta(tx: &PgTx<'_>, key: &str, value: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        &[&key, &value],
    )?;
    Ok(())
}

impl AuditStore for PgTx<'_> {
    fn store_id(&self) -> Result<String> {
        Ok(meta(self, "store_id")?.unwrap_or_else(|| "unknown".into()))
    }

    fn set_store_id(&self, id: &str) -> Result<()> {
        set_meta(self, "store_id", id)
    }

    fn base(&self) -> Result<Base> {
        match (
            meta(self, "audit_base_seq")?,
            meta(self, "audit_base_hash")?,
        ) {
            (Some(seq), Some(hash)) => Ok(Base {
                seq: seq.parse().unwrap_or(0),
                hash,
            }),
            _ => Ok(Base::default()),
        }
    }

    fn head(&self) -> Result<Option<Base>> {
        if self.read_only() {
            return self
                .query_opt("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", &[])?
                .map(|r| {
                    Ok(Base {
                        seq: get(&r, 0)?,
                        hash: get(&r, 1)?,
                    })
                })
                .transpose();
        }
        // Locked until commit: the next append of any replica waits for this one.
        let r = self.query_one("SELECT seq, hash FROM audit_head FOR UPDATE", &[])?;
        let (seq, hash): (i64, String) = (get(&r, 0)?, get(&r, 1)?);
        Ok((seq > 0 || hash != GENESIS).then_some(Base { seq, hash }))
    }

    fn insert(&self, rec: &AuditRecord) -> Result<()> {
        self.execute(
            &format!(
                "INSERT INTO audit ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
            ),
            &[
                &rec.seq,
                &rec.time,
                &rec.actor,
                &rec.source,
                &rec.action,
                &rec.target,
                &rec.outcome,
                &rec.details.to_string(),
                &rec.prev_hash,
                &rec.hash,
            ],
        )?;
        self.execute(
            "UPDATE audit_head SET seq = $1, hash = $2",
            &[&rec.seq, &rec.hash],
        )?;
        Ok(())
    }

    fn scan(&self, f: &mut dyn FnMut(&RawRecord<'_>)) -> Result<()> {
        for row in self.query(&format!("SELECT {COLUMNS} FROM audit ORDER BY seq"), &[])? {
            let texts: Vec<Option<&str>> = (2..10)
                .map(|i| row.try_get::<_, Option<&str>>(i).ok().flatten())
                .collect();
            let mut text = [None; 8];
            for (t, v) in text.iter_mut().zip(&texts) {
                *t = v.map(str::as_bytes);
            }
            f(&RawRecord {
                seq: row.try_get(0).ok(),
                time: row.try_get(1).ok(),
                text,
            });
        }
        Ok(())
    }

    fn records(&self, f: &AuditFilter) -> Result<Vec<AuditRecord>> {
        let mut sql = format!("SELECT {COLUMNS} FROM audit WHERE 1 = 1");
        let mut ints: Vec<(String, i64)> = Vec::new();
        let mut texts: Vec<(String, String)> = Vec::new();
        if let Some(t) = f.since {
            ints.push(("time >=".into(), t));
        }
        if let Some(t) = f.until {
            ints.push(("time <".into(), t));
        }
        if let Some(s) = f.after_seq {
            ints.push(("seq >".into(), s));
        }
        for (col, v) in [
            ("actor", &f.actor),
            ("target", &f.target),
            ("outcome", &f.outcome),
        ] {
            if let Some(v) = v {
                texts.push((format!("{col} ="), v.clone()));
            }
        }
        if let Some(a) = &f.action {
            match a
                .strip_suffix('*')
                .or_else(|| a.ends_with('.').then_some(a.as_str()))
            {
                Some(prefix) => {
                    texts.push(("substr(action, 1, length($)) =".into(), prefix.to_string()))
                }
                None => texts.push(("action =".into(), a.clone())),
            }
        }
        let mut args: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = Vec::new();
        for (clause, v) in &ints {
            args.push(v);
            sql.push_str(&format!(" AND {clause} ${}", args.len()));
        }
        for (clause, v) in &texts {
            args.push(v);
            let n = args.len();
            match clause.strip_prefix("substr(action, 1, length($)) =") {
                Some(_) => sql.push_str(&format!(" AND substr(action, 1, length(${n})) = ${n}")),
                None => sql.push_str(&format!(" AND {clause} ${n}")),
            }
        }
        sql.push_str(if f.newest {
            " ORDER BY seq DESC"
        } else {
            " ORDER BY seq"
        });
        if f.limit > 0 {
            sql.push_str(&format!(" LIMIT {}", f.limit));
        }
        let mut out: Vec<AuditRecord> = self
            .query(&sql, &args)?
            .iter()
            .map(record)
            .collect::<Result<_>>()?;
        if f.newest {
            out.reverse();
        }
        Ok(out)
    }

    fn record(&self, seq: i64) -> Result<AuditRecord> {
        match self.query_opt(
            &format!("SELECT {COLUMNS} FROM audit WHERE seq = $1"),
            &[&seq],
        )? {
            Some(r) => record(&r),
            None => Err(Error::not_found("audit record", seq.to_string())),
        }
    }

    fn each_through(&self, seq: i64, f: &mut dyn FnMut(&AuditRecord) -> Result<()>) -> Result<()> {
        for r in self.query(
            &format!("SELECT {COLUMNS} FROM audit WHERE seq <= $1 ORDER BY seq"),
            &[&seq],
        )? {
            f(&record(&r)?)?;
        }
        Ok(())
    }

    fn hash_at(&self, seq: i64) -> Result<Option<String>> {
        self.query_opt("SELECT hash FROM audit WHERE seq = $1", &[&seq])?
            .map(|r| get(&r, 0))
            .transpose()
    }

    fn principals(&self) -> Result<Vec<(String, String)>> {
        self.query("SELECT DISTINCT actor, source FROM audit", &[])?
            .iter()
            .map(|r| Ok((get(r, 0)?, get(r, 1)?)))
            .collect()
    }

    fn last_before(&self, cutoff: i64) -> Result<Option<(Base, u64)>> {
        let Some(r) = self.query_opt(
            "SELECT seq, hash FROM audit WHERE seq = (SELECT max(seq) FROM audit WHERE time < $1)",
            &[&cutoff],
        )?
        else {
            return Ok(None);
        };
        let last = Base {
            seq: get(&r, 0)?,
            hash: get(&r, 1)?,
        };
        let n: i64 = get(
            &self.query_one("SELECT count(*) FROM audit WHERE seq <= $1", &[&last.seq])?,
            0,
        )?;
        Ok(Some((last, u64::try_from(n).unwrap_or(0))))
    }

    /// The head row is left as it is: it names the last record, which a cut never removes
    /// but as the new base (then the next append chains to it either way).
    fn cut(&self, boundary: &Base) -> Result<()> {
        self.execute("DELETE FROM audit WHERE seq <= $1", &[&boundary.seq])?;
        set_meta(self, "audit_base_seq", &boundary.seq.to_string())?;
        set_meta(self, "audit_base_hash", &boundary.hash)
    }

    fn run_outcomes(
        &self,
        since: Option<i64>,
        until: Option<i64>,
    ) -> Result<BTreeMap<String, u64>> {
        let mut out = BTreeMap::new();
        for r in self.query(
            "SELECT status, count(*) FROM runs
             WHERE ($1::bigint IS NULL OR created_at >= $1)
               AND ($2::bigint IS NULL OR created_at < $2)
             GROUP BY status",
            &[&since, &until],
        )? {
            let n: i64 = get(&r, 1)?;
            out.insert(get(&r, 0)?, u64::try_from(n).unwrap_or(0));
        }
        Ok(out)
    }

    /// Replicas on several hosts share one log, here (see `audit::checkpoint`).
    fn keeps_checkpoint_log(&self) -> bool {
        true
    }

    fn checkpoint_lines(&self, store_id: &str) -> Result<Vec<String>> {
        self.query(
            "SELECT entry FROM audit_checkpoints WHERE store_id = $1 ORDER BY n",
            &[&store_id],
        )?
        .iter()
        .map(|r| get(r, 0))
        .collect()
    }

    fn append_checkpoint_line(&self, store_id: &str, line: &str) -> Result<()> {
        self.execute(
            "INSERT INTO audit_checkpoints (store_id, entry) VALUES ($1, $2)",
            &[&store_id, &line],
        )?;
        Ok(())
    }

    fn checkpoint_key(&self) -> Result<Option<String>> {
        meta(self, CHECKPOINT_KEY)
    }

    fn set_checkpoint_key(&self, public_hex: &str) -> Result<()> {
        set_meta(self, CHECKPOINT_KEY, public_hex)
    }
}

/// The meta key holding the public key that signs the stored checkpoint log.
const CHECKPOINT_KEY: &str = "audit_checkpoint_key";
