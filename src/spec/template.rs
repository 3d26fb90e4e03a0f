//! Templates: the [`TemplateContext`] they see, and rendering with `minijinja` in strict mode —
//! an undefined variable is an error, never an empty string.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use minijinja::{Environment, UndefinedBehavior};

use crate::model::{HttpSpec, StepKind, StepSpec};
use crate::{Error, Result};

/// What templates can see: `params.*`, `steps.<id>.outputs.*`, `run.id`, `workflow.name`.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct TemplateContext {
    pub params: BTreeMap<String, serde_json::Value>,
    /// step id → its outputs.
    pub steps: BTreeMap<String, StepOutputs>,
    pub run: RunInfo,
    pub workflow: WorkflowInfo,
}

/// A finished upstream step's outputs.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct StepOutputs {
    pub outputs: BTreeMap<String, String>,
}

/// `run.*` in templates.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RunInfo {
    pub id: String,
}

/// `workflow.*` in templates.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct WorkflowInfo {
    pub name: String,
    pub version: u32,
}

/// The one template environment: strict undefined, trailing newlines kept, no auto-escaping.
pub(crate) fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_keep_trailing_newline(true);
        env
    })
}

/// Whether `s` holds any template syntax at all.
pub(crate) fn is_template(s: &str) -> bool {
    s.contains("{{") || s.contains("{%") || s.contains("{#")
}

/// A minijinja error as a short message: kind, detail and (for multi-line templates) the line.
pub(crate) fn describe(e: &minijinja::Error, template: &str) -> String {
    let mut out = e.kind().to_string();
    if let Some(d) = e.detail() {
        out.push_str(": ");
        out.push_str(d);
    }
    if template.lines().count() > 1
        && let Some(line) = e.line()
    {
        out.push_str(&format!(" (line {line} of the template)"));
    }
    out
}

/// The variables a template reads, as dotted paths (`params.version`, `steps.build.outputs.x`),
/// sorted, without names the environment itself provides (`range`, `dict`, ...).
pub(crate) fn variables(template: &str) -> std::result::Result<Vec<String>, minijinja::Error> {
    let env = environment();
    let tmpl = env.template_from_str(template)?;
    let mut paths: Vec<String> = tmpl
        .undeclared_variables(true)
        .into_iter()
        .filter(|p| {
            let root = p.split('.').next().unwrap_or_default();
            env.globals().all(|(name, _)| name != root)
        })
        .collect();
    paths.sort();
    Ok(paths)
}

/// Render one template string. Plain strings without `{{` come back unchanged.
pub fn render(template: &str, ctx: &TemplateContext) -> Result<String> {
    if !is_template(template) {
        return Ok(template.to_string());
    }
    let bad = |detail: String| Error::invalid(format!("template {template:?}: {detail}"));
    let paths = variables(template).map_err(|e| bad(describe(&e, template)))?;
    let data = serde_json::to_value(ctx).map_err(|e| Error::Internal(e.to_string()))?;
    for path in &paths {
        if !defined(&data, path) {
            return Err(bad(format!("undefined variable {path:?}")));
        }
    }
    environment()
        .render_str(template, ctx)
        .map_err(|e| bad(describe(&e, template)))
}

/// Whether every segment of `path` exists in `data` (as far as `data` is made of objects).
fn defined(data: &serde_json::Value, path: &str) -> bool {
    let mut cur = data;
    for seg in path.split('.') {
        match cur {
            serde_json::Value::Object(map) => match map.get(seg) {
                Some(next) => cur = next,
                None => return false,
            },
            _ => return true,
        }
    }
    true
}

/// Render every template in a step: the run command; the http url, header values, body and each
/// string leaf of `json`; env values; the workdir. All failures are reported together.
pub fn render_step(
    step: &StepSpec,
    ctx: &TemplateContext,
) -> Result<(StepKind, BTreeMap<String, String>, Option<String>)> {
    let mut problems = Vec::new();
    let mut one = |field: &str, text: &str| match render(text, ctx) {
        Ok(s) => s,
        Err(e) => {
            problems.push(format!("step {:?} {field}: {e}", step.id));
            String::new()
        }
    };
    let kind = match &step.kind {
        StepKind::Run { command } => StepKind::Run {
            command: one("run", command),
        },
        StepKind::Http(h) => StepKind::Http(HttpSpec {
            method: h.method.clone(),
            url: one("http url", &h.url),
            headers: h
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), one(&format!("http header {k}"), v)))
                .collect(),
            json: h.json.as_ref().map(|j| render_json(j, &mut one)),
            body: h.body.as_ref().map(|b| one("http body", b)),
            expect_status: h.expect_status.clone(),
        }),
        StepKind::Noop => StepKind::Noop,
    };
    let env = step
        .env
        .iter()
        .map(|(k, v)| (k.clone(), one(&format!("env {k}"), v)))
        .collect();
    let workdir = step.workdir.as_ref().map(|w| one("workdir", w));
    if problems.is_empty() {
        Ok((kind, env, workdir))
    } else {
        Err(Error::invalid(problems.join("\n")))
    }
}

fn render_json(
    value: &serde_json::Value,
    one: &mut impl FnMut(&str, &str) -> String,
) -> serde_json::Value {
    match value {
        serde_json::Value::String(s) => one("http json", s).into(),
        serde_json::Value::Array(items) => items.iter().map(|i| render_json(i, one)).collect(),
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(k, v)| (k.clone(), render_json(v, one)))
            .collect::<serde_json::Map<_, _>>()
            .into(),
        other => other.clone(),
    }
}
