//! Source snippets under workflow errors, like rustc: each `FILE:LINE:COL: message` line of an
//! error gets the source line it points at and a caret under the column.
//!
//! ```text
//! error: deploy.yaml:14:12: step "test" needs unknown step "buld"
//!    |
//! 14 |     needs: [buld]
//!    |            ^
//! hint: did you mean "build"?
//! ```

/// `message` with a snippet after each line that points into a source `source_of` can read.
pub fn annotate(message: &str, source_of: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::new();
    for (i, line) in message.lines().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(line);
        if let Some((file, row, col)) = location(line)
            && let Some(source) = source_of(file)
            && let Some(text) = source.lines().nth(row.saturating_sub(1))
        {
            out.push_str(&snippet(text, row, col));
        }
    }
    out
}

/// `FILE:LINE:COL` at the start of `line` (the file may contain colons).
fn location(line: &str) -> Option<(&str, usize, usize)> {
    let (head, _) = line.split_once(": ")?;
    let mut parts = head.rsplitn(3, ':');
    let col = parts.next()?.parse().ok()?;
    let row = parts.next()?.parse().ok()?;
    let file = parts.next()?;
    (row > 0 && !file.is_empty()).then_some((file, row, col))
}

/// The lines under a message: a gutter, the source line (tabs shown as spaces), a caret.
fn snippet(text: &str, row: usize, col: usize) -> String {
    let n = row.to_string();
    let pad = " ".repeat(n.len());
    let text = text.replace('\t', " ");
    // The caret sits under the column-th character (columns count characters from 1).
    let before: String = text
        .chars()
        .take(col.saturating_sub(1))
        .map(|c| if c.is_whitespace() { c } else { ' ' })
        .collect();
    format!("\n{pad} |\n{n} | {text}\n{pad} | {before}^")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_caret_under_the_column() {
        let src = "name: x\nsteps:\n  - id: a\n    needs: [b]\n";
        let msg = "wf.yaml:4:13: step \"a\" needs unknown step \"b\"\nother line";
        let out = annotate(msg, &|f| (f == "wf.yaml").then(|| src.to_string()));
        assert_eq!(
            out,
            "wf.yaml:4:13: step \"a\" needs unknown step \"b\"\n  |\n4 |     needs: [b]\n  |             ^\nother line"
        );
        // Nothing to point at: unchanged.
        assert_eq!(annotate("no location here", &|_| None), "no location here");
        assert_eq!(annotate("c:/x.yaml:9:1: m", &|_| None), "c:/x.yaml:9:1: m");
        assert_eq!(location("c:/x.yaml:9:1: m"), Some(("c:/x.yaml", 9, 1)));
    }
}
