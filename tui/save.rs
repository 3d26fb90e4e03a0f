//! `ctrl-s` in Run detail: the step's whole log (not just the lines the pane holds), read from
//! the control plane page by page and written to `imx-<run short id>-<step>.log` in the current
//! directory, as captured (colour codes included, so `less -R` shows them).

use std::io::Write;
use std::path::{Path, PathBuf};

use imx::auth::Principal;
use imx::control::Plane;
use imx::model::{LogLine, short_id};

/// Lines read per request.
const BATCH: u32 = 5_000;

/// `imx-<short id>-<step>.log` (`all` for every step), with anything but letters, digits, `-`,
/// `_` and `.` in the step replaced so the name stays one plain file name.
pub fn file_name(run: &str, step: Option<&str>) -> String {
    let step: String = step
        .unwrap_or("all")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("imx-{}-{step}.log", short_id(run))
}

/// Write lines as captured, one per line; with `prefix`, each after its step (all-steps logs).
pub fn write_lines(out: &mut impl Write, lines: &[LogLine], prefix: bool) -> std::io::Result<()> {
    for l in lines {
        if prefix {
            write!(out, "{} | ", l.step_id)?;
        }
        writeln!(out, "{}", l.line)?;
    }
    Ok(())
}

/// Save the log; returns the message for the footer (where it went, or why it did not).
pub async fn save(
    plane: &Plane,
    who: &Principal,
    run: &str,
    step: Option<&str>,
    file: &str,
) -> (String, bool) {
    let path = std::env::current_dir()
        .map(|d| d.join(file))
        .unwrap_or_else(|_| PathBuf::from(file));
    match save_to(plane, who, run, step, &path).await {
        Ok(n) => (format!("Saved {n} lines to {}.", path.display()), false),
        Err(e) => (
            format!("Could not save the log to {}: {e}", path.display()),
            true,
        ),
    }
}

async fn save_to(
    plane: &Plane,
    who: &Principal,
    run: &str,
    step: Option<&str>,
    path: &Path,
) -> Result<usize, String> {
    let file = std::fs::File::create(path).map_err(|e| e.to_string())?;
    let mut out = std::io::BufWriter::new(file);
    let mut after = 0;
    let mut n = 0;
    loop {
        let batch = plane
            .run_logs(who, run, step, after, BATCH)
            .await
            .map_err(|e| e.to_string())?;
        write_lines(&mut out, &batch, step.is_none()).map_err(|e| e.to_string())?;
        n += batch.len();
        match batch.last() {
            Some(last) if batch.len() >= BATCH as usize => after = last.id,
            _ => break,
        }
    }
    out.flush().map_err(|e| e.to_string())?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::tui::fixtures;

    #[test]
    fn the_file_is_named_for_the_run_and_step() {
        let run = fixtures::id(0);
        let name = file_name(&run, Some("test"));
        assert_eq!(name, format!("imx-{}-test.log", short_id(&run)));
        assert!(file_name(&run, None).ends_with("-all.log"));
        assert!(file_name(&run, Some("../etc/x y")).ends_with("-.._etc_x_y.log"));
    }

    #[test]
    fn lines_are_written_as_captured() {
        let mut lines = fixtures::logs("test");
        lines[0].line = "\x1b[32mok\x1b[0m".into();
        let mut out = Vec::new();
        write_lines(&mut out, &lines[..2], false).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\x1b[32mok\x1b[0m\nrunning test suite 2/5\n"
        );
        let mut out = Vec::new();
        write_lines(&mut out, &lines[..1], true).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "test | \x1b[32mok\x1b[0m\n"
        );
    }
}
