//! `retry:` policies (`max`, `backoff`, `initial`, `max_delay`, `jitter`) and `agent:` selectors.

use crate::model::{AgentSelector, Backoff, RetrySpec};

use super::diag::Diagnostics;
use super::fields::{self, Fields};
use super::node::{Node, Value};
use super::suggest::did_you_mean;

pub(crate) const RETRY_KEYS: &[&str] = &["max", "backoff", "initial", "max_delay", "jitter"];
/// The keys of an `agent:` selector.
pub(crate) const AGENT_KEYS: &[&str] = &["labels"];
const BACKOFFS: &[&str] = &["fixed", "exponential"];
/// More retries than this is a mistake rather than a policy.
const MAX_RETRIES: u32 = 100;

/// Read a `retry:` mapping; `what` says whose (e.g. `step "build" retry`).
pub(crate) fn parse_retry(node: &Node, what: &str, diags: &mut Diagnostics) -> Option<RetrySpec> {
    let f = Fields::read(node, what, RETRY_KEYS, diags)?;
    let mut retry = RetrySpec::default();
    let mut ok = true;
    if let Some(n) = f.get("max") {
        match fields::count(n, &format!("{what} max"), MAX_RETRIES, diags) {
            Some(max) => retry.max = max,
            None => ok = false,
        }
    }
    if let Some(n) = f.get("backoff") {
        match parse_backoff(n, what, diags) {
            Some(b) => retry.backoff = b,
            None => ok = false,
        }
    }
    if let Some(n) = f.get("initial") {
        match fields::duration_ms(n, &format!("{what} initial"), diags) {
            Some(ms) => retry.initial_ms = ms,
            None => ok = false,
        }
    }
    if let Some(n) = f.get("max_delay") {
        match fields::duration_ms(n, &format!("{what} max_delay"), diags) {
            Some(ms) => retry.max_delay_ms = ms,
            None => ok = false,
        }
    }
    if let Some(n) = f.get("jitter") {
        let j = match n.value {
            Value::Float(x) => Some(x),
            Value::Int(i) => Some(i as f64),
            _ => None,
        };
        match j {
            Some(x) if (0.0..=1.0).contains(&x) => retry.jitter = x,
            _ => {
                diags.error(
                    n.pos,
                    format!(
                        "{what} jitter: expected a fraction from 0.0 to 1.0, got {}",
                        n.scalar_text().unwrap_or_else(|| n.kind().to_string())
                    ),
                );
                ok = false;
            }
        }
    }
    if ok && retry.max_delay_ms < retry.initial_ms {
        diags.error(
            f.key_pos("max_delay").unwrap_or(f.pos),
            format!("{what}: max_delay is shorter than initial"),
        );
        ok = false;
    }
    ok.then_some(retry)
}

fn parse_backoff(node: &Node, what: &str, diags: &mut Diagnostics) -> Option<Backoff> {
    let text = fields::string(node, &format!("{what} backoff"), diags)?;
    match text.as_str() {
        "fixed" => Some(Backoff::Fixed),
        "exponential" => Some(Backoff::Exponential),
        other => {
            let hint = did_you_mean(other, BACKOFFS.iter().copied())
                .or_else(|| Some("use fixed or exponential".into()));
            diags.error_hint(
                node.pos,
                format!("{what} backoff: unknown backoff {other:?}"),
                hint,
            );
            None
        }
    }
}

/// Read an `agent:` selector (`{labels: {k: v}}`).
pub(crate) fn parse_agent(
    node: &Node,
    what: &str,
    diags: &mut Diagnostics,
) -> Option<AgentSelector> {
    let f = Fields::read(node, what, AGENT_KEYS, diags)?;
    let labels = f
        .get("labels")
        .map(|l| fields::string_map(l, &format!("{what} labels"), fields::any_key, diags))
        .unwrap_or_default();
    Some(AgentSelector {
        labels: labels.into_iter().map(|(k, (v, _))| (k, v)).collect(),
    })
}
