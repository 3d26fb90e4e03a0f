//! Every example in every `--help` runs, as written, and succeeds — so an example that stops
//! working (a renamed flag, a changed behaviour) or a new example that never worked fails here.
//!
//! - The examples are read from the real `imx --help` and `imx <command> --help` of every
//!   command: each line of an `Examples:` section is one shell command (`# comments` allowed).
//! - A template HOME is prepared once ([`Template`]): a store with an admin, users alice and bob,
//!   the workflows of `examples/` and a few more, runs that succeeded, failed and wait, offline
//!   agents build-01 and build-02, tokens, two backups and a key, an audit archive;
//!   certificates; and stubs for the tools examples pipe into (`pass`, `my-siem-forwarder`).
//! - Each help page runs in its own copy of that HOME (its examples in order, each in `sh -c`),
//!   with contexts `laptop` (current), `prod` and `old-prod`, an agent when an example waits for
//!   a run, and an `imx server` (context `prod`, logged in as admin) when an example names a URL.
//! - Placeholders are mapped in one place ([`Page::substitute`]): run, token and backup ids to
//!   real ones, absolute paths under /srv /var /mnt /etc /tmp into HOME, every URL to the page's
//!   server, `--listen` ports to 0 (a free port), `imx_...` to an agent token. [`SETUP`] gives the
//!   few pages that create what the template has the state they expect.
//! - Long-running examples (agents, servers, `audit tail -f`) pass once they are up and have
//!   printed no error; then they are stopped.
//! - The few examples that cannot run here are in [`NOT_RUN`], each with the reason.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use serde_json::Value;

use crate::env::{SLOW, wait_until};

/// Examples that are not run, exactly as `--help` prints them, and why.
const NOT_RUN: &[(&str, &str)] = &[
    (
        "imx store copy --from ~/.local/share/imx/imx.db --to postgres://imx@db.example/imx",
        "needs the PostgreSQL database it names; tests/cli/store_copy.rs copies to and from a test database",
    ),
    (
        "imx store copy --from postgres://imx@db.example/imx --to /srv/imx/imx.db --force",
        "needs the PostgreSQL database it names; tests/cli/store_copy.rs copies to and from a test database",
    ),
    (
        "IMX_DATABASE_URL=postgres://imx@db.example/imx imx server --listen 0.0.0.0:7443 --insecure-listen",
        "needs the PostgreSQL database it names; tests/cli/cluster.rs runs imx server --database on a test database",
    ),
    (
        "imx init --database postgres://imx@db.example/imx --admin alice   # a cluster's database",
        "needs the PostgreSQL database it names; tests/cli/cluster.rs runs imx init --database on a test database",
    ),
    (
        "imx workflow delete deploy",
        "asks for confirmation on a terminal; the --yes form beside it is run",
    ),
    (
        "imx agent remove build-01",
        "asks for confirmation on a terminal; the --yes form beside it is run",
    ),
    (
        "imx user delete bob",
        "asks for confirmation on a terminal; the --yes form beside it is run",
    ),
    (
        "imx user passwd alice",
        "prompts for the password on a terminal; the --password-stdin form beside it is run",
    ),
    (
        "imx login --server https://imx.example.com:8443 --user alice",
        "prompts for the password on a terminal; the --password-stdin form beside it is run",
    ),
    (
        "imx context use prod && imx login --no-insecure-storage",
        "prompts for the password on a terminal and needs the OS keyring",
    ),
    (
        "imx dashboard",
        "needs a terminal (tests/cli/dashboard.rs drives the dashboard in tmux)",
    ),
    (
        "imx dashboard --view runs",
        "needs a terminal (tests/cli/dashboard.rs drives the dashboard in tmux)",
    ),
    (
        "NO_COLOR=1 imx dashboard",
        "needs a terminal (tests/cli/dashboard.rs drives the dashboard in tmux)",
    ),
    (
        "imx backup create --encrypt --keyring                # the key kept by backup keygen --keyring",
        "needs the OS keyring (Secret Service), which the test machine does not run",
    ),
    (
        "imx backup keygen --keyring                  # the OS keyring entry \"default\"",
        "needs the OS keyring (Secret Service), which the test machine does not run",
    ),
    (
        "imx backup create --encrypt --keyring",
        "needs the OS keyring (Secret Service), which the test machine does not run",
    ),
    (
        "imx backup keygen --keyring nightly --out /mnt/safe/nightly.key",
        "needs the OS keyring (Secret Service), which the test machine does not run",
    ),
];

/// Shell run before a page's examples, for pages whose examples create what the template has.
const SETUP: &[(&str, &str)] = &[
    (
        "user create",
        "imx user delete alice --yes -q && imx user delete bob --yes -q",
    ),
    (
        "token revoke",
        "imx token create --name ci --role operator -q >/dev/null",
    ),
    ("backup keygen", "rm ~/.config/imx/backup.key"),
    ("secret set", "printf 'db-example-pw' > db-password"),
    (
        "secret rotate",
        "printf 'db-example-pw' > db-password && pass show x | imx secret set DEPLOY_TOKEN -q && imx secret set DB_PASSWORD -w nightly-etl --from-file db-password -q",
    ),
    (
        "secret delete",
        "pass show x | imx secret set DEPLOY_TOKEN -q && pass show x | imx secret set DB_PASSWORD -w nightly-etl -q",
    ),
    ("notify", REMOVE_CHANNELS),
    ("notify channel add", REMOVE_CHANNELS),
    ("trigger", "imx trigger delete release-hook -q"),
    ("trigger create", "imx trigger delete release-hook -q"),
];

/// The template's notification rule and channels, for pages whose examples add them again.
const REMOVE_CHANNELS: &str = "imx notify rule remove 01JB9R -q && imx notify channel remove ops -q && imx notify channel remove chat -q";

const ADMIN_PW: &str = "admin-example-pw";
const USER_PW: &str = "alice-example-pw";

/// One command's help page and its examples.
struct Page {
    /// The command path: `[]` for `imx`, `["run", "list"]` for `imx run list`.
    path: Vec<String>,
    examples: Vec<String>,
    /// The whole help text.
    text: String,
}

impl Page {
    fn name(&self) -> String {
        self.path.join(" ")
    }

    fn needs_server(&self) -> bool {
        self.examples.iter().any(|e| e.contains("://"))
    }

    /// An example starts a run and waits for it: the page gets an agent.
    fn needs_worker(&self) -> bool {
        self.examples.iter().any(|e| {
            (e.contains("workflow run") || e.contains("run rerun"))
                && (e.contains("--wait") || e.contains("run watch"))
        })
    }
}

/// The template HOME and the ids of what it holds.
struct Template {
    dir: tempfile::TempDir,
    /// A build-test-deploy run that succeeded (with a `build` step and logs).
    succeeded: String,
    /// Two runs of `release` that failed at `test`.
    failed: Vec<String>,
    /// A run of `parked` that no agent can take.
    queued: String,
    /// A run of `ship` (examples/workflows/) waiting at its approval step `approve`.
    waiting: String,
    /// The id of the token `old-ci`.
    token: String,
    agent_token: String,
    /// The id of the notification rule (on failed, to channel `chat`).
    rule: String,
    /// A backup in backups/, and an encrypted one (with ~/.config/imx/backup.key) in
    /// /mnt/backups/ and the current folder.
    plain_backup: String,
    encrypted_backup: String,
}

fn bin() -> PathBuf {
    PathBuf::from(assert_cmd::cargo::cargo_bin!("imx"))
}

/// A command in the environment of `home` (its own HOME, no IMX_STORE: the store is the
/// default one under HOME), with `imx` and the stubs on PATH.
fn command(home: &Path, stubs: &Path, program: &str) -> Command {
    let mut cmd = Command::new(program);
    let imx_dir = bin().parent().map(Path::to_path_buf).unwrap_or_default();
    let path = format!(
        "{}:{}:{}",
        imx_dir.display(),
        stubs.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    cmd.env_clear()
        .current_dir(home)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("PATH", path)
        .env("COLUMNS", "100")
        .env("NO_COLOR", "1")
        .env("TZ", "UTC")
        .env("LANG", "C.UTF-8")
        .env("IMX_KEYRING", "off")
        .env("PW", USER_PW)
        .env("NEW_PASSWORD", USER_PW)
        .env("OLD", USER_PW)
        .env("NEW", USER_PW)
        .env("PASS", "a backup passphrase")
        .stdin(Stdio::null());
    cmd
}

/// Run `script` with `sh -c` in `home`; panic unless it succeeds; its stdout.
#[track_caller]
fn sh(home: &Path, stubs: &Path, script: &str) -> String {
    let out = command(home, stubs, "sh")
        .args(["-c", script])
        .output()
        .unwrap_or_else(|e| panic!("cannot run sh: {e}"));
    assert!(
        out.status.success(),
        "setup `{script}` failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A background process in its own process group, output captured to files; the whole group
/// is killed on drop.
struct Group {
    child: Child,
    out: PathBuf,
    err: PathBuf,
}

impl Group {
    fn spawn(mut cmd: Command, out: PathBuf, err: PathBuf) -> Group {
        let file = |p: &Path| std::fs::File::create(p).unwrap_or_else(|e| panic!("{p:?}: {e}"));
        let child = cmd
            .stdout(file(&out))
            .stderr(file(&err))
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        Group { child, out, err }
    }

    fn stdout(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.err).unwrap_or_default()
    }

    fn pgid(&self) -> Pid {
        Pid::from_raw(i32::try_from(self.child.id()).unwrap_or(i32::MAX))
    }

    /// Wait up to `timeout` for the group leader to exit.
    fn wait(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM the group (agents drain, servers stop), then SIGKILL whatever is left.
    fn stop(&mut self) {
        let _ = killpg(self.pgid(), Signal::SIGTERM);
        let _ = self.wait(Duration::from_secs(10));
        let _ = killpg(self.pgid(), Signal::SIGKILL);
        let _ = self.child.wait();
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        let _ = killpg(self.pgid(), Signal::SIGKILL);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `imx ARGS --help`, as a user's terminal of 100 columns shows it.
fn help(path: &[String]) -> String {
    let home = tempfile::tempdir().unwrap();
    let out = command(home.path(), home.path(), bin().to_str().unwrap())
        .args(path)
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success(), "imx {path:?} --help failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The lines of the section that starts with `title` (e.g. `Examples:`), unindented by two.
fn section(help: &str, title: &str) -> Vec<String> {
    let mut lines = help.lines().skip_while(|l| l.trim_end() != title);
    lines.next();
    let mut out: Vec<String> = Vec::new();
    let mut continued = false;
    for l in lines.take_while(|l| l.starts_with("  ")) {
        let l = l[2..].trim_end();
        // A long example goes on the next line after a ` \`, as in a shell.
        let (text, goes_on) = l.strip_suffix(" \\").map_or((l, false), |t| (t, true));
        match out.last_mut() {
            Some(last) if continued => {
                last.push(' ');
                last.push_str(text.trim_start());
            }
            _ => out.push(text.to_string()),
        }
        continued = goes_on;
    }
    out
}

/// Every command's help page, depth first from `imx`.
fn pages() -> Vec<Page> {
    let mut out = Vec::new();
    let mut todo = vec![Vec::<String>::new()];
    while let Some(path) = todo.pop() {
        let text = help(&path);
        for line in section(&text, "Commands:").iter().rev() {
            // A description wrapped onto its own line is indented further.
            if line.starts_with(' ') {
                continue;
            }
            let mut words = line.split_whitespace();
            let Some(name) = words.next() else { continue };
            // clap's own `help` of a command group.
            if line.contains("Print this message") {
                continue;
            }
            let mut sub = path.clone();
            sub.push(name.to_string());
            todo.push(sub);
        }
        out.push(Page {
            path,
            examples: section(&text, "Examples:"),
            text,
        });
    }
    out
}

/// Replace whole-word occurrences of `from` (not inside a longer id or word).
fn replace_word(text: &str, from: &str, to: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(from) {
        let before = if i > 0 {
            rest[..i].chars().last()
        } else {
            out.chars().last()
        };
        let after = rest[i + from.len()..].chars().next();
        let boundary = |c: Option<char>| c.is_none_or(|c| !c.is_ascii_alphanumeric());
        out.push_str(&rest[..i]);
        if boundary(before) && boundary(after) {
            out.push_str(to);
        } else {
            out.push_str(from);
        }
        rest = &rest[i + from.len()..];
    }
    out.push_str(rest);
    out
}

impl Page {
    /// The example as the page's environment runs it: placeholders mapped (see the module doc).
    fn substitute(
        &self,
        t: &Template,
        example: &str,
        home: &Path,
        url: Option<&str>,
        failed: &mut std::slice::Iter<'_, String>,
    ) -> String {
        // Listen on a free port: never a fixed one on a shared machine.
        let words: Vec<String> = example.split(' ').map(str::to_string).collect();
        let mut mapped = Vec::with_capacity(words.len());
        for (i, w) in words.iter().enumerate() {
            if i > 0 && words[i - 1] == "--listen" {
                let host = w.rsplit_once(':').map_or(w.as_str(), |(h, _)| h);
                mapped.push(format!("{host}:0"));
            } else if w.starts_with("http://") || w.starts_with("https://") {
                mapped.push(url.unwrap_or("http://127.0.0.1:9").to_string());
            } else if ["/srv/", "/var/", "/mnt/", "/etc/", "/tmp/"]
                .iter()
                .any(|d| w.starts_with(d))
            {
                mapped.push(format!("{}{w}", home.display()));
            } else {
                mapped.push(w.replace("imx_...", &t.agent_token));
            }
        }
        let mut e = mapped.join(" ");
        e = replace_word(&e, "01J5Z3K8", &t.encrypted_backup);
        e = replace_word(&e, "01J5Z3", &t.plain_backup);
        e = replace_word(&e, "01J", &t.plain_backup);
        e = replace_word(&e, "01HZX3", &t.token);
        e = replace_word(&e, "01JB9R", &t.rule);
        let run = match self.name().as_str() {
            "run cancel" => t.queued.clone(),
            "run approve" | "run reject" => t.waiting.clone(),
            "run retry" => failed.next().cloned().unwrap_or_default(),
            _ => t.succeeded.clone(),
        };
        e = replace_word(&e, "01HZX4", &run);
        replace_word(&e, "01HZX", &run)
    }
}

/// What shows a long-running example is up.
enum Ready {
    Stdout(&'static str),
    Stderr(&'static str),
    File(&'static str),
}

fn long_running(example: &str) -> Option<Ready> {
    if example.contains("agent run") {
        Some(Ready::Stderr(" started on "))
    } else if example.contains("server --listen") {
        Some(Ready::Stdout("://"))
    } else if example.contains("tail -f") {
        Some(Ready::File("siem.out"))
    } else {
        None
    }
}

const WORKFLOWS: &[(&str, &str)] = &[
    (
        "deploy-v1.yaml",
        "name: deploy\ndescription: Build and test\nsteps:\n  - id: build\n    run: echo building\n  - id: test\n    needs: [build]\n    run: echo testing\n",
    ),
    (
        "deploy.yaml",
        "name: deploy\ndescription: Build, test and deploy\nparams:\n  version: { type: string, default: dev }\nsteps:\n  - id: build\n    run: echo building\n  - id: test\n    needs: [build]\n    run: echo testing\n  - id: ship\n    needs: [test]\n    run: echo shipping\n",
    ),
    (
        "release.yaml",
        "name: release\nsteps:\n  - id: build\n    run: echo built\n  - id: test\n    needs: [build]\n    run: echo 'test failed' >&2; exit 1\n",
    ),
    (
        "build.yaml",
        "name: build\nsteps:\n  - id: compile\n    run: echo compiled\n",
    ),
    (
        "page.yaml",
        "name: page\nsteps:\n  - id: page\n    run: echo paging\n",
    ),
    (
        "nightly.yaml",
        "name: nightly\nsteps:\n  - id: etl\n    run: echo loading\n",
    ),
    (
        "parked.yaml",
        "name: parked\nsteps:\n  - id: wait\n    run: echo never\n    agent: { labels: { pool: reserved } }\n",
    ),
];

impl Template {
    fn new() -> Template {
        let dir = tempfile::Builder::new()
            .prefix("imx-examples-")
            .tempdir()
            .unwrap();
        let home = dir.path();
        for sub in [
            "examples/workflows",
            "bin",
            "srv",
            "tmp",
            "mnt/backups",
            "mnt/offsite",
            "mnt/archive",
            "mnt/safe",
            "var/log/imx",
            "var/backups",
            "etc/imx",
            ".config/imx",
            ".local/share/bash-completion/completions",
            ".zfunc",
            ".config/fish/completions",
        ] {
            std::fs::create_dir_all(home.join(sub)).unwrap();
        }
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        for entry in std::fs::read_dir(repo.join("examples/workflows")).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(
                entry.path(),
                home.join("examples/workflows").join(entry.file_name()),
            )
            .unwrap();
        }
        let stubs = home.join("bin");
        for (name, body) in [
            (
                "pass",
                "#!/bin/sh\ncase \"$*\" in\n  *slack*) echo https://hooks.slack.com/services/T0/B0/x ;;\n  *) printf '%s\\n' \"$PW\" ;;\nesac\n",
            ),
            (
                "my-siem-forwarder",
                "#!/bin/sh\nexec cat >> \"$HOME/siem.out\"\n",
            ),
        ] {
            let p = stubs.join(name);
            std::fs::write(&p, body).unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
            .unwrap();
        for (name, pem) in [
            ("cert.pem", cert.cert.pem()),
            ("ca.pem", cert.cert.pem()),
            ("prod-ca.pem", cert.cert.pem()),
            ("key.pem", cert.signing_key.serialize_pem()),
        ] {
            std::fs::write(home.join(name), pem).unwrap();
        }
        for (name, body) in WORKFLOWS {
            std::fs::write(home.join(name), body).unwrap();
        }

        let run = |script: &str| sh(home, &stubs, script);
        run(&format!(
            "printf '%s\\n' '{ADMIN_PW}' | imx init --admin admin --password-stdin -q"
        ));
        run("imx user create alice --role operator --password-stdin -q <<EOF\n$PW\nEOF");
        run("imx user create bob --role viewer --password-stdin -q <<EOF\n$PW\nEOF");
        // An archive of the first records (`audit verify --archive`); record 42 comes later.
        run("imx audit prune --keep 1ms --yes -q");
        for (name, _) in WORKFLOWS {
            run(&format!("imx workflow apply -f {name} -q"));
        }
        run("imx workflow apply -f examples/workflows/ -q");
        // Schedules the `schedule` pages' examples name.
        run(
            "imx schedule create nightly --workflow deploy --cron '0 3 * * *' --timezone Europe/Berlin -q",
        );
        run("imx schedule create hourly --workflow deploy --cron @hourly -q");
        // What the `notify` and `trigger` pages' examples name: channels that deliver to a
        // receiver that answers 200 (`notify channel test ops`), a rule, a webhook trigger.
        let sink = sink();
        run(&format!(
            "imx notify channel add ops --webhook {sink} -q 2>/dev/null && \
             imx notify channel add chat --webhook {sink} -q 2>/dev/null"
        ));
        let rule: Value = serde_json::from_str(&run(
            "imx notify rule add --on failed --channel chat -o json",
        ))
        .unwrap();
        let rule = rule["id"].as_str().unwrap().to_string();
        run("imx trigger create release-hook --workflow deploy -q");
        run("imx token create --name old-ci --role viewer -q >/dev/null");
        let agent_token = run("imx token create --name agents --role agent -q");
        std::fs::write(home.join("etc/imx/agent-token"), &agent_token).unwrap();
        let tokens: Value = serde_json::from_str(&run("imx token list -o json")).unwrap();
        let token = tokens
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == "old-ci")
            .and_then(|t| t["id"].as_str())
            .unwrap()
            .to_string();

        // build-01 registers, then stops: an offline agent to show, drain and remove.
        let agent = |name: &str, extra: &str| {
            let mut cmd = command(home, &stubs, "sh");
            cmd.args([
                "-c",
                &format!("exec imx agent run --name {name} --slots 4 {extra}"),
            ]);
            let g = Group::spawn(
                cmd,
                home.join(format!("{name}.out")),
                home.join(format!("{name}.err")),
            );
            wait_until(&format!("agent {name} to start"), SLOW, || {
                g.stderr().contains(" started on ")
            });
            g
        };
        agent("build-01", "--labels os=linux,arch=amd64").stop();
        agent("build-02", "").stop();
        let mut worker = agent("template-worker", "");
        let succeeded = run("imx workflow run build-test-deploy --wait -q");
        let failed: Vec<String> = (0..2)
            .map(|_| {
                let id = run("imx workflow run release -q");
                run(&format!("imx run wait {id} -q || test $? -eq 10"));
                id
            })
            .collect();
        let queued = run("imx workflow run parked -q 2>/dev/null");
        let waiting = run("imx workflow run ship -q");
        worker.stop();

        let plain_backup = run("imx backup create -o name");
        run("imx backup keygen --out ~/.config/imx/backup.key -q");
        let encrypted_backup = run(
            "imx backup create --encrypt --key-file ~/.config/imx/backup.key --out mnt/backups/ -o name",
        );
        let file = format!("imx-backup-{encrypted_backup}.imxb");
        std::fs::copy(home.join("mnt/backups").join(&file), home.join(&file)).unwrap();
        std::fs::copy(home.join(&file), home.join("backup.imxb")).unwrap();
        std::fs::copy(home.join(".config/imx/backup.key"), home.join("backup.key")).unwrap();
        // The examples name audit record 42: write records until there is one.
        run("n=0; until imx audit show 42 -q >/dev/null 2>&1; do \
             n=$((n+1)); test $n -lt 50 || exit 1; \
             imx agent drain build-01 -q && imx agent resume build-01 -q || exit 1; done");
        for f in [
            "build-01.out",
            "build-01.err",
            "build-02.out",
            "build-02.err",
            "template-worker.out",
            "template-worker.err",
        ] {
            let _ = std::fs::remove_file(home.join(f));
        }
        Template {
            dir,
            succeeded,
            failed,
            queued,
            waiting,
            token,
            agent_token,
            rule,
            plain_backup,
            encrypted_backup,
        }
    }

    fn home(&self) -> &Path {
        self.dir.path()
    }

    fn stubs(&self) -> PathBuf {
        self.home().join("bin")
    }
}

/// An HTTP receiver that answers every request with 200, on a thread of its own for the rest
/// of the test: its URL.
fn sink() -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let mut reader = BufReader::new(conn);
            let mut length = 0;
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                if let Some((k, v)) = line.split_once(':')
                    && k.eq_ignore_ascii_case("content-length")
                {
                    length = v.trim().parse().unwrap_or(0);
                }
                line.clear();
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let _ = reader
                .get_mut()
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    url
}

/// Copy the tree at `from` to `to` (files and folders).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            copy_tree(&entry.path(), &target);
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target).unwrap();
            let mode = entry.metadata().unwrap().permissions();
            std::fs::set_permissions(&target, mode).unwrap();
        }
    }
}

/// Run one page's examples in a copy of the template; what failed, as messages.
fn run_page(t: &Template, page: &Page) -> Vec<String> {
    let dir = tempfile::Builder::new()
        .prefix("imx-example-page-")
        .tempdir()
        .unwrap();
    let home = dir.path();
    copy_tree(t.home(), home);
    let stubs = t.stubs();
    let run = |script: &str| sh(home, &stubs, script);
    let mut background = Vec::new();

    let store = home.join(".local/share/imx/imx.db");
    run(&format!(
        "imx --store {} context add laptop -q && imx --server http://127.0.0.1:9 context add old-prod -q",
        store.display()
    ));
    let url = if page.needs_server() {
        let mut cmd = command(home, &stubs, "sh");
        cmd.args(["-c", "exec imx server --listen 127.0.0.1:0"]);
        let server = Group::spawn(cmd, home.join("server.out"), home.join("server.err"));
        wait_until("the page's server", SLOW, || {
            server.stdout().contains("://")
        });
        let url = server.stdout().trim().to_string();
        background.push(server);
        run(&format!(
            "imx --server {url} context add prod -q && printf '%s\\n' '{ADMIN_PW}' | imx login --server {url} --user admin --password-stdin -q"
        ));
        Some(url)
    } else {
        run("imx --server http://127.0.0.1:9 context add prod -q");
        None
    };
    if page.needs_worker() {
        let mut cmd = command(home, &stubs, "sh");
        cmd.args(["-c", "exec imx agent run --name worker --slots 4"]);
        let worker = Group::spawn(cmd, home.join("worker.out"), home.join("worker.err"));
        wait_until("the page's agent", SLOW, || {
            worker.stderr().contains(" started on ")
        });
        background.push(worker);
    }
    if let Some((_, script)) = SETUP.iter().find(|(p, _)| *p == page.name()) {
        run(&page.substitute(t, script, home, None, &mut [].iter()));
    }

    let mut failures = Vec::new();
    let mut failed_runs = t.failed.iter();
    for (n, example) in page.examples.iter().enumerate() {
        if NOT_RUN.iter().any(|(e, _)| e == example) {
            continue;
        }
        let script = page.substitute(t, example, home, url.as_deref(), &mut failed_runs);
        let mut cmd = command(home, &stubs, "sh");
        cmd.args(["-c", &script]);
        let mut group = Group::spawn(
            cmd,
            home.join(format!("example-{n}.out")),
            home.join(format!("example-{n}.err")),
        );
        let fail = |why: String, g: &Group| {
            format!(
                "imx {} --help: `{example}`\n  ran: {script}\n  {why}\n  stdout: {}\n  stderr: {}",
                page.name(),
                tail(&g.stdout()),
                tail(&g.stderr())
            )
        };
        match long_running(example) {
            Some(ready) => {
                let deadline = Instant::now() + SLOW;
                let up = loop {
                    let up = match ready {
                        Ready::Stdout(s) => group.stdout().contains(s),
                        Ready::Stderr(s) => group.stderr().contains(s),
                        Ready::File(f) => {
                            std::fs::metadata(home.join(f)).is_ok_and(|m| m.len() > 0)
                        }
                    };
                    let died = matches!(group.child.try_wait(), Ok(Some(s)) if !s.success());
                    if up || died || Instant::now() > deadline {
                        break up && !died;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                };
                if !up || group.stderr().contains("error:") {
                    failures.push(fail("did not start".into(), &group));
                }
                group.stop();
            }
            None => match group.wait(SLOW * 2) {
                Some(status) if status.success() => {}
                Some(status) => failures.push(fail(format!("exited with {status}"), &group)),
                None => failures.push(fail("did not finish".into(), &group)),
            },
        }
    }
    for mut g in background {
        g.stop();
    }
    failures
}

/// The last lines of `text`, for failure messages.
fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(8)..].join("\n    ")
}

#[test]
fn every_help_example_runs_and_succeeds() {
    let pages = pages();
    let examples: Vec<&String> = pages.iter().flat_map(|p| &p.examples).collect();
    assert!(
        examples.len() > 100,
        "found only {} examples",
        examples.len()
    );

    // The exceptions are few and name examples that exist.
    let all: BTreeSet<&str> = examples.iter().map(|e| e.as_str()).collect();
    for (example, _) in NOT_RUN {
        assert!(all.contains(example), "NOT_RUN names no example: {example}");
    }
    for (page, _) in SETUP {
        assert!(
            pages.iter().any(|p| p.name() == *page),
            "SETUP names no page: {page}"
        );
    }

    let template = Template::new();
    let queue = Mutex::new(pages.iter().collect::<Vec<_>>());
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                loop {
                    let Some(page) = queue.lock().unwrap().pop() else {
                        return;
                    };
                    let found = run_page(&template, page);
                    failures.lock().unwrap().extend(found);
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} of {} help examples failed (fix the example, or list it in NOT_RUN with the reason):\n\n{}",
        failures.len(),
        examples.len(),
        failures.join("\n\n")
    );
}

/// Commands the help texts mention in passing (`imx backup keygen --out FILE` in a flag's
/// description): each still parses. Every runnable example is in an `Examples:` section.
#[test]
fn commands_mentioned_in_help_texts_parse() {
    let mut mentioned = BTreeSet::new();
    for page in pages() {
        let mut in_examples = false;
        for line in page.text.lines() {
            if line.trim_end() == "Examples:" {
                in_examples = true;
                continue;
            }
            if in_examples && line.starts_with("  ") {
                continue;
            }
            in_examples = false;
            assert!(
                !line.starts_with("  imx "),
                "imx {} --help: an example outside the Examples: section (it would not be run): {line}",
                page.name()
            );
            for (i, part) in line.split('`').enumerate() {
                if i % 2 == 1 && part.starts_with("imx ") {
                    mentioned.insert(part.to_string());
                }
            }
        }
    }
    assert!(!mentioned.is_empty());
    let home = tempfile::tempdir().unwrap();
    for text in mentioned {
        let words: Vec<&str> = text.split_whitespace().skip(1).collect();
        let out = command(home.path(), home.path(), bin().to_str().unwrap())
            .args(&words)
            .arg("--help")
            .output()
            .unwrap();
        // A flag mentioned without its value (`--default-run-timeout`) exists all the same.
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() || stderr.contains("a value is required for"),
            "`{text}` (mentioned in a help text) does not parse:\n{stderr}"
        );
    }
}

#[test]
fn placeholders_are_replaced_as_whole_words() {
    assert_eq!(replace_word("show 01J5Z3 now", "01J5Z3", "X"), "show X now");
    assert_eq!(
        replace_word("imx-backup-01J5Z3K8.imxb", "01J5Z3", "X"),
        "imx-backup-01J5Z3K8.imxb"
    );
    assert_eq!(
        replace_word("imx-backup-01J5Z3K8.imxb", "01J5Z3K8", "X"),
        "imx-backup-X.imxb"
    );
    assert_eq!(replace_word("verify 01J", "01J", "X"), "verify X");
    assert_eq!(replace_word("01HZX4 01HZX", "01HZX", "X"), "01HZX4 X");
}

#[test]
fn a_long_example_goes_on_after_a_backslash() {
    let help = "Usage: x\n\nExamples:\n  imx a \\\n      --b c\n  imx d\n";
    assert_eq!(section(help, "Examples:"), ["imx a --b c", "imx d"]);
}

/// Every command's `--help` ends with examples, groups included.
#[test]
fn every_command_has_examples() {
    let missing: Vec<String> = pages()
        .iter()
        .filter(|p| p.examples.is_empty())
        .map(|p| format!("imx {}", p.name()))
        .collect();
    assert!(missing.is_empty(), "--help without Examples: {missing:?}");
}

/// A command's own flags come first; the flags every command takes follow under their own
/// heading.
#[test]
fn own_flags_come_before_the_global_ones() {
    for page in pages() {
        let Some(global) = page.text.find("\nGlobal options:\n") else {
            panic!(
                "imx {} --help has no Global options:\n{}",
                page.name(),
                page.text
            );
        };
        let store = page.text.find("--store <PATH>").unwrap_or(0);
        assert!(
            store > global,
            "imx {}: --store before the heading",
            page.name()
        );
        if let Some(options) = page.text.find("\nOptions:\n") {
            assert!(
                options < global,
                "imx {}: own options after the global ones",
                page.name()
            );
        }
    }
    let list = help(&["run".to_string(), "list".to_string()]);
    let (workflow, global) = (list.find("--workflow"), list.find("Global options:"));
    assert!(workflow < global && workflow.is_some(), "{list}");
}
