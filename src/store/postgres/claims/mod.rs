//! The worker side's reads on PostgreSQL that are not a transition's rows (claims, heartbeats,
//! logs and completions are decided in `store::flow::claims`): the agent asking, the ready
//! steps it may take (`ready`: picked and locked with `FOR UPDATE SKIP LOCKED`, so claimers on
//! every replica take different steps without waiting), upstream outputs for its inputs.

pub mod ready;

use std::collections::{BTreeMap, BTreeSet};

pub use ready::{Claimant, Grant, claim_ready, pick_ready};

use super::errors::PgResult;
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

/// The outputs of the succeeded steps among `$2` of run `$1`, each looked up by its key (see
/// [`ONE_BY_ONE`](crate::store::postgres::transitions::ONE_BY_ONE)).
const SUCCEEDED_OUTPUTS_BY_KEY: &str = "SELECT s.step_id, s.outputs
     FROM unnest($2::text[]) AS w(step_id),
     LATERAL (SELECT step_id, outputs FROM steps
              WHERE run_id = $1 AND step_id = w.step_id AND status = 'succeeded'
              OFFSET 0) s";

/// The outputs of the succeeded steps among `$2` of run `$1`.
const SUCCEEDED_OUTPUTS: &str = "SELECT step_id, outputs FROM steps
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
    outputs_of(&tx.block(outputs_rows(tx.inner(), run_id, &ids))?)
}

/// The rows of the succeeded steps among `ids` of run `run_id` (step id, outputs): up to
/// [`ONE_BY_ONE`](crate::store::postgres::transitions::ONE_BY_ONE) each looked up by its key
/// (whatever the planner believes of a run's steps), more with `ANY`.
pub(super) async fn outputs_rows(
    c: &deadpool_postgres::ClientWrapper,
    run_id: &str,
    ids: &[&str],
) -> PgResult<Vec<tokio_postgres::Row>> {
    let sql = if ids.len() > crate::store::postgres::transitions::ONE_BY_ONE {
        SUCCEEDED_OUTPUTS
    } else {
        SUCCEEDED_OUTPUTS_BY_KEY
    };
    let st = c.prepare_cached(sql).await?;
    Ok(c.query(&st, &[&run_id, &ids]).await?)
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
