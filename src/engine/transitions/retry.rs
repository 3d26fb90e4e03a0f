//! Retry an ended run: its failed, skipped and cancelled steps — or one step and everything
//! downstream of it (`--from`) — start again. Attempt numbers keep growing (they are fencing
//! tokens); retry budgets start afresh; the run gets a new deadline.

use std::collections::BTreeMap;

use super::Work;
use crate::engine::SpecIndex;
use crate::engine::changeset::{Decision, Rejection, RunChange, StepChange};
use crate::engine::state::Loaded;
use crate::model::{StepStatus, short_id};

/// Retry the run (every step loaded), from `from` if given.
pub fn retry(st: &Loaded<'_>, from: Option<&str>) -> Decision {
    let id = &st.run.id;
    if !st.run.status.is_terminal() {
        return Err(Rejection::RunActive {
            run_id: id.clone(),
            status: st.run.status,
        }
        .into());
    }
    let mut w = Work::new(st);
    let rows = w.all_steps()?;
    let to_reset: Vec<String> = match from {
        Some(step) if super::fanout::matrix_instances(st, step).is_some() => {
            super::fanout::matrix_instances(st, step).unwrap_or_default()
        }
        Some(step) => {
            if st.ix.step(step).is_none() {
                let ids: Vec<&str> = st.ix.spec.steps.iter().map(|s| s.id.as_str()).collect();
                return Err(Rejection::NoSuchStep {
                    run_id: id.clone(),
                    step_id: step.to_string(),
                    suggestion: crate::suggest::nearest(step, &ids).map(str::to_string),
                }
                .into());
            }
            st.ix
                .downstream_of(step)
                .into_iter()
                .map(|s| s.id.clone())
                .collect()
        }
        None => rows
            .iter()
            .filter(|r| {
                matches!(
                    r.status,
                    StepStatus::Failed | StepStatus::Skipped | StepStatus::Cancelled
                )
            })
            .map(|r| r.step_id.clone())
            .collect(),
    };
    if to_reset.is_empty() {
        return Err(Rejection::NothingToRetry { run_id: id.clone() }.into());
    }
    let statuses: BTreeMap<&str, StepStatus> = rows
        .iter()
        .map(|r| (r.step_id.as_str(), r.status))
        .collect();
    if let Some(step) = from {
        refuse_blocked(st.ix, id, &statuses, step, &to_reset)?;
        super::fanout::refuse_expanded(st, &rows, step, &to_reset)?;
    }
    // Needs are counted against the steps that still stand: a reset need is pending again.
    let after = |s: &str| {
        if to_reset.iter().any(|r| r == s) {
            Some(StepStatus::Pending)
        } else {
            statuses.get(s).copied()
        }
    };
    let now = st.now;
    let mut resets = Vec::with_capacity(to_reset.len());
    let mut slots = super::fanout::Slots::default();
    let mut expand = Vec::new();
    for step in &to_reset {
        let needs = super::fanout::run_needs(st, &rows, step);
        let pending = needs
            .iter()
            .filter(|n| after(n) != Some(StepStatus::Succeeded))
            .count()
            + slots.wait(st, step);
        // A `foreach:` step with a gate passes it (then expands) with the other gated steps.
        if pending == 0 && w.is_foreach(step) && !super::conditions::gated(st.ix, step) {
            expand.push(step.clone());
        }
        let status = if pending == 0 && !w.is_foreach(step) {
            StepStatus::Ready
        } else {
            StepStatus::Pending
        };
        resets.push((
            step.clone(),
            StepChange::Reset {
                status,
                pending_needs: u32::try_from(pending).unwrap_or(u32::MAX),
                not_before: now,
            },
        ));
    }
    let (mut done, mut succeeded) = (0u32, 0u32);
    for r in &rows {
        let status = after(&r.step_id).unwrap_or(r.status);
        done += u32::from(status.is_terminal());
        succeeded += u32::from(status == StepStatus::Succeeded);
    }
    for (step, change) in resets {
        w.update(&step, change)?;
    }
    w.update_run(RunChange::Reopen {
        steps_done: done,
        steps_succeeded: succeeded,
        deadline: st.run.timeout_ms.map(|t| now.saturating_add(t)),
    });
    w.cs.event(
        "run.retried",
        None,
        serde_json::json!({ "steps": to_reset, "from": from }),
    );
    super::conditions::after_reset(&mut w, &to_reset)?;
    for step in expand {
        w.expand_foreach(&step)?;
    }
    w.finish()
}

/// Refuse `retry --from STEP` when a step it would reset needs a step it would not reset and
/// that did not succeed: that step could never become ready, and the run would stay `running`
/// for ever. The message names the blocking step and the retry that works: from the first step
/// upstream that did not succeed, or of every failed step.
fn refuse_blocked(
    ix: &SpecIndex,
    run_id: &str,
    statuses: &BTreeMap<&str, StepStatus>,
    from: &str,
    to_reset: &[String],
) -> Result<(), Rejection> {
    let unfinished = |s: &str| {
        statuses
            .get(s)
            .copied()
            .filter(|&st| st != StepStatus::Succeeded)
    };
    for step in to_reset {
        let needs = ix.step(step).map(|s| s.needs.as_slice()).unwrap_or(&[]);
        for need in needs {
            if to_reset.contains(need) {
                continue;
            }
            let Some(status) = unfinished(need) else {
                continue;
            };
            // Walk up to the first step that did not succeed while all of its needs did.
            let mut root = need.as_str();
            while let Some(up) = ix
                .step(root)
                .and_then(|s| s.needs.iter().find(|n| unfinished(n).is_some()))
            {
                root = up;
            }
            let short = short_id(run_id);
            let was = match status {
                StepStatus::Failed => "failed".to_string(),
                other => format!("was {other}"),
            };
            return Err(Rejection::Blocked(format!(
                "cannot retry from {from:?}: step {step:?} needs {need:?}, which {was} and would \
                 not run again, so the run could never finish; retry from {root:?} instead \
                 (imx run retry {short} --from {root}), or retry every failed step (imx run retry {short})"
            )));
        }
    }
    Ok(())
}
