//! Template checks at load time: syntax, variables, params, upstream step outputs.

use super::problems;

const HEAD: &str =
    "name: x\nparams:\n  version: {type: string}\nsteps:\n  - id: build\n    run: make\n";

fn with_step(run: &str) -> String {
    format!("{HEAD}  - id: deploy\n    needs: [build]\n    run: \"{run}\"\n")
}

#[test]
fn a_template_syntax_error() {
    let (msg, _) = problems(&with_step("echo {{ params.version"));
    assert!(
        msg.starts_with("wf.yaml:9:10: step \"deploy\" run: bad template: syntax error"),
        "{msg}"
    );
}

#[test]
fn an_unknown_root_variable() {
    let (msg, hint) = problems(&with_step("echo {{ version }}"));
    assert_eq!(
        msg,
        "wf.yaml:9:10: step \"deploy\" run: template uses unknown variable \"version\""
    );
    assert!(hint.is_some_and(|h| h.contains("params.NAME")));
}

#[test]
fn a_misspelt_root_suggests_the_right_one() {
    let (_, hint) = problems(&with_step("echo {{ parms.version }}"));
    assert_eq!(hint.as_deref(), Some("did you mean \"params\"?"));
}

#[test]
fn an_undeclared_param_suggests_the_nearest() {
    let (msg, hint) = problems(&with_step("echo {{ params.verison }}"));
    assert_eq!(
        msg,
        "wf.yaml:9:10: step \"deploy\" run: template uses undeclared param \"verison\""
    );
    assert_eq!(hint.as_deref(), Some("did you mean \"version\"?"));
}

#[test]
fn outputs_of_an_unknown_step() {
    let (msg, hint) = problems(&with_step("echo {{ steps.biuld.outputs.x }}"));
    assert_eq!(
        msg,
        "wf.yaml:9:10: step \"deploy\" run: template uses unknown step \"biuld\""
    );
    assert_eq!(hint.as_deref(), Some("did you mean \"build\"?"));
}

#[test]
fn outputs_of_a_step_that_is_not_upstream() {
    let src = format!(
        "{HEAD}  - id: lint\n    run: lint\n  - id: deploy\n    needs: [build]\n    run: \"echo {{{{ steps.lint.outputs.x }}}}\"\n"
    );
    let (msg, hint) = problems(&src);
    assert_eq!(
        msg,
        "wf.yaml:11:10: step \"deploy\" run: template uses outputs of step \"lint\", which is not upstream of it"
    );
    assert!(hint.is_some_and(|h| h.contains("needs")));
}

#[test]
fn outputs_of_a_transitive_ancestor_are_fine() {
    let src = format!(
        "{HEAD}  - id: test\n    needs: [build]\n    run: t\n  - id: deploy\n    needs: [test]\n    run: \"echo {{{{ steps.build.outputs.x }}}} {{{{ run.id }}}} {{{{ workflow.name }}}}\"\n"
    );
    crate::spec::parse_str(&src, "wf.yaml").unwrap();
}

#[test]
fn a_step_using_its_own_outputs() {
    let src = format!("{HEAD}  - id: deploy\n    run: \"echo {{{{ steps.deploy.outputs.x }}}}\"\n");
    let (msg, _) = problems(&src);
    assert_eq!(
        msg,
        "wf.yaml:8:10: step \"deploy\" run: a step cannot use its own outputs"
    );
}

#[test]
fn steps_have_only_outputs() {
    let (msg, _) = problems(&with_step("echo {{ steps.build.output.x }}"));
    assert!(
        msg.contains("steps.build.output: a step only has `outputs`"),
        "{msg}"
    );
}

#[test]
fn run_and_workflow_have_fixed_fields() {
    let (msg, _) = problems(&with_step("echo {{ run.name }} {{ workflow.versoin }}"));
    assert!(msg.contains("unknown variable run.name"), "{msg}");
    assert!(
        msg.contains("unknown variable workflow.versoin (did you mean \"version\"?)"),
        "{msg}"
    );
}

#[test]
fn templates_in_http_json_env_and_workdir_are_checked() {
    let src = format!(
        "{HEAD}  - id: call\n    needs: [build]\n    env: {{TAG: \"{{{{ params.tag }}}}\"}}\n    workdir: \"{{{{ dir }}}}\"\n    http: {{url: \"http://h/{{{{ params.version }}}}\", json: {{a: [\"{{{{ nope }}}}\"]}}}}\n"
    );
    let (msg, _) = problems(&src);
    assert!(
        msg.contains("step \"call\" env TAG: template uses undeclared param \"tag\""),
        "{msg}"
    );
    assert!(
        msg.contains("step \"call\" workdir: template uses unknown variable \"dir\""),
        "{msg}"
    );
    assert!(
        msg.contains("step \"call\" http json: template uses unknown variable \"nope\""),
        "{msg}"
    );
    assert_eq!(msg.lines().count(), 3, "{msg}");
}

#[test]
fn locals_and_builtins_are_not_unknown_variables() {
    let src = format!(
        "{HEAD}  - id: loop\n    run: \"{{% for i in range(3) %}}{{% set n = i %}}echo {{{{ n }}}};{{% endfor %}}\"\n"
    );
    crate::spec::parse_str(&src, "wf.yaml").unwrap();
}

#[test]
fn a_template_in_defaults_is_reported_once() {
    let src = "name: x\ndefaults:\n  env: {V: \"{{ params.nope }}\"}\nsteps:\n  - {id: a, run: x}\n  - {id: b, run: y}\n";
    let (msg, _) = problems(src);
    assert_eq!(msg.lines().count(), 1, "{msg}");
    assert!(
        msg.starts_with("wf.yaml:3:12: step \"a\" env V: template uses undeclared param \"nope\"")
    );
}

const HYPHENS: &str = "name: x\nsteps:\n  - id: unit-tests\n    run: t\n  - id: lint\n    run: l\n";

#[test]
fn hyphenated_step_ids_can_be_referenced() {
    let src = format!(
        "{HYPHENS}  - id: report\n    needs: [unit-tests]\n    run: \"echo {{{{ steps.unit-tests.outputs.passed }}}} {{{{ steps['unit-tests'].outputs.passed }}}}\"\n"
    );
    crate::spec::parse_str(&src, "wf.yaml").unwrap();
}

#[test]
fn a_hyphenated_step_that_is_not_upstream_is_named_right() {
    let src = format!(
        "{HYPHENS}  - id: report\n    needs: [lint]\n    run: \"echo {{{{ steps.unit-tests.outputs.passed }}}}\"\n"
    );
    let (msg, hint) = problems(&src);
    assert_eq!(
        msg,
        "wf.yaml:9:10: step \"report\" run: template uses outputs of step \"unit-tests\", which is not upstream of it"
    );
    assert_eq!(
        hint.as_deref(),
        Some("add \"unit-tests\" to its `needs` (directly or through another step)")
    );
}

#[test]
fn a_misspelt_hyphenated_step_suggests_the_right_one() {
    let src = format!(
        "{HYPHENS}  - id: report\n    needs: [unit-tests]\n    run: \"echo {{{{ steps.unit-test.outputs.passed }}}}\"\n"
    );
    let (msg, hint) = problems(&src);
    assert_eq!(
        msg,
        "wf.yaml:9:10: step \"report\" run: template uses unknown step \"unit-test\""
    );
    assert_eq!(hint.as_deref(), Some("did you mean \"unit-tests\"?"));
}

/// Parse `source` as `wf.yaml`; it must be valid. Its warnings.
fn warnings(source: &str) -> Vec<String> {
    let (_, warnings) = crate::spec::parse_str_with_warnings(source, "wf.yaml").unwrap();
    warnings
}

#[test]
fn raw_is_warned_about_where_it_is_used() {
    let src = "name: x\nparams:\n  args: {type: string}\nsteps:\n  - id: a\n    env: {A: \"{{ params.args | raw }}\"}\n    run: |\n      echo start\n      ls {{ params.args }} {{ params.args|raw }}\n";
    let w = warnings(src);
    assert_eq!(w.len(), 2, "{w:#?}");
    assert!(
        w[0].starts_with("wf.yaml:6:32: step \"a\" env A: `| raw` has no effect outside `run:`"),
        "{w:#?}"
    );
    assert!(
        w[1].starts_with(
            "wf.yaml:9:43: step \"a\" run: `| raw` puts the value into the command unquoted"
        ),
        "{w:#?}"
    );
    assert!(w[1].contains("$IMX_PARAM_ARGS"), "{w:#?}");
    // Without raw: no warning.
    assert!(warnings("name: x\nsteps:\n  - id: a\n    run: echo {{ run.id }}\n").is_empty());
}

#[test]
fn values_where_quoting_cannot_work_are_rejected() {
    let (msg, _) = problems(
        "name: x\nsteps:\n  - id: a\n    run: |\n      echo ok\n      echo `date` `echo {{ run.id }}`\n      echo \"${HOME:-{{ run.id }}}\"\n",
    );
    assert!(
        msg.contains("wf.yaml:6:25: step \"a\" run: a value inside backquotes"),
        "{msg}"
    );
    assert!(
        msg.contains("wf.yaml:7:21: step \"a\" run: a value inside ${...}"),
        "{msg}"
    );
}

#[test]
fn filters_that_would_skip_quoting_do_not_exist() {
    let (msg, hint) = problems("name: x\nsteps:\n  - id: a\n    run: echo {{ run.id | safe }}\n");
    assert_eq!(
        msg,
        "wf.yaml:4:27: step \"a\" run: there is no `| safe` filter in workflow templates"
    );
    assert!(hint.is_some_and(|h| h.contains("| raw")));
    let (msg, _) = problems("name: x\nsteps:\n  - id: a\n    run: echo {{ run.id | e }}\n");
    assert!(msg.contains("no `| e` filter"), "{msg}");
}
