//! `-o table|wide|json|yaml|csv|name` and `-q` on the list and show commands.

use serde_json::Value;

use super::{NOOP, short_leases};
use crate::env::TestEnv;

/// A store with two workflows, two finished runs and one agent; returns the run ids.
fn populated(env: &TestEnv) -> (crate::env::Background, Vec<String>) {
    env.apply("noop.yaml", NOOP);
    env.apply(
        "two.yaml",
        "name: two\ndescription: two steps\nsteps:\n  - id: a\n    run: echo a\n  - id: b\n    needs: [a]\n    run: echo b\n",
    );
    let agent = env.agent_with("worker", 2, &["--labels", "os=linux"]);
    let ids = vec![env.start("noop", &[]), env.start("two", &[])];
    for id in &ids {
        assert_eq!(env.finish(id)["status"], "succeeded");
    }
    (agent, ids)
}

/// A list command, how many rows it lists, fields every JSON item has, what `-o name` prints.
type Case<'a> = (&'a [&'a str], usize, &'a [&'a str], Vec<String>);

fn columns(table: &str) -> usize {
    table
        .lines()
        .next()
        .unwrap_or_default()
        .split("  ")
        .filter(|c| !c.trim().is_empty())
        .count()
}

fn every_list_command_speaks_every_format(env: TestEnv) {
    let env = short_leases(env);
    let (_agent, ids) = populated(&env);
    let cases: [Case; 3] = [
        (
            &["run", "list"],
            2,
            &[
                "id",
                "workflow",
                "workflow_version",
                "status",
                "params",
                "created_at",
                "started_at",
                "finished_at",
                "created_by",
                "steps_total",
                "steps_succeeded",
            ],
            ids.iter().rev().cloned().collect(),
        ),
        (
            &["agent", "list"],
            1,
            &[
                "id",
                "name",
                "state",
                "slots",
                "labels",
                "running",
                "last_heartbeat",
            ],
            vec!["worker".into()],
        ),
        (
            &["workflow", "list"],
            2,
            &["name", "version", "steps", "runs", "created_at"],
            vec!["noop".into(), "two".into()],
        ),
    ];
    for (cmd, rows, fields, names) in cases {
        let with = |format: &str| {
            let mut args = cmd.to_vec();
            args.extend(["-o", format]);
            let out = env.run(&args);
            out.expect_code(0);
            out
        };
        let json: Value = serde_json::from_str(&with("json").stdout).unwrap();
        let items = json.as_array().unwrap();
        assert_eq!(items.len(), rows, "{cmd:?}: {json:#}");
        for item in items {
            for f in fields {
                assert!(item.get(*f).is_some(), "{cmd:?}: {f} missing in {item:#}");
            }
        }

        let yaml: Value = serde_saphyr::from_str(&with("yaml").stdout).unwrap();
        // An agent may heartbeat between the two commands.
        let steady = |mut v: Value| {
            for item in v.as_array_mut().into_iter().flatten() {
                item.as_object_mut().map(|o| o.remove("last_heartbeat"));
            }
            v
        };
        assert_eq!(
            steady(yaml),
            steady(json.clone()),
            "{cmd:?}: YAML is the same data as JSON"
        );

        let csv = with("csv").stdout;
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), rows + 1, "{cmd:?}: header + rows:\n{csv}");
        assert!(
            lines[0]
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == ',' || c == ' '),
            "{cmd:?}: header {:?}",
            lines[0]
        );
        let width = lines[0].split(',').count();
        for l in &lines[1..] {
            assert_eq!(l.split(',').count(), width, "{cmd:?}: {csv}");
        }

        let mut printed: Vec<String> = with("name").stdout.lines().map(String::from).collect();
        let mut names = names.clone();
        if cmd[0] == "workflow" {
            printed.sort();
            names.sort();
        }
        assert_eq!(printed, names, "{cmd:?}: -o name");

        let table = with("table").stdout;
        let wide = with("wide").stdout;
        assert_eq!(table.lines().count(), rows + 1, "{cmd:?}:\n{table}");
        assert!(
            columns(&wide) > columns(&table),
            "{cmd:?}: wide has more columns\n{table}\n{wide}"
        );
    }
    // Tables show short ids, csv the full ones.
    let table = env.run(["run", "list"]).stdout;
    assert!(
        table.contains(&ids[0][..8]) && !table.contains(&ids[0]),
        "{table}"
    );
    let csv = env.run(["run", "list", "-o", "csv"]).stdout;
    assert!(csv.contains(&ids[0]), "{csv}");
}

fn run_show_speaks_every_format(env: TestEnv) {
    let env = short_leases(env);
    let (_agent, ids) = populated(&env);
    let id = &ids[1];
    let show = |format: &str| {
        let out = env.run(["run", "show", id, "-o", format]);
        out.expect_code(0);
        out.stdout
    };
    let json: Value = serde_json::from_str(&show("json")).unwrap();
    for f in [
        "id",
        "workflow",
        "workflow_version",
        "status",
        "params",
        "steps",
    ] {
        assert!(json.get(f).is_some(), "{f} missing in {json:#}");
    }
    let steps = json["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 2);
    for f in [
        "step_id",
        "kind",
        "status",
        "attempt",
        "needs",
        "agent",
        "started_at",
        "finished_at",
        "exit_code",
        "outputs",
        "error",
    ] {
        assert!(steps[0].get(f).is_some(), "{f} missing in {:#}", steps[0]);
    }
    let yaml: Value = serde_saphyr::from_str(&show("yaml")).unwrap();
    assert_eq!(yaml, json);
    let csv = show("csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[0].starts_with("state,step,status"), "{csv}");
    assert!(
        lines[1].starts_with("succeeded,a,succeeded,1,worker,"),
        "{csv}"
    );
    assert_eq!(show("name").trim(), id.as_str());
    let table = show("table");
    let wide = show("wide");
    assert!(table.contains("Workflow: two v1"), "{table}");
    let header = |t: &str| {
        t.lines()
            .find(|l| l.contains("STEP"))
            .map(|l| l.split_whitespace().count())
            .unwrap_or(0)
    };
    assert!(header(&wide) > header(&table), "{table}\n{wide}");
}

fn quiet_silences_status_lines_but_not_data(env: TestEnv) {
    let env = short_leases(env);
    let loud = env.run(["workflow", "list"]);
    assert!(loud.stderr.contains("No workflows yet."), "{}", loud.stderr);
    let quiet = env.run(["workflow", "list", "-q"]);
    assert!(quiet.stderr.is_empty(), "{}", quiet.stderr);
    env.write("noop.yaml", NOOP);
    let out = env.run(["workflow", "apply", "-f", "noop.yaml", "-q"]);
    out.expect_code(0);
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    assert!(out.stdout.contains("noop"), "{}", out.stdout);
    let out = env.run(["workflow", "run", "noop", "-q"]);
    out.expect_code(0);
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    assert_eq!(out.stdout.trim().len(), 26);
    let out = env.run(["workflow", "run", "noop"]);
    assert!(out.stderr.contains("Started run"), "{}", out.stderr);
    let out = env.run(["run", "cancel", out.stdout.trim(), "-q"]);
    out.expect_code(0);
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    // Errors are never silenced.
    let out = env.run(["run", "show", "0000000000", "-q"]);
    out.expect_code(3);
    assert!(out.stderr.starts_with("error: "), "{}", out.stderr);
}

crate::both_modes!(
    every_list_command_speaks_every_format,
    run_show_speaks_every_format,
    quiet_silences_status_lines_but_not_data,
);
