//! `imx run rerun` (issue 13): a new run of an old run's workflow with the same params and
//! labels, changed by `-p`, `--params-file` and `-l`; the old run is kept; the new one names it
//! (`rerun_of`, "Rerun of" in `run show`) and the audit trail records `run.rerun`. It runs the
//! old run's version unless `--latest`; `--wait` follows it as `workflow run --wait` does.
//! `--params-file` on `workflow run` too: YAML, JSON and stdin, `-p` winning, and bad files
//! named with their line (exit 2).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;

use crate::both_modes;
use crate::env::TestEnv;

both_modes!(
    a_rerun_keeps_the_old_run_and_takes_its_params_and_labels,
    a_rerun_runs_the_old_version_unless_latest,
    a_rerun_waits_like_workflow_run,
    params_files_give_typed_params_and_p_wins,
    bad_params_files_and_reruns_are_named,
);

/// A workflow with a string, an int and a bool param, and one step that echoes them.
const GREET: &str = "name: greet\nparams:\n  who: {type: string, required: true}\n  \
     times: {type: int, default: 1}\n  loud: {type: bool, default: false}\n\
     steps:\n  - id: say\n    run: echo {{ params.who }} {{ params.times }}\n";

fn rerun(env: &TestEnv, args: &[&str]) -> String {
    let mut all = vec!["run", "rerun"];
    all.extend(args);
    all.push("-q");
    let out = env.run(&all);
    out.expect_code(0);
    let id = out.stdout.trim().to_string();
    assert_eq!(id.len(), 26, "expected a run id, got {:?}", out.stdout);
    id
}

fn a_rerun_keeps_the_old_run_and_takes_its_params_and_labels(env: TestEnv) {
    env.apply("greet.yaml", GREET);
    let out = env.run([
        "workflow", "run", "greet", "-p", "who=ann", "-p", "times=3", "-l", "pr=42", "-l",
        "sha=abc", "-q",
    ]);
    out.expect_code(0);
    let old = out.stdout.trim().to_string();

    // Same params and labels, a new run naming the old one.
    let again = rerun(&env, &[&old[..10]]);
    assert_ne!(again, old);
    let shown = env.show_run(&again);
    assert_eq!(shown["params"]["who"], "ann");
    assert_eq!(shown["params"]["times"], 3);
    assert_eq!(shown["params"]["loud"], false);
    assert_eq!(
        shown["labels"],
        serde_json::json!({"pr": "42", "sha": "abc"})
    );
    assert_eq!(shown["rerun_of"], old.as_str());
    assert_eq!(
        env.show_run(&old)["rerun_of"],
        Value::Null,
        "the old run is kept"
    );

    // Changed by -p and -l: the others stay.
    let changed = rerun(
        &env,
        &[&old, "-p", "times=5", "-l", "sha=def", "-l", "attempt=2"],
    );
    let shown = env.show_run(&changed);
    assert_eq!(shown["params"]["who"], "ann");
    assert_eq!(shown["params"]["times"], 5, "typed as -p is");
    assert_eq!(
        shown["labels"],
        serde_json::json!({"pr": "42", "sha": "def", "attempt": "2"})
    );

    // People see the labels and the run it reruns.
    let table = env.run(["run", "show", &changed]);
    table.expect_code(0);
    assert!(table.stdout.contains("Labels:"), "{}", table.stdout);
    assert!(
        table.stdout.contains("attempt=2,pr=42,sha=def"),
        "{}",
        table.stdout
    );
    assert!(
        table.stdout.contains(&format!("Rerun of: {}", &old[..12])),
        "{}",
        table.stdout
    );
    let started = env.run(["run", "rerun", &old]);
    started.expect_code(0);
    assert!(
        started
            .stderr
            .contains(&format!("(a rerun of {})", &old[..12])),
        "{}",
        started.stderr
    );

    // Three runs of greet now, and the old one is untouched.
    let all = env.json(["run", "list", "--workflow", "greet"]);
    assert_eq!(all.as_array().unwrap().len(), 4);

    // The audit trail: run.rerun with the old run's id.
    let audit = env.json(["audit", "list"]);
    let reruns: Vec<&Value> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] == "run.rerun")
        .collect();
    assert_eq!(reruns.len(), 3, "{reruns:#?}");
    let rec = reruns
        .iter()
        .find(|r| r["target"] == changed.as_str())
        .unwrap_or_else(|| panic!("no run.rerun for {changed}: {reruns:#?}"));
    assert_eq!(rec["details"]["rerun_of"], old.as_str());
    assert_eq!(rec["details"]["labels"]["attempt"], "2");
}

fn a_rerun_runs_the_old_version_unless_latest(env: TestEnv) {
    env.apply("greet.yaml", GREET);
    let old = env.start("greet", &["who=ann"]);
    // Version 2 adds a step and drops the bool param.
    env.apply(
        "greet.yaml",
        "name: greet\nparams:\n  who: {type: string, required: true}\n  \
         times: {type: int, default: 1}\n\
         steps:\n  - id: say\n    run: echo hi\n  - id: again\n    needs: [say]\n    run: echo again\n",
    );
    let same = rerun(&env, &[&old]);
    let shown = env.show_run(&same);
    assert_eq!(shown["workflow_version"], 1, "{shown:#}");
    assert_eq!(shown["steps"].as_array().unwrap().len(), 1);

    // --latest: the old params do not fit v2 (it has no `loud`): a clear error, exit 2.
    let out = env.run(["run", "rerun", &old, "--latest"]);
    out.expect_error(2);
    out.expect_stderr(&["do not fit greet v2", "unknown param \"loud\""]);

    // A run whose params fit goes on the latest version.
    env.apply(
        "greet.yaml",
        "name: greet\nparams:\n  who: {type: string, required: true}\n  \
         times: {type: int, default: 1}\n  loud: {type: bool, default: false}\n\
         steps:\n  - id: say\n    run: echo hi\n  - id: again\n    needs: [say]\n    run: echo again\n",
    );
    let latest = rerun(&env, &[&old, "--latest"]);
    let shown = env.show_run(&latest);
    assert_eq!(shown["workflow_version"], 3, "{shown:#}");
    assert_eq!(shown["steps"].as_array().unwrap().len(), 2);
    assert_eq!(shown["rerun_of"], old.as_str());
}

fn a_rerun_waits_like_workflow_run(env: TestEnv) {
    env.apply(
        "fails.yaml",
        "name: fails\nparams:\n  code: {type: int, default: 1}\n\
         steps:\n  - id: exit\n    run: exit {{ params.code }}\n",
    );
    let _agent = env.agent("w1", 2);
    let out = env.run(["workflow", "run", "fails", "--wait", "-q"]);
    out.expect_code(10);
    let old = out.stdout.trim().to_string();
    // The same params fail again (exit 10); changed, the rerun succeeds (exit 0).
    env.run(["run", "rerun", &old, "--wait", "-q"])
        .expect_code(10);
    let out = env.run(["run", "rerun", &old, "-p", "code=0", "--wait", "-o", "json"]);
    out.expect_code(0);
    let run: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(run["status"], "succeeded", "{run:#}");
    assert_eq!(run["rerun_of"], old.as_str());
}

fn params_files_give_typed_params_and_p_wins(env: TestEnv) {
    env.apply("greet.yaml", GREET);
    let yaml = env.write("p.yaml", "who: bo\ntimes: 4\nloud: yes\n");
    let out = env.run([
        "workflow",
        "run",
        "greet",
        "--params-file",
        yaml.to_str().unwrap(),
        "-p",
        "times=7",
        "-q",
    ]);
    out.expect_code(0);
    let shown = env.show_run(out.stdout.trim());
    assert_eq!(shown["params"]["who"], "bo");
    assert_eq!(shown["params"]["times"], 7, "-p wins over the file");
    assert_eq!(shown["params"]["loud"], true, "typed as a bool");

    // JSON, from stdin.
    let out = env.run_stdin(
        &["workflow", "run", "greet", "--params-file", "-", "-q"],
        r#"{"who": "cy", "times": 2}"#,
    );
    out.expect_code(0);
    let first = out.stdout.trim().to_string();
    let shown = env.show_run(&first);
    assert_eq!(shown["params"]["who"], "cy");
    assert_eq!(shown["params"]["times"], 2);

    // A rerun takes a params file too; the old run's other params stay.
    let out = env.run_stdin(
        &["run", "rerun", &first, "--params-file", "-", "-q"],
        "times: 9\n",
    );
    out.expect_code(0);
    let shown = env.show_run(out.stdout.trim());
    assert_eq!(shown["params"]["who"], "cy");
    assert_eq!(shown["params"]["times"], 9);
}

fn bad_params_files_and_reruns_are_named(env: TestEnv) {
    env.apply("greet.yaml", GREET);
    let cases = [
        (
            "list.yaml",
            "- who\n- bo\n",
            "list.yaml:1:1: a params file is a mapping",
        ),
        (
            "unknown.yaml",
            "who: bo\nwhom: x\n",
            "unknown.yaml:2:1: unknown param \"whom\"",
        ),
        (
            "type.yaml",
            "who: bo\ntimes: lots\n",
            "type.yaml:2:8: param times: expected an int, got \"lots\"",
        ),
        (
            "nested.yaml",
            "who: {name: bo}\n",
            "nested.yaml:1:6: param \"who\": expected a string, number or bool, got a mapping",
        ),
        ("broken.json", "{\"who\": ", "broken.json:"),
    ];
    for (name, text, want) in cases {
        let path = env.write(name, text);
        let out = env.run([
            "workflow",
            "run",
            "greet",
            "--params-file",
            path.to_str().unwrap(),
        ]);
        out.expect_error(2);
        out.expect_stderr(&[want]);
    }
    let out = env.run(["workflow", "run", "greet", "--params-file", "nope.yaml"]);
    out.expect_error(2);
    out.expect_stderr(&["params file nope.yaml: cannot read it"]);
    assert!(
        env.json(["run", "list"]).as_array().unwrap().is_empty(),
        "no run was started"
    );

    // A run timeout past what a deadline can say is refused (it was saturated to a number).
    let out = env.run([
        "workflow",
        "run",
        "greet",
        "-p",
        "who=a",
        "--timeout",
        "11years",
    ]);
    out.expect_error(2);
    out.expect_stderr(&["too long: at most ten years"]);

    // Reruns of what is not there.
    env.run(["run", "rerun", "01J0000000000000000000000Z"])
        .expect_error(3);
    env.run(["run", "rerun", "not-an-id!"]).expect_error(2);
}
