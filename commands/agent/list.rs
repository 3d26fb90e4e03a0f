//! `imx agent list`.

use imx::model::Agent;

use super::super::context::Context;
use super::super::error::CliError;
use super::super::output::{Cells, Detail, Row};

/// List agents with their state, load and last heartbeat.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  imx agent list\n  imx agent list -o wide")]
pub struct ListArgs {}

pub async fn run(ctx: &Context, _args: ListArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let agents = plane.list_agents(&ctx.principal()).await?;
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
