//! A step's `if:` and `when:`: reading them from the file, checking an `if:` expression at load
//! time (its syntax, pointed at where it breaks, and every variable it reads against the
//! params and the step's upstream steps), and evaluating one against a run
//! ([`eval_condition`], called by the engine when the step's needs have ended).
//!
//! An `if:` is one expression of minijinja's language (as inside `{{ }}`, which may be written
//! around it). It sees `params.NAME`, `steps.ID.status` and `steps.ID.outputs.KEY` of the
//! steps upstream of it, `run.id`, `workflow.name` and `workflow.version`. A missing value is
//! undefined: false, and testable with `is defined`; any other use of it is an error.
//!
//! Fan-out: the `if:` of a `matrix:` step is decided for each instance and may read its
//! `matrix.NAME`; that of a `foreach:` step is decided once, before it expands (so no `item`).
//! `steps.ID.status` of a fanned-out step is that of all its instances together (see
//! `engine::transitions::conditions`); its outputs cannot be read (each instance has its own).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use minijinja::{Environment, UndefinedBehavior};

use super::diag::{Diagnostics, Pos};
use super::node::Node;
use super::step::{StepDraft, TemplateRef};
use super::suggest::did_you_mean;
use super::template::{RunInfo, WorkflowInfo, describe};
use super::template_check::locate;
use super::template_scan;
use crate::model::When;

/// What an `if:` sees of one upstream step.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct StepState {
    /// `pending`, `ready`, `leased`, `running`, `succeeded`, `failed`, `skipped` or `cancelled`.
    pub status: String,
    /// Its outputs if it succeeded, else none.
    pub outputs: BTreeMap<String, String>,
}

/// What an `if:` sees.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ConditionContext {
    pub params: BTreeMap<String, serde_json::Value>,
    /// The step's upstream steps by id.
    pub steps: BTreeMap<String, StepState>,
    pub run: RunInfo,
    pub workflow: WorkflowInfo,
    /// The instance's `matrix.*` values, for an instance of a `matrix:` step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matrix: Option<BTreeMap<String, serde_json::Value>>,
}

const ROOTS_HINT: &str = "an `if:` can use params.NAME, steps.ID.status, steps.ID.outputs.KEY, run.id, workflow.name, workflow.version and, in a matrix step, matrix.NAME";

/// Conditions use the templates' filters and tests; a missing value is undefined (false,
/// `is defined` tests it) rather than an error at once.
fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = super::template::base_environment();
        env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
        env
    })
}

/// The expression without the `{{ }}` it may be written in, and where it starts in `text`.
fn bare(text: &str) -> (&str, usize) {
    let trimmed = text.trim();
    let lead = text.len() - text.trim_start().len();
    match trimmed
        .strip_prefix("{{")
        .and_then(|t| t.strip_suffix("}}"))
    {
        Some(inner) => (inner, lead + 2),
        None => (text, 0),
    }
}

/// The expression with step ids minijinja cannot parse rewritten (see [`template_scan`]).
fn rewritten(expr: &str) -> String {
    let wrapped = template_scan::rewrite(&format!("{{{{ {expr} }}}}"));
    wrapped
        .strip_prefix("{{ ")
        .and_then(|w| w.strip_suffix(" }}"))
        .unwrap_or(expr)
        .to_string()
}

/// The variables a condition reads, as dotted paths (`steps.unit-tests.status`), sorted; or
/// the syntax error and the byte offset in `text` where it is.
pub fn condition_variables(text: &str) -> Result<Vec<String>, (String, usize)> {
    let (expr, start) = bare(text);
    let code = rewritten(expr);
    let env = environment();
    let compiled = env.compile_expression(&code).map_err(|e| {
        // Offsets hold where no step id was rewritten.
        let at = match e.range() {
            Some(r) if code == expr => start + r.start.min(expr.len()),
            _ => start,
        };
        (describe(&e, &code), at)
    })?;
    let mut paths: Vec<String> = compiled
        .undeclared_variables(true)
        .into_iter()
        .filter(|p| {
            let root = p.split('.').next().unwrap_or_default();
            env.globals().all(|(name, _)| name != root)
        })
        .map(|p| template_scan::unmangle_path(&p))
        .collect();
    paths.sort();
    Ok(paths)
}

/// The ids of the steps a condition reads (`steps.ID...`); `None` when it reads `steps` as a
/// whole or cannot be parsed.
pub fn condition_steps(text: &str) -> Option<BTreeSet<String>> {
    let mut ids = BTreeSet::new();
    for path in condition_variables(text).ok()? {
        let mut parts = path.split('.');
        if parts.next() == Some("steps") {
            ids.insert(parts.next()?.to_string());
        }
    }
    Some(ids)
}

/// Evaluate a condition: whether it holds (minijinja's truthiness: false, 0, "", none, empty
/// lists and undefined values are false), or why it cannot be evaluated.
pub fn eval_condition(text: &str, ctx: &ConditionContext) -> Result<bool, String> {
    let (expr, _) = bare(text);
    let code = rewritten(expr);
    let data = super::template::with_step_aliases(ctx).map_err(|e| e.to_string())?;
    let env = environment();
    let compiled = env
        .compile_expression(&code)
        .map_err(|e| describe(&e, &code))?;
    compiled
        .eval(data)
        .map(|v| v.is_true())
        .map_err(|e| describe(&e, &code))
}

/// Read `if:`: a string (a bare `true`/`false`/number is taken as written).
pub(crate) fn parse_if(node: &Node, what: &str, diags: &mut Diagnostics) -> Option<String> {
    match node.scalar_text() {
        Some(text) if text.trim().is_empty() => {
            diags.error(node.pos, format!("{what} if: the expression is empty"));
            None
        }
        Some(text) => Some(text),
        None => {
            diags.error_hint(
                node.pos,
                format!("{what} if: expected an expression, got {}", node.kind()),
                Some("write it as a string, e.g. if: params.env == \"prod\"".into()),
            );
            None
        }
    }
}

/// Read `when:`: `success`, `failure` or `always`.
pub(crate) fn parse_when(node: &Node, what: &str, diags: &mut Diagnostics) -> Option<When> {
    let names = When::ALL.map(When::as_str);
    let text = node.as_str();
    if let Some(w) = When::ALL.into_iter().find(|w| Some(w.as_str()) == text) {
        return Some(w);
    }
    let got = match text {
        Some(t) => format!("{t:?}"),
        None => node.kind().to_string(),
    };
    let hint = text
        .and_then(|t| did_you_mean(t, names))
        .or_else(|| Some(format!("use one of {}", names.join(", "))));
    diags.error_hint(
        node.pos,
        format!("{what} when: expected success, failure or always, got {got}"),
        hint,
    );
    None
}

/// A step's `if:` as read, with where it is.
#[derive(Debug, Clone)]
pub(crate) struct IfRef {
    pub text: String,
    pub pos: Pos,
}

/// Check every step's `if:`: syntax (at the position of the problem), then each variable it
/// reads. `ancestors[i]` holds the upstream step ids of step `i`.
pub(crate) fn check_conditions(
    source: &str,
    steps: &[StepDraft],
    params: &[String],
    ancestors: &[BTreeSet<String>],
    diags: &mut Diagnostics,
) {
    let ids: Vec<&str> = steps.iter().filter_map(|s| s.id.as_deref()).collect();
    let fanned: BTreeSet<&str> = steps
        .iter()
        .filter(|s| s.spec.fan_out.is_some())
        .filter_map(|s| s.id.as_deref())
        .collect();
    for (i, step) in steps.iter().enumerate() {
        let Some(cond) = &step.condition else {
            continue;
        };
        let what = format!("{} if", step.label());
        let paths = match condition_variables(&cond.text) {
            Ok(p) => p,
            Err((msg, at)) => {
                let t = TemplateRef::new(&cond.text, cond.pos, "if");
                diags.error(
                    locate(source, &t, at),
                    format!("{what}: bad expression: {msg}"),
                );
                continue;
            }
        };
        for path in paths {
            let upstream = ancestors.get(i);
            let known = Known {
                params,
                ids: &ids,
                fanned: &fanned,
                upstream,
            };
            if let Some((msg, hint)) = check_path(&path, step, &known) {
                diags.error_hint(cond.pos, format!("{what}: {msg}"), hint);
            }
        }
    }
}

/// What the paths of one step's `if:` are checked against.
struct Known<'a> {
    params: &'a [String],
    /// Every step id of the file.
    ids: &'a [&'a str],
    /// The ids of the steps that fan out (`matrix:` or `foreach:`).
    fanned: &'a BTreeSet<&'a str>,
    /// The steps upstream of this one.
    upstream: Option<&'a BTreeSet<String>>,
}

/// A problem with one dotted path an `if:` reads: message and hint.
fn check_path(path: &str, step: &StepDraft, known: &Known<'_>) -> Option<(String, Option<String>)> {
    let (params, ids, upstream) = (known.params, known.ids, known.upstream);
    let parts: Vec<&str> = path.split('.').collect();
    match (parts[0], parts.get(1).copied()) {
        ("params" | "steps" | "run" | "workflow", None) => None,
        ("params", Some(name)) => (!params.iter().any(|p| p == name)).then(|| {
            let hint = did_you_mean(name, params.iter().map(String::as_str)).or_else(|| {
                Some(format!(
                    "declare it under `params:` ({name}: {{type: string}})"
                ))
            });
            (format!("uses undeclared param {name:?}"), hint)
        }),
        ("steps", Some(id)) => {
            if !ids.contains(&id) {
                return Some((
                    format!("uses unknown step {id:?}"),
                    did_you_mean(id, ids.iter().copied()),
                ));
            }
            if step.id.as_deref() == Some(id) {
                return Some((
                    "a step's `if:` cannot read the step itself (it has not run)".into(),
                    None,
                ));
            }
            if !upstream.is_some_and(|u| u.contains(id)) {
                return Some((
                    format!("uses step {id:?}, which is not upstream of it"),
                    Some(format!(
                        "add {id:?} to its `needs` (directly or through another step)"
                    )),
                ));
            }
            match parts.get(2) {
                Some(&"outputs") if known.fanned.contains(id) => Some((
                    format!(
                        "step {id:?} fans out (matrix or foreach): each instance has its own outputs, none can be read as steps.{id}.outputs"
                    ),
                    Some(format!(
                        "steps.{id}.status is that of all its instances together"
                    )),
                )),
                None | Some(&"outputs" | &"status") => None,
                Some(other) => Some((
                    format!("steps.{id}.{other}: a step has `status` and `outputs`"),
                    did_you_mean(other, ["status", "outputs"]),
                )),
            }
        }
        ("run", Some("id")) | ("workflow", Some("name" | "version")) => None,
        ("matrix", _) => super::matrix::check_var(path, step),
        ("item", _) => Some((
            "`item` cannot be used in `if:`".into(),
            Some(
                if step
                    .spec
                    .fan_out
                    .as_ref()
                    .is_some_and(|f| f.foreach.is_some())
                {
                    "a foreach step's `if:` is decided once, before it expands into its items; \
                 to leave items out, filter the list the upstream step writes"
                        .into()
                } else {
                    "`item` is defined only in a step with `foreach:`".into()
                },
            ),
        )),
        ("secrets", _) => Some((
            "secrets cannot be used in `if:`".into(),
            Some(
                "a condition is evaluated by the control plane, where secrets are never read"
                    .into(),
            ),
        )),
        ("run", Some(other)) => Some((
            format!("unknown variable run.{other}"),
            Some("run has only `id`".into()),
        )),
        ("workflow", Some(other)) => Some((
            format!("unknown variable workflow.{other}"),
            did_you_mean(other, ["name", "version"])
                .or_else(|| Some("workflow has `name` and `version`".into())),
        )),
        (root, _) => Some((
            format!("uses unknown variable {root:?}"),
            did_you_mean(root, ["params", "steps", "run", "workflow"])
                .or_else(|| Some(ROOTS_HINT.into())),
        )),
    }
}

/// The problems with the conditions of a spec that did not come from a file (an API body), for
/// `check_spec`: `edges[i]` are the indexes of step `i`'s needs.
pub(crate) fn check_spec_conditions(
    spec: &crate::model::WorkflowSpec,
    edges: &[Vec<usize>],
) -> Vec<String> {
    let mut problems = Vec::new();
    for (i, s) in spec.steps.iter().enumerate() {
        let Some(text) = &s.condition else {
            continue;
        };
        let mut upstream: BTreeSet<&str> = BTreeSet::new();
        let mut stack: Vec<usize> = edges.get(i).cloned().unwrap_or_default();
        while let Some(j) = stack.pop() {
            if let Some(step) = spec.steps.get(j)
                && upstream.insert(step.id.as_str())
            {
                stack.extend(edges.get(j).into_iter().flatten().copied());
            }
        }
        if let Some(why) = check_condition(text, &upstream) {
            problems.push(format!("step {:?} if: {why}", s.id));
        }
    }
    problems
}

/// The problem with a condition that did not come from a file (an API body), if any: its
/// syntax, or a step it reads that is not upstream of it.
fn check_condition(text: &str, upstream: &BTreeSet<&str>) -> Option<String> {
    let paths = match condition_variables(text) {
        Ok(p) => p,
        Err((msg, _)) => return Some(format!("bad expression: {msg}")),
    };
    paths.iter().find_map(|p| {
        let mut parts = p.split('.');
        match (parts.next(), parts.next()) {
            (Some("steps"), Some(id)) if !upstream.contains(id) => {
                Some(format!("uses step {id:?}, which is not upstream of it"))
            }
            (Some("secrets"), _) => Some("secrets cannot be used in `if:`".into()),
            _ => None,
        }
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn ctx() -> ConditionContext {
        let mut c = ConditionContext::default();
        c.params.insert("env".into(), "prod".into());
        c.params.insert("n".into(), 3.into());
        c.steps.insert(
            "unit-tests".into(),
            StepState {
                status: "failed".into(),
                outputs: BTreeMap::new(),
            },
        );
        c.steps.insert(
            "build".into(),
            StepState {
                status: "succeeded".into(),
                outputs: [("version".to_string(), "1.2".to_string())].into(),
            },
        );
        c
    }

    #[test]
    fn conditions_evaluate_over_params_outputs_and_states() {
        let c = ctx();
        for (expr, want) in [
            ("params.env == \"prod\"", true),
            ("{{ params.env == 'staging' }}", false),
            (
                "params.n > 2 and steps.build.outputs.version == '1.2'",
                true,
            ),
            ("steps.unit-tests.status == 'failed'", true),
            ("steps.build.outputs.missing is defined", false),
            ("steps.build.outputs.missing", false),
            ("steps.build.outputs.version is defined", true),
            ("'1' in steps.build.outputs.version", true),
            ("not (steps.build.status in ['failed', 'skipped'])", true),
            ("true", true),
            ("false", false),
        ] {
            assert_eq!(eval_condition(expr, &c), Ok(want), "{expr}");
        }
        assert!(eval_condition("params.env + 1", &c).is_err());
    }

    #[test]
    fn variables_and_syntax_errors_are_found() {
        assert_eq!(
            condition_variables("steps.unit-tests.status == 'x' or params.a").unwrap(),
            ["params.a", "steps.unit-tests.status"]
        );
        let (msg, at) = condition_variables("params.a == == 1").unwrap_err();
        assert!(msg.contains("syntax error"), "{msg}");
        assert_eq!(at, 12);
        assert_eq!(
            condition_steps("steps.a.status == 'x' and steps.b.outputs.k").unwrap(),
            ["a".to_string(), "b".to_string()].into()
        );
    }
}
