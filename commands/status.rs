//! `imx status`: the control plane at a glance.

use imx::control::StatusReport;
use imx::model::{AgentState, RunStatus};

use super::context::Context;
use super::error::CliError;
use super::output::{Cells, Detail};

/// Show the store, its schema version, agents and runs by state, and steps ready/running.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  imx status\n  imx status -o json")]
pub struct StatusArgs {}

pub async fn run(ctx: &Context, _args: StatusArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let report = plane.status(&ctx.principal()).await?;
    ctx.out().detail(&View(report))
}

#[derive(serde::Serialize)]
#[serde(transparent)]
struct View(StatusReport);

impl Detail for View {
    fn name(&self) -> String {
        self.0.location.clone()
    }

    fn fields(&self, _cx: &Cells) -> Vec<(&'static str, String)> {
        let r = &self.0;
        let agents = AgentState::ALL
            .iter()
            .map(|s| format!("{} {s}", r.agents.get(s).copied().unwrap_or(0)))
            .collect::<Vec<_>>()
            .join(", ");
        let runs = RunStatus::ALL
            .iter()
            .map(|s| format!("{} {s}", r.runs.get(s).copied().unwrap_or(0)))
            .collect::<Vec<_>>()
            .join(", ");
        vec![
            ("Store", format!("{} {}", r.mode, r.location)),
            ("Schema", format!("version {}", r.schema_version)),
            ("Workflows", r.workflows.to_string()),
            ("Agents", agents),
            ("Runs", runs),
            (
                "Steps",
                format!("{} ready, {} running", r.steps_ready, r.steps_running),
            ),
        ]
    }
}
