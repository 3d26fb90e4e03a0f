//! `imx run list [--workflow W] [--status S] [--since D] [--limit N]`.

use imx::model::{Run, RunFilter, RunStatus};

use super::super::context::Context;
use super::super::error::CliError;
use super::super::output::{Cells, Detail, Row};
use super::super::parse;

/// List runs, newest first.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx run list
  imx run list --workflow deploy --status failed --since 24h
  imx run list --since 2024-05-01T00:00:00Z --limit 100 -o csv")]
pub struct ListArgs {
    /// Only runs of this workflow.
    #[arg(short, long, value_name = "NAME")]
    pub workflow: Option<String>,

    /// Only runs in this state.
    #[arg(short, long, value_name = "STATUS", value_parser = parse_status)]
    pub status: Option<RunStatus>,

    /// Only runs created since: a duration ago (1h, 30m) or an RFC 3339 time.
    #[arg(long, value_name = "WHEN", value_parser = parse::since)]
    pub since: Option<i64>,

    /// At most this many runs.
    #[arg(short = 'n', long, default_value_t = 20, value_name = "N")]
    pub limit: u32,
}

fn parse_status(s: &str) -> Result<RunStatus, String> {
    s.parse()
}

pub async fn run(ctx: &Context, args: ListArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let page = plane
        .list_runs(
            &ctx.principal(),
            RunFilter {
                workflow: args.workflow,
                status: args.status,
                since: args.since,
                limit: Some(args.limit),
                cursor: None,
            },
        )
        .await?;
    if page.items.is_empty() && !ctx.out().is_machine() {
        ctx.out().status("No runs match.");
        return Ok(());
    }
    ctx.out().list(&page.items)?;
    if page.next_cursor.is_some() {
        ctx.out().hint(format!(
            "showing the newest {}; use --limit for more",
            page.items.len()
        ));
    }
    Ok(())
}

impl Row for Run {
    fn headers(cx: &Cells) -> Vec<&'static str> {
        let mut h = vec!["ID", "WORKFLOW", "STATUS", "STEPS", "CREATED", "DURATION"];
        if cx.wide || cx.machine {
            h.extend(["VERSION", "PARAMS", "BY", "ERROR"]);
        }
        h
    }

    fn cells(&self, cx: &Cells) -> Vec<String> {
        let mut c = vec![
            cx.id(&self.id),
            self.workflow.clone(),
            self.status.to_string(),
            format!("{}/{}", self.steps_succeeded, self.steps_total),
            cx.time(Some(self.created_at)),
            cx.duration(self.duration_ms(cx.now)),
        ];
        if cx.wide || cx.machine {
            c.push(self.workflow_version.to_string());
            c.push(cx.values(&self.params));
            c.push(self.created_by.clone());
            c.push(cx.opt(self.error.as_deref()));
        }
        c
    }

    fn name(&self) -> String {
        self.id.clone()
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
    if let Some(err) = &run.error {
        f.push(("Error", err.clone()));
    }
    f
}
