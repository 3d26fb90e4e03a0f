//! Run labels set by what starts runs besides a person (issue 13): a workflow file's
//! `schedules:` entry (`labels:`), `imx schedule create -l`, and `imx trigger create -l` (a
//! run-after trigger and, through a server, a webhook trigger). The runs they make carry the
//! labels (`run list -l` finds them), `schedule show` and `trigger show` print them, and bad
//! labels are refused like `workflow run -l`'s: exit 2, or the file's line and column.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use imx::auth::Secret;
use imx::auth::webhook::{ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign};
use serde_json::{Value, json};

use crate::both_modes;
use crate::env::{Mode, SLOW, TestEnv, wait_until};
use crate::http::Api;

both_modes!(
    scheduled_and_triggered_runs_carry_their_labels,
    bad_schedule_and_trigger_labels_are_refused,
);

/// The store key the servers are given (a webhook secret is sealed under it).
const STORE_KEY: &str = "3b1d3c5e7a9b0d2f4a6c8e0b1d3f5a7c9e1b3d5f7a9c0e2b4d6f8a0c2e4b6d8f";
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// Fires every second, each run labelled.
const TICKER: &str = "name: ticker
steps:
  - id: a
    run: echo tick
schedules:
  - name: ticker-every-second
    every: 1s
    labels: {origin: file, team: web}
";

const NEXT: &str = "name: next\nsteps:\n  - id: a\n    run: echo next\n";

/// The runs `run list -l K=V -l K=V` finds for `labels` (all must match).
fn labelled(env: &TestEnv, labels: &[&str]) -> Vec<Value> {
    let mut args = vec!["run", "list", "--all"];
    for l in labels {
        args.extend(["-l", l]);
    }
    env.json(args).as_array().cloned().unwrap_or_default()
}

fn scheduled_and_triggered_runs_carry_their_labels(env: TestEnv) {
    let env = env.with_var("IMX_STORE_KEY", STORE_KEY);
    env.apply("next.yaml", NEXT);
    env.apply("ticker.yaml", TICKER);
    let shown = env.json(["schedule", "show", "ticker-every-second"]);
    assert_eq!(
        shown["schedule"]["spec"]["labels"],
        json!({"origin": "file", "team": "web"}),
        "{shown:#}"
    );
    let table = env.run(["schedule", "show", "ticker-every-second"]);
    table.expect_code(0);
    assert!(
        table.stdout.contains("origin=file,team=web"),
        "{}",
        table.stdout
    );

    // By command: -l as `workflow run` takes it; `schedule trigger` makes a run now.
    env.run([
        "schedule",
        "create",
        "by-hand",
        "--workflow",
        "next",
        "--every",
        "1h",
        "-l",
        "origin=command",
        "-l",
        "pr=42",
    ])
    .expect_code(0);
    env.run(["schedule", "trigger", "by-hand"]).expect_code(0);
    let made = labelled(&env, &["origin=command"]);
    assert_eq!(made.len(), 1, "{made:#?}");
    assert_eq!(made[0]["labels"], json!({"origin": "command", "pr": "42"}));
    assert_eq!(made[0]["schedule"], "by-hand");

    // A run-after trigger: each ended ticker run starts a labelled run of next.
    env.run([
        "trigger",
        "create",
        "after-ticker",
        "--workflow",
        "next",
        "--after",
        "ticker",
        "-l",
        "origin=after",
    ])
    .expect_code(0);
    let shown = env.json(["trigger", "show", "after-ticker"]);
    assert_eq!(shown["labels"], json!({"origin": "after"}), "{shown:#}");
    let table = env.run(["trigger", "show", "after-ticker"]);
    table.expect_code(0);
    assert!(table.stdout.contains("origin=after"), "{}", table.stdout);

    let _agent = env.agent("w1", 4);
    wait_until("a labelled scheduled run", SLOW, || {
        !labelled(&env, &["origin=file", "team=web"]).is_empty()
    });
    let ticked = labelled(&env, &["team=web"]);
    assert!(
        ticked.iter().all(|r| r["schedule"] == "ticker-every-second"
            && r["labels"] == json!({"origin": "file", "team": "web"})),
        "{ticked:#?}"
    );
    wait_until("a labelled run-after run", SLOW, || {
        !labelled(&env, &["origin=after"]).is_empty()
    });
    let after = labelled(&env, &["origin=after"]);
    assert_eq!(after[0]["workflow"], "next", "{after:#?}");
    assert_eq!(after[0]["created_by"], "trigger:after-ticker");

    // A webhook trigger (servers only: a local store receives no calls).
    env.run_stdin(
        &[
            "trigger",
            "create",
            "hook",
            "--workflow",
            "next",
            "-l",
            "origin=hook",
            "--secret-stdin",
        ],
        &format!("{SECRET}\n"),
    )
    .expect_code(0);
    assert_eq!(
        env.json(["trigger", "show", "hook"])["labels"],
        json!({"origin": "hook"})
    );
    if env.mode() == Mode::Remote {
        let api = Api::new(env.url());
        let body = serde_json::to_vec(&json!({})).unwrap();
        let ts = chrono_secs();
        let sig = sign(&Secret::new(SECRET), "msg_1", ts, &body);
        let headers = [
            (ID_HEADER, "msg_1".to_string()),
            (TIMESTAMP_HEADER, ts.to_string()),
            (SIGNATURE_HEADER, sig),
        ];
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let reply = rt.block_on(api.post_signed("/api/v1/hooks/hook", &headers, &body));
        assert_eq!(reply.status, 202, "{reply:?}");
        let id = reply.json["run_id"].as_str().unwrap().to_string();
        assert_eq!(env.show_run(&id)["labels"], json!({"origin": "hook"}));
        let found = labelled(&env, &["origin=hook"]);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0]["id"], id.as_str());
    }
}

/// Seconds since the epoch (a webhook's timestamp).
fn chrono_secs() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

fn bad_schedule_and_trigger_labels_are_refused(env: TestEnv) {
    let env = env.with_var("IMX_STORE_KEY", STORE_KEY);
    env.apply("next.yaml", NEXT);
    env.run([
        "schedule",
        "create",
        "bad",
        "--workflow",
        "next",
        "--every",
        "1h",
        "-l",
        "pr=a b",
    ])
    .expect_error(2)
    .expect_stderr(&["may not hold spaces"]);
    env.run([
        "trigger",
        "create",
        "bad",
        "--workflow",
        "next",
        "-l",
        "pr-=1",
    ])
    .expect_error(2)
    .expect_stderr(&["is not valid"]);
    assert_eq!(env.json(["schedule", "list"]), json!([]));
    assert_eq!(env.json(["trigger", "list"]), json!([]));

    let file = env.home().join("bad.yaml");
    std::fs::write(
        &file,
        "name: badsched
steps:
  - id: a
    run: echo a
schedules:
  - name: s1
    every: 1h
    labels: {pr: \"a,b\", \"-x\": y}
",
    )
    .unwrap();
    let out = env.run(["workflow", "apply", "-f", file.to_str().unwrap()]);
    out.expect_error(2)
        .expect_stderr(&["bad.yaml:8:", "commas", "\"-x\""]);
}
