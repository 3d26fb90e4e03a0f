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

/// One captured line of a step's output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LogLine {
    /// Monotonic across the store: use it to follow (`after`).
    pub id: i64,
    pub run_id: String,
    pub step_id: String,
    pub attempt: u32,
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
