//! Runs that must always be able to end: `run retry --from` refuses a step whose upstream did
//! not succeed (instead of leaving the run `running` forever), and a run without any timeout
//! gets the control plane's default run timeout.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;

use crate::both_modes;
use crate::env::{SLOW, TestEnv, wait_until};

fn short_leases(env: TestEnv) -> TestEnv {
    env.with_var("IMX_LEASE", "2s")
}

fn status(run: &Value, step: &str) -> String {
    TestEnv::step(run, step)["status"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// `a` fails until a marker file exists; `b` needs it; `d` needs `b` and the independent `c`.
fn chain(env: &TestEnv) -> std::path::PathBuf {
    let marker = env.home().join("fixed");
    env.apply(
        "blocked.yaml",
        &format!(
            "name: blocked\nsteps:\n  - id: a\n    run: test -f {}\n  - id: b\n    needs: [a]\n    run: echo b\n  - id: c\n    noop: true\n  - id: d\n    needs: [b, c]\n    noop: true\n",
            marker.display()
        ),
    );
    marker
}

fn retry_from_a_step_whose_upstream_failed_is_refused(env: TestEnv) {
    let env = short_leases(env);
    let marker = chain(&env);
    let _agent = env.agent("worker", 2);
    let id = env.start("blocked", &[]);
    let run = env.finish(&id);
    assert_eq!(run["status"], "failed", "{run:#}");
    assert_eq!(status(&run, "a"), "failed");
    assert_eq!(status(&run, "b"), "skipped");

    for from in ["b", "d"] {
        let out = env.run(["run", "retry", &id, "--from", from]);
        out.expect_code(5);
        assert!(
            out.stderr.contains(&format!("cannot retry from {from:?}")),
            "{}",
            out.stderr
        );
        assert!(out.stderr.contains("--from a"), "{}", out.stderr);
        // Nothing changed: the run has ended and stays so.
        let run = env.show_run(&id);
        assert_eq!(run["status"], "failed", "{run:#}");
        assert_eq!(status(&run, from), "skipped");
    }
    assert!(
        env.run(["run", "retry", &id, "--from", "b"])
            .stderr
            .contains("step \"b\" needs \"a\", which failed"),
    );

    // The suggested retry works.
    std::fs::write(&marker, "").unwrap();
    env.run(["run", "retry", &id, "--from", "a"]).expect_code(0);
    let run = env.finish(&id);
    assert_eq!(run["status"], "succeeded", "{run:#}");
}

fn retry_from_a_step_whose_upstream_was_cancelled_is_refused(env: TestEnv) {
    let env = short_leases(env);
    let started = env.home().join("started");
    env.apply(
        "slow.yaml",
        &format!(
            "name: slow\nsteps:\n  - id: a\n    run: touch {}; sleep 30\n  - id: b\n    needs: [a]\n    run: echo b\n",
            started.display()
        ),
    );
    let _agent = env.agent("worker", 1);
    let id = env.start("slow", &[]);
    wait_until("step a to start", SLOW, || started.exists());
    env.run(["run", "cancel", &id]).expect_code(0);
    let run = env.finish(&id);
    assert_eq!(run["status"], "cancelled", "{run:#}");
    let out = env.run(["run", "retry", &id, "--from", "b"]);
    out.expect_code(5);
    assert!(
        out.stderr
            .contains("step \"b\" needs \"a\", which was cancelled"),
        "{}",
        out.stderr
    );
    assert_eq!(env.show_run(&id)["status"], "cancelled");
}

/// A step that would sleep for a minute, in a workflow without any timeout.
const ENDLESS: &str = "name: endless\nsteps:\n  - id: nap\n    run: sleep 60\n";

/// Start `endless` and wait (polling) until it has timed out; its `run show -o json`.
fn times_out(env: &TestEnv) -> Value {
    let _agent = env.agent("worker", 1);
    let id = env.start("endless", &[]);
    let mut run = Value::Null;
    wait_until("the run to time out", SLOW, || {
        run = env.show_run(&id);
        run["status"] == "timed_out"
    });
    run
}

/// `workflow show -o json`'s effective run timeout: (ms, source).
fn run_timeout(env: &TestEnv, workflow: &str) -> (u64, String) {
    let wf = env.json(["workflow", "show", workflow]);
    let t = &wf["run_timeout"];
    (
        t["ms"].as_u64().unwrap_or_else(|| panic!("{wf:#}")),
        t["source"].as_str().unwrap_or_default().to_string(),
    )
}

/// The store's default (`imx init --default-run-timeout`) applies to runs of a workflow that
/// sets no timeout, locally and through a server on that store.
fn a_run_without_timeouts_times_out_at_the_stores_default(env: TestEnv) {
    let env = short_leases(env);
    let mut init = env.local_cmd(&[]);
    init.args(["init", "--default-run-timeout", "2s"]);
    // On PostgreSQL the server's store is the database, not the file.
    if let Some(url) = env.database() {
        init.args(["--database", &url]);
    }
    let init = init.output().unwrap();
    assert!(init.status.success(), "{init:?}");
    env.apply("endless.yaml", ENDLESS);
    assert_eq!(run_timeout(&env, "endless"), (2_000, "store".into()));
    let table = env.run(["workflow", "show", "endless"]);
    assert!(
        table.stdout.contains("2s (the store's default)"),
        "{}",
        table.stdout
    );
    let run = times_out(&env);
    let error = run["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("run timed out after 2s (the store's default run timeout"),
        "{run:#}"
    );
    assert_eq!(TestEnv::step(&run, "nap")["status"], "cancelled");
}

/// Without any setting, a run gets 24 h; a workflow's own `timeout:` wins over any default.
fn workflow_show_says_where_the_run_timeout_comes_from(env: TestEnv) {
    env.apply("endless.yaml", ENDLESS);
    assert_eq!(
        run_timeout(&env, "endless"),
        (86_400_000, "built_in".into())
    );
    let table = env.run(["workflow", "show", "endless"]);
    assert!(
        table.stdout.contains("24h (the default)"),
        "{}",
        table.stdout
    );
    env.apply(
        "bounded.yaml",
        "name: bounded\ntimeout: 10m\nsteps:\n  - id: a\n    noop: true\n",
    );
    assert_eq!(run_timeout(&env, "bounded"), (600_000, "workflow".into()));
    let run = env.json(["workflow", "run", "endless"]);
    assert!(crate::env::millis(&run["deadline"]).is_some(), "{run:#}");
}

both_modes!(
    retry_from_a_step_whose_upstream_failed_is_refused,
    retry_from_a_step_whose_upstream_was_cancelled_is_refused,
    a_run_without_timeouts_times_out_at_the_stores_default,
    workflow_show_says_where_the_run_timeout_comes_from,
);

/// `imx server --default-run-timeout` applies to runs started through that server, and
/// `workflow show` says so.
#[test]
fn a_run_without_timeouts_times_out_at_the_servers_default() {
    let env = short_leases(TestEnv::remote().with_server_args(&["--default-run-timeout", "2s"]));
    env.apply("endless.yaml", ENDLESS);
    assert_eq!(run_timeout(&env, "endless"), (2_000, "server".into()));
    let table = env.run(["workflow", "show", "endless"]);
    assert!(
        table.stdout.contains("2s (the server's default)"),
        "{}",
        table.stdout
    );
    let run = times_out(&env);
    let error = run["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("run timed out after 2s (the server's default run timeout"),
        "{run:#}"
    );
}
