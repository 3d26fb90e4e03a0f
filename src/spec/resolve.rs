//! Typing raw `-p name=value` strings against a workflow's declared parameters.

use std::collections::BTreeMap;

use crate::model::{ParamType, WorkflowSpec};
use crate::{Error, Result};

use super::params::{list_values, type_phrase};
use super::suggest::did_you_mean;

/// Type the raw parameter strings against the spec: apply defaults, check enums and required.
/// Every problem is reported, one per line, in one [`Error::Invalid`].
pub fn resolve_params(
    spec: &WorkflowSpec,
    raw: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, serde_json::Value>> {
    let mut problems: Vec<(String, Option<String>)> = Vec::new();
    let mut out = BTreeMap::new();

    for name in raw.keys() {
        if spec.params.iter().any(|p| &p.name == name) {
            continue;
        }
        let hint = if spec.params.is_empty() {
            Some(format!("workflow {} takes no params", spec.name))
        } else {
            did_you_mean(name, spec.params.iter().map(|p| p.name.as_str())).or_else(|| {
                Some(format!(
                    "workflow {} takes: {}",
                    spec.name,
                    spec.params
                        .iter()
                        .map(|p| p.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })
        };
        problems.push((format!("unknown param {name:?}"), hint));
    }

    for p in &spec.params {
        let value = match raw.get(&p.name) {
            Some(text) => match parse_typed(text, p.ty) {
                Ok(v) => v,
                Err(()) => {
                    problems.push((
                        format!(
                            "param {}: expected {}, got {text:?}",
                            p.name,
                            type_phrase(p.ty)
                        ),
                        None,
                    ));
                    continue;
                }
            },
            None => match &p.default {
                Some(d) => d.clone(),
                None if p.required => {
                    problems.push((
                        format!("missing required param {:?}", p.name),
                        Some(format!("pass it with -p {}=VALUE", p.name)),
                    ));
                    continue;
                }
                None => continue,
            },
        };
        if let Some(allowed) = &p.allowed
            && !allowed.contains(&value)
        {
            let shown = match &value {
                serde_json::Value::String(s) => format!("{s:?}"),
                other => other.to_string(),
            };
            // A misspelt string gets the nearest allowed one.
            let names: Vec<&str> = allowed.iter().filter_map(|v| v.as_str()).collect();
            let hint = value
                .as_str()
                .and_then(|s| crate::suggest::nearest(s, &names))
                .map(|n| format!("did you mean {n:?}? (-p {}={n})", p.name));
            problems.push((
                format!(
                    "param {}: {shown} is not one of {}",
                    p.name,
                    list_values(allowed)
                ),
                hint,
            ));
            continue;
        }
        out.insert(p.name.clone(), value);
    }

    match problems.len() {
        0 => Ok(out),
        1 => {
            let (message, hint) = problems.remove(0);
            Err(Error::Invalid { message, hint })
        }
        _ => Err(Error::invalid(
            problems
                .into_iter()
                .map(|(m, h)| match h {
                    Some(h) => format!("{m} ({h})"),
                    None => m,
                })
                .collect::<Vec<_>>()
                .join("\n"),
        )),
    }
}

/// Parse one raw value as `ty`.
pub(crate) fn parse_typed(text: &str, ty: ParamType) -> std::result::Result<serde_json::Value, ()> {
    match ty {
        ParamType::String => Ok(text.into()),
        ParamType::Int => text.trim().parse::<i64>().map(Into::into).map_err(|_| ()),
        ParamType::Float => text
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(serde_json::Value::Number)
            .ok_or(()),
        ParamType::Bool => match text.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => Ok(true.into()),
            "false" | "no" | "off" | "0" => Ok(false.into()),
            _ => Err(()),
        },
    }
}
