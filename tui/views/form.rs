//! The start-run form: one field per workflow parameter, pre-filled with defaults; enter checks
//! required fields and enum values, then asks for confirmation.

use std::collections::BTreeMap;

use imx::model::{ParamSpec, ParamType};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::super::action::Edit;
use super::super::theme::Theme;

/// One parameter being edited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub ty: ParamType,
    pub required: bool,
    /// Allowed values, if the parameter is an enum.
    pub allowed: Vec<String>,
    pub value: String,
}

/// The form's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    pub workflow: String,
    pub fields: Vec<Field>,
    pub focus: usize,
    pub error: Option<String>,
}

fn plain(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Form {
    pub fn new(workflow: &str, params: &[ParamSpec]) -> Self {
        Form {
            workflow: workflow.into(),
            fields: params
                .iter()
                .map(|p| Field {
                    name: p.name.clone(),
                    ty: p.ty,
                    required: p.required,
                    allowed: p.allowed.iter().flatten().map(plain).collect(),
                    value: p.default.as_ref().map(plain).unwrap_or_default(),
                })
                .collect(),
            focus: 0,
            error: None,
        }
    }

    pub fn edit(&mut self, e: &Edit) {
        let n = self.fields.len().max(1);
        match e {
            Edit::Next => self.focus = (self.focus + 1) % n,
            Edit::Prev => self.focus = (self.focus + n - 1) % n,
            Edit::Char(c) => {
                if let Some(f) = self.fields.get_mut(self.focus) {
                    f.value.push(*c);
                }
            }
            Edit::Backspace => {
                if let Some(f) = self.fields.get_mut(self.focus) {
                    f.value.pop();
                }
            }
            Edit::DeleteWord => {
                if let Some(f) = self.fields.get_mut(self.focus) {
                    f.value.clear();
                }
            }
        }
        self.error = None;
    }

    /// The params to start the run with, or what is wrong (the server checks types again).
    pub fn submit(&self) -> Result<BTreeMap<String, String>, String> {
        let mut out = BTreeMap::new();
        for f in &self.fields {
            let v = f.value.trim();
            if v.is_empty() {
                if f.required {
                    return Err(format!("{} is required", f.name));
                }
                continue;
            }
            if !f.allowed.is_empty() && !f.allowed.iter().any(|a| a == v) {
                return Err(format!(
                    "{} must be one of: {}",
                    f.name,
                    f.allowed.join(", ")
                ));
            }
            let ok = match f.ty {
                ParamType::String => true,
                ParamType::Int => v.parse::<i64>().is_ok(),
                ParamType::Float => v.parse::<f64>().is_ok(),
                ParamType::Bool => matches!(v, "true" | "false"),
            };
            if !ok {
                return Err(format!("{} must be a {:?}", f.name, f.ty).to_lowercase());
            }
            out.insert(f.name.clone(), v.to_string());
        }
        Ok(out)
    }
}

/// Draw the form centred in `area`.
pub fn draw(f: &mut Frame, area: Rect, form: &Form, theme: Theme) {
    let h = u16::try_from(form.fields.len() + 5).unwrap_or(u16::MAX);
    let rect = super::centered(area, 64, h);
    let mut lines = Vec::new();
    for (i, field) in form.fields.iter().enumerate() {
        let marker = if i == form.focus { "▸ " } else { "  " };
        let mut hint = format!("{:?}", field.ty).to_lowercase();
        if field.required {
            hint.push_str(", required");
        }
        if !field.allowed.is_empty() {
            hint = field.allowed.join("|");
        }
        let value_style = if i == form.focus {
            theme.selected()
        } else {
            ratatui::style::Style::default()
        };
        lines.push(Line::from(vec![
            Span::raw(marker),
            Span::styled(format!("{:<14}", field.name), theme.key()),
            Span::styled(format!("{:<20}", field.value), value_style),
            Span::styled(format!(" {hint}"), theme.dim()),
        ]));
    }
    lines.push(Line::raw(""));
    match &form.error {
        Some(e) => lines.push(Line::styled(format!("  {e}"), theme.error())),
        None => lines.push(Line::styled(
            "  tab/↑↓ move · type to edit · enter start · esc cancel",
            theme.dim(),
        )),
    }
    let block = Block::default().borders(Borders::ALL).title(Span::styled(
        format!(" Start {} ", form.workflow),
        theme.title(),
    ));
    f.render_widget(Clear, rect);
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        rect,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(name: &str, ty: ParamType, required: bool, default: Option<&str>) -> ParamSpec {
        ParamSpec {
            name: name.into(),
            ty,
            required,
            default: default.map(|d| serde_json::Value::String(d.into())),
            allowed: None,
            description: None,
        }
    }

    #[test]
    fn required_fields_and_types_are_checked_before_asking() {
        let mut form = Form::new(
            "deploy",
            &[
                param("version", ParamType::String, true, None),
                param("replicas", ParamType::Int, false, Some("2")),
            ],
        );
        assert_eq!(form.submit(), Err("version is required".into()));
        for c in "1.2".chars() {
            form.edit(&Edit::Char(c));
        }
        form.edit(&Edit::Next);
        form.edit(&Edit::Char('x'));
        assert_eq!(form.submit(), Err("replicas must be a int".into()));
        form.edit(&Edit::Backspace);
        let params = form.submit().unwrap_or_default();
        assert_eq!(params.get("version").map(String::as_str), Some("1.2"));
        assert_eq!(params.get("replicas").map(String::as_str), Some("2"));
    }
}
