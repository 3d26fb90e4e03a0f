//! Concurrency limits (issue 12): `concurrency: {key, limit, on_conflict}` in a workflow file.
//! Five `deploy env=prod` runs started at once run one at a time in start order (checked on
//! the runs' recorded start and end times), while a run of another key goes at once; a queued
//! run shows its place and the run it waits for (`run show`, `run list --status queued`, JSON);
//! cancelling a queued run takes it out of the queue; `skip` and `cancel_running`; a bad
//! `on_conflict` is named at its file:line:col. Three replicas on PostgreSQL starting runs of
//! one key at once never have two active.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::both_modes;
use crate::env::{SLOW, TestEnv, millis, wait_until};
use crate::server::remote;

/// A deploy workflow of two steps whose key is its `env`, with `on_conflict`.
fn deploy(name: &str, on_conflict: &str) -> String {
    format!(
        "name: {name}\nparams:\n  env: {{type: string, required: true}}\n\
         concurrency: {{key: \"deploy-{{{{ params.env }}}}\", limit: 1, on_conflict: {on_conflict}}}\n\
         steps:\n  - id: build\n    run: echo build\n  - id: ship\n    needs: [build]\n    run: echo ship\n"
    )
}

/// The runs waiting for a slot, as `run list --status queued -o json` shows them.
fn waiting(env: &TestEnv) -> Vec<serde_json::Value> {
    let list = env.json(["run", "list", "--status", "queued"]);
    list.as_array()
        .unwrap()
        .iter()
        .filter(|r| r["concurrency"]["position"].is_u64())
        .cloned()
        .collect()
}

fn five_deploys_of_one_env_run_one_at_a_time_in_start_order(env: TestEnv) {
    env.apply("deploy.yaml", &deploy("deploy", "queue"));
    // Five starts at once, before any agent is there to run them.
    let ids: Vec<String> = std::thread::scope(|s| {
        let starts: Vec<_> = (0..5)
            .map(|_| s.spawn(|| env.start("deploy", &["env=prod"])))
            .collect();
        starts.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let runs: Vec<serde_json::Value> = ids.iter().map(|id| env.show_run(id)).collect();
    let admitted: Vec<&serde_json::Value> = runs
        .iter()
        .filter(|r| r["concurrency"]["admitted_at"].is_string())
        .collect();
    assert_eq!(admitted.len(), 1, "one slot: {runs:#?}");
    let first = admitted[0]["id"].as_str().unwrap().to_string();

    // The queue: positions 1..4, each waiting for the admitted run, in creation order.
    let mut queue = waiting(&env);
    assert_eq!(queue.len(), 4, "{queue:#?}");
    queue.sort_by_key(|r| r["concurrency"]["position"].as_u64());
    for (i, r) in queue.iter().enumerate() {
        assert_eq!(r["status"], "queued");
        assert_eq!(r["concurrency"]["key"], "deploy-prod");
        assert_eq!(r["concurrency"]["position"], i + 1, "{queue:#?}");
        assert_eq!(r["concurrency"]["waiting_for"], serde_json::json!([first]));
        assert!(r["deadline"].is_null(), "its timeout starts with its slot");
    }
    let mut order = vec![first.clone()];
    order.extend(queue.iter().map(|r| r["id"].as_str().unwrap().to_string()));
    let created: Vec<i64> = order
        .iter()
        .map(|id| millis(&env.show_run(id)["created_at"]).unwrap())
        .collect();
    assert!(
        created.windows(2).all(|w| w[0] <= w[1]),
        "the queue is in start order: {order:?} created {created:?}"
    );

    // People see the place and the run waited for.
    let second = &order[1];
    let shown = env.run(["run", "show", second]);
    shown.expect_code(0);
    let short = &first[..12];
    assert!(
        shown
            .stdout
            .contains(&format!("position 1, waiting for run {short} to end")),
        "{}",
        shown.stdout
    );
    assert!(
        shown.stdout.contains("key deploy-prod (limit 1)"),
        "{}",
        shown.stdout
    );
    let table = env.run(["run", "list", "--status", "queued"]);
    assert!(table.stdout.contains("queued #4"), "{}", table.stdout);

    // Another key does not wait.
    let staging = env.start("deploy", &["env=staging"]);
    let c = &env.show_run(&staging)["concurrency"];
    assert!(
        c["admitted_at"].is_string() && c["position"].is_null(),
        "{c:#}"
    );

    // An agent with room for several runs still runs the prod deploys one at a time.
    let _agent = env.agent("w", 4);
    let done: Vec<serde_json::Value> = order.iter().map(|id| env.finish(id)).collect();
    let spans: Vec<(i64, i64)> = done
        .iter()
        .map(|r| {
            assert_eq!(r["status"], "succeeded", "{r:#}");
            (
                millis(&r["started_at"]).unwrap(),
                millis(&r["finished_at"]).unwrap(),
            )
        })
        .collect();
    for (i, w) in spans.windows(2).enumerate() {
        assert!(
            w[0].1 <= w[1].0,
            "run {} started before run {} ended: {spans:?}",
            order[i + 1],
            order[i]
        );
    }
    assert_eq!(env.finish(&staging)["status"], "succeeded");
}

fn cancelling_a_queued_run_takes_it_out_of_the_queue(env: TestEnv) {
    env.apply("deploy.yaml", &deploy("deploy", "queue"));
    let first = env.start("deploy", &["env=prod"]);
    let second = env.start("deploy", &["env=prod"]);
    let third = env.start("deploy", &["env=prod"]);
    assert_eq!(env.show_run(&third)["concurrency"]["position"], 2);
    let out = env.json(["run", "cancel", &second]);
    assert_eq!(out["status"], "cancelled", "{out:#}");
    let now = env.show_run(&third);
    assert_eq!(now["concurrency"]["position"], 1, "{now:#}");
    let ids: Vec<String> = waiting(&env)
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, vec![third.clone()]);

    // The first run's end admits the third, never the cancelled second.
    let _agent = env.agent("w", 2);
    assert_eq!(env.finish(&first)["status"], "succeeded");
    assert_eq!(env.finish(&third)["status"], "succeeded");
    let cancelled = env.show_run(&second);
    assert_eq!(cancelled["status"], "cancelled");
    assert!(cancelled["started_at"].is_string(), "ends stamp a start");
    assert!(cancelled["concurrency"]["admitted_at"].is_null());
}

fn skip_ends_the_new_run_and_cancel_running_stops_the_old_one(env: TestEnv) {
    env.apply("skipper.yaml", &deploy("skipper", "skip"));
    let first = env.start("skipper", &["env=prod"]);
    let out = env.run(["workflow", "run", "skipper", "-p", "env=prod", "--wait"]);
    out.expect_code(11);
    let skipped = env.json([
        "run",
        "list",
        "--workflow",
        "skipper",
        "--status",
        "cancelled",
    ]);
    let skipped = &skipped[0];
    let error = skipped["error"].as_str().unwrap();
    assert!(
        error.starts_with("skipped: concurrency key \"deploy-prod\" is at its limit")
            && error.contains(&first[..12]),
        "{error}"
    );
    assert_eq!(
        env.show_run(&first)["status"],
        "queued",
        "the first is untouched"
    );

    env.apply("replacer.yaml", &deploy("replacer", "cancel_running"));
    let old = env.start("replacer", &["env=prod"]);
    let new = env.start("replacer", &["env=prod"]);
    let old_run = env.show_run(&old);
    assert_eq!(old_run["status"], "cancelled");
    let why = old_run["error"].as_str().unwrap();
    assert!(
        why.contains(&new[..12]) && why.contains("cancel_running"),
        "{why}"
    );
    let new_run = env.show_run(&new);
    assert!(
        new_run["concurrency"]["admitted_at"].is_string(),
        "{new_run:#}"
    );
}

both_modes!(
    five_deploys_of_one_env_run_one_at_a_time_in_start_order,
    cancelling_a_queued_run_takes_it_out_of_the_queue,
    skip_ends_the_new_run_and_cancel_running_stops_the_old_one,
);

#[test]
fn a_bad_on_conflict_is_named_at_its_place_with_the_right_value() {
    let env = TestEnv::new();
    let file = env.write(
        "bad.yaml",
        "name: bad\nconcurrency: {key: k, on_conflict: cancel-running}\nsteps: [{id: a, noop: true}]\n",
    );
    env.run(["workflow", "validate", "-f", file.to_str().unwrap()])
        .expect_error(2)
        .expect_stderr(&[
            "bad.yaml:2:36",
            "unknown value \"cancel-running\"",
            "did you mean \"cancel_running\"?",
        ]);
}

/// Three replicas on one PostgreSQL database, each with its own agent, and runs of one key
/// (limit 1) started through all three at once: the runs' recorded spans never overlap, and
/// every run ran.
#[test]
fn three_replicas_starting_runs_of_one_key_never_have_two_active() {
    let Some((db, _rt)) = crate::cluster::database() else {
        return;
    };
    let pg = db.url();
    let env = TestEnv::new().with_var("IMX_KEYRING", "off");
    let init = env.run(["init", "--database", &pg, "--admin", "root"]);
    init.expect_code(0);
    let admin = init.stdout.trim().to_string();
    let replicas: Vec<_> = (0..3).map(|_| crate::cluster::replica(&env, &pg)).collect();
    let urls: Vec<String> = replicas.iter().map(|(_, url)| url.clone()).collect();
    let token = remote(
        &env,
        &urls[0],
        &admin,
        &["token", "create", "--role", "agent", "-q"],
    );
    token.expect_code(0);
    let token = token.stdout.trim().to_string();
    let wf = env.write("deploy.yaml", &deploy("deploy", "queue"));
    remote(
        &env,
        &urls[1],
        &admin,
        &["workflow", "apply", "-f", wf.to_str().unwrap()],
    )
    .expect_code(0);
    let _agents: Vec<_> = urls
        .iter()
        .enumerate()
        .map(|(i, url)| {
            let mut cmd = env.std_cmd();
            cmd.env_remove("IMX_STORE")
                .env("IMX_TOKEN", &token)
                .args(["--server", url]);
            env.spawn_with(
                cmd,
                ["agent", "run", "--name", &format!("a{i}"), "--slots", "4"],
            )
        })
        .collect();

    // Four starts through each replica at once, while earlier runs end through the others.
    let ids: Vec<String> = std::thread::scope(|s| {
        let starts: Vec<_> = (0..12)
            .map(|i| {
                let (env, url, admin) = (&env, &urls[i % 3], &admin);
                s.spawn(move || {
                    let out = remote(
                        env,
                        url,
                        admin,
                        &["workflow", "run", "deploy", "-p", "env=prod", "-q"],
                    );
                    out.expect_code(0);
                    out.stdout.trim().to_string()
                })
            })
            .collect();
        starts.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut shown = Vec::new();
    wait_until("every run to end", SLOW * 4, || {
        let list = remote(
            &env,
            &urls[2],
            &admin,
            &["run", "list", "--all", "-o", "json"],
        );
        list.expect_code(0);
        shown = serde_json::from_str::<Vec<serde_json::Value>>(&list.stdout).unwrap();
        let active = shown
            .iter()
            .filter(|r| r["concurrency"]["admitted_at"].is_string())
            .filter(|r| matches!(r["status"].as_str(), Some("queued" | "running")))
            .count();
        assert!(active <= 1, "two active runs of one key: {shown:#?}");
        shown.len() == ids.len() && shown.iter().all(|r| r["status"] == "succeeded")
    });
    let mut spans: Vec<(i64, i64, String)> = shown
        .iter()
        .map(|r| {
            (
                millis(&r["started_at"]).unwrap(),
                millis(&r["finished_at"]).unwrap(),
                r["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    spans.sort();
    for w in spans.windows(2) {
        assert!(
            w[0].1 <= w[1].0,
            "runs overlapped: {:?} and {:?}",
            w[0],
            w[1]
        );
    }
}
