//! `resolve_params`: raw `-p` strings typed against the declarations.

use std::collections::BTreeMap;

use serde_json::json;

use crate::Error;
use crate::model::WorkflowSpec;
use crate::spec::{parse_str, resolve_params};

fn spec() -> WorkflowSpec {
    parse_str(
        "name: deploy\nparams:\n  version: {required: true}\n  env: {default: staging, enum: [staging, prod]}\n  replicas: {type: int, default: 2}\n  ratio: {type: float}\n  dry_run: {type: bool, default: false}\nsteps: [{id: a, noop: true}]\n",
        "wf.yaml",
    )
    .unwrap()
}

fn raw(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn invalid(pairs: &[(&str, &str)]) -> (String, Option<String>) {
    match resolve_params(&spec(), &raw(pairs)) {
        Err(Error::Invalid { message, hint }) => (message, hint),
        other => panic!("expected Error::Invalid, got {other:?}"),
    }
}

#[test]
fn defaults_are_applied_and_values_typed() {
    let got = resolve_params(&spec(), &raw(&[("version", "1.2"), ("ratio", "0.5")])).unwrap();
    assert_eq!(got["version"], json!("1.2"));
    assert_eq!(got["env"], json!("staging"));
    assert_eq!(got["replicas"], json!(2));
    assert_eq!(got["ratio"], json!(0.5));
    assert_eq!(got["dry_run"], json!(false));
}

#[test]
fn given_values_override_defaults() {
    let got = resolve_params(
        &spec(),
        &raw(&[
            ("version", "2"),
            ("env", "prod"),
            ("replicas", "5"),
            ("dry_run", "yes"),
        ]),
    )
    .unwrap();
    assert_eq!(got["env"], json!("prod"));
    assert_eq!(got["replicas"], json!(5));
    assert_eq!(got["dry_run"], json!(true));
}

#[test]
fn an_optional_param_without_default_is_absent() {
    let got = resolve_params(&spec(), &raw(&[("version", "1")])).unwrap();
    assert!(!got.contains_key("ratio"));
}

#[test]
fn an_unknown_param_suggests_the_nearest() {
    let (msg, hint) = invalid(&[("version", "1"), ("verison", "2")]);
    assert_eq!(msg, "unknown param \"verison\"");
    assert_eq!(hint.as_deref(), Some("did you mean \"version\"?"));
}

#[test]
fn a_missing_required_param() {
    let (msg, hint) = invalid(&[]);
    assert_eq!(msg, "missing required param \"version\"");
    assert_eq!(hint.as_deref(), Some("pass it with -p version=VALUE"));
}

#[test]
fn a_value_that_is_not_of_the_type() {
    let (msg, _) = invalid(&[("version", "1"), ("replicas", "three")]);
    assert_eq!(msg, "param replicas: expected an int, got \"three\"");
}

#[test]
fn a_bool_that_is_not_a_bool() {
    let (msg, _) = invalid(&[("version", "1"), ("dry_run", "maybe")]);
    assert_eq!(msg, "param dry_run: expected a bool, got \"maybe\"");
}

#[test]
fn a_value_outside_the_enum_lists_the_allowed_ones() {
    let (msg, _) = invalid(&[("version", "1"), ("env", "dev")]);
    assert_eq!(msg, "param env: \"dev\" is not one of staging, prod");
}

#[test]
fn a_misspelt_enum_value_gets_a_did_you_mean() {
    let (msg, hint) = invalid(&[("version", "1"), ("env", "prd")]);
    assert_eq!(msg, "param env: \"prd\" is not one of staging, prod");
    assert_eq!(
        hint.as_deref(),
        Some("did you mean \"prod\"? (-p env=prod)")
    );
}

#[test]
fn all_problems_are_reported_together() {
    let (msg, _) = invalid(&[("replicas", "x"), ("nope", "1")]);
    assert_eq!(msg.lines().count(), 3, "{msg}");
}

#[test]
fn a_workflow_without_params_says_so() {
    let spec = parse_str("name: x\nsteps: [{id: a, noop: true}]\n", "wf.yaml").unwrap();
    match resolve_params(&spec, &raw(&[("a", "1")])) {
        Err(Error::Invalid { hint, .. }) => {
            assert_eq!(hint.as_deref(), Some("workflow x takes no params"))
        }
        other => panic!("{other:?}"),
    }
}
