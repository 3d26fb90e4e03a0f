//! Events (the durable change feed) and captured log lines.

use serde::{Deserialize, Serialize};

/// One state transition, in the order it was committed. `id` is monotonic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Event {
    pub id: i64,
    #[serde(with = "crate::model::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub time: i64,
    /// e.g. `run.started`, `step.leased`, `step.succeeded`, `agent.drained`.
    pub kind: String,
    pub run_id: Option<String>,
    pub step_id: Option<String>,
    pub data: serde_json::Value,
}

/// Which stream a log line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LogStream {
    Stdout,
    Stderr,
    /// Lines imx itself writes (retries, timeouts, kills).
    System,
}

impl LogStream {
    pub fn as_str(self) -> &'static str {
        match self {
            LogStream::Stdout => "stdout",
            LogStream::Stderr => "stderr",
            LogStream::System => "system",
        }
    }
}

/// A line of a step's output on its way to the store: what the agent read, from which stream,
/// and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedLine {
    pub stream: LogStream,
    pub line: String,
    /// When the agent read it (ms since the epoch). `None` from agents that do not say (older
    /// ones): the control plane then stamps the time it received it.
    pub at: Option<i64>,
}

impl CapturedLine {
    /// A line with no capture time (the control plane stamps it).
    pub fn new(stream: LogStream, line: impl Into<String>) -> Self {
        CapturedLine {
            stream,
            line: line.into(),
            at: None,
        }
    }

    /// A line read at `at` (ms since the epoch).
    pub fn at(stream: LogStream, line: impl Into<String>, at: i64) -> Self {
        CapturedLine {
            stream,
            line: line.into(),
            at: Some(at),
        }
    }
}

/// One captured line of a step's output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LogLine {
    /// Monotonic across the store: use it to follow (`after`).
    pub id: i64,
    pub run_id: String,
    pub step_id: String,
    pub attempt: u32,
    /// When the agent captured the line (from agents that do not say: when the control plane
    /// received it).
    #[serde(with = "crate::model::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub time: i64,
    pub stream: LogStream,
    pub line: String,
}

/// Where one run's captured output stands: the id of its newest log line. Followers learn from
/// marks which runs have new output without reading it (see `ControlPlane::log_marks`; the event
/// stream sends them as `logs` events). Log lines are not events: they never enter the event
/// feed or the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogMark {
    pub run_id: String,
    /// The id of the run's newest log line (see [`LogLine::id`]).
    pub last_id: i64,
}
