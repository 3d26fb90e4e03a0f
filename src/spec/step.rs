//! Steps and `defaults:`: reading one step mapping into a [`StepSpec`] (defaults applied) while
//! remembering where its id, needs and template strings are, for the graph and template checks.

use std::collections::BTreeMap;

use crate::model::{AgentSelector, RetrySpec, StepKind, StepSpec};

use super::diag::{Diagnostics, Pos};
use super::fields::{self, Fields};
use super::http::parse_http;
use super::node::{Node, Value};
use super::retry::{parse_agent, parse_retry};

pub(crate) const STEP_KEYS: &[&str] = &[
    "id",
    "needs",
    "run",
    "http",
    "noop",
    "approval",
    "timeout",
    "retry",
    "agent",
    "env",
    "workdir",
    "if",
    "when",
    "artifacts",
    "inputs",
    // Fan-out (see `super::matrix`).
    "matrix",
    "foreach",
    "max_parallel",
    "fail_fast",
    "max_instances",
];
pub(crate) const DEFAULT_KEYS: &[&str] = &["timeout", "retry", "agent", "env"];
const KINDS: &[&str] = &["run", "http", "noop", "approval"];

/// A template string found in the file, where it is, and which field holds it.
#[derive(Debug, Clone)]
pub(crate) struct TemplateRef {
    pub text: String,
    pub pos: Pos,
    pub field: String,
}

impl TemplateRef {
    pub(crate) fn new(text: &str, pos: Pos, field: &str) -> Self {
        TemplateRef {
            text: text.to_string(),
            pos,
            field: field.to_string(),
        }
    }
}

/// The `defaults:` block, applied to each step that does not set its own.
#[derive(Debug, Default)]
pub(crate) struct Defaults {
    timeout_ms: Option<u64>,
    retry: Option<RetrySpec>,
    agent: Option<AgentSelector>,
    env: BTreeMap<String, (String, Pos)>,
}

/// Read the `defaults:` mapping.
pub(crate) fn parse_defaults(node: &Node, diags: &mut Diagnostics) -> Defaults {
    let mut d = Defaults::default();
    let Some(f) = Fields::read(node, "defaults", DEFAULT_KEYS, diags) else {
        return d;
    };
    d.timeout_ms = f
        .get("timeout")
        .and_then(|n| fields::duration_ms(n, "defaults timeout", diags));
    d.retry = f
        .get("retry")
        .and_then(|n| parse_retry(n, "defaults retry", diags));
    d.agent = f
        .get("agent")
        .and_then(|n| parse_agent(n, "defaults agent", diags));
    if let Some(n) = f.get("env") {
        d.env = fields::string_map(n, "defaults env", fields::env_key, diags);
    }
    d
}

/// A step as read from the file, with what the later checks need to point at.
#[derive(Debug)]
pub(crate) struct StepDraft {
    /// 1-based position in the `steps` list (names the step when it has no valid id).
    pub number: usize,
    pub pos: Pos,
    pub id: Option<String>,
    pub id_pos: Pos,
    /// Each needed id with the position of its list entry.
    pub needs: Vec<(String, Pos)>,
    /// Each `inputs:` id with the position of its list entry.
    pub inputs: Vec<(String, Pos)>,
    /// Where `artifacts:` is, if the step has it.
    pub artifacts_pos: Option<Pos>,
    pub spec: StepSpec,
    pub templates: Vec<TemplateRef>,
    /// Its `if:`, where it is.
    pub condition: Option<super::condition::IfRef>,
}

impl StepDraft {
    /// `step "build"`, or `step #3` when the id is missing or invalid.
    pub(crate) fn label(&self) -> String {
        match &self.id {
            Some(id) => format!("step {id:?}"),
            None => format!("step #{}", self.number),
        }
    }
}

/// Read one entry of `steps:`. Returns `None` only when the entry is not a mapping.
pub(crate) fn parse_step(
    node: &Node,
    number: usize,
    defaults: &Defaults,
    diags: &mut Diagnostics,
) -> Option<StepDraft> {
    let f = Fields::read(node, &format!("step #{number}"), STEP_KEYS, diags)?;
    let id_node = f.get("id");
    let id = id_node.and_then(|n| fields::identifier(n, &format!("step #{number} id"), diags));
    let mut draft = StepDraft {
        number,
        pos: node.pos,
        id_pos: id_node.map_or(node.pos, |n| n.pos),
        id: id.clone(),
        needs: Vec::new(),
        inputs: Vec::new(),
        artifacts_pos: None,
        spec: StepSpec {
            id: id.unwrap_or_default(),
            needs: Vec::new(),
            kind: StepKind::Noop,
            timeout_ms: defaults.timeout_ms,
            retry: defaults.retry.clone().unwrap_or_default(),
            agent: defaults.agent.clone(),
            env: BTreeMap::new(),
            workdir: None,
            fan_out: None,
            condition: None,
            when: crate::model::When::Success,
            artifacts: Vec::new(),
            inputs: Vec::new(),
        },
        templates: Vec::new(),
        condition: None,
    };
    let what = draft.label();
    if id_node.is_none() {
        diags.error(node.pos, format!("{what}: missing required key `id`"));
    }

    if let Some(n) = f.get("needs") {
        draft.needs = parse_step_ids(n, &what, "needs", diags);
        draft.spec.needs = draft.needs.iter().map(|(id, _)| id.clone()).collect();
    }
    if let Some(kind) = parse_kind(&f, &what, &mut draft.templates, diags) {
        draft.spec.kind = kind;
    }
    if f.has("approval") {
        super::approval::refuse_agent_keys(&f, &what, diags);
    }
    if let Some(n) = f.get("timeout") {
        draft.spec.timeout_ms = fields::duration_ms(n, &format!("{what} timeout"), diags);
    }
    if let Some(n) = f.get("retry") {
        draft.spec.retry = parse_retry(n, &format!("{what} retry"), diags).unwrap_or_default();
    }
    if let Some(n) = f.get("agent") {
        draft.spec.agent = parse_agent(n, &format!("{what} agent"), diags);
    }
    let mut env = defaults.env.clone();
    if let Some(n) = f.get("env") {
        env.extend(fields::string_map(
            n,
            &format!("{what} env"),
            fields::env_key,
            diags,
        ));
    }
    for (k, (v, pos)) in env {
        draft
            .templates
            .push(TemplateRef::new(&v, pos, &format!("env {k}")));
        draft.spec.env.insert(k, v);
    }
    if let Some(n) = f.get("if") {
        draft.condition = super::condition::parse_if(n, &what, diags)
            .map(|text| super::condition::IfRef { text, pos: n.pos });
        draft.spec.condition = draft.condition.as_ref().map(|c| c.text.clone());
    }
    if let Some(n) = f.get("when") {
        draft.spec.when = super::condition::parse_when(n, &what, diags).unwrap_or_default();
    }
    if let Some(n) = f.get("workdir") {
        draft.spec.workdir = fields::string(n, &format!("{what} workdir"), diags);
        if let Some(w) = &draft.spec.workdir {
            draft.templates.push(TemplateRef::new(w, n.pos, "workdir"));
        }
    }
    if let Some(n) = f.get("artifacts") {
        draft.artifacts_pos = Some(n.pos);
        draft.spec.artifacts = super::artifacts::parse_artifacts(n, &what, diags);
    }
    if let Some(n) = f.get("inputs") {
        draft.inputs = parse_step_ids(n, &what, "inputs", diags);
        draft.spec.inputs = draft.inputs.iter().map(|(id, _)| id.clone()).collect();
    }
    draft.spec.fan_out = super::matrix::parse_fan_out(&f, &what, &mut draft.templates, diags);
    Some(draft)
}

/// Read a list of step ids under `key` (`needs`, `inputs`), each with where it is; a repeated
/// id is a problem.
pub(crate) fn parse_step_ids(
    node: &Node,
    what: &str,
    key: &str,
    diags: &mut Diagnostics,
) -> Vec<(String, Pos)> {
    let Value::Seq(items) = &node.value else {
        diags.error(
            node.pos,
            format!(
                "{what} {key}: expected a list of step ids, got {}",
                node.kind()
            ),
        );
        return Vec::new();
    };
    let mut out: Vec<(String, Pos)> = Vec::new();
    for item in items {
        match item.as_str() {
            Some(id) if out.iter().any(|(seen, _)| seen == id) => {
                diags.error(item.pos, format!("{what} {key} {id:?} more than once"))
            }
            Some(id) => out.push((id.to_string(), item.pos)),
            None => diags.error(
                item.pos,
                format!("{what} {key}: expected a step id, got {}", item.kind()),
            ),
        }
    }
    out
}

/// Exactly one of `run`, `http`, `noop`, `approval`.
fn parse_kind(
    f: &Fields<'_>,
    what: &str,
    templates: &mut Vec<TemplateRef>,
    diags: &mut Diagnostics,
) -> Option<StepKind> {
    let present: Vec<&str> = KINDS.iter().copied().filter(|k| f.has(k)).collect();
    match present.as_slice() {
        [] => {
            diags.error_hint(
                f.pos,
                format!("{what}: says nothing to do"),
                Some(
                    "give it one of `run: <shell command>`, `http: {url: ...}`, `noop: true` or \
                     `approval: {approvers: ...}`"
                        .into(),
                ),
            );
            None
        }
        [kind] => {
            let node = f.get(kind)?;
            match *kind {
                "run" => {
                    let command = fields::string(node, &format!("{what} run"), diags)?;
                    if command.trim().is_empty() {
                        diags.error(node.pos, format!("{what} run: the command is empty"));
                        return None;
                    }
                    templates.push(TemplateRef::new(&command, node.pos, "run"));
                    Some(StepKind::Run { command })
                }
                "http" => {
                    parse_http(node, &format!("{what} http"), templates, diags).map(StepKind::Http)
                }
                "approval" => super::approval::parse_approval(
                    node,
                    &format!("{what} approval"),
                    templates,
                    diags,
                )
                .map(StepKind::Approval),
                _ => match &node.value {
                    Value::Bool(true) => Some(StepKind::Noop),
                    Value::Map(m) if m.is_empty() => Some(StepKind::Noop),
                    _ => {
                        diags.error(
                            node.pos,
                            format!(
                                "{what} noop: expected `true` or `{{}}`, got {}",
                                node.kind()
                            ),
                        );
                        None
                    }
                },
            }
        }
        many => {
            let second = many.get(1).and_then(|k| f.key_pos(k)).unwrap_or(f.pos);
            diags.error(
                second,
                format!(
                    "{what}: has {}; a step does exactly one of run, http, noop or approval",
                    many.iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(" and ")
                ),
            );
            None
        }
    }
}
