//! The audit chain on PostgreSQL: one linear chain however many replicas write to it. Each
//! append locks the chain's head row (`audit_head`, FOR UPDATE), so appends queue there for the
//! rest of their transaction: the next record's `seq` is the head's + 1 and its `prev_hash` the
//! head's hash, and an append whose transaction rolls back leaves the head as it was. The
//! hashing is the audit module's ([`crate::audit::record_hash`]), so `audit verify` reads a
//! chain written here as one written to SQLite.
//!
//! The head lock is held until commit: append last in a transaction, so others wait on it for
//! as short a time as can be.

use tokio_postgres::GenericClient;

use super::errors::PgResult;
use crate::auth::Principal;
use crate::model::{AuditRecord, now_ms};

/// Append one record to the chain inside the caller's transaction `tx`.
pub async fn append(
    tx: &impl GenericClient,
    who: &Principal,
    action: &str,
    target: &str,
    outcome: &str,
    details: serde_json::Value,
) -> PgResult<AuditRecord> {
    let head = tx
        .query_one("SELECT seq, hash FROM audit_head FOR UPDATE", &[])
        .await?;
    let mut rec = AuditRecord {
        seq: head.get::<_, i64>(0) + 1,
        time: now_ms(),
        actor: who.name.clone(),
        source: who.source.clone(),
        action: action.into(),
        target: target.into(),
        outcome: outcome.into(),
        details,
        prev_hash: head.get(1),
        hash: String::new(),
    };
    rec.hash = crate::audit::record_hash(&rec);
    tx.execute(
        "INSERT INTO audit (seq, time, actor, source, action, target, outcome, details, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
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
    )
    .await?;
    tx.execute(
        "UPDATE audit_head SET seq = $1, hash = $2",
        &[&rec.seq, &rec.hash],
    )
    .await?;
    Ok(rec)
}

/// Every record, in chain order.
pub async fn list(c: &impl GenericClient) -> PgResult<Vec<AuditRecord>> {
    let rows = c
        .query(
            "SELECT seq, time, actor, source, action, target, outcome, details, prev_hash, hash
             FROM audit ORDER BY seq",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| AuditRecord {
            seq: r.get(0),
            time: r.get(1),
            actor: r.get(2),
            source: r.get(3),
            action: r.get(4),
            target: r.get(5),
            outcome: r.get(6),
            details: serde_json::from_str(r.get(7)).unwrap_or(serde_json::Value::Null),
            prev_hash: r.get(8),
            hash: r.get(9),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::auth::Role;
    use crate::store::postgres::retry::in_tx;
    use crate::store::postgres::testdb::TestDb;
    use crate::store::postgres::{PgConfig, migrate};

    /// Writers on many connections (as replicas) append at once, some rolling back: the chain
    /// stays one: seq 1..=n with no gap, each record hashing the one before, and it verifies
    /// with the audit module's own check.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_appends_keep_one_contiguous_verifying_chain() {
        let Some(db) = TestDb::get().await else {
            return;
        };
        let cfg = PgConfig::parse(&db.url()).unwrap().with_pool_size(8);
        let mut c = cfg.connect(None).await.unwrap();
        migrate(&mut c, "db", true).await.unwrap();
        let pool = cfg.pool().unwrap();
        const WRITERS: usize = 8;
        const EACH: usize = 40;
        let mut tasks = Vec::new();
        for w in 0..WRITERS {
            let pool = pool.clone();
            tasks.push(tokio::spawn(async move {
                let who = Principal {
                    name: format!("user:w{w}"),
                    role: Role::Admin,
                    source: "10.0.0.1".into(),
                };
                let mut kept = 0;
                for i in 0..EACH {
                    let rolled_back = i % 10 == 3;
                    let r = in_tx(&pool, |tx| {
                        let who = who.clone();
                        Box::pin(async move {
                            let details =
                                serde_json::json!({"i": i, "w": w, "note": "a \"quoted\" value"});
                            append(&**tx, &who, "run.start", "r1", "ok", details).await?;
                            if rolled_back {
                                return Err(crate::Error::Conflict("rolled back".into()).into());
                            }
                            Ok(())
                        })
                    })
                    .await;
                    kept += usize::from(r.is_ok());
                }
                kept
            }));
        }
        let mut kept = 0;
        for t in tasks {
            kept += t.await.unwrap();
        }
        let records = list(&c).await.unwrap();
        assert_eq!(records.len(), kept);
        assert_eq!(kept, WRITERS * (EACH - EACH / 10));
        let seqs: Vec<i64> = records.iter().map(|r| r.seq).collect();
        assert_eq!(
            seqs,
            (1..=kept as i64).collect::<Vec<_>>(),
            "no gap, no repeat"
        );
        assert_eq!(crate::audit::verify(&records), Ok(()));
        let head = c
            .query_one("SELECT seq, hash FROM audit_head", &[])
            .await
            .unwrap();
        assert_eq!(head.get::<_, i64>(0), kept as i64);
        assert_eq!(head.get::<_, String>(1), records[kept - 1].hash);
    }
}
