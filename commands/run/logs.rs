//! `imx run logs ID [--step S] [-f] [--since D] [--tail N] [--grep RE] [--timestamps]
//! [--failed]`.

use imx::model::{LogLine, StepStatus};

use super::super::context::Context;
use super::super::error::CliError;
use super::super::output::{Cells, RecordStream, Row};
use super::super::parse;
use super::tail;

/// Print a run's captured output, oldest first. Lines are prefixed `step | ` when the run has
/// several steps (and no --step is given). With -f, keep printing until the run ends.
/// The lines are a stream of records, with or without -f: `-o json` prints one JSON object per
/// line (NDJSON: id, run_id, step_id, attempt, time, stream, line), `-o csv` a header and a row
/// per line, `-o yaml` one document per line.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx run logs 01HZX4
  imx run logs 01HZX4 --step build -f
  imx run logs 01HZX4 --failed                 # the failed steps' last 20 lines
  imx run logs 01HZX4 --tail 100 --grep 'error|warn' --timestamps
  imx run logs 01HZX4 --since 10m -f
  imx run logs 01HZX4 -o json | jq -r 'select(.stream == \"stderr\") | .line'")]
pub struct LogsArgs {
    /// Run id (any unique prefix).
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::commands::candidates::runs))]
    pub id: String,

    /// Only this step's output.
    #[arg(short, long, value_name = "STEP", add = clap_complete::ArgValueCandidates::new(crate::commands::candidates::steps))]
    pub step: Option<String>,

    /// Follow: keep printing new lines until the run ends.
    #[arg(short, long)]
    pub follow: bool,

    /// Only lines written since: a duration ago (10m, 1h) or an RFC 3339 time.
    #[arg(long, value_name = "WHEN", value_parser = parse::since)]
    pub since: Option<i64>,

    /// Only the last N lines (with -f: then follow).
    #[arg(long, value_name = "N")]
    pub tail: Option<usize>,

    /// Only lines matching this regular expression.
    #[arg(long, value_name = "REGEX")]
    pub grep: Option<String>,

    /// Prefix each line with the time it was written (RFC 3339, UTC).
    #[arg(long, overrides_with = "no_timestamps")]
    pub timestamps: bool,

    /// No time prefix (the default; overrides an earlier --timestamps).
    #[arg(long, overrides_with = "timestamps")]
    pub no_timestamps: bool,

    /// Only the failed steps' last lines (20 each, or --tail N) of their last attempt.
    #[arg(long, conflicts_with_all = ["follow", "step"])]
    pub failed: bool,
}

pub async fn run(ctx: &Context, args: LogsArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let who = ctx.principal();
    let detail = super::get_run(ctx, &plane, &args.id).await?;
    let run_id = detail.run.id.clone();
    if let Some(step) = &args.step
        && !detail.steps.iter().any(|s| &s.step_id == step)
    {
        let ids: Vec<&str> = detail.steps.iter().map(|s| s.step_id.as_str()).collect();
        let hint = match imx::suggest::nearest(step, &ids) {
            Some(n) => format!("did you mean {n:?}? The steps are: {}", ids.join(", ")),
            None => format!("the steps are: {}", ids.join(", ")),
        };
        return Err(CliError::from(imx::Error::not_found(
            "step",
            format!("{}/{step}", imx::model::short_id(&run_id)),
        ))
        .with_hint(hint));
    }
    if args.tail == Some(0) {
        return Err(CliError::usage("--tail must be at least 1"));
    }
    let grep = match &args.grep {
        Some(re) => Some(
            regex::Regex::new(re).map_err(|e| CliError::usage(format!("--grep {re:?}: {e}")))?,
        ),
        None => None,
    };
    let since = args.since;
    let keep = move |l: &LogLine| {
        since.is_none_or(|t| l.time >= t) && grep.as_ref().is_none_or(|re| re.is_match(&l.line))
    };
    let several = detail.steps.len() > 1;
    let prefix = args.step.is_none() && (several || args.failed);
    let width = detail
        .steps
        .iter()
        .map(|s| s.step_id.len())
        .max()
        .unwrap_or(0);
    let timestamps = args.timestamps && !args.no_timestamps;
    let text = |line: &LogLine| {
        let mut s = String::new();
        if timestamps {
            s.push_str(&imx::model::time::to_rfc3339(line.time).unwrap_or_default());
            s.push(' ');
        }
        if prefix {
            s.push_str(&format!("{:<width$} | ", line.step_id));
        }
        s.push_str(&line.line);
        s
    };
    let mut stream = RecordStream::new(ctx.out());

    if args.failed {
        let n = args.tail.unwrap_or(tail::FAILED_LINES);
        let failed: Vec<_> = detail
            .steps
            .iter()
            .filter(|s| s.status == StepStatus::Failed)
            .collect();
        if failed.is_empty() {
            ctx.out().status(format!(
                "No step of run {} failed (it is {}).",
                imx::model::short_id(&run_id),
                detail.run.status
            ));
        }
        for s in failed {
            let attempt = s.attempt;
            let (lines, _) = tail::read(&plane, &who, &run_id, Some(&s.step_id), Some(n), &|l| {
                l.attempt == attempt && keep(l)
            })
            .await?;
            stream.write(&lines, text)?;
        }
        return Ok(());
    }

    // What is there now (the last --tail lines of it), then, with -f, what comes.
    let ended_first = !args.follow || detail.run.status.is_terminal();
    let (lines, mut after) = tail::read(
        &plane,
        &who,
        &run_id,
        args.step.as_deref(),
        args.tail,
        &keep,
    )
    .await?;
    stream.write(&lines, text)?;
    if ended_first {
        return Ok(());
    }
    const BATCH: u32 = 1_000;
    loop {
        // Read the run's state before the lines, so nothing written before it ended is missed.
        let ended = plane.get_run(&who, &run_id).await?.run.status.is_terminal();
        loop {
            let lines = plane
                .run_logs(&who, &run_id, args.step.as_deref(), after, BATCH)
                .await?;
            let Some(last) = lines.last() else { break };
            after = last.id;
            let full = lines.len() as u32 >= BATCH;
            let kept: Vec<LogLine> = lines.into_iter().filter(|l| keep(l)).collect();
            stream.write(&kept, text)?;
            if !full {
                break;
            }
        }
        if ended {
            break;
        }
        plane
            .wait_for_change(std::time::Duration::from_millis(500))
            .await;
    }
    Ok(())
}

impl Row for LogLine {
    fn headers(_cx: &Cells) -> Vec<&'static str> {
        vec!["ID", "STEP", "ATTEMPT", "TIME", "STREAM", "LINE"]
    }

    fn cells(&self, cx: &Cells) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.step_id.clone(),
            self.attempt.to_string(),
            cx.time(Some(self.time)),
            self.stream.as_str().into(),
            self.line.clone(),
        ]
    }

    fn name(&self) -> String {
        self.line.clone()
    }
}
