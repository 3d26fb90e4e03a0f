//! [`check_spec`]: the rules a workflow file's parser enforces, for a [`WorkflowSpec`] that did
//! not come from a file (a JSON body sent to `POST /api/v1/workflows`, or code). The engine
//! relies on them: unique step ids, `needs` that name other steps of the workflow, no cycles,
//! identifiers where names are expected. Every problem is reported at once.

use std::collections::{BTreeMap, BTreeSet};

use super::fields::is_identifier;
use super::params::is_param_name;
use crate::model::{StepKind, WorkflowSpec};
use crate::{Error, Result};

/// `Ok` if `spec` could have come from a valid workflow file; else one
/// [`Error::Invalid`] naming every problem.
pub fn check_spec(spec: &WorkflowSpec) -> Result<()> {
    let mut problems: Vec<String> = Vec::new();
    if !is_identifier(&spec.name) {
        problems.push(format!(
            "workflow name {:?} must be lowercase letters, digits, - and _",
            spec.name
        ));
    }
    if spec.steps.is_empty() {
        problems.push("a workflow needs at least one step".into());
    }
    let mut params = BTreeSet::new();
    for p in &spec.params {
        if !is_param_name(&p.name) {
            problems.push(format!("param name {:?} is not valid", p.name));
        } else if !params.insert(p.name.as_str()) {
            problems.push(format!("param {:?} is declared twice", p.name));
        }
    }
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, s) in spec.steps.iter().enumerate() {
        if !is_identifier(&s.id) {
            problems.push(format!("step id {:?} is not an identifier", s.id));
        } else if index.contains_key(s.id.as_str()) {
            problems.push(format!("duplicate step id {:?}", s.id));
        } else {
            index.insert(&s.id, i);
        }
        if !(0.0..=1.0).contains(&s.retry.jitter) {
            problems.push(format!(
                "step {:?}: retry jitter must be between 0 and 1",
                s.id
            ));
        }
        if let StepKind::Run { command } = &s.kind
            && command.trim().is_empty()
        {
            problems.push(format!("step {:?}: the command is empty", s.id));
        }
        if let StepKind::Http(h) = &s.kind
            && h.url.trim().is_empty()
        {
            problems.push(format!("step {:?}: the URL is empty", s.id));
        }
    }
    // needs: known, not the step itself, not twice; then no cycles.
    let mut edges: Vec<Vec<usize>> = vec![Vec::new(); spec.steps.len()];
    for (i, s) in spec.steps.iter().enumerate() {
        let mut seen = BTreeSet::new();
        for need in &s.needs {
            if !seen.insert(need.as_str()) {
                problems.push(format!("step {:?} needs {need:?} twice", s.id));
                continue;
            }
            match index.get(need.as_str()) {
                Some(&j) if j == i => problems.push(format!("step {:?} needs itself", s.id)),
                Some(&j) => edges[i].push(j),
                None => problems.push(format!("step {:?} needs unknown step {need:?}", s.id)),
            }
        }
    }
    if let Some(cycle) = super::graph::find_cycles(&edges).into_iter().next() {
        let mut names: Vec<&str> = cycle
            .iter()
            .rev()
            .map(|&i| spec.steps[i].id.as_str())
            .collect();
        names.push(names[0]);
        problems.push(format!("cycle: {}", names.join(" → ")));
    }
    problems.extend(super::matrix::check_spec(spec));
    problems.extend(super::condition::check_spec_conditions(spec, &edges));
    super::artifacts::check_spec_steps(&spec.steps, &mut problems);
    if let Some(c) = &spec.concurrency {
        let names: Vec<String> = spec.params.iter().map(|p| p.name.clone()).collect();
        problems.extend(super::concurrency::check(c, &names));
    }
    for (i, rule) in spec.notify.iter().enumerate() {
        if let Err(e) = rule.check() {
            problems.push(format!("notify[{}]: {e}", i + 1));
        }
        if rule.workflow.is_some() {
            problems.push(format!(
                "notify[{}]: a workflow's rule names no workflow (it is this one)",
                i + 1
            ));
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(Error::invalid(format!(
        "workflow {:?} is not valid: {}",
        spec.name,
        problems.join("; ")
    )))
}

/// A spec sent with its source (over the API) must be what that source parses to: the version
/// keeps the source, and `workflow show -o yaml` prints it as the workflow. Specs parsed in this
/// process carry their own source and need no check.
pub fn check_source(spec: &WorkflowSpec) -> Result<()> {
    let Some(source) = &spec.source else {
        return Ok(());
    };
    let parsed = super::parse_str(source, "source").map_err(|e| {
        Error::invalid(format!(
            "workflow {:?}: its source is not a valid workflow file: {e}",
            spec.name
        ))
    })?;
    if parsed != *spec {
        return Err(Error::invalid(format!(
            "workflow {:?}: its source does not parse to the spec sent with it",
            spec.name
        )));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::model::StepSpec;

    fn noop(id: &str, needs: &[&str]) -> StepSpec {
        StepSpec::new(id, StepKind::Noop).needing(needs)
    }

    #[test]
    fn a_valid_spec_passes_and_every_example_file_does() {
        check_spec(&WorkflowSpec::new(
            "w",
            vec![noop("a", &[]), noop("b", &["a"])],
        ))
        .unwrap();
        let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/workflows");
        if let Ok(specs) = super::super::load_path(std::path::Path::new(examples)) {
            for (path, spec) in specs {
                check_spec(&spec).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            }
        }
    }

    #[test]
    fn every_problem_is_named() {
        let spec = WorkflowSpec::new(
            "Bad Name",
            vec![
                noop("a", &["c"]),
                noop("b", &["a", "zzz", "b"]),
                noop("c", &["b"]),
                noop("a", &[]),
            ],
        );
        let msg = check_spec(&spec).unwrap_err().to_string();
        for part in [
            "workflow name \"Bad Name\"",
            "duplicate step id \"a\"",
            "step \"b\" needs unknown step \"zzz\"",
            "step \"b\" needs itself",
            "cycle: ",
        ] {
            assert!(msg.contains(part), "{part:?} not in {msg}");
        }
        let empty = check_spec(&WorkflowSpec::new("w", vec![])).unwrap_err();
        assert!(empty.to_string().contains("at least one step"), "{empty}");
        let cycle = check_spec(&WorkflowSpec::new(
            "w",
            vec![noop("x", &["y"]), noop("y", &["x"])],
        ))
        .unwrap_err()
        .to_string();
        assert!(
            cycle.contains("cycle: x → y → x") || cycle.contains("cycle: y → x → y"),
            "{cycle}"
        );
    }
}
