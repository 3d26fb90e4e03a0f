//! Row ↔ model mapping shared by the queries.

use std::collections::BTreeMap;

use rusqlite::Row;

use crate::model::{
    Agent, AgentState, Run, RunConcurrency, RunStatus, StepState, StepStatus, span_ms,
};

/// The columns [`run_from_row`] reads, in order; the last says whether an approval step of the
/// run waits (the waiting steps are few, and partially indexed: migration 0022).
pub const RUN_COLUMNS: &str = "id, workflow, workflow_version, status, params, created_at, \
     started_at, finished_at, deadline, created_by, steps_total, steps_succeeded, error, \
     concurrency_key, concurrency_limit, admitted_at, schedule, nominal_time, labels, rerun_of, \
     id IN (SELECT run_id FROM steps WHERE status = 'waiting')";

pub fn run_from_row(r: &Row<'_>) -> rusqlite::Result<Run> {
    // Status and params are parsed straight from SQLite's buffer: no String for either (this
    // runs for every row of every page of runs).
    let status = r.get_ref(3)?.as_str()?;
    let params = r.get_ref(4)?.as_str()?;
    let (started_at, finished_at) = (r.get(6)?, r.get(7)?);
    Ok(Run {
        id: r.get(0)?,
        workflow: r.get(1)?,
        workflow_version: r.get(2)?,
        status: status.parse().unwrap_or(RunStatus::Failed),
        params: serde_json::from_str(params).unwrap_or_default(),
        created_at: r.get(5)?,
        started_at,
        finished_at,
        deadline: r.get(8)?,
        created_by: r.get(9)?,
        steps_total: r.get(10)?,
        steps_succeeded: r.get(11)?,
        error: r.get(12)?,
        duration_ms: span_ms(started_at, finished_at),
        concurrency: match r.get::<_, Option<String>>(13)? {
            Some(key) => Some(RunConcurrency {
                key,
                limit: r.get::<_, Option<u32>>(14)?.unwrap_or(1),
                admitted_at: r.get(15)?,
                position: None,
                waiting_for: Vec::new(),
            }),
            None => None,
        },
        schedule: r.get(16)?,
        nominal_time: r.get(17)?,
        labels: labels_from(r.get_ref(18)?.as_str_or_null()?),
        rerun_of: r.get(19)?,
        awaiting_approval: r.get(20)?,
    })
}

/// A run's labels from their JSON column (NULL: none).
pub fn labels_from(json: Option<&str>) -> BTreeMap<String, String> {
    json.and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or_default()
}

pub const STEP_COLUMNS: &str = "step_id, kind, status, attempt, agent_name, started_at, \
     finished_at, not_before, exit_code, outputs, error";

pub fn step_from_row(r: &Row<'_>, needs: Vec<String>) -> rusqlite::Result<StepState> {
    let status: String = r.get(2)?;
    let outputs: Option<String> = r.get(9)?;
    let not_before: i64 = r.get(7)?;
    let (started_at, finished_at) = (r.get(5)?, r.get(6)?);
    Ok(StepState {
        step_id: r.get(0)?,
        kind: r.get(1)?,
        status: status.parse().unwrap_or(StepStatus::Failed),
        attempt: r.get(3)?,
        needs,
        agent: r.get(4)?,
        started_at,
        finished_at,
        not_before: (not_before > 0).then_some(not_before),
        exit_code: r.get(8)?,
        outputs: outputs
            .and_then(|o| serde_json::from_str(&o).ok())
            .unwrap_or_default(),
        error: r.get(10)?,
        duration_ms: span_ms(started_at, finished_at),
        approval: None,
    })
}

pub const AGENT_COLUMNS: &str = "id, name, labels, slots, draining, registered_at, \
     last_heartbeat, stopped_at, hostname, pid, version, lease_ms, principal";

/// An agent row; `running`/`current`/`state` are filled in by the caller.
pub fn agent_from_row(r: &Row<'_>) -> rusqlite::Result<(Agent, Option<i64>)> {
    let labels: String = r.get(2)?;
    let draining: bool = r.get(4)?;
    Ok((
        Agent {
            id: r.get(0)?,
            name: r.get(1)?,
            labels: serde_json::from_str::<BTreeMap<String, String>>(&labels).unwrap_or_default(),
            slots: r.get(3)?,
            state: if draining {
                AgentState::Draining
            } else {
                AgentState::Online
            },
            draining,
            running: 0,
            registered_at: r.get(5)?,
            last_heartbeat: r.get(6)?,
            hostname: r.get(8)?,
            pid: r.get(9)?,
            version: r.get(10)?,
            current: Vec::new(),
            lease_ms: Some(r.get(11)?),
            registered_by: r.get(12)?,
        },
        r.get(7)?,
    ))
}

/// Derive an agent's displayed state: offline once it has not been heard from for its own
/// lease length (recorded with it, so every reader agrees whatever its settings).
pub fn agent_state(a: &Agent, stopped_at: Option<i64>, now: i64) -> AgentState {
    if stopped_at.is_some() || offline(a.last_heartbeat, a.lease_ms, now) {
        AgentState::Offline
    } else if a.draining {
        AgentState::Draining
    } else if a.running >= a.slots {
        AgentState::Busy
    } else {
        AgentState::Online
    }
}

/// Whether an agent last heard from at `last_heartbeat`, with a lease of `lease_ms`, is offline.
pub fn offline(last_heartbeat: i64, lease_ms: Option<u64>, now: i64) -> bool {
    let lease = lease_ms.map_or(DEFAULT_LEASE_MS, |l| i64::try_from(l).unwrap_or(i64::MAX));
    now.saturating_sub(last_heartbeat) > lease
}

/// The lease of agents whose row predates recorded leases (the old default).
pub const DEFAULT_LEASE_MS: i64 = 30_000;
