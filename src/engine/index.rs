//! A workflow version's step graph, indexed for the store's transitions (dependents of a step,
//! position by id), cached per process: a version never changes once stored.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::model::{StepSpec, WorkflowSpec};

/// The step graph of one workflow version.
#[derive(Debug)]
pub struct SpecIndex {
    pub spec: WorkflowSpec,
    by_id: HashMap<String, usize>,
    dependents: Vec<Vec<usize>>,
    templated: Vec<bool>,
}

impl SpecIndex {
    pub fn new(spec: WorkflowSpec) -> Self {
        let by_id: HashMap<String, usize> = spec
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), i))
            .collect();
        let mut dependents = vec![Vec::new(); spec.steps.len()];
        for (i, step) in spec.steps.iter().enumerate() {
            for need in &step.needs {
                if let Some(&j) = by_id.get(need) {
                    dependents[j].push(i);
                }
            }
        }
        let templated = spec
            .steps
            .iter()
            .map(|s| {
                serde_json::to_string(s)
                    .map(|j| j.contains("{{") || j.contains("{%"))
                    .unwrap_or(true)
            })
            .collect();
        SpecIndex {
            spec,
            by_id,
            dependents,
            templated,
        }
    }

    pub fn step(&self, id: &str) -> Option<&StepSpec> {
        self.by_id.get(id).map(|&i| &self.spec.steps[i])
    }

    /// Whether the step has any template to render.
    pub fn has_templates(&self, id: &str) -> bool {
        self.by_id.get(id).is_some_and(|&i| self.templated[i])
    }

    /// Steps that directly need `id`.
    pub fn dependents(&self, id: &str) -> impl Iterator<Item = &StepSpec> {
        self.by_id
            .get(id)
            .map(|&i| self.dependents[i].as_slice())
            .unwrap_or(&[])
            .iter()
            .map(|&j| &self.spec.steps[j])
    }

    /// `id` and every step downstream of it, in workflow order.
    pub fn downstream_of(&self, id: &str) -> Vec<&StepSpec> {
        let Some(&start) = self.by_id.get(id) else {
            return Vec::new();
        };
        let mut seen = vec![false; self.spec.steps.len()];
        let mut stack = vec![start];
        while let Some(i) = stack.pop() {
            if std::mem::replace(&mut seen[i], true) {
                continue;
            }
            stack.extend(self.dependents[i].iter().copied());
        }
        self.spec
            .steps
            .iter()
            .enumerate()
            .filter(|(i, _)| seen[*i])
            .map(|(_, s)| s)
            .collect()
    }
}

/// Per-process cache of [`SpecIndex`] by (workflow, version).
#[derive(Default)]
pub struct SpecCache {
    map: Mutex<HashMap<(String, u32), Arc<SpecIndex>>>,
}

impl SpecCache {
    pub fn get(&self, name: &str, version: u32) -> Option<Arc<SpecIndex>> {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&(name.to_string(), version)).cloned()
    }

    pub fn insert(&self, name: &str, version: u32, index: Arc<SpecIndex>) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.insert((name.to_string(), version), index);
    }
}
