//! The vocabulary of the state machine: what a key means ([`Action`]), what the loop must do
//! outside the state ([`Effect`]), what the background loader is asked to watch ([`Watch`]) and
//! what it sends back ([`Data`]).

use std::collections::BTreeMap;

use imx::auth::Principal;
use imx::control::{AgentQuery, AuditFilter, Overview, RunQuery, WorkflowOutcomes};
use imx::model::{Agent, AgentStep, AuditRecord, LogLine, Page, Run, RunDetail, ScheduleInfo};

use super::palette::Candidates;

/// The views, in tab order (Run detail is opened from Runs or Overview, an agent's steps from
/// Agents; Schedules comes last, so the number keys of the others stay).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ViewId {
    Overview,
    Agents,
    /// One agent's current and recent steps.
    AgentSteps,
    Runs,
    RunDetail,
    Workflows,
    Audit,
    Schedules,
}

impl ViewId {
    /// The views that have a tab (and a number key).
    pub const TABS: [ViewId; 6] = [
        ViewId::Overview,
        ViewId::Agents,
        ViewId::Runs,
        ViewId::Workflows,
        ViewId::Audit,
        ViewId::Schedules,
    ];

    pub fn title(self) -> &'static str {
        match self {
            ViewId::Overview => "Overview",
            ViewId::Agents => "Agents",
            ViewId::AgentSteps => "Agent",
            ViewId::Runs => "Runs",
            ViewId::RunDetail => "Run",
            ViewId::Workflows => "Workflows",
            ViewId::Audit => "Audit",
            ViewId::Schedules => "Schedules",
        }
    }
}

/// Edits to a one-line input or a form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    Char(char),
    Backspace,
    /// Delete the word before the cursor (ctrl-w).
    DeleteWord,
    /// Tab: complete (palette) or next field (form).
    Next,
    Prev,
}

/// What a key (or a message) means.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Quit,
    /// Esc: close an overlay, clear a filter, or go back a view.
    Back,
    ToggleHelp,
    OpenPalette,
    OpenFilter,
    Goto(ViewId),
    NextView,
    PrevView,
    /// Tab: switch pane within a view (Run detail: steps ↔ logs).
    NextPane,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Enter,
    Edit(Edit),
    /// Confirm (`true`) or decline the pending confirmation.
    Confirm(bool),
    /// Runs: next status filter; Audit: next outcome filter.
    CycleFilter,
    /// Runs: newest ↔ oldest first.
    ToggleSort,
    /// A table: sort by the column to the right (`true`) or left of the current one.
    SortColumn(bool),
    /// A table: reverse the sort.
    SortReverse,
    /// Copy the selected object's full id to the clipboard.
    Copy,
    /// Run detail: the selected step's agent, in the Agents view.
    StepAgent,
    /// Run detail: follow the log tail, or stop following.
    ToggleFollow,
    /// Run detail's log: wrap long lines, or cut them.
    ToggleWrap,
    /// Run detail's log: show each line's time, or not.
    ToggleTimestamps,
    /// Run detail's log: take the whole view, or share it with the steps.
    ToggleFullscreen,
    /// Run detail's log: the selected step's, or every step's with a step prefix.
    ToggleAllSteps,
    /// Run detail's log: the next (`true`) or previous search match.
    NextMatch(bool),
    /// Run detail's log: save it to a file in the current directory.
    SaveLog,
    CancelRun,
    RetryRun,
    /// Run detail: approve the selected approval step (it is waiting).
    ApproveStep,
    DrainAgent,
    ResumeAgent,
    RemoveAgent,
    StartRun,
    PauseSchedule,
    ResumeSchedule,
    TriggerSchedule,
    /// `d` (`false`) or `Y` (`true`): describe the selected object, as fields or as YAML (in
    /// the describe overlay: switch between the two).
    Describe(bool),
    /// `C`: pick the table's columns.
    Columns,
    /// Space: show or hide the picker's selected column.
    Toggle,
    /// Open Run detail of this run (a `:run` prefix the control plane resolved).
    OpenRun(String),
    /// The dashboard now reads context `name` (`None`: no context), as `who`, at `location`.
    Switched {
        name: Option<String>,
        who: Principal,
        location: String,
    },
    /// The loader sent data.
    Data(Box<Data>),
    /// The clock moved (ms since the epoch).
    Tick(i64),
    /// A mutation finished: the message to show, and whether it failed.
    Done {
        message: String,
        failed: bool,
    },
}

/// What the loop does outside the state.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Tell the loader what to keep fresh (boxed: it is by far the largest effect).
    Watch(Box<Watch>),
    /// Change something through the control plane (authorized and audited there).
    Mutate(Mutation),
    /// Put this text on the terminal's clipboard (OSC 52).
    Copy(String),
    /// Read what the palette can complete (run ids, names, contexts); `run_prefix`: also the
    /// runs whose id starts with it. `tab`: the palette line that asked (completed on arrival).
    Candidates {
        tab: Option<String>,
        run_prefix: Option<String>,
    },
    /// `:run PREFIX`: find the run, then open it.
    ResolveRun(String),
    /// `:ctx NAME`: connect to that context and, if that works, read it from now on.
    SwitchContext(String),
    /// Write a run's log (one step's, or all steps' when `step` is `None`) to `file`.
    SaveLog {
        run: String,
        step: Option<String>,
        file: String,
    },
}

/// A change the operator confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mutation {
    CancelRun(String),
    RetryRun(String),
    /// Approve the waiting approval step `step` of run `run`.
    ApproveStep {
        run: String,
        step: String,
    },
    DrainAgent(String),
    ResumeAgent(String),
    RemoveAgent(String),
    StartRun {
        workflow: String,
        params: BTreeMap<String, String>,
    },
    PauseSchedule(String),
    ResumeSchedule(String),
    /// Run the schedule's workflow now, as a tick of it.
    TriggerSchedule(String),
}

impl Mutation {
    /// The question asked before doing it.
    pub fn question(&self) -> String {
        match self {
            Mutation::CancelRun(id) => format!("Cancel run {}?", imx::model::short_id(id)),
            Mutation::RetryRun(id) => {
                format!(
                    "Retry the failed steps of run {}?",
                    imx::model::short_id(id)
                )
            }
            Mutation::ApproveStep { run, step } => format!(
                "Approve step {step} of run {}? The run goes on.",
                imx::model::short_id(run)
            ),
            Mutation::DrainAgent(a) => {
                format!("Drain agent {a}? It finishes its steps, takes no new ones.")
            }
            Mutation::ResumeAgent(a) => format!("Resume agent {a}?"),
            Mutation::RemoveAgent(a) => {
                format!("Remove agent {a}? (Refused while it runs steps: drain it first.)")
            }
            Mutation::StartRun { workflow, params } => {
                if params.is_empty() {
                    format!("Start a run of {workflow}?")
                } else {
                    let p: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    format!("Start a run of {workflow} with {}?", p.join(" "))
                }
            }
            Mutation::PauseSchedule(s) => {
                format!("Pause schedule {s}? Its ticks are recorded as missed until resumed.")
            }
            Mutation::ResumeSchedule(s) => {
                format!("Resume schedule {s}? Its next tick fires on time.")
            }
            Mutation::TriggerSchedule(s) => {
                format!("Trigger schedule {s}: run its workflow now, as a tick of it?")
            }
        }
    }
}

/// A window of a log, read instead of its tail: a log is read from the store a window at a time
/// (at most [`LOG_KEEP`](super::views::logpane::LOG_KEEP) lines are held), from either end or
/// next to the loaded lines, never through from its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogWindow {
    /// The first lines (`g`).
    Head,
    /// The lines before the line with this id (scrolling up past the loaded lines).
    Before(i64),
    /// The lines after the line with this id (scrolling down past an older window).
    After(i64),
}

/// What the loader keeps fresh: the visible view and its queries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watch {
    pub view: ViewId,
    pub runs: RunQuery,
    pub agents: AgentQuery,
    /// Agent steps: the agent's name.
    pub agent: Option<String>,
    /// Run detail: the run, and the step whose logs to follow (all steps when `None`).
    pub detail: Option<(String, Option<String>)>,
    /// Run detail: read the log, once the run is known (so is the step it opens on: a failed
    /// run's failed step), so opening a run reads one log, not every step's first.
    pub log: bool,
    /// Run detail: a window of that log to read instead of following its tail.
    pub log_window: Option<LogWindow>,
    pub audit: AuditFilter,
    /// `:since`: the start of the time range, to the minute (a new range reads Runs and Audit
    /// again; Runs and Audit cut to the exact time themselves).
    pub since: Option<i64>,
}

/// What the loader sends back; each answer carries the query it answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    Overview(Overview),
    Runs(RunQuery, Page<Run>),
    Agents(AgentQuery, Page<Agent>),
    /// The steps of the agent named first.
    AgentSteps(String, Vec<AgentStep>),
    /// Boxed: a run with its steps is much larger than the other answers.
    Detail(Box<RunDetail>),
    /// New log lines for (run, step); `reset` when they start a new stream.
    Logs {
        run: String,
        step: Option<String>,
        lines: Vec<LogLine>,
        reset: bool,
        /// With `reset`: the stream has lines before these that were not read (only its last
        /// [`LOG_KEEP`](super::views::logpane::LOG_KEEP) are).
        older: bool,
    },
    /// A window of a log, as asked for in [`Watch::log_window`].
    LogWindow {
        run: String,
        step: Option<String>,
        window: LogWindow,
        lines: Vec<LogLine>,
        /// The stream goes on past these lines in the window's direction (after them for
        /// `Head` and `After`, before them for `Before`).
        more: bool,
    },
    Workflows(Vec<WorkflowOutcomes>),
    /// What the palette can complete; `tab`: the palette line that asked.
    Candidates {
        tab: Option<String>,
        candidates: Candidates,
    },
    Audit(AuditFilter, Vec<AuditRecord>),
    /// Every schedule, by name.
    Schedules(Vec<ScheduleInfo>),
    /// The newest run of each schedule that has one, by schedule name.
    ScheduleRuns(BTreeMap<String, Run>),
    /// A refresh finished at this time (ms).
    Refreshed(i64),
    /// The control plane could not be read.
    Failed(String),
}
