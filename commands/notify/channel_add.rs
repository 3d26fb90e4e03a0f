//! `imx notify channel add NAME --webhook URL | --slack | --email ADDR --smtp URL`.

use std::path::PathBuf;

use imx::notify::{ChannelKind, NewChannel};

use super::super::context::Context;
use super::super::error::CliError;

/// Add a channel. Secrets — a webhook's signing secret, the Slack incoming-webhook URL, the
/// SMTP password — are read from stdin with --secret-stdin (never from arguments), sealed
/// with the store key, and never shown again.
#[derive(Debug, clap::Args)]
#[command(
    group(clap::ArgGroup::new("kind").required(true).args(["webhook", "slack", "email"])),
    after_help = "Examples:\n  \
      pass show ops | imx notify channel add ops --webhook https://hooks.example/imx --secret-stdin\n  \
      pass show slack | imx notify channel add chat --slack --secret-stdin\n  \
      imx notify channel add oncall --email oncall@example.com --smtp smtps://mail.example.com\n  \
      pass show smtp | imx notify channel add ops-mail --email ops@example.com \\\n      \
      --smtp smtp://imx@mail.example.com:587 --secret-stdin"
)]
pub struct AddArgs {
    /// The channel's name (letters, digits, '-', '_', '.').
    pub name: String,
    /// POST a JSON message to URL, signed the Standard Webhooks way with the secret from stdin.
    #[arg(long, value_name = "URL")]
    pub webhook: Option<String>,
    /// Post to a Slack incoming webhook; its URL (a secret) is read from stdin.
    #[arg(long, requires = "secret_stdin")]
    pub slack: bool,
    /// Send email to ADDR through --smtp.
    #[arg(long, value_name = "ADDR", requires = "smtp")]
    pub email: Option<String>,
    /// The SMTP server: smtp://[user@]host[:port] (STARTTLS required, port 587 by default) or
    /// smtps://host (TLS from the start); the password is read from stdin.
    #[arg(long, value_name = "URL", requires = "email")]
    pub smtp: Option<String>,
    /// The sender of an email channel [default: imx@<SMTP host>].
    #[arg(long, value_name = "ADDR", requires = "email")]
    pub from: Option<String>,
    /// A PEM file of CA certificates the SMTP server's certificate may chain to (a private CA).
    #[arg(long, value_name = "FILE", requires = "email")]
    pub smtp_ca: Option<PathBuf>,
    /// Read the channel's secret from the first line of stdin.
    #[arg(long)]
    pub secret_stdin: bool,
}

pub async fn run(ctx: &Context, args: AddArgs) -> Result<(), CliError> {
    let secret = if args.secret_stdin {
        super::super::password::read_stdin(&["--secret-stdin"])?.pop()
    } else {
        None
    };
    let smtp_ca_pem = match &args.smtp_ca {
        Some(p) => Some(
            std::fs::read_to_string(p)
                .map_err(|e| CliError::usage(format!("--smtp-ca {}: {e}", p.display())))?,
        ),
        None => None,
    };
    let (kind, target) = match (&args.webhook, args.slack, &args.email) {
        (Some(url), _, _) => (ChannelKind::Webhook, url.clone()),
        (None, true, _) => (ChannelKind::Slack, String::new()),
        (None, false, Some(addr)) => (ChannelKind::Email, addr.clone()),
        _ => {
            return Err(CliError::usage(
                "give --webhook URL, --slack or --email ADDR",
            ));
        }
    };
    if kind == ChannelKind::Webhook && secret.is_none() {
        ctx.out().warn(
            "the webhook has no signing secret: receivers cannot tell its messages from forged ones \
             (pass one with --secret-stdin)",
        );
    }
    let channel = NewChannel {
        name: args.name,
        kind,
        target,
        smtp: args.smtp,
        from: args.from,
        smtp_ca_pem,
        secret,
    };
    let plane = ctx.plane()?;
    let added = plane.notify_channel_add(&ctx.principal(), channel).await?;
    ctx.out().status(format!(
        "Added {} channel {}{}.",
        added.kind,
        added.name,
        if added.has_secret {
            " (its secret sealed with the store key)"
        } else {
            ""
        }
    ));
    ctx.out().result(&added)
}
