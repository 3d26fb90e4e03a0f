//! The record filters shared by `list`, `tail` and `export`, and the time parser for
//! `--since`/`--until` (a duration ago, an RFC 3339 time, or a date).

use imx::audit::AuditFilter;

use super::super::parse;

/// Parse `--since`/`--until`: `1h`, `7d` (ago), `2024-05-01T12:00:00Z`, or `2024-05-01` (UTC).
pub fn time(s: &str) -> Result<i64, String> {
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        && let Some(t) = d.and_hms_opt(0, 0, 0)
    {
        return Ok(t.and_utc().timestamp_millis());
    }
    parse::since(s).map_err(|e| format!("{e}, or a date (e.g. 2024-05-01)"))
}

/// Filters on audit records.
#[derive(Debug, Clone, clap::Args)]
pub struct FilterArgs {
    /// Records at or after this time: a duration ago (1h, 7d), RFC 3339, or a date.
    #[arg(long, value_name = "WHEN", value_parser = time)]
    pub since: Option<i64>,
    /// Records before this time (same forms as --since).
    #[arg(long, value_name = "WHEN", value_parser = time)]
    pub until: Option<i64>,
    /// Only this actor (e.g. local:alice, user:bob, token:ci).
    #[arg(long, value_name = "ACTOR")]
    pub actor: Option<String>,
    /// Only this action; `backup.` or `backup.*` matches every backup action.
    #[arg(long, value_name = "ACTION")]
    pub action: Option<String>,
    /// Only this target (a run id, workflow, agent, backup id, ...).
    #[arg(long, value_name = "TARGET")]
    pub target: Option<String>,
    /// Only this outcome: ok, denied, error.
    #[arg(long, value_name = "OUTCOME")]
    pub outcome: Option<String>,
}

impl FilterArgs {
    pub fn filter(&self) -> AuditFilter {
        AuditFilter {
            since: self.since,
            until: self.until,
            actor: self.actor.clone(),
            action: self.action.clone(),
            target: self.target.clone(),
            outcome: self.outcome.clone(),
            ..AuditFilter::default()
        }
    }
}
