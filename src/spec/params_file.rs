//! Params files (`imx workflow run --params-file FILE`, `imx run rerun --params-file FILE`): a
//! YAML or JSON mapping of param names to values, read into the same raw text `-p name=value`
//! gives, so they are typed against the workflow's declared params exactly as `-p` values are.
//! Every problem is reported with the file's name, line and column: not a mapping, a value that
//! is a list, mapping or null, a name given twice (invalid YAML), and (against a workflow) unknown params and
//! values of the wrong type.
//!
//! A YAML scalar is read as YAML reads it: `version: 1.10` is the number 1.1; quote values that
//! must stay text (`version: "1.10"`).

use std::collections::BTreeMap;

use super::diag::{Diagnostics, Pos};
use super::node::{self, Value};
use super::params::type_phrase;
use super::resolve::parse_typed;
use super::suggest::did_you_mean;
use crate::Result;
use crate::model::WorkflowSpec;

/// One param of a params file.
#[derive(Debug, Clone)]
struct Entry {
    name: String,
    /// The value as `-p` would give it.
    text: String,
    /// Where the name stands.
    key_pos: Pos,
    /// Where the value stands.
    pos: Pos,
}

/// A parsed params file: names with their values as raw text, and where each stands.
#[derive(Debug, Clone)]
pub struct ParamsFile {
    file: String,
    entries: Vec<Entry>,
}

/// Read a params file's `source`; `file` names it in messages (`-` is read as `<stdin>`).
pub fn parse_params_file(file: &str, source: &str) -> Result<ParamsFile> {
    let mut diags = Diagnostics::new(file);
    let mut entries: Vec<Entry> = Vec::new();
    if source.trim().is_empty() {
        diags.error_hint(
            Pos::new(1, 1),
            "the params file is empty",
            Some("write a mapping of param names to values, e.g. `version: \"1.4.2\"`".into()),
        );
        return diags.finish(ParamsFile {
            file: file.to_string(),
            entries,
        });
    }
    if let Some(root) = node::parse_document(source, &mut diags) {
        match &root.value {
            Value::Map(map) => {
                for (k, v) in map {
                    let Some(name) = k.scalar_text() else {
                        diags.error(k.pos, format!("param names are text; got {}", k.kind()));
                        continue;
                    };
                    if entries.iter().any(|e| e.name == name) {
                        diags.error(k.pos, format!("param {name:?} is given twice"));
                        continue;
                    }
                    match (&v.value, v.scalar_text()) {
                        (Value::Null, _) => diags.error_hint(
                            v.pos,
                            format!("param {name:?} has no value"),
                            Some(format!("give it one (`{name}: VALUE`) or leave it out")),
                        ),
                        (_, Some(text)) => entries.push(Entry {
                            name,
                            text,
                            key_pos: k.pos,
                            pos: v.pos,
                        }),
                        (_, None) => diags.error(
                            v.pos,
                            format!(
                                "param {name:?}: expected a string, number or bool, got {}",
                                v.kind()
                            ),
                        ),
                    }
                }
            }
            _ => diags.error_hint(
                root.pos,
                format!(
                    "a params file is a mapping of param names to values; got {}",
                    root.kind()
                ),
                Some("e.g. `version: \"1.4.2\"` on one line, `env: prod` on the next".into()),
            ),
        }
    }
    diags.finish(ParamsFile {
        file: file.to_string(),
        entries,
    })
}

impl ParamsFile {
    /// The params as `-p` gives them: name → raw text.
    pub fn values(&self) -> BTreeMap<String, String> {
        self.entries
            .iter()
            .map(|e| (e.name.clone(), e.text.clone()))
            .collect()
    }

    /// Check the file against `spec`'s params: every name declared, every value of its type.
    /// Names in `overridden` (given with `-p` too, which wins) are not checked.
    pub fn check(&self, spec: &WorkflowSpec, overridden: &[&str]) -> Result<()> {
        let mut diags = Diagnostics::new(&self.file);
        for e in self
            .entries
            .iter()
            .filter(|e| !overridden.contains(&e.name.as_str()))
        {
            let Some(p) = spec.params.iter().find(|p| p.name == e.name) else {
                let names = spec.params.iter().map(|p| p.name.as_str());
                let hint = if spec.params.is_empty() {
                    Some(format!("workflow {} takes no params", spec.name))
                } else {
                    did_you_mean(&e.name, names.clone()).or_else(|| {
                        Some(format!(
                            "workflow {} takes: {}",
                            spec.name,
                            names.collect::<Vec<_>>().join(", ")
                        ))
                    })
                };
                diags.error_hint(e.key_pos, format!("unknown param {:?}", e.name), hint);
                continue;
            };
            if parse_typed(&e.text, p.ty).is_err() {
                diags.error(
                    e.pos,
                    format!(
                        "param {}: expected {}, got {:?}",
                        p.name,
                        type_phrase(p.ty),
                        e.text
                    ),
                );
            }
        }
        diags.finish(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::{ParamSpec, ParamType};

    fn spec() -> WorkflowSpec {
        let mut spec = WorkflowSpec::new("deploy", Vec::new());
        for (name, ty) in [
            ("version", ParamType::String),
            ("count", ParamType::Int),
            ("dry", ParamType::Bool),
        ] {
            spec.params.push(ParamSpec {
                name: name.into(),
                ty,
                required: false,
                default: None,
                allowed: None,
                description: None,
            });
        }
        spec
    }

    #[test]
    fn yaml_and_json_mappings_read_as_raw_text() {
        let f = parse_params_file("p.yaml", "version: \"1.10\"\ncount: 3\ndry: true\n").unwrap();
        let v = f.values();
        assert_eq!(v["version"], "1.10");
        assert_eq!(v["count"], "3");
        assert_eq!(v["dry"], "true");
        f.check(&spec(), &[]).unwrap();
        let f = parse_params_file("p.json", r#"{"version": "2", "count": 4}"#).unwrap();
        assert_eq!(f.values()["count"], "4");
    }

    #[test]
    fn bad_files_name_the_file_and_the_spot() {
        for (src, want) in [
            ("- a\n- b\n", "p.yaml:1:1: a params file is a mapping"),
            ("", "p.yaml:1:1: the params file is empty"),
            (
                "version: [1, 2]\n",
                "p.yaml:1:10: param \"version\": expected a string, number or bool, got a list",
            ),
            ("version:\n", "param \"version\" has no value"),
            ("a: 1\na: 2\n", "p.yaml:2:1: invalid YAML: duplicated key"),
            ("a: [", "p.yaml:"),
        ] {
            let err = parse_params_file("p.yaml", src).unwrap_err().to_string();
            assert!(err.contains(want), "{src:?}: {err}");
        }
    }

    #[test]
    fn unknown_params_and_wrong_types_are_named_with_their_line() {
        let f = parse_params_file("p.yaml", "versoin: x\ncount: many\n").unwrap();
        let err = f.check(&spec(), &[]).unwrap_err().to_string();
        assert!(
            err.contains("p.yaml:1:1: unknown param \"versoin\""),
            "{err}"
        );
        assert!(err.contains("(did you mean \"version\"?)"), "{err}");
        assert!(
            err.contains("p.yaml:2:8: param count: expected an int, got \"many\""),
            "{err}"
        );
        // A -p for the same name wins, so its file value is not checked.
        let f = parse_params_file("p.yaml", "count: many\n").unwrap();
        f.check(&spec(), &["count"]).unwrap();
    }
}
