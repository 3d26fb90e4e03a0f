//! `imx schedule create NAME --workflow W (--cron EXPR | --every D) [options]`.

use std::collections::BTreeMap;

use imx::schedule::{Fold, Gap, Overlap, ScheduleSpec};

use super::super::context::Context;
use super::super::error::CliError;
use super::super::parse;

/// Create a schedule: run a workflow at the times of a cron expression (read in a time zone)
/// or every fixed interval. Each tick makes one run, however many servers or agents fire
/// schedules; `schedule show` gives the next fire times.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx schedule create nightly-deploy --workflow deploy --cron '0 3 * * *' --timezone Europe/Berlin
  imx schedule create poll --workflow deploy --every 15m --overlap buffer_one
  imx schedule create report --workflow deploy --cron @daily --jitter 5m --pause-on-failure
  imx schedule create nightly-eu --workflow deploy --cron '0 2 * * *' -l env=prod -l region=eu
  imx schedule create weekly --workflow release --cron '30 2 * * 0' --gap skip --fold last

Daylight saving (--cron only): a local time the clock skips fires when it jumps (--gap shift,
the default) or not at all (--gap skip); a local time it repeats fires at its first
occurrence (--fold first), its second (last) or both. Without --fold: first, but both for an
expression whose hour is a wildcard (Vixie cron).")]
pub struct CreateArgs {
    /// Schedule name: lowercase letters, digits, `-` and `_`.
    pub name: String,
    /// The workflow each tick runs (its latest version).
    #[arg(short, long, value_name = "NAME", add = clap_complete::ArgValueCandidates::new(crate::commands::candidates::workflows))]
    pub workflow: String,
    /// A 5-field crontab expression or @hourly, @daily, @weekly, @monthly, @yearly.
    #[arg(
        long,
        value_name = "EXPR",
        conflicts_with = "every",
        required_unless_present = "every"
    )]
    pub cron: Option<String>,
    /// A fixed interval, at least 1s (e.g. 30s, 15m, 1h).
    #[arg(long, value_name = "DURATION", value_parser = parse::duration)]
    pub every: Option<std::time::Duration>,
    /// The IANA time zone the cron expression is read in.
    #[arg(long, value_name = "ZONE", default_value = "UTC")]
    pub timezone: String,
    /// What a skipped local time does: shift or skip.
    #[arg(long, value_name = "POLICY", value_parser = gap)]
    pub gap: Option<Gap>,
    /// What a repeated local time does: first, last or both.
    #[arg(long, value_name = "POLICY", value_parser = fold)]
    pub fold: Option<Fold>,
    /// Delay each tick's run by up to this much (the same for a tick on every replica).
    #[arg(long, value_name = "DURATION", value_parser = parse::duration)]
    pub jitter: Option<std::time::Duration>,
    /// No tick before this time (RFC 3339).
    #[arg(long, value_name = "TIME", value_parser = time)]
    pub start: Option<i64>,
    /// No tick after this time (RFC 3339).
    #[arg(long, value_name = "TIME", value_parser = time)]
    pub end: Option<i64>,
    /// A parameter of each run, KEY=VALUE (repeatable).
    #[arg(short = 'p', long = "param", value_name = "KEY=VALUE", value_parser = parse::key_value)]
    pub params: Vec<(String, String)>,
    /// A label of each run it makes, KEY=VALUE (repeatable), to find them by (`imx run list -l
    /// KEY=VALUE`); the rules of `imx workflow run -l`.
    #[arg(short = 'l', long = "label", value_name = "KEY=VALUE", value_parser = parse::label)]
    pub labels: Vec<(String, String)>,
    /// Stop after this many runs.
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
    /// When the previous run is still going: skip, buffer_one, buffer_all, cancel_other,
    /// allow_all.
    #[arg(long, value_name = "POLICY", value_parser = overlap, default_value = "skip")]
    pub overlap: Overlap,
    /// Ticks missed while no scheduler ran fire late if at most this old.
    #[arg(long, value_name = "DURATION", value_parser = parse::duration, default_value = "1h")]
    pub catchup_window: std::time::Duration,
    /// At most this many ticks fire at once after downtime (the latest).
    #[arg(long, value_name = "N")]
    pub max_catchup: Option<u32>,
    /// Pause the schedule when one of its runs fails or times out.
    #[arg(long)]
    pub pause_on_failure: bool,
}

fn gap(s: &str) -> Result<Gap, String> {
    parse::one_of(
        "gap policy",
        s,
        &[("shift", Gap::Shift), ("skip", Gap::Skip)],
    )
}

fn fold(s: &str) -> Result<Fold, String> {
    parse::one_of(
        "fold policy",
        s,
        &[
            ("first", Fold::First),
            ("last", Fold::Last),
            ("both", Fold::Both),
        ],
    )
}

fn overlap(s: &str) -> Result<Overlap, String> {
    let all = Overlap::ALL.map(|o| (o.as_str(), o));
    parse::one_of("overlap policy", s, &all)
}

fn time(s: &str) -> Result<i64, String> {
    imx::model::time::from_rfc3339(s)
        .ok_or_else(|| format!("expected an RFC 3339 time (e.g. 2026-05-01T12:00:00Z), got {s:?}"))
}

fn ms(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

pub async fn run(ctx: &Context, args: CreateArgs) -> Result<(), CliError> {
    let mut params = BTreeMap::new();
    for (k, v) in args.params {
        if params.insert(k.clone(), v).is_some() {
            return Err(CliError::usage(format!("parameter {k:?} is given twice")));
        }
    }
    let mut spec = ScheduleSpec::new(args.name, args.workflow);
    spec.cron = args.cron;
    spec.every_ms = args.every.map(ms);
    spec.timezone = args.timezone;
    spec.dst.gap = args.gap.unwrap_or_default();
    spec.dst.fold = args.fold;
    spec.jitter_ms = args.jitter.map_or(0, ms);
    spec.start = args.start;
    spec.end = args.end;
    spec.params = params;
    spec.labels = crate::commands::workflow::run_input::label_map(&args.labels)?;
    spec.limit = args.limit;
    spec.overlap = args.overlap;
    spec.catchup_window_ms = ms(args.catchup_window);
    spec.max_catchup = args.max_catchup;
    spec.pause_on_failure = args.pause_on_failure;
    let s = ctx.plane()?.create_schedule(&ctx.principal(), spec).await?;
    ctx.out().status(format!(
        "Created schedule {} ({}); next fire: {}.",
        s.name,
        super::render::timing(&s),
        s.next_fire
            .and_then(imx::model::time::to_rfc3339)
            .unwrap_or_else(|| "none".into())
    ));
    ctx.out().result(&s)
}
