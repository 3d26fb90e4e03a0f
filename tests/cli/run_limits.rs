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

both_modes!(
    retry_from_a_step_whose_upstream_failed_is_refused,
    retry_from_a_step_whose_upstream_was_cancelled_is_refused,
);
