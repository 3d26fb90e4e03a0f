//! Lists (issue 14): `--status a,b` (repeatable), `-l key=value`, `--all`, `-n 0` refused,
//! did-you-mean for enum values, `-o template=` field selection, the shortest unique id prefix
//! in tables, and an ambiguous prefix listing its runs.

use super::NOOP;
use crate::env::TestEnv;

fn lists_filter_select_fields_and_show_unique_ids(env: TestEnv) {
    env.apply("noop.yaml", NOOP);
    // No agent: the runs stay queued.
    let ids: Vec<String> = (0..24).map(|_| env.start("noop", &[])).collect();
    env.run(["run", "cancel", &ids[0]]).expect_code(0);
    env.run(["run", "cancel", &ids[1]]).expect_code(0);

    // --status: comma-separated and repeated, merged newest first.
    let both = env.json(["run", "list", "--status", "cancelled,queued", "-n", "3"]);
    let got: Vec<&str> = both
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(got, [&ids[23], &ids[22], &ids[21]]);
    let repeated = env.json([
        "run",
        "list",
        "--status",
        "cancelled",
        "-s",
        "queued",
        "--all",
    ]);
    assert_eq!(repeated.as_array().unwrap().len(), 24);
    let cancelled = env.json(["run", "list", "--status", "cancelled"]);
    assert_eq!(cancelled.as_array().unwrap().len(), 2);

    // --all pages through everything; -n 0 is refused; --all and -n do not mix.
    assert_eq!(
        env.json(["run", "list", "--all"]).as_array().unwrap().len(),
        24
    );
    let zero = env.run(["run", "list", "-n", "0"]);
    zero.expect_code(2);
    assert!(zero.stderr.contains("--all"), "{}", zero.stderr);
    env.run(["run", "list", "-n", "5", "--all"]).expect_code(2);
    env.run(["audit", "list", "--limit", "0"]).expect_code(2);

    // A misspelt enum value gets a did-you-mean.
    let typo = env.run(["run", "list", "--status", "faild"]);
    typo.expect_code(2);
    assert!(
        typo.stderr.contains("did you mean \"failed\""),
        "{}",
        typo.stderr
    );

    // -o template= on a list, a detail and a stream.
    let t = env.run([
        "run",
        "list",
        "-n",
        "2",
        "-o",
        "template={{ id }} {{ status }}",
    ]);
    t.expect_code(0);
    assert_eq!(
        t.stdout,
        format!("{} queued\n{} queued\n", ids[23], ids[22])
    );
    let one = env.run([
        "run",
        "show",
        &ids[0],
        "-o",
        "template={{ workflow }}/{{ steps[0].step_id }}",
    ]);
    assert_eq!(one.stdout, "noop/only\n");
    let bad = env.run(["run", "list", "-o", "template={{ nope }}"]);
    bad.expect_code(2);
    assert!(bad.stderr.contains("undefined"), "{}", bad.stderr);

    // Tables show the shortest prefix (at least 8) that tells the listed runs apart.
    let table = env.run(["run", "list", "--all"]);
    table.expect_code(0);
    let shown: Vec<&str> = table
        .stdout
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(shown.len(), 24, "{}", table.stdout);
    let mut distinct = shown.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 24, "prefixes are unique: {shown:?}");
    assert!(shown.iter().all(|s| s.len() >= 8), "{shown:?}");
    for (s, id) in shown.iter().zip(ids.iter().rev()) {
        assert!(id.starts_with(s), "{s} is not a prefix of {id}");
        env.show_run(s);
    }

    // A prefix that matches several runs lists them.
    let many = env.run(["run", "show", "01"]);
    many.expect_code(2);
    assert!(many.stderr.contains("is ambiguous"), "{}", many.stderr);
    assert!(many.stderr.contains("WORKFLOW"), "{}", many.stderr);
    assert!(many.stderr.contains("noop"), "{}", many.stderr);
}

fn agents_are_selected_by_label_and_state(env: TestEnv) {
    let _linux = env.agent_with("lin", 1, &["--labels", "os=linux,gpu=yes"]);
    let _mac = env.agent_with("mac", 1, &["--labels", "os=mac"]);
    let names = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["agent", "list"];
        all.extend_from_slice(args);
        env.json(all)
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(&["-l", "os=linux"]), ["lin"]);
    assert_eq!(
        names(&["-l", "os=mac", "-l", "gpu=yes"]),
        Vec::<String>::new()
    );
    assert_eq!(names(&["--status", "online,busy"]).len(), 2);
    assert_eq!(names(&["--status", "offline"]), Vec::<String>::new());
    let typo = env.run(["agent", "list", "--status", "onlin"]);
    typo.expect_code(2);
    assert!(
        typo.stderr.contains("did you mean \"online\""),
        "{}",
        typo.stderr
    );
    let t = env.run([
        "agent",
        "list",
        "-l",
        "os=mac",
        "-o",
        "template={{ name }} {{ labels.os }}",
    ]);
    assert_eq!(t.stdout, "mac mac\n");
}

crate::both_modes!(
    lists_filter_select_fields_and_show_unique_ids,
    agents_are_selected_by_label_and_state
);
