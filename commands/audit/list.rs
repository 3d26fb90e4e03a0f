//! `imx audit list`, and how records render as rows and details.

use imx::model::AuditRecord;

use super::super::context::Context;
use super::super::error::CliError;
use super::super::output::{Cells, Detail, Row};
use super::filters::FilterArgs;

/// List audit records, oldest first (the newest --limit of them).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx audit list --since 24h
  imx audit list --action backup. --outcome ok
  imx audit list --actor user:bob --since 2024-05-01 --until 2024-06-01 -o csv
  imx audit list --outcome denied --all -o json")]
pub struct ListArgs {
    #[command(flatten)]
    filters: FilterArgs,

    /// Show at most this many (the newest; at least 1).
    #[arg(short = 'n', long, default_value_t = 100, value_parser = super::super::parse::limit)]
    limit: u32,

    /// Every matching record (no --limit).
    #[arg(long, conflicts_with = "limit")]
    all: bool,
}

pub async fn run(ctx: &Context, args: ListArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let mut filter = args.filters.filter();
    // 0 asks the control plane for every record.
    filter.limit = if args.all { 0 } else { args.limit };
    filter.newest = true;
    let records = plane.audit_list(&ctx.principal(), filter).await?;
    if records.is_empty() && !ctx.out().is_machine() {
        ctx.out().status("No audit records match.");
        return Ok(());
    }
    ctx.out().list(&records)
}

fn details(r: &AuditRecord) -> String {
    match &r.details {
        serde_json::Value::Null => String::new(),
        v => v.to_string(),
    }
}

impl Row for AuditRecord {
    fn headers(cx: &Cells) -> Vec<&'static str> {
        let mut h = vec!["SEQ", "TIME", "ACTOR", "ACTION", "TARGET", "OUTCOME"];
        if cx.wide || cx.machine {
            h.extend(["SOURCE", "DETAILS", "HASH"]);
        }
        h
    }

    fn cells(&self, cx: &Cells) -> Vec<String> {
        let mut c = vec![
            self.seq.to_string(),
            cx.time(Some(self.time)),
            self.actor.clone(),
            self.action.clone(),
            self.target.clone(),
            self.outcome.clone(),
        ];
        if cx.wide || cx.machine {
            c.push(self.source.clone());
            c.push(details(self));
            c.push(self.hash.clone());
        }
        c
    }

    fn name(&self) -> String {
        self.seq.to_string()
    }
}

impl Detail for AuditRecord {
    fn name(&self) -> String {
        self.seq.to_string()
    }

    fn fields(&self, cx: &Cells) -> Vec<(&'static str, String)> {
        vec![
            ("Seq", self.seq.to_string()),
            (
                "Time",
                format!(
                    "{} ({})",
                    imx::audit::rfc3339(self.time),
                    cx.time(Some(self.time))
                ),
            ),
            ("Actor", self.actor.clone()),
            ("Source", self.source.clone()),
            ("Action", self.action.clone()),
            ("Target", self.target.clone()),
            ("Outcome", self.outcome.clone()),
            (
                "Details",
                cx.opt(Some(details(self)).filter(|d| !d.is_empty())),
            ),
            ("Prev hash", self.prev_hash.clone()),
            ("Hash", self.hash.clone()),
        ]
    }
}
