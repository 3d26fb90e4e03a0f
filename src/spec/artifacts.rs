//! A step's `artifacts:` (paths or globs, relative to its working directory, that the agent
//! uploads once the step succeeds) and `inputs:` (upstream steps whose artifacts are put in its
//! working directory before it starts): reading them, and checking that each input names a
//! step this one comes after (through `needs`) that has artifacts.

use std::collections::{BTreeMap, BTreeSet};

use super::diag::Diagnostics;
use super::node::{Node, Value};
use super::step::StepDraft;
use super::suggest::did_you_mean;
use crate::model::{StepKind, StepSpec, check_artifact_path};

/// The most patterns one step's `artifacts:` may list.
pub const MAX_PATTERNS: usize = 100;

/// Why `pattern` cannot be an `artifacts:` entry, if it cannot.
pub fn check_pattern(pattern: &str) -> Result<(), String> {
    check_artifact_path(pattern).map_err(|e| e.replace("artifact path", "pattern"))?;
    glob::Pattern::new(pattern)
        .map(|_| ())
        .map_err(|e| format!("{pattern:?} is not a valid glob: {}", e.msg))
}

/// Read `artifacts:`: a list of paths or globs.
pub(crate) fn parse_artifacts(node: &Node, what: &str, diags: &mut Diagnostics) -> Vec<String> {
    let Value::Seq(items) = &node.value else {
        diags.error(
            node.pos,
            format!(
                "{what} artifacts: expected a list of paths or globs, got {}",
                node.kind()
            ),
        );
        return Vec::new();
    };
    if items.len() > MAX_PATTERNS {
        diags.error(
            node.pos,
            format!("{what} artifacts: more than {MAX_PATTERNS} patterns"),
        );
    }
    let mut out: Vec<String> = Vec::new();
    for item in items {
        let Some(p) = item.as_str() else {
            diags.error(
                item.pos,
                format!(
                    "{what} artifacts: expected a path or glob, got {}",
                    item.kind()
                ),
            );
            continue;
        };
        if let Err(e) = check_pattern(p) {
            diags.error(item.pos, format!("{what} artifacts: {e}"));
        } else if out.iter().any(|seen| seen == p) {
            diags.error(item.pos, format!("{what} artifacts: {p:?} more than once"));
        } else {
            out.push(p.to_string());
        }
    }
    out
}

/// Why a step of this kind cannot have artifacts or inputs: only `run` steps work with files.
fn kind_problem(spec: &StepSpec) -> Option<&'static str> {
    match spec.kind {
        StepKind::Run { .. } => None,
        StepKind::Http(_) => Some("an http step"),
        StepKind::Noop => Some("a noop step"),
        StepKind::Approval(_) => Some("an approval step"),
    }
}

/// Check each step's inputs against the graph (`ancestors[i]`: the ids step i comes after).
pub(crate) fn check_inputs(
    steps: &[StepDraft],
    ancestors: &[BTreeSet<String>],
    diags: &mut Diagnostics,
) {
    let with_artifacts: BTreeMap<&str, bool> = steps
        .iter()
        .filter_map(|s| Some((s.id.as_deref()?, !s.spec.artifacts.is_empty())))
        .collect();
    for (i, s) in steps.iter().enumerate() {
        if let Some(kind) = kind_problem(&s.spec) {
            if let Some(pos) = s.artifacts_pos {
                diags.error(
                    pos,
                    format!(
                        "{}: {kind} makes no files; only run steps have artifacts",
                        s.label()
                    ),
                );
            }
            if let Some((_, pos)) = s.inputs.first() {
                diags.error(
                    *pos,
                    format!(
                        "{}: {kind} reads no files; only run steps take inputs",
                        s.label()
                    ),
                );
            }
        }
        for (input, pos) in &s.inputs {
            let msg = input_problem(
                &s.label(),
                input,
                ancestors.get(i),
                with_artifacts.get(input.as_str()).copied(),
            );
            if let Some((msg, hint)) = msg {
                let unknown = !with_artifacts.contains_key(input.as_str());
                let hint = hint.or_else(|| {
                    unknown
                        .then(|| did_you_mean(input, with_artifacts.keys().copied()))
                        .flatten()
                });
                diags.error_hint(*pos, msg, hint);
            }
        }
    }
}

/// What is wrong with `input` as an input of `label` (with `ancestors`; `has_artifacts` is
/// `None` for an unknown step), and a hint.
fn input_problem(
    label: &str,
    input: &str,
    ancestors: Option<&BTreeSet<String>>,
    has_artifacts: Option<bool>,
) -> Option<(String, Option<String>)> {
    match has_artifacts {
        None => Some((format!("{label} inputs unknown step {input:?}"), None)),
        Some(_) if !ancestors.is_some_and(|a| a.contains(input)) => Some((
            format!("{label} inputs {input:?}, which it does not come after"),
            Some(format!("add {input:?} to its `needs:`")),
        )),
        Some(false) => Some((
            format!("{label} inputs {input:?}, which has no `artifacts:`"),
            None,
        )),
        Some(true) => None,
    }
}

/// The same rules for a spec that came without a file (see `check_spec`).
pub(crate) fn check_spec_steps(steps: &[StepSpec], problems: &mut Vec<String>) {
    let index: BTreeMap<&str, &StepSpec> = steps.iter().map(|s| (s.id.as_str(), s)).collect();
    for s in steps {
        let label = format!("step {:?}", s.id);
        if s.artifacts.len() > MAX_PATTERNS {
            problems.push(format!(
                "{label} artifacts: more than {MAX_PATTERNS} patterns"
            ));
        }
        for p in &s.artifacts {
            if let Err(e) = check_pattern(p) {
                problems.push(format!("{label} artifacts: {e}"));
            }
        }
        if let Some(kind) = kind_problem(s)
            && (!s.artifacts.is_empty() || !s.inputs.is_empty())
        {
            problems.push(format!(
                "{label}: {kind} has no files; only run steps have artifacts and inputs"
            ));
        }
        // The steps this one comes after.
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        let mut stack: Vec<&str> = s.needs.iter().map(String::as_str).collect();
        while let Some(id) = stack.pop() {
            if seen.insert(id)
                && let Some(up) = index.get(id)
            {
                stack.extend(up.needs.iter().map(String::as_str));
            }
        }
        let ancestors: BTreeSet<String> = seen.iter().map(|s| s.to_string()).collect();
        for input in &s.inputs {
            let has = index.get(input.as_str()).map(|u| !u.artifacts.is_empty());
            if let Some((msg, _)) = input_problem(&label, input, Some(&ancestors), has) {
                problems.push(msg);
            }
        }
    }
}
