//! `imx trigger create NAME --workflow W [--param-map P=PATH]… [--after UPSTREAM [--status S]…]
//! [--secret-stdin]`.

use std::collections::BTreeMap;

use imx::model::{NewTrigger, RunStatus, TriggerKind};

use super::super::context::Context;
use super::super::error::CliError;
use super::super::parse;
use super::super::password;

/// Make a trigger that starts runs of a workflow.
///
/// A webhook trigger (the default) starts a run for each signed call to
/// `POST /api/v1/hooks/NAME` on an `imx server` (Standard Webhooks: `webhook-id`,
/// `webhook-timestamp` within 5 minutes, `webhook-signature: v1,<base64 HMAC-SHA256>`). Its
/// secret is made for you and printed once (or read from stdin with --secret-stdin); a call is
/// acted on once per `webhook-id`. The JSON body's fields fill the params of the same name,
/// and --param-map takes others from anywhere in the body.
///
/// With --after, the trigger starts a run whenever a run of UPSTREAM ends in one of --status
/// (default succeeded), with the upstream run's step outputs (then its params) as params of
/// the same name; --param-map paths read `run.id`, `run.params.X`, `steps.ID.outputs.X` or
/// `outputs.X`. A workflow file can declare the same with `on:`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx trigger create release-hook --workflow deploy --param-map version=release.tag_name
  imx trigger create gh-push --workflow build -l source=github -l team=web
  pass show hooks/github | imx trigger create gh --workflow build --secret-stdin
  imx trigger create deploy-after-build --workflow deploy --after build --status succeeded
  imx trigger create page-on-failure --workflow page --after nightly --status failed,timed_out")]
pub struct CreateArgs {
    /// The trigger's name (for webhooks, the last part of its URL).
    pub name: String,

    /// The workflow whose runs it starts.
    #[arg(long, short = 'w', add = clap_complete::ArgValueCandidates::new(crate::commands::candidates::workflows))]
    pub workflow: String,

    /// A param of the run from a path into the webhook body or the upstream run, e.g.
    /// `version=release.tag_name` or `sha=/head_commit/id` (repeatable).
    #[arg(long = "param-map", value_name = "PARAM=PATH", value_parser = param_map)]
    pub param_map: Vec<(String, String)>,

    /// A label of each run it starts, KEY=VALUE (repeatable), to find them by (`imx run list -l
    /// KEY=VALUE`); the rules of `imx workflow run -l`.
    #[arg(short = 'l', long = "label", value_name = "KEY=VALUE", value_parser = parse::label)]
    pub labels: Vec<(String, String)>,

    /// Start a run when a run of this workflow ends (a run-after trigger, not a webhook).
    #[arg(long, value_name = "UPSTREAM", add = clap_complete::ArgValueCandidates::new(crate::commands::candidates::workflows))]
    pub after: Option<String>,

    /// With --after: the end states that fire it (succeeded, failed, cancelled, timed_out;
    /// comma-separated or repeated) [default: succeeded].
    #[arg(long, value_delimiter = ',', requires = "after", value_parser = end_state)]
    pub status: Vec<RunStatus>,

    /// Read the webhook's signing secret from the first line of stdin instead of making one.
    #[arg(long, conflicts_with = "after")]
    pub secret_stdin: bool,
}

fn param_map(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((p, path)) if !p.trim().is_empty() && !path.trim().is_empty() => {
            Ok((p.trim().to_string(), path.trim().to_string()))
        }
        _ => Err(format!(
            "expected PARAM=PATH, e.g. version=release.tag_name; got {s:?}"
        )),
    }
}

fn end_state(s: &str) -> Result<RunStatus, String> {
    let st: RunStatus = s.trim().parse()?;
    if st.is_terminal() {
        Ok(st)
    } else {
        Err(format!(
            "{st} is not a state a run ends in: use succeeded, failed, cancelled or timed_out"
        ))
    }
}

pub async fn run(ctx: &Context, args: CreateArgs) -> Result<(), CliError> {
    let secret = if args.secret_stdin {
        password::read_stdin(&["--secret-stdin"])?.pop()
    } else {
        None
    };
    let kind = if args.after.is_some() {
        TriggerKind::After
    } else {
        TriggerKind::Webhook
    };
    let labels = crate::commands::workflow::run_input::label_map(&args.labels)?;
    let plane = ctx.plane()?;
    let created = plane
        .create_trigger(
            &ctx.principal(),
            NewTrigger {
                name: args.name,
                kind,
                workflow: args.workflow,
                upstream: args.after,
                statuses: args.status,
                param_map: args.param_map.into_iter().collect::<BTreeMap<_, _>>(),
                labels,
                secret,
            },
        )
        .await?;
    let t = &created.trigger;
    match t.kind {
        TriggerKind::Webhook => ctx.out().status(format!(
            "Created webhook trigger {}: it starts {}.",
            t.name, t.workflow
        )),
        TriggerKind::After => ctx.out().status(format!(
            "Created trigger {}: a run of {} ending {} starts {}.",
            t.name,
            t.upstream.as_deref().unwrap_or("?"),
            super::list::statuses(t),
            t.workflow
        )),
    }
    super::print_created(ctx, &plane, &created)
}
