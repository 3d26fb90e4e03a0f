//! Fan-out at run time (issue 13): a `foreach:` step expands into its instances once its needs
//! have succeeded, and the instances of a `matrix:` or `foreach:` step keep their rules —
//! `max_parallel` (an instance that held a slot gives it to the next waiting one when it ends,
//! see [`crate::engine::expand`]) and `fail_fast` (once one fails, its pending and ready
//! siblings are skipped; those already leased or running go on).
//!
//! A `foreach:` step runs nowhere: when its needs have succeeded it reads the upstream output,
//! adds one row per item (`each[0]`, `each[1]`, ...; ready, or pending for a slot) and
//! succeeds with the output `instances` (their number); a step needing it also waits for every
//! instance. An output that is missing, not a JSON list, or longer than `max_instances` fails it
//! with a message saying so.

use std::collections::BTreeMap;

use super::Work;
use crate::engine::changeset::{Refusal, RunChange, StepChange, StepInsert};
use crate::engine::state::{Loaded, Need, StepRow};
use crate::model::{InstanceVars, StepStatus, base_step_id, foreach_instance_id, is_instance_id};

impl Work<'_, '_> {
    /// Whether `id` is a `foreach:` step itself (not one of its instances).
    pub(super) fn is_foreach(&self, id: &str) -> bool {
        !is_instance_id(id)
            && self
                .st
                .ix
                .step(id)
                .and_then(|s| s.fan_out.as_ref())
                .is_some_and(|f| f.foreach.is_some())
    }

    /// Record the outputs of a step that succeeded in this transition, for a `foreach:` reading
    /// them.
    pub(crate) fn succeeded_with(&mut self, id: &str, outputs: &BTreeMap<String, String>) {
        self.outputs.insert(id.to_string(), outputs.clone());
    }

    /// The items of `id`'s `foreach:` source, or why there are none to expand.
    fn foreach_items(&self, id: &str) -> Result<Result<Vec<serde_json::Value>, String>, Refusal> {
        let Some(fan) = self.st.ix.step(id).and_then(|s| s.fan_out.as_ref()) else {
            return Ok(Err("foreach: the step has no foreach".into()));
        };
        let Some(src) = &fan.foreach else {
            return Ok(Err("foreach: the step has no foreach".into()));
        };
        let outputs = match self
            .outputs
            .get(&src.step)
            .or_else(|| self.st.outputs.get(&src.step))
        {
            Some(o) => o,
            None => return Err(Refusal::Need(Need::Outputs(vec![src.step.clone()]))),
        };
        let name = format!("steps.{}.outputs.{}", src.step, src.output);
        let Some(text) = outputs.get(&src.output) else {
            return Ok(Err(format!(
                "foreach: {name} is not set (step {:?} wrote no output {:?})",
                src.step, src.output
            )));
        };
        let items = match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Array(items)) => items,
            _ => {
                let shown: String = text.chars().take(60).collect();
                let more = if text.chars().count() > 60 { "..." } else { "" };
                return Ok(Err(format!(
                    "foreach: {name} is not a JSON list: {shown:?}{more}"
                )));
            }
        };
        let cap = fan.max_instances;
        if items.len() > cap as usize {
            return Ok(Err(format!(
                "foreach: {name} has {} items, over the cap of {cap} instances (raise the step's max_instances, up to {})",
                items.len(),
                crate::model::MAX_INSTANCES_LIMIT
            )));
        }
        Ok(Ok(items))
    }

    /// Expand `foreach:` step `id`, whose needs have all succeeded: add its instances and let
    /// it succeed, or fail it saying why it cannot expand.
    pub(super) fn expand_foreach(&mut self, id: &str) -> Result<(), Refusal> {
        let items = match self.foreach_items(id)? {
            Ok(items) => items,
            Err(why) => return self.step_ended(id, StepStatus::Failed, Some(&why)),
        };
        let dependents: Vec<String> = self.st.ix.dependents(id).map(|s| s.id.clone()).collect();
        if let Some(missing) = dependents.iter().find(|d| !self.steps.contains_key(*d)) {
            return Err(if self.st.all_steps {
                Refusal::Need(Need::AllSteps)
            } else {
                Refusal::Need(Need::Steps(vec![missing.clone()]))
            });
        }
        let Some(spec) = self.st.ix.step(id) else {
            return self.step_ended(id, StepStatus::Failed, Some("missing from its workflow"));
        };
        let fan = spec.fan_out.as_ref();
        let slots = fan.and_then(|f| f.max_parallel).unwrap_or(u32::MAX);
        let selector = spec
            .agent
            .as_ref()
            .filter(|a| !a.labels.is_empty())
            .and_then(|a| serde_json::to_string(&a.labels).ok());
        let kind = spec.kind.name().to_string();
        let base_idx = self.step(id)?.idx;
        let now = self.now();
        let n = u32::try_from(items.len()).unwrap_or(u32::MAX);
        for (i, item) in items.into_iter().enumerate() {
            let k = u32::try_from(i).unwrap_or(u32::MAX);
            let waits = k >= slots;
            let step_id = foreach_instance_id(id, i);
            let vars = InstanceVars {
                matrix: None,
                item: Some(item),
            };
            let status = if waits {
                StepStatus::Pending
            } else {
                StepStatus::Ready
            };
            self.cs.inserts.push(StepInsert {
                step_id: step_id.clone(),
                idx: base_idx.saturating_add(1).saturating_add(k),
                kind: kind.clone(),
                status,
                pending_needs: u32::from(waits),
                selector: selector.clone(),
                vars: serde_json::to_string(&vars).unwrap_or_default(),
                not_before: now,
            });
            self.steps.insert(
                step_id.clone(),
                StepRow {
                    step_id,
                    idx: base_idx.saturating_add(1).saturating_add(k),
                    status,
                    attempt: 0,
                    tries: 0,
                    lost: 0,
                    agent_id: None,
                    agent_name: None,
                    pending_needs: u32::from(waits),
                    not_before: now,
                    finished_at: None,
                    error: None,
                },
            );
        }
        if n > 0 {
            let steps_total = self.run.steps_total.saturating_add(n);
            self.update_run(RunChange::Total { steps_total });
            // Steps needing this one wait for every instance too.
            for dep in dependents {
                let row = self.step(&dep)?;
                if row.status != StepStatus::Pending {
                    continue;
                }
                let change = StepChange::Release {
                    pending_needs: row.pending_needs.saturating_add(n),
                    status: StepStatus::Pending,
                    not_before: row.not_before,
                };
                self.update(&dep, change)?;
            }
        }
        let outputs = serde_json::json!({ "instances": n.to_string() }).to_string();
        self.update(
            id,
            StepChange::Succeed {
                at: now,
                exit_code: None,
                outputs: Some(outputs),
            },
        )?;
        self.cs.event(
            "step.succeeded",
            Some(id),
            serde_json::json!({ "instances": n }),
        );
        self.step_succeeded(id)
    }

    /// The instances of `id`'s fan-out (its siblings and itself) in run order: a [`Need`] unless
    /// every step is loaded.
    fn siblings(&self, id: &str) -> Result<Vec<(String, StepStatus, u32)>, Refusal> {
        if !self.st.all_steps {
            return Err(Refusal::Need(Need::AllSteps));
        }
        let base = base_step_id(id);
        let mut rows: Vec<&StepRow> = self
            .steps
            .values()
            .filter(|r| is_instance_id(&r.step_id) && base_step_id(&r.step_id) == base)
            .collect();
        rows.sort_by_key(|r| r.idx);
        Ok(rows
            .into_iter()
            .map(|r| (r.step_id.clone(), r.status, r.pending_needs))
            .collect())
    }

    /// Instance `id` ended with `status`, having been `held` before (ready, leased or running:
    /// it held a `max_parallel` slot): its siblings are skipped if it failed and its step is
    /// `fail_fast`, and its slot goes to the first sibling waiting for one. Other steps are left
    /// alone. Called while the run goes on.
    pub(super) fn instance_ended(
        &mut self,
        id: &str,
        held: StepStatus,
        status: StepStatus,
    ) -> Result<(), Refusal> {
        if !is_instance_id(id) {
            return Ok(());
        }
        let Some(fan) = self.st.ix.step(id).and_then(|s| s.fan_out.clone()) else {
            return Ok(());
        };
        let fail = status == StepStatus::Failed && fan.fail_fast;
        let held = matches!(
            held,
            StepStatus::Ready | StepStatus::Leased | StepStatus::Running
        );
        let release = held && fan.max_parallel.is_some();
        if !fail && !release {
            return Ok(());
        }
        if fail {
            let why = format!("fail_fast: {id:?} failed");
            // Those waiting for a slot first, so that skipping a ready one frees no slot for
            // a sibling that is about to be skipped too.
            for wanted in [StepStatus::Pending, StepStatus::Ready] {
                for (sib, _, _) in self.siblings(id)? {
                    if self.step(&sib)?.status == wanted {
                        self.step_ended(&sib, StepStatus::Skipped, Some(&why))?;
                    }
                }
            }
        }
        if release {
            self.hand_on_slot(id)?;
        }
        Ok(())
    }

    /// Instance `id` gave its `max_parallel` slot back: the first sibling waiting for one
    /// takes it — passing its gate, if it has one; one its gate ends hands it on.
    pub(super) fn hand_on_slot(&mut self, id: &str) -> Result<(), Refusal> {
        let limited = is_instance_id(id)
            && self
                .st
                .ix
                .step(id)
                .and_then(|s| s.fan_out.as_ref())
                .is_some_and(|f| f.max_parallel.is_some());
        if !limited {
            return Ok(());
        }
        loop {
            let next = self
                .siblings(id)?
                .into_iter()
                .find(|(_, st, pending)| *st == StepStatus::Pending && *pending == 1);
            let Some((next, _, _)) = next else {
                return Ok(());
            };
            if super::conditions::slot_given(self, &next)? {
                return Ok(());
            }
        }
    }
}

/// The needs of `step` as the run has them: a `foreach:` step needed stands for itself and
/// every instance it has (`rows`: every step of the run).
pub(super) fn run_needs(st: &Loaded<'_>, rows: &[&StepRow], step: &str) -> Vec<String> {
    let Some(spec) = st.ix.step(step) else {
        return Vec::new();
    };
    let mut needs = spec.needs.clone();
    for need in &spec.needs {
        let foreach = st
            .ix
            .step(need)
            .and_then(|s| s.fan_out.as_ref())
            .is_some_and(|f| f.foreach.is_some());
        if foreach {
            needs.extend(
                rows.iter()
                    .filter(|r| is_instance_id(&r.step_id) && base_step_id(&r.step_id) == need)
                    .map(|r| r.step_id.clone()),
            );
        }
    }
    needs
}

/// `max_parallel` slots handed out while a retry resets instances (in run order): the first
/// ones of each step get a slot, the rest wait for one.
#[derive(Default)]
pub(super) struct Slots {
    given: BTreeMap<String, u32>,
}

impl Slots {
    /// 1 if instance `step` must wait for a slot, else 0 (and it takes one).
    pub(super) fn wait(&mut self, st: &Loaded<'_>, step: &str) -> usize {
        if !is_instance_id(step) {
            return 0;
        }
        let Some(max) = st
            .ix
            .step(step)
            .and_then(|s| s.fan_out.as_ref())
            .and_then(|f| f.max_parallel)
        else {
            return 0;
        };
        let given = self
            .given
            .entry(base_step_id(step).to_string())
            .or_insert(0);
        if *given >= max {
            1
        } else {
            *given += 1;
            0
        }
    }
}

/// `retry --from` a matrix step by its own id: every instance and everything downstream of
/// them, in run order; `None` when `step` is not a matrix step.
pub(super) fn matrix_instances(st: &Loaded<'_>, step: &str) -> Option<Vec<String>> {
    if is_instance_id(step) || st.ix.step(step).is_some() {
        return None;
    }
    let matrix = st
        .ix
        .spec
        .steps
        .iter()
        .any(|s| s.id == step && s.fan_out.as_ref().is_some_and(|f| !f.matrix.is_empty()));
    if !matrix {
        return None;
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for (spec, _) in st.ix.run_steps() {
        if !is_instance_id(&spec.id) || base_step_id(&spec.id) != step {
            continue;
        }
        for s in st.ix.downstream_of(&spec.id) {
            if seen.insert(s.id.clone()) {
                out.push(s.id.clone());
            }
        }
    }
    // In run order (each instance's downstream list is; their union is sorted here).
    let order: BTreeMap<&str, usize> = st
        .ix
        .run_steps()
        .enumerate()
        .map(|(i, (s, _))| (s.id.as_str(), i))
        .collect();
    out.sort_by_key(|id| order.get(id.as_str()).copied().unwrap_or(usize::MAX));
    Some(out)
}
