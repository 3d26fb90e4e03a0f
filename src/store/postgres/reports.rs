//! Counts for `imx status` and the dashboard's overview on PostgreSQL, as the SQLite store's
//! (`store::sqlite::reports`, `store::sqlite::dashboard`): by minute of ending, step
//! durations, counts by state, and each workflow's versions and recent runs.

use std::collections::BTreeMap;

use super::rows::{RUN_COLUMNS, run_from_row};
use super::tx::{PgTx, get, get_u32};
use crate::Result;
use crate::control::{MINUTE_MS, Overview, WorkflowOutcomes};
use crate::model::{AgentState, Run, RunStatus, WorkflowSpec};
use crate::store::api::StatusCounts;
use crate::store::sqlite::rows::offline;

fn count(tx: &PgTx<'_>, sql: &str, params: &super::tx::Params<'_>) -> Result<u64> {
    let r = tx.query_one(sql, params)?;
    Ok(u64::try_from(get::<i64>(&r, 0)?).unwrap_or(0))
}

/// Counts by state; every agent state and run status is present, 0 when none.
pub fn status(tx: &PgTx<'_>) -> Result<StatusCounts> {
    let mut out = StatusCounts {
        runs: RunStatus::ALL.into_iter().map(|s| (s, 0)).collect(),
        agents: AgentState::ALL.into_iter().map(|s| (s, 0)).collect(),
        ..StatusCounts::default()
    };
    for r in tx.query("SELECT status, count(*) FROM runs GROUP BY status", &[])? {
        let (status, n): (String, i64) = (get(&r, 0)?, get(&r, 1)?);
        if let Ok(s) = status.parse::<RunStatus>() {
            out.runs.insert(s, u64::try_from(n).unwrap_or(0));
        }
    }
    out.steps_ready = count(tx, "SELECT count(*) FROM steps WHERE status = 'ready'", &[])?;
    out.steps_running = count(
        tx,
        "SELECT count(*) FROM steps WHERE status IN ('leased', 'running')",
        &[],
    )?;
    out.workflows = count(
        tx,
        "SELECT count(DISTINCT name) FROM workflows WHERE deleted_at IS NULL",
        &[],
    )?;
    for agent in crate::store::flow::agents::list(tx)? {
        *out.agents.entry(agent.state).or_default() += 1;
    }
    Ok(out)
}

/// Runs that ended since `from_ms`, by minute and status.
pub fn run_minutes(tx: &PgTx<'_>, from_ms: i64) -> Result<Vec<(i64, RunStatus, u64)>> {
    let mut out = Vec::new();
    for r in tx.query(
        "SELECT finished_at / $2, status, count(*) FROM runs
         WHERE finished_at >= $1 GROUP BY 1, 2",
        &[&from_ms, &MINUTE_MS],
    )? {
        let (m, s, n): (i64, String, i64) = (get(&r, 0)?, get(&r, 1)?, get(&r, 2)?);
        if let Ok(s) = s.parse() {
            out.push((m, s, u64::try_from(n).unwrap_or(0)));
        }
    }
    Ok(out)
}

/// Steps that ended since `from_ms`, by minute.
pub fn step_minutes(tx: &PgTx<'_>, from_ms: i64) -> Result<Vec<(i64, u64)>> {
    tx.query(
        "SELECT finished_at / $2, count(*) FROM steps WHERE finished_at >= $1 GROUP BY 1",
        &[&from_ms, &MINUTE_MS],
    )?
    .iter()
    .map(|r| Ok((get(r, 0)?, u64::try_from(get::<i64>(r, 1)?).unwrap_or(0))))
    .collect()
}

/// The durations of the last `n` steps that ended since `from_ms`, sorted.
pub fn step_durations(tx: &PgTx<'_>, from_ms: i64, n: u32) -> Result<Vec<i64>> {
    let mut out: Vec<i64> = tx
        .query(
            "SELECT finished_at - started_at FROM steps
             WHERE finished_at >= $1 AND started_at IS NOT NULL
             ORDER BY finished_at DESC LIMIT $2",
            &[&from_ms, &i64::from(n)],
        )?
        .iter()
        .map(|r| get(r, 0))
        .collect::<Result<_>>()?;
    out.sort_unstable();
    Ok(out)
}

/// The overview's counts at `now`, with the latest `failures` failed or timed-out runs.
pub fn overview_counts(tx: &PgTx<'_>, now: i64, failures: u32) -> Result<Overview> {
    let mut o = Overview {
        at: now,
        ..Overview::default()
    };
    o.event_id = super::events::latest(tx)?;
    let by_status = "SELECT count(*) FROM runs WHERE status = $1";
    o.runs_running = count(tx, by_status, &[&"running"])?;
    o.runs_queued = count(tx, by_status, &[&"queued"])?;
    for s in AgentState::ALL {
        o.agents.insert(s, 0);
    }
    let mut held: BTreeMap<String, u32> = BTreeMap::new();
    for r in tx.query(
        "SELECT agent_id, count(*) FROM steps
         WHERE status IN ('leased', 'running') AND agent_id IS NOT NULL GROUP BY agent_id",
        &[],
    )? {
        held.insert(get(&r, 0)?, get_u32(&r, 1)?);
    }
    for r in tx.query(
        "SELECT id, slots, draining, last_heartbeat, stopped_at, lease_ms FROM agents",
        &[],
    )? {
        let id: String = get(&r, 0)?;
        let slots = get_u32(&r, 1)?;
        let (draining, beat, stopped, lease): (bool, i64, Option<i64>, i64) =
            (get(&r, 2)?, get(&r, 3)?, get(&r, 4)?, get(&r, 5)?);
        let running = held.get(&id).copied().unwrap_or(0);
        let state = if stopped.is_some() || offline(beat, u64::try_from(lease).ok(), now) {
            AgentState::Offline
        } else if draining {
            AgentState::Draining
        } else if running >= slots {
            AgentState::Busy
        } else {
            AgentState::Online
        };
        *o.agents.entry(state).or_default() += 1;
    }
    let mut latest: Vec<Run> = tx
        .query(
            &format!(
                "SELECT {RUN_COLUMNS} FROM runs WHERE status IN ('failed', 'timed_out')
                 ORDER BY id COLLATE \"C\" DESC LIMIT $1"
            ),
            &[&i64::from(failures)],
        )?
        .iter()
        .map(run_from_row)
        .collect::<Result<_>>()?;
    latest.truncate(failures as usize);
    o.latest_failures = latest;
    Ok(o)
}

/// Live workflows with their versions and the statuses of their `recent` runs.
pub fn workflows(tx: &PgTx<'_>, recent: u32) -> Result<Vec<WorkflowOutcomes>> {
    let mut out: Vec<WorkflowOutcomes> = Vec::new();
    for r in tx.query(
        "SELECT name, version, created_at, spec FROM workflows
         WHERE deleted_at IS NULL ORDER BY name COLLATE \"C\", version DESC",
        &[],
    )? {
        let (name, version, created): (String, u32, i64) =
            (get(&r, 0)?, get_u32(&r, 1)?, get(&r, 2)?);
        if let Some(last) = out.last_mut().filter(|w| w.name == name) {
            last.versions.push((version, created));
            continue;
        }
        let spec: WorkflowSpec = serde_json::from_str(get(&r, 3)?)?;
        out.push(WorkflowOutcomes {
            name,
            description: spec.description,
            version,
            versions: vec![(version, created)],
            steps: spec.steps.len(),
            params: spec.params,
            recent: Vec::new(),
        });
    }
    for w in &mut out {
        w.recent = tx
            .query(
                "SELECT id, status FROM runs WHERE workflow = $1
                 ORDER BY id COLLATE \"C\" DESC LIMIT $2",
                &[&w.name, &i64::from(recent)],
            )?
            .iter()
            .filter_map(|r| {
                let id: Result<String> = get(r, 0);
                let status: Result<String> = get(r, 1);
                match (id, status) {
                    (Ok(id), Ok(s)) => s.parse().ok().map(|s| Ok((id, s))),
                    (Err(e), _) | (_, Err(e)) => Some(Err(e)),
                }
            })
            .collect::<Result<_>>()?;
    }
    Ok(out)
}
