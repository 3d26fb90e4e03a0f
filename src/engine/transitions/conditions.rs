//! A step's `if:` and `when:` (issue 13): the gate a step passes once its needs allow it, as
//! hooks into the shared transitions (release, skip cascade, `fail_fast`, a new run, retry).
//!
//! - `when: success` (the default): the step waits for every need to succeed; a need that
//!   fails, is skipped (for any reason, a false condition included) or cancelled skips it, as
//!   before (the cascade).
//! - `when: always`: the step waits for every need to end, whatever the outcome (cleanup).
//! - `when: failure`: the same, and then it runs only if a step upstream of it (its needs,
//!   theirs, and so on) failed; otherwise it is skipped, saying so (notify on failure).
//!
//! For those two, `pending_needs` counts the needs that have not ended (for `success`, the
//! needs that have not succeeded: the same number until one ends otherwise).
//!
//! Then `if:` (if any) is evaluated over the run's params, the outputs and states of the
//! steps upstream and the run: true makes the step ready, false skips it with the reason
//! "condition false", an expression that cannot be evaluated fails the step saying why.
//! A root step (no needs) passes its gate when the run is created, and a step a retry resets
//! when it is reset.
//!
//! Fan-out: each instance of a `matrix:` step passes the gate on its own, seeing its
//! `matrix.*` values; an instance waiting for a `max_parallel` slot passes it when it gets the
//! slot (one it skips hands the slot on). A `foreach:` step passes its gate once, before it
//! expands: open, it expands; skipped, it has no instances. A condition reading a fanned-out
//! step (`steps.test.status`) sees the status of all its instances together (a `foreach:`
//! step's own row included): `failed` if one failed, else `cancelled` if one was cancelled,
//! else `skipped` if one was skipped, else `succeeded` once all succeeded. A `when: failure`
//! step counts a failed instance upstream of it as a failure.
//!
//! `fail_fast` stops every other step except `always` and `failure` ones, which still run once
//! their needs have ended. A run cancelled or timed out runs nothing more: its open steps,
//! `always` ones included, are cancelled with it (an operator who cancels wants it to stop now;
//! a cleanup that must run after a cancel belongs in a workflow started by `on:`).
//! The run's outcome is that of its steps: it fails if a step failed (whatever ran after), and
//! succeeds when every step succeeded or was skipped without a failure.

use std::collections::{BTreeMap, BTreeSet};

use super::Work;
use crate::engine::SpecIndex;
use crate::engine::changeset::{Decision, Refusal, StepChange};
use crate::engine::state::{Loaded, Need};
use crate::model::{StepStatus, When, base_step_id, is_instance_id};
use crate::spec::{ConditionContext, RunInfo, StepState, WorkflowInfo};

/// The reason a step whose `if:` was false is skipped with.
pub const CONDITION_FALSE: &str = "condition false";
/// The reason a `when: failure` step is skipped with when nothing upstream failed.
pub const NOTHING_FAILED: &str = "when: failure, and no step upstream failed";

/// What the gate decides for a step.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Gate {
    Open,
    Skip(String),
    Fail(String),
}

/// Whether `step` has a gate: an `if:`, or a `when:` other than `success`.
pub fn gated(ix: &SpecIndex, step: &str) -> bool {
    ix.step(step)
        .is_some_and(|s| s.condition.is_some() || s.when != When::Success)
}

fn when(ix: &SpecIndex, step: &str) -> When {
    ix.step(step).map(|s| s.when).unwrap_or_default()
}

/// Whether a `fail_fast` stop leaves `step` alone (it still runs once its needs end).
pub(super) fn survives_stop(ix: &SpecIndex, step: &str, status: StepStatus) -> bool {
    matches!(status, StepStatus::Pending | StepStatus::Ready) && when(ix, step) != When::Success
}

/// A need of pending `dep` succeeded. `Ok(false)`: `dep` has no gate, the caller releases it.
pub(super) fn need_succeeded(w: &mut Work<'_, '_>, dep: &str) -> Result<bool, Refusal> {
    if !gated(w.st.ix, dep) {
        return Ok(false);
    }
    one_need_ended(w, dep)?;
    Ok(true)
}

/// A need of pending `dep` ended without succeeding. `Ok(false)`: `dep` runs only after
/// success, the caller skips it.
pub(super) fn need_ended(w: &mut Work<'_, '_>, dep: &str) -> Result<bool, Refusal> {
    if when(w.st.ix, dep) == When::Success {
        return Ok(false);
    }
    one_need_ended(w, dep)?;
    Ok(true)
}

/// Count one need of pending `dep` as done; the last one opens its gate.
fn one_need_ended(w: &mut Work<'_, '_>, dep: &str) -> Result<(), Refusal> {
    let pending = w.step(dep)?.pending_needs;
    if pending > 1 {
        let now = w.now();
        return w.update(
            dep,
            StepChange::Release {
                pending_needs: pending - 1,
                status: StepStatus::Pending,
                not_before: now,
            },
        );
    }
    pass(w, dep)
}

/// Decide `step`'s gate (its needs allow it) and act on it: ready (unless it already is),
/// expanded (a `foreach:` step), skipped or failed. An instance its gate ends hands the
/// `max_parallel` slot it had on.
fn pass(w: &mut Work<'_, '_>, step: &str) -> Result<(), Refusal> {
    if gate_once(w, step)? {
        // Handed on once the transition is done: siblings whose needs end in it too count
        // theirs first, so that the slot goes to one waiting for a slot, not for a need.
        w.freed_slots.push(step.to_string());
    }
    Ok(())
}

/// [`pass`] without handing a slot on: whether the gate ended the step.
fn gate_once(w: &mut Work<'_, '_>, step: &str) -> Result<bool, Refusal> {
    match decide(w, step)? {
        Gate::Open if w.is_foreach(step) => {
            if w.step(step)?.status == StepStatus::Pending {
                w.expand_foreach(step)?;
            }
            Ok(false)
        }
        Gate::Open => {
            if w.step(step)?.status == StepStatus::Pending {
                ready(w, step)?;
            }
            Ok(false)
        }
        Gate::Skip(why) => w
            .step_ended(step, StepStatus::Skipped, Some(&why))
            .map(|()| true),
        Gate::Fail(why) => w
            .step_ended(step, StepStatus::Failed, Some(&why))
            .map(|()| true),
    }
}

/// Pending `step` becomes ready now (or, in a run waiting for its concurrency slot, waits for
/// nothing but the run's admission).
fn ready(w: &mut Work<'_, '_>, step: &str) -> Result<(), Refusal> {
    let now = w.now();
    let status = if w.held {
        StepStatus::Pending
    } else {
        StepStatus::Ready
    };
    w.update(
        step,
        StepChange::Release {
            pending_needs: 0,
            status,
            not_before: now,
        },
    )?;
    if status == StepStatus::Ready {
        w.cs.event("step.ready", Some(step), serde_json::Value::Null);
    }
    Ok(())
}

/// The steps upstream of `step`: its needs, theirs, and so on.
fn upstream(ix: &SpecIndex, step: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<&str> = ix
        .step(step)
        .map(|s| s.needs.iter().map(String::as_str).collect())
        .unwrap_or_default();
    while let Some(id) = stack.pop() {
        if seen.insert(id.to_string())
            && let Some(s) = ix.step(id)
        {
            stack.extend(s.needs.iter().map(String::as_str));
        }
    }
    seen
}

/// The run rows upstream of `step`: [`upstream`], with the instances a `foreach:` step there
/// has (every row loaded, then).
fn upstream_rows(w: &Work<'_, '_>, step: &str) -> Result<BTreeSet<String>, Refusal> {
    let ix = w.st.ix;
    let mut ups = upstream(ix, step);
    let missing: Vec<String> = ups
        .iter()
        .filter(|id| !w.steps.contains_key(*id))
        .cloned()
        .collect();
    if !missing.is_empty() {
        return Err(Refusal::Need(if w.st.all_steps {
            Need::AllSteps
        } else {
            Need::Steps(missing)
        }));
    }
    let foreach: Vec<String> = ups.iter().filter(|id| w.is_foreach(id)).cloned().collect();
    if !foreach.is_empty() {
        if !w.st.all_steps {
            return Err(Refusal::Need(Need::AllSteps));
        }
        ups.extend(
            w.steps
                .keys()
                .filter(|id| is_instance_id(id) && foreach.iter().any(|f| f == base_step_id(id)))
                .cloned(),
        );
    }
    Ok(ups)
}

/// The status of a fanned-out step's instances (and a `foreach:` step's own row) together:
/// the first of failed, cancelled, skipped, an open status — else succeeded.
fn together(statuses: &[StepStatus]) -> StepStatus {
    use StepStatus::*;
    [
        Failed, Cancelled, Skipped, Running, Leased, Waiting, Ready, Pending,
    ]
    .into_iter()
    .find(|s| statuses.contains(s))
    .unwrap_or(Succeeded)
}

/// The gate of `step`, whose needs allow it: `when:` first, then `if:`.
fn decide(w: &Work<'_, '_>, step: &str) -> Result<Gate, Refusal> {
    let ix = w.st.ix;
    let Some(spec) = ix.step(step) else {
        return Ok(Gate::Open);
    };
    let ups = upstream_rows(w, step)?;
    if spec.when == When::Failure
        && !ups.iter().any(|id| {
            w.steps
                .get(id)
                .is_some_and(|r| r.status == StepStatus::Failed)
        })
    {
        return Ok(Gate::Skip(NOTHING_FAILED.into()));
    }
    let Some(condition) = &spec.condition else {
        return Ok(Gate::Open);
    };
    let Some(facts) = &w.st.facts else {
        return Err(Refusal::Need(Need::Facts(fact_steps(ix))));
    };
    let mut steps: BTreeMap<String, StepState> = ups
        .iter()
        .filter_map(|id| {
            let row = w.steps.get(id)?;
            let outputs = if row.status == StepStatus::Succeeded {
                just_succeeded(w, id)
                    .or_else(|| facts.outputs.get(id).cloned())
                    .unwrap_or_default()
            } else {
                BTreeMap::new()
            };
            Some((
                id.clone(),
                StepState {
                    status: row.status.to_string(),
                    outputs,
                },
            ))
        })
        .collect();
    // A fanned-out step, by its own id: all its rows together.
    let mut fanned: BTreeMap<&str, Vec<StepStatus>> = BTreeMap::new();
    for id in &ups {
        if (is_instance_id(id) || w.is_foreach(id))
            && let Some(row) = w.steps.get(id)
        {
            fanned.entry(base_step_id(id)).or_default().push(row.status);
        }
    }
    for (base, statuses) in fanned {
        let outputs = steps
            .get(base)
            .map(|s| s.outputs.clone())
            .unwrap_or_default();
        steps.insert(
            base.to_string(),
            StepState {
                status: together(&statuses).to_string(),
                outputs,
            },
        );
    }
    let matrix = ix.instance_vars(step).and_then(|v| v.matrix.clone());
    let ctx = ConditionContext {
        matrix,
        params: facts.params.clone(),
        steps,
        run: RunInfo {
            id: w.run.id.clone(),
        },
        workflow: WorkflowInfo {
            name: ix.spec.name.clone(),
            version: w.run.version,
        },
    };
    Ok(match crate::spec::eval_condition(condition, &ctx) {
        Ok(true) => Gate::Open,
        Ok(false) => Gate::Skip(CONDITION_FALSE.into()),
        Err(e) => Gate::Fail(format!("cannot evaluate `if: {condition}`: {e}")),
    })
}

/// The outputs of `id` if it succeeded in this very transition (not stored yet).
fn just_succeeded(w: &Work<'_, '_>, id: &str) -> Option<BTreeMap<String, String>> {
    w.cs.steps.iter().rev().find_map(|u| match &u.change {
        StepChange::Succeed { outputs, .. } if u.step_id == id => Some(
            outputs
                .as_deref()
                .and_then(|o| serde_json::from_str(o).ok())
                .unwrap_or_default(),
        ),
        _ => None,
    })
}

/// The steps whose outputs any condition of the workflow reads (every step if one reads
/// `steps` as a whole), so that one load serves every gate of a transition.
fn fact_steps(ix: &SpecIndex) -> Vec<String> {
    let mut ids = BTreeSet::new();
    for s in &ix.spec.steps {
        let Some(c) = &s.condition else {
            continue;
        };
        match crate::spec::condition_steps(c) {
            Some(found) => ids.extend(found),
            None => return ix.spec.steps.iter().map(|s| s.id.clone()).collect(),
        }
    }
    ids.into_iter().collect()
}

/// Whether a new run of this workflow has a root step (no needs) with a gate — a matrix
/// instance counts: it is created `pending` and passes its gate in [`open`].
pub fn gates_roots(ix: &SpecIndex) -> bool {
    ix.run_steps()
        .any(|(s, _)| s.needs.is_empty() && gated(ix, &s.id))
}

/// Whether a new run's step starts `ready`: it has no needs and no gate.
pub fn starts_ready(ix: &SpecIndex, step: &str) -> bool {
    ix.step(step).is_some_and(|s| s.needs.is_empty()) && !gated(ix, step)
}

/// A new run's root steps with a gate pass it (every step loaded): skipped or failed at once,
/// or ready — if the run is `admitted` (a run waiting for its concurrency slot keeps them
/// pending; its admission makes them ready).
pub fn open(st: &Loaded<'_>, admitted: bool) -> Decision {
    let mut w = Work::new(st);
    w.held = !admitted;
    let roots: Vec<String> = st
        .ix
        .run_steps()
        .filter(|(s, _)| s.needs.is_empty() && gated(st.ix, &s.id))
        .map(|(s, _)| s.id.clone())
        .collect();
    for id in roots {
        // An instance waiting for a `max_parallel` slot passes its gate when it gets one.
        let row = w.step(&id)?;
        if row.status != StepStatus::Pending || row.pending_needs > 0 {
            continue;
        }
        match decide(&w, &id)? {
            Gate::Open if !admitted => {}
            _ => pass(&mut w, &id)?,
        }
    }
    w.finish()
}

/// After a retry reset `steps`: those that are ready again (or, for a `foreach:` step, due to
/// expand) and have a gate pass it anew.
pub(super) fn after_reset(w: &mut Work<'_, '_>, steps: &[String]) -> Result<(), Refusal> {
    for id in steps {
        let row = w.step(id)?;
        let due = row.status == StepStatus::Ready
            || (row.status == StepStatus::Pending && row.pending_needs == 0 && w.is_foreach(id));
        if due && gated(w.st.ix, id) {
            pass(w, id)?;
        }
    }
    Ok(())
}

/// Instance `id` got a `max_parallel` slot: it passes its gate (if it has one) now. Whether it
/// took the slot (it is ready); one its gate ended leaves the slot free.
pub(super) fn slot_given(w: &mut Work<'_, '_>, id: &str) -> Result<bool, Refusal> {
    if gated(w.st.ix, id) {
        return Ok(!gate_once(w, id)?);
    }
    ready(w, id)?;
    Ok(true)
}
