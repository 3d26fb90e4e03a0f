//! The last lines of a run's (or one step's) output, and the failing steps' last lines that
//! `run show`, `run wait` and `workflow run --wait` print when a run failed (like
//! `gh run view --log-failed`).

use std::collections::VecDeque;

use imx::auth::Principal;
use imx::control::Plane;
use imx::model::{LogLine, RunDetail, StepStatus};

use super::super::error::CliError;

/// How many of a failed step's last lines are shown on failure.
pub const FAILED_LINES: usize = 20;

/// How many lines to read per request.
const BATCH: u32 = 1_000;

/// Read the run's lines (one step's with `step`) that `keep` accepts, keeping the last `n`
/// (all with `None`), and the id of the last line read (to follow from).
pub async fn read(
    plane: &Plane,
    who: &Principal,
    run_id: &str,
    step: Option<&str>,
    n: Option<usize>,
    keep: &dyn Fn(&LogLine) -> bool,
) -> Result<(Vec<LogLine>, i64), CliError> {
    if let Some(n) = n
        && let Some(read) = read_back(plane, who, run_id, step, n, keep).await?
    {
        return Ok(read);
    }
    let mut out: VecDeque<LogLine> = VecDeque::new();
    let mut after = 0_i64;
    loop {
        let lines = plane.run_logs(who, run_id, step, after, BATCH).await?;
        let Some(last) = lines.last() else { break };
        after = last.id;
        let full = lines.len() as u32 >= BATCH;
        for line in lines {
            if keep(&line) {
                out.push_back(line);
                if n.is_some_and(|n| out.len() > n) {
                    out.pop_front();
                }
            }
        }
        if !full {
            break;
        }
    }
    Ok((out.into(), after))
}

/// The last `n` lines `keep` accepts, read backwards from the end of the log (so the tail
/// of a long log costs what it shows), and the id of the newest line. `None` where the
/// control plane cannot read backwards (a server from before it could): read forwards then.
async fn read_back(
    plane: &Plane,
    who: &Principal,
    run_id: &str,
    step: Option<&str>,
    n: usize,
    keep: &dyn Fn(&LogLine) -> bool,
) -> Result<Option<(Vec<LogLine>, i64)>, CliError> {
    let mut kept: Vec<LogLine> = Vec::new();
    let mut before: Option<i64> = None;
    let mut newest = 0_i64;
    loop {
        let page = match plane
            .run_logs_before(who, run_id, step, before, BATCH)
            .await
        {
            Ok(page) => page,
            Err(e) if before.is_none() && is_unsupported(&e) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let (Some(first), Some(last)) = (page.first(), page.last()) else {
            break;
        };
        if before.is_none() {
            newest = last.id;
        }
        before = Some(first.id);
        let full = page.len() as u32 >= BATCH;
        // The page is oldest first: take from its end until `n` are kept.
        for line in page.into_iter().rev() {
            if kept.len() >= n {
                break;
            }
            if keep(&line) {
                kept.push(line);
            }
        }
        if kept.len() >= n || !full {
            break;
        }
    }
    kept.reverse();
    Ok(Some((kept, newest)))
}

/// Whether `e` says the control plane (or its server) cannot do what was asked.
fn is_unsupported(e: &imx::Error) -> bool {
    matches!(
        e,
        imx::Error::Unsupported { .. } | imx::Error::Invalid { .. }
    )
}

/// The failed steps of a run, with their last [`FAILED_LINES`] lines of output.
pub async fn failed_steps(
    plane: &Plane,
    who: &Principal,
    detail: &RunDetail,
) -> Result<Vec<(String, Vec<LogLine>)>, CliError> {
    let mut out = Vec::new();
    for s in detail
        .steps
        .iter()
        .filter(|s| s.status == StepStatus::Failed)
    {
        let attempt = s.attempt;
        let (lines, _) = read(
            plane,
            who,
            &detail.run.id,
            Some(&s.step_id),
            Some(FAILED_LINES),
            &|l| l.attempt == attempt,
        )
        .await?;
        out.push((s.step_id.clone(), lines));
    }
    Ok(out)
}

/// The failed steps' last lines as text for people: a heading per step, its lines indented.
pub fn render_failed(steps: &[(String, Vec<LogLine>)]) -> String {
    let mut out = String::new();
    for (step, lines) in steps {
        if lines.is_empty() {
            out.push_str(&format!("Step {step} failed and wrote no output.\n"));
            continue;
        }
        let what = if lines.len() == 1 {
            "line".to_string()
        } else {
            format!("{} lines", lines.len())
        };
        out.push_str(&format!("Last {what} of step {step}:\n"));
        for l in lines {
            out.push_str("  ");
            out.push_str(&l.line);
            out.push('\n');
        }
    }
    out
}
