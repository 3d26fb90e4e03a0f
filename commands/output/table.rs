//! Tables (comfy-table, kubectl-like: no borders, sized to the terminal) and CSV.

use comfy_table::{Cell, Color, ColumnConstraint, ContentArrangement, Table, Width, presets};

use super::Style;

/// Render rows under headers as aligned columns, wrapping to `style.width` when set.
pub fn render(
    headers: &[&str],
    rows: impl IntoIterator<Item = Vec<String>>,
    style: &Style,
) -> String {
    let mut table = Table::new();
    table.load_preset(presets::NOTHING);
    if style.color {
        table.enforce_styling();
    }
    match style.width {
        Some(width) => {
            table.set_content_arrangement(ContentArrangement::Dynamic);
            table.set_width(width);
        }
        None => {
            table.set_content_arrangement(ContentArrangement::Disabled);
        }
    }
    table.set_header(headers.iter().map(Cell::new));
    for row in rows {
        table.add_row(row.into_iter().map(|c| cell(c, style.color)));
    }
    for (column, header) in table.column_iter_mut().zip(headers) {
        column.set_padding((0, 2));
        // Never squeeze a column below its header.
        let min = u16::try_from(header.chars().count())
            .unwrap_or(u16::MAX)
            .max(1);
        column.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(min)));
    }
    let mut out = String::new();
    for line in table.lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The most characters of one cell a table lays out; the rest is cut. Laying out a long cell
/// costs time quadratic in its length (a 100 KB cell took seconds), and column widths are
/// 16-bit. Commands shorten long values themselves; this is the backstop.
const MAX_CELL: usize = 4_096;

/// A cell, coloured by the state word it holds (only when colour is on), cut to [`MAX_CELL`].
fn cell(mut text: String, color: bool) -> Cell {
    if let Some((end, _)) = text.char_indices().nth(MAX_CELL) {
        let cut = text.len() - end;
        text.truncate(end);
        text.push_str(&format!("… ({cut} more bytes)"));
    }
    let colour = color.then(|| state_colour(&text)).flatten();
    let cell = Cell::new(text);
    match colour {
        Some(c) => cell.fg(c),
        None => cell,
    }
}

/// The colour of a state word or symbol, shared by every table.
fn state_colour(text: &str) -> Option<Color> {
    Some(match text {
        "succeeded" | "online" | "created" | "✓" => Color::Green,
        "failed" | "offline" | "✗" => Color::Red,
        "running" | "leased" | "busy" | "updated" | "◐" => Color::Cyan,
        "cancelled" | "timed_out" | "draining" | "skipped" | "⊘" | "↷" => Color::Yellow,
        "queued" | "pending" | "ready" | "unchanged" => Color::DarkGrey,
        _ => return None,
    })
}

/// RFC 4180 CSV: a header line and one line per row.
pub fn csv(headers: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut out = String::new();
    push_csv_line(&mut out, headers.iter().map(|h| h.to_lowercase()));
    for row in rows {
        push_csv_line(&mut out, row);
    }
    out
}

fn push_csv_line(out: &mut String, fields: impl IntoIterator<Item = String>) {
    let fields: Vec<String> = fields.into_iter().map(|f| csv_field(&f)).collect();
    out.push_str(&fields.join(","));
    out.push('\n');
}

fn csv_field(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}
