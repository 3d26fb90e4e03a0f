//! A workflow version's step graph, indexed for the store's transitions (dependents of a step,
//! position by id), cached per process: a version never changes once stored. A `matrix:` step
//! stands here as its instances, and a step needing it needs each of them (see
//! [`super::expand`]); a `foreach:` step stands as itself, and the instances it gets at run
//! time are looked up as it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::model::{StepSpec, WorkflowSpec};

/// The step graph of one workflow version.
#[derive(Debug)]
pub struct SpecIndex {
    /// The workflow as written.
    pub spec: WorkflowSpec,
    /// Its steps as a run has them when created: matrix steps expanded, with their needs.
    steps: Vec<StepSpec>,
    /// Each step's `matrix.*` variables (matrix instances only).
    vars: Vec<Option<crate::model::InstanceVars>>,
    by_id: HashMap<String, usize>,
    dependents: Vec<Vec<usize>>,
    templated: Vec<bool>,
}

impl SpecIndex {
    pub fn new(spec: WorkflowSpec) -> Self {
        let (steps, vars) = super::expand::expand_matrices(&spec.steps);
        let by_id: HashMap<String, usize> = steps
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), i))
            .collect();
        let mut dependents = vec![Vec::new(); steps.len()];
        for (i, step) in steps.iter().enumerate() {
            for need in &step.needs {
                if let Some(&j) = by_id.get(need) {
                    dependents[j].push(i);
                }
            }
        }
        let templated = steps
            .iter()
            .map(|s| {
                serde_json::to_string(s)
                    .map(|j| j.contains("{{") || j.contains("{%"))
                    .unwrap_or(true)
            })
            .collect();
        SpecIndex {
            spec,
            steps,
            vars,
            by_id,
            dependents,
            templated,
        }
    }

    /// Where step `id` is: its own place, or for an instance of a `foreach:` step, that step's.
    fn position(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied().or_else(|| {
            let base = crate::model::base_step_id(id);
            let &i = self.by_id.get(base)?;
            let foreach = self.steps[i]
                .fan_out
                .as_ref()
                .is_some_and(|f| f.foreach.is_some());
            (foreach && base != id).then_some(i)
        })
    }

    pub fn step(&self, id: &str) -> Option<&StepSpec> {
        self.position(id).map(|i| &self.steps[i])
    }

    /// The steps a new run has, in order, each with its `matrix.*` variables (if an instance).
    pub fn run_steps(
        &self,
    ) -> impl Iterator<Item = (&StepSpec, Option<&crate::model::InstanceVars>)> {
        self.steps.iter().zip(self.vars.iter().map(Option::as_ref))
    }

    /// The `matrix.*` variables of matrix instance `id` (`None` for any other step).
    pub fn instance_vars(&self, id: &str) -> Option<&crate::model::InstanceVars> {
        self.by_id.get(id).and_then(|&i| self.vars[i].as_ref())
    }

    /// Whether the step has any template to render.
    pub fn has_templates(&self, id: &str) -> bool {
        self.position(id).is_some_and(|i| self.templated[i])
    }

    /// Steps that directly need `id`.
    pub fn dependents(&self, id: &str) -> impl Iterator<Item = &StepSpec> {
        self.position(id)
            .map(|i| self.dependents[i].as_slice())
            .unwrap_or(&[])
            .iter()
            .map(|&j| &self.steps[j])
    }

    /// `id` and every step downstream of it, in workflow order.
    pub fn downstream_of(&self, id: &str) -> Vec<&StepSpec> {
        let Some(start) = self.position(id) else {
            return Vec::new();
        };
        let mut seen = vec![false; self.steps.len()];
        let mut stack = vec![start];
        while let Some(i) = stack.pop() {
            if std::mem::replace(&mut seen[i], true) {
                continue;
            }
            stack.extend(self.dependents[i].iter().copied());
        }
        self.steps
            .iter()
            .enumerate()
            .filter(|(i, _)| seen[*i])
            .map(|(_, s)| s)
            .collect()
    }
}

/// Per-process cache of [`SpecIndex`] by (workflow, version), and of the schedules a
/// scheduler pass compiled.
#[derive(Default)]
pub struct SpecCache {
    map: Mutex<HashMap<(String, u32), Arc<SpecIndex>>>,
    /// The index of runs seen lately (a run's workflow version never changes), so a
    /// completion knows which steps to read with its step before it reads the run.
    runs: Mutex<HashMap<String, Arc<SpecIndex>>>,
    schedules: crate::schedule::CompiledSchedules,
}

/// The most runs [`SpecCache::note_run`] remembers before it forgets them all.
const RUNS_KEPT: usize = 4096;

impl SpecCache {
    pub fn get(&self, name: &str, version: u32) -> Option<Arc<SpecIndex>> {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&(name.to_string(), version)).cloned()
    }

    pub fn insert(&self, name: &str, version: u32, index: Arc<SpecIndex>) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.insert((name.to_string(), version), index);
    }

    /// The index of run `run_id`'s workflow version, if noted lately.
    pub fn for_run(&self, run_id: &str) -> Option<Arc<SpecIndex>> {
        let runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        runs.get(run_id).cloned()
    }

    /// Remember that run `run_id` is of `index`'s workflow version.
    pub fn note_run(&self, run_id: &str, index: &Arc<SpecIndex>) {
        let mut runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        if runs.contains_key(run_id) {
            return;
        }
        if runs.len() >= RUNS_KEPT {
            runs.clear();
        }
        runs.insert(run_id.to_string(), index.clone());
    }

    /// The schedules compiled by this store's scheduler passes.
    pub fn schedules(&self) -> &crate::schedule::CompiledSchedules {
        &self.schedules
    }
}
