//! Retry an ended run: its failed, skipped and cancelled steps — or one step and everything
//! downstream of it (`--from`) — start again. Attempt numbers keep growing (they are fencing
//! tokens); retry budgets start afresh; the run gets a new deadline.
//!
//! Fan-out: `--from` a `matrix:` step by its own id resets every instance; `--from` one
//! instance resets it and what follows the step. A `foreach:` step that is reset (retried from,
//! or downstream of the step retried from) loses the instances it had — their rows go, and
//! the run counts them no more — and expands anew from its source's output once that has
//! succeeded: at once if the source is not reset (its stored output), else after it ran again
//! (its new output). So a retry never leaves two sets of instances.

use std::collections::{BTreeMap, BTreeSet};

use super::Work;
use crate::engine::SpecIndex;
use crate::engine::changeset::{Decision, Refusal, Rejection, RunChange, StepChange};
use crate::engine::state::{Loaded, StepRow};
use crate::model::{StepStatus, base_step_id, is_instance_id, short_id};

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
    let all = w.all_steps()?;
    let to_reset: Vec<String> = match from {
        Some(step) => reset_from(st, &all, step)?,
        None => all
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
    // The instances of the `foreach:` steps reset: removed, to be made anew.
    let to_remove: Vec<String> = all
        .iter()
        .filter(|r| {
            is_instance_id(&r.step_id)
                && to_reset
                    .iter()
                    .any(|s| s == base_step_id(&r.step_id) && w.is_foreach(s))
        })
        .map(|r| r.step_id.clone())
        .collect();
    let removed: BTreeSet<&str> = to_remove.iter().map(String::as_str).collect();
    let to_reset: Vec<String> = to_reset
        .into_iter()
        .filter(|s| !removed.contains(s.as_str()))
        .collect();
    let rows: Vec<&StepRow> = all
        .into_iter()
        .filter(|r| !removed.contains(r.step_id.as_str()))
        .collect();
    let statuses: BTreeMap<&str, StepStatus> = rows
        .iter()
        .map(|r| (r.step_id.as_str(), r.status))
        .collect();
    if let Some(step) = from {
        let needs = |s: &str| super::fanout::run_needs(st, &rows, s);
        refuse_blocked(st.ix, id, &statuses, needs, step, &to_reset)?;
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
    for step in &to_remove {
        w.remove(step)?;
    }
    for (step, change) in resets {
        w.update(&step, change)?;
    }
    if !to_remove.is_empty() {
        let n = u32::try_from(to_remove.len()).unwrap_or(u32::MAX);
        let steps_total = w.run().steps_total.saturating_sub(n);
        w.update_run(RunChange::Total { steps_total });
    }
    w.update_run(RunChange::Reopen {
        steps_done: done,
        steps_succeeded: succeeded,
        deadline: st.run.timeout_ms.map(|t| now.saturating_add(t)),
    });
    let mut data = serde_json::json!({ "steps": to_reset, "from": from });
    if !to_remove.is_empty() {
        data["removed"] = serde_json::json!(to_remove);
    }
    w.cs.event("run.retried", None, data);
    super::conditions::after_reset(&mut w, &to_reset)?;
    for step in expand {
        w.expand_foreach(&step)?;
    }
    w.finish()
}

/// The steps `retry --from step` resets, in run order: a `matrix:` step by its own id is every
/// instance and what follows them; an instance of a `foreach:` step is itself and what follows
/// the step; any other step is itself and what follows it (the instances of a `foreach:` step
/// there are removed by the caller).
fn reset_from(st: &Loaded<'_>, rows: &[&StepRow], step: &str) -> Result<Vec<String>, Refusal> {
    if let Some(list) = super::fanout::matrix_instances(st, step) {
        return Ok(list);
    }
    if !rows.iter().any(|r| r.step_id == step) {
        let mut ids: Vec<&str> = st.ix.spec.steps.iter().map(|s| s.id.as_str()).collect();
        ids.extend(rows.iter().map(|r| r.step_id.as_str()));
        return Err(Rejection::NoSuchStep {
            run_id: st.run.id.clone(),
            step_id: step.to_string(),
            suggestion: crate::suggest::nearest(step, &ids).map(str::to_string),
        }
        .into());
    }
    let foreach_instance = is_instance_id(step)
        && st
            .ix
            .step(step)
            .and_then(|s| s.fan_out.as_ref())
            .is_some_and(|f| f.foreach.is_some());
    if foreach_instance {
        let base = base_step_id(step);
        let mut out = vec![step.to_string()];
        out.extend(
            st.ix
                .downstream_of(base)
                .into_iter()
                .filter(|s| s.id != base)
                .map(|s| s.id.clone()),
        );
        return Ok(out);
    }
    Ok(st
        .ix
        .downstream_of(step)
        .into_iter()
        .map(|s| s.id.clone())
        .collect())
}

/// Refuse `retry --from STEP` when a step it would reset needs a step it would not reset and
/// that did not succeed: that step could never become ready, and the run would stay `running`
/// for ever. The message names the blocking step and the retry that works: from the first step
/// upstream that did not succeed, or of every failed step.
/// `needs` gives a step's needs as the run has them (a `foreach:` step's instances too).
fn refuse_blocked(
    ix: &SpecIndex,
    run_id: &str,
    statuses: &BTreeMap<&str, StepStatus>,
    needs: impl Fn(&str) -> Vec<String>,
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
        for need in &needs(step) {
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
