//! `imx man [--out DIR]`: man pages generated from the clap definition, one per command and
//! subcommand (`imx.1`, `imx-run-list.1`, ...), and `imx-workflow.5`, the workflow file format,
//! made from the text of `imx help workflow` and `imx help templates`.

use std::path::PathBuf;

use clap::CommandFactory;

use super::Cli;
use super::context::Context;
use super::error::{CliError, Exit};

/// Write every man page to DIR, or print the top page (imx.1) to stdout.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx man | man -l -
  imx man --out man/")]
pub struct ManArgs {
    /// Write all pages into this directory (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

pub fn run(ctx: &Context, args: ManArgs) -> Result<(), CliError> {
    let pages = pages()?;
    match args.out {
        None => {
            let top = pages
                .into_iter()
                .find(|(name, _)| name == "imx.1")
                .map(|(_, page)| page)
                .unwrap_or_default();
            ctx.out().data(&String::from_utf8_lossy(&top))
        }
        Some(dir) => {
            std::fs::create_dir_all(&dir)
                .map_err(|e| CliError::other(format!("cannot create {}: {e}", dir.display())))?;
            for (name, page) in &pages {
                let path = dir.join(name);
                std::fs::write(&path, page).map_err(|e| {
                    CliError::other(format!("cannot write {}: {e}", path.display()))
                })?;
            }
            ctx.out().status(format!(
                "Wrote {} man pages to {}",
                pages.len(),
                dir.display()
            ));
            Ok(())
        }
    }
}

/// Every page as (file name, contents), in a stable order.
pub fn pages() -> Result<Vec<(String, Vec<u8>)>, CliError> {
    fn walk(cmd: &clap::Command, out: &mut Vec<(String, Vec<u8>)>) -> std::io::Result<()> {
        out.push(page(cmd)?);
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            walk(sub, out)?;
        }
        Ok(())
    }
    let mut cmd = Cli::command();
    cmd.build();
    let mut out = Vec::new();
    walk(&cmd, &mut out).map_err(|e| CliError::other(format!("cannot render man pages: {e}")))?;
    out.push(workflow_page());
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// The date on every page (`.TH`): when the pages' contents last changed in substance.
const DATE: &str = "2026-11-30";

/// One page: clap_mangen's sections (its NAME and title replaced), then EXIT STATUS,
/// ENVIRONMENT and FILES, made clean for `mandoc -Tlint`.
fn page(cmd: &clap::Command) -> std::io::Result<(String, Vec<u8>)> {
    let file = clap_mangen::Man::new(cmd.clone()).get_filename();
    let name = file.trim_end_matches(".1").to_string();
    let man = clap_mangen::Man::new(cmd.clone())
        .title(name.to_uppercase())
        .section("1")
        .date(DATE)
        .source(format!("imx {}", env!("CARGO_PKG_VERSION")))
        .manual("imx Manual");
    let mut buf = Vec::new();
    man.render_title(&mut buf)?;
    let about = cmd
        .get_about()
        .map(|a| a.to_string())
        .unwrap_or_default()
        .lines()
        .next()
        .unwrap_or_default()
        .trim_end_matches('.')
        .to_string();
    // The top page's about starts with its own name ("imx — the control plane ...").
    let about = about
        .strip_prefix(&format!("{name} — "))
        .map(str::to_string)
        .unwrap_or(about);
    buf.extend(format!(".SH NAME\n{name} \\- {}\n", escape(&about)).into_bytes());
    man.render_synopsis_section(&mut buf)?;
    man.render_description_section(&mut buf)?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut buf)?;
    }
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        man.render_subcommands_section(&mut buf)?;
    }
    if cmd.get_after_long_help().is_some() || cmd.get_after_help().is_some() {
        man.render_extra_section(&mut buf)?;
    }
    let mut tail = String::from(".SH EXIT STATUS\n");
    for (code, what) in Exit::TABLE {
        tail.push_str(&format!(".TP\n\\fB{}\\fR\n{}\n", code.code(), escape(what)));
    }
    tail.push_str(".SH ENVIRONMENT\n");
    for (var, what) in super::help_topics::ENVIRONMENT {
        tail.push_str(&format!(".TP\n\\fB{}\\fR\n{}\n", escape(var), escape(what)));
    }
    tail.push_str(".SH FILES\n");
    for (path, what) in super::help_topics::FILES {
        tail.push_str(&format!(
            ".TP\n\\fI{}\\fR\n{}\n",
            escape(path),
            escape(what)
        ));
    }
    tail.push_str(&format!(
        ".SH SEE ALSO\n\\fBimx help environment\\fR, \\fBimx help contexts\\fR, \\fBimx help workflow\\fR{}\n",
        if name == "imx" { "" } else { ", \\fBimx\\fR(1)" }
    ));
    buf.extend(tail.into_bytes());
    if cmd.get_version().is_some() {
        man.render_version_section(&mut buf)?;
    }
    Ok((
        file,
        lint_clean(&String::from_utf8_lossy(&buf)).into_bytes(),
    ))
}

/// `imx-workflow(5)`: the text of `imx help workflow` (its headings as subsections, indented
/// lines kept as written) and of `imx help templates`.
fn workflow_page() -> (String, Vec<u8>) {
    let mut page = format!(
        ".TH IMX-WORKFLOW 5 {DATE} \"imx {}\" \"imx Manual\"\n.SH NAME\n\
         imx-workflow \\- the workflow file format of imx\n.SH SYNOPSIS\n\
         \\fBimx workflow validate \\-f\\fR \\fIFILE\\fR\n.br\n\
         \\fBimx workflow apply \\-f\\fR \\fIFILE\\fR\n.SH DESCRIPTION\n",
        env!("CARGO_PKG_VERSION")
    );
    page.push_str(&roff_text(super::help_topics::WORKFLOW));
    page.push_str(".SH TEMPLATES\n");
    page.push_str(&roff_text(super::help::TEMPLATES));
    page.push_str(
        ".SH SEE ALSO\n\\fBimx\\fR(1), \\fBimx-workflow-apply\\fR(1), \\fBimx-workflow-run\\fR(1), \
         \\fBimx-secret\\fR(1), \\fBimx help workflow\\fR, \\fBimx help templates\\fR, \
         \\fBimx help secrets\\fR\n",
    );
    ("imx-workflow.5".into(), lint_clean(&page).into_bytes())
}

/// A help text as roff: its first line (the title) and the blank lines after it dropped; a line that ends with `:` and
/// starts a block of indented lines becomes a subsection (`.SS`); other lines are escaped,
/// indented ones kept as written (see [`lint_clean`]).
fn roff_text(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .skip(1)
        .skip_while(|l| l.trim().is_empty())
        .collect();
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        let next_indented = lines.get(i + 1).is_some_and(|l| l.starts_with("  "));
        if !line.starts_with(' ') && line.ends_with(':') && next_indented && line.len() < 100 {
            let heading = line.trim_end_matches(':');
            match heading.split_once(" (") {
                // `Step keys (of each step):` → `.SS Step keys`, then the parenthesis as text.
                Some((name, more)) => {
                    out.push_str(&format!(".SS {}\n", escape(name)));
                    out.push_str(&format!("{}\n", escape(&format!("({more}"))));
                }
                None => out.push_str(&format!(".SS {}\n", escape(heading))),
            }
        } else if line.starts_with(' ') {
            // Kept as written: only what roff itself would read is escaped.
            out.push_str(&line.replace('\\', "\\e").replace('-', "\\-"));
            out.push('\n');
        } else {
            out.push_str(&escape(line));
            out.push('\n');
        }
    }
    out
}

/// Text for a roff text line: backslashes and hyphens escaped, a leading `.` or `'` guarded.
fn escape(text: &str) -> String {
    let s = text.replace('\\', "\\e").replace('-', "\\-");
    if s.starts_with('.') || s.starts_with('\'') {
        format!("\\&{s}")
    } else {
        s
    }
}

/// What `mandoc -Tlint` asks of a page, without changing how it reads: no trailing blanks, no
/// blank lines (a `.sp`), no `.br` beside a `.sp`, indented lines (examples) unfilled, other
/// text lines of at most 80 bytes (broken at spaces in filled text, where a break is a space).
fn lint_clean(page: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut fill = true;
    let mut pre = false;
    for raw in page.lines() {
        let line = raw.trim_end();
        if line.is_empty() {
            if pre {
                lines.push(".fi".into());
                pre = false;
            }
            lines.push(".sp".into());
            continue;
        }
        match line {
            ".nf" => fill = false,
            ".fi" => fill = true,
            _ => {}
        }
        if pre && line.starts_with('.') && line != ".br" && line != ".sp" {
            lines.push(".fi".into());
            pre = false;
        }
        // Indented lines (examples, tables) keep their spacing: unfilled.
        let indented = fill && line.starts_with(' ');
        if indented && !pre {
            lines.push(".nf".into());
            pre = true;
        } else if !indented && pre && !line.starts_with('.') {
            lines.push(".fi".into());
            pre = false;
        }
        if line.starts_with('.') || !fill || pre || line.len() <= 80 {
            lines.push(line.to_string());
            continue;
        }
        lines.extend(wrap(line));
    }
    if pre {
        lines.push(".fi".into());
    }
    // A `.br` next to a `.sp` is redundant (mandoc skips it, with a warning).
    let mut out: Vec<String> = Vec::new();
    let mut seen_prelude = 0;
    for line in lines {
        // Each clap_mangen section comes with the `Aq` string definitions: keep the first.
        if line.starts_with(".ie \\n(.g .ds Aq") || line.starts_with(".el .ds Aq") {
            seen_prelude += 1;
            if seen_prelude > 2 {
                continue;
            }
        }
        let last = out.last().map(String::as_str);
        if line == ".br" && last == Some(".sp") {
            continue;
        }
        if line == ".sp" && last == Some(".br") {
            out.pop();
        }
        if line == ".sp" && matches!(out.last().map(String::as_str), Some(".sp")) {
            continue;
        }
        out.push(line);
    }
    let mut text = out.join("\n");
    text.push('\n');
    text
}

/// A filled text line broken at unescaped spaces into lines of at most 80 bytes (a word longer
/// than that stays whole); a piece that would start like a request is guarded with `\&`.
fn wrap(line: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut escaped = false;
    for c in line.chars() {
        if c == ' ' && !escaped && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        } else if !(c == ' ' && current.is_empty() && !words.is_empty()) {
            current.push(c);
        }
        escaped = c == '\\' && !escaped;
    }
    if !current.is_empty() {
        words.push(current);
    }
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    for word in words {
        if !cur.is_empty() && cur.len() + 1 + word.len() > 80 {
            out.push(std::mem::take(&mut cur));
        }
        if cur.is_empty() {
            // A continuation must not start with a space, `.` or `'` (a break or a request).
            if !out.is_empty() && (word.starts_with('.') || word.starts_with('\'')) {
                cur.push_str("\\&");
            }
        } else {
            cur.push(' ');
        }
        cur.push_str(&word);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::lint_clean;

    #[test]
    fn long_lines_break_at_spaces_and_examples_stay_as_written() {
        let long = format!("{} .dot 'quote\\ kept", "word ".repeat(30));
        let page = format!(".SH X\n{long}  \n\n.br\nExamples:\n  imx a      # aligned\n.SH Y\n");
        let clean = lint_clean(&page);
        for line in clean.lines() {
            assert!(line.len() <= 80 || line.starts_with("  "), "{line:?}");
            assert_eq!(line, line.trim_end());
            assert!(!line.is_empty());
        }
        let words: Vec<&str> = clean.split_whitespace().collect();
        assert!(
            words.contains(&"\\&.dot") || words.contains(&".dot"),
            "{clean}"
        );
        assert!(clean.contains("'quote\\ kept"), "{clean}");
        assert!(
            clean.contains(".sp\nExamples:\n.nf\n  imx a      # aligned\n.fi\n.SH Y"),
            "{clean}"
        );
    }
}
