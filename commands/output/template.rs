//! `-o template=TEXT`: pick fields without jq. TEXT is a minijinja (Jinja2) template rendered
//! once per record — each item of a list, the object of a detail, each record of a stream —
//! with the record's JSON fields as its variables (`{{ id }}`, `{{ steps[0].status }}`,
//! `{{ labels.os }}`, filters such as `{{ name | upper }}`). A line break follows each record
//! unless the template ends with one. An unknown field is an error (exit 2), not an empty
//! string, so a typo cannot pass silently.
//!
//! Why a template and not `-o jsonpath=` or `--jq`: one engine that the workflow files already
//! use (the same syntax operators know from `{{ params.x }}`), no new dependency, and it both
//! selects and formats (several fields per line, conditionals) where JSONPath only selects.

use std::sync::OnceLock;

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

use crate::commands::error::CliError;

/// The template of this process (`-o template=...`), set once at start-up.
static TEMPLATE: OnceLock<String> = OnceLock::new();

/// What `-o template=` says in help.
pub const PREFIX: &str = "template=";

/// Remember the template given with `-o`.
pub fn set(text: String) {
    let _ = TEMPLATE.set(text);
}

/// Render `records` with the process's template.
pub fn render<'a, T: Serialize + 'a>(
    records: impl IntoIterator<Item = &'a T>,
) -> Result<String, CliError> {
    let text = TEMPLATE.get().map_or("", String::as_str);
    render_with(text, records)
}

/// Render `records` with `text` (see the module doc).
pub fn render_with<'a, T: Serialize + 'a>(
    text: &str,
    records: impl IntoIterator<Item = &'a T>,
) -> Result<String, CliError> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_keep_trailing_newline(true);
    let tmpl = env
        .template_from_str(text)
        .map_err(|e| CliError::usage(format!("-o template: {}", describe(&e))))?;
    let mut out = String::new();
    for r in records {
        let value = minijinja::Value::from_serialize(r);
        let line = tmpl
            .render(value)
            .map_err(|e| CliError::usage(format!("-o template: {}", describe(&e))))?;
        out.push_str(&line);
        if !line.ends_with('\n') {
            out.push('\n');
        }
    }
    Ok(out)
}

fn describe(e: &minijinja::Error) -> String {
    match e.detail() {
        Some(d) => format!("{}: {d}", e.kind()),
        None => e.to_string(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn renders_each_record_and_refuses_unknown_fields() {
        let rows = vec![
            serde_json::json!({"id": "a", "labels": {"os": "linux"}}),
            serde_json::json!({"id": "b", "labels": {"os": "mac"}}),
        ];
        assert_eq!(
            render_with("{{ id }} {{ labels.os | upper }}", &rows).unwrap(),
            "a LINUX\nb MAC\n"
        );
        let e = render_with("{{ idd }}", &rows).unwrap_err();
        assert!(e.message.contains("undefined"), "{}", e.message);
        assert!(render_with("{{ id ", &rows).is_err());
    }
}
