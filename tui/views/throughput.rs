//! The overview's step throughput: one bar per minute, the newest ("now") at the right edge,
//! over a time axis (`-50m … -10m now`).

use imx::control::Overview;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Sparkline};

use super::super::format;
use super::super::theme::Theme;

/// Draw the throughput box in `area` (its border, bars and axis).
pub fn draw(f: &mut Frame, area: Rect, o: &Overview, theme: Theme) {
    // The newest full minute's rate; the current minute is still filling.
    let per_sec = |m: Option<&u64>| m.copied().unwrap_or(0) as f64 / 60.0;
    let last_full = o
        .throughput
        .len()
        .checked_sub(2)
        .and_then(|i| o.throughput.get(i));
    let pct = |v: Option<i64>| v.map(format::duration).unwrap_or_else(|| "–".into());
    let title = Line::from(vec![
        Span::styled(" Step throughput ", theme.title()),
        Span::raw(format!(
            "· {:.2} steps/s · p50 {} · p95 {} ",
            per_sec(last_full),
            pct(o.step_p50_ms),
            pct(o.step_p95_ms)
        )),
        Span::styled("· steps per minute ", theme.dim()),
    ]);
    let block = Block::default().borders(Borders::ALL).title(title);
    let inner = block.inner(area);
    f.render_widget(block, area);
    if inner.width == 0 || inner.height == 0 {
        return;
    }
    let width = usize::from(inner.width);
    let data: Vec<u64> = o
        .throughput
        .iter()
        .skip(o.throughput.len().saturating_sub(width))
        .copied()
        .collect();
    // The bars end at the right edge: the last one is the current minute.
    let bars = u16::try_from(data.len()).unwrap_or(inner.width);
    let axis_rows = u16::from(inner.height > 1);
    let spark = Rect {
        x: inner.right() - bars,
        y: inner.y,
        width: bars,
        height: inner.height - axis_rows,
    };
    f.render_widget(
        Sparkline::default().data(&data).style(theme.active()),
        spark,
    );
    if axis_rows == 1 {
        let axis = Rect {
            y: inner.bottom() - 1,
            height: 1,
            ..inner
        };
        f.render_widget(
            Paragraph::new(Line::styled(axis_text(width, data.len()), theme.dim())),
            axis,
        );
    }
}

/// The axis under `bars` one-minute bars that end at the right of `width` columns: `now` under
/// the last bar, and `-Nm` every ten minutes starting under the bar N minutes before it.
pub fn axis_text(width: usize, bars: usize) -> String {
    let mut row = vec![' '; width];
    let now = "now";
    let start = width.saturating_sub(now.len());
    for (i, c) in now.chars().enumerate() {
        if let Some(cell) = row.get_mut(start + i) {
            *cell = c;
        }
    }
    // Labels leftwards from "now", each where it fits with a space before the one to its right.
    let mut limit = start;
    let mut ago = 10;
    while ago < bars.min(width) {
        let label = format!("-{ago}m");
        let at = width - 1 - ago;
        if at + label.len() < limit {
            for (i, c) in label.chars().enumerate() {
                row[at + i] = c;
            }
            limit = at;
        }
        ago += 10;
    }
    row.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::axis_text;

    #[test]
    fn the_axis_ends_at_now_and_marks_every_ten_minutes() {
        let a = axis_text(70, 60);
        assert!(a.ends_with("now"), "{a:?}");
        assert_eq!(a.find("-10m"), Some(70 - 1 - 10));
        assert_eq!(a.find("-50m"), Some(70 - 1 - 50));
        assert!(!a.contains("-60m"), "no bar an hour ago: {a:?}");
        // Narrow: only what fits.
        let a = axis_text(14, 14);
        assert_eq!(a, "   -10m    now");
    }
}
