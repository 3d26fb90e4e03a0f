//! Backups and audit through `imx server` (issue 5, remote side): create, list, show, verify and
//! download by id; paths and local-only operations are refused; the audit chain verifies and
//! reports remotely; `--backup-every` takes scheduled backups into `--backup-dir`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use nix::sys::signal::Signal;

use crate::env::{TestEnv, wait_until};
use crate::server::{remote, serve};

fn admin(env: &TestEnv) -> String {
    let init = env.run(["init", "--admin", "alice"]);
    init.expect_code(0);
    init.stdout.trim().to_string()
}

#[test]
fn backups_are_created_listed_verified_and_downloaded_through_a_server() {
    let env = TestEnv::new().with_var("IMX_KEYRING", "off");
    let token = admin(&env);
    let dir = env.home().join("server-backups");
    let (mut server, url) = serve(&env, &["--backup-dir", dir.to_str().unwrap()]);

    let created = remote(
        &env,
        &url,
        &token,
        &["backup", "create", "--note", "remote", "-o", "name"],
    );
    created.expect_code(0);
    let id = created.stdout.trim().to_string();
    assert_eq!(id.len(), 26, "a ULID: {}", created.stdout);
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(files.len(), 1, "the backup is in the server's --backup-dir");

    let list = remote(&env, &url, &token, &["backup", "list", "-o", "json"]);
    list.expect_code(0);
    let list: serde_json::Value = serde_json::from_str(&list.stdout).unwrap();
    assert_eq!(list[0]["manifest"]["id"], id.as_str(), "{list}");
    assert_eq!(list[0]["manifest"]["note"], "remote");

    let verify = remote(&env, &url, &token, &["backup", "verify", &id[..10]]);
    verify.expect_code(0);
    assert!(verify.stderr.contains("verifies"), "{}", verify.stderr);

    // Paths are the server's business.
    remote(&env, &url, &token, &["backup", "verify", "/etc/passwd"])
        .expect_code(2)
        .expect_stderr(&["not a backup id"]);
    remote(&env, &url, &token, &["backup", "create", "--out", "/tmp/x"])
        .expect_code(2)
        .expect_stderr(&["--out"]);
    remote(&env, &url, &token, &["backup", "restore", &id, "--force"])
        .expect_code(2)
        .expect_stderr(&["not available through a server"]);

    let out = env.home().join("copy.imxb");
    let dl = remote(
        &env,
        &url,
        &token,
        &[
            "backup",
            "download",
            &id[..10],
            "--out",
            out.to_str().unwrap(),
        ],
    );
    dl.expect_code(0);
    assert_eq!(dl.stdout.trim(), out.to_str().unwrap());
    let original = std::fs::read(dir.join(format!("imx-backup-{id}.imxb"))).unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), original, "byte for byte");
    // The downloaded file verifies locally too.
    env.run(["backup", "verify", out.to_str().unwrap()])
        .expect_code(0);
    // An existing file is not overwritten.
    remote(
        &env,
        &url,
        &token,
        &["backup", "download", &id, "--out", out.to_str().unwrap()],
    )
    .expect_code(2)
    .expect_stderr(&["already exists"]);

    // Audit through the server: the chain verifies and the report shows the backups.
    let verify = remote(&env, &url, &token, &["audit", "verify"]);
    verify.expect_code(0);
    assert!(
        verify.stderr.contains("Audit chain OK"),
        "{}",
        verify.stderr
    );
    let report = remote(&env, &url, &token, &["audit", "report", "--format", "json"]);
    report.expect_code(0);
    let report: serde_json::Value = serde_json::from_str(&report.stdout).unwrap();
    assert_eq!(report["verification"]["ok"], true, "{report}");
    let listed = remote(
        &env,
        &url,
        &token,
        &["audit", "list", "--action", "backup.*", "-o", "json"],
    );
    listed.expect_code(0);
    assert!(listed.stdout.contains("backup.verify"), "{}", listed.stdout);

    // The download is audited as its own action (once: the refused second one never asked for
    // the file): who, from where, which backup and what it was; the report's backup history
    // lists it.
    let downloads = remote(
        &env,
        &url,
        &token,
        &["audit", "list", "--action", "backup.download", "-o", "json"],
    );
    downloads.expect_code(0);
    let downloads: Vec<serde_json::Value> = serde_json::from_str(&downloads.stdout).unwrap();
    assert_eq!(downloads.len(), 1, "{downloads:?}");
    let d = &downloads[0];
    assert_eq!(
        (&d["actor"], &d["target"], &d["outcome"]),
        (&"user:alice".into(), &id.as_str().into(), &"ok".into()),
        "{d}"
    );
    assert_eq!(d["source"], "127.0.0.1", "{d}");
    assert_eq!(d["details"]["size"], original.len(), "{d}");
    assert_eq!(
        list[0]["manifest"]["payload_sha256"],
        d["details"]["sha256"]
    );
    let history = report["backups"]["recent"].as_array().unwrap();
    assert!(
        history
            .iter()
            .any(|e| e["action"] == "backup.download" && e["target"] == id.as_str()),
        "{history:?}"
    );

    server.signal(Signal::SIGTERM);
    assert!(server.wait_exit(Duration::from_secs(20)).success());
}

#[test]
fn a_viewer_cannot_create_or_download_backups_remotely() {
    let env = TestEnv::new().with_var("IMX_KEYRING", "off");
    let token = admin(&env);
    let (mut server, url) = serve(&env, &[]);
    let id = remote(&env, &url, &token, &["backup", "create", "-o", "name"]);
    id.expect_code(0);
    let viewer = remote(
        &env,
        &url,
        &token,
        &["token", "create", "--name", "v", "--role", "viewer"],
    );
    viewer.expect_code(0);
    let viewer = viewer.stdout.trim().to_string();
    remote(&env, &url, &viewer, &["backup", "create"]).expect_code(4);
    let out = env.home().join("stolen.imxb");
    remote(
        &env,
        &url,
        &viewer,
        &[
            "backup",
            "download",
            id.stdout.trim(),
            "--out",
            out.to_str().unwrap(),
        ],
    )
    .expect_code(4);
    assert!(!out.exists());
    assert!(!env.home().join("stolen.imxb.part").exists());
    server.signal(Signal::SIGTERM);
    assert!(server.wait_exit(Duration::from_secs(20)).success());
}

#[test]
fn the_server_takes_scheduled_backups_and_prunes_them() {
    let env = TestEnv::new().with_var("IMX_KEYRING", "off");
    admin(&env);
    let dir = env.home().join("scheduled");
    let (mut server, _url) = serve(
        &env,
        &[
            "--backup-every",
            "1s",
            "--backup-dir",
            dir.to_str().unwrap(),
            "--keep-last",
            "2",
        ],
    );
    let count = || {
        std::fs::read_dir(&dir)
            .map(|d| {
                d.flatten()
                    .filter(|e| e.path().extension().is_some_and(|x| x == "imxb"))
                    .count()
            })
            .unwrap_or(0)
    };
    wait_until("a scheduled backup", Duration::from_secs(20), || {
        count() >= 1
    });
    // Several intervals later retention has kept the newest two.
    let started = std::time::Instant::now();
    wait_until(
        "a third scheduled backup to be pruned",
        Duration::from_secs(30),
        || started.elapsed() > Duration::from_secs(3) && count() == 2,
    );
    server.signal(Signal::SIGTERM);
    assert!(server.wait_exit(Duration::from_secs(20)).success());
    let audit = env.run(["audit", "list", "--action", "backup.*", "-o", "json"]);
    audit.expect_code(0);
    assert!(audit.stdout.contains("server:backup"), "{}", audit.stdout);
    assert!(audit.stdout.contains("backup.prune"), "{}", audit.stdout);
}

/// `imx backup location` through a server: admins read, set and unset the store's backup
/// location over the API (audited as store.configure); the folder must be given whole, as it
/// is the server's; a viewer sees where backups go only as `(hidden)` and may not set it.
#[test]
fn the_backup_location_is_shown_set_and_unset_through_a_server() {
    let env = TestEnv::new().with_var("IMX_KEYRING", "off");
    let token = admin(&env);
    env.run(["user", "create", "vera", "--role", "viewer"])
        .expect_code(0);
    let viewer = env.run(["token", "create", "--user", "vera", "-q"]);
    viewer.expect_code(0);
    let viewer = viewer.stdout.trim().to_string();
    let server_dir = env.home().join("server-backups");
    let (mut server, url) = serve(&env, &["--backup-dir", server_dir.to_str().unwrap()]);
    let show = |token: &str| -> serde_json::Value {
        let out = remote(&env, &url, token, &["backup", "location", "-o", "json"]);
        out.expect_code(0);
        serde_json::from_str(&out.stdout).unwrap()
    };

    let shown = show(&token);
    assert_eq!(shown["setting"], serde_json::Value::Null, "{shown}");
    assert_eq!(shown["effective"], server_dir.to_str().unwrap(), "{shown}");
    assert_eq!(shown["source"], "server", "{shown}");

    let shared = env.home().join("shared-backups");
    remote(
        &env,
        &url,
        &token,
        &["backup", "location", shared.to_str().unwrap()],
    )
    .expect_code(0)
    .expect_stderr(&["Set the store's backup location"]);
    let shown = show(&token);
    assert_eq!(shown["setting"], shared.to_str().unwrap(), "{shown}");
    assert_eq!(shown["effective"], shared.to_str().unwrap(), "{shown}");
    // The store holds it: the local side sees the same setting.
    let local = env.json(["backup", "location"]);
    assert_eq!(local["setting"], shared.to_str().unwrap(), "{local}");

    // A relative folder is not made absolute on the client's side.
    remote(&env, &url, &token, &["backup", "location", "relative/dir"])
        .expect_code(2)
        .expect_stderr(&["absolute"]);
    // A viewer reads that there is one, not where; and may not change it.
    let hidden = show(&viewer);
    assert_eq!(hidden["setting"], "(hidden)", "{hidden}");
    assert_eq!(hidden["effective"], "(hidden)", "{hidden}");
    remote(&env, &url, &viewer, &["backup", "location", "--unset"]).expect_code(4);

    remote(&env, &url, &token, &["backup", "location", "--unset"])
        .expect_code(0)
        .expect_stderr(&["Unset"]);
    let shown = show(&token);
    assert_eq!(shown["setting"], serde_json::Value::Null, "{shown}");
    let records = env.json(["audit", "list", "--action", "store.configure"]);
    let set: Vec<&serde_json::Value> = records
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["outcome"] == "ok")
        .map(|r| &r["details"]["backup_location"])
        .collect();
    assert_eq!(
        set,
        [&shared.to_str().unwrap().into(), &serde_json::Value::Null],
        "{records}"
    );
    server.signal(Signal::SIGTERM);
    server.wait_exit(Duration::from_secs(20));
}
