//! `imx run logs ID [--step S] [-f]`.

use imx::model::LogLine;

use super::super::context::Context;
use super::super::error::CliError;
use super::super::output::{Cells, RecordStream, Row};

/// How many lines to read per request.
const BATCH: u32 = 1_000;

/// Print a run's captured output, oldest first. Lines are prefixed `step | ` when the run has
/// several steps (and no --step is given). With -f, keep printing until the run ends.
/// The lines are a stream of records, with or without -f: `-o json` prints one JSON object per
/// line (NDJSON: id, run_id, step_id, attempt, time, stream, line), `-o csv` a header and a row
/// per line, `-o yaml` one document per line.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx run logs 01HZX4
  imx run logs 01HZX4 --step build -f
  imx run logs 01HZX4 -o json | jq -r 'select(.stream == \"stderr\") | .line'")]
pub struct LogsArgs {
    /// Run id (any unique prefix).
    pub id: String,

    /// Only this step's output.
    #[arg(short, long, value_name = "STEP")]
    pub step: Option<String>,

    /// Follow: keep printing new lines until the run ends.
    #[arg(short, long)]
    pub follow: bool,
}

pub async fn run(ctx: &Context, args: LogsArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let who = ctx.principal();
    let detail = plane.get_run(&who, &args.id).await?;
    let run_id = detail.run.id.clone();
    if let Some(step) = &args.step
        && !detail.steps.iter().any(|s| &s.step_id == step)
    {
        return Err(imx::Error::not_found("step", format!("{run_id}/{step}")).into());
    }
    let prefix = args.step.is_none() && detail.steps.len() > 1;
    let width = detail
        .steps
        .iter()
        .map(|s| s.step_id.len())
        .max()
        .unwrap_or(0);
    let mut stream = RecordStream::new(ctx.out());
    let text = |line: &LogLine| {
        if prefix {
            format!("{:<width$} | {}", line.step_id, line.line)
        } else {
            line.line.clone()
        }
    };
    let mut after = 0_i64;
    loop {
        // Read the run's state before the lines, so nothing written before it ended is missed.
        let ended = !args.follow || plane.get_run(&who, &run_id).await?.run.status.is_terminal();
        loop {
            let lines = plane
                .run_logs(&who, &run_id, args.step.as_deref(), after, BATCH)
                .await?;
            let Some(last) = lines.last() else { break };
            after = last.id;
            stream.write(&lines, text)?;
            if (lines.len() as u32) < BATCH {
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
