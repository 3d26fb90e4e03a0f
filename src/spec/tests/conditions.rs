//! `if:` and `when:` of a step: read into the spec, and every problem at its file:line:col —
//! expression syntax where it breaks, variables the step cannot read, a bad `when`.

use super::problems;
use crate::model::When;

#[test]
fn if_and_when_are_read() {
    let spec = crate::spec::parse_str(
        "name: x\nparams:\n  env: {type: string}\nsteps:\n  - id: a\n    run: echo\n  - id: b\n    needs: [a]\n    if: \"{{ params.env == 'prod' and steps.a.status == 'succeeded' }}\"\n    when: always\n    noop: true\n  - id: c\n    if: true\n    when: failure\n    noop: true\n",
        "wf.yaml",
    )
    .unwrap();
    assert_eq!(spec.steps[0].when, When::Success);
    assert_eq!(spec.steps[0].condition, None);
    assert_eq!(spec.steps[1].when, When::Always);
    assert_eq!(
        spec.steps[1].condition.as_deref(),
        Some("{{ params.env == 'prod' and steps.a.status == 'succeeded' }}")
    );
    assert_eq!(spec.steps[2].condition.as_deref(), Some("true"));
    assert_eq!(spec.steps[2].when, When::Failure);
    crate::spec::check_spec(&spec).unwrap();
}

#[test]
fn a_syntax_error_is_reported_where_it_is() {
    let (msg, _) = problems("name: x\nsteps:\n  - id: a\n    if: 1 + + (2\n    noop: true\n");
    assert!(
        msg.starts_with("wf.yaml:4:13: step \"a\" if: bad expression: syntax error"),
        "{msg}"
    );
}

#[test]
fn variables_are_checked_like_templates() {
    let (msg, _) = problems(
        "name: x\nparams:\n  env: {type: string}\nsteps:\n  - id: a\n    noop: true\n  - id: b\n    noop: true\n  - id: c\n    needs: [a]\n    if: steps.b.status == 'x' or params.envv or steps.a.state or secrets.k or foo\n    noop: true\n",
    );
    for want in [
        "wf.yaml:11:9: step \"c\" if: uses step \"b\", which is not upstream of it (add \"b\" to its `needs` (directly or through another step))",
        "wf.yaml:11:9: step \"c\" if: uses undeclared param \"envv\" (did you mean \"env\"?)",
        "wf.yaml:11:9: step \"c\" if: steps.a.state: a step has `status` and `outputs` (did you mean \"status\"?)",
        "wf.yaml:11:9: step \"c\" if: secrets cannot be used in `if:`",
        "wf.yaml:11:9: step \"c\" if: uses unknown variable \"foo\"",
    ] {
        assert!(msg.contains(want), "{want:?} not in:\n{msg}");
    }
    let (own, _) = problems("name: x\nsteps:\n  - id: a\n    if: steps.a.status\n    noop: true\n");
    assert!(own.contains("cannot read the step itself"), "{own}");
}

#[test]
fn a_bad_when_suggests_the_near_miss() {
    let (msg, hint) = problems("name: x\nsteps:\n  - id: a\n    when: allways\n    noop: true\n");
    assert_eq!(
        msg,
        "wf.yaml:4:11: step \"a\" when: expected success, failure or always, got \"allways\""
    );
    assert_eq!(hint.as_deref(), Some("did you mean \"always\"?"));
    let (msg, hint) = problems("name: x\nsteps:\n  - id: a\n    when: [x]\n    noop: true\n");
    assert!(msg.ends_with("got a list") || msg.contains("got "), "{msg}");
    assert_eq!(hint.as_deref(), Some("use one of success, failure, always"));
}

#[test]
fn an_api_spec_with_a_bad_condition_is_refused() {
    let mut spec = crate::model::WorkflowSpec::new(
        "w",
        vec![
            crate::model::StepSpec::new("a", crate::model::StepKind::Noop),
            crate::model::StepSpec::new("b", crate::model::StepKind::Noop),
        ],
    );
    spec.steps[1].condition = Some("steps.a.status == 'failed'".into());
    let msg = crate::spec::check_spec(&spec).unwrap_err().to_string();
    assert!(
        msg.contains("step \"b\" if: uses step \"a\", which is not upstream of it"),
        "{msg}"
    );
    spec.steps[1].needs = vec!["a".into()];
    crate::spec::check_spec(&spec).unwrap();
    spec.steps[1].condition = Some("(".into());
    let msg = crate::spec::check_spec(&spec).unwrap_err().to_string();
    assert!(msg.contains("step \"b\" if: bad expression"), "{msg}");
}
