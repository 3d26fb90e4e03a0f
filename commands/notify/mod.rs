//! `imx notify ...`: notification channels (webhook, Slack, email), the rules that send to
//! them, and the deliveries made (issue 12).

mod channel_add;
mod channel_list;
mod channel_remove;
mod channel_test;
mod deliveries;
mod rule_add;
mod rule_list;
mod rule_remove;
mod view;

use clap::Subcommand;

use super::context::Context;
use super::error::CliError;

/// The notify commands.
#[derive(Debug, Subcommand)]
pub enum NotifyCommand {
    /// Add, list, remove and test channels: where messages go.
    #[command(
        subcommand,
        after_help = "Examples:\n  imx notify channel list\n  imx notify channel test ops"
    )]
    Channel(ChannelCommand),
    /// Add, list and remove rules: which events go to which channel.
    #[command(
        subcommand,
        after_help = "Examples:\n  imx notify rule add --on failed --channel ops --workflow deploy\n  imx notify rule list"
    )]
    Rule(RuleCommand),
    /// The messages sent (or being sent), each attempt and its result.
    Deliveries(deliveries::DeliveriesArgs),
}

/// Channels.
#[derive(Debug, Subcommand)]
pub enum ChannelCommand {
    /// Add a channel (its secret read from stdin with --secret-stdin).
    Add(channel_add::AddArgs),
    /// List channels (never their secrets).
    List(channel_list::ListArgs),
    /// Remove a channel no rule sends to.
    Remove(channel_remove::RemoveArgs),
    /// Send a test message to a channel now and show the result.
    Test(channel_test::TestArgs),
}

/// Rules.
#[derive(Debug, Subcommand)]
pub enum RuleCommand {
    /// Add a rule.
    Add(rule_add::AddArgs),
    /// List rules.
    List(rule_list::ListArgs),
    /// Remove a rule by id (or unique prefix).
    Remove(rule_remove::RemoveArgs),
}

pub async fn run(ctx: &Context, cmd: NotifyCommand) -> Result<(), CliError> {
    match cmd {
        NotifyCommand::Channel(c) => match c {
            ChannelCommand::Add(a) => channel_add::run(ctx, a).await,
            ChannelCommand::List(a) => channel_list::run(ctx, a).await,
            ChannelCommand::Remove(a) => channel_remove::run(ctx, a).await,
            ChannelCommand::Test(a) => channel_test::run(ctx, a).await,
        },
        NotifyCommand::Rule(c) => match c {
            RuleCommand::Add(a) => rule_add::run(ctx, a).await,
            RuleCommand::List(a) => rule_list::run(ctx, a).await,
            RuleCommand::Remove(a) => rule_remove::run(ctx, a).await,
        },
        NotifyCommand::Deliveries(a) => deliveries::run(ctx, a).await,
    }
}
