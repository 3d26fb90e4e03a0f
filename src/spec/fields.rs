//! Typed readers over YAML nodes: mappings with a fixed set of keys (unknown keys get a "did you
//! mean"), strings, bools, counts, durations and string maps. Each reader records a problem in the
//! [`Diagnostics`] and returns `None` instead of stopping, so one pass finds every problem.

use std::collections::BTreeMap;

use super::diag::{Diagnostics, Pos};
use super::node::{Node, Value};
use super::suggest::did_you_mean;

/// The entries of a mapping whose keys have been checked against a known set.
pub(crate) struct Fields<'a> {
    pub pos: Pos,
    entries: Vec<(&'a str, &'a Node, &'a Node)>,
}

impl<'a> Fields<'a> {
    /// Read `node` as a mapping allowed to hold only `known` keys; `what` names it in messages.
    /// Unknown and non-string keys are reported; `None` if `node` is not a mapping at all.
    pub(crate) fn read(
        node: &'a Node,
        what: &str,
        known: &[&str],
        diags: &mut Diagnostics,
    ) -> Option<Fields<'a>> {
        let Some(map) = node.as_map() else {
            diags.error(
                node.pos,
                format!("{what}: expected a mapping, got {}", node.kind()),
            );
            return None;
        };
        let mut entries = Vec::new();
        for (k, v) in map {
            let Some(key) = k.as_str() else {
                diags.error(
                    k.pos,
                    format!("{what}: keys must be strings, got {}", k.kind()),
                );
                continue;
            };
            if known.contains(&key) {
                entries.push((key, k, v));
            } else {
                let hint = did_you_mean(key, known.iter().copied())
                    .or_else(|| Some(format!("known keys: {}", known.join(", "))));
                diags.error_hint(k.pos, format!("{what}: unknown key `{key}`"), hint);
            }
        }
        Some(Fields {
            pos: node.pos,
            entries,
        })
    }

    /// The value under `key`, if present.
    pub(crate) fn get(&self, key: &str) -> Option<&'a Node> {
        self.entries
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, _, v)| *v)
    }

    /// The value under `key`, or a "missing required key" problem at the mapping.
    pub(crate) fn require(
        &self,
        key: &str,
        what: &str,
        diags: &mut Diagnostics,
    ) -> Option<&'a Node> {
        let found = self.get(key);
        if found.is_none() {
            diags.error(self.pos, format!("{what}: missing required key `{key}`"));
        }
        found
    }

    /// Whether `key` is present.
    pub(crate) fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// The position of `key` itself (not its value).
    pub(crate) fn key_pos(&self, key: &str) -> Option<Pos> {
        self.entries
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, k, _)| k.pos)
    }
}

/// A string value.
pub(crate) fn string(node: &Node, what: &str, diags: &mut Diagnostics) -> Option<String> {
    match &node.value {
        Value::Str(s) => Some(s.clone()),
        _ => {
            diags.error(
                node.pos,
                format!("{what}: expected a string, got {}", node.kind()),
            );
            None
        }
    }
}

/// A bool value.
pub(crate) fn boolean(node: &Node, what: &str, diags: &mut Diagnostics) -> Option<bool> {
    match node.value {
        Value::Bool(b) => Some(b),
        _ => {
            diags.error(
                node.pos,
                format!("{what}: expected true or false, got {}", node.kind()),
            );
            None
        }
    }
}

/// A whole number in `0..=max`.
pub(crate) fn count(node: &Node, what: &str, max: u32, diags: &mut Diagnostics) -> Option<u32> {
    match node.value {
        Value::Int(i) if (0..=i64::from(max)).contains(&i) => u32::try_from(i).ok(),
        Value::Int(i) => {
            diags.error(
                node.pos,
                format!("{what}: {i} is out of range (0 to {max})"),
            );
            None
        }
        _ => {
            diags.error(
                node.pos,
                format!("{what}: expected a whole number, got {}", node.kind()),
            );
            None
        }
    }
}

/// A name or id: `[a-z0-9][a-z0-9_-]*`.
pub(crate) fn identifier(node: &Node, what: &str, diags: &mut Diagnostics) -> Option<String> {
    let s = string(node, what, diags)?;
    if is_identifier(&s) {
        Some(s)
    } else {
        diags.error_hint(
            node.pos,
            format!("{what}: {s:?} is not a valid name"),
            Some(
                "use lowercase letters, digits, `-` and `_`, starting with a letter or digit"
                    .into(),
            ),
        );
        None
    }
}

/// Whether `s` matches `[a-z0-9][a-z0-9_-]*`.
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// A humantime duration string ("500ms", "2s", "1h30m"), in milliseconds. Zero is refused.
pub(crate) fn duration_ms(node: &Node, what: &str, diags: &mut Diagnostics) -> Option<u64> {
    const HINT: &str = "write a duration like \"500ms\", \"30s\", \"10m\" or \"1h30m\"";
    let text = match &node.value {
        Value::Str(s) => s.as_str(),
        _ => {
            diags.error_hint(
                node.pos,
                format!("{what}: expected a duration, got {}", node.kind()),
                Some(HINT.into()),
            );
            return None;
        }
    };
    let result = if text.chars().any(char::is_whitespace) || text.starts_with(['-', '+']) {
        None
    } else {
        humantime::parse_duration(text).ok()
    };
    match result.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)) {
        Some(0) => {
            diags.error(
                node.pos,
                format!("{what}: the duration must be more than zero"),
            );
            None
        }
        Some(ms) => Some(ms),
        None => {
            diags.error_hint(
                node.pos,
                format!("{what}: bad duration {text:?}"),
                Some(HINT.into()),
            );
            None
        }
    }
}

/// A mapping of strings to scalars (numbers and bools are kept as written), with each value's
/// position. Keys are checked with `key_ok` (an explanation on failure).
pub(crate) fn string_map(
    node: &Node,
    what: &str,
    key_ok: fn(&str) -> Result<(), String>,
    diags: &mut Diagnostics,
) -> BTreeMap<String, (String, Pos)> {
    let mut out = BTreeMap::new();
    let Some(map) = node.as_map() else {
        diags.error(
            node.pos,
            format!("{what}: expected a mapping, got {}", node.kind()),
        );
        return out;
    };
    for (k, v) in map {
        let Some(key) = k.scalar_text() else {
            diags.error(
                k.pos,
                format!("{what}: keys must be strings, got {}", k.kind()),
            );
            continue;
        };
        if let Err(why) = key_ok(&key) {
            diags.error(k.pos, format!("{what}: bad key {key:?}: {why}"));
            continue;
        }
        match v.scalar_text() {
            Some(text) => {
                out.insert(key, (text, v.pos));
            }
            None => diags.error(
                v.pos,
                format!("{what}.{key}: expected a string, got {}", v.kind()),
            ),
        }
    }
    out
}

/// Any key is fine.
pub(crate) fn any_key(_: &str) -> Result<(), String> {
    Ok(())
}

/// An environment variable name: `[A-Za-z_][A-Za-z0-9_]*`.
pub(crate) fn env_key(key: &str) -> Result<(), String> {
    let mut chars = key.chars();
    let ok = matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(
            "environment variable names use letters, digits and `_`, not starting with a digit"
                .into(),
        )
    }
}
