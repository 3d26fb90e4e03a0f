//! `imx run prune`.

use std::time::Duration;

use imx::control::{RunPrune, RunPruneReport};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::super::context::Context;
use super::super::error::CliError;
use super::super::output::{Cells, Detail, count};
use super::super::parse;
use imx::audit::rfc3339;

/// Delete finished runs (succeeded, failed, cancelled, timed out) that ended longer ago than
/// --older-than, with their steps, events and log lines. A run that has not finished is never
/// deleted. Schedules' tick records older than the period go too once their run is gone
/// (never one inside its schedule's catch-up window, a buffered one, or a schedule's latest),
/// so `imx schedule ticks` shows as far back as runs are kept. The work goes in short batches, so agents and other commands carry on meanwhile;
/// it is audited as run.prune (one record with the counts) and needs an admin. A server can do
/// this on its own: imx server --retain PERIOD.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx run prune --older-than 30d --dry-run
  imx run prune --older-than 90d --yes")]
pub struct PruneArgs {
    /// Delete runs that ended longer ago than this (e.g. 30d, 12h).
    #[arg(long, value_name = "PERIOD", value_parser = parse::duration)]
    older_than: Duration,

    /// Count the runs that would go; delete nothing.
    #[arg(long)]
    dry_run: bool,
}

pub async fn run(ctx: &Context, args: PruneArgs) -> Result<(), CliError> {
    if args.older_than.is_zero() {
        return Err(CliError::usage("--older-than must be longer than 0s")
            .with_hint("e.g. --older-than 30d"));
    }
    let older_than_ms = u64::try_from(args.older_than.as_millis()).unwrap_or(u64::MAX);
    let plane = ctx.plane()?;
    let who = ctx.principal();
    let quiet = |_: &RunPruneReport| {};
    let ask = RunPrune {
        older_than_ms,
        dry_run: true,
    };
    let plan = plane.prune_runs(&who, ask, &quiet).await?;
    let what = format!(
        "{} ({}) that ended before {}",
        count(plan.runs, "finished run"),
        count(plan.steps, "step"),
        rfc3339(plan.cutoff)
    );
    if args.dry_run || plan.runs == 0 {
        ctx.out().status(if plan.runs == 0 {
            format!(
                "No finished runs ended before {}; nothing to prune.",
                rfc3339(plan.cutoff)
            )
        } else {
            format!("Would delete {what}, with their events and log lines.")
        });
        return ctx.out().result(&Shown(plan));
    }
    ctx.confirm(&format!("delete {what}, with their events and log lines"))?;
    let bar = ctx.out().live_progress().then(|| {
        let b = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        b.set_style(
            ProgressStyle::with_template("{spinner} Pruning: {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        b.enable_steady_tick(Duration::from_millis(120));
        b
    });
    let progress = |r: &RunPruneReport| {
        if let Some(b) = &bar {
            b.set_message(totals(r));
        }
    };
    let done = plane
        .prune_runs(
            &who,
            RunPrune {
                older_than_ms,
                dry_run: false,
            },
            &progress,
        )
        .await;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let done = done?;
    ctx.out().status(format!(
        "Deleted {} that ended before {}.",
        totals(&done),
        rfc3339(done.cutoff)
    ));
    ctx.out().result(&Shown(done))
}

/// "N runs (N steps, N log lines, N events)", and ", N schedule ticks" when any went.
fn totals(r: &RunPruneReport) -> String {
    let ticks = if r.ticks > 0 {
        format!(", {}", count(r.ticks, "schedule tick"))
    } else {
        String::new()
    };
    format!(
        "{} ({}, {}, {}){ticks}",
        count(r.runs, "run"),
        count(r.steps, "step"),
        count(r.log_lines, "log line"),
        count(r.events, "event")
    )
}

#[derive(serde::Serialize)]
#[serde(transparent)]
struct Shown(RunPruneReport);

impl Detail for Shown {
    fn name(&self) -> String {
        self.0.runs.to_string()
    }

    fn fields(&self, _cx: &Cells) -> Vec<(&'static str, String)> {
        vec![
            ("Ended before", rfc3339(self.0.cutoff)),
            ("Runs", self.0.runs.to_string()),
            ("Steps", self.0.steps.to_string()),
            ("Log lines", self.0.log_lines.to_string()),
            ("Events", self.0.events.to_string()),
            ("Schedule ticks", self.0.ticks.to_string()),
        ]
    }
}
