//! The server's paths are not shown to non-admins (issue 9): the store's path, the folder beside
//! it, the backup folder and the audit checkpoint log do not appear in what a viewer or an
//! operator reads through a real server — audit records (list, show, tail), the audit report,
//! `audit verify`, and backup manifests (list, show, verify). Admins still see them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use nix::sys::signal::Signal;

use crate::env::TestEnv;
use crate::server::{remote, serve};

#[test]
fn viewers_and_operators_see_no_server_path_in_audit_records_reports_or_backups() {
    let env = TestEnv::new().with_var("IMX_KEYRING", "off");
    let init = env.run(["init", "--admin", "admin"]);
    init.expect_code(0);
    let admin = init.stdout.trim().to_string();
    // Records whose details name paths: a local backup, a checkpoint (its log), a backup
    // through the server.
    env.run(["backup", "create"]).expect_code(0);
    env.run(["audit", "checkpoint"]).expect_code(0);
    let (mut server, url) = serve(&env, &[]);
    let created = remote(&env, &url, &admin, &["backup", "create", "-o", "name"]);
    created.expect_code(0);
    let backup = created.stdout.trim().to_string();
    let token = |name: &str, role: &str| {
        let out = remote(
            &env,
            &url,
            &admin,
            &["token", "create", "--name", name, "--role", role, "-q"],
        );
        out.expect_code(0);
        out.stdout.trim().to_string()
    };
    let viewer = token("v", "viewer");
    let operator = token("o", "operator");

    let home = env.home().display().to_string();
    let store = env.store().display().to_string();
    assert!(store.starts_with(&home), "{store} is under {home}");
    let checkpoint_seq = {
        let out = remote(
            &env,
            &url,
            &admin,
            &[
                "audit",
                "list",
                "--action",
                "audit.checkpoint",
                "-o",
                "json",
            ],
        );
        out.expect_code(0);
        assert!(
            out.stdout.contains(&home),
            "an admin sees the paths: {}",
            out.stdout
        );
        let records: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        records[0]["seq"].to_string()
    };

    let audit: Vec<Vec<&str>> = vec![
        vec!["audit", "list", "-o", "json"],
        vec!["audit", "show", &checkpoint_seq, "-o", "json"],
        vec!["audit", "tail", "-n", "500", "-o", "json"],
        vec!["audit", "report", "--format", "json"],
        vec!["audit", "verify", "-o", "json"],
    ];
    let backups: Vec<Vec<&str>> = vec![
        vec!["backup", "list", "-o", "json"],
        vec!["backup", "show", &backup, "-o", "json"],
        vec!["backup", "verify", &backup, "-o", "json"],
    ];
    let mut leaks = Vec::new();
    for (who, token, commands) in [
        ("viewer", &viewer, audit.iter().collect::<Vec<_>>()),
        (
            "operator",
            &operator,
            audit.iter().chain(&backups).collect::<Vec<_>>(),
        ),
    ] {
        for args in commands {
            let out = remote(&env, &url, token, args);
            out.expect_code(0);
            if out.stdout.contains(&home) || out.stderr.contains(&home) {
                leaks.push(format!(
                    "{who}: imx {}:\n{}{}",
                    args.join(" "),
                    out.stdout,
                    out.stderr
                ));
            }
        }
    }
    assert!(leaks.is_empty(), "paths shown:\n{}", leaks.join("\n"));

    // The checkpoint record still says which log, by its file name.
    let shown = remote(
        &env,
        &url,
        &viewer,
        &["audit", "show", &checkpoint_seq, "-o", "json"],
    );
    let shown: serde_json::Value = serde_json::from_str(&shown.stdout).unwrap();
    assert_eq!(
        shown["details"]["log"], "audit-checkpoints.jsonl",
        "{shown:#}"
    );
    server.signal(Signal::SIGTERM);
    assert!(server.wait_exit(Duration::from_secs(20)).success());
}
