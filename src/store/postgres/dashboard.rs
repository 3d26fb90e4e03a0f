//! The dashboard's pages on PostgreSQL, as the SQLite store's (`store::sqlite::dashboard`):
//! runs filtered and searched (cursor-paged by id), agents by name, the audit trail's tail.

use tokio_postgres::types::ToSql;

use super::rows::{RUN_COLUMNS, run_from_row};
use super::tx::{PgTx, get};
use crate::Result;
use crate::control::run_id_floor;
use crate::control::{AgentQuery, AuditFilter, RunQuery, RunSort};
use crate::model::{Agent, AgentStep, AuditRecord, Page, Run, StepStatus};
use crate::store::flow::agents;
use crate::store::sqlite::dashboard::MAX_WINDOW;
use crate::store::sqlite::rows::agent_state;

/// `%text%` for LIKE, with LIKE's wildcards in `text` escaped.
fn like(text: &str) -> String {
    let mut s = String::from("%");
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('%');
    s
}

/// Runs matching `q`, a window of them.
pub fn runs(tx: &PgTx<'_>, q: &RunQuery) -> Result<Page<Run>> {
    let limit = q.limit.clamp(1, MAX_WINDOW);
    let mut texts: Vec<String> = Vec::new();
    let mut sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE 1 = 1");
    let mut arg = |sql: &mut String, clause: &str, v: String| {
        texts.push(v);
        sql.push_str(&clause.replace('?', &format!("${}", texts.len())));
    };
    if let Some(w) = &q.workflow {
        arg(&mut sql, " AND workflow = ?", w.clone());
    }
    if let Some(s) = q.status {
        arg(&mut sql, " AND status = ?", s.as_str().to_string());
    }
    if let Some(s) = &q.schedule {
        arg(&mut sql, " AND schedule = ?", s.clone());
    }
    // Each label one probe of run_labels' primary key per run.
    for (k, v) in &q.labels {
        arg(
            &mut sql,
            " AND EXISTS (SELECT 1 FROM run_labels l WHERE l.run_id = runs.id AND l.key = ?",
            k.clone(),
        );
        arg(&mut sql, " AND l.value = ?)", v.clone());
    }
    if q.waiting {
        sql.push_str(&format!(" AND {}", crate::store::sqlite::runs::WAITING));
    }
    if let Some(t) = q.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let upper = t.to_ascii_uppercase();
        arg(&mut sql, " AND (id COLLATE \"C\" >= ?", upper.clone());
        arg(
            &mut sql,
            " AND id COLLATE \"C\" < ?",
            format!("{upper}\u{7f}"),
        );
        arg(&mut sql, " OR workflow LIKE ? ESCAPE '\\'", like(t));
        arg(&mut sql, " OR created_by LIKE ? ESCAPE '\\')", like(t));
    }
    if let Some(since) = q.since {
        // Bounded by the id index, exact by the creation time.
        arg(&mut sql, " AND id COLLATE \"C\" >= ?", run_id_floor(since));
    }
    let (cmp, order) = match q.sort {
        RunSort::Newest => ("<", "DESC"),
        RunSort::Oldest => (">", "ASC"),
    };
    if let Some(c) = &q.cursor {
        arg(
            &mut sql,
            &format!(" AND id COLLATE \"C\" {cmp} ?"),
            c.clone(),
        );
    }
    let lim = i64::from(limit + 1);
    let since = q.since.unwrap_or(i64::MIN);
    sql.push_str(&format!(
        " AND created_at >= ${} ORDER BY id COLLATE \"C\" {order} LIMIT ${}",
        texts.len() + 1,
        texts.len() + 2
    ));
    let mut args: Vec<&(dyn ToSql + Sync)> = texts.iter().map(|t| t as _).collect();
    args.push(&since);
    args.push(&lim);
    let mut items: Vec<Run> = tx
        .query(&sql, &args)?
        .iter()
        .map(run_from_row)
        .collect::<Result<_>>()?;
    let next_cursor = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(|r| r.id.clone())
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

/// Agents by name after `q.after`, matching `q.text` in name, host or labels.
pub fn agents_page(tx: &PgTx<'_>, q: &AgentQuery, now: i64) -> Result<Page<Agent>> {
    let limit = q.limit.clamp(1, MAX_WINDOW) as usize;
    let text = q
        .text
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(like);
    let ids: Vec<String> = tx
        .query(
            "SELECT id FROM agents
             WHERE ($1::text IS NULL OR name COLLATE \"C\" > $1)
               AND ($2::text IS NULL OR name LIKE $2 ESCAPE '\\' OR hostname LIKE $2 ESCAPE '\\'
                    OR labels::text LIKE $2 ESCAPE '\\')
             ORDER BY name COLLATE \"C\" LIMIT $3",
            &[
                &q.after,
                &text,
                &i64::try_from(limit + 1).unwrap_or(i64::MAX),
            ],
        )?
        .iter()
        .map(|r| get(r, 0))
        .collect::<Result<_>>()?;
    let all = agents::list_with_stopped(tx)?;
    let mut items: Vec<Agent> = Vec::with_capacity(ids.len());
    for id in &ids {
        if let Some((a, stopped)) = all.iter().find(|(a, _)| &a.id == id) {
            let mut a = a.clone();
            a.state = agent_state(&a, *stopped, now);
            items.push(a);
        }
    }
    let next_cursor = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|a| a.name.clone())
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

/// The steps the agent named `agent` holds or ran last, the most recently taken first.
pub fn agent_steps(tx: &PgTx<'_>, agent: &str, limit: u32) -> Result<Vec<AgentStep>> {
    tx.query(
        "SELECT s.run_id, r.workflow, s.step_id, s.status, s.attempt, s.started_at, s.finished_at
         FROM steps s JOIN runs r ON r.id = s.run_id
         WHERE s.agent_name = $1
         ORDER BY s.started_at DESC NULLS LAST, s.seq DESC LIMIT $2",
        &[&agent, &i64::from(limit.clamp(1, MAX_WINDOW))],
    )?
    .iter()
    .map(|r| {
        let status: String = get(r, 3)?;
        let attempt: i64 = get(r, 4)?;
        Ok(AgentStep {
            run_id: get(r, 0)?,
            workflow: get(r, 1)?,
            step_id: get(r, 2)?,
            status: status.parse::<StepStatus>().map_err(crate::Error::Store)?,
            attempt: u32::try_from(attempt).unwrap_or(u32::MAX),
            started_at: get(r, 5)?,
            finished_at: get(r, 6)?,
        })
    })
    .collect()
}

/// The newest audit records before `before`, matching `filter`'s outcome, text and time range.
pub fn audit_tail(
    tx: &PgTx<'_>,
    filter: &AuditFilter,
    before: Option<i64>,
    limit: u32,
) -> Result<Vec<AuditRecord>> {
    let text = filter
        .text
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(like);
    // A time range starts at the first record of it (found through `audit_by_time`), so the
    // scan by seq stops there instead of reading the whole trail.
    let (from, since) = match filter.since {
        Some(since) => {
            let first: Option<i64> = tx
                .query("SELECT min(seq) FROM audit WHERE time >= $1", &[&since])?
                .first()
                .map(|r| get(r, 0))
                .transpose()?
                .flatten();
            match first {
                Some(seq) => (seq, since),
                None => return Ok(Vec::new()),
            }
        }
        None => (i64::MIN, i64::MIN),
    };
    tx.query(
        "SELECT seq, time, actor, source, action, target, outcome, details, prev_hash, hash
         FROM audit
         WHERE ($1::bigint IS NULL OR seq < $1) AND ($2::text IS NULL OR outcome = $2)
           AND ($3::text IS NULL OR actor LIKE $3 ESCAPE '\\' OR action LIKE $3 ESCAPE '\\'
                OR target LIKE $3 ESCAPE '\\')
           AND seq >= $5 AND time >= $6
         ORDER BY seq DESC LIMIT $4",
        &[
            &before,
            &filter.outcome,
            &text,
            &i64::from(limit.clamp(1, MAX_WINDOW)),
            &from,
            &since,
        ],
    )?
    .iter()
    .map(|r| {
        let details: String = get(r, 7)?;
        Ok(AuditRecord {
            seq: get(r, 0)?,
            time: get(r, 1)?,
            actor: get(r, 2)?,
            source: get(r, 3)?,
            action: get(r, 4)?,
            target: get(r, 5)?,
            outcome: get(r, 6)?,
            details: serde_json::from_str(&details).unwrap_or(serde_json::Value::Null),
            prev_hash: get(r, 8)?,
            hash: get(r, 9)?,
        })
    })
    .collect()
}
