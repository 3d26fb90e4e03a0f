//! The top level of a workflow file: `name`, `description`, `params`, `defaults`, `timeout`,
//! `fail_fast`, `concurrency`, `steps`, `on`, `schedules`, `notify` — read, then checked as a whole (graph
//! and templates).

use crate::model::WorkflowSpec;
use crate::{Error, Result};

use super::concurrency::parse_concurrency;
use super::diag::Diagnostics;
use super::fields::{self, Fields};
use super::graph::check_graph;
use super::node::{Value, parse_document};
use super::on::parse_on;
use super::params::parse_params;
use super::step::{Defaults, parse_defaults, parse_step};
use super::template_check::check_templates;

pub(crate) const TOP_KEYS: &[&str] = &[
    "name",
    "description",
    "params",
    "defaults",
    "timeout",
    "fail_fast",
    "concurrency",
    "steps",
    "schedules",
    "on",
    "notify",
];

/// Parse and validate one workflow document. `file` names it in error messages.
pub fn parse_str(source: &str, file: &str) -> Result<WorkflowSpec> {
    parse_str_with_warnings(source, file).map(|(spec, _)| spec)
}

/// [`parse_str`], with the warnings about a valid file (`file:line:col: message`), e.g. where
/// `| raw` is used.
pub fn parse_str_with_warnings(source: &str, file: &str) -> Result<(WorkflowSpec, Vec<String>)> {
    let mut diags = Diagnostics::new(file);
    let spec = parse_into(source, &mut diags);
    let warnings = diags.warning_lines();
    let spec = diags.finish(spec)?.ok_or_else(|| {
        // Every path that yields no spec records a problem first; this guards that promise.
        Error::Internal(format!("{file}: workflow rejected without a reason"))
    })?;
    Ok((spec, warnings))
}

pub(crate) fn parse_into(source: &str, diags: &mut Diagnostics) -> Option<WorkflowSpec> {
    let root = parse_document(source, diags)?;
    if !matches!(root.value, Value::Map(_)) {
        diags.error_hint(
            root.pos,
            format!("a workflow file must be a mapping, got {}", root.kind()),
            Some("start with `name: my-workflow` and a `steps:` list".into()),
        );
        return None;
    }
    let f = Fields::read(&root, "workflow", TOP_KEYS, diags)?;

    let name = f
        .require("name", "workflow", diags)
        .and_then(|n| fields::identifier(n, "workflow name", diags));
    let description = f
        .get("description")
        .and_then(|n| fields::string(n, "description", diags));
    let params = f
        .get("params")
        .map(|n| parse_params(n, diags))
        .unwrap_or_default();
    let defaults = f
        .get("defaults")
        .map(|n| parse_defaults(n, diags))
        .unwrap_or_else(Defaults::default);
    let timeout_ms = f
        .get("timeout")
        .and_then(|n| fields::duration_ms(n, "timeout", diags));
    let fail_fast = f
        .get("fail_fast")
        .and_then(|n| fields::boolean(n, "fail_fast", diags))
        .unwrap_or(false);

    let param_names: Vec<String> = params.iter().map(|p| p.name.clone()).collect();
    let concurrency = f
        .get("concurrency")
        .and_then(|n| parse_concurrency(n, &param_names, diags));
    let schedules = match (f.get("schedules"), &name) {
        (Some(n), Some(wf)) => super::schedules::parse_schedules(n, wf, diags),
        _ => Vec::new(),
    };

    let mut drafts = Vec::new();
    if let Some(n) = f.require("steps", "workflow", diags) {
        match &n.value {
            Value::Seq(items) if items.is_empty() => {
                diags.error(
                    n.pos,
                    "steps: the list is empty; a workflow needs at least one step",
                );
            }
            Value::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    if let Some(d) = parse_step(item, i + 1, &defaults, diags) {
                        drafts.push(d);
                    }
                }
            }
            _ => diags.error(
                n.pos,
                format!("steps: expected a list of steps, got {}", n.kind()),
            ),
        }
    }

    let ancestors = check_graph(&drafts, diags);
    super::artifacts::check_inputs(&drafts, &ancestors, diags);
    let on = f
        .get("on")
        .map(|n| parse_on(n, name.as_deref(), &param_names, diags))
        .unwrap_or_default();
    let notify = f
        .get("notify")
        .map(|n| super::notify::parse_notify(n, diags))
        .unwrap_or_default();
    check_templates(source, &drafts, &param_names, &ancestors, diags);
    super::matrix::check_steps(&drafts, diags);
    super::condition::check_conditions(source, &drafts, &param_names, &ancestors, diags);

    Some(WorkflowSpec {
        name: name?,
        description,
        params,
        timeout_ms,
        fail_fast,
        concurrency,
        steps: drafts.into_iter().map(|d| d.spec).collect(),
        schedules,
        on,
        notify,
        source: Some(source.to_string()),
    })
}
