//! Workflow definitions: the validated form of a workflow file (see `spec` for parsing).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A validated workflow definition. Durations are milliseconds. Template strings (`{{ ... }}`)
/// are kept as written and rendered when a step is granted to an agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkflowSpec {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Parameters in file order.
    #[serde(default)]
    pub params: Vec<ParamSpec>,
    /// Run timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// Stop starting new steps as soon as one step fails.
    #[serde(default)]
    pub fail_fast: bool,
    /// How many runs sharing a key may be active at once, and what a run over the limit does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<ConcurrencySpec>,
    /// Steps in file order, with defaults already applied.
    pub steps: Vec<StepSpec>,
    /// The file's `schedules:` (issue 12): `workflow apply` creates, changes and removes the
    /// workflow's schedules to match.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schedules: Vec<crate::schedule::ScheduleSpec>,
    /// `on:`: start a run of this workflow when a run of another one ends (a trigger each).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub on: Vec<RunAfter>,
    /// The file's `notify:` (issue 12): notification rules for this workflow's runs.
    /// `workflow apply` makes the workflow's rules from files what the file declares; their
    /// `workflow` is left empty here (it is this workflow).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notify: Vec<crate::notify::NewRule>,
    /// The file this spec was read from, exactly as written, when known. Each workflow version
    /// keeps it (`workflow show -o yaml` prints it back, `workflow diff` compares it); it is not
    /// part of the digest. A spec sent with a source must be what that source parses to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// `concurrency:` — at most `limit` runs whose `key` (a template over the run's params,
/// rendered when the run is started) is the same may be active at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConcurrencySpec {
    pub key: String,
    /// At least 1.
    #[serde(default = "one")]
    pub limit: u32,
    #[serde(default)]
    pub on_conflict: OnConflict,
}

fn one() -> u32 {
    1
}

/// What a run started while its concurrency key already has `limit` active runs does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnConflict {
    /// Wait (status `queued`) until a slot frees, first come first served.
    #[default]
    Queue,
    /// Cancel the oldest active run(s) of the key and run now.
    CancelRunning,
    /// End at once (status `cancelled`, the error saying it was skipped).
    Skip,
}

impl OnConflict {
    pub const ALL: [OnConflict; 3] = [
        OnConflict::Queue,
        OnConflict::CancelRunning,
        OnConflict::Skip,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OnConflict::Queue => "queue",
            OnConflict::CancelRunning => "cancel_running",
            OnConflict::Skip => "skip",
        }
    }
}

/// One `on:` entry of a workflow file: start a run when a run of `workflow` ends in one of
/// `status`, with params mapped from it (see [`crate::trigger::params`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunAfter {
    pub workflow: String,
    pub status: Vec<super::RunStatus>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, String>,
}

/// A declared parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParamSpec {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: ParamType,
    #[serde(default)]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<serde_json::Value>,
    #[serde(default, rename = "enum", skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<serde_json::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The type of a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ParamType {
    String,
    Int,
    Float,
    Bool,
}

/// One step of a workflow, with the workflow's defaults applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    pub id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub needs: Vec<String>,
    pub kind: StepKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    #[serde(default)]
    pub retry: RetrySpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<AgentSelector>,
    /// Environment for `run` steps (values may be templates).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Working directory for `run` steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workdir: Option<String>,
    /// `matrix:` / `foreach:`: the step runs as several instances (see [`super::FanOut`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fan_out: Option<super::FanOut>,
    /// `if:` — an expression over params, upstream outputs and states; false skips the step
    /// ("condition false"). See `engine::transitions::conditions`.
    #[serde(default, rename = "if", skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// `when:` — which outcome of its needs the step runs after.
    #[serde(default, skip_serializing_if = "When::is_success")]
    pub when: When,
    /// Files (paths or globs relative to the working directory) the agent uploads as the
    /// step's artifacts once it succeeds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<String>,
    /// Upstream steps whose artifacts the agent puts in the working directory before the step
    /// starts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<String>,
}

/// `when:` of a step: after which outcome of its `needs` it runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum When {
    /// Once every need succeeded (a need that failed or was skipped skips it).
    #[default]
    Success,
    /// Once every need ended, only if a step upstream of it failed (notify on failure).
    Failure,
    /// Once every need ended, whatever their outcome (cleanup).
    Always,
}

impl When {
    pub const ALL: [When; 3] = [When::Success, When::Failure, When::Always];

    pub fn as_str(self) -> &'static str {
        match self {
            When::Success => "success",
            When::Failure => "failure",
            When::Always => "always",
        }
    }

    pub fn is_success(&self) -> bool {
        *self == When::Success
    }
}

impl WorkflowSpec {
    /// A workflow of `steps` with no params, run timeout or fail-fast (for code that builds
    /// workflows rather than parsing files: tests, benchmarks).
    pub fn new(name: impl Into<String>, steps: Vec<StepSpec>) -> Self {
        WorkflowSpec {
            name: name.into(),
            description: None,
            params: Vec::new(),
            timeout_ms: None,
            fail_fast: false,
            concurrency: None,
            steps,
            schedules: Vec::new(),
            on: Vec::new(),
            notify: Vec::new(),
            source: None,
        }
    }
}

impl StepSpec {
    /// A step of `kind` with no needs, timeout, retries, selector, env or workdir.
    pub fn new(id: impl Into<String>, kind: StepKind) -> Self {
        StepSpec {
            id: id.into(),
            needs: Vec::new(),
            kind,
            timeout_ms: None,
            retry: RetrySpec::default(),
            agent: None,
            env: BTreeMap::new(),
            workdir: None,
            fan_out: None,
            condition: None,
            when: When::Success,
            artifacts: Vec::new(),
            inputs: Vec::new(),
        }
    }

    /// The same step, needing `needs`.
    pub fn needing(mut self, needs: &[&str]) -> Self {
        self.needs = needs.iter().map(|s| s.to_string()).collect();
        self
    }
}

/// What a step does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[serde(deny_unknown_fields)]
pub enum StepKind {
    /// A shell command, run with `/bin/sh -c`.
    Run { command: String },
    /// An HTTP request.
    Http(HttpSpec),
    /// Does nothing and succeeds: measures orchestration overhead, joins branches.
    Noop,
    /// Waits for a person: never given to an agent; `imx run approve|reject` ends it.
    Approval(ApprovalSpec),
}

impl StepKind {
    /// A short name for tables: `run`, `http` or `noop`.
    pub fn name(&self) -> &'static str {
        match self {
            StepKind::Run { .. } => "run",
            StepKind::Http(_) => "http",
            StepKind::Noop => "noop",
            StepKind::Approval(_) => "approval",
        }
    }
}

/// An `approval:` step: who may approve or reject it, how long it waits, and what it asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalSpec {
    pub approvers: Approvers,
    /// Past this long waiting, the step fails (none: it waits until the run's timeout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// What the approver is asked (a template over params and upstream outputs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Who may decide an approval step: these users, and holders of these roles (admins always
/// may). At least one of the two is given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Approvers {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<crate::auth::Role>,
}

impl Approvers {
    /// For people: `users alice, bob; roles admin`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.users.is_empty() {
            parts.push(format!("users {}", self.users.join(", ")));
        }
        if !self.roles.is_empty() {
            let roles: Vec<&str> = self.roles.iter().map(|r| r.as_str()).collect();
            parts.push(format!("roles {}", roles.join(", ")));
        }
        parts.join("; ")
    }

    /// Whether `who` may approve or reject: an admin, a listed user, or a holder of a listed
    /// role.
    pub fn allow(&self, who: &crate::auth::Principal) -> bool {
        who.role == crate::auth::Role::Admin
            || self.roles.contains(&who.role)
            || who
                .user_name()
                .is_some_and(|u| self.users.iter().any(|l| l == u))
    }
}

/// An HTTP step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpSpec {
    #[serde(default = "default_method")]
    pub method: String,
    pub url: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// A JSON body (string leaves may be templates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<serde_json::Value>,
    /// A raw body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Statuses that count as success; empty means any 2xx.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expect_status: Vec<u16>,
}

fn default_method() -> String {
    "GET".into()
}

/// Retry policy. `max` is the number of retries after the first attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetrySpec {
    #[serde(default)]
    pub max: u32,
    #[serde(default)]
    pub backoff: Backoff,
    #[serde(default = "default_initial")]
    pub initial_ms: u64,
    #[serde(default = "default_max_delay")]
    pub max_delay_ms: u64,
    /// Randomise each delay by up to ±`jitter` (a fraction, 0.0–1.0).
    #[serde(default = "default_jitter")]
    pub jitter: f64,
}

impl Default for RetrySpec {
    fn default() -> Self {
        RetrySpec {
            max: 0,
            backoff: Backoff::default(),
            initial_ms: default_initial(),
            max_delay_ms: default_max_delay(),
            jitter: default_jitter(),
        }
    }
}

fn default_initial() -> u64 {
    1_000
}
fn default_max_delay() -> u64 {
    300_000
}
fn default_jitter() -> f64 {
    0.2
}

/// Backoff shape between retries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Backoff {
    Fixed,
    #[default]
    Exponential,
}

/// Which agents may run a step: every label must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentSelector {
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

impl AgentSelector {
    /// Whether an agent with `labels` satisfies this selector.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.labels.iter().all(|(k, v)| labels.get(k) == Some(v))
    }
}

/// A stored workflow version.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Workflow {
    pub name: String,
    pub version: u32,
    /// SHA-256 of the canonical spec; equal digests mean an unchanged workflow.
    pub digest: String,
    #[serde(with = "crate::model::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
    pub spec: WorkflowSpec,
    /// The timeout a run of this version started now gets (without `--timeout`), and where it
    /// comes from. Filled in by the control plane when a workflow is shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_timeout: Option<RunTimeout>,
}

/// Every run ends by this default at the latest, unless something sets another run timeout.
pub const BUILT_IN_RUN_TIMEOUT_MS: u64 = 24 * 3_600_000;

/// A run's timeout and where it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RunTimeout {
    pub ms: u64,
    pub source: TimeoutSource,
}

impl RunTimeout {
    /// The timeout as it would be written in a workflow file: `24h`, `1h30m`, `2s`, `1s500ms`.
    pub fn text(&self) -> String {
        duration_text(self.ms)
    }
}

/// Milliseconds as a duration would be written in a workflow file: `24h`, `1h30m`, `2s`.
pub fn duration_text(ms: u64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    let mut rest = ms;
    for (unit, size) in [("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1)] {
        if rest >= size {
            out.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    out
}

/// Where a run's timeout comes from, first match wins in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TimeoutSource {
    /// `imx workflow run --timeout`.
    Run,
    /// The workflow's top-level `timeout:`.
    Workflow,
    /// The server's `--default-run-timeout`.
    Server,
    /// The store's default (`imx init --default-run-timeout`).
    Store,
    /// [`BUILT_IN_RUN_TIMEOUT_MS`].
    BuiltIn,
}

impl TimeoutSource {
    pub fn as_str(self) -> &'static str {
        match self {
            TimeoutSource::Run => "run",
            TimeoutSource::Workflow => "workflow",
            TimeoutSource::Server => "server",
            TimeoutSource::Store => "store",
            TimeoutSource::BuiltIn => "built_in",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "run" => TimeoutSource::Run,
            "workflow" => TimeoutSource::Workflow,
            "server" => TimeoutSource::Server,
            "store" => TimeoutSource::Store,
            "built_in" => TimeoutSource::BuiltIn,
            _ => return None,
        })
    }

    /// Where it comes from, for people: "the workflow's `timeout:`", "the server's default", ...
    pub fn describe(self) -> &'static str {
        match self {
            TimeoutSource::Run => "--timeout of this run",
            TimeoutSource::Workflow => "the workflow's `timeout:`",
            TimeoutSource::Server => "the server's default",
            TimeoutSource::Store => "the store's default",
            TimeoutSource::BuiltIn => "the default",
        }
    }
}

/// One line of `imx workflow list`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WorkflowSummary {
    pub name: String,
    pub version: u32,
    pub description: Option<String>,
    pub steps: usize,
    #[serde(with = "crate::model::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
    pub runs: u64,
    pub last_run_status: Option<super::RunStatus>,
}

#[cfg(test)]
mod tests {
    use super::Approvers;
    use crate::auth::{Principal, Role};

    #[test]
    fn listed_users_holders_of_listed_roles_and_admins_may_approve() {
        let a = Approvers {
            users: vec!["alice".into()],
            roles: vec![Role::Operator],
        };
        assert!(a.allow(&Principal::user("alice", Role::Viewer, "t")));
        assert!(a.allow(&Principal::user("carol", Role::Operator, "t")));
        assert!(a.allow(&Principal::token("ci", Role::Operator, "t")));
        assert!(a.allow(&Principal::user("root", Role::Admin, "t")));
        assert!(a.allow(&Principal::local_owner()));
        assert!(!a.allow(&Principal::user("bob", Role::Viewer, "t")));
        // A token named like a listed user is not that user.
        assert!(!a.allow(&Principal::token("alice", Role::Viewer, "t")));
        assert!(!a.allow(&Principal::user("agent-1", Role::Agent, "t")));
        assert_eq!(a.describe(), "users alice; roles operator");
    }
}
