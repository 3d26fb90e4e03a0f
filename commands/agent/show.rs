//! `imx agent show NAME`: the agent, and the steps it holds now and ran last.

use imx::control::step_symbol;
use imx::model::{Agent, AgentStep};
use serde::Serialize;

use super::super::context::Context;
use super::super::error::CliError;
use super::super::output::{Cells, Detail};

/// Show one agent: state, labels, slots, the steps it holds, host and heartbeat, then the steps
/// it holds now and ran last (the most recently taken first).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  imx agent show build-01\n  imx agent show build-01 --steps 50\n  imx agent show build-01 -o json"
)]
pub struct ShowArgs {
    /// Agent name or id (any unique prefix).
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::commands::candidates::agents))]
    pub name: String,
    /// How many of its recent steps to list (0: none).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub steps: u32,
}

pub async fn run(ctx: &Context, args: ShowArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let who = ctx.principal();
    let agent = plane.get_agent(&who, &args.name).await?;
    let recent_steps = if args.steps == 0 {
        Vec::new()
    } else {
        match plane.agent_steps(&who, &agent.id, args.steps).await {
            Ok(steps) => steps,
            // A server that predates the steps of an agent still shows the agent.
            Err(e) => {
                ctx.out()
                    .warn(format!("cannot list the agent's recent steps: {e}"));
                Vec::new()
            }
        }
    };
    ctx.out().detail(&Shown {
        agent,
        recent_steps,
    })
}

/// An agent with its recent steps; in JSON and YAML the agent's fields and `recent_steps`.
#[derive(Serialize)]
struct Shown {
    #[serde(flatten)]
    agent: Agent,
    recent_steps: Vec<AgentStep>,
}

impl Detail for Shown {
    fn name(&self) -> String {
        self.agent.name.clone()
    }

    fn fields(&self, cx: &Cells) -> Vec<(&'static str, String)> {
        self.agent.fields(cx)
    }

    /// The recent steps, for people (`-o csv` keeps printing the agent's fields).
    fn table(&self, cx: &Cells) -> Option<(Vec<&'static str>, Vec<Vec<String>>)> {
        if cx.machine || self.recent_steps.is_empty() {
            return None;
        }
        let headers = vec![
            "", "RUN", "WORKFLOW", "STEP", "STATUS", "ATTEMPT", "STARTED", "DURATION",
        ];
        let rows = self
            .recent_steps
            .iter()
            .map(|s| {
                vec![
                    step_symbol(s.status).to_string(),
                    cx.id(&s.run_id),
                    s.workflow.clone(),
                    s.step_id.clone(),
                    s.status.to_string(),
                    s.attempt.to_string(),
                    cx.time(s.started_at),
                    cx.duration(s.duration_ms(cx.now)),
                ]
            })
            .collect();
        Some((headers, rows))
    }
}
