//! Steps no agent can take say why they wait — in `run show` (table and JSON), in `--wait`'s
//! progress, when `--wait-timeout` gives up, and as a warning when `workflow run` starts one —
//! instead of waiting silently until the run times out.

use serde_json::Value;

use super::short_leases;
use crate::env::{SLOW, TestEnv, wait_until};

const ETL: &str = "name: etl
steps:
  - id: load
    run: echo loaded
    agent: { labels: { tier: etl } }
  - id: report
    needs: [load]
    run: echo reported
";

const NO_MATCH: &str =
    "no online agent matches labels tier=etl; 2 agents online: w1 {os=linux}, w2 {}";

fn waiting(run: &Value) -> Vec<(String, String, String)> {
    run["waiting"]
        .as_array()
        .unwrap_or_else(|| panic!("no waiting array in {run:#}"))
        .iter()
        .map(|w| {
            (
                w["step_id"].as_str().unwrap_or_default().to_string(),
                w["reason"].as_str().unwrap_or_default().to_string(),
                w["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn a_step_no_agent_can_take_says_why_it_waits(env: TestEnv) {
    let env = short_leases(env);
    env.apply("etl.yaml", ETL);

    // No agent at all: `workflow run` warns at once, `run show` says why.
    let out = env.run(["workflow", "run", "etl"]);
    out.expect_code(0);
    out.expect_stderr(&["warning:", "step load", "no agent online"]);
    let id = out.stdout.trim().to_string();
    let run = env.show_run(&id);
    assert_eq!(
        waiting(&run),
        [("load".into(), "no_agent".into(), "no agent online".into())]
    );
    let table = env.run(["run", "show", &id]);
    table.expect_code(0);
    assert!(
        table.stdout.contains("load: no agent online"),
        "{}",
        table.stdout
    );

    // Agents without the labels: the message names the labels and who is online.
    let _w1 = env.agent_with("w1", 1, &["--labels", "os=linux"]);
    let _w2 = env.agent("w2", 1);
    let mut run = Value::Null;
    wait_until("both agents to count as online", SLOW, || {
        run = env.show_run(&id);
        waiting(&run).first().is_some_and(|w| w.1 == "no_match")
    });
    assert_eq!(
        waiting(&run),
        [("load".into(), "no_match".into(), NO_MATCH.into())],
        "{run:#}"
    );
    assert_eq!(
        run["waiting"][0]["labels"],
        serde_json::json!({ "tier": "etl" })
    );
    assert!(
        env.run(["run", "show", &id])
            .stdout
            .contains(&format!("load: {NO_MATCH}"))
    );

    // `workflow run` warns; `--wait` says why on stderr, and so does giving up.
    let out = env.run(["workflow", "run", "etl", "--wait-timeout", "1s"]);
    out.expect_code(13);
    out.expect_stderr(&[
        &format!("warning: step load cannot start: {NO_MATCH}"),
        &format!("load    ready       waiting: {NO_MATCH}"),
    ]);
    let out = env.run(["run", "wait", &id, "--wait-timeout", "300ms"]);
    out.expect_code(13);
    out.expect_stderr(&["gave up waiting", NO_MATCH]);

    // An agent with the labels takes it: nothing waits any more.
    let _etl = env.agent_with("w3", 1, &["--labels", "tier=etl"]);
    let done = env.finish(&id);
    assert_eq!(done["status"], "succeeded");
    assert_eq!(done["waiting"], serde_json::json!([]));
    let out = env.run(["workflow", "run", "etl", "--wait"]);
    out.expect_code(0);
    assert!(!out.stderr.contains("warning:"), "{}", out.stderr);
}

fn a_busy_agent_is_named_as_the_reason(env: TestEnv) {
    let env = short_leases(env);
    env.apply(
        "pair.yaml",
        "name: pair\nsteps:\n  - id: first\n    run: sleep 30\n  - id: second\n    run: sleep 30\n",
    );
    let _w1 = env.agent("w1", 1);
    let id = env.start("pair", &[]);
    let mut run = Value::Null;
    wait_until("one step to run and the other to wait", SLOW, || {
        run = env.show_run(&id);
        waiting(&run).iter().any(|w| w.1 == "busy")
    });
    let w = waiting(&run);
    assert_eq!(w.len(), 1, "{run:#}");
    assert_eq!(w[0].2, "the one matching agent is busy: w1", "{run:#}");
    env.run(["run", "cancel", &id]).expect_code(0);
}

crate::both_modes!(
    a_step_no_agent_can_take_says_why_it_waits,
    a_busy_agent_is_named_as_the_reason,
);
