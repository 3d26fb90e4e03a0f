//! `imx run list [--workflow W] [--status S,...] [--since D] [--schedule S] [-l K=V ...]
//! [--limit N | --all]`.

use imx::model::{Run, RunFilter};

use super::super::context::Context;
use super::super::error::CliError;
use super::super::output::{Cells, Detail, Row};
use super::super::parse::{self, ListStatus};

/// List runs, newest first.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx run list
  imx run list --workflow deploy --status failed --since 24h
  imx run list --status failed,timed_out --status cancelled
  imx run list --status waiting        # runs with an approval step waiting for you
  imx run list -l pr=42 -l sha=3f2a9c1 -o wide
  imx run list --all --since 2024-05-01T00:00:00Z -o csv
  imx run list -o template='{{ id }} {{ status }}'")]
pub struct ListArgs {
    /// Only runs of this workflow.
    #[arg(short, long, value_name = "NAME", add = clap_complete::ArgValueCandidates::new(crate::commands::candidates::workflows))]
    pub workflow: Option<String>,

    /// Only runs in these states (comma-separated, or repeat the flag): queued, running,
    /// succeeded, failed, cancelled, timed_out; or waiting: running with an approval step
    /// waiting for a person (`imx run approve`).
    #[arg(short, long, value_name = "STATUS", value_parser = parse::run_status, value_delimiter = ',', add = clap_complete::ArgValueCandidates::new(crate::commands::candidates::run_statuses))]
    pub status: Vec<ListStatus>,

    /// Only runs created since: a duration ago (1h, 30m) or an RFC 3339 time.
    #[arg(long, value_name = "WHEN", value_parser = parse::since)]
    pub since: Option<i64>,

    /// Only runs made by this schedule's ticks.
    #[arg(long, value_name = "SCHEDULE")]
    pub schedule: Option<String>,

    /// Only runs with this label (KEY=VALUE; repeat for several, all must match).
    #[arg(short = 'l', long = "label", value_name = "KEY=VALUE", value_parser = parse::label)]
    pub labels: Vec<(String, String)>,

    /// At most this many runs (at least 1).
    #[arg(short = 'n', long, default_value_t = 20, value_name = "N", value_parser = parse::limit)]
    pub limit: u32,

    /// Every matching run (no --limit).
    #[arg(long, conflicts_with = "limit")]
    pub all: bool,
}

/// How many runs one request asks for with --all.
const PAGE: u32 = 500;

pub async fn run(ctx: &Context, args: ListArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let limit = (!args.all).then_some(args.limit);
    let mut labels = std::collections::BTreeMap::new();
    for (k, v) in &args.labels {
        if labels
            .insert(k.clone(), v.clone())
            .is_some_and(|old| &old != v)
        {
            return Err(CliError::usage(format!(
                "label {k:?} is given twice with different values; no run has both"
            )));
        }
    }
    // One query per status (the control plane filters on one), merged newest first.
    let statuses: Vec<Option<ListStatus>> = if args.status.is_empty() {
        vec![None]
    } else {
        let mut s = args.status.clone();
        s.sort_by_key(|st| st.as_str());
        s.dedup();
        s.into_iter().map(Some).collect()
    };
    let mut runs: Vec<Run> = Vec::new();
    let mut more = false;
    for status in statuses {
        let mut cursor = None;
        loop {
            let page = plane
                .list_runs(
                    &ctx.principal(),
                    RunFilter {
                        workflow: args.workflow.clone(),
                        status: match status {
                            Some(ListStatus::Is(s)) => Some(s),
                            _ => None,
                        },
                        waiting: status == Some(ListStatus::Waiting),
                        since: args.since,
                        schedule: args.schedule.clone(),
                        labels: labels.clone(),
                        limit: Some(limit.unwrap_or(PAGE)),
                        cursor: cursor.take(),
                    },
                )
                .await?;
            runs.extend(page.items);
            match page.next_cursor {
                Some(next) if args.all => cursor = Some(next),
                Some(_) => {
                    more = true;
                    break;
                }
                None => break,
            }
        }
    }
    // Newest first, as the control plane lists them: ULIDs sort by creation time.
    runs.sort_by(|a, b| b.id.cmp(&a.id));
    // A run may match two filters (`running,waiting`): list it once.
    runs.dedup_by(|a, b| a.id == b.id);
    if let Some(n) = limit
        && runs.len() > n as usize
    {
        runs.truncate(n as usize);
        more = true;
    }
    if runs.is_empty() && !ctx.out().is_machine() {
        ctx.out().status("No runs match.");
        return Ok(());
    }
    ctx.out().list(&runs)?;
    if more {
        ctx.out().hint(format!(
            "showing the newest {}; use --limit N or --all for more",
            runs.len()
        ));
    }
    Ok(())
}

impl Row for Run {
    fn headers(cx: &Cells) -> Vec<&'static str> {
        let mut h = vec!["ID", "WORKFLOW", "STATUS", "STEPS", "CREATED", "DURATION"];
        if cx.wide || cx.machine {
            h.extend(["VERSION", "PARAMS", "LABELS", "BY", "ERROR"]);
        }
        h
    }

    fn cells(&self, cx: &Cells) -> Vec<String> {
        let mut c = vec![
            cx.id(&self.id),
            self.workflow.clone(),
            status_cell(self, cx),
            format!("{}/{}", self.steps_succeeded, self.steps_total),
            cx.time(Some(self.created_at)),
            cx.duration(self.duration_ms(cx.now)),
        ];
        if cx.wide || cx.machine {
            c.push(self.workflow_version.to_string());
            c.push(cx.values(&self.params));
            c.push(cx.map(&self.labels));
            c.push(self.created_by.clone());
            c.push(cx.opt(self.error.as_deref()));
        }
        c
    }

    fn name(&self) -> String {
        self.id.clone()
    }

    fn id(&self) -> Option<&str> {
        Some(&self.id)
    }
}

/// One run on its own (what `cancel` and `retry` return).
impl Detail for Run {
    fn name(&self) -> String {
        self.id.clone()
    }

    fn fields(&self, cx: &Cells) -> Vec<(&'static str, String)> {
        run_fields(self, cx)
    }
}

/// A run's status; for people, a run waiting for a slot of its concurrency key also shows its
/// place in the queue (`queued #2`).
fn status_cell(run: &Run, cx: &Cells) -> String {
    match run.concurrency.as_ref().and_then(|c| c.position) {
        Some(pos) if !cx.machine && run.is_waiting_for_slot() => format!("{} #{pos}", run.status),
        _ => run.status.to_string(),
    }
}

/// Where a run waiting for a slot of its concurrency key stands: `position 2 of the queue,
/// waiting for run 01HZX4… to end`.
/// `show_id` prints a run id.
pub fn queue_text(run: &Run, show_id: &dyn Fn(&str) -> String) -> Option<String> {
    let c = run
        .concurrency
        .as_ref()
        .filter(|_| run.is_waiting_for_slot())?;
    let pos = c.position.unwrap_or(1);
    let holders: Vec<String> = c.waiting_for.iter().map(|id| show_id(id)).collect();
    Some(match holders.as_slice() {
        [] => format!("position {pos}, waiting for a slot of key {}", c.key),
        [one] => format!("position {pos}, waiting for run {one} to end"),
        many => format!(
            "position {pos}, waiting for one of runs {} to end",
            many.join(", ")
        ),
    })
}

/// The header fields of a run, shared with `run show`.
pub fn run_fields(run: &Run, cx: &Cells) -> Vec<(&'static str, String)> {
    let mut f = vec![
        ("Run", cx.id(&run.id)),
        (
            "Workflow",
            format!("{} v{}", run.workflow, run.workflow_version),
        ),
        ("Status", run.status.to_string()),
        ("Params", cx.values(&run.params)),
        (
            "Created",
            format!("{} by {}", cx.time(Some(run.created_at)), run.created_by),
        ),
        ("Started", cx.time(run.started_at)),
        ("Duration", cx.duration(run.duration_ms(cx.now))),
    ];
    if let Some(deadline) = run.deadline.filter(|_| !run.status.is_terminal()) {
        f.push(("Deadline", cx.time(Some(deadline))));
    }
    if let Some(c) = &run.concurrency {
        f.push(("Concurrency", format!("key {} (limit {})", c.key, c.limit)));
    }
    if let Some(queue) = queue_text(run, &|id| cx.id(id)) {
        f.push(("Queue", queue));
    }
    if let Some(schedule) = &run.schedule {
        f.push(("Schedule", schedule.clone()));
        let nominal = run.nominal_time.and_then(imx::model::time::to_rfc3339);
        f.push(("Nominal time", nominal.unwrap_or_else(|| "-".into())));
    }
    if !run.labels.is_empty() {
        f.push(("Labels", cx.map(&run.labels)));
    }
    if let Some(old) = &run.rerun_of {
        f.push(("Rerun of", cx.id(old)));
    }
    if let Some(err) = &run.error {
        f.push(("Error", err.clone()));
    }
    f
}
