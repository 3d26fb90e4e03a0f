//! `imx trigger ...`: webhook triggers (a signed `POST /api/v1/hooks/NAME` starts a run) and
//! run-after triggers (a run of one workflow ending starts another), made, listed, shown,
//! deleted, and (webhooks) given a new secret.

mod create;
mod delete;
mod list;
mod rotate;
mod show;

use clap::Subcommand;
use imx::control::Plane;
use imx::model::CreatedTrigger;

use super::context::Context;
use super::error::CliError;
use super::output::{Cells, Detail, Format};

/// The trigger commands.
#[derive(Debug, Subcommand)]
pub enum TriggerCommand {
    /// Make a webhook trigger (its secret is printed once) or, with --after, a run-after trigger.
    Create(create::CreateArgs),
    /// List triggers (never their secrets).
    List(list::ListArgs),
    /// Show one trigger: what it starts, with which params, how often it fired.
    Show(show::ShowArgs),
    /// Delete a trigger made by command.
    Delete(delete::DeleteArgs),
    /// Give a webhook trigger a new secret (printed once); the old one stops working.
    Rotate(rotate::RotateArgs),
}

pub async fn run(ctx: &Context, cmd: TriggerCommand) -> Result<(), CliError> {
    match cmd {
        TriggerCommand::Create(args) => create::run(ctx, args).await,
        TriggerCommand::List(args) => list::run(ctx, args).await,
        TriggerCommand::Show(args) => show::run(ctx, args).await,
        TriggerCommand::Delete(args) => delete::run(ctx, args).await,
        TriggerCommand::Rotate(args) => rotate::run(ctx, args).await,
    }
}

/// The URL callers POST to: the server's address and the trigger's path; from a local store,
/// the path only (a server on this store receives the calls).
fn hook_url(plane: &Plane, path: &str) -> String {
    match plane.location().strip_prefix("remote ") {
        Some(base) => format!("{}{path}", base.trim_end_matches('/')),
        None => path.to_string(),
    }
}

/// Print a webhook trigger's secret, once: the bare secret on stdout (or, with `-o json|yaml`,
/// the trigger with its `secret` and `url`), where to send calls, and a warning on stderr that
/// the secret will not be shown again.
fn print_created(ctx: &Context, plane: &Plane, created: &CreatedTrigger) -> Result<(), CliError> {
    let url = created.path.as_deref().map(|p| hook_url(plane, p));
    match (&created.secret, ctx.out().format()) {
        (_, Format::Json | Format::Yaml) => ctx.out().detail(&CreatedView {
            created: created.clone(),
            url: url.clone(),
        })?,
        (Some(secret), _) => ctx.out().line(secret.expose())?,
        (None, _) => ctx.out().result(&created.trigger)?,
    }
    if let Some(url) = url {
        ctx.out().status(format!(
            "Callers POST JSON to {url}, signed with this secret the Standard Webhooks way \
             (webhook-id, webhook-timestamp, webhook-signature: v1,<base64 HMAC-SHA256>)."
        ));
        if !url.starts_with("http") {
            ctx.out()
                .hint("an `imx server` on this store receives the calls");
        }
    }
    if created.secret.is_some() {
        ctx.out()
            .warn("this is the only time the trigger's secret is shown: give it to the sender now");
    }
    Ok(())
}

/// A trigger just made, with its secret and URL, for `-o json|yaml`.
#[derive(serde::Serialize)]
struct CreatedView {
    #[serde(flatten)]
    created: CreatedTrigger,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
}

impl Detail for CreatedView {
    fn name(&self) -> String {
        self.created.trigger.name.clone()
    }

    fn fields(&self, cx: &Cells) -> Vec<(&'static str, String)> {
        let mut f = Vec::new();
        if let Some(s) = &self.created.secret {
            f.push(("Secret", s.expose().to_string()));
        }
        if let Some(u) = &self.url {
            f.push(("URL", u.clone()));
        }
        f.extend(self.created.trigger.fields(cx));
        f
    }
}
