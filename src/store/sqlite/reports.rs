//! Counts for `imx status`, and whether any step is ready to claim.

use rusqlite::Transaction;

use crate::Result;
use crate::model::{AgentState, RunStatus};
pub use crate::store::api::StatusCounts;

/// What a batch of completions did (accepted per result).
pub type CompletionReport = Vec<bool>;

/// Counts by state; every agent state and run status is present, 0 when none (scripts read
/// `.runs.failed` without guarding against a missing key).
pub fn status(tx: &Transaction<'_>) -> Result<StatusCounts> {
    let mut out = StatusCounts {
        runs: RunStatus::ALL.into_iter().map(|s| (s, 0)).collect(),
        agents: AgentState::ALL.into_iter().map(|s| (s, 0)).collect(),
        ..StatusCounts::default()
    };
    let mut stmt = tx.prepare("SELECT status, count(*) FROM runs GROUP BY status")?;
    for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u64>(1)?)))? {
        let (status, n) = row?;
        if let Ok(s) = status.parse::<RunStatus>() {
            out.runs.insert(s, n);
        }
    }
    out.steps_ready = tx.query_row(
        "SELECT count(*) FROM steps WHERE status = 'ready'",
        [],
        |r| r.get(0),
    )?;
    out.steps_running = tx.query_row(
        "SELECT count(*) FROM steps WHERE status IN ('leased', 'running')",
        [],
        |r| r.get(0),
    )?;
    out.workflows = tx.query_row(
        "SELECT count(DISTINCT name) FROM workflows WHERE deleted_at IS NULL",
        [],
        |r| r.get(0),
    )?;
    for agent in crate::store::flow::agents::list(tx)? {
        *out.agents.entry(agent.state).or_default() += 1;
    }
    Ok(out)
}

/// Whether a step is ready to claim at `now` (ms).
pub fn any_ready(tx: &Transaction<'_>, now: i64) -> Result<bool> {
    Ok(tx
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM steps WHERE status = 'ready' AND not_before <= ?1)",
        )?
        .query_row([now], |r| r.get(0))?)
}
