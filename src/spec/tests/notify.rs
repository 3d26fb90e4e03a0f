//! The `notify:` key: notification rules declared in a workflow file.

use super::problems;
use crate::notify::{NewRule, On};

const STEPS: &str = "steps: [{id: a, noop: true}]\n";

fn parse(source: &str) -> crate::model::WorkflowSpec {
    super::super::parse_str(source, "wf.yaml").unwrap_or_else(|e| panic!("{e}"))
}

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

#[test]
fn every_option_of_rule_add_can_be_written() {
    let spec = parse(&format!(
        "name: deploy\nnotify:\n  - {{ on: failed, channel: ops }}\n  - on: duration_over\n    for: 30m\n    channel: ops\n    cooldown: 1h\n  - {{ on: failed, channel: chat, after: 3, group: 1m }}\n  - {{ on: stuck, for: 10m, channel: ops }}\n  - {{ on: recovered, channel: ops }}\n  - {{ on: missed_schedule, channel: ops }}\n{STEPS}"
    ));
    assert_eq!(
        spec.notify,
        vec![
            rule(On::Failed),
            NewRule {
                threshold_ms: Some(1_800_000),
                cooldown_ms: 3_600_000,
                ..rule(On::DurationOver)
            },
            NewRule {
                channel: "chat".into(),
                after: 3,
                group_ms: 60_000,
                ..rule(On::Failed)
            },
            NewRule {
                threshold_ms: Some(600_000),
                ..rule(On::Stuck)
            },
            rule(On::Recovered),
            rule(On::MissedSchedule),
        ]
    );
    crate::spec::check_spec(&spec).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn one_mapping_is_one_rule_and_no_key_keeps_the_digest() {
    let one = parse(&format!(
        "name: deploy\nnotify: {{ on: cancelled, channel: ops }}\n{STEPS}"
    ));
    assert_eq!(one.notify, vec![rule(On::Cancelled)]);
    let none = parse(&format!("name: deploy\n{STEPS}"));
    let json = serde_json::to_value(&none).unwrap_or_default();
    assert!(json.get("notify").is_none(), "{json}");
}

#[test]
fn an_unknown_event_is_refused_at_its_position_with_a_suggestion() {
    let (msg, hint) = problems(&format!(
        "name: deploy\nnotify:\n  - {{ on: faild, channel: ops }}\n{STEPS}"
    ));
    assert_eq!(msg, "wf.yaml:3:11: notify[1].on: unknown event \"faild\"");
    assert_eq!(hint.as_deref(), Some("did you mean \"failed\"?"));
    let (msg, hint) = problems(&format!(
        "name: deploy\nnotify:\n  - {{ on: duration_over 30m, channel: ops }}\n{STEPS}"
    ));
    assert_eq!(
        msg,
        "wf.yaml:3:11: notify[1].on: unknown event \"duration_over 30m\""
    );
    assert_eq!(
        hint.as_deref(),
        Some("write `on: duration_over` and `for: 30m`")
    );
}

#[test]
fn a_bad_duration_is_refused_at_its_position() {
    let (msg, _) = problems(&format!(
        "name: deploy\nnotify:\n  - on: duration_over\n    for: soon\n    channel: ops\n{STEPS}"
    ));
    assert_eq!(msg, "wf.yaml:4:10: notify[1].for: bad duration \"soon\"");
    let (msg, _) = problems(&format!(
        "name: deploy\nnotify:\n  - {{ on: failed, channel: ops, cooldown: 1 hour }}\n{STEPS}"
    ));
    assert_eq!(
        msg,
        "wf.yaml:3:43: notify[1].cooldown: bad duration \"1 hour\""
    );
}

#[test]
fn a_threshold_is_needed_by_duration_rules_only() {
    let (msg, hint) = problems(&format!(
        "name: deploy\nnotify:\n  - {{ on: stuck, channel: ops }}\n{STEPS}"
    ));
    assert_eq!(msg, "wf.yaml:3:5: notify[1]: `stuck` needs a duration");
    assert!(hint.is_some_and(|h| h.contains("for: 30m")));
    let (msg, _) = problems(&format!(
        "name: deploy\nnotify:\n  - {{ on: failed, for: 5m, channel: ops }}\n{STEPS}"
    ));
    assert_eq!(
        msg,
        "wf.yaml:3:19: notify[1]: `failed` takes no `for` (only duration_over and stuck do)"
    );
}

#[test]
fn after_counts_runs_and_a_duration_there_is_pointed_to_for() {
    let (msg, hint) = problems(&format!(
        "name: deploy\nnotify:\n  - {{ on: duration_over, after: 30m, channel: ops }}\n{STEPS}"
    ));
    assert!(
        msg.starts_with("wf.yaml:3:33: notify[1].after: expected a number of runs in a row"),
        "{msg}"
    );
    assert!(hint.is_some_and(|h| h.contains("`for:`")));
    let (msg, _) = problems(&format!(
        "name: deploy\nnotify:\n  - {{ on: failed, after: 0, channel: ops }}\n{STEPS}"
    ));
    assert_eq!(msg, "wf.yaml:3:26: notify[1].after: must be at least 1");
}

#[test]
fn a_missing_channel_an_unknown_key_and_a_duplicate_are_refused() {
    let (msg, _) = problems(&format!(
        "name: deploy\nnotify:\n  - {{ on: failed }}\n{STEPS}"
    ));
    assert_eq!(
        msg,
        "wf.yaml:3:5: notify[1]: missing required key `channel`"
    );
    let (msg, hint) = problems(&format!(
        "name: deploy\nnotify:\n  - {{ on: failed, channel: ops, cooldwn: 1h }}\n{STEPS}"
    ));
    assert_eq!(msg, "wf.yaml:3:33: notify[1]: unknown key `cooldwn`");
    assert_eq!(hint.as_deref(), Some("did you mean \"cooldown\"?"));
    let (msg, _) = problems(&format!(
        "name: deploy\nnotify:\n  - {{ on: failed, channel: ops }}\n  - {{ on: failed, channel: ops }}\n{STEPS}"
    ));
    assert_eq!(msg, "wf.yaml:4:5: notify[2]: the same rule as notify[1]");
    let (msg, hint) = problems(&format!("name: deploy\nnotify: ops\n{STEPS}"));
    assert_eq!(
        msg,
        "wf.yaml:2:9: notify: expected a list of rules, got a string"
    );
    assert!(hint.is_some());
}

#[test]
fn the_channel_of_a_rule_is_found_in_the_source() {
    let src = format!(
        "name: deploy\nnotify:\n  - {{ on: failed, channel: ops }}\n  - on: succeeded\n    channel: chat\n{STEPS}"
    );
    assert_eq!(crate::spec::notify_channel_pos(&src, 0), Some((3, 28)));
    assert_eq!(crate::spec::notify_channel_pos(&src, 1), Some((5, 14)));
    assert_eq!(crate::spec::notify_channel_pos(&src, 2), None);
}
