//! `imx schedule ...`: create, list, show, pause, resume, delete, trigger, backfill schedules,
//! and list their missed ticks.

mod backfill;
mod create;
mod delete;
mod list;
mod missed;
mod pause;
mod render;
mod resume;
mod show;
mod trigger;

use clap::Subcommand;

use super::context::Context;
use super::error::CliError;

/// The schedule commands.
#[derive(Debug, Subcommand)]
pub enum ScheduleCommand {
    /// Create a schedule: run a workflow on a cron expression or every interval.
    Create(Box<create::CreateArgs>),
    /// List schedules.
    List(list::ListArgs),
    /// Show a schedule and its next 5 fire times (in its zone and UTC).
    Show(show::ShowArgs),
    /// Pause a schedule: its ticks are recorded as missed until it is resumed.
    Pause(pause::PauseArgs),
    /// Resume a paused schedule.
    Resume(resume::ResumeArgs),
    /// Delete a schedule (its runs stay).
    Delete(delete::DeleteArgs),
    /// Run a schedule's workflow now, as one of its ticks.
    Trigger(trigger::TriggerArgs),
    /// Make the runs of the ticks in a time range that have none.
    Backfill(backfill::BackfillArgs),
    /// List expected ticks that have no run, and why.
    Missed(missed::MissedArgs),
}

pub async fn run(ctx: &Context, cmd: ScheduleCommand) -> Result<(), CliError> {
    match cmd {
        ScheduleCommand::Create(args) => create::run(ctx, *args).await,
        ScheduleCommand::List(args) => list::run(ctx, args).await,
        ScheduleCommand::Show(args) => show::run(ctx, args).await,
        ScheduleCommand::Pause(args) => pause::run(ctx, args).await,
        ScheduleCommand::Resume(args) => resume::run(ctx, args).await,
        ScheduleCommand::Delete(args) => delete::run(ctx, args).await,
        ScheduleCommand::Trigger(args) => trigger::run(ctx, args).await,
        ScheduleCommand::Backfill(args) => backfill::run(ctx, args).await,
        ScheduleCommand::Missed(args) => missed::run(ctx, args).await,
    }
}
