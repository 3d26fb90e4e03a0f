//! `imx run show ID`.

use std::collections::BTreeMap;

use imx::control::step_symbol;
use imx::model::RunDetail;

use super::super::context::Context;
use super::super::error::CliError;
use super::super::output::{Cells, Detail};
use super::list::run_fields;

/// Show a run: its header, then one line per step (state, attempt, agent, timing, exit code,
/// outputs), any step errors, why steps that no agent can take are waiting, and the last 20
/// lines of each failed step's output.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx run show 01HZX4
  imx run show 01HZX4 -o json | jq '.steps[] | select(.status == \"failed\")'")]
pub struct ShowArgs {
    /// Run id (any unique prefix).
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::commands::candidates::runs))]
    pub id: String,
}

pub async fn run(ctx: &Context, args: ShowArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let detail = super::get_run(ctx, &plane, &args.id).await?;
    ctx.out().detail(&detail)?;
    // People also get the failed steps' last lines (`run logs --failed` for machines).
    if !ctx.out().is_machine() {
        let failed = super::tail::failed_steps(&plane, &ctx.principal(), &detail).await?;
        if !failed.is_empty() {
            ctx.out().data("\n")?;
            ctx.out().data(&super::tail::render_failed(&failed))?;
        }
    }
    Ok(())
}

impl Detail for RunDetail {
    fn name(&self) -> String {
        self.run.id.clone()
    }

    fn fields(&self, cx: &Cells) -> Vec<(&'static str, String)> {
        run_fields(&self.run, cx)
    }

    fn table(&self, cx: &Cells) -> Option<(Vec<&'static str>, Vec<Vec<String>>)> {
        let mut headers = vec![
            "", "STEP", "STATUS", "ATTEMPT", "AGENT", "STARTED", "DURATION", "EXIT", "OUTPUTS",
        ];
        if cx.machine {
            headers[0] = "state";
        }
        if cx.wide || cx.machine {
            headers.extend(["KIND", "NEEDS", "ERROR", "WAITING"]);
        }
        let rows = self
            .steps
            .iter()
            .map(|s| {
                let mut row = vec![
                    step_symbol(s.status).to_string(),
                    s.step_id.clone(),
                    s.status.to_string(),
                    s.attempt.to_string(),
                    cx.opt(s.agent.as_deref()),
                    cx.time(s.started_at),
                    cx.duration(s.duration_ms(cx.now)),
                    cx.opt(s.exit_code),
                    outputs_cell(cx, &s.outputs),
                ];
                if cx.machine {
                    row[0] = s.status.to_string();
                }
                if cx.wide || cx.machine {
                    row.push(s.kind.clone());
                    row.push(s.needs.join(","));
                    row.push(cx.opt(s.error.as_deref()));
                    let waiting = self.waiting.iter().find(|w| w.step_id == s.step_id);
                    row.push(cx.opt(waiting.map(|w| w.message.as_str())));
                }
                row
            })
            .collect();
        Some((headers, rows))
    }

    /// Approval steps (who may decide, or who did), then step errors, then why steps wait
    /// (in `wide`, the last two are columns).
    fn notes(&self, cx: &Cells) -> Vec<String> {
        let approvals: Vec<String> = self
            .steps
            .iter()
            .filter_map(|s| Some((s, s.approval.as_ref()?)))
            .map(|(s, a)| approval_note(&self.run.id, s, a, cx))
            .collect();
        if cx.wide {
            return approvals;
        }
        let errors = self.steps.iter().filter_map(|s| {
            s.error
                .as_ref()
                .map(|e| format!("{} {}: {e}", step_symbol(s.status), s.step_id))
        });
        let waiting = self
            .waiting
            .iter()
            .map(|w| format!("{} {}: {}", step_symbol(w.status), w.step_id, w.message));
        approvals.into_iter().chain(errors).chain(waiting).collect()
    }
}

/// One approval step for people: who may decide and what it asks while it waits, or who
/// decided, when, and their comment.
fn approval_note(
    run_id: &str,
    s: &imx::model::StepState,
    a: &imx::model::StepApproval,
    cx: &Cells,
) -> String {
    let sym = step_symbol(s.status);
    let id = &s.step_id;
    let message = a
        .message
        .as_ref()
        .map(|m| format!(" {m:?}"))
        .unwrap_or_default();
    match (a.decision, &a.by) {
        (Some(decision), Some(by)) => {
            let comment = a
                .comment
                .as_ref()
                .map(|c| format!(": {c:?}"))
                .unwrap_or_default();
            format!(
                "{sym} {id}: {decision} by {by} at {}{comment}",
                cx.time(a.at)
            )
        }
        _ if s.status == imx::model::StepStatus::Waiting => {
            let until = a
                .deadline
                .map(|d| format!(" until {}", cx.time(Some(d))))
                .unwrap_or_default();
            format!(
                "{sym} {id}: waiting for approval by {}{until}{message} \
                 (imx run approve {} {id})",
                a.approvers.describe(),
                imx::model::short_id(run_id)
            )
        }
        _ => format!(
            "{sym} {id}: approval by {}{message}",
            a.approvers.describe()
        ),
    }
}

/// The most characters of one output value a table shows; longer values are cut (`-o json`,
/// `yaml` and `csv` show them whole). Outputs may be up to a MiB: laying a value that long out
/// in a table is slow and unreadable.
const SHOWN_VALUE: usize = 40;

/// A step's outputs as `k=v,k=v` — for people with each value cut to [`SHOWN_VALUE`]
/// characters and its size (`k=aaaa… (1.0 MiB)`), for machines whole.
fn outputs_cell(cx: &Cells, outputs: &BTreeMap<String, String>) -> String {
    if cx.machine {
        return cx.map(outputs);
    }
    let shown: BTreeMap<String, String> = outputs
        .iter()
        .map(|(k, v)| {
            let short = match v.char_indices().nth(SHOWN_VALUE) {
                Some((end, _)) => format!(
                    "{}… ({})",
                    &v[..end],
                    imx::engine::limits::human_size(v.len() as u64)
                ),
                None => v.clone(),
            };
            (k.clone(), short)
        })
        .collect();
    cx.map(&shown)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::collections::BTreeMap;

    use imx::model::{Run, RunStatus, StepState, StepStatus};

    use super::super::super::output::{Format, Style, render_detail};
    use super::*;

    const NOW: i64 = 1_700_000_000_000;

    fn detail() -> RunDetail {
        let step = |id: &str, status, exit: Option<i32>, error: Option<&str>| StepState {
            step_id: id.into(),
            kind: "run".into(),
            status,
            attempt: 1,
            needs: vec![],
            agent: Some("a1".into()),
            started_at: Some(NOW - 3_000),
            finished_at: Some(NOW - 1_700),
            not_before: None,
            exit_code: exit,
            outputs: BTreeMap::from([("sha".to_string(), "abc".to_string())]),
            error: error.map(Into::into),
            duration_ms: Some(1_300),
            approval: None,
        };
        RunDetail {
            run: Run {
                id: "01HZXAAAAAAAAAAAAAAAAAAAAA".into(),
                workflow: "deploy".into(),
                workflow_version: 3,
                status: RunStatus::Failed,
                params: BTreeMap::from([("version".to_string(), serde_json::json!("1.2"))]),
                created_at: NOW - 60_000,
                started_at: Some(NOW - 3_000),
                finished_at: Some(NOW - 1_000),
                deadline: None,
                created_by: "local:me".into(),
                steps_total: 2,
                steps_succeeded: 1,
                error: Some("step test failed".into()),
                duration_ms: Some(2_000),
                concurrency: None,
                schedule: None,
                nominal_time: None,
                labels: BTreeMap::new(),
                rerun_of: None,
                awaiting_approval: false,
            },
            steps: vec![
                step("build", StepStatus::Succeeded, Some(0), None),
                step("test", StepStatus::Failed, Some(1), Some("exit code 1")),
            ],
            waiting: Vec::new(),
        }
    }

    fn style(format: Format) -> Style {
        Style {
            format,
            width: Some(120),
            color: false,
            now: NOW,
        }
    }

    #[test]
    fn table_shows_header_steps_and_errors() {
        let out = render_detail(&detail(), &style(Format::Table)).unwrap();
        assert!(out.starts_with("Run:      01HZXAAAAAAA\n"), "{out}");
        assert!(out.contains("Workflow: deploy v3"), "{out}");
        assert!(out.contains("Params:   version=1.2"), "{out}");
        assert!(out.contains("Duration: 2.0s"), "{out}");
        let build = out.lines().find(|l| l.contains("build")).unwrap();
        for cell in ["✓", "succeeded", "a1", "1.3s", "sha=abc"] {
            assert!(build.contains(cell), "{cell} missing from {build:?}");
        }
        assert!(out.trim_end().ends_with("✗ test: exit code 1"), "{out}");
    }

    #[test]
    fn long_output_values_are_cut_in_tables_and_whole_for_machines() {
        let mut d = detail();
        let long = "é".repeat(1000);
        d.steps[0].outputs = BTreeMap::from([("big".to_string(), long.clone())]);
        let out = render_detail(&d, &style(Format::Table)).unwrap();
        let row = out.lines().find(|l| l.contains("build")).unwrap();
        assert!(
            row.contains(&format!("big={}… (2.0 KiB)", "é".repeat(40))),
            "{row}"
        );
        let csv = render_detail(&d, &style(Format::Csv)).unwrap();
        assert!(csv.contains(&format!("big={long}")));
    }

    #[test]
    fn json_is_the_run_with_its_steps() {
        let out = render_detail(&detail(), &style(Format::Json)).unwrap();
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["id"], "01HZXAAAAAAAAAAAAAAAAAAAAA");
        assert_eq!(v["status"], "failed");
        assert_eq!(v["steps"][1]["exit_code"], 1);
    }

    #[test]
    fn csv_is_the_steps_table() {
        let out = render_detail(&detail(), &style(Format::Csv)).unwrap();
        let mut lines = out.lines();
        assert_eq!(
            lines.next().unwrap(),
            "state,step,status,attempt,agent,started,duration,exit,outputs,kind,needs,error,waiting"
        );
        assert!(
            lines
                .next()
                .unwrap()
                .starts_with("succeeded,build,succeeded,1,a1,")
        );
    }
}
