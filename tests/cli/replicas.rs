//! An agent given several replicas (`--server URL1,URL2`): two `imx server` processes on one
//! store stand in for a cluster's replicas. The agent's replica is killed (SIGKILL) mid-step;
//! the agent moves to the other one, keeping its lease: the step's result is reported for the
//! same attempt and new work is claimed, while the first replica stays down. A list whose
//! first replica is down from the start works at once through the next one.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use nix::sys::signal::Signal;

use crate::agent_reconnect::{free_port, start_server as replica};
use crate::env::{Background, SLOW, TestEnv, process_gone, wait_until};

/// An admin store with an agent token, and the workflows the tests run.
fn setup(env: &TestEnv) -> String {
    env.run(["init", "--admin", "root"]).expect_code(0);
    let out = env.run([
        "token", "create", "--role", "agent", "--name", "agents", "-q",
    ]);
    out.expect_code(0);
    env.apply(
        "quick.yaml",
        "name: quick\nsteps:\n  - id: hi\n    run: echo hi\n",
    );
    out.stdout.trim().to_string()
}

/// `imx --server LIST agent run --name NAME` with `token`.
fn agent(env: &TestEnv, list: &str, token: &str, name: &str) -> Background {
    let mut cmd = env.std_cmd();
    cmd.env_remove("IMX_STORE")
        .env("IMX_TOKEN", token)
        .args(["--server", list]);
    env.spawn_with(cmd, ["agent", "run", "--name", name, "--slots", "2"])
}

#[test]
fn an_agent_moves_to_another_replica_with_its_lease_when_its_own_dies() {
    let env = TestEnv::new().with_var("IMX_KEYRING", "off");
    let token = setup(&env);
    let pid_file = env.home().join("step.pid");
    let release = env.home().join("release");
    env.apply(
        "slow.yaml",
        &format!(
            "name: slow\nsteps:\n  - id: work\n    run: echo $$ > {pid}; echo started; \
             while [ ! -f {release} ]; do sleep 0.05; done; echo finished on the other replica\n",
            pid = pid_file.display(),
            release = release.display(),
        ),
    );
    let (pa, pb) = (free_port(), free_port());
    let mut first = replica(&env, pa);
    let _second = replica(&env, pb);
    let list = format!("http://127.0.0.1:{pa},http://127.0.0.1:{pb}");
    let agent = agent(&env, &list, &token, "roamer");

    let run = env.start("slow", &[]);
    let mut step_pid = 0;
    wait_until("the step to start", SLOW, || {
        step_pid = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        step_pid > 0
    });
    wait_until("the step to be running", SLOW, || {
        TestEnv::step(&env.show_run(&run), "work")["status"] == "running"
    });

    // The agent's replica dies for good; the step finishes meanwhile.
    first.signal(Signal::SIGKILL);
    first.wait_exit(SLOW);
    std::fs::write(&release, "").unwrap();
    wait_until("the step to finish", SLOW, || process_gone(step_pid));

    let shown = env.finish(&run);
    assert_eq!(
        shown["status"],
        "succeeded",
        "{shown:#}\n{}",
        agent.stderr()
    );
    let step = TestEnv::step(&shown, "work");
    assert_eq!(step["attempt"], 1, "the lease was kept: {shown:#}");
    assert_eq!(step["agent"], "roamer");
    let logs = env.run(["run", "logs", &run]);
    logs.expect_code(0);
    assert!(
        logs.stdout.contains("finished on the other replica"),
        "{}",
        logs.stdout
    );

    // New work goes through the replica still up.
    let next = env.start("quick", &[]);
    let shown = env.finish(&next);
    assert_eq!(
        shown["status"],
        "succeeded",
        "{shown:#}\n{}",
        agent.stderr()
    );
    assert_eq!(TestEnv::step(&shown, "hi")["agent"], "roamer");
    assert!(
        agent
            .stderr()
            .contains(&format!("moving to http://127.0.0.1:{pb}/")),
        "the agent did not say where it moved:\n{}",
        agent.stderr()
    );
}

#[test]
fn a_replica_down_from_the_start_is_passed_over() {
    let env = TestEnv::new().with_var("IMX_KEYRING", "off");
    let token = setup(&env);
    let (down, up) = (free_port(), free_port());
    let _server = replica(&env, up);
    let list = format!("http://127.0.0.1:{down},http://127.0.0.1:{up}");
    let agent = agent(&env, &list, &token, "late");
    let run = env.start("quick", &[]);
    let shown = env.finish(&run);
    assert_eq!(
        shown["status"],
        "succeeded",
        "{shown:#}\n{}",
        agent.stderr()
    );
    // A CLI given the same list answers through the replica that is up.
    let out = env
        .cmd()
        .env_remove("IMX_STORE")
        .env("IMX_TOKEN", &token)
        .args(["--server", &list, "whoami"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("token:agents"), "{stdout}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("moving to"),
        "{out:?}"
    );
}
