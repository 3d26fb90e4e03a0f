//! `imx run reject ID STEP [--comment TEXT]`.

use imx::model::ApprovalDecision;

use super::super::context::Context;
use super::super::error::CliError;

/// Reject a waiting approval step: it fails with the rejection (and comment) as its error,
/// and the steps after it are skipped.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Only the step's approvers (its `approvers:` users and roles) and admins may reject.\n\n\
Examples:\n  imx run reject 01HZX4 approve --comment \"error rate too high on staging\""
)]
pub struct RejectArgs {
    /// Run id (any unique prefix).
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::commands::candidates::runs))]
    pub id: String,
    /// The approval step's id.
    pub step: String,
    /// Why: the step's error, kept in the audit trail and shown by `run show`.
    #[arg(long, short = 'm', value_name = "TEXT")]
    pub comment: Option<String>,
}

pub async fn run(ctx: &Context, args: RejectArgs) -> Result<(), CliError> {
    super::approve::decide(
        ctx,
        &args.id,
        &args.step,
        ApprovalDecision::Rejected,
        args.comment,
    )
    .await
}
