//! The text of a workflow version (the file it was applied from, or for versions applied before
//! imx kept sources, its parsed spec as YAML) and unified diffs between two such texts.

use imx::model::{Workflow, WorkflowSpec};

use super::super::error::CliError;

/// The text a version is shown and compared as, and whether it is the applied file itself.
pub struct Text {
    pub text: String,
    pub kept: bool,
}

/// The file `wf` was applied from, or its parsed spec as YAML when it has none.
pub fn of(wf: &Workflow) -> Result<Text, CliError> {
    if let Some(source) = &wf.spec.source {
        return Ok(Text {
            text: source.clone(),
            kept: true,
        });
    }
    Ok(Text {
        text: spec_yaml(&wf.spec)?,
        kept: false,
    })
}

/// What to tell about a version without a kept source.
pub fn no_source_note(wf: &Workflow) -> String {
    format!(
        "workflow {} version {} was applied before imx kept workflow files; \
         showing its parsed spec as YAML instead",
        wf.name, wf.version
    )
}

/// A spec as YAML, without its source.
pub fn spec_yaml(spec: &WorkflowSpec) -> Result<String, CliError> {
    let spec = WorkflowSpec {
        source: None,
        ..spec.clone()
    };
    serde_saphyr::to_string(&spec).map_err(|e| CliError::other(format!("cannot encode YAML: {e}")))
}

/// A unified diff (3 lines of context) from `old` to `new`, headed `--- old_label` /
/// `+++ new_label`; empty when the texts are equal. `color` paints removed lines red, added
/// lines green and hunk headers cyan.
pub fn unified(old_label: &str, old: &str, new_label: &str, new: &str, color: bool) -> String {
    if old == new {
        return String::new();
    }
    let diff = similar::TextDiff::from_lines(old, new);
    let text = diff
        .unified_diff()
        .context_radius(3)
        .header(old_label, new_label)
        .missing_newline_hint(true)
        .to_string();
    if !color {
        return text;
    }
    let paint =
        |style: console::Style, line: &str| style.force_styling(true).apply_to(line).to_string();
    text.lines()
        .map(|line| {
            let painted = if line.starts_with("---") || line.starts_with("+++") {
                paint(console::Style::new().bold(), line)
            } else if line.starts_with("@@") {
                paint(console::Style::new().cyan(), line)
            } else if line.starts_with('-') {
                paint(console::Style::new().red(), line)
            } else if line.starts_with('+') {
                paint(console::Style::new().green(), line)
            } else {
                line.to_string()
            };
            painted + "\n"
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::unified;

    #[test]
    fn equal_texts_have_no_diff_and_a_changed_line_is_one_hunk() {
        assert_eq!(unified("a", "x\n", "b", "x\n", false), "");
        let d = unified("v1", "a\nb\nc\n", "v2", "a\nB\nc\n", false);
        assert_eq!(d, "--- v1\n+++ v2\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n");
    }

    #[test]
    fn on_a_terminal_removed_lines_are_red_and_added_lines_green() {
        let d = unified("v1", "a\nb\n", "v2", "a\nB\n", true);
        let line = |start: &str| d.lines().find(|l| l.contains(start)).unwrap_or_default();
        assert!(line("-b").starts_with("\u{1b}[31m"), "{d:?}");
        assert!(line("+B").starts_with("\u{1b}[32m"), "{d:?}");
        assert!(line("@@").starts_with("\u{1b}[36m"), "{d:?}");
        assert_eq!(line(" a"), " a");
        let plain = console::strip_ansi_codes(&d).to_string();
        assert_eq!(plain, unified("v1", "a\nb\n", "v2", "a\nB\n", false));
    }
}
