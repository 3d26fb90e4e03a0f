//! `imx run show ID`.

use imx::control::step_symbol;
use imx::model::RunDetail;

use super::super::context::Context;
use super::super::error::CliError;
use super::super::output::{Cells, Detail};
use super::list::run_fields;

/// Show a run: its header, then one line per step (state, attempt, agent, timing, exit code,
/// outputs) and any step errors.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx run show 01HZX4
  imx run show 01HZX4 -o json | jq '.steps[] | select(.status == \"failed\")'")]
pub struct ShowArgs {
    /// Run id (any unique prefix).
    pub id: String,
}

pub async fn run(ctx: &Context, args: ShowArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let detail = plane.get_run(&ctx.principal(), &args.id).await?;
    ctx.out().detail(&detail)
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
            headers.extend(["KIND", "NEEDS", "ERROR"]);
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
                    cx.map(&s.outputs),
                ];
                if cx.machine {
                    row[0] = s.status.to_string();
                }
                if cx.wide || cx.machine {
                    row.push(s.kind.clone());
                    row.push(s.needs.join(","));
                    row.push(cx.opt(s.error.as_deref()));
                }
                row
            })
            .collect();
        Some((headers, rows))
    }

    fn notes(&self, cx: &Cells) -> Vec<String> {
        if cx.wide {
            return Vec::new(); // errors are a column
        }
        self.steps
            .iter()
            .filter_map(|s| {
                s.error
                    .as_ref()
                    .map(|e| format!("{} {}: {e}", step_symbol(s.status), s.step_id))
            })
            .collect()
    }
}
