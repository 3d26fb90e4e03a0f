//! The params of a run a trigger starts: each declared param from the trigger's map (a dotted
//! path into a JSON document, e.g. `release.tag` or `commits.0.id`, or a JSON pointer such as
//! `/release/tag`), else from a field of the same name in the first of the fallback objects
//! that has it. Values become the text `imx run` would take: strings as they are, numbers and
//! booleans written out, lists and objects as JSON. Params found nowhere are left out, so the
//! workflow's defaults and its required-param check apply as for any run.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::model::ParamSpec;

/// The value at `path` in `doc`, if any.
pub fn lookup<'a>(doc: &'a Value, path: &str) -> Option<&'a Value> {
    if path.starts_with('/') {
        return doc.pointer(path);
    }
    let mut at = doc;
    for part in path.split(['.', '[', ']']).filter(|p| !p.is_empty()) {
        at = match at {
            Value::Object(m) => m.get(part)?,
            Value::Array(items) => items.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(at)
}

/// A param's text from a JSON value; `None` for null.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(_) | Value::Number(_) => Some(v.to_string()),
        Value::Array(_) | Value::Object(_) => Some(v.to_string()),
    }
}

/// The params for a run of a workflow declaring `declared`: `map` (param → path into `doc`)
/// first, then each fallback object's same-named field.
pub fn map_params(
    declared: &[ParamSpec],
    map: &BTreeMap<String, String>,
    doc: &Value,
    fallbacks: &[&Value],
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for p in declared {
        let found = match map.get(&p.name) {
            Some(path) => lookup(doc, path),
            None => fallbacks.iter().find_map(|f| f.get(&p.name)),
        };
        if let Some(t) = found.and_then(text) {
            out.insert(p.name.clone(), t);
        }
    }
    out
}

/// The params `map` names that `declared` does not have (a trigger must not map to nothing).
pub fn unknown_params<'a>(
    declared: &[ParamSpec],
    map: &'a BTreeMap<String, String>,
) -> Vec<&'a str> {
    map.keys()
        .filter(|k| !declared.iter().any(|p| &p.name == *k))
        .map(String::as_str)
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::ParamType;

    fn param(name: &str) -> ParamSpec {
        serde_json::from_value(json!({ "name": name, "type": "string" }))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn paths_reach_into_objects_and_lists() {
        let doc = json!({ "release": { "tag": "v1.2" }, "commits": [{ "id": "abc" }] });
        assert_eq!(lookup(&doc, "release.tag"), Some(&json!("v1.2")));
        assert_eq!(lookup(&doc, "commits.0.id"), Some(&json!("abc")));
        assert_eq!(lookup(&doc, "commits[0].id"), Some(&json!("abc")));
        assert_eq!(lookup(&doc, "/release/tag"), Some(&json!("v1.2")));
        assert_eq!(lookup(&doc, "commits.1.id"), None);
        assert_eq!(lookup(&doc, "release.tag.more"), None);
    }

    #[test]
    fn the_map_wins_then_same_named_fields_in_order() {
        let declared = [
            param("version"),
            param("env"),
            param("sha"),
            param("absent"),
        ];
        let map = BTreeMap::from([("version".to_string(), "release.tag".to_string())]);
        let doc = json!({ "release": { "tag": "v2" }, "version": "ignored", "env": "prod" });
        let outputs = json!({ "sha": "abc", "env": "staging" });
        let got = map_params(&declared, &map, &doc, &[&outputs, &doc]);
        let want = BTreeMap::from([
            ("version".to_string(), "v2".to_string()),
            ("env".to_string(), "staging".to_string()),
            ("sha".to_string(), "abc".to_string()),
        ]);
        assert_eq!(got, want);
    }

    #[test]
    fn values_become_the_text_a_person_would_type() {
        let declared = [param("n"), param("b"), param("list"), param("nothing")];
        let doc = json!({ "n": 3, "b": true, "list": [1, 2], "nothing": null });
        let got = map_params(&declared, &BTreeMap::new(), &doc, &[&doc]);
        assert_eq!(got.get("n").map(String::as_str), Some("3"));
        assert_eq!(got.get("b").map(String::as_str), Some("true"));
        assert_eq!(got.get("list").map(String::as_str), Some("[1,2]"));
        assert!(!got.contains_key("nothing"));
    }

    #[test]
    fn unknown_mapped_params_are_named() {
        let declared = [ParamSpec {
            ty: ParamType::String,
            ..param("version")
        }];
        let map = BTreeMap::from([
            ("version".to_string(), "a".to_string()),
            ("verison".to_string(), "b".to_string()),
        ]);
        assert_eq!(unknown_params(&declared, &map), ["verison"]);
    }
}
