//! `concurrency: { key, limit, on_conflict }`: read and checked. The key is a template rendered
//! when a run is started, so it may read only what exists then: `params.NAME` (declared) and
//! `workflow.name` / `workflow.version`. [`render_key`] renders it for a new run.

use std::collections::BTreeMap;

use super::diag::Diagnostics;
use super::fields::{self, Fields};
use super::node::Node;
use super::suggest::did_you_mean;
use super::template::{
    RunInfo, TemplateContext, WorkflowInfo, describe, is_template, render, variables,
};
use crate::Result;
use crate::model::{ConcurrencySpec, OnConflict};

pub(crate) const KEYS: &[&str] = &["key", "limit", "on_conflict"];

/// The most runs a key may allow at once (a sanity bound, not a tuning knob).
const MAX_LIMIT: u32 = 10_000;

/// Read `concurrency:`; `params` are the declared parameter names.
pub(crate) fn parse_concurrency(
    node: &Node,
    params: &[String],
    diags: &mut Diagnostics,
) -> Option<ConcurrencySpec> {
    let f = Fields::read(node, "concurrency", KEYS, diags)?;
    let key = f
        .require("key", "concurrency", diags)
        .and_then(|n| key(n, params, diags));
    let limit = match f.get("limit") {
        None => Some(1),
        Some(n) => match fields::count(n, "concurrency.limit", MAX_LIMIT, diags) {
            Some(0) => {
                diags.error_hint(
                    n.pos,
                    "concurrency.limit: must be at least 1",
                    Some("1 lets one run of a key go at a time".into()),
                );
                None
            }
            other => other,
        },
    };
    let on_conflict = match f.get("on_conflict") {
        None => Some(OnConflict::default()),
        Some(n) => on_conflict(n, diags),
    };
    Some(ConcurrencySpec {
        key: key?,
        limit: limit?,
        on_conflict: on_conflict?,
    })
}

fn on_conflict(n: &Node, diags: &mut Diagnostics) -> Option<OnConflict> {
    let text = fields::string(n, "concurrency.on_conflict", diags)?;
    let names = OnConflict::ALL.map(OnConflict::as_str);
    if let Some(found) = OnConflict::ALL.into_iter().find(|o| o.as_str() == text) {
        return Some(found);
    }
    let hint = did_you_mean(&text, names)
        .or_else(|| Some(format!("on_conflict is one of: {}", names.join(", "))));
    diags.error_hint(
        n.pos,
        format!("concurrency.on_conflict: unknown value {text:?}"),
        hint,
    );
    None
}

/// The key: a non-empty string whose template reads only params and the workflow.
fn key(n: &Node, params: &[String], diags: &mut Diagnostics) -> Option<String> {
    let text = fields::string(n, "concurrency.key", diags)?;
    if text.trim().is_empty() {
        diags.error(n.pos, "concurrency.key: must not be empty");
        return None;
    }
    if !is_template(&text) {
        return Some(text);
    }
    let paths = match variables(&text) {
        Ok(p) => p,
        Err(e) => {
            diags.error(
                n.pos,
                format!("concurrency.key: bad template: {}", describe(&e, &text)),
            );
            return None;
        }
    };
    let mut ok = true;
    for path in paths {
        if let Some((msg, hint)) = check_path(&path, params) {
            diags.error_hint(n.pos, format!("concurrency.key: {msg}"), hint);
            ok = false;
        }
    }
    ok.then_some(text)
}

/// What is wrong with one variable of the key, if anything.
fn check_path(path: &str, params: &[String]) -> Option<(String, Option<String>)> {
    let parts: Vec<&str> = path.split('.').collect();
    match (parts[0], parts.get(1).copied()) {
        ("params", Some(name)) if params.iter().any(|p| p == name) => None,
        ("params", Some(name)) => Some((
            format!("template uses undeclared param {name:?}"),
            did_you_mean(name, params.iter().map(String::as_str)).or_else(|| {
                Some(format!(
                    "declare it under `params:` ({name}: {{type: string}})"
                ))
            }),
        )),
        ("workflow", Some("name" | "version")) => None,
        ("workflow", Some(other)) => Some((
            format!("unknown variable workflow.{other}"),
            did_you_mean(other, ["name", "version"])
                .or_else(|| Some("workflow has `name` and `version`".into())),
        )),
        _ => Some((
            format!("the key cannot use {path:?}"),
            Some(
                "the key is rendered when the run starts: it can use params.NAME, workflow.name \
                 and workflow.version"
                    .into(),
            ),
        )),
    }
}

/// The problems of a `concurrency:` that did not come from a file (see `check_spec`).
pub(crate) fn check(spec: &ConcurrencySpec, params: &[String]) -> Vec<String> {
    let mut problems = Vec::new();
    if spec.limit == 0 || spec.limit > MAX_LIMIT {
        problems.push(format!("concurrency.limit must be 1 to {MAX_LIMIT}"));
    }
    if spec.key.trim().is_empty() {
        problems.push("concurrency.key must not be empty".into());
    } else if is_template(&spec.key) {
        match variables(&spec.key) {
            Ok(paths) => problems.extend(
                paths
                    .iter()
                    .filter_map(|p| check_path(p, params))
                    .map(|(msg, _)| format!("concurrency.key: {msg}")),
            ),
            Err(e) => problems.push(format!(
                "concurrency.key: bad template: {}",
                describe(&e, &spec.key)
            )),
        }
    }
    problems
}

/// The key of a run of `workflow` version `version` with `params` (typed, defaults applied).
pub fn render_key(
    spec: &ConcurrencySpec,
    workflow: &str,
    version: u32,
    params: &BTreeMap<String, serde_json::Value>,
) -> Result<String> {
    let ctx = TemplateContext {
        params: params.clone(),
        steps: BTreeMap::new(),
        run: RunInfo { id: String::new() },
        workflow: WorkflowInfo {
            name: workflow.to_string(),
            version,
        },
        instance: Default::default(),
    };
    render(&spec.key, &ctx)
}
