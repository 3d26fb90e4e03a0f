//! `concurrency:`: read with its defaults, every problem at its file:line:col, and the key
//! rendered for a run.

use std::collections::BTreeMap;

use super::problems;
use crate::model::{ConcurrencySpec, OnConflict};
use crate::spec::{check_spec, parse_str, render_key};

const PARAMS: &str = "name: deploy\nparams:\n  env: {type: string, default: staging}\n";
const STEPS: &str = "steps: [{id: a, noop: true}]\n";

fn with(concurrency: &str) -> String {
    format!("{PARAMS}concurrency: {concurrency}\n{STEPS}")
}

#[test]
fn the_key_limit_and_on_conflict_are_read_with_their_defaults() {
    let spec = parse_str(
        &with(r#"{key: "deploy-{{ params.env }}", limit: 2, on_conflict: cancel_running}"#),
        "wf.yaml",
    )
    .unwrap();
    assert_eq!(
        spec.concurrency,
        Some(ConcurrencySpec {
            key: "deploy-{{ params.env }}".into(),
            limit: 2,
            on_conflict: OnConflict::CancelRunning,
        })
    );
    let spec = parse_str(&with("{key: deploy}"), "wf.yaml").unwrap();
    let c = spec.concurrency.unwrap();
    assert_eq!((c.limit, c.on_conflict), (1, OnConflict::Queue));
    assert!(
        parse_str(&format!("{PARAMS}{STEPS}"), "wf.yaml")
            .unwrap()
            .concurrency
            .is_none()
    );
}

#[test]
fn an_unknown_on_conflict_suggests_the_near_one() {
    let (msg, hint) = problems(&with("{key: k, on_conflict: cancel_runing}"));
    assert_eq!(
        msg,
        "wf.yaml:4:36: concurrency.on_conflict: unknown value \"cancel_runing\""
    );
    assert_eq!(hint.as_deref(), Some("did you mean \"cancel_running\"?"));
    let (_, hint) = problems(&with("{key: k, on_conflict: wait}"));
    assert_eq!(
        hint.as_deref(),
        Some("on_conflict is one of: queue, cancel_running, skip")
    );
}

#[test]
fn the_limit_is_at_least_one() {
    let (msg, _) = problems(&with("{key: k, limit: 0}"));
    assert_eq!(msg, "wf.yaml:4:30: concurrency.limit: must be at least 1");
    let (msg, _) = problems(&with("{key: k, limit: many}"));
    assert_eq!(
        msg,
        "wf.yaml:4:30: concurrency.limit: expected a whole number, got a string"
    );
}

#[test]
fn the_key_is_required_and_may_read_only_params_and_the_workflow() {
    let (msg, _) = problems(&with("{limit: 1}"));
    assert_eq!(msg, "wf.yaml:4:14: concurrency: missing required key `key`");
    let (msg, hint) = problems(&with(r#"{key: "d-{{ params.envv }}"}"#));
    assert_eq!(
        msg,
        "wf.yaml:4:20: concurrency.key: template uses undeclared param \"envv\""
    );
    assert_eq!(hint.as_deref(), Some("did you mean \"env\"?"));
    let (msg, hint) = problems(&with(r#"{key: "d-{{ steps.a.outputs.x }}"}"#));
    assert!(msg.contains("concurrency.key: the key cannot use"), "{msg}");
    assert!(hint.is_some_and(|h| h.contains("params.NAME")));
    let (msg, _) = problems(&with(r#"{key: "d-{{ params.env "}"#));
    assert!(msg.contains("concurrency.key: bad template"), "{msg}");
    let (msg, hint) = problems(&with("{key: k, limt: 1}"));
    assert_eq!(msg, "wf.yaml:4:23: concurrency: unknown key `limt`");
    assert_eq!(hint.as_deref(), Some("did you mean \"limit\"?"));
}

#[test]
fn the_key_renders_from_the_runs_params_and_the_workflow() {
    let spec = ConcurrencySpec {
        key: "{{ workflow.name }}-{{ params.env }}".into(),
        limit: 1,
        on_conflict: OnConflict::Queue,
    };
    let params = BTreeMap::from([("env".to_string(), serde_json::json!("prod"))]);
    assert_eq!(
        render_key(&spec, "deploy", 3, &params).unwrap(),
        "deploy-prod"
    );
}

#[test]
fn a_spec_sent_over_the_api_is_checked_as_a_file_would_be() {
    let mut spec = parse_str(&with("{key: k}"), "wf.yaml").unwrap();
    check_spec(&spec).unwrap();
    spec.concurrency = Some(ConcurrencySpec {
        key: "{{ params.nope }}".into(),
        limit: 0,
        on_conflict: OnConflict::Skip,
    });
    spec.source = None;
    let err = check_spec(&spec).unwrap_err().to_string();
    assert!(
        err.contains("concurrency.limit must be 1 to 10000"),
        "{err}"
    );
    assert!(err.contains("undeclared param \"nope\""), "{err}");
}
