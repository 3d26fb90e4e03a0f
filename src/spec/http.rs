//! `http:` steps: method, url, headers, a JSON or raw body, and the statuses that count as success.

use std::collections::BTreeMap;

use crate::model::HttpSpec;

use super::diag::Diagnostics;
use super::fields::{self, Fields};
use super::node::{Node, Value};
use super::step::TemplateRef;
use super::suggest::did_you_mean;

pub(crate) const HTTP_KEYS: &[&str] =
    &["method", "url", "headers", "json", "body", "expect_status"];
const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// Read an `http:` mapping. Its template strings (url, header values, body, string leaves of
/// `json`) are appended to `templates`.
pub(crate) fn parse_http(
    node: &Node,
    what: &str,
    templates: &mut Vec<TemplateRef>,
    diags: &mut Diagnostics,
) -> Option<HttpSpec> {
    let f = Fields::read(node, what, HTTP_KEYS, diags)?;
    let mut ok = true;

    let method = match f.get("method") {
        None => "GET".to_string(),
        Some(n) => match fields::string(n, &format!("{what} method"), diags) {
            Some(m) if METHODS.contains(&m.to_ascii_uppercase().as_str()) => m.to_ascii_uppercase(),
            Some(m) => {
                let upper = m.to_ascii_uppercase();
                let hint = did_you_mean(&upper, METHODS.iter().copied())
                    .or_else(|| Some(format!("methods are {}", METHODS.join(", "))));
                diags.error_hint(n.pos, format!("{what}: unknown HTTP method {m:?}"), hint);
                ok = false;
                String::new()
            }
            None => {
                ok = false;
                String::new()
            }
        },
    };

    let url = match f.require("url", what, diags) {
        Some(n) => match fields::string(n, &format!("{what} url"), diags) {
            Some(u) if u.trim().is_empty() => {
                diags.error(n.pos, format!("{what} url: the URL is empty"));
                None
            }
            Some(u) => {
                templates.push(TemplateRef::new(&u, n.pos, "http url"));
                Some(u)
            }
            None => None,
        },
        None => None,
    };

    let mut headers = BTreeMap::new();
    if let Some(n) = f.get("headers") {
        for (k, (v, pos)) in
            fields::string_map(n, &format!("{what} headers"), fields::any_key, diags)
        {
            templates.push(TemplateRef::new(&v, pos, &format!("http header {k}")));
            headers.insert(k, v);
        }
    }

    let json = f.get("json").and_then(|n| match n.to_json() {
        Ok(v) => {
            collect_json_strings(n, templates);
            Some(v)
        }
        Err((pos, why)) => {
            diags.error(pos, format!("{what} json: {why}"));
            ok = false;
            None
        }
    });

    let body = f.get("body").and_then(|n| {
        let b = fields::string(n, &format!("{what} body"), diags);
        if let Some(b) = &b {
            templates.push(TemplateRef::new(b, n.pos, "http body"));
        } else {
            ok = false;
        }
        b
    });
    if json.is_some() && body.is_some() {
        diags.error(
            f.key_pos("body").unwrap_or(f.pos),
            format!("{what}: set either `json` or `body`, not both"),
        );
        ok = false;
    }

    let expect_status = f
        .get("expect_status")
        .map(|n| parse_statuses(n, what, diags))
        .unwrap_or(Some(Vec::new()));

    match (ok, url, expect_status) {
        (true, Some(url), Some(expect_status)) => Some(HttpSpec {
            method,
            url,
            headers,
            json,
            body,
            expect_status,
        }),
        _ => None,
    }
}

fn collect_json_strings(node: &Node, templates: &mut Vec<TemplateRef>) {
    match &node.value {
        Value::Str(s) => templates.push(TemplateRef::new(s, node.pos, "http json")),
        Value::Seq(items) => items
            .iter()
            .for_each(|i| collect_json_strings(i, templates)),
        Value::Map(entries) => entries
            .iter()
            .for_each(|(_, v)| collect_json_strings(v, templates)),
        Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) => {}
    }
}

fn parse_statuses(node: &Node, what: &str, diags: &mut Diagnostics) -> Option<Vec<u16>> {
    let items: Vec<&Node> = match &node.value {
        Value::Seq(items) if !items.is_empty() => items.iter().collect(),
        Value::Int(_) => vec![node],
        _ => {
            diags.error(
                node.pos,
                format!(
                    "{what} expect_status: expected a status code or a non-empty list of them, got {}",
                    node.kind()
                ),
            );
            return None;
        }
    };
    let mut out = Vec::new();
    let mut ok = true;
    for item in items {
        match item.value {
            Value::Int(code) if (100..=599).contains(&code) => {
                out.push(u16::try_from(code).unwrap_or_default());
            }
            _ => {
                diags.error(
                    item.pos,
                    format!(
                        "{what} expect_status: expected an HTTP status code (100-599), got {}",
                        item.scalar_text()
                            .unwrap_or_else(|| item.kind().to_string())
                    ),
                );
                ok = false;
            }
        }
    }
    ok.then_some(out)
}
