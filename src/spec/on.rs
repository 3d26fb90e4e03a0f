//! The `on:` key of a workflow file: start a run of this workflow when a run of another ends.
//!
//! ```yaml
//! on:
//!   - workflow: build              # the upstream workflow (required)
//!     status: succeeded            # one end state or a list; default succeeded
//!     params: { version: outputs.version }   # param: path into the upstream run
//! ```
//!
//! A single mapping is accepted for one entry. Mapped params must be declared by this workflow;
//! the paths are read against `{ run, steps, outputs }` of the upstream run (see
//! [`crate::trigger::params`]).

use std::collections::BTreeMap;

use super::diag::{Diagnostics, Pos};
use super::fields::{self, Fields};
use super::node::{Node, Value};
use crate::model::{RunAfter, RunStatus};

pub(crate) const KEYS: &[&str] = &["workflow", "status", "params"];

/// The end states `status:` may name.
const ENDS: [RunStatus; 4] = [
    RunStatus::Succeeded,
    RunStatus::Failed,
    RunStatus::Cancelled,
    RunStatus::TimedOut,
];

/// Parse `on:`; `declared` are the workflow's param names, `this` its name.
pub(crate) fn parse_on(
    node: &Node,
    this: Option<&str>,
    declared: &[String],
    diags: &mut Diagnostics,
) -> Vec<RunAfter> {
    let items: Vec<&Node> = match &node.value {
        Value::Seq(items) => items.iter().collect(),
        Value::Map(_) => vec![node],
        _ => {
            diags.error_hint(
                node.pos,
                format!(
                    "on: expected a list of upstream workflows, got {}",
                    node.kind()
                ),
                Some("write `on: [{ workflow: build, status: succeeded }]`".into()),
            );
            return Vec::new();
        }
    };
    items
        .into_iter()
        .filter_map(|n| parse_entry(n, this, declared, diags))
        .collect()
}

fn parse_entry(
    node: &Node,
    this: Option<&str>,
    declared: &[String],
    diags: &mut Diagnostics,
) -> Option<RunAfter> {
    let f = Fields::read(node, "on", KEYS, diags)?;
    let workflow = f
        .require("workflow", "on", diags)
        .and_then(|n| fields::identifier(n, "on.workflow", diags));
    if let (Some(w), Some(this), Some(n)) = (&workflow, this, f.get("workflow"))
        && w == this
    {
        diags.error(
            n.pos,
            format!("on.workflow: {w:?} would start itself after every run"),
        );
    }
    let status = f
        .get("status")
        .map(|n| statuses(n, diags))
        .unwrap_or_else(|| vec![RunStatus::Succeeded]);
    let params = f
        .get("params")
        .map(|n| mapped_params(n, declared, diags))
        .unwrap_or_default();
    Some(RunAfter {
        workflow: workflow?,
        status,
        params,
    })
}

fn statuses(node: &Node, diags: &mut Diagnostics) -> Vec<RunStatus> {
    let one = |n: &Node, diags: &mut Diagnostics| -> Option<RunStatus> {
        let text = fields::string(n, "on.status", diags)?;
        let found = ENDS.into_iter().find(|s| s.as_str() == text);
        if found.is_none() {
            let names: Vec<&str> = ENDS.iter().map(|s| s.as_str()).collect();
            let hint = super::suggest::did_you_mean(&text, names.iter().copied())
                .unwrap_or_else(|| format!("one of {}", names.join(", ")));
            diags.error_hint(
                n.pos,
                format!("on.status: {text:?} is not an end state"),
                Some(hint),
            );
        }
        found
    };
    let mut out = Vec::new();
    match &node.value {
        Value::Seq(items) if items.is_empty() => {
            diags.error(node.pos, "on.status: the list is empty")
        }
        Value::Seq(items) => out.extend(items.iter().filter_map(|n| one(n, diags))),
        _ => out.extend(one(node, diags)),
    }
    out.dedup();
    out
}

fn mapped_params(
    node: &Node,
    declared: &[String],
    diags: &mut Diagnostics,
) -> BTreeMap<String, String> {
    let map: BTreeMap<String, (String, Pos)> =
        fields::string_map(node, "on.params", fields::any_key, diags);
    let mut out = BTreeMap::new();
    for (param, (path, pos)) in map {
        if declared.contains(&param) {
            out.insert(param, path);
        } else {
            let hint = super::suggest::did_you_mean(&param, declared.iter().map(String::as_str))
                .or_else(|| Some("declare it under `params:`".into()));
            diags.error_hint(
                pos,
                format!("on.params: {param:?} is not a param of this workflow"),
                hint,
            );
        }
    }
    out
}
