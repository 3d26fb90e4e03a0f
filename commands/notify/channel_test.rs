//! `imx notify channel test NAME`.

use imx::notify::DeliveryState;

use super::super::context::Context;
use super::super::error::{CliError, Exit};

/// Send a test message to a channel now (once, no retries) and show what the receiver answered.
/// Exits 1 when it was not delivered.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  imx notify channel test ops")]
pub struct TestArgs {
    /// The channel's name.
    pub name: String,
}

pub async fn run(ctx: &Context, args: TestArgs) -> Result<(), CliError> {
    let d = ctx
        .plane()?
        .notify_channel_test(&ctx.principal(), &args.name)
        .await?;
    let detail = d
        .attempts
        .last()
        .map(|a| a.detail.clone())
        .unwrap_or_default();
    ctx.out().result(&d)?;
    if d.state == DeliveryState::Delivered {
        ctx.out().status(format!(
            "Delivered a test message to {} ({detail}).",
            args.name
        ));
        Ok(())
    } else {
        Err(CliError::new(
            Exit::Error,
            format!(
                "the test message to {} was not delivered: {detail}",
                args.name
            ),
        ))
    }
}
