//! `imx audit tail`.

use std::time::Duration;

use imx::model::AuditRecord;

use super::super::context::Context;
use super::super::error::CliError;
use super::super::output::RecordStream;
use super::filters::FilterArgs;

/// Show the newest audit records; with -f, keep printing new ones as they are appended
/// (until Ctrl-C). The records are a stream, with or without -f: -o json prints one JSON object
/// per line (NDJSON), -o csv a header and a row per record.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  imx audit tail\n  imx audit tail -n 50 --outcome denied\n  imx audit tail -f -o json | my-siem-forwarder"
)]
pub struct TailArgs {
    /// How many of the newest records to show first.
    #[arg(short = 'n', long, default_value_t = 20)]
    lines: u32,

    /// Keep following new records.
    #[arg(short, long)]
    follow: bool,

    #[command(flatten)]
    filters: FilterArgs,
}

pub async fn run(ctx: &Context, args: TailArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let who = ctx.principal();
    let mut filter = args.filters.filter();
    filter.limit = args.lines;
    filter.newest = true;
    let first = plane.audit_list(&who, filter.clone()).await?;
    let mut after = first.last().map_or(0, |r| r.seq);
    let mut stream = RecordStream::new(ctx.out());
    stream.write(&first, text)?;
    if !args.follow {
        return Ok(());
    }
    if after == 0 {
        // Nothing matched yet: follow from the current head.
        let head = plane
            .audit_list(
                &who,
                imx::audit::AuditFilter {
                    limit: 1,
                    newest: true,
                    ..Default::default()
                },
            )
            .await?;
        after = head.last().map_or(0, |r| r.seq);
    }
    filter.newest = false;
    filter.limit = 1000;
    loop {
        filter.after_seq = Some(after);
        let more = plane.audit_list(&who, filter.clone()).await?;
        if let Some(last) = more.last() {
            after = last.seq;
            stream.write(&more, text)?;
        } else {
            plane.wait_for_change(Duration::from_millis(500)).await;
        }
    }
}

/// One record for people: `seq  time  actor  action  target  outcome`.
fn text(r: &AuditRecord) -> String {
    format!(
        "{:>6}  {}  {}  {}  {}  {}",
        r.seq,
        imx::audit::rfc3339(r.time),
        r.actor,
        r.action,
        r.target,
        r.outcome
    )
}
