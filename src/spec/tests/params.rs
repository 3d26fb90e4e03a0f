//! Parameter declarations: types, defaults and enums that disagree.

use super::problems;

fn with_params(params: &str) -> String {
    format!("name: x\nparams:\n{params}steps: [{{id: a, noop: true}}]\n")
}

#[test]
fn a_default_of_the_wrong_type() {
    let (msg, _) = problems(&with_params("  replicas: {type: int, default: three}\n"));
    assert_eq!(
        msg,
        "wf.yaml:3:34: param replicas default: expected an int, got a string (three)"
    );
}

#[test]
fn a_number_default_for_a_string_param_suggests_quoting() {
    let (msg, _) = problems(&with_params("  version: {default: 1.4}\n"));
    assert!(
        msg.contains("expected a string, got a float (1.4); quote it"),
        "{msg}"
    );
}

#[test]
fn a_default_outside_the_enum() {
    let (msg, _) = problems(&with_params(
        "  env: {default: dev, enum: [staging, prod]}\n",
    ));
    assert_eq!(
        msg,
        "wf.yaml:3:18: param env: default \"dev\" is not one of staging, prod"
    );
}

#[test]
fn enum_values_of_the_wrong_type() {
    let (msg, _) = problems(&with_params("  n: {type: int, enum: [1, two, 3]}\n"));
    assert_eq!(
        msg,
        "wf.yaml:3:28: param n enum value: expected an int, got a string (two)"
    );
}

#[test]
fn an_unknown_type() {
    let (msg, hint) = problems(&with_params("  n: {type: integer}\n"));
    assert_eq!(msg, "wf.yaml:3:13: param n: unknown type \"integer\"");
    assert!(hint.is_some());
}

#[test]
fn a_param_name_must_be_usable_in_templates() {
    let (msg, _) = problems(&with_params("  my-param: {}\n"));
    assert_eq!(
        msg,
        "wf.yaml:3:3: params: \"my-param\" is not a valid parameter name"
    );
}

#[test]
fn declarations_are_kept_in_file_order_with_types() {
    use crate::model::ParamType;
    let src = with_params(
        "  zeta: {type: bool, default: true}\n  alpha: {type: float, default: 2, enum: [2, 2.5]}\n  bare:\n",
    );
    let spec = crate::spec::parse_str(&src, "wf.yaml").unwrap();
    let names: Vec<_> = spec.params.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["zeta", "alpha", "bare"]);
    assert_eq!(spec.params[1].ty, ParamType::Float);
    assert_eq!(spec.params[1].default, Some(serde_json::json!(2.0)));
    assert_eq!(spec.params[2].ty, ParamType::String);
}
