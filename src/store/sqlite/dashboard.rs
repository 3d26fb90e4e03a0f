//! The dashboard's read queries (see `control::dashboard`): each one bounded and index-backed.

use std::collections::BTreeMap;

use rusqlite::{Transaction, params};

use super::rows::{AGENT_COLUMNS, RUN_COLUMNS, agent_from_row, agent_state, offline, run_from_row};
use crate::Result;
use crate::control::{
    AgentQuery, AuditFilter, MINUTE_MS, Overview, RunQuery, RunSort, WorkflowOutcomes, run_id_floor,
};
use crate::model::{
    Agent, AgentState, AgentStep, AuditRecord, Page, Run, RunStatus, StepStatus, WorkflowSpec,
    short_id,
};

/// Largest window the dashboard asks for.
pub const MAX_WINDOW: u32 = 1_000;

/// Ended runs per (minute, status) since `from_ms`.
pub fn run_minutes(tx: &Transaction<'_>, from_ms: i64) -> Result<Vec<(i64, RunStatus, u64)>> {
    let mut stmt = tx.prepare_cached(
        "SELECT finished_at / ?2, status, count(*) FROM runs
         WHERE finished_at >= ?1 GROUP BY 1, 2",
    )?;
    let rows = stmt.query_map(params![from_ms, MINUTE_MS], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, u64>(2)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (m, s, n) = row?;
        if let Ok(s) = s.parse() {
            out.push((m, s, n));
        }
    }
    Ok(out)
}

/// Ended steps per minute since `from_ms`.
pub fn step_minutes(tx: &Transaction<'_>, from_ms: i64) -> Result<Vec<(i64, u64)>> {
    let mut stmt = tx.prepare_cached(
        "SELECT finished_at / ?2, count(*) FROM steps WHERE finished_at >= ?1 GROUP BY 1",
    )?;
    let rows = stmt.query_map(params![from_ms, MINUTE_MS], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Durations of the last `n` steps that ran and ended since `from_ms`, sorted.
pub fn step_durations(tx: &Transaction<'_>, from_ms: i64, n: u32) -> Result<Vec<i64>> {
    let mut stmt = tx.prepare_cached(
        "SELECT finished_at - started_at FROM steps
         WHERE finished_at >= ?1 AND started_at IS NOT NULL
         ORDER BY finished_at DESC LIMIT ?2",
    )?;
    let mut out: Vec<i64> = stmt
        .query_map(params![from_ms, n], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    out.sort_unstable();
    Ok(out)
}

/// Everything in the overview that is not per-minute buckets.
pub fn overview_counts(tx: &Transaction<'_>, now: i64, failures: u32) -> Result<Overview> {
    let mut o = Overview {
        at: now,
        ..Overview::default()
    };
    o.event_id = tx.query_row("SELECT coalesce(max(id), 0) FROM events", [], |r| r.get(0))?;
    let count = |status: &str| -> Result<u64> {
        Ok(tx
            .prepare_cached("SELECT count(*) FROM runs WHERE status = ?1")?
            .query_row([status], |r| r.get(0))?)
    };
    o.runs_running = count("running")?;
    o.runs_queued = count("queued")?;
    for s in AgentState::ALL {
        o.agents.insert(s, 0);
    }
    let held = held_counts(tx)?;
    let mut stmt = tx.prepare_cached(
        "SELECT id, slots, draining, last_heartbeat, stopped_at, lease_ms FROM agents",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, u32>(1)?,
            r.get::<_, bool>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, Option<i64>>(4)?,
            r.get::<_, u64>(5)?,
        ))
    })?;
    for row in rows {
        let (id, slots, draining, beat, stopped, lease) = row?;
        let running = held.get(&id).copied().unwrap_or(0);
        let state = if stopped.is_some() || offline(beat, Some(lease), now) {
            AgentState::Offline
        } else if draining {
            AgentState::Draining
        } else if running >= slots {
            AgentState::Busy
        } else {
            AgentState::Online
        };
        *o.agents.entry(state).or_default() += 1;
        if state != AgentState::Offline && running > 0 {
            o.agents_holding += 1;
        }
    }
    // Two index lookups merged, rather than one OR that would sort every failure.
    let mut latest: Vec<Run> = Vec::new();
    for status in ["failed", "timed_out"] {
        let mut stmt = tx.prepare_cached(&format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE status = ?1 ORDER BY id DESC LIMIT ?2"
        ))?;
        latest.extend(
            stmt.query_map(params![status, failures], run_from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?,
        );
    }
    latest.sort_by(|a, b| b.id.cmp(&a.id));
    latest.truncate(failures as usize);
    o.latest_failures = latest;
    Ok(o)
}

/// Steps held (leased or running) per agent id.
fn held_counts(tx: &Transaction<'_>) -> Result<BTreeMap<String, u32>> {
    let mut stmt = tx.prepare_cached(
        "SELECT agent_id, count(*) FROM steps
         WHERE status IN ('leased', 'running') AND agent_id IS NOT NULL GROUP BY agent_id",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// `%text%` for LIKE, with the wildcards in `text` escaped.
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

/// One window of runs.
pub fn runs(tx: &Transaction<'_>, q: &RunQuery) -> Result<Page<Run>> {
    let limit = q.limit.clamp(1, MAX_WINDOW);
    let mut sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE 1 = 1");
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    let mut arg = |sql: &mut String, clause: &str, v: rusqlite::types::Value| {
        args.push(v);
        sql.push_str(&clause.replace('?', &format!("?{}", args.len())));
    };
    if let Some(w) = &q.workflow {
        arg(&mut sql, " AND workflow = ?", w.clone().into());
    }
    if let Some(s) = q.status {
        arg(&mut sql, " AND status = ?", s.as_str().to_string().into());
    }
    if let Some(s) = &q.schedule {
        arg(&mut sql, " AND schedule = ?", s.clone().into());
    }
    // Each label one probe of run_labels' primary key per run.
    for (k, v) in &q.labels {
        arg(
            &mut sql,
            " AND EXISTS (SELECT 1 FROM run_labels l WHERE l.run_id = runs.id AND l.key = ?",
            k.clone().into(),
        );
        arg(&mut sql, " AND l.value = ?)", v.clone().into());
    }
    if q.waiting {
        sql.push_str(&format!(" AND {}", super::runs::WAITING));
    }
    if let Some(t) = q.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let upper = t.to_ascii_uppercase();
        arg(&mut sql, " AND (id >= ?", upper.clone().into());
        arg(&mut sql, " AND id < ?", format!("{upper}\u{7f}").into());
        arg(&mut sql, " OR workflow LIKE ? ESCAPE '\\'", like(t).into());
        arg(
            &mut sql,
            " OR created_by LIKE ? ESCAPE '\\')",
            like(t).into(),
        );
    }
    if let Some(since) = q.since {
        // Bounded by the primary key, exact by the creation time.
        arg(&mut sql, " AND id >= ?", run_id_floor(since).into());
        arg(&mut sql, " AND created_at >= ?", since.into());
    }
    let (cmp, order) = match q.sort {
        RunSort::Newest => ("<", "DESC"),
        RunSort::Oldest => (">", "ASC"),
    };
    if let Some(c) = &q.cursor {
        arg(&mut sql, &format!(" AND id {cmp} ?"), c.clone().into());
    }
    arg(
        &mut sql,
        &format!(" ORDER BY id {order} LIMIT ?"),
        i64::from(limit + 1).into(),
    );
    let mut stmt = tx.prepare_cached(&sql)?;
    let mut items: Vec<Run> = stmt
        .query_map(rusqlite::params_from_iter(args), run_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    let next_cursor = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(|r| r.id.clone())
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

/// One window of agents, by name, with the steps each holds.
pub fn agents(tx: &Transaction<'_>, q: &AgentQuery, now: i64) -> Result<Page<Agent>> {
    let limit = q.limit.clamp(1, MAX_WINDOW);
    let text = q
        .text
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(like);
    let mut stmt = tx.prepare_cached(&format!(
        "SELECT {AGENT_COLUMNS} FROM agents
         WHERE (?1 IS NULL OR name > ?1)
           AND (?2 IS NULL OR name LIKE ?2 ESCAPE '\\' OR hostname LIKE ?2 ESCAPE '\\'
                OR labels LIKE ?2 ESCAPE '\\')
         ORDER BY name LIMIT ?3"
    ))?;
    let rows = stmt.query_map(params![q.after, text, i64::from(limit + 1)], agent_from_row)?;
    let mut items = Vec::new();
    let mut held = tx.prepare_cached(
        "SELECT run_id, step_id, attempt FROM steps
         WHERE agent_id = ?1 AND status IN ('leased', 'running') ORDER BY seq",
    )?;
    for row in rows {
        let (mut a, stopped) = row?;
        if items.len() < limit as usize {
            a.current = held
                .query_map([&a.id], |r| {
                    let run: String = r.get(0)?;
                    let step: String = r.get(1)?;
                    let attempt: u32 = r.get(2)?;
                    Ok(format!("{}/{step}#{attempt}", short_id(&run)))
                })?
                .collect::<rusqlite::Result<_>>()?;
            a.running = u32::try_from(a.current.len()).unwrap_or(u32::MAX);
            a.state = agent_state(&a, stopped, now);
        }
        items.push(a);
    }
    let next_cursor = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(|a| a.name.clone())
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

/// The steps the agent named `agent` holds or ran last, the most recently taken first.
pub fn agent_steps(tx: &Transaction<'_>, agent: &str, limit: u32) -> Result<Vec<AgentStep>> {
    let mut stmt = tx.prepare_cached(
        "SELECT s.run_id, r.workflow, s.step_id, s.status, s.attempt, s.started_at, s.finished_at
         FROM steps s JOIN runs r ON r.id = s.run_id
         WHERE s.agent_name = ?1
         ORDER BY s.started_at DESC, s.seq DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![agent, limit.clamp(1, MAX_WINDOW)], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, u32>(4)?,
            r.get::<_, Option<i64>>(5)?,
            r.get::<_, Option<i64>>(6)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (run_id, workflow, step_id, status, attempt, started_at, finished_at) = row?;
        let status = status.parse::<StepStatus>().map_err(crate::Error::Store)?;
        out.push(AgentStep {
            run_id,
            workflow,
            step_id,
            status,
            attempt,
            started_at,
            finished_at,
        });
    }
    Ok(out)
}

/// Live workflows with their versions and the outcomes of their latest `recent` runs.
pub fn workflows(tx: &Transaction<'_>, recent: u32) -> Result<Vec<WorkflowOutcomes>> {
    let mut stmt = tx.prepare_cached(
        "SELECT name, version, created_at, spec FROM workflows
         WHERE deleted_at IS NULL ORDER BY name, version DESC",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, u32>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, String>(3)?,
        ))
    })?;
    let mut out: Vec<WorkflowOutcomes> = Vec::new();
    for row in rows {
        let (name, version, created, spec) = row?;
        if let Some(last) = out.last_mut().filter(|w| w.name == name) {
            last.versions.push((version, created));
            continue;
        }
        let spec: WorkflowSpec = serde_json::from_str(&spec)?;
        out.push(WorkflowOutcomes {
            name,
            description: spec.description,
            version,
            versions: vec![(version, created)],
            steps: spec.steps.len(),
            params: spec.params,
            recent: Vec::new(),
            recent_ms: Vec::new(),
        });
    }
    let mut runs = tx.prepare_cached(
        "SELECT id, status, finished_at - started_at FROM runs WHERE workflow = ?1
         ORDER BY id DESC LIMIT ?2",
    )?;
    for w in &mut out {
        let rows: Vec<(String, String, Option<i64>)> = runs
            .query_map(params![w.name, recent], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        for (id, s, ms) in rows {
            if let Ok(s) = s.parse() {
                w.recent.push((id, s));
                w.recent_ms.extend(ms);
            }
        }
    }
    Ok(out)
}

/// The newest audit records matching `filter` with `seq` below `before`, newest first.
pub fn audit_tail(
    tx: &Transaction<'_>,
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
    let from: Option<i64> = match filter.since {
        Some(since) => {
            let first = tx
                // By the time index (covering): without it SQLite walks the trail from its
                // first record to the first one in the range.
                .prepare_cached(
                    "SELECT min(seq) FROM audit INDEXED BY audit_by_time WHERE time >= ?1",
                )?
                .query_row([since], |r| r.get::<_, Option<i64>>(0))?;
            match first {
                Some(seq) => Some(seq),
                None => return Ok(Vec::new()),
            }
        }
        None => None,
    };
    // The range as plain terms (not `?5 IS NULL OR ...`), so the planner bounds the scan.
    let range = if from.is_some() {
        "AND seq >= ?5 AND time >= ?6"
    } else {
        "AND ?5 IS NULL AND ?6 IS NULL"
    };
    let mut stmt = tx.prepare_cached(&format!(
        "SELECT seq, time, actor, source, action, target, outcome, details, prev_hash, hash
         FROM audit
         WHERE (?1 IS NULL OR seq < ?1) AND (?2 IS NULL OR outcome = ?2)
           AND (?3 IS NULL OR actor LIKE ?3 ESCAPE '\\' OR action LIKE ?3 ESCAPE '\\'
                OR target LIKE ?3 ESCAPE '\\')
           {range}
         ORDER BY seq DESC LIMIT ?4"
    ))?;
    let rows = stmt.query_map(
        params![
            before,
            filter.outcome,
            text,
            limit.clamp(1, MAX_WINDOW),
            from,
            filter.since
        ],
        super::audit::record,
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
