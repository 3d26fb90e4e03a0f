//! `imx dashboard` end to end, in a real terminal: tmux runs the binary, `send-keys` types and
//! `capture-pane` reads the screen. A run started from another process appears without a key
//! being pressed, and a confirmed cancel cancels it (through the control plane, so it is audited).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::env::TestEnv;

/// A tmux server of our own (its own socket), killed on drop.
pub(crate) struct Tmux {
    pub(crate) socket: String,
}

impl Tmux {
    /// A tmux server on a socket of its own (`imx-test-NAME-PID`) running `shell` in a
    /// 100×30 session named `dash`.
    pub(crate) fn start(name: &str, shell: &str) -> Tmux {
        let tmux = Tmux {
            socket: format!("imx-test-{name}-{}", std::process::id()),
        };
        let started = tmux.cmd(&[
            "new-session",
            "-d",
            "-s",
            "dash",
            "-x",
            "100",
            "-y",
            "30",
            shell,
        ]);
        assert!(
            started.status.success(),
            "{}",
            String::from_utf8_lossy(&started.stderr)
        );
        tmux
    }

    pub(crate) fn cmd(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("run tmux")
    }

    pub(crate) fn screen(&self) -> String {
        String::from_utf8_lossy(&self.cmd(&["capture-pane", "-p", "-t", "dash"]).stdout)
            .into_owned()
    }

    pub(crate) fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "dash"];
        args.extend_from_slice(keys);
        assert!(self.cmd(&args).status.success());
    }

    /// Wait until the screen satisfies `cond`; fail with the screen if it does not in time.
    pub(crate) fn wait_for(&self, what: &str, cond: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let s = self.screen();
            if cond(&s) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]);
    }
}

pub(crate) fn have_tmux() -> bool {
    Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn a_run_appears_live_and_a_confirmed_cancel_cancels_it() {
    if !have_tmux() {
        eprintln!("skipped: tmux missing");
        return;
    }
    let env = TestEnv::new();
    env.write(
        "slow.yaml",
        "name: slow\nsteps:\n  - id: wait\n    run: sleep 60\n",
    );
    env.run(["workflow", "apply", "-f", "slow.yaml"])
        .expect_code(0);

    let bin = assert_cmd::cargo::cargo_bin!("imx");
    let home = env.home();
    let shell = format!(
        "env -i PATH=/usr/bin:/bin HOME={h} TERM=xterm-256color NO_COLOR=1 LANG=C.UTF-8 \
         IMX_STORE={s} {b} dashboard --view runs",
        h = home.display(),
        s = env.store().display(),
        b = bin.display(),
    );
    let tmux = Tmux::start("dash", &shell);
    tmux.wait_for("the empty runs view", |s| s.contains("No runs match."));

    // Another process starts a run; the dashboard shows it without a key being pressed.
    let out = env.run(["-o", "name", "workflow", "run", "slow"]);
    out.expect_code(0);
    let id = out.stdout.trim().to_string();
    let short = &id[..12];
    tmux.wait_for("the new run", |s| s.contains(short) && s.contains("queued"));

    tmux.keys(&["c"]);
    tmux.wait_for("the confirmation", |s| {
        s.contains(&format!("Cancel run {short}?"))
    });
    tmux.keys(&["y"]);
    tmux.wait_for("the cancelled run", |s| {
        s.contains(&format!("Cancelled run {short}.")) && s.contains("cancelled")
    });

    let show = env.run(["-o", "json", "run", "show", &id]);
    show.expect_code(0);
    let v: serde_json::Value = serde_json::from_str(&show.stdout).unwrap();
    assert_eq!(v["status"], "cancelled", "{}", show.stdout);
    let db = rusqlite::Connection::open(env.store()).unwrap();
    let audited: i64 = db
        .query_row(
            "SELECT count(*) FROM audit WHERE action = 'run.cancel' AND target = ?1 AND outcome = 'ok'",
            [&id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(audited, 1, "the cancel went through the control plane");

    // R reverses the sort (by age: the control plane lists the oldest first); y copies the
    // full id and says so; enter on a workflow lists its runs.
    tmux.keys(&["R"]);
    // The row itself (the footer may still say the cancelled run's id).
    tmux.wait_for("the reversed sort", |s| {
        s.contains("AGE▼") && s.contains(&format!("{short} slow"))
    });
    tmux.keys(&["y"]);
    tmux.wait_for("the copied id", |s| s.contains(&format!("copied {id}")));
    tmux.keys(&["4"]);
    tmux.wait_for("the workflows", |s| {
        s.contains("slow") && s.contains("NAME▲")
    });
    tmux.keys(&["Enter"]);
    tmux.wait_for("the workflow's runs", |s| {
        s.contains("/wf:slow") && s.contains(short)
    });

    // q quits and the process ends (tmux closes the session).
    tmux.keys(&["q"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while tmux.cmd(&["has-session", "-t", "dash"]).status.success() {
        assert!(
            Instant::now() < deadline,
            "the dashboard did not quit:\n{}",
            tmux.screen()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn without_a_terminal_it_says_so() {
    let env = TestEnv::new();
    let out = env.run(["dashboard"]);
    out.expect_code(2);
    assert!(out.stderr.contains("needs a terminal"), "{}", out.stderr);
}

#[test]
fn ctx_switches_the_dashboard_to_another_store_live() {
    if !have_tmux() {
        eprintln!("skipped: tmux missing");
        return;
    }
    // Two stores, a workflow in each, a context for each; the dashboard starts on "alpha".
    let env = TestEnv::new();
    let a = env.store();
    let b = env.home().join("other").join("imx.db");
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    env.run(["--store", b, "init", "-q"]).expect_code(0);
    for (store, wf) in [(a, "first-wf"), (b, "second-wf")] {
        env.write(
            &format!("{wf}.yaml"),
            &format!("name: {wf}\nsteps:\n  - id: s\n    run: 'true'\n"),
        );
        env.run([
            "--store",
            store,
            "workflow",
            "apply",
            "-f",
            &format!("{wf}.yaml"),
        ])
        .expect_code(0);
    }
    env.run(["--store", a, "context", "add", "alpha", "--use"])
        .expect_code(0);
    env.run(["--store", b, "context", "add", "bravo"])
        .expect_code(0);

    let bin = assert_cmd::cargo::cargo_bin!("imx");
    let home = env.home();
    let shell = format!(
        "env -i PATH=/usr/bin:/bin HOME={h} XDG_CONFIG_HOME={h}/.config TERM=xterm-256color \
         NO_COLOR=1 LANG=C.UTF-8 {b} dashboard --view workflows",
        h = home.display(),
        b = bin.display(),
    );
    let tmux = Tmux::start("ctx", &shell);
    tmux.wait_for("the first context's workflow", |s| {
        s.contains("imx · alpha (local") && s.contains("first-wf")
    });

    // Tab completes the context's name; enter switches.
    tmux.keys(&[":", "ctx br", "Tab"]);
    tmux.wait_for("the completed name", |s| s.contains(":ctx bravo"));
    tmux.keys(&["Enter"]);
    let s = tmux.wait_for("the second context's workflow", |s| {
        s.contains("imx · bravo (local") && s.contains("second-wf")
    });
    assert!(
        !s.contains("first-wf"),
        "nothing of the first store is left:\n{s}"
    );
    assert!(s.contains("Switched to context bravo"), "{s}");

    // A context that cannot be reached keeps the current one and says why.
    tmux.keys(&[":", "ctx alhpa", "Enter"]);
    let s = tmux.wait_for("the refusal", |s| s.contains("Cannot switch to alhpa"));
    assert!(
        s.contains("did you mean \"alpha\"") && s.contains("Still on context bravo."),
        "{s}"
    );
    assert!(
        s.contains("imx · bravo (local") && s.contains("second-wf"),
        "{s}"
    );

    // d describes the selected workflow; Y shows it as YAML; esc closes.
    tmux.keys(&["d"]);
    tmux.wait_for("the description", |s| {
        s.contains("Workflow second-wf") && s.contains("versions[0]")
    });
    tmux.keys(&["Y"]);
    tmux.wait_for("the YAML", |s| s.contains("name: second-wf"));
    tmux.keys(&["Escape"]);
    tmux.wait_for("the table again", |s| !s.contains("name: second-wf"));

    // And back.
    tmux.keys(&[":", "ctx alpha", "Enter"]);
    tmux.wait_for("the first context again", |s| {
        s.contains("imx · alpha (local") && s.contains("first-wf")
    });
    tmux.keys(&["q"]);
}
