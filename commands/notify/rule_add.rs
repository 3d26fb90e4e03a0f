//! `imx notify rule add --on EVENT --channel NAME [--workflow W] [-l KEY=VALUE ...]`.

use imx::notify::{NewRule, On};

use super::super::context::Context;
use super::super::error::CliError;
use super::super::parse;

/// Add a rule: when EVENT happens to a run (of W, or of any workflow), send a message to the
/// channel. Events: failed, timed_out, cancelled, succeeded, recovered (a success after a run
/// that did not succeed), missed_schedule, duration_over (with --for D), stuck (no progress
/// for --for D), approval (an approval step started waiting for a person). With -l, only runs
/// with every one of those labels (`imx workflow run -l`); such a rule never fires on
/// missed_schedule. A workflow file can declare its own rules under `notify:` (imx help workflow).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    imx notify rule add --on failed --channel ops\n  \
    imx notify rule add --on failed --channel ops --workflow deploy --after 3 --cooldown 1h\n  \
    imx notify rule add --on failed --channel ops -l team=payments -l env=prod\n  \
    imx notify rule add --on duration_over --for 30m --channel ops --workflow nightly\n  \
    imx notify rule add --on failed --channel chat --group 1m\n  \
    imx notify rule add --on approval --channel ops --workflow deploy")]
pub struct AddArgs {
    /// The event: failed, timed_out, cancelled, succeeded, recovered, missed_schedule,
    /// duration_over, stuck, approval.
    #[arg(long, value_name = "EVENT")]
    pub on: String,
    /// The channel to send to.
    #[arg(long, value_name = "NAME")]
    pub channel: String,
    /// Only runs of this workflow [default: every workflow].
    #[arg(long, value_name = "W")]
    pub workflow: Option<String>,
    /// Only runs with this label (KEY=VALUE; repeat for several, all must match) [default: any
    /// run].
    #[arg(short = 'l', long = "label", value_name = "KEY=VALUE", value_parser = parse::label)]
    pub labels: Vec<(String, String)>,
    /// For duration_over and stuck: how long (e.g. 30m).
    #[arg(long = "for", value_name = "D", value_parser = parse::duration)]
    pub threshold: Option<std::time::Duration>,
    /// Only when this many runs in a row ended this way.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub after: u32,
    /// After a message, send none from this rule for this long (e.g. 1h); what happens
    /// meanwhile is recorded as suppressed.
    #[arg(long, value_name = "D", value_parser = parse::duration)]
    pub cooldown: Option<std::time::Duration>,
    /// Batch what happens within this window (e.g. 1m) into one message.
    #[arg(long, value_name = "D", value_parser = parse::duration)]
    pub group: Option<std::time::Duration>,
}

fn ms(d: Option<std::time::Duration>) -> u64 {
    d.map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

pub async fn run(ctx: &Context, args: AddArgs) -> Result<(), CliError> {
    let on: On = args.on.parse()?;
    let rule = NewRule {
        on,
        channel: args.channel,
        workflow: args.workflow,
        labels: args.labels.into_iter().collect(),
        threshold_ms: args.threshold.map(|d| ms(Some(d))),
        after: args.after,
        cooldown_ms: ms(args.cooldown),
        group_ms: ms(args.group),
    };
    let added = ctx.plane()?.notify_rule_add(&ctx.principal(), rule).await?;
    ctx.out().status(format!(
        "Added rule {}: on {} send to {}.",
        imx::model::short_id(&added.id),
        added.rule.on,
        added.rule.channel
    ));
    ctx.out().result(&added)
}
