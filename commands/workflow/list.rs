//! `imx workflow list`.

use imx::model::WorkflowSummary;

use super::super::context::Context;
use super::super::error::CliError;
use super::super::output::{Cells, Row};

/// List workflows (latest version of each).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  imx workflow list\n  imx workflow list -o name")]
pub struct ListArgs {}

pub async fn run(ctx: &Context, _args: ListArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let workflows = plane.list_workflows(&ctx.principal()).await?;
    if workflows.is_empty() && !ctx.out().is_machine() {
        ctx.out().status("No workflows yet.");
        ctx.out().hint("imx workflow apply -f <file>");
        return Ok(());
    }
    ctx.out().list(&workflows)
}

impl Row for WorkflowSummary {
    fn headers(cx: &Cells) -> Vec<&'static str> {
        let mut h = vec!["NAME", "VERSION", "STEPS", "RUNS", "LAST RUN", "UPDATED"];
        if cx.wide || cx.machine {
            h.push("DESCRIPTION");
        }
        h
    }

    fn cells(&self, cx: &Cells) -> Vec<String> {
        let mut c = vec![
            self.name.clone(),
            self.version.to_string(),
            self.steps.to_string(),
            self.runs.to_string(),
            cx.opt(self.last_run_status),
            cx.time(Some(self.created_at)),
        ];
        if cx.wide || cx.machine {
            c.push(cx.opt(self.description.as_deref()));
        }
        c
    }

    fn name(&self) -> String {
        self.name.clone()
    }
}
