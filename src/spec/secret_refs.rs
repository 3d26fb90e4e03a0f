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
//!
//! In a here-document, the placeholder also carries the delimiter: a value with several lines
//! that could end the here-document early (a line reading the delimiter, or a first or last
//! line that could make one with the text beside it) is refused when it is filled in, as the
//! shell quoting refuses such a param value — else the rest of the value would run as
//! commands.

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
/// In a here-document whose delimiter is quoted (nothing expands).
const HEREDOC_RAW: char = 'l';
/// Separates a here-document placeholder's name from the delimiter (after `t` for `<<-`, else
/// `-`).
const DELIMITER: char = '\u{1F}';
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
        Spot::Heredoc { expand: true, .. } => HEREDOC,
        Spot::Heredoc { expand: false, .. } => HEREDOC_RAW,
        Spot::Comment => COMMENT,
        // Refused before: only an integer stands there.
        Spot::Arith => RAW,
    };
    let tagged = quoted.replace(&format!("{OPEN}{RAW}"), &format!("{OPEN}{code}"));
    match spot {
        Spot::Heredoc {
            delimiter,
            strip_tabs,
            ..
        } => {
            let flag = if *strip_tabs { 't' } else { '-' };
            tagged.replace(CLOSE, &format!("{DELIMITER}{flag}{delimiter}{CLOSE}"))
        }
        _ => tagged,
    }
}

/// Why a step's secrets could not be filled in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FillError {
    /// A secret the step uses has no value.
    #[error("secret {0:?} is not set")]
    Missing(String),
    /// A value that cannot stand where the step puts it.
    #[error(
        "secret {name:?} cannot be placed in the here-document (<<{delimiter}) of `run:`: {why}"
    )]
    Unplaceable {
        name: String,
        delimiter: String,
        why: String,
    },
}

/// Whether a value with several lines could end the here-document early wherever it stands
/// on a line of its body: a line of it (all but the first and last) that reads the delimiter,
/// a first line that could end one (the delimiter's end, or empty), or a last line that could
/// begin one. `Err` says which.
fn heredoc_check(value: &str, delimiter: &str, strip_tabs: bool) -> Result<(), String> {
    let lines: Vec<&str> = value.split('\n').collect();
    let [first, middle @ .., last] = lines.as_slice() else {
        return Ok(());
    };
    let strip = |l: &str| -> String {
        if strip_tabs {
            l.trim_start_matches('\t').to_string()
        } else {
            l.to_string()
        }
    };
    if middle.iter().any(|l| strip(l) == delimiter) {
        return Err(format!(
            "a line of it reads {delimiter:?}, which would end the here-document and run the \
             rest as commands"
        ));
    }
    if delimiter.ends_with(strip(first).as_str()) || delimiter.starts_with(strip(last).as_str()) {
        return Err(
            "its first or last line could end the here-document with the text beside \
                    it; pass it through `env:` instead (\"$VAR\" in the here-document)"
                .to_string(),
        );
    }
    Ok(())
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
        HEREDOC_RAW => value.to_string(),
        COMMENT => value.replace(['\n', '\r'], " "),
        _ => value.to_string(),
    }
}

/// Replace the placeholders of `slots` in `text` with the values.
pub fn fill_text(
    text: &str,
    slots: &SecretSlots,
    values: &BTreeMap<String, Secret>,
) -> Result<String, FillError> {
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
            let (nonce, rest) = chars.as_str().split_once(':')?;
            let (name, heredoc) = match rest.split_once(DELIMITER) {
                Some((name, d)) => (name, Some((d.starts_with('t'), d.get(1..).unwrap_or("")))),
                None => (rest, None),
            };
            (nonce == slots.nonce && slots.names.contains(name))
                .then_some((code, name, heredoc, end))
        });
        match parsed {
            Some((code, name, heredoc, end)) => {
                let value = values
                    .get(name)
                    .ok_or_else(|| FillError::Missing(name.to_string()))?;
                if let Some((strip_tabs, delimiter)) = heredoc {
                    heredoc_check(value.expose(), delimiter, strip_tabs).map_err(|why| {
                        FillError::Unplaceable {
                            name: name.to_string(),
                            delimiter: delimiter.to_string(),
                            why,
                        }
                    })?;
                }
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
) -> Result<(), FillError> {
    let one = |s: &mut String| -> Result<(), FillError> {
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
) -> Result<(), FillError> {
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::model::StepKind;
    use crate::spec::{TemplateContext, render_step_slots};

    /// `command` rendered and filled with `S` = `value`.
    fn filled(command: &str, value: &str) -> Result<String, FillError> {
        let step = StepSpec::new(
            "s",
            StepKind::Run {
                command: command.into(),
            },
        );
        let (mut kind, mut env, mut workdir, slots) =
            render_step_slots(&step, &TemplateContext::default()).unwrap();
        let values = BTreeMap::from([("S".to_string(), Secret::new(value))]);
        fill(&mut kind, &mut env, &mut workdir, &slots.unwrap(), &values)?;
        match kind {
            StepKind::Run { command } => Ok(command),
            other => panic!("{other:?}"),
        }
    }

    /// A secret whose lines include the here-document's delimiter would end it early and run
    /// the rest of the value as commands: refused, as a param value is.
    #[test]
    fn a_secret_that_would_end_a_here_document_is_refused() {
        for script in [
            "cat <<EOF\n{{ secrets.S }}\nEOF\n",
            "cat <<'EOF'\n{{ secrets.S }}\nEOF\n",
            "cat <<-EOF\n\t{{ secrets.S }}\nEOF\n",
        ] {
            for value in [
                "line\nEOF\nrm -rf ~",
                "EOF\nrm -rf ~",
                "line\n\tEOF\nx",
                "\nrm -rf ~",
                "x\nE",
            ] {
                let tabs_only = value.contains('\t') && !script.contains("<<-");
                match filled(script, value) {
                    Err(FillError::Unplaceable {
                        name, delimiter, ..
                    }) => {
                        assert!(!tabs_only, "{script:?} {value:?}");
                        assert_eq!((name.as_str(), delimiter.as_str()), ("S", "EOF"));
                    }
                    Ok(out) => assert!(tabs_only, "{script:?} {value:?} filled as {out:?}"),
                    Err(e) => panic!("{e}"),
                }
            }
        }
        // The message says what to do.
        let e = filled("cat <<EOF\n{{ secrets.S }}\nEOF\n", "EOF\nx").unwrap_err();
        assert!(e.to_string().contains("here-document"), "{e}");
    }

    /// A multi-line value that cannot end the here-document (a PEM key) is filled in as it is.
    #[test]
    fn a_multi_line_secret_fills_a_here_document() {
        let pem = "-----BEGIN KEY-----\nMIIBxyz\n-----END KEY-----";
        let out = filled("cat > k.pem <<'EOF'\n{{ secrets.S }}\nEOF\n", pem).unwrap();
        assert_eq!(out, format!("cat > k.pem <<'EOF'\n{pem}\nEOF\n"));
        let out = filled("cat <<EOF\n{{ secrets.S }}\nEOF\n", "a$b\nc").unwrap();
        assert_eq!(out, "cat <<EOF\na\\$b\nc\nEOF\n");
        // Elsewhere than a here-document newlines are quoted as usual.
        let out = filled("echo {{ secrets.S }}", "EOF\nx").unwrap();
        assert_eq!(out, "echo 'EOF\nx'");
    }
}
