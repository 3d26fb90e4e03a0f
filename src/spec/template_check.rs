//! Checking templates at load time: syntax, and that every variable a template reads exists for
//! the step using it — declared params, upstream steps' outputs, `run.id`, `workflow.*`. In
//! `run:`, also that every value stands where it can be quoted for the shell (see
//! [`super::shell`]); `| raw` gets a warning wherever it is used.

use std::collections::BTreeSet;

use super::diag::{Diagnostics, Pos};
use super::exports::{output_var, param_var};
use super::step::{StepDraft, TemplateRef};
use super::suggest::did_you_mean;
use super::template::{REMOVED_FILTERS, describe, is_template, variables};
use super::{shell, template_scan};

const ROOTS_HINT: &str = "templates can use params.NAME, steps.ID.outputs.KEY, secrets.NAME, run.id, workflow.name and workflow.version (and matrix.NAME or item in a fanned-out step)";

/// Check the templates of every step; `ancestors[i]` holds the upstream step ids of step `i`.
/// `source` is the file's text, to point inside templates.
pub(crate) fn check_templates(
    source: &str,
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
            check_shell(source, t, &scope, &mut seen, diags);
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

/// `| raw` uses (a warning each) and, in `run:`, values standing where no quoting works.
fn check_shell(
    source: &str,
    t: &TemplateRef,
    scope: &Scope<'_>,
    seen: &mut BTreeSet<(Pos, String)>,
    diags: &mut Diagnostics,
) {
    if !is_template(&t.text) {
        return;
    }
    let what = format!("{} {}", scope.step.label(), t.field);
    let run = t.field == "run";
    if shell::has_marker_chars(&t.text) {
        diags.error(
            t.pos,
            format!("{what}: contains the reserved characters U+E000/U+E001"),
        );
        return;
    }
    for name in REMOVED_FILTERS {
        for at in template_scan::filter_uses(&t.text, name) {
            diags.error_hint(
                locate(source, t, at),
                format!("{what}: there is no `| {name}` filter in workflow templates"),
                Some(
                    "values in `run:` are quoted for the shell; `| raw` inserts one unquoted"
                        .into(),
                ),
            );
        }
    }
    for at in template_scan::raw_uses(&t.text) {
        let pos = locate(source, t, at);
        let (msg, hint) = if run {
            (
                "`| raw` puts the value into the command unquoted: shell syntax in it runs as commands".to_string(),
                Some(format!("use {} instead (the value as an environment variable, quoted: \"$NAME\")", env_suggestion(&t.text, at))),
            )
        } else {
            ("`| raw` has no effect outside `run:`".to_string(), None)
        };
        if seen.insert((pos, msg.clone())) {
            diags.warn(pos, format!("{what}: {msg}"), hint);
        }
    }
    if !run {
        return;
    }
    let (skeleton, offsets) = template_scan::skeleton(&t.text);
    for (spot, at) in shell::spots(&skeleton).into_iter().zip(offsets) {
        if let Err(why) = spot {
            diags.error(locate(source, t, at), format!("{what}: {why}"));
        }
    }
}

/// The environment variable holding the value that `| raw` at `at` is applied to.
fn env_suggestion(text: &str, at: usize) -> String {
    let generic = "the IMX_PARAM_<NAME> / IMX_OUT_<STEP>_<KEY> variables".to_string();
    let start = text[..at].rfind("{{").map_or(0, |s| s + 2);
    let Some(bar) = text[..at].rfind('|') else {
        return generic;
    };
    let Some(expr) = text.get(start..bar) else {
        return generic;
    };
    let paths = variables(&format!("{{{{ {expr} }}}}")).unwrap_or_default();
    match paths.as_slice() {
        [one] => {
            let parts: Vec<&str> = one.split('.').collect();
            match parts.as_slice() {
                ["params", name] => format!("\"${}\"", param_var(name)),
                ["steps", id, "outputs", key] => format!("\"${}\"", output_var(id, key)),
                _ => generic,
            }
        }
        _ => generic,
    }
}

/// Where byte `at` of template `t` is in the file: the text from there to the end of its line
/// is looked for in the source after the template's start (the n-th time for the n-th copy in
/// the template). Escapes in quoted scalars can hide it; then the template's own position.
pub(crate) fn locate(source: &str, t: &TemplateRef, at: usize) -> Pos {
    let text = &t.text;
    let end = text[at..].find('\n').map_or(text.len(), |e| at + e);
    let snippet = &text[at..end];
    if snippet.is_empty() {
        return t.pos;
    }
    let nth = text[..at].matches(snippet).count();
    let Some(from) = byte_offset(source, t.pos) else {
        return t.pos;
    };
    let Some((found, _)) = source[from..].match_indices(snippet).nth(nth) else {
        return t.pos;
    };
    let abs = from + found;
    let line_start = source[..abs].rfind('\n').map_or(0, |n| n + 1);
    Pos::new(
        source[..abs].matches('\n').count() + 1,
        source[line_start..abs].chars().count() + 1,
    )
}

fn byte_offset(source: &str, pos: Pos) -> Option<usize> {
    let mut offset = 0;
    for (i, line) in source.split('\n').enumerate() {
        if i + 1 == pos.line {
            let col = line
                .char_indices()
                .nth(pos.col.saturating_sub(1))
                .map_or(line.len(), |(b, _)| b);
            return Some(offset + col);
        }
        offset += line.len() + 1;
    }
    None
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
        // A secret may be set after the workflow is applied: only the reference's form is
        // checked here; a step whose secret is not set when it starts fails saying so.
        ("secrets", None) => Some((
            "`secrets` is read one name at a time".to_string(),
            Some("write secrets.NAME".into()),
            false,
        )),
        ("secrets", Some(name)) => {
            if !crate::model::valid_secret_name(name) {
                return Some((
                    format!("{name:?} cannot name a secret"),
                    Some("a secret's name is letters, digits and _".into()),
                    false,
                ));
            }
            parts.get(2).map(|more| {
                (
                    format!("secrets.{name}.{more}: a secret is a string, it has no fields"),
                    None,
                    false,
                )
            })
        }
        ("matrix" | "item", _) => {
            super::matrix::check_var(path, scope.step).map(|(msg, hint)| (msg, hint, true))
        }
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
            let hint = did_you_mean(root, ["params", "steps", "secrets", "run", "workflow"])
                .or_else(|| Some(ROOTS_HINT.into()));
            Some((
                format!("template uses unknown variable {root:?}"),
                hint,
                false,
            ))
        }
    }
}
