//! Dynamic completions, driven through the real shells: the script `imx completions SHELL`
//! prints is loaded into bash, zsh and fish, which then ask `imx` (on PATH) for candidates —
//! run ids, workflow, agent and context names, a run's step ids and flag values — from the
//! local store, from a server a context points at, and from a server that does not answer.
//!
//! bash: the registered function is called with COMP_WORDS/COMP_CWORD set, as readline would,
//! and COMPREPLY printed. zsh: the script is autoloaded as `_imx` from `$fpath` and called with
//! `words`/`CURRENT` set, as compsys calls it, with compsys's `_describe` replaced by a printer
//! (compsys itself needs a terminal). fish: its own `complete -C LINE`. A shell that cannot be found is skipped with a printed reason.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::env::{SLOW, TestEnv, wait_until};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shell {
    Bash,
    Zsh,
    Fish,
}

const SHELLS: [Shell; 3] = [Shell::Bash, Shell::Zsh, Shell::Fish];

impl Shell {
    fn name(self) -> &'static str {
        match self {
            Shell::Bash => "bash",
            Shell::Zsh => "zsh",
            Shell::Fish => "fish",
        }
    }

    /// Whether the shell shows a help text next to each candidate.
    fn shows_help(self) -> bool {
        self != Shell::Bash
    }
}

/// What a shell offered for one line.
#[derive(Debug)]
struct Offered {
    /// Each candidate with its help text (empty when the shell shows none).
    candidates: Vec<(String, String)>,
    stderr: String,
    took: Duration,
}

impl Offered {
    fn values(&self) -> Vec<&str> {
        self.candidates.iter().map(|(v, _)| v.as_str()).collect()
    }

    /// The values that are not flags.
    fn words(&self) -> Vec<&str> {
        self.values()
            .into_iter()
            .filter(|v| !v.starts_with('-'))
            .collect()
    }

    fn help_of(&self, value: &str) -> &str {
        self.candidates
            .iter()
            .find(|(v, _)| v == value)
            .map(|(_, h)| h.as_str())
            .unwrap_or_else(|| panic!("{value} not offered: {self:?}"))
    }
}

/// A program on PATH.
pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// The shells this machine has; a missing one is reported (`.ci/run` installs them).
fn shells() -> Vec<(Shell, PathBuf)> {
    SHELLS
        .iter()
        .filter_map(|&sh| match which(sh.name()) {
            Some(path) => Some((sh, path)),
            None => {
                eprintln!(
                    "skipped for {0}: {0} is not installed (.ci/run installs it)",
                    sh.name()
                );
                None
            }
        })
        .collect()
}

/// PATH with the `imx` under test first: the scripts call `imx` by name, as installed.
pub fn path_with_imx() -> String {
    let bin = Path::new(assert_cmd::cargo::cargo_bin!("imx"));
    let mut dirs = vec![bin.parent().unwrap().to_path_buf()];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs)
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

const BASH_DRIVER: &str = r#"
source "$1"
line=$2
read -ra COMP_WORDS <<< "$line"
[[ $line == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
COMP_LINE=$line
COMP_POINT=${#line}
COMP_TYPE=9
spec=$(complete -p imx)
fn=${spec##*-F }
fn=${fn%% *}
"$fn" imx "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
for c in "${COMPREPLY[@]}"; do printf '%s\n' "$c"; done
"#;

/// zsh loads the script as install.sh installs it: `_imx` in `$fpath`, autoloaded and called
/// by compsys on the first TAB.
const ZSH_DRIVER: &str = r#"
compdef() { print -r -- "compdef $*" >&2; }
_describe() { local name=${@[-1]}; print -rl -- "${(@P)name}"; }
dir=${1:h}/zfunc
mkdir -p $dir && cp $1 $dir/_imx
fpath=($dir $fpath)
autoload -Uz _imx
line=$2
words=(${(z)line})
[[ $line == *" " ]] && words+=("")
CURRENT=${#words}
_imx
"#;

const FISH_DRIVER: &str = r#"source $argv[1]; complete -C $argv[2]"#;

/// Load `imx completions SHELL` into the shell and complete `line` (a trailing space completes
/// a new word). `vars` are set and `unset` removed from the environment the shell (and so the
/// `imx` it runs) gets.
fn complete_with(
    env: &TestEnv,
    (shell, program): &(Shell, PathBuf),
    line: &str,
    vars: &[(&str, &str)],
    unset: &[&str],
) -> Offered {
    let script = env.home().join(format!("imx-completion.{}", shell.name()));
    if !script.exists() {
        let out = env.run(["completions", shell.name()]);
        out.expect_code(0);
        std::fs::write(&script, &out.stdout).unwrap();
    }
    let mut cmd = env.program_cmd(program);
    match shell {
        Shell::Bash => cmd.args(["--norc", "--noprofile", "-c", BASH_DRIVER, "bash"]),
        Shell::Zsh => cmd.args(["-f", "-c", ZSH_DRIVER, "zsh"]),
        Shell::Fish => cmd.args(["--no-config", "-c", FISH_DRIVER]),
    };
    cmd.arg(&script).arg(line).env("PATH", path_with_imx());
    for (k, v) in vars {
        cmd.env(k, v);
    }
    for k in unset {
        cmd.env_remove(k);
    }
    let started = Instant::now();
    let out = cmd.output().unwrap();
    let took = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "{} completing {line:?} failed: {stderr}",
        shell.name()
    );
    let separator = match shell {
        Shell::Bash => None,
        Shell::Zsh => Some(':'),
        Shell::Fish => Some('\t'),
    };
    let candidates = stdout
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| match separator.and_then(|s| l.split_once(s)) {
            Some((value, help)) => (value.replace("\\:", ":"), help.to_string()),
            None => (l.to_string(), String::new()),
        })
        .collect();
    Offered {
        candidates,
        stderr,
        took,
    }
}

fn complete(env: &TestEnv, shell: &(Shell, PathBuf), line: &str) -> Offered {
    complete_with(env, shell, line, &[], &[])
}

pub const HELLO: &str = "name: hello\ndescription: says hi\nsteps:\n  - id: build\n    run: echo build\n  - id: test\n    run: echo test\n    needs: [build]\n";

#[test]
fn run_ids_workflow_names_and_step_ids_complete_from_the_local_store() {
    let env = TestEnv::new();
    env.apply("hello.yaml", HELLO);
    let first = env.start("hello", &[]);
    let second = env.start("hello", &[]);
    for shell in shells() {
        let name = shell.0.name();
        let runs = complete(&env, &shell, "imx run show ");
        assert!(
            runs.words().contains(&first.as_str()) && runs.words().contains(&second.as_str()),
            "{name}: {runs:?}"
        );
        if shell.0.shows_help() {
            let help = runs.help_of(&first);
            assert!(help.starts_with("hello queued "), "{name}: {help}");
        }

        // A prefix narrows to the runs it starts.
        let prefix = &second[..second.len() - 1];
        let one = complete(&env, &shell, &format!("imx run cancel {prefix}"));
        assert_eq!(one.values(), [second.as_str()], "{name}");

        let workflows = complete(&env, &shell, "imx workflow run ");
        assert!(
            workflows.words().contains(&"hello"),
            "{name}: {workflows:?}"
        );
        if shell.0.shows_help() {
            assert_eq!(workflows.help_of("hello"), "says hi", "{name}");
        }
        let filter = complete(&env, &shell, "imx run list --workflow h");
        assert_eq!(filter.values(), ["hello"], "{name}");

        // Step ids of the run named earlier on the line.
        let steps = complete(&env, &shell, &format!("imx run logs {first} --step "));
        assert_eq!(steps.values(), ["build", "test"], "{name}");
        if shell.0.shows_help() {
            assert_eq!(steps.help_of("build"), "ready", "{name}");
        }
        let from = complete(&env, &shell, &format!("imx run retry {second} --from t"));
        assert_eq!(from.values(), ["test"], "{name}");
        assert!(runs.stderr.is_empty(), "{name}: {}", runs.stderr);
    }
}

#[test]
fn enum_values_complete_and_never_file_names() {
    let env = TestEnv::new();
    env.write("queued.txt", "a file named like a status\n");
    env.write("flow.yaml", "name: flow\nsteps: []\n");
    let statuses = [
        "queued",
        "running",
        "succeeded",
        "failed",
        "cancelled",
        "timed_out",
        "waiting",
    ];
    for shell in shells() {
        let name = shell.0.name();
        let status = complete(&env, &shell, "imx run list --status ");
        assert_eq!(status.values(), statuses, "{name}");
        let more = complete(&env, &shell, "imx run list --status failed,c");
        assert_eq!(more.values(), ["failed,cancelled"], "{name}");
        let q = complete(&env, &shell, "imx run list -s q");
        assert_eq!(q.values(), ["queued"], "{name}: no file names");

        let states = complete(&env, &shell, "imx agent list --status ");
        assert!(
            states.values().contains(&"online") && states.values().contains(&"offline"),
            "{name}: {states:?}"
        );
        let formats = complete(&env, &shell, "imx run list -o ");
        for f in ["table", "json", "yaml", "csv", "name"] {
            assert!(formats.values().contains(&f), "{name}: {formats:?}");
        }
        let roles = complete(&env, &shell, "imx user create carol --role op");
        assert_eq!(roles.values(), ["operator"], "{name}");

        // A file argument still completes file names.
        let files = complete(&env, &shell, "imx workflow apply -f fl");
        assert_eq!(files.values(), ["flow.yaml"], "{name}");
    }
}

#[test]
fn agent_names_complete_with_their_state() {
    let env = TestEnv::new();
    let _agent = env.agent("build-01", 1);
    let state = env.json(["agent", "show", "build-01"])["state"]
        .as_str()
        .unwrap()
        .to_string();
    for shell in shells() {
        let name = shell.0.name();
        let agents = complete(&env, &shell, "imx agent drain b");
        assert_eq!(agents.values(), ["build-01"], "{name}");
        if shell.0.shows_help() {
            assert_eq!(agents.help_of("build-01"), state, "{name}");
        }
    }
}

#[test]
fn context_names_complete() {
    let env = TestEnv::new();
    let store = env.store();
    let store = store.to_str().unwrap();
    env.run(["--store", store, "context", "add", "laptop"])
        .expect_code(0);
    env.run(["--store", store, "context", "add", "lab"])
        .expect_code(0);
    for shell in shells() {
        let name = shell.0.name();
        let used = complete(&env, &shell, "imx context use ");
        assert_eq!(used.words(), ["lab", "laptop"], "{name}");
        if shell.0.shows_help() {
            assert!(used.help_of("lab").contains(store), "{name}: {used:?}");
        }
        let global = complete(&env, &shell, "imx --context la");
        assert_eq!(global.values(), ["lab", "laptop"], "{name}");
        let removed = complete(&env, &shell, "imx context remove lap");
        assert_eq!(removed.values(), ["laptop"], "{name}");
    }
}

#[test]
fn a_context_pointing_at_a_server_completes_from_the_server() {
    let env = TestEnv::remote();
    env.apply("hello.yaml", HELLO);
    let run = env.start("hello", &[]);
    let mut add = env.local_cmd(&[]);
    add.env_remove("IMX_STORE")
        .args(["--server", env.url(), "context", "add", "srv"]);
    assert!(add.output().unwrap().status.success());
    // Only the server can answer: no store in the environment, the token in IMX_TOKEN.
    let vars = [("IMX_TOKEN", env.admin_token())];
    let unset = ["IMX_STORE"];
    for shell in shells() {
        let name = shell.0.name();
        let runs = complete_with(&env, &shell, "imx --context srv run show 0", &vars, &unset);
        assert_eq!(runs.values(), [run.as_str()], "{name}: {runs:?}");
        let workflows = complete_with(
            &env,
            &shell,
            "imx workflow show --context srv h",
            &vars,
            &unset,
        );
        assert_eq!(workflows.values(), ["hello"], "{name}");
        // The same through IMX_CONTEXT, with the run named on the line.
        let steps = complete_with(
            &env,
            &shell,
            &format!("imx run logs {run} -s "),
            &[("IMX_TOKEN", env.admin_token()), ("IMX_CONTEXT", "srv")],
            &unset,
        );
        assert_eq!(steps.values(), ["build", "test"], "{name}");
    }

    // With the token `imx login` kept (in the file: no keyring here) and no IMX_TOKEN.
    let login = env
        .cmd()
        .env_remove("IMX_STORE")
        .env("IMX_KEYRING", "off")
        .args(["login", "--server", env.url(), "--with-token"])
        .write_stdin(format!("{}\n", env.admin_token()))
        .output()
        .unwrap();
    assert!(login.status.success(), "{login:?}");
    for shell in shells() {
        let runs = complete_with(
            &env,
            &shell,
            "imx --context srv run show 0",
            &[("IMX_KEYRING", "off")],
            &unset,
        );
        assert_eq!(
            runs.values(),
            [run.as_str()],
            "{}: {runs:?}",
            shell.0.name()
        );
    }
}

#[test]
fn a_server_that_is_down_or_silent_gives_no_candidates_promptly() {
    let env = TestEnv::new();
    // Silent: accepts connections (the kernel does) and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    // Down: a port nobody listens on any more.
    let down = TcpListener::bind("127.0.0.1:0").unwrap();
    let down_port = down.local_addr().unwrap().port();
    drop(down);
    let servers = [
        ("silent", format!("http://{}", silent.local_addr().unwrap())),
        ("down", format!("http://127.0.0.1:{down_port}")),
    ];
    for (context, url) in &servers {
        let mut add = env.local_cmd(&[]);
        add.env_remove("IMX_STORE")
            .args(["--server", url, "context", "add", context]);
        assert!(add.output().unwrap().status.success());
    }
    let vars = [("IMX_TOKEN", "imx_not_a_real_token")];
    for shell in shells() {
        let name = shell.0.name();
        for (context, _) in &servers {
            for line in [
                format!("imx --context {context} run show 0"),
                format!("imx --context {context} run logs 01ABC --step "),
                format!("imx --context {context} agent show b"),
            ] {
                let offered = complete_with(&env, &shell, &line, &vars, &["IMX_STORE"]);
                assert!(offered.words().is_empty(), "{name} {line}: {offered:?}");
                assert!(offered.stderr.is_empty(), "{name} {line}: {offered:?}");
                // The deadline is 1 s; the rest is the shell and a loaded machine.
                assert!(
                    offered.took < Duration::from_secs(10),
                    "{name} {line}: took {:?}",
                    offered.took
                );
            }
        }
    }
    // The silent server was connected to, so the deadline (not a refusal) ended the wait.
    silent.set_nonblocking(true).unwrap();
    wait_until("a completion to have connected", SLOW, || {
        silent.accept().is_ok()
    });
}

#[test]
fn the_zsh_script_registers_itself_when_sourced() {
    let Some(zsh) = which("zsh") else {
        eprintln!("skipped: zsh is not installed (.ci/run installs it)");
        return;
    };
    let env = TestEnv::new();
    let script = env.write("imx.zsh", &env.run(["completions", "zsh"]).stdout);
    let out = env
        .program_cmd(&zsh)
        .args([
            "-f",
            "-c",
            "compdef() { print -r -- compdef $*; }; source $1",
            "zsh",
        ])
        .arg(&script)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "compdef _clap_dynamic_completer_imx imx\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
