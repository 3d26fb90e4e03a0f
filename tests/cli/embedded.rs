//! Embedded agents (`imx server --agents N`) cannot reach the store: as root the server refuses
//! them without `--agents-user`; their steps run as that user, in a private directory, with no
//! store path in their environment, working directory or open files. And `--pass-env` never
//! passes an `IMX_*` variable.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::env::TestEnv;
use crate::server::{remote, serve};

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

#[test]
fn imx_variables_cannot_be_passed_to_steps() {
    let env = TestEnv::new();
    for name in ["IMX_TOKEN", "IMX_PASSWORD", "imx_store"] {
        let out = env.run(["agent", "run", "--pass-env", name]);
        out.expect_error(2).expect_stderr(&[name, "IMX_*"]);
    }
    let out = env.run(["agent", "run", "--pass-env", "HTTPS_PROXY,IMX_TOKEN"]);
    out.expect_error(2).expect_stderr(&["IMX_TOKEN"]);
    let out = env.run(["server", "--agents", "1", "--agents-pass-env", "IMX_TOKEN"]);
    out.expect_error(2).expect_stderr(&["IMX_TOKEN"]);
}

#[test]
fn root_needs_agents_user_for_embedded_agents() {
    if !is_root() {
        eprintln!("skipped: only a server running as root refuses embedded agents");
        return;
    }
    let env = TestEnv::new();
    env.run(["init", "--admin", "admin"]).expect_code(0);
    let out = env.run(["server", "--listen", "127.0.0.1:0", "--agents", "1"]);
    out.expect_error(2)
        .expect_stderr(&["--agents-user", "root"]);
    // Without embedded agents, root may serve.
    let out = env.run([
        "server",
        "--agents",
        "0",
        "--agents-user",
        "no-such-user-here",
    ]);
    out.expect_error(2).expect_stderr(&["no such user"]);
}

const PROBE: &str = r#"
name: probe
steps:
  - id: look
    run: |
      echo "ids=$(id -u) $(id -g) [$(id -G)]"
      echo "cwd=$(pwd)"
      for f in /proc/$$/fd/*; do echo "fd=$(readlink "$f")"; done
      if cat STORE_PATH > /dev/null 2>&1; then echo "store=readable"; else echo "store=unreadable"; fi
      touch made-here && echo "workdir=writable"
      echo "k=v" >> "$IMX_OUTPUT"
      env | sed 's/^/env:/'
"#;

/// A step of an embedded agent sees no trace of the store: not in its environment, working
/// directory or open files; as root it runs as `nobody` and cannot read the store, yet its
/// working directory and `$IMX_OUTPUT` work.
#[test]
fn embedded_agents_steps_cannot_reach_the_store() {
    let env = TestEnv::new().with_var("IMX_KEYRING", "off");
    let admin = env.run(["init", "--admin", "admin"]);
    admin.expect_code(0);
    let admin = admin.stdout.trim().to_string();
    let store = env.store();
    // Private, as a store should be (the temp HOME itself is world-readable), so that only
    // the user a step runs as decides whether it can read the store.
    let private = |p: &std::path::Path, mode| {
        std::fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(mode)).unwrap();
    };
    private(&store, 0o600);
    private(store.parent().unwrap(), 0o700);
    let mut extra = vec!["--agents", "1"];
    if is_root() {
        extra.extend(["--agents-user", "nobody"]);
    } else {
        eprintln!("not root: the step runs as this user (the uid checks are skipped)");
    }
    let (_server, url) = serve(&env, &extra);
    let store_dir = store.parent().unwrap().to_str().unwrap().to_string();
    let wf = env.write(
        "probe.yaml",
        &PROBE.replace("STORE_PATH", store.to_str().unwrap()),
    );
    remote(
        &env,
        &url,
        &admin,
        &["workflow", "apply", "-f", wf.to_str().unwrap()],
    )
    .expect_code(0);
    let run = remote(
        &env,
        &url,
        &admin,
        &["workflow", "run", "probe", "--wait", "-o", "json"],
    );
    run.expect_code(0);
    let shown: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let step = TestEnv::step(&shown, "look");
    assert_eq!(step["outputs"]["k"], "v", "{shown:#}");
    let id = shown["id"].as_str().unwrap();
    let logs = remote(&env, &url, &admin, &["run", "logs", id]).stdout;
    let lines: Vec<&str> = logs.lines().collect();
    let value = |key: &str| -> Vec<&str> {
        lines
            .iter()
            .filter_map(|l| l.strip_prefix(key))
            .collect::<Vec<_>>()
    };
    assert_eq!(value("workdir="), ["writable"], "{logs}");

    // No trace of the store (or of the server's directories) in env, cwd or open files.
    let home = env.home().to_str().unwrap().to_string();
    let cwd = value("cwd=");
    assert_eq!(cwd.len(), 1, "{logs}");
    assert!(
        !cwd[0].starts_with(&home),
        "the step ran in {}: {logs}",
        cwd[0]
    );
    for line in value("env:").iter().chain(value("fd=").iter()) {
        assert!(
            !line.contains(&store_dir) && !line.contains(&home),
            "the step sees {line:?}:\n{logs}"
        );
    }
    assert!(!value("fd=").is_empty(), "{logs}");
    assert!(
        !value("env:").iter().any(|l| l.starts_with("IMX_STORE")),
        "{logs}"
    );

    if is_root() {
        let nobody = nix::unistd::User::from_name("nobody").unwrap().unwrap();
        let (uid, gid) = (nobody.uid.as_raw(), nobody.gid.as_raw());
        assert_eq!(value("ids="), [format!("{uid} {gid} [{gid}]")], "{logs}");
        assert_eq!(value("store="), ["unreadable"], "{logs}");
    }
}
