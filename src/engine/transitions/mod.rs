//! The transitions of DESIGN §3 as pure functions: a [`Loaded`] run in, a [`Decision`] out (a
//! [`Changeset`], a [`Rejection`], or the step rows still [`Need`]ed). One file per group:
//! [`claim`] (claim, start, heartbeat), [`complete`] (completion, failure and retry),
//! [`lost`] (lease lost), [`end`] (cancel, run timeout), [`retry`] (retry and retry-from),
//! [`conditions`] (a step's `if:` and `when:`, hooked into the release and the cascade),
//! [`approval`] (approval steps wait, are approved, rejected or time out). What
//! they share lives here: a working copy of the run that records each change it makes, the
//! skip cascade, `fail_fast`, and the run's end once no step can move.

pub mod approval;
pub mod claim;
pub mod complete;
pub mod conditions;
pub mod end;
mod fanout;
pub mod lost;
pub mod retry;

use std::collections::BTreeMap;

use super::changeset::{
    Changeset, Decision, Refusal, RunChange, RunGuard, RunUpdate, StepChange, StepGuard,
    StepRemove, StepUpdate,
};
use super::state::{Loaded, Need, RunRow, StepRow};
use crate::model::{LeaseRef, RunStatus, StepStatus};

/// Whether `lease` still holds `row`: the same attempt, the same agent, leased or running.
pub fn holds(row: &StepRow, lease: &LeaseRef) -> bool {
    matches!(row.status, StepStatus::Leased | StepStatus::Running)
        && row.attempt == lease.attempt
        && row.agent_id.as_deref() == Some(lease.agent_id.as_str())
}

fn is_open(status: StepStatus) -> bool {
    !status.is_terminal()
}

impl StepRow {
    /// The row once `change` is applied (as the store applies it).
    pub fn apply(&mut self, change: &StepChange) {
        match change {
            StepChange::Lease {
                attempt,
                agent_id,
                agent_name,
                ..
            } => {
                self.status = StepStatus::Leased;
                self.attempt = *attempt;
                self.agent_id = Some(agent_id.clone());
                self.agent_name = Some(agent_name.clone());
                self.finished_at = None;
            }
            StepChange::Start => self.status = StepStatus::Running,
            StepChange::Wait { .. } => self.status = StepStatus::Waiting,
            StepChange::Renew { .. } => {}
            StepChange::Succeed { at, .. } => {
                self.status = StepStatus::Succeeded;
                self.finished_at = Some(*at);
                self.error = None;
            }
            StepChange::RecordFailure { tries, error, .. } => {
                self.tries = *tries;
                self.error = Some(error.clone());
            }
            StepChange::Requeue {
                not_before,
                lost,
                finished_at,
            } => {
                self.status = StepStatus::Ready;
                self.not_before = *not_before;
                self.lost = *lost;
                self.agent_id = None;
                if finished_at.is_some() {
                    self.finished_at = *finished_at;
                }
            }
            StepChange::SetLost { lost } => self.lost = *lost,
            StepChange::End { status, at, error } => {
                self.status = *status;
                self.finished_at = Some(*at);
                if error.is_some() {
                    self.error = error.clone();
                }
            }
            StepChange::Release {
                pending_needs,
                status,
                not_before,
            } => {
                self.pending_needs = *pending_needs;
                self.status = *status;
                self.not_before = *not_before;
            }
            StepChange::Reset {
                status,
                pending_needs,
                not_before,
            } => {
                self.status = *status;
                self.pending_needs = *pending_needs;
                self.not_before = *not_before;
                self.tries = 0;
                self.lost = 0;
                self.agent_id = None;
                self.agent_name = None;
                self.finished_at = None;
                self.error = None;
            }
        }
    }
}

impl RunRow {
    /// The row once `change` is applied (as the store applies it).
    pub fn apply(&mut self, change: &RunChange) {
        match change {
            RunChange::Start { .. } => self.status = RunStatus::Running,
            RunChange::Count {
                steps_done,
                steps_succeeded,
            } => {
                self.steps_done = *steps_done;
                self.steps_succeeded = *steps_succeeded;
            }
            RunChange::End { status, .. } => self.status = *status,
            RunChange::Total { steps_total } => self.steps_total = *steps_total,
            RunChange::Reopen {
                steps_done,
                steps_succeeded,
                ..
            } => {
                self.status = RunStatus::Running;
                self.steps_done = *steps_done;
                self.steps_succeeded = *steps_succeeded;
            }
        }
    }

    fn guard(&self) -> RunGuard {
        RunGuard {
            status: self.status,
            steps_done: self.steps_done,
            steps_succeeded: self.steps_succeeded,
        }
    }
}

/// The run as a transition changes it: the loaded rows with the changes made so far, and the
/// changeset that records them.
pub(crate) struct Work<'l, 'a> {
    st: &'l Loaded<'a>,
    /// The run with every change so far, counters included.
    run: RunRow,
    /// The run row as the recorded run updates leave it (counters are recorded at the end).
    written: RunRow,
    steps: BTreeMap<String, StepRow>,
    /// Outputs of steps that succeeded in this transition (a `foreach:` may read them).
    outputs: BTreeMap<String, BTreeMap<String, String>>,
    /// Instances their gate ended while they held a `max_parallel` slot: [`finish`] hands the
    /// slots on (see [`conditions`]).
    ///
    /// [`finish`]: Self::finish
    freed_slots: Vec<String>,
    /// The run waits for its concurrency slot: a step released now stays pending with no
    /// pending need (its admission makes it ready).
    held: bool,
    pub cs: Changeset,
}

impl<'l, 'a> Work<'l, 'a> {
    pub fn new(st: &'l Loaded<'a>) -> Self {
        Work {
            st,
            run: st.run.clone(),
            written: st.run.clone(),
            steps: st.steps.clone(),
            outputs: BTreeMap::new(),
            freed_slots: Vec::new(),
            held: false,
            cs: Changeset::new(&st.run.id),
        }
    }

    pub fn now(&self) -> i64 {
        self.st.now
    }

    pub fn run(&self) -> &RunRow {
        &self.run
    }

    /// A step's row as changed so far; a [`Need`] if it was not loaded.
    pub fn step(&self, id: &str) -> Result<&StepRow, Refusal> {
        match self.steps.get(id) {
            Some(row) => Ok(row),
            None if self.st.all_steps => Err(Refusal::Need(Need::AllSteps)),
            None => Err(Refusal::Need(Need::Steps(vec![id.to_string()]))),
        }
    }

    /// Every step's row (a [`Need`] unless all were loaded), in workflow order.
    fn all_steps(&self) -> Result<Vec<&StepRow>, Refusal> {
        if !self.st.all_steps {
            return Err(Refusal::Need(Need::AllSteps));
        }
        let mut rows: Vec<&StepRow> = self.steps.values().collect();
        rows.sort_by_key(|r| r.idx);
        Ok(rows)
    }

    /// Ask for `id` and every step downstream of it that is not loaded yet.
    fn need_downstream(&self, id: &str) -> Refusal {
        if self.st.all_steps {
            return Refusal::Need(Need::AllSteps);
        }
        let ids = self
            .st
            .ix
            .downstream_of(id)
            .into_iter()
            .map(|s| s.id.clone())
            .filter(|s| !self.steps.contains_key(s))
            .collect();
        Refusal::Need(Need::Steps(ids))
    }

    /// Record `change` to step `id`, guarded by its current status and attempt.
    pub fn update(&mut self, id: &str, change: StepChange) -> Result<(), Refusal> {
        self.step(id)?;
        let Some(row) = self.steps.get_mut(id) else {
            return Err(Refusal::Need(Need::AllSteps));
        };
        let expect = StepGuard {
            status: row.status,
            attempt: row.attempt,
        };
        row.apply(&change);
        self.cs.steps.push(StepUpdate {
            step_id: id.to_string(),
            expect,
            change,
        });
        Ok(())
    }

    /// Remove step row `id` from the run (an instance of a `foreach:` step a retry expands
    /// anew), guarded by its current status and attempt. The caller recounts the run.
    pub fn remove(&mut self, id: &str) -> Result<(), Refusal> {
        let row = self.step(id)?;
        let expect = StepGuard {
            status: row.status,
            attempt: row.attempt,
        };
        self.cs.removes.push(StepRemove {
            step_id: id.to_string(),
            expect,
        });
        self.steps.remove(id);
        Ok(())
    }

    /// Record `change` to the run, guarded by the row as the updates so far leave it.
    pub fn update_run(&mut self, change: RunChange) {
        self.flush_counts();
        let expect = self.written.guard();
        self.written.apply(&change);
        self.run.apply(&change);
        self.cs.runs.push(RunUpdate { expect, change });
    }

    /// Record the step counters if they changed.
    fn flush_counts(&mut self) {
        if (self.run.steps_done, self.run.steps_succeeded)
            == (self.written.steps_done, self.written.steps_succeeded)
        {
            return;
        }
        let change = RunChange::Count {
            steps_done: self.run.steps_done,
            steps_succeeded: self.run.steps_succeeded,
        };
        let expect = self.written.guard();
        self.written.apply(&change);
        self.cs.runs.push(RunUpdate { expect, change });
    }

    /// Set an open step terminal (succeeded goes through [`step_succeeded`](Self::step_succeeded))
    /// and cascade: pending dependents of a step that failed, was skipped or cancelled are
    /// skipped (unless the whole run is ending, which cancels them itself); a failure in a
    /// `fail_fast` workflow stops every other step. A step already ended is left as it is.
    pub fn step_ended(
        &mut self,
        id: &str,
        status: StepStatus,
        error: Option<&str>,
    ) -> Result<(), Refusal> {
        debug_assert!(status.is_terminal() && status != StepStatus::Succeeded);
        if !is_open(self.step(id)?.status) {
            return Ok(());
        }
        let dependents: Vec<String> = self.st.ix.dependents(id).map(|s| s.id.clone()).collect();
        // When the whole run is ending (cancelled, timed out), its open steps are cancelled with
        // it, not skipped.
        let cascades = !self.run.status.is_terminal();
        if cascades && dependents.iter().any(|d| !self.steps.contains_key(d)) {
            return Err(self.need_downstream(id));
        }
        let now = self.now();
        let held = self.step(id)?.status;
        self.update(
            id,
            StepChange::End {
                status,
                at: now,
                error: error.map(str::to_string),
            },
        )?;
        self.run.steps_done = self.run.steps_done.saturating_add(1);
        self.cs.event(
            &format!("step.{status}"),
            Some(id),
            serde_json::json!({ "error": error }),
        );
        if cascades {
            for dep in dependents {
                if self.step(&dep)?.status == StepStatus::Pending
                    && !conditions::need_ended(self, &dep)?
                {
                    let why = format!("needs {id:?}, which {status}");
                    self.step_ended(&dep, StepStatus::Skipped, Some(&why))?;
                }
            }
            self.instance_ended(id, held, status)?;
        }
        if status == StepStatus::Failed && self.st.ix.spec.fail_fast {
            self.stop_remaining("fail_fast: another step failed")?;
        }
        Ok(())
    }

    /// Count a step that succeeded (its row is already updated) and release the pending
    /// dependents whose needs have all succeeded now.
    pub fn step_succeeded(&mut self, id: &str) -> Result<(), Refusal> {
        let dependents: Vec<String> = self.st.ix.dependents(id).map(|s| s.id.clone()).collect();
        let missing: Vec<String> = dependents
            .iter()
            .filter(|d| !self.steps.contains_key(*d))
            .cloned()
            .collect();
        if !missing.is_empty() {
            return Err(if self.st.all_steps {
                Refusal::Need(Need::AllSteps)
            } else {
                Refusal::Need(Need::Steps(missing))
            });
        }
        self.run.steps_done = self.run.steps_done.saturating_add(1);
        self.run.steps_succeeded = self.run.steps_succeeded.saturating_add(1);
        let now = self.now();
        for dep in dependents {
            if self.step(&dep)?.status == StepStatus::Pending
                && conditions::need_succeeded(self, &dep)?
            {
                continue;
            }
            let row = self.step(&dep)?;
            if row.status != StepStatus::Pending {
                continue;
            }
            let pending_needs = row.pending_needs.saturating_sub(1);
            if pending_needs == 0 && self.is_foreach(&dep) {
                self.expand_foreach(&dep)?;
                continue;
            }
            let status = if row.pending_needs == 1 {
                StepStatus::Ready
            } else {
                StepStatus::Pending
            };
            self.update(
                &dep,
                StepChange::Release {
                    pending_needs,
                    status,
                    not_before: now,
                },
            )?;
            if status == StepStatus::Ready {
                self.cs
                    .event("step.ready", Some(&dep), serde_json::Value::Null);
            }
        }
        if !self.run.status.is_terminal() {
            self.instance_ended(id, StepStatus::Running, StepStatus::Succeeded)?;
        }
        Ok(())
    }

    /// Stop every step that has not ended: pending and ready ones are skipped, held ones
    /// cancelled.
    pub fn stop_remaining(&mut self, why: &str) -> Result<(), Refusal> {
        let open: Vec<(String, StepStatus)> = self
            .all_steps()?
            .into_iter()
            .filter(|r| {
                is_open(r.status) && !conditions::survives_stop(self.st.ix, &r.step_id, r.status)
            })
            .map(|r| (r.step_id.clone(), r.status))
            .collect();
        for (id, status) in open {
            let to = if matches!(status, StepStatus::Leased | StepStatus::Running) {
                StepStatus::Cancelled
            } else {
                StepStatus::Skipped
            };
            self.step_ended(&id, to, Some(why))?;
        }
        Ok(())
    }

    /// End the run (if it has not ended) with `status`; its open steps are then cancelled by
    /// the caller.
    pub fn end_run(&mut self, status: RunStatus, error: Option<&str>) {
        if self.run.status.is_terminal() {
            return;
        }
        let at = self.now();
        self.update_run(RunChange::End {
            status,
            at,
            error: error.map(str::to_string),
        });
        self.cs.event(
            &format!("run.{status}"),
            None,
            serde_json::json!({ "error": error }),
        );
        self.cs.release.clone_from(&self.run.concurrency_key);
    }

    /// The changeset, once the run has ended if no step can move: `succeeded` if every step
    /// succeeded or was skipped with nothing failed or cancelled (a false `if:`), else
    /// `failed`, naming the first step that failed.
    pub fn finish(mut self) -> Decision {
        while !self.freed_slots.is_empty() {
            let id = self.freed_slots.remove(0);
            if !self.run.status.is_terminal() {
                self.hand_on_slot(&id)?;
            }
        }
        approval::hold_released(&mut self)?;
        let run = &self.run;
        if run.steps_done >= run.steps_total && !run.status.is_terminal() {
            if run.steps_succeeded == run.steps_total {
                self.end_run(RunStatus::Succeeded, None);
            } else {
                let first = self
                    .all_steps()?
                    .into_iter()
                    .filter(|r| r.status == StepStatus::Failed)
                    .min_by_key(|r| (r.finished_at, r.idx))
                    .map(|r| (r.step_id.clone(), r.error.clone()));
                let stopped = self
                    .all_steps()?
                    .into_iter()
                    .any(|r| matches!(r.status, StepStatus::Failed | StepStatus::Cancelled));
                if !stopped {
                    self.end_run(RunStatus::Succeeded, None);
                    self.flush_counts();
                    return Ok(self.cs);
                }
                let msg = match first {
                    Some((step, Some(err))) => format!("step {step:?} failed: {err}"),
                    Some((step, None)) => format!("step {step:?} failed"),
                    None => "some steps did not succeed".to_string(),
                };
                self.end_run(RunStatus::Failed, Some(&msg));
            }
        }
        self.flush_counts();
        Ok(self.cs)
    }
}
