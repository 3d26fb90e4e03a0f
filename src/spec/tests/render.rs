//! `render` and `render_step`: strict rendering against a [`TemplateContext`].

use std::collections::BTreeMap;

use serde_json::json;

use crate::model::StepKind;
use crate::spec::{StepOutputs, TemplateContext, parse_str, render, render_step};

fn ctx() -> TemplateContext {
    let mut c = TemplateContext::default();
    c.params.insert("version".into(), json!("1.4.2"));
    c.params.insert("replicas".into(), json!(3));
    c.steps.insert(
        "package".into(),
        StepOutputs {
            outputs: BTreeMap::from([("artifact".into(), "app-1.4.2.tar.gz".into())]),
        },
    );
    c.run.id = "01JRUN".into();
    c.workflow.name = "deploy".into();
    c.workflow.version = 7;
    c
}

#[test]
fn plain_strings_come_back_unchanged() {
    assert_eq!(render("echo $HOME } {", &ctx()).unwrap(), "echo $HOME } {");
}

#[test]
fn variables_are_substituted() {
    let out = render(
        "v{{ params.version }} x{{ params.replicas }} {{ steps.package.outputs.artifact }} {{ run.id }} {{ workflow.name }}@{{ workflow.version }}",
        &ctx(),
    )
    .unwrap();
    assert_eq!(out, "v1.4.2 x3 app-1.4.2.tar.gz 01JRUN deploy@7");
}

#[test]
fn trailing_newlines_are_kept() {
    assert_eq!(
        render("echo {{ run.id }}\n", &ctx()).unwrap(),
        "echo 01JRUN\n"
    );
}

#[test]
fn an_undefined_param_is_an_error() {
    let err = render("echo {{ params.missing }}", &ctx())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("undefined variable \"params.missing\""),
        "{err}"
    );
}

#[test]
fn an_undefined_output_is_an_error() {
    let err = render("{{ steps.package.outputs.sha }}", &ctx())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("undefined variable \"steps.package.outputs.sha\""),
        "{err}"
    );
}

#[test]
fn an_undefined_subscript_is_an_error_too() {
    assert!(render("{{ params['missing'] }}", &ctx()).is_err());
}

#[test]
fn a_syntax_error_is_an_error() {
    let err = render("{{ params.version", &ctx()).unwrap_err().to_string();
    assert!(err.contains("syntax error"), "{err}");
}

#[test]
fn render_step_renders_every_template() {
    let spec = parse_str(
        "name: deploy\nparams:\n  version: {}\nsteps:\n  - id: package\n    run: p\n  - id: call\n    needs: [package]\n    env: {V: \"{{ params.version }}\"}\n    workdir: \"/srv/{{ workflow.name }}\"\n    http:\n      method: post\n      url: \"http://h/{{ run.id }}\"\n      headers: {X-Art: \"{{ steps.package.outputs.artifact }}\"}\n      json: {v: \"{{ params.version }}\", n: [1, \"{{ workflow.version }}\"]}\n",
        "wf.yaml",
    )
    .unwrap();
    let (kind, env, workdir) = render_step(&spec.steps[1], &ctx()).unwrap();
    let StepKind::Http(h) = kind else {
        panic!("{kind:?}")
    };
    assert_eq!(h.method, "POST");
    assert_eq!(h.url, "http://h/01JRUN");
    assert_eq!(h.headers["X-Art"], "app-1.4.2.tar.gz");
    assert_eq!(h.json, Some(json!({"v": "1.4.2", "n": [1, "7"]})));
    assert_eq!(env["V"], "1.4.2");
    assert_eq!(workdir.as_deref(), Some("/srv/deploy"));
}

#[test]
fn render_step_renders_the_run_command_with_values_quoted() {
    let spec = parse_str(
        "name: x\nsteps:\n  - id: a\n    run: |\n      echo {{ run.id }}\n",
        "wf.yaml",
    )
    .unwrap();
    let (kind, _, _) = render_step(&spec.steps[0], &ctx()).unwrap();
    assert_eq!(
        kind,
        StepKind::Run {
            command: "echo '01JRUN'\n".into()
        }
    );
}

#[test]
fn render_step_reports_every_failure_with_the_field() {
    let spec = parse_str(
        "name: x\nparams:\n  p: {}\nsteps:\n  - id: a\n    env: {E: \"{{ params.p }}\"}\n    run: \"{{ params.p }}\"\n",
        "wf.yaml",
    )
    .unwrap();
    let err = render_step(&spec.steps[0], &ctx()).unwrap_err().to_string();
    assert!(err.contains("step \"a\" run:"), "{err}");
    assert!(err.contains("step \"a\" env E:"), "{err}");
}
