//! Describe (`d`): every field of the selected object — run, step, agent, workflow, audit
//! record — as the control plane gives it (the same data as `-o json`), one `field: value`
//! line each with nested fields dotted, or as YAML (`Y`). It floats over the view, scrolls,
//! and follows the object as fresh data arrives.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use serde_json::Value;

use super::super::theme::Theme;

/// Which object is described (how to find it again in fresh data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Run(String),
    Step { run: String, step: String },
    Agent(String),
    Workflow(String),
    Audit(i64),
    Schedule(String),
}

impl Target {
    /// What kind of object, for the title.
    pub fn kind(&self) -> &'static str {
        match self {
            Target::Run(_) => "Run",
            Target::Step { .. } => "Step",
            Target::Agent(_) => "Agent",
            Target::Workflow(_) => "Workflow",
            Target::Audit(_) => "Audit record",
            Target::Schedule(_) => "Schedule",
        }
    }

    /// Its id or name, in full (what `y` copies).
    pub fn id(&self) -> String {
        match self {
            Target::Run(id) | Target::Agent(id) | Target::Workflow(id) | Target::Schedule(id) => {
                id.clone()
            }
            Target::Step { run, step } => format!("{run}/{step}"),
            Target::Audit(seq) => seq.to_string(),
        }
    }
}

/// The describe overlay's state.
#[derive(Debug, Clone, PartialEq)]
pub struct Describe {
    pub target: Target,
    /// The object as last seen.
    pub value: Value,
    /// YAML instead of fields.
    pub yaml: bool,
    /// Lines scrolled past.
    pub scroll: usize,
}

impl Describe {
    /// The text shown: `field: value` lines, or YAML.
    pub fn lines(&self) -> Vec<String> {
        if self.yaml {
            match serde_saphyr::to_string(&self.value) {
                Ok(y) => y.lines().map(String::from).collect(),
                Err(e) => vec![format!("cannot show this as YAML: {e}")],
            }
        } else {
            let fields = fields(&self.value);
            let width = fields
                .iter()
                .map(|(k, _)| k.chars().count())
                .max()
                .unwrap_or(0);
            fields
                .into_iter()
                .map(|(k, v)| format!("{k:<width$}  {v}"))
                .collect()
        }
    }
}

/// Every leaf of `value` as (dotted path, text): `labels.os`, `params.env`, `steps[0].id`;
/// lists of plain values on one line; an empty object or list as `{}` / `[]`; null as `-`.
/// What an object is known by comes first; the rest in name order.
pub fn fields(value: &Value) -> Vec<(String, String)> {
    const FIRST: [&str; 8] = [
        "id", "seq", "name", "step_id", "workflow", "status", "state", "outcome",
    ];
    let mut out = Vec::new();
    walk("", value, &mut out);
    let rank = |path: &str| {
        let top = path.split(['.', '[']).next().unwrap_or(path);
        FIRST.iter().position(|f| *f == top).unwrap_or(FIRST.len())
    };
    out.sort_by_key(|(p, _)| rank(p));
    out
}

fn walk(path: &str, value: &Value, out: &mut Vec<(String, String)>) {
    let join = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                walk(&join(k), v, out);
            }
        }
        Value::Array(items) if items.iter().any(|v| v.is_object() || v.is_array()) => {
            for (i, v) in items.iter().enumerate() {
                walk(&format!("{path}[{i}]"), v, out);
            }
        }
        Value::Array(items) => {
            let text: Vec<String> = items.iter().map(scalar).collect();
            out.push((path.to_string(), format!("[{}]", text.join(", "))));
        }
        other => out.push((path.to_string(), scalar(other))),
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        Value::Object(_) => "{}".into(),
        other => other.to_string(),
    }
}

/// Lines of the screen that are not the text: header, tabs, footer, the box's borders.
const CHROME: usize = 5;

/// How far the text scrolls on a terminal `rows` high.
pub fn max_scroll(d: &Describe, rows: u16) -> usize {
    let room = usize::from(rows).saturating_sub(CHROME);
    d.lines().len().saturating_sub(room)
}

/// Draw the overlay over the body, sized to it.
pub fn draw(f: &mut Frame, area: Rect, d: &Describe, theme: Theme) {
    let width = area.width.saturating_sub(4).max(20);
    let rect = super::centered(area, width, area.height);
    let lines = d.lines();
    let room = usize::from(rect.height.saturating_sub(2));
    let scroll = d.scroll.min(lines.len().saturating_sub(room));
    let more = if lines.len() > room + scroll {
        " · ↓ more"
    } else {
        ""
    };
    let (mode, other) = if d.yaml {
        ("YAML", "Y fields")
    } else {
        ("fields", "Y yaml")
    };
    let name = format!(" {} {} ", d.target.kind(), d.target.id());
    let mut keys = format!("· {mode} · {other} · y copy id · esc closes{more} ");
    let room = usize::from(rect.width.saturating_sub(2));
    if name.chars().count() + keys.chars().count() > room {
        // Narrow: the keys in short (the help lists them in full).
        keys = format!("· {other} · y id · esc{more} ");
    }
    let title = Line::from(vec![
        Span::styled(name, theme.title()),
        Span::styled(keys, theme.dim()),
    ]);
    let text: Vec<Line> = lines
        .into_iter()
        .skip(scroll)
        .take(room)
        .map(|l| {
            if d.yaml {
                return Line::raw(l);
            }
            // The field's name stands out from its value.
            let split = l
                .char_indices()
                .find(|(_, c)| *c == ' ')
                .map_or(l.len(), |(i, _)| i);
            let (k, v) = l.split_at(split);
            Line::from(vec![
                Span::styled(k.to_string(), theme.key()),
                Span::raw(v.to_string()),
            ])
        })
        .collect();
    f.render_widget(Clear, rect);
    f.render_widget(
        Paragraph::new(text).block(Block::default().borders(Borders::ALL).title(title)),
        rect,
    );
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn fields_flatten_nested_objects_and_lists() {
        let v = serde_json::json!({
            "id": "01JG",
            "labels": {"os": "linux", "zone": "a"},
            "current": ["r/a#1", "r/b#2"],
            "empty": {},
            "none": null,
            "steps": [{"id": "build", "needs": []}],
            "n": 3
        });
        let f = fields(&v);
        let get = |k: &str| f.iter().find(|(p, _)| p == k).map(|(_, v)| v.as_str());
        assert_eq!(get("id"), Some("01JG"));
        assert_eq!(get("labels.os"), Some("linux"));
        assert_eq!(get("labels.zone"), Some("a"));
        assert_eq!(get("current"), Some("[r/a#1, r/b#2]"));
        assert_eq!(get("empty"), Some("{}"));
        assert_eq!(get("none"), Some("-"));
        assert_eq!(get("steps[0].id"), Some("build"));
        assert_eq!(get("steps[0].needs"), Some("[]"));
        assert_eq!(get("n"), Some("3"));
        assert_eq!(f[0].0, "id", "the id first");
    }

    #[test]
    fn yaml_is_the_same_object() {
        let d = Describe {
            target: Target::Agent("a".into()),
            value: serde_json::json!({"name": "gpu-1", "slots": 4}),
            yaml: true,
            scroll: 0,
        };
        assert_eq!(d.lines(), ["name: gpu-1", "slots: 4"]);
    }
}
