//! `imx trigger list`, and how a trigger is shown.

use imx::model::{Trigger, TriggerKind};

use super::super::context::Context;
use super::super::error::CliError;
use super::super::output::{Cells, Detail, Row};

/// List triggers: what fires each, the workflow it starts, how often it fired and its last
/// error. Secrets are never shown.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  imx trigger list\n  imx trigger list -o wide")]
pub struct ListArgs {}

pub async fn run(ctx: &Context, _args: ListArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let triggers = plane.list_triggers(&ctx.principal()).await?;
    if triggers.is_empty() && !ctx.out().is_machine() {
        ctx.out().status("No triggers yet.");
        ctx.out().hint(
            "make one with: imx trigger create NAME --workflow W (a webhook) or --after UPSTREAM",
        );
        return Ok(());
    }
    ctx.out().list(&triggers)
}

/// The end states an `after` trigger fires on, e.g. `succeeded|failed`.
pub(super) fn statuses(t: &Trigger) -> String {
    t.statuses
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join("|")
}

/// What fires it, in a few words: `POST /api/v1/hooks/NAME` or `build ends succeeded`.
fn fired_by(t: &Trigger) -> String {
    match t.kind {
        TriggerKind::Webhook => imx::control::hook_path(&t.name),
        TriggerKind::After => format!(
            "{} ends {}",
            t.upstream.as_deref().unwrap_or("?"),
            statuses(t)
        ),
    }
}

fn param_map(t: &Trigger) -> String {
    if t.param_map.is_empty() {
        return "-".into();
    }
    t.param_map
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Row for Trigger {
    fn headers(cx: &Cells) -> Vec<&'static str> {
        let mut h = vec!["NAME", "KIND", "FIRED BY", "STARTS", "FIRED", "LAST FIRED"];
        if cx.wide || cx.machine {
            h.extend([
                "PARAMS",
                "DECLARED BY",
                "LAST ERROR",
                "CREATED",
                "CREATED BY",
            ]);
        }
        h
    }

    fn cells(&self, cx: &Cells) -> Vec<String> {
        let mut c = vec![
            self.name.clone(),
            self.kind.to_string(),
            fired_by(self),
            self.workflow.clone(),
            self.fired.to_string(),
            cx.time(self.last_fired_at),
        ];
        if cx.wide || cx.machine {
            c.push(param_map(self));
            c.push(self.managed_by.clone().unwrap_or_else(|| "-".into()));
            c.push(self.last_error.clone().unwrap_or_else(|| "-".into()));
            c.push(cx.time(Some(self.created_at)));
            c.push(self.created_by.clone());
        }
        c
    }

    fn name(&self) -> String {
        self.name.clone()
    }
}

impl Detail for Trigger {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn fields(&self, cx: &Cells) -> Vec<(&'static str, String)> {
        let mut f = vec![
            ("Name", self.name.clone()),
            ("Kind", self.kind.to_string()),
            ("Fired by", fired_by(self)),
            ("Starts", self.workflow.clone()),
            ("Params", param_map(self)),
        ];
        if !self.labels.is_empty() {
            f.push(("Run labels", cx.map(&self.labels)));
        }
        if let Some(wf) = &self.managed_by {
            f.push(("Declared by", format!("workflow {wf} (`on:` in its file)")));
        }
        f.extend([
            ("Fired", self.fired.to_string()),
            ("Last fired", cx.time(self.last_fired_at)),
        ]);
        if let Some(e) = &self.last_error {
            f.push(("Last error", e.clone()));
        }
        f.extend([
            ("Created", cx.time(Some(self.created_at))),
            ("Created by", self.created_by.clone()),
        ]);
        f
    }
}
