//! `imx agent list`.

use imx::model::{Agent, AgentState};

use super::super::context::Context;
use super::super::error::CliError;
use super::super::output::{Cells, Detail, Row};
use super::super::parse;

/// List agents with their state, load and last heartbeat.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx agent list
  imx agent list -o wide
  imx agent list -l os=linux -l gpu=yes --status online,busy
  imx agent list -o template='{{ name }}: {{ state }}'")]
pub struct ListArgs {
    /// Only agents with this label (KEY=VALUE; repeat for several, all must match).
    #[arg(short = 'l', long = "label", value_name = "KEY=VALUE", value_parser = parse::key_value)]
    pub labels: Vec<(String, String)>,

    /// Only agents in these states (comma-separated, or repeat): online, busy, draining,
    /// offline.
    #[arg(short, long, value_name = "STATE", value_parser = parse::agent_state, value_delimiter = ',', add = clap_complete::ArgValueCandidates::new(crate::commands::candidates::agent_states))]
    pub status: Vec<AgentState>,
}

pub async fn run(ctx: &Context, args: ListArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let all = plane.list_agents(&ctx.principal()).await?;
    let filtered = !args.labels.is_empty() || !args.status.is_empty();
    let agents: Vec<Agent> = all
        .into_iter()
        .filter(|a| {
            args.labels.iter().all(|(k, v)| a.labels.get(k) == Some(v))
                && (args.status.is_empty() || args.status.contains(&a.state))
        })
        .collect();
    if agents.is_empty() && filtered && !ctx.out().is_machine() {
        ctx.out().status("No agents match.");
        return Ok(());
    }
    if agents.is_empty() && !ctx.out().is_machine() {
        ctx.out().status("No agents yet.");
        ctx.out().hint("start one with: imx agent run");
        return Ok(());
    }
    ctx.out().list(&agents)
}

impl Row for Agent {
    fn headers(cx: &Cells) -> Vec<&'static str> {
        let mut h = vec!["NAME", "STATE", "RUNNING", "HOST", "LAST SEEN"];
        if cx.wide || cx.machine {
            h.extend(["ID", "LABELS", "PID", "VERSION", "REGISTERED"]);
        }
        h
    }

    fn cells(&self, cx: &Cells) -> Vec<String> {
        let mut c = vec![
            self.name.clone(),
            self.state.to_string(),
            format!("{}/{}", self.running, self.slots),
            self.hostname.clone(),
            cx.time(Some(self.last_heartbeat)),
        ];
        if cx.wide || cx.machine {
            c.push(cx.id(&self.id));
            c.push(cx.map(&self.labels));
            c.push(self.pid.to_string());
            c.push(self.version.clone());
            c.push(cx.time(Some(self.registered_at)));
        }
        c
    }

    fn name(&self) -> String {
        self.name.clone()
    }
}

impl Detail for Agent {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn fields(&self, cx: &Cells) -> Vec<(&'static str, String)> {
        vec![
            ("Name", self.name.clone()),
            ("ID", self.id.clone()),
            ("State", self.state.to_string()),
            ("Labels", cx.map(&self.labels)),
            (
                "Slots",
                format!("{} running of {}", self.running, self.slots),
            ),
            (
                "Current",
                if self.current.is_empty() {
                    cx.opt(None::<&str>)
                } else {
                    self.current.join(", ")
                },
            ),
            ("Host", format!("{} (pid {})", self.hostname, self.pid)),
            ("Version", self.version.clone()),
            ("Registered", cx.time(Some(self.registered_at))),
            ("Registered by", cx.opt(self.registered_by.as_deref())),
            ("Last seen", cx.time(Some(self.last_heartbeat))),
        ]
    }
}
