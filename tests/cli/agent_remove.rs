//! `imx agent remove` (issue 10): an online agent that runs steps is not removed from under
//! them unless `--force` says so; `--force` gives its steps back through the lease-lost
//! transition (logged and counted), and the agent stops. An idle (drained) agent goes at once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::agent_takeover::{Files, start_agent};
use crate::both_modes;
use crate::env::{SLOW, TestEnv};

fn removing_an_agent_that_runs_steps_needs_force(env: TestEnv) {
    let env = env.with_var("IMX_LEASE", "60s");
    let files = Files::new(&env);
    env.apply("blocking.yaml", &files.workflow(1));
    let mut busy = start_agent(&env, "w");
    let run = env.start("blocking", &[]);
    files.wait_started(1);

    env.run(["agent", "remove", "w", "--yes"])
        .expect_error(5)
        .expect_stderr(&["1 running step", "imx agent drain w", "--force"]);
    let step = TestEnv::step(&env.show_run(&run), "work").clone();
    assert_eq!(
        (step["status"].as_str(), step["attempt"].as_i64()),
        (Some("running"), Some(1)),
        "{step:#}"
    );
    assert_eq!(env.json(["agent", "show", "w"])["running"], 1);

    let _spare = start_agent(&env, "spare");
    env.run(["agent", "remove", "w", "--yes", "--force"])
        .expect_code(0);
    busy.wait_exit(SLOW);
    let done = env.finish(&run);
    assert_eq!(done["status"], "succeeded", "{done:#}");
    let step = TestEnv::step(&done, "work");
    assert_eq!(
        (step["attempt"].as_i64(), step["agent"].as_str()),
        (Some(2), Some("spare")),
        "{step:#}"
    );
    let logs = env.run(["run", "logs", &run]);
    assert!(
        logs.stdout
            .lines()
            .any(|l| l.starts_with("attempt 1 lost: agent w was removed")),
        "{}",
        logs.stdout
    );
}

fn a_drained_idle_agent_is_removed_without_force(env: TestEnv) {
    let _idle = start_agent(&env, "idle");
    env.run(["agent", "drain", "idle"]).expect_code(0);
    env.run(["agent", "remove", "idle", "--yes"]).expect_code(0);
    env.run(["agent", "show", "idle"]).expect_error(3);
}

both_modes!(
    removing_an_agent_that_runs_steps_needs_force,
    a_drained_idle_agent_is_removed_without_force,
);
