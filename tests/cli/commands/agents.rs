//! `imx agent run|list|show|drain|resume|remove`, and SIGTERM on a running agent.

use std::time::Duration;

use nix::sys::signal::Signal;

use super::{short_leases, sleepy};
use crate::env::{SLOW, TestEnv, wait_until};

fn agent_state(env: &TestEnv, name: &str) -> String {
    env.json(["agent", "show", name])["state"]
        .as_str()
        .unwrap()
        .to_string()
}

fn agent_list_and_show_report_state_slots_and_labels(env: TestEnv) {
    let env = short_leases(env);
    let out = env.run(["agent", "list"]);
    out.expect_code(0);
    assert!(out.stderr.contains("No agents yet."), "{}", out.stderr);

    let agent = env.agent_with("builder", 3, &["--labels", "os=linux,arch=arm64"]);
    let list = env.json(["agent", "list"]);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1);
    let a = &list[0];
    assert_eq!(a["name"], "builder");
    assert_eq!(a["state"], "online");
    assert_eq!(a["slots"], 3);
    assert_eq!(a["running"], 0);
    assert_eq!(a["draining"], false);
    assert_eq!(
        a["labels"],
        serde_json::json!({"os": "linux", "arch": "arm64"})
    );
    assert_eq!(a["pid"], agent.pid());
    for key in [
        "id",
        "hostname",
        "version",
        "registered_at",
        "last_heartbeat",
    ] {
        assert!(a.get(key).is_some(), "{key} missing: {a:#}");
    }

    let table = env.run(["agent", "list"]);
    table.expect_code(0);
    let row = table
        .stdout
        .lines()
        .find(|l| l.contains("builder"))
        .unwrap();
    assert!(row.contains("online") && row.contains("0/3"), "{row}");

    let id = a["id"].as_str().unwrap();
    let by_id = env.json(["agent", "show", &id[..10]]);
    assert_eq!(by_id["name"], "builder");
    assert_eq!(by_id["recent_steps"], serde_json::json!([]), "{by_id:#}");
    let show = env.run(["agent", "show", "builder"]);
    show.expect_code(0);
    assert!(show.stdout.contains("State:"), "{}", show.stdout);
    assert!(show.stdout.contains("arch=arm64"), "{}", show.stdout);
    assert!(show.stdout.contains("0 running of 3"), "{}", show.stdout);
    env.run(["agent", "show", "nobody"]).expect_code(3);

    // A busy agent says what it holds.
    env.apply("slow.yaml", &sleepy("slow", 30.0));
    let run = env.start("slow", &[]);
    wait_until("the agent to hold the step", SLOW, || {
        env.json(["agent", "show", "builder"])["running"] == 1
    });
    let busy = env.json(["agent", "show", "builder"]);
    assert_eq!(
        busy["current"],
        serde_json::json!([format!("{}/nap#1", &run[..12])]),
        "{busy:#}"
    );
    // And lists its recent steps: in JSON, and as a table for people.
    assert_eq!(busy["recent_steps"][0]["run_id"], run.as_str(), "{busy:#}");
    assert_eq!(busy["recent_steps"][0]["step_id"], "nap");
    assert_eq!(busy["recent_steps"][0]["status"], "running");
    let shown = env.run(["agent", "show", "builder"]);
    shown.expect_code(0);
    let row = shown
        .stdout
        .lines()
        .find(|l| l.contains("nap") && l.contains("running"))
        .unwrap_or_else(|| panic!("{}", shown.stdout));
    assert!(row.contains(&run[..8]) && row.contains("slow"), "{row}");
    let none = env.json(["agent", "show", "builder", "--steps", "0"]);
    assert_eq!(none["recent_steps"], serde_json::json!([]));
    env.run(["run", "cancel", &run]).expect_code(0);
}

fn a_drained_agent_claims_nothing_until_resumed(env: TestEnv) {
    let env = short_leases(env);
    env.apply("noop.yaml", super::NOOP);
    let _agent = env.agent("solo", 2);
    let out = env.run(["agent", "drain", "solo"]);
    out.expect_code(0);
    assert!(out.stderr.contains("Draining agent solo"), "{}", out.stderr);
    assert_eq!(agent_state(&env, "solo"), "draining");

    let id = env.start("noop", &[]);
    // Give a (wrongly) claiming agent ample time; the run must stay queued.
    std::thread::sleep(Duration::from_millis(1_500));
    let run = env.show_run(&id);
    assert_eq!(run["status"], "queued", "{run:#}");
    assert_eq!(TestEnv::step(&run, "only")["status"], "ready");

    let out = env.run(["agent", "resume", "solo"]);
    out.expect_code(0);
    assert!(out.stderr.contains("takes steps again"), "{}", out.stderr);
    assert_eq!(env.finish(&id)["status"], "succeeded");
    assert_eq!(agent_state(&env, "solo"), "online");
}

fn remove_needs_yes_and_stops_the_agent_process(env: TestEnv) {
    let env = short_leases(env);
    let mut agent = env.agent("temp", 1);
    let out = env.run(["agent", "remove", "temp"]);
    out.expect_code(2);
    assert!(out.stderr.contains("--yes"), "{}", out.stderr);
    assert_eq!(env.json(["agent", "list"]).as_array().unwrap().len(), 1);

    let out = env.run(["agent", "remove", "temp", "--yes"]);
    out.expect_code(0);
    assert!(out.stderr.contains("Removed agent temp."), "{}", out.stderr);
    assert_eq!(env.json(["agent", "list"]), serde_json::json!([]));
    env.run(["agent", "show", "temp"]).expect_code(3);
    // "a running `imx agent run` with this name stops"
    agent.wait_exit(SLOW);
}

fn sigterm_drains_the_agent_its_running_step_succeeds_and_it_exits_0(env: TestEnv) {
    let env = short_leases(env);
    let started = env.home().join("started");
    env.apply(
        "work.yaml",
        &format!(
            "name: work\nsteps:\n  - id: work\n    run: touch {}; sleep 0.5; echo finished\n  - id: next\n    needs: [work]\n    noop: true\n",
            started.display()
        ),
    );
    let mut agent = env.agent("worker", 1);
    let id = env.start("work", &[]);
    wait_until("the step to start", SLOW, || started.exists());
    agent.signal(Signal::SIGTERM);
    let status = agent.wait_exit(SLOW);
    assert_eq!(status.code(), Some(0), "stderr:\n{}", agent.stderr());
    let stderr = agent.stderr();
    assert!(stderr.contains("Draining agent worker"), "{stderr}");
    assert!(stderr.contains("1 step succeeded"), "{stderr}");

    let run = env.show_run(&id);
    assert_eq!(
        TestEnv::step(&run, "work")["status"],
        "succeeded",
        "{run:#}"
    );
    // The drained agent took nothing new: the next step waits for another agent.
    assert_ne!(TestEnv::step(&run, "next")["status"], "succeeded");
    assert_eq!(agent_state(&env, "worker"), "offline");
    let _other = env.agent("other", 1);
    assert_eq!(env.finish(&id)["status"], "succeeded");
}

crate::both_modes!(
    agent_list_and_show_report_state_slots_and_labels,
    a_drained_agent_claims_nothing_until_resumed,
    remove_needs_yes_and_stops_the_agent_process,
    sigterm_drains_the_agent_its_running_step_succeeds_and_it_exits_0,
);
