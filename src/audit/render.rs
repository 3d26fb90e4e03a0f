//! Rendering an [`AuditReport`] as text, JSON, CSV, Markdown or a self-contained HTML page
//! (inline CSS and SVG charts, no scripts, no network), so the same report reads the same in a
//! terminal, a SIEM and an auditor's browser.

use std::fmt::Write;

use super::report::{AuditReport, Count, Entries};
use crate::{Error, Result};

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Table,
    Json,
    Csv,
    Markdown,
    Html,
}

/// Render `r` in `format`.
pub fn render(r: &AuditReport, format: ReportFormat) -> Result<String> {
    Ok(match format {
        ReportFormat::Table => text(r),
        ReportFormat::Json => {
            let mut s =
                serde_json::to_string_pretty(r).map_err(|e| Error::Internal(e.to_string()))?;
            s.push('\n');
            s
        }
        ReportFormat::Csv => csv(r),
        ReportFormat::Markdown => markdown(r),
        ReportFormat::Html => html(r),
    })
}

fn t(ms: i64) -> String {
    super::rfc3339(ms)
}

fn window(r: &AuditReport) -> String {
    format!(
        "{} to {}",
        r.window.since.map_or_else(|| "the beginning".into(), t),
        r.window.until.map_or_else(|| t(r.generated_at), t)
    )
}

fn verdict(r: &AuditReport) -> String {
    let v = &r.verification;
    match &v.problem {
        None => format!(
            "OK: {} records verify (seq {}..{}), {} checkpoint(s) hold",
            v.records,
            v.first_seq.unwrap_or(v.base.seq + 1),
            v.head_seq,
            v.checkpoints
        ),
        Some(p) => format!("FAILED at seq {}: {}", p.seq, p.message),
    }
}

fn runs(r: &AuditReport) -> Vec<(String, String)> {
    r.run_outcomes
        .iter()
        .map(|(k, v)| (k.clone(), v.to_string()))
        .collect()
}

fn churn(r: &AuditReport) -> Vec<(String, String)> {
    let c = &r.agent_churn;
    [
        ("registered", c.registered),
        ("distinct agents", c.distinct_agents),
        ("drained", c.drained),
        ("resumed", c.resumed),
        ("removed", c.removed),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn counts(c: &[Count]) -> Vec<(String, String)> {
    c.iter()
        .map(|c| {
            let v = if c.failed > 0 {
                format!("{} ({} failed/denied)", c.count, c.failed)
            } else {
                c.count.to_string()
            };
            (c.key.clone(), v)
        })
        .collect()
}

fn entry_lines(e: &Entries) -> Vec<String> {
    e.recent
        .iter()
        .rev()
        .map(|e| {
            let mut s = format!(
                "#{} {} {} {} {} {}",
                e.seq,
                t(e.time),
                e.actor,
                e.action,
                e.target,
                e.outcome
            );
            if !e.details.is_empty() {
                s.push(' ');
                s.push_str(&e.details);
            }
            s
        })
        .collect()
}

/// The sections shared by the text and Markdown renderers.
fn sections(r: &AuditReport) -> Vec<(&'static str, Vec<(String, String)>)> {
    vec![
        ("Activity by actor", counts(&r.by_actor)),
        ("Activity by action", counts(&r.by_action)),
        ("Outcomes", counts(&r.by_outcome)),
        ("Run outcomes (runs created in the period)", runs(r)),
        ("Agent churn", churn(r)),
    ]
}

fn lists(r: &AuditReport) -> Vec<(&'static str, &Entries)> {
    vec![
        ("Auth failures and denied operations", &r.auth_failures),
        ("Lockouts", &r.lockouts),
        (
            "Privilege changes (users, roles, tokens)",
            &r.privilege_changes,
        ),
        ("Backup, restore and audit maintenance history", &r.backups),
    ]
}

fn text(r: &AuditReport) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Audit report for {}", r.location);
    let _ = writeln!(s, "Period:       {}", window(r));
    let _ = writeln!(s, "Records:      {}", r.records);
    let _ = writeln!(s, "Verification: {}", verdict(r));
    let _ = writeln!(
        s,
        "Head:         seq {} {}",
        r.verification.head_seq, r.verification.head_hash
    );
    for (title, rows) in sections(r) {
        let _ = writeln!(s, "\n{title}:");
        if rows.is_empty() {
            let _ = writeln!(s, "  (none)");
        }
        let w = rows
            .iter()
            .map(|(k, _)| k.chars().count())
            .max()
            .unwrap_or(0);
        for (k, v) in rows {
            let _ = writeln!(s, "  {k:<w$}  {v}");
        }
    }
    for (title, e) in lists(r) {
        let _ = writeln!(s, "\n{title}: {}", e.total);
        for line in entry_lines(e) {
            let _ = writeln!(s, "  {line}");
        }
    }
    s
}

fn csv_field(v: &str) -> String {
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_string()
    }
}

fn csv(r: &AuditReport) -> String {
    let mut s = String::from("section,key,count,failed\n");
    let mut row = |section: &str, key: &str, count: String, failed: String| {
        let _ = writeln!(
            s,
            "{},{},{},{}",
            csv_field(section),
            csv_field(key),
            csv_field(&count),
            csv_field(&failed)
        );
    };
    row("summary", "records", r.records.to_string(), String::new());
    row(
        "verification",
        if r.verification.ok { "ok" } else { "failed" },
        r.verification.head_seq.to_string(),
        r.verification.head_hash.clone(),
    );
    for (section, c) in [
        ("actor", &r.by_actor),
        ("action", &r.by_action),
        ("outcome", &r.by_outcome),
    ] {
        for c in c {
            row(section, &c.key, c.count.to_string(), c.failed.to_string());
        }
    }
    for (k, v) in &r.run_outcomes {
        row("run_outcome", k, v.to_string(), String::new());
    }
    for (k, v) in churn(r) {
        row("agent_churn", &k, v, String::new());
    }
    for (section, e) in [
        ("auth_failures", &r.auth_failures),
        ("lockouts", &r.lockouts),
        ("privilege_changes", &r.privilege_changes),
        ("backups", &r.backups),
    ] {
        row(section, "total", e.total.to_string(), String::new());
    }
    for b in &r.timeline {
        row(
            "timeline",
            &t(b.start),
            b.count.to_string(),
            b.failed.to_string(),
        );
    }
    s
}

fn md_cell(v: &str) -> String {
    v.replace('|', "\\|").replace('\n', " ")
}

fn markdown(r: &AuditReport) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Audit report: {}\n", md_cell(&r.location));
    let _ = writeln!(s, "- **Period:** {}", window(r));
    let _ = writeln!(s, "- **Generated:** {}", t(r.generated_at));
    let _ = writeln!(s, "- **Records in period:** {}", r.records);
    let _ = writeln!(s, "- **Verification:** {}", md_cell(&verdict(r)));
    let _ = writeln!(
        s,
        "- **Head:** seq {} `{}`",
        r.verification.head_seq, r.verification.head_hash
    );
    for (title, rows) in sections(r) {
        let _ = writeln!(s, "\n## {title}\n\n| | |\n|---|---|");
        for (k, v) in rows {
            let _ = writeln!(s, "| {} | {} |", md_cell(&k), md_cell(&v));
        }
    }
    for (title, e) in lists(r) {
        let _ = writeln!(s, "\n## {title} ({})\n", e.total);
        if e.recent.is_empty() {
            let _ = writeln!(s, "None.");
            continue;
        }
        let _ = writeln!(
            s,
            "| seq | time | actor | action | target | outcome |\n|---|---|---|---|---|---|"
        );
        for e in e.recent.iter().rev() {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} |",
                e.seq,
                t(e.time),
                md_cell(&e.actor),
                md_cell(&e.action),
                md_cell(&e.target),
                md_cell(&e.outcome)
            );
        }
    }
    s
}

/// Escape text for HTML.
pub fn esc(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '&' => s.push_str("&amp;"),
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '"' => s.push_str("&quot;"),
            '\'' => s.push_str("&#39;"),
            c => s.push(c),
        }
    }
    s
}

/// Activity over time as an inline SVG bar chart (failed/denied part in red).
fn timeline_svg(r: &AuditReport) -> String {
    let n = r.timeline.len().max(1);
    let (w, h, pad) = (720.0_f64, 160.0_f64, 24.0_f64);
    let max = r.timeline.iter().map(|b| b.count).max().unwrap_or(0).max(1) as f64;
    let bw = (w - 2.0 * pad) / n as f64;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"100%\" role=\"img\" aria-label=\"Activity over time\">"
    );
    let _ = write!(
        s,
        "<line x1=\"{pad}\" y1=\"{y}\" x2=\"{x2}\" y2=\"{y}\" stroke=\"#999\"/>",
        y = h - pad,
        x2 = w - pad
    );
    for (i, b) in r.timeline.iter().enumerate() {
        let x = pad + i as f64 * bw;
        let bh = (h - 2.0 * pad) * b.count as f64 / max;
        let fh = (h - 2.0 * pad) * b.failed as f64 / max;
        let _ = write!(
            s,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"#4a78c2\"><title>{}: {} requests, {} failed/denied</title></rect>",
            h - pad - bh,
            (bw - 1.0).max(0.5),
            esc(&t(b.start)),
            b.count,
            b.failed
        );
        if fh > 0.0 {
            let _ = write!(
                s,
                "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{fh:.1}\" fill=\"#c0392b\"/>",
                h - pad - fh,
                (bw - 1.0).max(0.5)
            );
        }
    }
    let _ = write!(
        s,
        "<text x=\"{pad}\" y=\"14\" font-size=\"11\">max {max} per bucket</text>"
    );
    if let (Some(first), Some(last)) = (r.timeline.first(), r.timeline.last()) {
        let _ = write!(
            s,
            "<text x=\"{pad}\" y=\"{}\" font-size=\"11\">{}</text><text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"end\">{}</text>",
            h - 6.0,
            esc(&t(first.start)),
            w - pad,
            h - 6.0,
            esc(&t(last.start))
        );
    }
    s.push_str("</svg>");
    s
}

/// Horizontal bars for the top counts.
fn bars_svg(c: &[Count]) -> String {
    let top: Vec<&Count> = c.iter().take(12).collect();
    let max = top.iter().map(|c| c.count).max().unwrap_or(0).max(1) as f64;
    let (w, row) = (720.0_f64, 20.0_f64);
    let h = row * top.len().max(1) as f64 + 4.0;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"100%\" role=\"img\">"
    );
    for (i, c) in top.iter().enumerate() {
        let y = i as f64 * row + 2.0;
        let bw = (w - 260.0) * c.count as f64 / max;
        let _ = write!(
            s,
            "<text x=\"0\" y=\"{:.1}\" font-size=\"12\">{}</text><rect x=\"200\" y=\"{y:.1}\" width=\"{bw:.1}\" height=\"{:.1}\" fill=\"#4a78c2\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\">{}</text>",
            y + 13.0,
            esc(&c.key.chars().take(30).collect::<String>()),
            row - 6.0,
            205.0 + bw,
            y + 13.0,
            c.count
        );
    }
    s.push_str("</svg>");
    s
}

fn html_table(rows: &[(String, String)]) -> String {
    if rows.is_empty() {
        return "<p>None.</p>".into();
    }
    let mut s = String::from("<table>");
    for (k, v) in rows {
        let _ = write!(s, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(v));
    }
    s.push_str("</table>");
    s
}

fn html_entries(e: &Entries) -> String {
    if e.recent.is_empty() {
        return "<p>None.</p>".into();
    }
    let mut s = String::from(
        "<table><tr><th>seq</th><th>time</th><th>actor</th><th>action</th><th>target</th><th>outcome</th><th>details</th></tr>",
    );
    for e in e.recent.iter().rev() {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            e.seq,
            esc(&t(e.time)),
            esc(&e.actor),
            esc(&e.action),
            esc(&e.target),
            esc(&e.outcome),
            esc(&e.details)
        );
    }
    s.push_str("</table>");
    s
}

fn html(r: &AuditReport) -> String {
    let ok = r.verification.ok;
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Audit report: {loc}</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;color:#222}}\
         table{{border-collapse:collapse;margin:.5em 0;width:100%}}th,td{{border:1px solid #ddd;padding:3px 6px;text-align:left;font-size:13px}}\
         th{{background:#f4f4f4}}.ok{{color:#1e7e34}}.bad{{color:#c0392b}}code{{font-size:12px}}\
         .verdict{{padding:.6em 1em;border-radius:4px;background:{bg}}}</style></head><body>\
         <h1>Audit report</h1><p>{loc}<br>Period: {period}<br>Generated: {gen}<br>Records in period: {n}</p>\
         <p class=\"verdict {cls}\"><strong>Verification: {verdict}</strong><br>Head: seq {hs} <code>{hh}</code></p>",
        loc = esc(&r.location),
        bg = if ok { "#e8f5e9" } else { "#fdecea" },
        period = esc(&window(r)),
        gen = esc(&t(r.generated_at)),
        n = r.records,
        cls = if ok { "ok" } else { "bad" },
        verdict = esc(&verdict(r)),
        hs = r.verification.head_seq,
        hh = esc(&r.verification.head_hash),
    );
    let _ = write!(
        s,
        "<h2>Activity over time</h2>{}<h2>Activity by actor</h2>{}{}<h2>Activity by action</h2>{}{}",
        timeline_svg(r),
        bars_svg(&r.by_actor),
        html_table(&counts(&r.by_actor)),
        bars_svg(&r.by_action),
        html_table(&counts(&r.by_action)),
    );
    let _ = write!(
        s,
        "<h2>Outcomes</h2>{}<h2>Run outcomes</h2>{}<h2>Agent churn</h2>{}",
        html_table(&counts(&r.by_outcome)),
        html_table(&runs(r)),
        html_table(&churn(r)),
    );
    for (title, e) in lists(r) {
        let _ = write!(
            s,
            "<h2>{} ({})</h2>{}",
            esc(title),
            e.total,
            html_entries(e)
        );
    }
    s.push_str("</body></html>\n");
    s
}
