//! The `notify:` key of a workflow file (issue 12): notification rules for this workflow's
//! runs, with the options of `imx notify rule add`, every problem reported at its
//! file:line:col.
//!
//! ```yaml
//! notify:
//!   - on: failed                   # failed | timed_out | cancelled | succeeded | recovered |
//!     channel: ops                 #   missed_schedule | duration_over | stuck | approval
//!     after: 3                     # only after this many runs in a row (default 1)
//!     cooldown: 1h                 # then no message from this rule for this long
//!   - on: duration_over
//!     for: 30m                     # duration_over and stuck: the threshold (required)
//!     channel: ops
//!     group: 5m                    # batch what happens within this window into one message
//! ```
//!
//! A single mapping is accepted for one rule. The channel must exist when the file is applied
//! (checked by the control plane, which names the file position: [`channel_pos`]).

use super::diag::{Diagnostics, Pos};
use super::fields::{self, Fields};
use super::node::{Node, Value, parse_document};
use crate::notify::{NewRule, On};

pub(crate) const KEYS: &[&str] = &["on", "channel", "for", "after", "cooldown", "group"];

/// Read `notify:`.
pub(crate) fn parse_notify(node: &Node, diags: &mut Diagnostics) -> Vec<NewRule> {
    let items: Vec<&Node> = match &node.value {
        Value::Seq(items) => items.iter().collect(),
        Value::Map(_) => vec![node],
        _ => {
            diags.error_hint(
                node.pos,
                format!("notify: expected a list of rules, got {}", node.kind()),
                Some("write `notify: [{ on: failed, channel: ops }]`".into()),
            );
            return Vec::new();
        }
    };
    let mut out: Vec<NewRule> = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let Some(rule) = parse_one(item, i + 1, diags) else {
            continue;
        };
        if let Some(j) = out.iter().position(|r| *r == rule) {
            diags.error(
                item.pos,
                format!("notify[{}]: the same rule as notify[{}]", i + 1, j + 1),
            );
            continue;
        }
        out.push(rule);
    }
    out
}

fn parse_one(node: &Node, n: usize, diags: &mut Diagnostics) -> Option<NewRule> {
    let what = format!("notify[{n}]");
    let f = Fields::read(node, &what, KEYS, diags)?;
    let on = f
        .require("on", &what, diags)
        .and_then(|n| event(n, &what, diags));
    let channel = f
        .require("channel", &what, diags)
        .and_then(|n| channel(n, &what, diags));
    let mut ok = true;
    let threshold_ms = match f.get("for") {
        Some(d) => {
            let ms = fields::duration_ms(d, &format!("{what}.for"), diags);
            ok &= ms.is_some();
            ms
        }
        None => None,
    };
    let after = match f.get("after") {
        Some(a) => after(a, &what, diags),
        None => Some(1),
    };
    let mut duration = |key: &str| match f.get(key) {
        Some(d) => {
            let ms = fields::duration_ms(d, &format!("{what}.{key}"), diags);
            ok &= ms.is_some();
            ms.unwrap_or(0)
        }
        None => 0,
    };
    let cooldown_ms = duration("cooldown");
    let group_ms = duration("group");
    if let Some(on) = on {
        // `after: 30m` was already pointed to `for:`.
        let after_was_a_duration = f
            .get("after")
            .is_some_and(|n| matches!(n.value, Value::Str(_)));
        if on.needs_threshold() && !f.has("for") && !after_was_a_duration {
            diags.error_hint(
                f.pos,
                format!("{what}: `{on}` needs a duration"),
                Some(if on == On::Stuck {
                    "add `for: 30m`: how long a run may go without progress".into()
                } else {
                    "add `for: 30m`: how long a run may go on".into()
                }),
            );
            ok = false;
        }
        if !on.needs_threshold()
            && let Some(pos) = f.key_pos("for")
        {
            diags.error(
                pos,
                format!("{what}: `{on}` takes no `for` (only duration_over and stuck do)"),
            );
            ok = false;
        }
    }
    if !ok {
        return None;
    }
    Some(NewRule {
        on: on?,
        channel: channel?,
        workflow: None,
        labels: Default::default(),
        threshold_ms,
        after: after?,
        cooldown_ms,
        group_ms,
    })
}

fn event(node: &Node, what: &str, diags: &mut Diagnostics) -> Option<On> {
    let text = fields::string(node, &format!("{what}.on"), diags)?;
    if let Some(on) = On::ALL.into_iter().find(|o| o.as_str() == text) {
        return Some(on);
    }
    let names = On::ALL.map(On::as_str);
    let hint = match text.split_once(char::is_whitespace) {
        // `on: duration_over 30m`, as the rule is written in prose.
        Some((head, tail)) if names.contains(&head) => {
            format!("write `on: {head}` and `for: {}`", tail.trim())
        }
        _ => super::suggest::did_you_mean(&text, names.iter().copied())
            .unwrap_or_else(|| format!("one of: {}", names.join(", "))),
    };
    diags.error_hint(
        node.pos,
        format!("{what}.on: unknown event {text:?}"),
        Some(hint),
    );
    None
}

fn channel(node: &Node, what: &str, diags: &mut Diagnostics) -> Option<String> {
    let text = fields::string(node, &format!("{what}.channel"), diags)?;
    if text.trim().is_empty() {
        diags.error(node.pos, format!("{what}.channel: the name is empty"));
        return None;
    }
    Some(text)
}

fn after(node: &Node, what: &str, diags: &mut Diagnostics) -> Option<u32> {
    if let Value::Str(s) = &node.value {
        // `after: 30m` meant the threshold of duration_over or stuck.
        diags.error_hint(
            node.pos,
            format!("{what}.after: expected a number of runs in a row, got {s:?}"),
            Some("a run's duration goes under `for:` (duration_over and stuck)".into()),
        );
        return None;
    }
    let n = fields::count(node, &format!("{what}.after"), u32::MAX, diags)?;
    if n == 0 {
        diags.error(node.pos, format!("{what}.after: must be at least 1"));
        return None;
    }
    Some(n)
}

/// Where the `channel:` of the `index`-th (0-based) rule of `notify:` stands in `source`
/// (1-based line and column), for an error about that channel found when the file is applied.
pub fn channel_pos(source: &str, index: usize) -> Option<(usize, usize)> {
    let mut diags = Diagnostics::new("");
    let root = parse_document(source, &mut diags)?;
    let notify = root
        .as_map()?
        .iter()
        .find(|(k, _)| k.as_str() == Some("notify"))
        .map(|(_, v)| v)?;
    let rule = match &notify.value {
        Value::Seq(items) => items.get(index)?,
        Value::Map(_) if index == 0 => notify,
        _ => return None,
    };
    let at: Pos = rule
        .as_map()?
        .iter()
        .find(|(k, _)| k.as_str() == Some("channel"))
        .map_or(rule.pos, |(_, v)| v.pos);
    Some((at.line, at.col))
}
