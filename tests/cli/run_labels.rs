//! Run labels (issue 13): `imx workflow run -l key=value` keeps labels with the run; `run show`
//! (table and JSON) and `run list -o wide` show them; `run list -l k=v` (several: all must
//! match) and `GET /api/v1/runs?label=k=v,k=v` filter by them; bad labels are refused with
//! exit 2 and start nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;

use crate::both_modes;
use crate::env::{Mode, TestEnv};
use crate::http::Api;

both_modes!(labels_are_shown_and_filter_run_list, bad_labels_are_refused,);

const ONE: &str = "name: one\nsteps:\n  - id: a\n    run: echo a\n";

fn start(env: &TestEnv, workflow: &str, labels: &[&str]) -> String {
    let mut args = vec!["workflow", "run", workflow, "-q"];
    for l in labels {
        args.extend(["-l", l]);
    }
    let out = env.run(args);
    out.expect_code(0);
    out.stdout.trim().to_string()
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

fn labels_are_shown_and_filter_run_list(env: TestEnv) {
    env.apply("one.yaml", ONE);
    env.apply("two.yaml", &ONE.replace("name: one", "name: two"));
    let a = start(&env, "one", &["pr=42", "sha=abc"]);
    let b = start(&env, "one", &["pr=42", "sha=def"]);
    let c = start(&env, "two", &["pr=42", "team/owner=ops"]);
    let d = start(&env, "one", &["pr=7"]);
    let plain = start(&env, "one", &[]);

    let shown = env.show_run(&a);
    assert_eq!(
        shown["labels"],
        serde_json::json!({"pr": "42", "sha": "abc"})
    );
    assert_eq!(env.show_run(&plain)["labels"], serde_json::json!({}));
    let table = env.run(["run", "show", &a]);
    table.expect_code(0);
    assert!(
        table.stdout.contains("Labels:   pr=42,sha=abc"),
        "{}",
        table.stdout
    );

    // Filtered: one label, several (all must match), with --workflow.
    let list = |args: &[&str]| {
        let mut all = vec!["run", "list"];
        all.extend(args);
        ids(&env.json(all))
    };
    assert_eq!(
        list(&["-l", "pr=42"]),
        vec![c.clone(), b.clone(), a.clone()]
    );
    assert_eq!(list(&["-l", "pr=42", "-l", "sha=abc"]), vec![a.clone()]);
    assert_eq!(
        list(&["-l", "pr=42", "--workflow", "one"]),
        vec![b.clone(), a.clone()]
    );
    assert_eq!(list(&["--label", "team/owner=ops"]), vec![c.clone()]);
    assert_eq!(list(&["-l", "pr=7"]), vec![d.clone()]);
    assert!(list(&["-l", "pr=8"]).is_empty());
    assert_eq!(
        list(&["-l", "pr=42", "-n", "2"]),
        vec![c.clone(), b.clone()]
    );
    assert_eq!(list(&[]).len(), 5);
    let none = env.run(["run", "list", "-l", "pr=8"]);
    none.expect_code(0);
    assert!(none.stderr.contains("No runs match."), "{}", none.stderr);

    // The wide table has a LABELS column; the JSON list has each run's labels.
    let wide = env.run(["run", "list", "-l", "pr=42", "-o", "wide"]);
    wide.expect_code(0);
    assert!(wide.stdout.contains("LABELS"), "{}", wide.stdout);
    let csv = env.run(["run", "list", "-l", "pr=42", "-o", "csv"]);
    csv.expect_code(0);
    assert!(
        csv.stdout.lines().next().unwrap().contains(",labels,"),
        "{}",
        csv.stdout
    );
    assert!(csv.stdout.contains("\"pr=42,sha=def\""), "{}", csv.stdout);
    let json = env.json(["run", "list", "-l", "sha=def"]);
    assert_eq!(json[0]["labels"]["sha"], "def");

    // Two values of one key: no run has both.
    env.run(["run", "list", "-l", "pr=42", "-l", "pr=7"])
        .expect_error(2);

    // The label is audited with the run's start.
    let audit = env.json(["audit", "list"]);
    let start_rec = audit
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["action"] == "run.start" && r["target"] == a.as_str())
        .unwrap_or_else(|| panic!("no run.start for {a}"));
    assert_eq!(start_rec["details"]["labels"]["sha"], "abc");

    // The API: `label=k=v,k=v`.
    if env.mode() == Mode::Remote {
        let api = Api::new(env.url());
        let rt = tokio::runtime::Runtime::new().unwrap();
        let page = rt.block_on(api.get(
            "/api/v1/runs?label=pr%3D42%2Csha%3Dabc",
            Some(env.admin_token()),
        ));
        assert_eq!(page.status, 200, "{page:?}");
        assert_eq!(ids(&page.json["items"]), vec![a.clone()]);
        let bad = rt.block_on(api.get("/api/v1/runs?label=pr", Some(env.admin_token())));
        bad.expect_error(400, "invalid", &["expected key=value"]);
    }
}

fn bad_labels_are_refused(env: TestEnv) {
    env.apply("one.yaml", ONE);
    for (label, want) in [
        ("pr", "expected a label KEY=VALUE"),
        ("-pr=1", "is not valid"),
        ("pr=", "empty value"),
        ("pr=a b", "may not hold spaces"),
        ("pr=a,b", "commas"),
    ] {
        let out = env.run(["workflow", "run", "one", &format!("--label={label}")]);
        out.expect_code(2);
        out.expect_stderr(&[want]);
    }
    let long = format!("k={}", "v".repeat(129));
    let out = env.run(["workflow", "run", "one", "-l", &long]);
    out.expect_code(2);
    out.expect_stderr(&["at most 128"]);
    let out = env.run(["workflow", "run", "one", "-l", "pr=1", "-l", "pr=2"]);
    out.expect_error(2);
    out.expect_stderr(&["label \"pr\" is given twice"]);
    let mut many = vec!["workflow".to_string(), "run".into(), "one".into()];
    for i in 0..33 {
        many.push("-l".into());
        many.push(format!("k{i}=v"));
    }
    let out = env.run(&many);
    out.expect_error(2);
    out.expect_stderr(&["at most 32 labels; got 33"]);
    assert!(
        env.json(["run", "list"]).as_array().unwrap().is_empty(),
        "no run was started"
    );
}

/// A notification rule scoped by labels (`notify rule add -l`) keeps them (JSON, wide table);
/// a bad label is refused (exit 2). That such a rule fires only on runs with all its labels is
/// the store conformance test `run_labels::a_rule_scoped_by_labels_fires_only_for_runs_with_them`.
#[test]
fn notify_rules_take_labels() {
    let env = TestEnv::new().with_var("IMX_STORE_KEY", crate::notify::STORE_KEY);
    env.run([
        "notify",
        "channel",
        "add",
        "oncall",
        "--email",
        "oncall@example.com",
        "--smtp",
        "smtps://mail.example.com",
    ])
    .expect_code(0);
    let bad = env.run([
        "notify",
        "rule",
        "add",
        "--on",
        "failed",
        "--channel",
        "oncall",
        "--label=pr",
    ]);
    bad.expect_code(2);
    env.run([
        "notify",
        "rule",
        "add",
        "--on",
        "failed",
        "--channel",
        "oncall",
        "-l",
        "pr=42",
        "-l",
        "team=ops",
    ])
    .expect_code(0);
    let rules = env.json(["notify", "rule", "list"]);
    assert_eq!(
        rules[0]["labels"],
        serde_json::json!({"pr": "42", "team": "ops"}),
        "{rules:#}"
    );
    let wide = env.run(["notify", "rule", "list", "-o", "csv"]);
    wide.expect_code(0);
    assert!(
        wide.stdout.contains("\"pr=42,team=ops\""),
        "{}",
        wide.stdout
    );
}
