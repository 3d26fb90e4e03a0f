//! Fan-out keys of a step (issue 13): `matrix:` (one instance per combination of its
//! variables), `foreach:` (one instance per item of an upstream output's JSON list, at run
//! time), and how the instances run — `max_parallel`, `fail_fast`, `max_instances`. Read into a
//! [`FanOut`]; checked against the rest of the file: `matrix.NAME` and `item` in templates,
//! `foreach` over an upstream step's output, no step reading the outputs of a fanned-out step
//! by name (each instance has its own).

use std::collections::BTreeSet;

use super::diag::{Diagnostics, Pos};
use super::fields::{self, Fields};
use super::node::{Node, Value};
use super::params::is_param_name;
use super::step::{StepDraft, TemplateRef};
use super::suggest::did_you_mean;
use super::template::{is_template, variables};
use crate::model::{
    DEFAULT_MAX_INSTANCES, FanOut, ForeachSource, MAX_INSTANCES_LIMIT, MatrixAxis, WorkflowSpec,
    value_text,
};

const FOREACH_HINT: &str = "write foreach: \"{{ steps.ID.outputs.KEY }}\", an output of an upstream step holding a JSON list";

/// Read a step's fan-out keys (`what` names the step). `None` when it has neither `matrix` nor
/// `foreach` (the other keys are then reported as meaningless).
pub(crate) fn parse_fan_out(
    f: &Fields<'_>,
    what: &str,
    templates: &mut Vec<TemplateRef>,
    diags: &mut Diagnostics,
) -> Option<FanOut> {
    let matrix = f.get("matrix");
    let foreach = f.get("foreach");
    if matrix.is_none() && foreach.is_none() {
        for key in ["max_parallel", "fail_fast", "max_instances"] {
            if let Some(pos) = f.key_pos(key) {
                diags.error_hint(
                    pos,
                    format!("{what}: `{key}` applies only to a step with `matrix:` or `foreach:`"),
                    None,
                );
            }
        }
        return None;
    }
    if let (Some(_), Some(_)) = (matrix, foreach) {
        let pos = f.key_pos("foreach").unwrap_or(f.pos);
        diags.error_hint(
            pos,
            format!("{what}: has both `matrix` and `foreach`; a step fans out one way"),
            Some("use a matrix for values known in advance, foreach for an upstream output".into()),
        );
        return None;
    }
    let mut fan = FanOut::matrix(Vec::new());
    if let Some(n) = f.get("max_instances") {
        match fields::count(
            n,
            &format!("{what} max_instances"),
            MAX_INSTANCES_LIMIT,
            diags,
        ) {
            Some(0) => diags.error(n.pos, format!("{what} max_instances: must be at least 1")),
            Some(m) => fan.max_instances = m,
            None => {}
        }
    }
    if let Some(n) = f.get("max_parallel") {
        match fields::count(
            n,
            &format!("{what} max_parallel"),
            MAX_INSTANCES_LIMIT,
            diags,
        ) {
            Some(0) => diags.error(n.pos, format!("{what} max_parallel: must be at least 1")),
            Some(m) => fan.max_parallel = Some(m),
            None => {}
        }
    }
    if let Some(n) = f.get("fail_fast") {
        fan.fail_fast = fields::boolean(n, &format!("{what} fail_fast"), diags).unwrap_or(true);
    }
    if let Some(n) = matrix {
        fan.matrix = parse_matrix(n, what, diags)?;
        match fan.combinations() {
            Some(c) if c <= u64::from(fan.max_instances) => {}
            c => {
                let count = c.map_or_else(|| "too many".to_string(), |c| c.to_string());
                diags.error_hint(
                    f.key_pos("matrix").unwrap_or(n.pos),
                    format!(
                        "{what} matrix: {count} combinations, over the cap of {} instances",
                        fan.max_instances
                    ),
                    Some(format!(
                        "set `max_instances:` (up to {MAX_INSTANCES_LIMIT}) or use fewer values; the default cap is {DEFAULT_MAX_INSTANCES}"
                    )),
                );
                return None;
            }
        }
    }
    if let Some(n) = foreach {
        let text = fields::string(n, &format!("{what} foreach"), diags)?;
        match foreach_source(&text) {
            Some(src) => {
                // Checked as a template: the step must be upstream and not fan out itself.
                templates.push(TemplateRef::new(&text, n.pos, "foreach"));
                fan.foreach = Some(src);
            }
            None => {
                diags.error_hint(
                    n.pos,
                    format!("{what} foreach: {text:?} is not an upstream step's output"),
                    Some(FOREACH_HINT.into()),
                );
                // The file is refused; kept so that `item` in its templates is not reported
                // too.
                fan.foreach = Some(ForeachSource {
                    step: String::new(),
                    output: String::new(),
                });
            }
        }
    }
    Some(fan)
}

/// `{{ steps.ID.outputs.KEY }}` (spaces optional) → its step and output.
pub(crate) fn foreach_source(text: &str) -> Option<ForeachSource> {
    let inner = text.trim().strip_prefix("{{")?.strip_suffix("}}")?.trim();
    let parts: Vec<&str> = inner.split('.').collect();
    match parts.as_slice() {
        ["steps", step, "outputs", output] if fields::is_identifier(step) && is_key(output) => {
            Some(ForeachSource {
                step: (*step).to_string(),
                output: (*output).to_string(),
            })
        }
        _ => None,
    }
}

fn is_key(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `matrix: { NAME: [values...], ... }`: names as params are named, non-empty lists of
/// distinct scalars that can stand in an instance id.
fn parse_matrix(node: &Node, what: &str, diags: &mut Diagnostics) -> Option<Vec<MatrixAxis>> {
    let Some(entries) = node.as_map() else {
        diags.error_hint(
            node.pos,
            format!(
                "{what} matrix: expected a mapping of variables to lists, got {}",
                node.kind()
            ),
            Some("write matrix: { region: [eu, us], shard: [1, 2] }".into()),
        );
        return None;
    };
    if entries.is_empty() {
        diags.error(node.pos, format!("{what} matrix: has no variables"));
        return None;
    }
    let mut axes = Vec::new();
    for (k, v) in entries {
        let Some(name) = k.as_str().filter(|n| is_param_name(n)) else {
            diags.error_hint(
                k.pos,
                format!(
                    "{what} matrix: {:?} cannot name a variable",
                    k.scalar_text().unwrap_or_default()
                ),
                Some("use letters, digits and _, starting with a letter".into()),
            );
            continue;
        };
        let Value::Seq(items) = &v.value else {
            diags.error(
                v.pos,
                format!(
                    "{what} matrix {name}: expected a list of values, got {}",
                    v.kind()
                ),
            );
            continue;
        };
        if items.is_empty() {
            diags.error_hint(
                v.pos,
                format!("{what} matrix {name}: the list is empty (the step would never run)"),
                Some("give it at least one value, or remove the variable".into()),
            );
            continue;
        }
        let mut values = Vec::new();
        let mut seen = BTreeSet::new();
        for item in items {
            match matrix_value(item) {
                Ok(value) => {
                    if !seen.insert(value_text(&value)) {
                        diags.error(
                            item.pos,
                            format!(
                                "{what} matrix {name}: {} is listed twice",
                                value_text(&value)
                            ),
                        );
                    }
                    values.push(value);
                }
                Err(why) => {
                    diags.error(item.pos, format!("{what} matrix {name}: {why}"));
                }
            }
        }
        axes.push(MatrixAxis {
            name: name.to_string(),
            values,
        });
    }
    // Kept even with problems (the file is refused anyway), so that its templates are not
    // also reported as using a matrix the step does not have.
    Some(axes)
}

/// A matrix value: a scalar whose text can stand in an instance id.
fn matrix_value(node: &Node) -> Result<serde_json::Value, String> {
    let value = match &node.value {
        Value::Str(s) => {
            if s.chars()
                .any(|c| matches!(c, '[' | ']' | ',' | '=') || c.is_control())
            {
                return Err(format!(
                    "{s:?} cannot be a value (no `[`, `]`, `,`, `=` or control characters: values appear in instance ids)"
                ));
            }
            serde_json::Value::from(s.clone())
        }
        Value::Int(_) | Value::Float(_) | Value::Bool(_) => node.to_json().map_err(|(_, e)| e)?,
        _ => {
            return Err(format!(
                "expected a string, number or bool, got {}",
                node.kind()
            ));
        }
    };
    Ok(value)
}

/// Problems with one template path that starts with `matrix` or `item`, for the step using it:
/// a message and a hint.
pub(crate) fn check_var(path: &str, step: &StepDraft) -> Option<(String, Option<String>)> {
    let parts: Vec<&str> = path.split('.').collect();
    let fan = step.spec.fan_out.as_ref();
    match (parts[0], parts.get(1)) {
        ("matrix", name) => {
            let Some(fan) = fan.filter(|f| !f.matrix.is_empty()) else {
                return Some((
                    format!("`{path}`: the step has no `matrix:`"),
                    Some("matrix.NAME is defined in a step with matrix: { NAME: [...] }".into()),
                ));
            };
            let names = || fan.matrix.iter().map(|a| a.name.as_str());
            match name {
                None => None,
                Some(n) if names().any(|a| a == *n) => None,
                Some(n) => Some((
                    format!("unknown matrix variable {n:?}"),
                    did_you_mean(n, names()).or_else(|| {
                        Some(format!(
                            "the matrix has {}",
                            names().collect::<Vec<_>>().join(", ")
                        ))
                    }),
                )),
            }
        }
        _ => {
            if fan.is_some_and(|f| f.foreach.is_some()) {
                None
            } else {
                Some((
                    "`item` is defined only in a step with `foreach:`".to_string(),
                    None,
                ))
            }
        }
    }
}

/// Checks across steps: no template reads the outputs of a fanned-out step by its id (each
/// instance has outputs of its own), so neither does a `foreach:`.
pub(crate) fn check_steps(steps: &[StepDraft], diags: &mut Diagnostics) {
    let fanned: BTreeSet<&str> = steps
        .iter()
        .filter(|s| s.spec.fan_out.is_some())
        .filter_map(|s| s.id.as_deref())
        .collect();
    if fanned.is_empty() {
        return;
    }
    let mut seen: BTreeSet<(Pos, String)> = BTreeSet::new();
    for step in steps {
        for t in &step.templates {
            if !is_template(&t.text) {
                continue;
            }
            for path in variables(&t.text).unwrap_or_default() {
                let mut parts = path.split('.');
                let (Some("steps"), Some(id)) = (parts.next(), parts.next()) else {
                    continue;
                };
                if fanned.contains(id) && seen.insert((t.pos, id.to_string())) {
                    diags.error_hint(
                        t.pos,
                        format!(
                            "{} {}: step {id:?} fans out (matrix or foreach): each instance has its own outputs, none can be read as steps.{id}.outputs",
                            step.label(),
                            t.field
                        ),
                        Some("have the instances write to a place a later step reads, or drop the fan-out".into()),
                    );
                }
            }
        }
    }
}

/// The same rules for a spec that did not come from a file: each problem as a message.
pub(crate) fn check_spec(spec: &WorkflowSpec) -> Vec<String> {
    let mut problems = Vec::new();
    let fanned: BTreeSet<&str> = spec
        .steps
        .iter()
        .filter(|s| s.fan_out.is_some())
        .map(|s| s.id.as_str())
        .collect();
    for s in &spec.steps {
        let Some(fan) = &s.fan_out else { continue };
        let id = &s.id;
        match (&fan.matrix.is_empty(), &fan.foreach) {
            (true, None) => problems.push(format!("step {id:?}: fan_out has no matrix or foreach")),
            (false, Some(_)) => problems.push(format!("step {id:?}: has both matrix and foreach")),
            _ => {}
        }
        if fan.max_instances == 0 || fan.max_instances > MAX_INSTANCES_LIMIT {
            problems.push(format!(
                "step {id:?}: max_instances must be from 1 to {MAX_INSTANCES_LIMIT}"
            ));
        }
        if fan.max_parallel == Some(0) {
            problems.push(format!("step {id:?}: max_parallel must be at least 1"));
        }
        let mut names = BTreeSet::new();
        for axis in &fan.matrix {
            if !is_param_name(&axis.name) || !names.insert(axis.name.as_str()) {
                problems.push(format!(
                    "step {id:?}: bad or repeated matrix variable {:?}",
                    axis.name
                ));
            }
            if axis.values.is_empty() {
                problems.push(format!(
                    "step {id:?}: matrix {}: the list is empty",
                    axis.name
                ));
            }
            let mut seen = BTreeSet::new();
            for v in &axis.values {
                let text = value_text(v);
                let scalar = !(v.is_array() || v.is_object() || v.is_null());
                if !scalar
                    || text
                        .chars()
                        .any(|c| matches!(c, '[' | ']' | ',' | '=') || c.is_control())
                    || !seen.insert(text.clone())
                {
                    problems.push(format!(
                        "step {id:?}: matrix {}: bad or repeated value {text}",
                        axis.name
                    ));
                }
            }
        }
        if !fan.matrix.is_empty()
            && fan
                .combinations()
                .is_none_or(|c| c > u64::from(fan.max_instances))
        {
            problems.push(format!(
                "step {id:?}: the matrix has more combinations than max_instances ({})",
                fan.max_instances
            ));
        }
        if let Some(src) = &fan.foreach {
            if fanned.contains(src.step.as_str()) {
                problems.push(format!(
                    "step {id:?}: foreach over step {:?}, which fans out itself",
                    src.step
                ));
            } else if !upstream(spec, id).contains(src.step.as_str()) {
                problems.push(format!(
                    "step {id:?}: foreach over step {:?}, which is not upstream of it",
                    src.step
                ));
            }
        }
    }
    problems
}

/// The steps upstream of `id` in `spec`.
fn upstream<'a>(spec: &'a WorkflowSpec, id: &str) -> BTreeSet<&'a str> {
    let by_id = |x: &str| spec.steps.iter().find(|s| s.id == x);
    let mut seen = BTreeSet::new();
    let mut stack: Vec<&str> = by_id(id)
        .map(|s| s.needs.iter().map(String::as_str).collect())
        .unwrap_or_default();
    while let Some(x) = stack.pop() {
        if seen.insert(x)
            && let Some(s) = by_id(x)
        {
            stack.extend(s.needs.iter().map(String::as_str));
        }
    }
    seen
}
