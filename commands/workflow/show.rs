//! `imx workflow show NAME [--version N]`.

use imx::model::{StepKind, Workflow};

use super::super::context::Context;
use super::super::error::CliError;
use super::super::output::{Cells, Detail, Format, duration};
use super::source;

/// Show a workflow: description, params, the run timeout a new run gets and where it comes
/// from (the workflow's `timeout:`, the server's or the store's default, or 24h), and steps
/// (kind, needs, timeout, retries). `-o yaml` prints the file the version was applied from,
/// exactly as written (so `imx workflow show NAME -o yaml | imx workflow apply -f -` changes
/// nothing); a version applied before imx kept files prints its parsed spec instead. `-o json`
/// prints the stored workflow with its full spec (and `spec.source`) and `run_timeout`
/// ({ms, source}).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx workflow show deploy
  imx workflow show deploy --version 2 -o yaml
  imx workflow show deploy -o yaml > deploy.yaml")]
pub struct ShowArgs {
    /// The workflow's name.
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::commands::candidates::workflows))]
    pub name: String,

    /// A past version (default: the latest).
    #[arg(long, value_name = "N")]
    pub version: Option<u32>,
}

pub async fn run(ctx: &Context, args: ShowArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let workflow = plane
        .get_workflow(&ctx.principal(), &args.name, args.version)
        .await?;
    if ctx.out().format() == Format::Yaml {
        let text = source::of(&workflow)?;
        if !text.kept {
            ctx.out().warn(source::no_source_note(&workflow));
        }
        return ctx.out().data(&text.text);
    }
    ctx.out().detail(&workflow)
}

/// `2s (the store's default)`; `-` when the control plane did not say (an older server).
fn run_timeout(w: &Workflow, cx: &Cells) -> String {
    match w.run_timeout {
        Some(t) => format!("{} ({})", t.text(), t.source.describe()),
        None => cx.opt(w.spec.timeout_ms.map(|t| duration(t as i64))),
    }
}

impl Detail for Workflow {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn fields(&self, cx: &Cells) -> Vec<(&'static str, String)> {
        let spec = &self.spec;
        let params = spec
            .params
            .iter()
            .map(|p| {
                let mut s = format!(
                    "{} ({}",
                    p.name,
                    serde_json::to_string(&p.ty)
                        .unwrap_or_default()
                        .trim_matches('"')
                );
                if p.required {
                    s.push_str(", required");
                }
                if let Some(d) = &p.default {
                    s.push_str(&format!(", default {d}"));
                }
                if let Some(allowed) = &p.allowed {
                    let allowed: Vec<String> = allowed.iter().map(|v| v.to_string()).collect();
                    s.push_str(&format!(", one of {}", allowed.join("|")));
                }
                s.push(')');
                s
            })
            .collect::<Vec<_>>();
        let mut fields = vec![
            ("Name", self.name.clone()),
            ("Version", self.version.to_string()),
            ("Description", cx.opt(spec.description.as_deref())),
            (
                "Params",
                if params.is_empty() {
                    "-".into()
                } else {
                    params.join(", ")
                },
            ),
            ("Run timeout", run_timeout(self, cx)),
            (
                "Fail fast",
                if spec.fail_fast { "yes" } else { "no" }.into(),
            ),
            ("Created", cx.time(Some(self.created_at))),
        ];
        if cx.wide {
            fields.push(("Digest", self.digest.clone()));
        }
        fields
    }

    fn table(&self, cx: &Cells) -> Option<(Vec<&'static str>, Vec<Vec<String>>)> {
        let mut headers = vec!["STEP", "KIND", "NEEDS", "TIMEOUT", "RETRIES"];
        if cx.wide || cx.machine {
            headers.extend(["AGENT LABELS", "WHAT"]);
        }
        let rows = self
            .spec
            .steps
            .iter()
            .map(|s| {
                let mut row = vec![
                    s.id.clone(),
                    s.kind.name().to_string(),
                    if s.needs.is_empty() {
                        cx.opt(None::<&str>)
                    } else {
                        s.needs.join(",")
                    },
                    cx.opt(s.timeout_ms.map(|t| duration(t as i64))),
                    if s.retry.max == 0 {
                        "0".into()
                    } else {
                        format!("{} ({:?})", s.retry.max, s.retry.backoff).to_lowercase()
                    },
                ];
                if cx.wide || cx.machine {
                    let labels = s.agent.as_ref().map(|a| cx.map(&a.labels));
                    row.push(labels.unwrap_or_else(|| cx.opt(None::<&str>)));
                    row.push(match &s.kind {
                        StepKind::Run { command } => command.clone(),
                        StepKind::Http(h) => format!("{} {}", h.method, h.url),
                        StepKind::Noop => String::new(),
                        StepKind::Approval(a) => format!("approval by {}", a.approvers.describe()),
                    });
                }
                row
            })
            .collect();
        Some((headers, rows))
    }
}
