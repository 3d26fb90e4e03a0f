//! Run labels (`imx workflow run -l sha=abc -l pr=42`): the rules a label must follow, checked
//! by the control plane for every run it starts (so the same in both modes), and the
//! `key=value,key=value` selector the API's `GET /runs?label=` takes.
//!
//! A key is 1 to [`MAX_KEY_LEN`] characters: letters, digits, `.`, `_`, `-` and `/`, starting
//! and ending with a letter or digit (`pr`, `git.sha`, `team/owner`). A value is 1 to
//! [`MAX_VALUE_LEN`] characters with no space, comma or control character (`42`, `abc123`,
//! `feature/login`, `v1.2.3`). A run has at most [`MAX_LABELS`].

use std::collections::BTreeMap;

use crate::{Error, Result};

/// The most labels one run may have.
pub const MAX_LABELS: usize = 32;
/// The longest label key, in characters.
pub const MAX_KEY_LEN: usize = 63;
/// The longest label value, in characters.
pub const MAX_VALUE_LEN: usize = 128;

/// What a label key looks like, for messages.
const KEY_RULE: &str =
    "letters, digits, '.', '_', '-' and '/', starting and ending with a letter or digit";

/// Why `key` is not a valid label key, if it is not.
pub fn key_problem(key: &str) -> Option<String> {
    let n = key.chars().count();
    if n == 0 {
        return Some("a label key may not be empty".into());
    }
    if n > MAX_KEY_LEN {
        return Some(format!(
            "label key {key:?} is {n} characters long; at most {MAX_KEY_LEN} are allowed"
        ));
    }
    let inner = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/');
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if !key.chars().all(inner) || !edge(key.chars().next()) || !edge(key.chars().last()) {
        return Some(format!("label key {key:?} is not valid: use {KEY_RULE}"));
    }
    None
}

/// Why `value` is not a valid value of label `key`, if it is not.
pub fn value_problem(key: &str, value: &str) -> Option<String> {
    let n = value.chars().count();
    if n == 0 {
        return Some(format!("label {key:?} has an empty value"));
    }
    if n > MAX_VALUE_LEN {
        return Some(format!(
            "the value of label {key:?} is {n} characters long; at most {MAX_VALUE_LEN} are allowed"
        ));
    }
    if value
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == ',')
    {
        return Some(format!(
            "the value of label {key:?} ({value:?}) may not hold spaces, commas or control characters"
        ));
    }
    None
}

/// Check a run's labels: every key and value valid, at most [`MAX_LABELS`]. Every problem is
/// reported, one a line.
pub fn check(labels: &BTreeMap<String, String>) -> Result<()> {
    let mut problems: Vec<String> = labels
        .iter()
        .filter_map(|(k, v)| key_problem(k).or_else(|| value_problem(k, v)))
        .collect();
    if labels.len() > MAX_LABELS {
        problems.push(format!(
            "a run may have at most {MAX_LABELS} labels; got {}",
            labels.len()
        ));
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(Error::invalid_with_hint(
        problems.join("\n"),
        "labels are KEY=VALUE, e.g. -l sha=3f2a9c1 -l pr=42",
    ))
}

/// A selector `key=value,key=value` (the API's `label` query parameter) as a map; every pair
/// must match. Empty means no selector.
pub fn parse_selector(s: &str) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((k, v)) = part.split_once('=') else {
            return Err(Error::invalid(format!(
                "label selector {s:?}: expected key=value[,key=value...], got {part:?}"
            )));
        };
        let (k, v) = (k.trim(), v.trim());
        if let Some(p) = key_problem(k).or_else(|| value_problem(k, v)) {
            return Err(Error::invalid(format!("label selector {s:?}: {p}")));
        }
        if out
            .insert(k.to_string(), v.to_string())
            .is_some_and(|old| old != v)
        {
            return Err(Error::invalid(format!(
                "label selector {s:?} asks for two values of {k:?}; no run has both"
            )));
        }
    }
    if out.len() > MAX_LABELS {
        return Err(Error::invalid(format!(
            "label selector {s:?} has more than {MAX_LABELS} labels"
        )));
    }
    Ok(out)
}

/// The selector text of `labels` (`key=value,key=value`, keys in order).
pub fn selector_text(labels: &BTreeMap<String, String>) -> String {
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect()
    }

    #[test]
    fn good_labels_pass() {
        check(&map(&[
            ("pr", "42"),
            ("git.sha", "3f2a9c1"),
            ("team/owner", "feature/login"),
            ("v", "v1.2.3+build@x:y"),
        ]))
        .unwrap();
    }

    #[test]
    fn bad_keys_and_values_are_named() {
        for (k, v, want) in [
            ("", "x", "may not be empty"),
            ("-pr", "1", "is not valid"),
            ("pr-", "1", "is not valid"),
            ("p r", "1", "is not valid"),
            ("pr", "", "empty value"),
            ("pr", "a b", "may not hold spaces"),
            ("pr", "a,b", "commas"),
        ] {
            let err = check(&map(&[(k, v)])).unwrap_err().to_string();
            assert!(err.contains(want), "{k}={v}: {err}");
        }
        let long_key = "k".repeat(MAX_KEY_LEN + 1);
        let err = check(&map(&[(&long_key, "1")])).unwrap_err().to_string();
        assert!(err.contains("at most 63"), "{err}");
        let long_value = "v".repeat(MAX_VALUE_LEN + 1);
        let err = check(&map(&[("k", &long_value)])).unwrap_err().to_string();
        assert!(err.contains("at most 128"), "{err}");
    }

    #[test]
    fn too_many_labels_are_refused() {
        let many: BTreeMap<String, String> = (0..=MAX_LABELS)
            .map(|i| (format!("k{i}"), "v".to_string()))
            .collect();
        let err = check(&many).unwrap_err().to_string();
        assert!(err.contains("at most 32 labels; got 33"), "{err}");
    }

    #[test]
    fn selectors_parse_and_print() {
        let s = parse_selector("pr=42, sha=abc").unwrap();
        assert_eq!(s, map(&[("pr", "42"), ("sha", "abc")]));
        assert_eq!(selector_text(&s), "pr=42,sha=abc");
        assert!(parse_selector("").unwrap().is_empty());
        assert!(parse_selector("pr").is_err());
        assert!(parse_selector("pr=1,pr=2").is_err());
        assert_eq!(parse_selector("pr=1,pr=1").unwrap().len(), 1);
    }
}
