//! Fan-out, the static part (issue 13): a `matrix:` step becomes its instances in the workflow
//! index (a step needing it needs every instance), and a new run's step rows are laid out —
//! each row's place, its needs still pending, and its `matrix.*` variables.
//!
//! `max_parallel: N` is kept as a need: instances past the first N wait for a *slot*, one
//! pending need more than their real ones, which an instance that held a slot (ready, leased or
//! running) gives back when it ends ([`super::transitions`]' fan-out rules). So at most N are
//! ever ready, leased or running, claims need no extra check, and a run held back by its
//! concurrency key (steps with no pending need become ready on admission) keeps them waiting.
//!
//! A `foreach:` step is one row until it expands; it reserves `max_instances` places after its
//! own for the instances it gets, so they list right after it.

use std::collections::HashMap;

use super::SpecIndex;
use crate::model::{InstanceVars, StepSpec};

/// Each step of `steps` with its matrix expanded into instances, and each resulting step's
/// `matrix.*` variables (`None` for a step that is not an instance).
pub(crate) fn expand_matrices(steps: &[StepSpec]) -> (Vec<StepSpec>, Vec<Option<InstanceVars>>) {
    if steps
        .iter()
        .all(|s| s.fan_out.as_ref().is_none_or(|f| f.matrix.is_empty()))
    {
        return (steps.to_vec(), vec![None; steps.len()]);
    }
    let instances: HashMap<&str, Vec<(String, InstanceVars)>> = steps
        .iter()
        .filter_map(|s| {
            let f = s.fan_out.as_ref().filter(|f| !f.matrix.is_empty())?;
            Some((s.id.as_str(), f.matrix_instances(&s.id)))
        })
        .collect();
    let needs = |s: &StepSpec| -> Vec<String> {
        s.needs
            .iter()
            .flat_map(|n| match instances.get(n.as_str()) {
                Some(list) => list.iter().map(|(id, _)| id.clone()).collect(),
                None => vec![n.clone()],
            })
            .collect()
    };
    let mut out = Vec::new();
    let mut vars = Vec::new();
    for s in steps {
        let expanded_needs = needs(s);
        match instances.get(s.id.as_str()) {
            Some(list) => {
                for (id, v) in list {
                    let mut inst = s.clone();
                    inst.id.clone_from(id);
                    inst.needs.clone_from(&expanded_needs);
                    out.push(inst);
                    vars.push(Some(v.clone()));
                }
            }
            None => {
                let mut step = s.clone();
                step.needs = expanded_needs;
                out.push(step);
                vars.push(None);
            }
        }
    }
    (out, vars)
}

/// A new run's step row, as [`initial_rows`] lays it out.
#[derive(Debug, Clone, PartialEq)]
pub struct InitialRow<'a> {
    pub step: &'a StepSpec,
    /// Its place in the run (a `foreach:` step keeps room for its instances after it).
    pub idx: u32,
    /// Needs not yet succeeded, plus one for an instance waiting for a `max_parallel` slot.
    pub pending_needs: u32,
    /// Its `matrix.*` variables as JSON, if it is a matrix instance.
    pub vars: Option<String>,
}

/// The rows a new run of `ix` starts with, in order.
pub fn initial_rows(ix: &SpecIndex) -> Vec<InitialRow<'_>> {
    let mut rows = Vec::new();
    let mut idx: u32 = 0;
    // Instances seen so far per fanned-out step, for `max_parallel`.
    let mut seen: HashMap<&str, u32> = HashMap::new();
    for (step, vars) in ix.run_steps() {
        let needs = u32::try_from(step.needs.len()).unwrap_or(u32::MAX);
        let mut slot = 0;
        if let (Some(fan), Some(_)) = (&step.fan_out, vars) {
            let k = seen
                .entry(crate::model::base_step_id(&step.id))
                .or_insert(0);
            if fan.max_parallel.is_some_and(|m| *k >= m) {
                slot = 1;
            }
            *k += 1;
        }
        rows.push(InitialRow {
            step,
            idx,
            pending_needs: needs.saturating_add(slot),
            vars: vars.and_then(|v| serde_json::to_string(v).ok()),
        });
        let room = match &step.fan_out {
            Some(f) if f.foreach.is_some() => f.max_instances,
            _ => 0,
        };
        idx = idx.saturating_add(1).saturating_add(room);
    }
    rows
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::model::{FanOut, MatrixAxis, StepKind, WorkflowSpec};

    fn matrix(max_parallel: Option<u32>) -> FanOut {
        let mut f = FanOut::matrix(vec![
            MatrixAxis {
                name: "region".into(),
                values: vec!["eu".into(), "us".into()],
            },
            MatrixAxis {
                name: "shard".into(),
                values: vec![1.into(), 2.into(), 3.into()],
            },
        ]);
        f.max_parallel = max_parallel;
        f
    }

    #[test]
    fn a_matrix_expands_and_its_dependents_need_every_instance() {
        let mut test = StepSpec::new("test", StepKind::Noop).needing(&["build"]);
        test.fan_out = Some(matrix(Some(2)));
        let spec = WorkflowSpec::new(
            "w",
            vec![
                StepSpec::new("build", StepKind::Noop),
                test,
                StepSpec::new("report", StepKind::Noop).needing(&["test"]),
            ],
        );
        let ix = SpecIndex::new(spec);
        let rows = initial_rows(&ix);
        let ids: Vec<&str> = rows.iter().map(|r| r.step.id.as_str()).collect();
        assert_eq!(ids.len(), 8);
        assert_eq!(ids[1], "test[region=eu,shard=1]");
        assert_eq!(ids[7], "report");
        assert_eq!(rows[7].pending_needs, 6);
        // The first two instances wait for build only; the others for a slot too.
        let pending: Vec<u32> = rows[1..7].iter().map(|r| r.pending_needs).collect();
        assert_eq!(pending, [1, 1, 2, 2, 2, 2]);
        assert_eq!(
            rows[1].vars.as_deref(),
            Some(r#"{"matrix":{"region":"eu","shard":1}}"#)
        );
        assert_eq!(ix.dependents("test[region=us,shard=3]").count(), 1);
        assert_eq!(ix.step("report").unwrap().needs.len(), 6);
        assert!(ix.step("test").is_none());
    }

    #[test]
    fn a_foreach_step_keeps_room_and_its_instances_are_found_as_it() {
        let mut each = StepSpec::new("each", StepKind::Noop).needing(&["list"]);
        let mut fan = FanOut::foreach("list", "items");
        fan.max_instances = 10;
        each.fan_out = Some(fan);
        let spec = WorkflowSpec::new(
            "w",
            vec![
                StepSpec::new("list", StepKind::Noop),
                each,
                StepSpec::new("after", StepKind::Noop).needing(&["each"]),
            ],
        );
        let ix = SpecIndex::new(spec);
        let idx: Vec<u32> = initial_rows(&ix).iter().map(|r| r.idx).collect();
        assert_eq!(idx, [0, 1, 12]);
        assert_eq!(ix.step("each[4]").unwrap().id, "each");
        assert_eq!(ix.dependents("each[4]").next().unwrap().id, "after");
        assert!(ix.step("list[0]").is_none());
    }
}
