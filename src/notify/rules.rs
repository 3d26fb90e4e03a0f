//! What a rule does with an event, decided without a database: whether it fires (the event's
//! kind, `after: N` consecutive, `recovered`), and what becomes of a firing (a new message,
//! one more event in an open grouping window, or suppressed by the cooldown). Also the retry
//! schedule of deliveries.

use crate::model::{Backoff, RetrySpec};

use super::{NewRule, On};

/// How many deliveries of one message are tried before it is given up as failed.
pub const MAX_ATTEMPTS: u32 = 12;

/// The retry schedule: 1 s, doubling, at most an hour apart, ±20% jitter (12 attempts span
/// about two hours).
pub const RETRY: RetrySpec = RetrySpec {
    max: MAX_ATTEMPTS,
    backoff: Backoff::Exponential,
    initial_ms: 1_000,
    max_delay_ms: 3_600_000,
    jitter: 0.2,
};

/// The delay before attempt `attempt + 1`, after `attempt` attempts failed; `None` once
/// [`MAX_ATTEMPTS`] have.
pub fn retry_after_ms(attempt: u32) -> Option<u64> {
    (attempt < MAX_ATTEMPTS).then(|| crate::engine::retry_delay_ms(&RETRY, attempt))
}

/// The outbox kind an `on:` value fires on.
pub fn event_kind(on: On) -> &'static str {
    match on {
        On::Failed => "run.failed",
        On::TimedOut => "run.timed_out",
        On::Cancelled => "run.cancelled",
        On::Succeeded | On::Recovered => "run.succeeded",
        On::MissedSchedule => "schedule.missed",
        On::DurationOver => "run.duration_over",
        On::Stuck => "run.stuck",
        On::Approval => "step.waiting",
    }
}

/// What is known about an event for rules: its kind, its workflow, and (for a run's end) the
/// statuses of the workflow's runs that ended before it, newest first.
#[derive(Debug, Clone, Copy)]
pub struct Seen<'a> {
    pub kind: &'a str,
    pub workflow: &'a str,
    /// The rule a long or stuck run was reported for (those events are per rule).
    pub for_rule: Option<&'a str>,
    /// The run's labels (empty when the event is not a run's, or the run has none).
    pub labels: &'a std::collections::BTreeMap<String, String>,
    pub previous: &'a [String],
}

/// Whether `rule` (stored as `rule_id`) fires on the event.
pub fn fires(rule_id: &str, rule: &NewRule, seen: &Seen<'_>) -> bool {
    if rule.workflow.as_deref().is_some_and(|w| w != seen.workflow) {
        return false;
    }
    if event_kind(rule.on) != seen.kind {
        return false;
    }
    if !rule
        .labels
        .iter()
        .all(|(k, v)| seen.labels.get(k) == Some(v))
    {
        return false;
    }
    match rule.on {
        On::DurationOver | On::Stuck => seen.for_rule == Some(rule_id),
        On::Recovered => seen
            .previous
            .first()
            .is_some_and(|s| s.as_str() != "succeeded"),
        On::MissedSchedule | On::Approval => true,
        On::Failed | On::TimedOut | On::Cancelled | On::Succeeded => {
            // `after: N`: this run and the N-1 before it all ended this way.
            let status = seen.kind.trim_start_matches("run.");
            let before = usize::try_from(rule.after.saturating_sub(1)).unwrap_or(usize::MAX);
            seen.previous.len() >= before && seen.previous.iter().take(before).all(|s| s == status)
        }
    }
}

/// What the rule's latest message looks like, for [`place`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Latest {
    pub id: String,
    pub created_at: i64,
    /// Still collecting its grouping window.
    pub grouping: bool,
}

/// Where a firing at `now` goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// Into the open message `id` (its grouping window is still open).
    Join(String),
    /// A new message, sent at `due_at` (now, or when its grouping window closes).
    New { due_at: i64, grouping: bool },
    /// Not sent: the rule sent a message less than its cooldown ago.
    Suppressed,
}

/// Where a firing of `rule` at `now` goes, given the rule's latest message that was not
/// suppressed.
pub fn place(rule: &NewRule, latest: Option<&Latest>, now: i64) -> Placement {
    if let Some(l) = latest {
        if l.grouping {
            return Placement::Join(l.id.clone());
        }
        let cooldown = i64::try_from(rule.cooldown_ms).unwrap_or(i64::MAX);
        if cooldown > 0 && now.saturating_sub(l.created_at) < cooldown {
            return Placement::Suppressed;
        }
    }
    let group = i64::try_from(rule.group_ms).unwrap_or(i64::MAX);
    Placement::New {
        due_at: now.saturating_add(group),
        grouping: group > 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(on: On) -> NewRule {
        NewRule {
            on,
            channel: "ops".into(),
            workflow: None,
            labels: Default::default(),
            threshold_ms: None,
            after: 1,
            cooldown_ms: 0,
            group_ms: 0,
        }
    }

    fn seen<'a>(kind: &'a str, previous: &'a [String]) -> Seen<'a> {
        Seen {
            kind,
            workflow: "deploy",
            for_rule: None,
            labels: &NO_LABELS,
            previous,
        }
    }

    static NO_LABELS: std::collections::BTreeMap<String, String> =
        std::collections::BTreeMap::new();

    #[test]
    fn rules_with_labels_fire_only_on_runs_with_all_of_them() {
        let none = statuses(&[]);
        let mut r = rule(On::Failed);
        r.labels.insert("pr".into(), "42".into());
        r.labels.insert("team".into(), "ops".into());
        let run = |pairs: &[(&str, &str)]| -> std::collections::BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect()
        };
        let fires_on = |labels: &std::collections::BTreeMap<String, String>| {
            let mut s = seen("run.failed", &none);
            s.labels = labels;
            fires("r", &r, &s)
        };
        assert!(fires_on(&run(&[
            ("pr", "42"),
            ("team", "ops"),
            ("sha", "x")
        ])));
        assert!(!fires_on(&run(&[("pr", "42")])), "all must match");
        assert!(!fires_on(&run(&[("pr", "43"), ("team", "ops")])));
        assert!(!fires_on(&NO_LABELS));
        // Without labels, a rule fires on any run.
        let mut s = seen("run.failed", &none);
        let labelled = run(&[("pr", "1")]);
        s.labels = &labelled;
        assert!(fires("r", &rule(On::Failed), &s));
    }

    fn statuses(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn approval_rules_fire_when_a_step_starts_waiting() {
        let none = statuses(&[]);
        assert!(fires(
            "r",
            &rule(On::Approval),
            &seen("step.waiting", &none)
        ));
        assert!(!fires("r", &rule(On::Approval), &seen("run.failed", &none)));
        assert!(!fires("r", &rule(On::Failed), &seen("step.waiting", &none)));
        assert_eq!("approval".parse::<On>().ok(), Some(On::Approval));
    }

    #[test]
    fn rules_fire_on_their_event_and_workflow_only() {
        let none = statuses(&[]);
        assert!(fires("r", &rule(On::Failed), &seen("run.failed", &none)));
        assert!(!fires(
            "r",
            &rule(On::Failed),
            &seen("run.succeeded", &none)
        ));
        assert!(fires(
            "r",
            &rule(On::TimedOut),
            &seen("run.timed_out", &none)
        ));
        assert!(fires(
            "r",
            &rule(On::Cancelled),
            &seen("run.cancelled", &none)
        ));
        assert!(fires(
            "r",
            &rule(On::Succeeded),
            &seen("run.succeeded", &none)
        ));
        assert!(fires(
            "r",
            &rule(On::MissedSchedule),
            &seen("schedule.missed", &none)
        ));
        let mut scoped = rule(On::Failed);
        scoped.workflow = Some("build".into());
        assert!(!fires("r", &scoped, &seen("run.failed", &none)));
        scoped.workflow = Some("deploy".into());
        assert!(fires("r", &scoped, &seen("run.failed", &none)));
    }

    #[test]
    fn after_n_needs_n_in_a_row() {
        let mut r = rule(On::Failed);
        r.after = 3;
        let fail = |prev: &[&str]| fires("r", &r, &seen("run.failed", &statuses(prev)));
        assert!(!fail(&[]));
        assert!(!fail(&["failed"]));
        assert!(!fail(&["failed", "succeeded", "failed"]));
        assert!(fail(&["failed", "failed"]));
        assert!(fail(&["failed", "failed", "succeeded"]));
        assert!(
            fail(&["failed", "failed", "failed"]),
            "a longer streak still fires"
        );
    }

    #[test]
    fn recovered_is_a_success_after_a_run_that_was_not() {
        let r = rule(On::Recovered);
        let ok = |prev: &[&str]| fires("r", &r, &seen("run.succeeded", &statuses(prev)));
        assert!(!ok(&[]), "a first run recovers from nothing");
        assert!(!ok(&["succeeded", "failed"]));
        assert!(ok(&["failed"]));
        assert!(ok(&["timed_out", "succeeded"]));
        assert!(!fires("r", &r, &seen("run.failed", &statuses(&["failed"]))));
    }

    #[test]
    fn long_and_stuck_runs_fire_only_the_rule_they_were_found_for() {
        let mut r = rule(On::DurationOver);
        r.threshold_ms = Some(60_000);
        let mut s = seen("run.duration_over", &[]);
        assert!(!fires("r1", &r, &s));
        s.for_rule = Some("r1");
        assert!(fires("r1", &r, &s));
        assert!(!fires("r2", &r, &s));
    }

    #[test]
    fn cooldown_suppresses_and_grouping_joins() {
        let mut r = rule(On::Failed);
        assert_eq!(
            place(&r, None, 1_000),
            Placement::New {
                due_at: 1_000,
                grouping: false
            }
        );
        r.cooldown_ms = 60_000;
        let sent = Latest {
            id: "d1".into(),
            created_at: 1_000,
            grouping: false,
        };
        assert_eq!(place(&r, Some(&sent), 30_000), Placement::Suppressed);
        assert!(matches!(
            place(&r, Some(&sent), 61_000),
            Placement::New { .. }
        ));
        r.group_ms = 5_000;
        assert_eq!(
            place(&r, None, 100_000),
            Placement::New {
                due_at: 105_000,
                grouping: true
            }
        );
        let open = Latest {
            grouping: true,
            ..sent
        };
        assert_eq!(place(&r, Some(&open), 2_000), Placement::Join("d1".into()));
    }

    #[test]
    fn retries_back_off_and_end() {
        assert!((800..=1_200).contains(&retry_after_ms(1).unwrap_or(0)));
        assert!((1_600..=2_400).contains(&retry_after_ms(2).unwrap_or(0)));
        assert!(retry_after_ms(MAX_ATTEMPTS - 1).is_some());
        assert_eq!(retry_after_ms(MAX_ATTEMPTS), None);
    }
}
