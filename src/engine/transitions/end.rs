//! A run ended from outside: cancelled by an operator, or past its deadline, or skipped for
//! its concurrency key. The run ends
//! first, then every open step is cancelled (held ones are stopped by their agents at the next
//! heartbeat).

use super::Work;
use crate::engine::changeset::{Decision, Rejection};
use crate::engine::state::Loaded;
use crate::model::{RunStatus, StepStatus, TimeoutSource, short_id};

/// Cancel a run that has not ended.
pub fn cancel(st: &Loaded<'_>) -> Decision {
    end_early(st, RunStatus::Cancelled, "cancelled by an operator")
}

/// Time out a run that has not ended, saying which timeout it was and where it came from.
pub fn time_out(st: &Loaded<'_>) -> Decision {
    let why = timeout_reason(st.run.timeout_ms, st.run.timeout_source.as_deref());
    end_early(st, RunStatus::TimedOut, &why)
}

/// End a run early (cancelled or timed out) and cancel its open steps.
pub fn end_early(st: &Loaded<'_>, status: RunStatus, why: &str) -> Decision {
    if st.run.status.is_terminal() {
        return Err(Rejection::RunEnded {
            run_id: st.run.id.clone(),
            status: st.run.status,
        }
        .into());
    }
    let mut w = Work::new(st);
    w.end_run(status, Some(why));
    let open: Vec<String> = w
        .all_steps()?
        .into_iter()
        .filter(|r| !r.status.is_terminal())
        .map(|r| r.step_id.clone())
        .collect();
    for step in open {
        w.step_ended(&step, StepStatus::Cancelled, Some(why))?;
    }
    w.finish()
}

/// End a run skipped for its key (`on_conflict: skip`) before anything ran: status
/// `cancelled` (it was stopped by policy, not by a fault of its own, so neither `failed` nor
/// `timed_out`; scripts waiting on it get the cancelled exit code), every step `skipped`, and
/// an error naming the key and the runs that hold it.
pub fn skip(st: &Loaded<'_>, key: &str, holders: &[String]) -> Decision {
    if st.run.status.is_terminal() {
        return Err(Rejection::RunEnded {
            run_id: st.run.id.clone(),
            status: st.run.status,
        }
        .into());
    }
    let held_by: Vec<&str> = holders.iter().map(|h| short_id(h)).collect();
    let why = format!(
        "skipped: concurrency key {key:?} is at its limit (held by run {}; on_conflict: skip)",
        held_by.join(", ")
    );
    let mut w = Work::new(st);
    w.end_run(RunStatus::Cancelled, Some(&why));
    let open: Vec<String> = w
        .all_steps()?
        .into_iter()
        .filter(|r| !r.status.is_terminal())
        .map(|r| r.step_id.clone())
        .collect();
    for step in open {
        w.step_ended(&step, StepStatus::Skipped, Some("the run was skipped"))?;
    }
    w.finish()
}

/// Why a run timed out: its timeout and where that came from.
pub fn timeout_reason(timeout_ms: Option<i64>, source: Option<&str>) -> String {
    let Some(ms) = timeout_ms else {
        return "run timed out".into();
    };
    let after = crate::model::duration_text(u64::try_from(ms).unwrap_or(0));
    let change = "give the workflow a `timeout:` or start the run with --timeout to change it";
    match source.and_then(TimeoutSource::parse) {
        None => format!("run timed out after {after}"),
        Some(TimeoutSource::Run) => format!("run timed out after {after} (its --timeout)"),
        Some(TimeoutSource::Workflow) => {
            format!("run timed out after {after} (the workflow's `timeout:`)")
        }
        Some(TimeoutSource::Server) => format!(
            "run timed out after {after} (the server's default run timeout, imx server --default-run-timeout; {change})"
        ),
        Some(TimeoutSource::Store) => format!(
            "run timed out after {after} (the store's default run timeout, imx init --default-run-timeout; {change})"
        ),
        Some(TimeoutSource::BuiltIn) => {
            format!("run timed out after {after} (the default run timeout; {change})")
        }
    }
}
