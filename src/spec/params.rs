//! Parameter declarations (`params:`): types, defaults and enums, checked against each other.

use crate::model::{ParamSpec, ParamType};

use super::diag::Diagnostics;
use super::fields::{self, Fields};
use super::node::{Node, Value};
use super::suggest::did_you_mean;

pub(crate) const PARAM_KEYS: &[&str] = &["type", "required", "default", "enum", "description"];
const TYPES: &[&str] = &["string", "int", "float", "bool"];

/// The name templates and `-p` use for a type, with its article: "a string", "an int".
pub(crate) fn type_phrase(ty: ParamType) -> &'static str {
    match ty {
        ParamType::String => "a string",
        ParamType::Int => "an int",
        ParamType::Float => "a float",
        ParamType::Bool => "a bool",
    }
}

/// Read the `params:` mapping, in file order.
pub(crate) fn parse_params(node: &Node, diags: &mut Diagnostics) -> Vec<ParamSpec> {
    let Some(entries) = node.as_map() else {
        diags.error(
            node.pos,
            format!(
                "params: expected a mapping of parameter names, got {}",
                node.kind()
            ),
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for (k, v) in entries {
        let Some(name) = k.as_str() else {
            diags.error(
                k.pos,
                format!("params: names must be strings, got {}", k.kind()),
            );
            continue;
        };
        if !is_param_name(name) {
            diags.error_hint(
                k.pos,
                format!("params: {name:?} is not a valid parameter name"),
                Some("use letters, digits and `_` (templates write it as params.NAME)".into()),
            );
            continue;
        }
        if let Some(p) = parse_param(name, v, diags) {
            out.push(p);
        }
    }
    out
}

pub(crate) fn is_param_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn parse_param(name: &str, node: &Node, diags: &mut Diagnostics) -> Option<ParamSpec> {
    let what = format!("param {name}");
    let mut spec = ParamSpec {
        name: name.to_string(),
        ty: ParamType::String,
        required: false,
        default: None,
        allowed: None,
        description: None,
    };
    if matches!(node.value, Value::Null) {
        return Some(spec);
    }
    let f = Fields::read(node, &what, PARAM_KEYS, diags)?;
    if let Some(t) = f.get("type") {
        spec.ty = parse_type(t, &what, diags)?;
    }
    if let Some(r) = f.get("required") {
        spec.required = fields::boolean(r, &format!("{what} required"), diags).unwrap_or(false);
    }
    if let Some(d) = f.get("description") {
        spec.description = fields::string(d, &format!("{what} description"), diags);
    }
    if let Some(e) = f.get("enum") {
        spec.allowed = parse_enum(e, spec.ty, &what, diags);
    }
    if let Some(d) = f.get("default") {
        match typed_from_node(d, spec.ty) {
            Ok(value) => {
                if let Some(allowed) = &spec.allowed
                    && !allowed.contains(&value)
                {
                    diags.error(
                        d.pos,
                        format!(
                            "{what}: default {value} is not one of {}",
                            list_values(allowed)
                        ),
                    );
                }
                spec.default = Some(value);
            }
            Err(why) => diags.error(d.pos, format!("{what} default: {why}")),
        }
    }
    Some(spec)
}

fn parse_type(node: &Node, what: &str, diags: &mut Diagnostics) -> Option<ParamType> {
    let text = fields::string(node, &format!("{what} type"), diags)?;
    match text.as_str() {
        "string" => Some(ParamType::String),
        "int" => Some(ParamType::Int),
        "float" => Some(ParamType::Float),
        "bool" => Some(ParamType::Bool),
        other => {
            let hint = did_you_mean(other, TYPES.iter().copied())
                .or_else(|| Some(format!("types are {}", TYPES.join(", "))));
            diags.error_hint(node.pos, format!("{what}: unknown type {other:?}"), hint);
            None
        }
    }
}

fn parse_enum(
    node: &Node,
    ty: ParamType,
    what: &str,
    diags: &mut Diagnostics,
) -> Option<Vec<serde_json::Value>> {
    let Value::Seq(items) = &node.value else {
        diags.error(
            node.pos,
            format!(
                "{what} enum: expected a list of allowed values, got {}",
                node.kind()
            ),
        );
        return None;
    };
    if items.is_empty() {
        diags.error(
            node.pos,
            format!("{what} enum: the list of allowed values is empty"),
        );
        return None;
    }
    let mut out = Vec::new();
    for item in items {
        match typed_from_node(item, ty) {
            Ok(v) => out.push(v),
            Err(why) => diags.error(item.pos, format!("{what} enum value: {why}")),
        }
    }
    Some(out)
}

/// A YAML value as a parameter value of type `ty`, or why it is not one.
pub(crate) fn typed_from_node(node: &Node, ty: ParamType) -> Result<serde_json::Value, String> {
    let got = |node: &Node| {
        format!(
            "expected {}, got {} ({})",
            type_phrase(ty),
            node.kind(),
            node.scalar_text().unwrap_or_default()
        )
    };
    match (&node.value, ty) {
        (Value::Str(s), ParamType::String) => Ok(s.clone().into()),
        (Value::Int(i), ParamType::Int) => Ok((*i).into()),
        (Value::Int(i), ParamType::Float) => Ok(serde_json::json!(*i as f64)),
        (Value::Float(f), ParamType::Float) => serde_json::Number::from_f64(*f)
            .map(serde_json::Value::Number)
            .ok_or_else(|| format!("{f} is not a usable float")),
        (Value::Bool(b), ParamType::Bool) => Ok((*b).into()),
        (Value::Int(_) | Value::Float(_) | Value::Bool(_), ParamType::String) => Err(format!(
            "{}; quote it to make it a string: \"{}\"",
            got(node),
            node.scalar_text().unwrap_or_default()
        )),
        _ => Err(got(node)),
    }
}

/// `a, b, c` for messages; strings are shown bare.
pub(crate) fn list_values(values: &[serde_json::Value]) -> String {
    values
        .iter()
        .map(|v| match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}
