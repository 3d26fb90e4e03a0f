//! Checking templates at load time: syntax, and that every variable a template reads exists for
//! the step using it — declared params, upstream steps' outputs, `run.id`, `workflow.*`.

use std::collections::BTreeSet;

use super::diag::{Diagnostics, Pos};
use super::step::{StepDraft, TemplateRef};
use super::suggest::did_you_mean;
use super::template::{describe, is_template, variables};

const ROOTS_HINT: &str = "templates can use params.NAME, steps.ID.outputs.KEY, run.id, workflow.name and workflow.version";

/// Check the templates of every step; `ancestors[i]` holds the upstream step ids of step `i`.
pub(crate) fn check_templates(
    steps: &[StepDraft],
    params: &[String],
    ancestors: &[BTreeSet<String>],
    diags: &mut Diagnostics,
) {
    let ids: Vec<&str> = steps.iter().filter_map(|s| s.id.as_deref()).collect();
    // Templates shared through `defaults` would otherwise be reported once per step.
    let mut seen: BTreeSet<(Pos, String)> = BTreeSet::new();
    for (i, step) in steps.iter().enumerate() {
        for t in &step.templates {
            let scope = Scope {
                step,
                params,
                ids: &ids,
                upstream: ancestors.get(i),
            };
            check_one(t, &scope, &mut seen, diags);
        }
    }
}

struct Scope<'a> {
    step: &'a StepDraft,
    params: &'a [String],
    ids: &'a [&'a str],
    upstream: Option<&'a BTreeSet<String>>,
}

fn check_one(
    t: &TemplateRef,
    scope: &Scope<'_>,
    seen: &mut BTreeSet<(Pos, String)>,
    diags: &mut Diagnostics,
) {
    if !is_template(&t.text) {
        return;
    }
    let what = format!("{} {}", scope.step.label(), t.field);
    let paths = match variables(&t.text) {
        Ok(p) => p,
        Err(e) => {
            let msg = format!("bad template: {}", describe(&e, &t.text));
            if seen.insert((t.pos, msg.clone())) {
                diags.error(t.pos, format!("{what}: {msg}"));
            }
            return;
        }
    };
    for path in paths {
        if let Some((msg, hint, step_specific)) = check_path(&path, scope)
            && (step_specific || seen.insert((t.pos, msg.clone())))
        {
            diags.error_hint(t.pos, format!("{what}: {msg}"), hint);
        }
    }
}

/// A problem with one dotted path: message, hint, and whether it depends on the step using it.
fn check_path(path: &str, scope: &Scope<'_>) -> Option<(String, Option<String>, bool)> {
    let parts: Vec<&str> = path.split('.').collect();
    let second = parts.get(1).copied();
    match (parts[0], second) {
        ("params", None) | ("steps", None) | ("run", None) | ("workflow", None) => None,
        ("params", Some(name)) => {
            if scope.params.iter().any(|p| p == name) {
                return None;
            }
            let hint = did_you_mean(name, scope.params.iter().map(String::as_str)).or_else(|| {
                Some(format!(
                    "declare it under `params:` ({name}: {{type: string}})"
                ))
            });
            Some((
                format!("template uses undeclared param {name:?}"),
                hint,
                false,
            ))
        }
        ("steps", Some(id)) => {
            if !scope.ids.contains(&id) {
                let hint = did_you_mean(id, scope.ids.iter().copied());
                return Some((format!("template uses unknown step {id:?}"), hint, false));
            }
            if scope.step.id.as_deref() == Some(id) {
                return Some(("a step cannot use its own outputs".to_string(), None, true));
            }
            if !scope.upstream.is_some_and(|u| u.contains(id)) {
                return Some((
                    format!("template uses outputs of step {id:?}, which is not upstream of it"),
                    Some(format!(
                        "add {id:?} to its `needs` (directly or through another step)"
                    )),
                    true,
                ));
            }
            match parts.get(2) {
                None | Some(&"outputs") => None,
                Some(other) => Some((
                    format!(
                        "steps.{id}.{other}: a step only has `outputs` (steps.{id}.outputs.KEY)"
                    ),
                    None,
                    false,
                )),
            }
        }
        ("run", Some("id")) | ("workflow", Some("name" | "version")) => None,
        ("run", Some(other)) => Some((
            format!("unknown variable run.{other}"),
            Some("run has only `id`".into()),
            false,
        )),
        ("workflow", Some(other)) => Some((
            format!("unknown variable workflow.{other}"),
            did_you_mean(other, ["name", "version"])
                .or_else(|| Some("workflow has `name` and `version`".into())),
            false,
        )),
        (root, _) => {
            let hint = did_you_mean(root, ["params", "steps", "run", "workflow"])
                .or_else(|| Some(ROOTS_HINT.into()));
            Some((
                format!("template uses unknown variable {root:?}"),
                hint,
                false,
            ))
        }
    }
}
