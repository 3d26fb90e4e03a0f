//! The worker side's reads on PostgreSQL that are not a transition's rows (claims, heartbeats,
//! logs and completions are decided in `store::flow::claims`): the agent asking, the ready
//! steps it may take (`ready`: picked and locked with `FOR UPDATE SKIP LOCKED`, so claimers on
//! every replica take different steps without waiting), upstream outputs for its inputs.

pub mod ready;

use std::collections::{BTreeMap, BTreeSet};

pub use ready::{Claimant, Grant, claim_ready, pick_ready};

use super::transitions::step_row;
use super::tx::{PgTx, get};
use crate::Result;
use crate::engine::StepRow;
use crate::store::flow::{ClaimAgent, Outputs};

/// The agent a claim is for.
pub(super) fn agent(tx: &PgTx<'_>, agent_id: &str) -> Result<Option<ClaimAgent>> {
    let Some(r) = tx.query_opt(
        "SELECT name, labels, draining FROM agents WHERE id = $1",
        &[&agent_id],
    )?
    else {
        return Ok(None);
    };
    let labels: serde_json::Value = get(&r, 1)?;
    Ok(Some(ClaimAgent {
        name: get(&r, 0)?,
        labels: serde_json::from_value(labels).unwrap_or_default(),
        draining: get(&r, 2)?,
    }))
}

/// Up to `max` ready steps due at `now` whose selectors `labels` satisfy, in due order,
/// locked with `SKIP LOCKED` (see [`pick_ready`]).
pub(super) fn ready(
    tx: &PgTx<'_>,
    labels: &BTreeMap<String, String>,
    max: u32,
    now: i64,
) -> Result<Vec<(String, StepRow)>> {
    let labels = serde_json::to_value(labels)?;
    let picked = tx.block(pick_ready(tx.inner(), &labels, i64::from(max), now))?;
    picked
        .iter()
        .map(|r| Ok((get(r, 0)?, step_row(r, 1)?)))
        .collect()
}

/// The outputs of the succeeded steps among `$2` of run `$1`.
pub(super) const SUCCEEDED_OUTPUTS: &str = "SELECT step_id, outputs FROM steps
     WHERE run_id = $1 AND step_id = ANY($2) AND status = 'succeeded'";

/// The outputs of the succeeded steps among `step_ids` of a run.
pub(super) fn succeeded_outputs(
    tx: &PgTx<'_>,
    run_id: &str,
    step_ids: &BTreeSet<&str>,
) -> Result<Outputs> {
    if step_ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    let ids: Vec<&str> = step_ids.iter().copied().collect();
    outputs_of(&tx.query(SUCCEEDED_OUTPUTS, &[&run_id, &ids])?)
}

/// The rows of [`SUCCEEDED_OUTPUTS`] as outputs by step.
pub(super) fn outputs_of(rows: &[tokio_postgres::Row]) -> Result<Outputs> {
    let mut out = BTreeMap::new();
    for r in rows {
        let outputs: Option<String> = get(r, 1)?;
        let map = outputs
            .and_then(|o| serde_json::from_str(&o).ok())
            .unwrap_or_default();
        out.insert(get::<String>(r, 0)?, map);
    }
    Ok(out)
}

/// Whether any step is ready to claim at `now` (ms).
pub fn any_ready(tx: &PgTx<'_>, now: i64) -> Result<bool> {
    let r = tx.query_one(
        "SELECT EXISTS (SELECT 1 FROM steps WHERE status = 'ready' AND not_before <= $1)",
        &[&now],
    )?;
    get(&r, 0)
}
