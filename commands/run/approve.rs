//! `imx run approve ID STEP [--comment TEXT]`.

use imx::model::{ApprovalDecision, short_id};

use super::super::context::Context;
use super::super::error::CliError;

/// Approve a waiting approval step: it succeeds and the steps after it run.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Only the step's approvers (its `approvers:` users and roles) and admins may approve.\n\n\
Examples:\n  imx run approve 01HZX4 approve --comment \"staging looks good\""
)]
pub struct ApproveArgs {
    /// Run id (any unique prefix).
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::commands::candidates::runs))]
    pub id: String,
    /// The approval step's id.
    pub step: String,
    /// Why, kept in the audit trail and shown by `run show`.
    #[arg(long, short = 'm', value_name = "TEXT")]
    pub comment: Option<String>,
}

pub async fn run(ctx: &Context, args: ApproveArgs) -> Result<(), CliError> {
    decide(
        ctx,
        &args.id,
        &args.step,
        ApprovalDecision::Approved,
        args.comment,
    )
    .await
}

/// Approve or reject, and say what became of the run.
pub async fn decide(
    ctx: &Context,
    id: &str,
    step: &str,
    decision: ApprovalDecision,
    comment: Option<String>,
) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let run = plane
        .decide_approval(&ctx.principal(), id, step, decision, comment)
        .await?;
    ctx.out().status(format!(
        "{} step {step:?} of run {} ({}); the run is {}.",
        match decision {
            ApprovalDecision::Approved => "Approved",
            ApprovalDecision::Rejected => "Rejected",
        },
        short_id(&run.id),
        run.workflow,
        run.status
    ));
    ctx.out().result(&run)
}
