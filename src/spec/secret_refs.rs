//! `{{ secrets.NAME }}` in templates (issue 13). A step's templates are rendered inside the
//! store's claim transaction, which has no store key: each secret renders there as a
//! **placeholder** (private-use characters around a spot code, a nonce made for that rendering,
//! and the name), and the control plane that hands the step out replaces each placeholder with
//! the value ([`fill`]), escaped for the spot the shell quoting put it in. The values so exist
//! only in the claim's response, never in the store.
//!
//! In `run:` the placeholder goes through the shell quoting ([`super::shell`]) like any value;
//! [`retag`] records the spot it ended up in, so the value is escaped as the quoting would
//! have escaped it (inside the single quotes of a bare value: `'` as `'\''`; inside `"..."`:
//! `$`, `` ` ``, `"`, `\`; …). A placeholder whose nonce is not the rendering's (a param value
//! trying to pass for one) is left as it is.

use std::collections::{BTreeMap, BTreeSet};

use crate::auth::Secret;
use crate::model::{StepKind, StepSpec};

use super::shell::Spot;
use super::template::{is_template, variables};

/// Opens a secret placeholder.
pub(crate) const OPEN: char = '\u{E002}';
/// Closes a secret placeholder.
pub(crate) const CLOSE: char = '\u{E003}';

/// Raw: the value as it is (every field but `run:`, and `| raw` in `run:`).
const RAW: char = 'n';
/// Inside single quotes (a bare value is single-quoted too).
const SINGLE: char = 's';
/// Inside double quotes.
const DOUBLE: char = 'd';
/// In an expanding here-document.
const HEREDOC: char = 'h';
/// In a comment.
const COMMENT: char = 'c';

/// The secrets a rendered step holds placeholders for, and the nonce of that rendering.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SecretSlots {
    pub nonce: String,
    pub names: BTreeSet<String>,
}

impl SecretSlots {
    /// Slots for `names` with a fresh nonce.
    pub(crate) fn new(names: BTreeSet<String>) -> Self {
        let n: u64 = rand::random();
        SecretSlots {
            nonce: format!("{n:016x}"),
            names,
        }
    }

    /// What `secrets.NAME` renders as before the value is known.
    pub(crate) fn raw_placeholder(&self, name: &str) -> String {
        format!("{OPEN}{RAW}{}:{name}{CLOSE}", self.nonce)
    }
}

/// Whether `s` holds the characters placeholders are made of (a template may not).
pub(crate) fn has_placeholder_chars(s: &str) -> bool {
    s.contains([OPEN, CLOSE])
}

/// The names of the secrets `text` reads (`secrets.NAME`), if it is a template.
fn names_in(text: &str, out: &mut BTreeSet<String>) {
    if !is_template(text) || !text.contains("secrets") {
        return;
    }
    for path in variables(text).unwrap_or_default() {
        let mut parts = path.split('.');
        if parts.next() == Some("secrets")
            && let Some(name) = parts.next()
        {
            out.insert(name.to_string());
        }
    }
}

/// The names of the secrets a step's templates read.
pub fn secret_names(step: &StepSpec) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    match &step.kind {
        StepKind::Run { command } => names_in(command, &mut out),
        StepKind::Http(h) => {
            names_in(&h.url, &mut out);
            for v in h.headers.values() {
                names_in(v, &mut out);
            }
            if let Some(b) = &h.body {
                names_in(b, &mut out);
            }
            if let Some(j) = &h.json {
                json_names(j, &mut out);
            }
        }
        StepKind::Noop | StepKind::Approval(_) => {}
    }
    for v in step.env.values() {
        names_in(v, &mut out);
    }
    if let Some(w) = &step.workdir {
        names_in(w, &mut out);
    }
    out
}

fn json_names(v: &serde_json::Value, out: &mut BTreeSet<String>) {
    match v {
        serde_json::Value::String(s) => names_in(s, out),
        serde_json::Value::Array(items) => items.iter().for_each(|i| json_names(i, out)),
        serde_json::Value::Object(map) => map.values().for_each(|i| json_names(i, out)),
        _ => {}
    }
}

/// A value placed by the shell quoting at `spot`: the raw placeholders in it re-tagged with the
/// spot they now stand in.
pub(crate) fn retag(spot: &Spot, quoted: String) -> String {
    if !quoted.contains(OPEN) {
        return quoted;
    }
    let code = match spot {
        Spot::Bare | Spot::Single => SINGLE,
        Spot::Double => DOUBLE,
        Spot::Heredoc { expand: true } => HEREDOC,
        Spot::Heredoc { expand: false } => RAW,
        Spot::Comment => COMMENT,
        // Refused before: only an integer stands there.
        Spot::Arith => RAW,
    };
    quoted.replace(&format!("{OPEN}{RAW}"), &format!("{OPEN}{code}"))
}

/// `value` escaped for the spot `code` stands for.
fn escaped(code: char, value: &str) -> String {
    let escape = |special: &[char]| {
        let mut out = String::with_capacity(value.len() + 8);
        for c in value.chars() {
            if special.contains(&c) {
                out.push('\\');
            }
            out.push(c);
        }
        out
    };
    match code {
        SINGLE => value.replace('\'', r"'\''"),
        DOUBLE => escape(&['$', '`', '"', '\\']),
        HEREDOC => escape(&['$', '`', '\\']),
        COMMENT => value.replace(['\n', '\r'], " "),
        _ => value.to_string(),
    }
}

/// Replace the placeholders of `slots` in `text` with the values. `Err(name)`: a secret the
/// text uses has no value.
pub fn fill_text(
    text: &str,
    slots: &SecretSlots,
    values: &BTreeMap<String, Secret>,
) -> Result<String, String> {
    if !text.contains(OPEN) {
        return Ok(text.to_string());
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(OPEN) {
        out.push_str(&rest[..at]);
        let tail = &rest[at + OPEN.len_utf8()..];
        let parsed = tail.find(CLOSE).and_then(|end| {
            let inner = &tail[..end];
            let mut chars = inner.chars();
            let code = chars.next()?;
            let (nonce, name) = chars.as_str().split_once(':')?;
            (nonce == slots.nonce && slots.names.contains(name)).then_some((code, name, end))
        });
        match parsed {
            Some((code, name, end)) => {
                let value = values.get(name).ok_or_else(|| name.to_string())?;
                out.push_str(&escaped(code, value.expose()));
                rest = &tail[end + CLOSE.len_utf8()..];
            }
            None => {
                out.push(OPEN);
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// [`fill_text`] over every rendered field of a step: its kind, env and workdir.
pub fn fill(
    kind: &mut StepKind,
    env: &mut BTreeMap<String, String>,
    workdir: &mut Option<String>,
    slots: &SecretSlots,
    values: &BTreeMap<String, Secret>,
) -> Result<(), String> {
    let one = |s: &mut String| -> Result<(), String> {
        *s = fill_text(s, slots, values)?;
        Ok(())
    };
    match kind {
        StepKind::Run { command } => one(command)?,
        StepKind::Http(h) => {
            one(&mut h.url)?;
            for v in h.headers.values_mut() {
                one(v)?;
            }
            if let Some(b) = &mut h.body {
                one(b)?;
            }
            if let Some(j) = &mut h.json {
                fill_json(j, slots, values)?;
            }
        }
        StepKind::Noop | StepKind::Approval(_) => {}
    }
    for v in env.values_mut() {
        one(v)?;
    }
    if let Some(w) = workdir {
        one(w)?;
    }
    Ok(())
}

fn fill_json(
    v: &mut serde_json::Value,
    slots: &SecretSlots,
    values: &BTreeMap<String, Secret>,
) -> Result<(), String> {
    match v {
        serde_json::Value::String(s) => *s = fill_text(s, slots, values)?,
        serde_json::Value::Array(items) => {
            for i in items {
                fill_json(i, slots, values)?;
            }
        }
        serde_json::Value::Object(map) => {
            for i in map.values_mut() {
                fill_json(i, slots, values)?;
            }
        }
        _ => {}
    }
    Ok(())
}
