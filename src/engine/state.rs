//! The state a transition is decided from, as a store loads it: the run row, the rows of the
//! steps the transition may touch, the workflow version's index and the time. The engine never
//! reads storage: when a transition needs a step row it was not given, it says so ([`Need`]) and
//! the store loads it and asks again.

use std::collections::BTreeMap;

use super::SpecIndex;
use crate::model::{RunStatus, StepStatus};

/// The parts of a run row the transitions read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRow {
    pub id: String,
    pub workflow: String,
    pub version: u32,
    pub status: RunStatus,
    pub steps_total: u32,
    pub steps_done: u32,
    pub steps_succeeded: u32,
    /// The run's timeout, if it has one (a retry sets a new deadline from it).
    pub timeout_ms: Option<i64>,
    /// Where the timeout came from (see `model::TimeoutSource`), for the timed-out message.
    pub timeout_source: Option<String>,
    /// The run's concurrency key, if its workflow has `concurrency:` (its end frees a slot).
    pub concurrency_key: Option<String>,
}

/// The parts of a step row the transitions read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRow {
    pub step_id: String,
    /// Position in the workflow (orders steps that ended in the same millisecond).
    pub idx: u32,
    pub status: StepStatus,
    /// The current (or last) attempt: the fencing token agents report with.
    pub attempt: u32,
    /// Failed attempts since the step was (re)set.
    pub tries: u32,
    /// Times the step lost its agent since it was (re)set.
    pub lost: u32,
    pub agent_id: Option<String>,
    pub agent_name: Option<String>,
    /// Needs not yet succeeded.
    pub pending_needs: u32,
    pub not_before: i64,
    pub finished_at: Option<i64>,
    pub error: Option<String>,
}

/// A run as one transition sees it.
#[derive(Debug, Clone)]
pub struct Loaded<'a> {
    pub ix: &'a SpecIndex,
    pub run: RunRow,
    /// The loaded steps by id: those the transition touches (see [`Need`]).
    pub steps: BTreeMap<String, StepRow>,
    /// Whether `steps` holds every step of the run.
    pub all_steps: bool,
    /// Outputs of succeeded steps, by step id, loaded when asked for ([`Need::Outputs`]): an
    /// asked-for step that has not succeeded has an empty entry.
    pub outputs: BTreeMap<String, BTreeMap<String, String>>,
    /// Epoch milliseconds.
    pub now: i64,
    /// What `if:` conditions read beyond step rows, once asked for ([`Need::Facts`]).
    pub facts: Option<Facts>,
}

/// What `if:` conditions read that step rows do not hold: the run's params and the outputs
/// of the succeeded steps a [`Need::Facts`] named.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    pub params: BTreeMap<String, serde_json::Value>,
    pub outputs: BTreeMap<String, BTreeMap<String, String>>,
}

impl<'a> Loaded<'a> {
    pub fn new(ix: &'a SpecIndex, run: RunRow, now: i64) -> Self {
        Loaded {
            ix,
            run,
            steps: BTreeMap::new(),
            all_steps: false,
            outputs: BTreeMap::new(),
            now,
            facts: None,
        }
    }

    /// Add (or replace) loaded step rows.
    pub fn with_steps(mut self, steps: impl IntoIterator<Item = StepRow>) -> Self {
        self.add_steps(steps);
        self
    }

    pub fn add_steps(&mut self, steps: impl IntoIterator<Item = StepRow>) {
        for s in steps {
            self.steps.insert(s.step_id.clone(), s);
        }
    }
}

/// Step rows a transition needs and was not given. The store loads them and decides again
/// (the functions are pure, so asking again is safe).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Need {
    /// These steps' rows.
    Steps(Vec<String>),
    /// Every step of the run (ending a run, `fail_fast`, naming the run's failed step, retry).
    AllSteps,
    /// The outputs of these steps (a `foreach:` step expanding), in [`Loaded::outputs`].
    Outputs(Vec<String>),
    /// The run's params and the outputs of these steps (if they succeeded), for `if:`
    /// conditions ([`Facts`]).
    Facts(Vec<String>),
}

/// The agent a claim is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimant {
    pub id: String,
    pub name: String,
}
