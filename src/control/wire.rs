//! The wire shapes of the HTTP API that are not model types: query strings and request bodies,
//! shared by the server's handlers and the remote client so the two cannot drift.

use serde::{Deserialize, Serialize};

use crate::auth::Secret;
use crate::model::{CapturedLine, LeaseRef, LogStream, RunStatus, StepResult};

/// `?dry_run=true` on apply.
#[derive(Debug, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ApplyQuery {
    /// Say what would change without changing it.
    #[serde(default)]
    pub dry_run: bool,
}

/// `?force=true` on agent remove.
#[derive(Debug, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RemoveQuery {
    /// Remove it even while it is online and runs steps (they go back to the queue).
    #[serde(default)]
    pub force: bool,
}

/// `?version=N` on workflow show.
#[derive(Debug, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct VersionQuery {
    /// A version (default: the latest).
    pub version: Option<u32>,
}

/// Query string of `GET /runs`.
#[derive(Debug, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RunsQuery {
    /// Only runs of this workflow.
    pub workflow: Option<String>,
    /// Only runs in this state.
    pub status: Option<RunStatus>,
    /// Only runs created at or after this time (ms since the epoch).
    pub since: Option<i64>,
    /// Only runs made by this schedule's ticks.
    pub schedule: Option<String>,
    /// Only runs not ended with an approval step waiting for a person (`run list --status
    /// waiting`; their status is `running`).
    #[serde(default)]
    pub waiting: bool,
    /// Only runs with these labels: `key=value`, several separated by commas
    /// (`pr=42,sha=abc`), all of which must match.
    pub label: Option<String>,
    /// Page size (default 20; above 1,000 is clamped to 1,000).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Body of `POST /runs/{id}/retry`.
#[derive(Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryBody {
    pub from: Option<String>,
}

/// Body of `POST /runs/{id}/steps/{step}/approve` and `.../reject`.
#[derive(Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalBody {
    /// Why, for the audit trail and `run show` (a rejection's comment is the step's error).
    #[serde(default)]
    pub comment: Option<String>,
}

/// Query string of `GET /runs/{id}/logs`.
#[derive(Debug, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LogsQuery {
    /// Only this step's lines.
    pub step: Option<String>,
    /// Lines with a larger id (to follow).
    #[serde(default)]
    pub after: i64,
    /// Read backwards instead: the newest `limit` lines with a smaller id, still oldest first
    /// (`after` is not used). Pass the first id of a page to read the page before it.
    pub before: Option<i64>,
    /// Read backwards from the end: the last `limit` lines (as `before` past the newest line).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tail: bool,
    /// Page size (default and maximum 1,000; larger is clamped).
    pub limit: Option<u32>,
}

/// Query string of `GET /events`: with `wait_ms`, a long poll that returns as soon as there is
/// an event after `after` (or the wait ends).
#[derive(Debug, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// Events with a larger id; negative: only the newest event.
    #[serde(default)]
    pub after: i64,
    /// Page size (default and maximum 1,000; larger is clamped).
    pub limit: Option<u32>,
    /// Wait up to this long (capped at 30 s) for an event when there is none yet.
    pub wait_ms: Option<u64>,
}

/// Body of `POST /agents/{id}/claim`: a long poll of up to `wait_ms`.
#[derive(Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimBody {
    pub max: u32,
    #[serde(default)]
    pub wait_ms: u64,
}

/// Body of heartbeats and lease checks.
#[derive(Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeasesBody {
    pub leases: Vec<LeaseRef>,
}

/// Body of `POST /leases/logs`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogsBody {
    pub lease: LeaseRef,
    pub lines: Vec<(LogStream, String)>,
    /// When the agent captured each line, in milliseconds since the epoch: one per line, in
    /// the same order. Absent (agents that predate it): each line is stamped when the control
    /// plane receives it. A time later than its receipt is stored as the receipt time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<Vec<i64>>,
}

impl LogsBody {
    /// The body for `lines`; capture times are sent when every line has one.
    pub fn new(lease: &LeaseRef, lines: &[CapturedLine]) -> Self {
        let times: Option<Vec<i64>> = lines.iter().map(|l| l.at).collect();
        LogsBody {
            lease: lease.clone(),
            lines: lines.iter().map(|l| (l.stream, l.line.clone())).collect(),
            times,
        }
    }

    /// The lines with their capture times; a `times` that does not match `lines` is an error.
    pub fn into_lines(self) -> crate::Result<(LeaseRef, Vec<CapturedLine>)> {
        let lines = match self.times {
            None => self
                .lines
                .into_iter()
                .map(|(stream, line)| CapturedLine::new(stream, line))
                .collect(),
            Some(times) if times.len() == self.lines.len() => self
                .lines
                .into_iter()
                .zip(times)
                .map(|((stream, line), at)| CapturedLine::at(stream, line, at))
                .collect(),
            Some(times) => {
                return Err(crate::Error::invalid(format!(
                    "times: {} capture times for {} lines; send one per line, or none",
                    times.len(),
                    self.lines.len()
                )));
            }
        };
        Ok((self.lease, lines))
    }
}

/// Body of `POST /leases/complete`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteBody {
    pub results: Vec<(LeaseRef, StepResult)>,
    /// Then claim for this agent what is ready once the results are recorded, in the same
    /// transaction (no waiting); the reply is then a [`CompletedClaim`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<ClaimAfter>,
}

/// The claim that rides with results (`claim` in a [`CompleteBody`]).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimAfter {
    /// The claiming agent's id (from registration).
    pub agent_id: String,
    /// The most steps to lease.
    pub max: u32,
}

/// Reply of `POST /leases/complete`: whether each result was accepted, and with a `claim`, the
/// steps it was granted.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum CompleteReply {
    /// Without a claim: per result, whether it was accepted.
    Accepted(Vec<bool>),
    /// With a claim.
    Claimed(CompletedClaim),
}

/// Results recorded and a claim made in one transaction.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompletedClaim {
    /// Per result: whether it was accepted.
    pub accepted: Vec<bool>,
    /// The steps granted (possibly none).
    pub tasks: Vec<crate::model::StepTask>,
}

/// Body of `POST /login`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    pub user: String,
    pub password: Secret,
}

/// Body of `PUT /users/{name}/password`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    /// The new password.
    pub password: Secret,
    /// The current password: needed when users change their own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_password: Option<Secret>,
}

/// Body of `POST /audit/tail`.
#[derive(Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditTailBody {
    #[serde(deserialize_with = "object_only")]
    pub filter: super::AuditFilter,
    pub before: Option<i64>,
    pub limit: u32,
}

/// `?limit=N` on an agent's steps (`GET /agents/{name}/steps`).
#[derive(Debug, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AgentStepsQuery {
    /// At most this many steps (default 50, at most 1,000; larger is clamped).
    pub limit: Option<u32>,
}

/// `?recent=N` on the dashboard's workflows.
#[derive(Debug, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RecentQuery {
    #[serde(default)]
    pub recent: u32,
}

/// Body of `POST /backups`: how to make the backup. There is no path: a server writes backups
/// only into its own backup folder. An encrypted backup takes a passphrase (sent over TLS);
/// key files stay on the machine that reads them.
#[derive(Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BackupCreateBody {
    /// The format; absent: the store's own (sqlite on a SQLite store, logical on PostgreSQL).
    #[serde(default)]
    pub format: Option<crate::backup::BackupFormat>,
    pub passphrase: Option<Secret>,
    pub note: Option<String>,
    pub level: Option<i32>,
}

/// Body of `POST /backups/{id}/verify`.
#[derive(Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BackupVerifyBody {
    pub passphrase: Option<Secret>,
    #[serde(default)]
    pub integrity: crate::backup::Integrity,
}

/// Body of `PUT /settings/backup-location`: the store's backup folder (absolute), or `null`
/// to unset it.
#[derive(Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BackupLocationBody {
    pub dir: Option<String>,
}

/// Body of `POST /audit/report`.
#[derive(Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditReportBody {
    #[serde(default, deserialize_with = "object_only")]
    pub window: crate::audit::Window,
}

/// A struct from a JSON object only: serde also takes an array of the fields in order, which
/// the API documents nowhere.
fn object_only<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let map = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
    T::deserialize(serde_json::Value::Object(map)).map_err(serde::de::Error::custom)
}

/// A backup as named over the wire: an id or unique id prefix (letters and digits), never a
/// path, so a client cannot make the server read files outside its backup folder.
pub fn backup_id(what: &str) -> crate::Result<&str> {
    if !what.is_empty() && what.len() <= 64 && what.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(what)
    } else {
        Err(crate::Error::invalid_with_hint(
            format!("{what:?} is not a backup id; a server names backups by id only"),
            "list them with: imx --server URL backup list",
        ))
    }
}

/// The caller, and when the token it presented expires.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct WhoAmI {
    #[serde(flatten)]
    pub principal: crate::auth::Principal,
    /// When the bearer token expires (RFC 3339); absent if it never does.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::model::time::rfc3339_opt"
    )]
    #[schema(value_type = Option<String>)]
    pub token_expires_at: Option<i64>,
}

/// The body of `POST /triggers/{name}/rotate`: the new webhook secret, or none to have one
/// made.
#[derive(Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateSecret {
    #[serde(default)]
    pub secret: Option<Secret>,
}

/// `?workflow=W` on the secrets routes: a workflow's own secrets (global ones when absent).
#[derive(Debug, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SecretScope {
    /// The workflow the secrets belong to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[param(pattern = "^[a-z0-9][a-z0-9_-]*$", max_length = 100)]
    pub workflow: Option<String>,
}

/// `POST /api/v1/store/rekey`: the new store key.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RekeyBody {
    /// 64 hex digits (e.g. from `openssl rand -hex 32`).
    #[schema(pattern = "^[0-9a-fA-F]{64}$")]
    pub new_key: Secret,
}

/// `?attempt=N&agent=ID` on an agent's artifact routes: the lease it holds on the step in the
/// path (`/api/v1/runs/{run}/steps/{step}/...`).
#[derive(Debug, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LeaseQuery {
    /// The attempt the lease is for.
    #[param(minimum = 1)]
    pub attempt: u32,
    /// The agent holding it.
    pub agent: String,
    /// Upload only: the file's path in the step's working directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[param(max_length = 1024)]
    pub path: Option<String>,
}

impl LeaseQuery {
    /// The lease on `step` of `run` this query names.
    pub fn lease(&self, run: String, step: String) -> crate::model::LeaseRef {
        crate::model::LeaseRef {
            run_id: run,
            step_id: step,
            attempt: self.attempt,
            agent_id: self.agent.clone(),
        }
    }
}
