//! Documents that are not YAML, not a mapping, or hold values of the wrong type.

use super::problems;

#[test]
fn malformed_yaml_reports_its_position() {
    let (msg, _) = problems("name: x\nsteps:\n  - id: a\n    run: [unclosed\n");
    assert!(msg.starts_with("wf.yaml:5:1: invalid YAML:"), "{msg}");
}

#[test]
fn a_list_document_is_not_a_workflow() {
    let (msg, hint) = problems("- a\n- b\n");
    assert_eq!(
        msg,
        "wf.yaml:1:1: a workflow file must be a mapping, got a list"
    );
    assert!(hint.is_some_and(|h| h.contains("steps")));
}

#[test]
fn an_empty_file_is_reported() {
    let (msg, _) = problems("");
    assert_eq!(msg, "wf.yaml:1:1: the file is empty");
}

#[test]
fn a_second_document_is_reported() {
    let (msg, _) = problems("name: a\nsteps: [{id: x, noop: true}]\n---\nname: b\n");
    assert!(
        msg.starts_with("wf.yaml:4:1: a workflow file holds one YAML document"),
        "{msg}"
    );
}

#[test]
fn needs_must_be_a_list() {
    let (msg, _) = problems(
        "name: x\nsteps:\n  - id: a\n    noop: true\n  - id: b\n    needs: a\n    noop: true\n",
    );
    assert_eq!(
        msg,
        "wf.yaml:6:12: step \"b\" needs: expected a list of step ids, got a string"
    );
}

#[test]
fn steps_must_be_a_list() {
    let (msg, _) = problems("name: x\nsteps: {a: 1}\n");
    assert_eq!(
        msg,
        "wf.yaml:2:8: steps: expected a list of steps, got a mapping"
    );
}

#[test]
fn fail_fast_must_be_a_bool() {
    let (msg, _) = problems("name: x\nfail_fast: sometimes\nsteps: [{id: a, noop: true}]\n");
    assert_eq!(
        msg,
        "wf.yaml:2:12: fail_fast: expected true or false, got a string"
    );
}

#[test]
fn json_documents_are_accepted() {
    let src = r#"{
  "name": "from-json",
  "steps": [
    {"id": "a", "run": "echo hi"},
    {"id": "b", "needs": ["a"], "http": {"url": "http://127.0.0.1/x", "json": {"k": [1, "v"]}}}
  ]
}"#;
    let spec = crate::spec::parse_str(src, "wf.json").unwrap();
    assert_eq!(spec.name, "from-json");
    assert_eq!(spec.steps[1].needs, vec!["a".to_string()]);
}

#[test]
fn json_errors_have_positions_too() {
    let src = "{\n  \"name\": \"j\",\n  \"stepz\": []\n}\n";
    let (msg, _) = problems(src);
    assert!(
        msg.contains("wf.yaml:3:3: workflow: unknown key `stepz`"),
        "{msg}"
    );
    assert!(
        msg.contains("wf.yaml:1:1: workflow: missing required key `steps`"),
        "{msg}"
    );
}
