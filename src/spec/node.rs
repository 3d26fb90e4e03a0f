//! The YAML layer: parse a document with `saphyr` into a small owned tree whose every node (keys
//! included) knows its line and column, so later checks can point at the exact spot.

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};

use super::diag::{Diagnostics, Pos};

/// A YAML value with its position.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub pos: Pos,
    pub value: Value,
}

/// The shapes a YAML value can take (JSON is read as YAML, so it lands here too).
#[derive(Debug, Clone)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Entries in file order; keys are nodes so they carry positions too.
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// What kind of value this is, for messages: "a string", "a list", ...
    pub(crate) fn kind(&self) -> &'static str {
        match self.value {
            Value::Null => "nothing (null)",
            Value::Bool(_) => "a bool",
            Value::Int(_) => "an int",
            Value::Float(_) => "a float",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// A scalar written as text: strings as they are, numbers and bools as YAML prints them.
    pub(crate) fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Null | Value::Seq(_) | Value::Map(_) => None,
        }
    }

    /// The value as JSON, or the position and reason it cannot be one (NaN, complex keys).
    pub(crate) fn to_json(&self) -> Result<serde_json::Value, (Pos, String)> {
        Ok(match &self.value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => (*b).into(),
            Value::Int(i) => (*i).into(),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                .ok_or_else(|| (self.pos, format!("{f} is not a valid JSON number")))?,
            Value::Str(s) => s.clone().into(),
            Value::Seq(items) => items
                .iter()
                .map(Node::to_json)
                .collect::<Result<Vec<_>, _>>()?
                .into(),
            Value::Map(entries) => {
                let mut obj = serde_json::Map::new();
                for (k, v) in entries {
                    let key = k
                        .scalar_text()
                        .ok_or_else(|| (k.pos, "JSON object keys must be strings".to_string()))?;
                    obj.insert(key, v.to_json()?);
                }
                serde_json::Value::Object(obj)
            }
        })
    }
}

/// Parse `source` as exactly one YAML document. Syntax errors (with their position), an empty
/// file and extra documents are recorded in `diags`, and then `None` is returned.
pub(crate) fn parse_document(source: &str, diags: &mut Diagnostics) -> Option<Node> {
    let docs = match MarkedYaml::load_from_str(source) {
        Ok(docs) => docs,
        Err(e) => {
            let m = e.marker();
            diags.error(
                Pos::new(m.line().max(1), m.col() + 1),
                format!("invalid YAML: {}", e.info()),
            );
            return None;
        }
    };
    let mut docs = docs.into_iter();
    let Some(first) = docs.next() else {
        diags.error_hint(
            Pos::new(1, 1),
            "the file is empty",
            Some("a workflow file is a mapping with at least `name` and `steps`".into()),
        );
        return None;
    };
    if let Some(second) = docs.next() {
        diags.error(
            pos_of(&second),
            "a workflow file holds one YAML document; found another one here",
        );
    }
    let mut bad = Vec::new();
    let root = convert(&first, &mut bad);
    for pos in bad {
        diags.error(
            pos,
            "unsupported YAML value (unknown alias or unparsable tagged scalar)",
        );
    }
    Some(root)
}

fn pos_of(y: &MarkedYaml<'_>) -> Pos {
    Pos::new(y.span.start.line().max(1), y.span.start.col() + 1)
}

fn convert(y: &MarkedYaml<'_>, bad: &mut Vec<Pos>) -> Node {
    let pos = pos_of(y);
    let value = match &y.data {
        YamlData::Value(s) => scalar(s),
        YamlData::Representation(text, _, _) => Value::Str(text.to_string()),
        YamlData::Sequence(items) => Value::Seq(items.iter().map(|i| convert(i, bad)).collect()),
        YamlData::Mapping(map) => Value::Map(
            map.iter()
                .map(|(k, v)| (convert(k, bad), convert(v, bad)))
                .collect(),
        ),
        YamlData::Tagged(_, inner) => return convert(inner, bad),
        YamlData::Alias(_) | YamlData::BadValue => {
            bad.push(pos);
            Value::Null
        }
    };
    Node { pos, value }
}

fn scalar(s: &Scalar<'_>) -> Value {
    match s {
        Scalar::Null => Value::Null,
        Scalar::Boolean(b) => Value::Bool(*b),
        Scalar::Integer(i) => Value::Int(*i),
        Scalar::FloatingPoint(f) => Value::Float(f.into_inner()),
        Scalar::String(s) => Value::Str(s.to_string()),
    }
}
