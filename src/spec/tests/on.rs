//! The `on:` key: run-after triggers declared in a workflow file.

use super::problems;
use crate::model::RunStatus;

const STEPS: &str = "steps: [{id: a, noop: true}]\n";

fn parse(source: &str) -> crate::model::WorkflowSpec {
    super::super::parse_str(source, "wf.yaml").unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_mapping_or_a_list_with_defaults() {
    let one = parse(&format!("name: deploy\non: {{workflow: build}}\n{STEPS}"));
    assert_eq!(one.on.len(), 1);
    assert_eq!(one.on[0].workflow, "build");
    assert_eq!(one.on[0].status, [RunStatus::Succeeded]);
    let two = parse(&format!(
        "name: deploy\nparams: {{v: {{type: string}}}}\non:\n  - workflow: build\n    status: [failed, timed_out]\n  - workflow: test\n    status: cancelled\n    params: {{v: outputs.version}}\n{STEPS}"
    ));
    assert_eq!(two.on[0].status, [RunStatus::Failed, RunStatus::TimedOut]);
    assert_eq!(two.on[1].status, [RunStatus::Cancelled]);
    assert_eq!(two.on[1].params["v"], "outputs.version");
}

#[test]
fn a_file_without_on_keeps_its_digest() {
    // `on` is left out of the stored spec when empty, so old versions stay unchanged.
    let spec = parse(&format!("name: deploy\n{STEPS}"));
    let json = serde_json::to_value(&spec).unwrap_or_default();
    assert!(json.get("on").is_none(), "{json}");
}

#[test]
fn a_state_a_run_does_not_end_in_is_refused_with_a_suggestion() {
    let (msg, hint) = problems(&format!(
        "name: deploy\non: {{workflow: build, status: succeded}}\n{STEPS}"
    ));
    assert_eq!(
        msg,
        "wf.yaml:2:31: on.status: \"succeded\" is not an end state"
    );
    assert_eq!(hint.as_deref(), Some("did you mean \"succeeded\"?"));
    let (msg, _) = problems(&format!(
        "name: deploy\non: {{workflow: build, status: running}}\n{STEPS}"
    ));
    assert!(msg.contains("\"running\" is not an end state"), "{msg}");
}

#[test]
fn mapped_params_must_be_declared() {
    let (msg, hint) = problems(&format!(
        "name: deploy\nparams: {{version: {{type: string}}}}\non: {{workflow: build, params: {{verison: outputs.v}}}}\n{STEPS}"
    ));
    assert!(msg.starts_with("wf.yaml:3:"), "{msg}");
    assert!(
        msg.contains("\"verison\" is not a param of this workflow"),
        "{msg}"
    );
    assert_eq!(hint.as_deref(), Some("did you mean \"version\"?"));
}

#[test]
fn a_workflow_cannot_follow_itself_and_keys_are_checked() {
    let (msg, _) = problems(&format!("name: deploy\non: {{workflow: deploy}}\n{STEPS}"));
    assert!(msg.contains("would start itself"), "{msg}");
    let (msg, hint) = problems(&format!(
        "name: deploy\non: {{workflow: build, state: failed}}\n{STEPS}"
    ));
    assert!(msg.contains("on: unknown key `state`"), "{msg}");
    assert_eq!(hint.as_deref(), Some("did you mean \"status\"?"));
    let (msg, _) = problems(&format!("name: deploy\non: {{status: failed}}\n{STEPS}"));
    assert!(msg.contains("on: missing required key `workflow`"), "{msg}");
    let (msg, _) = problems(&format!("name: deploy\non: build\n{STEPS}"));
    assert!(
        msg.contains("on: expected a list of upstream workflows"),
        "{msg}"
    );
}
