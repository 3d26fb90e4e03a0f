//! Row ↔ model mapping shared by the PostgreSQL queries (see `store::sqlite::rows`).

use tokio_postgres::Row;

use super::tx::{get, get_u32};
use crate::Result;
use crate::model::{Run, RunConcurrency, RunStatus, StepState, StepStatus, span_ms};

/// The columns [`run_from_row`] reads, in order.
pub const RUN_COLUMNS: &str = "id, workflow, workflow_version, status, params, created_at, \
     started_at, finished_at, deadline, created_by, steps_total, steps_succeeded, error, \
     concurrency_key, concurrency_limit, admitted_at, schedule, nominal_time, labels, rerun_of, \
     id IN (SELECT run_id FROM steps WHERE status = 'waiting')";
/// The columns [`step_from_row`] reads, in order.
pub const STEP_COLUMNS: &str = "step_id, kind, status, attempt, agent_name, started_at, \
     finished_at, not_before, exit_code, outputs, error";

pub fn run_from_row(r: &Row) -> Result<Run> {
    let status: &str = get(r, 3)?;
    let params: &str = get(r, 4)?;
    let (started_at, finished_at) = (get(r, 6)?, get(r, 7)?);
    Ok(Run {
        id: get(r, 0)?,
        workflow: get(r, 1)?,
        workflow_version: get_u32(r, 2)?,
        status: status.parse().unwrap_or(RunStatus::Failed),
        params: serde_json::from_str(params).unwrap_or_default(),
        created_at: get(r, 5)?,
        started_at,
        finished_at,
        deadline: get(r, 8)?,
        created_by: get(r, 9)?,
        steps_total: get_u32(r, 10)?,
        steps_succeeded: get_u32(r, 11)?,
        error: get(r, 12)?,
        duration_ms: span_ms(started_at, finished_at),
        concurrency: concurrency(r)?,
        schedule: get(r, 16)?,
        nominal_time: get(r, 17)?,
        labels: crate::store::sqlite::rows::labels_from(get(r, 18)?),
        rerun_of: get(r, 19)?,
        awaiting_approval: get(r, 20)?,
    })
}

/// A run's concurrency key and slot from [`RUN_COLUMNS`] 13..=15 (its place in the queue is
/// filled in by `store::flow::concurrency::place`).
fn concurrency(r: &Row) -> Result<Option<RunConcurrency>> {
    let key: Option<String> = get(r, 13)?;
    let Some(key) = key else {
        return Ok(None);
    };
    let limit: Option<i64> = get(r, 14)?;
    Ok(Some(RunConcurrency {
        key,
        limit: limit.and_then(|l| u32::try_from(l).ok()).unwrap_or(1),
        admitted_at: get(r, 15)?,
        position: None,
        waiting_for: Vec::new(),
    }))
}

pub fn step_from_row(r: &Row, needs: Vec<String>) -> Result<StepState> {
    let status: &str = get(r, 2)?;
    let outputs: Option<String> = get(r, 9)?;
    let not_before: i64 = get(r, 7)?;
    let exit_code: Option<i64> = get(r, 8)?;
    let (started_at, finished_at) = (get(r, 5)?, get(r, 6)?);
    Ok(StepState {
        step_id: get(r, 0)?,
        kind: get(r, 1)?,
        status: status.parse().unwrap_or(StepStatus::Failed),
        attempt: get_u32(r, 3)?,
        needs,
        agent: get(r, 4)?,
        started_at,
        finished_at,
        not_before: (not_before > 0).then_some(not_before),
        exit_code: exit_code.and_then(|c| i32::try_from(c).ok()),
        outputs: outputs
            .and_then(|o| serde_json::from_str(&o).ok())
            .unwrap_or_default(),
        error: get(r, 10)?,
        duration_ms: span_ms(started_at, finished_at),
        approval: None,
    })
}
