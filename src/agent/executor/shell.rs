//! The `run` executor: `/bin/sh -c <command>` started by the agent's [`Launcher`] (a clean
//! environment, contained in a cgroup or under a subreaper, see [`super::launch`]), output
//! captured line by line, `$IMX_OUTPUT` parsed into outputs. On timeout or stop every process
//! of the step gets SIGTERM, then SIGKILL after a grace period; when the shell exits, whatever
//! it left running is killed too, so a step never leaks processes.

use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::time::Duration;

use nix::sys::signal::Signal;
use tokio::task::JoinHandle;

use super::launch::StepProcess;
use super::lines::pump;
use super::{ExecContext, StopReason, human, stop_requested};
use crate::agent::logs::LogSink;
use crate::model::{LogStream, StepOutcome, StepResult, StepTask};

/// How long output pipes may stay open after the step's processes are gone (something that
/// escaped them may still hold them).
const DRAIN_LIMIT: Duration = Duration::from_secs(2);

enum Ended {
    Exited(std::io::Result<ExitStatus>),
    TimedOut(Duration),
    Stopped(StopReason),
}

pub(super) async fn run(task: &StepTask, command: &str, mut ctx: ExecContext) -> StepResult {
    let staged = match ctx.launcher.stage(task) {
        Ok(staged) => staged,
        Err(e) => return StepResult::failed(e, None),
    };
    if let Some(client) = ctx.artifacts.as_ref().filter(|_| !task.inputs.is_empty()) {
        let fetched = match staged.dir() {
            Ok(dir) => {
                client
                    .fetch_inputs(task, &dir, staged.owner(), &ctx.logs)
                    .await
            }
            Err(e) => Err(format!("cannot find the working directory: {e}")),
        };
        if let Err(e) = fetched {
            ctx.logs.push(LogStream::System, format!("imx: {e}"));
            return StepResult::failed(e, None);
        }
    }
    let mut step = match ctx
        .launcher
        .spawn(staged, task, command, ctx.kill_grace)
        .await
    {
        Ok(step) => step,
        Err(e) => return StepResult::failed(e, None),
    };
    let mut readers = Vec::with_capacity(2);
    if let Some(out) = step.child.stdout.take() {
        readers.push(tokio::spawn(pump(out, LogStream::Stdout, ctx.logs.clone())));
    }
    if let Some(err) = step.child.stderr.take() {
        readers.push(tokio::spawn(pump(err, LogStream::Stderr, ctx.logs.clone())));
    }

    let timeout = task.timeout_ms.map(Duration::from_millis);
    let ended = tokio::select! {
        status = step.child.wait() => Ended::Exited(status),
        () = sleep_or_never(timeout) => Ended::TimedOut(timeout.unwrap_or_default()),
        reason = stop_requested(&mut ctx.stop) => Ended::Stopped(reason),
    };
    let status = match &ended {
        Ended::Exited(_) => None,
        Ended::TimedOut(d) => {
            ctx.logs.push(
                LogStream::System,
                format!("imx: timed out after {}; stopping its processes", human(*d)),
            );
            Some(terminate(&mut step, ctx.kill_grace, &ctx.logs).await)
        }
        Ended::Stopped(reason) => {
            ctx.logs.push(
                LogStream::System,
                format!("imx: {}; stopping its processes", stop_text(*reason)),
            );
            Some(terminate(&mut step, ctx.kill_grace, &ctx.logs).await)
        }
    };
    // Anything the shell left running goes with it.
    if let Some(warning) = step.finish().await {
        ctx.logs.push(LogStream::System, format!("imx: {warning}"));
    }
    // What is left in the pipes is read without waiting for the control plane.
    ctx.logs.release();
    drain(readers).await;

    let (outputs, warnings) = step.output.read().await;
    for w in warnings {
        ctx.logs.push(LogStream::System, format!("imx: {w}"));
    }
    let mut result = match ended {
        Ended::TimedOut(d) => StepResult::failed(format!("timed out after {}", human(d)), None),
        Ended::Stopped(reason) => StepResult::failed(stop_text(reason), None),
        Ended::Exited(Err(e)) => StepResult::failed(format!("cannot wait for the step: {e}"), None),
        Ended::Exited(Ok(status)) => from_status(status),
    };
    if let Some(Err(e)) = status {
        ctx.logs.push(
            LogStream::System,
            format!("imx: cannot wait for the step: {e}"),
        );
    }
    result.outputs = outputs;
    // Only a step that succeeded leaves artifacts; it fails if they cannot be kept.
    if result.outcome == StepOutcome::Succeeded && !task.artifacts.is_empty() {
        let uploaded = match (&ctx.artifacts, step.dir()) {
            (Some(client), Ok(dir)) => client.upload(task, &dir, &ctx.logs).await,
            (None, _) => Err("this agent cannot upload artifacts".to_string()),
            (_, Err(e)) => Err(format!("cannot find the working directory: {e}")),
        };
        if let Err(e) = uploaded {
            ctx.logs.push(LogStream::System, format!("imx: {e}"));
            result = StepResult::failed(e, None);
        }
    }
    if let Some(warning) = step.remove_dir().await {
        ctx.logs.push(LogStream::System, format!("imx: {warning}"));
    }
    result
}

fn stop_text(reason: StopReason) -> String {
    match reason {
        StopReason::Revoked => "cancelled".into(),
        StopReason::Stale => "cancelled: the lease was lost".into(),
        StopReason::Removed => "cancelled: the agent was removed".into(),
    }
}

fn from_status(status: ExitStatus) -> StepResult {
    if status.success() {
        return StepResult {
            outcome: StepOutcome::Succeeded,
            exit_code: Some(0),
            outputs: Default::default(),
            error: None,
        };
    }
    match (status.code(), status.signal()) {
        (Some(code), _) => StepResult::failed(format!("exit code {code}"), Some(code)),
        (None, Some(sig)) => {
            let name = Signal::try_from(sig)
                .map_or_else(|_| format!("signal {sig}"), |s| s.as_str().to_string());
            StepResult::failed(format!("killed by {name}"), None)
        }
        (None, None) => StepResult::failed(format!("ended abnormally ({status})"), None),
    }
}

/// SIGTERM every process of the step, wait up to `grace`, then SIGKILL them; returns how the
/// shell ended.
async fn terminate(
    step: &mut StepProcess,
    grace: Duration,
    logs: &LogSink,
) -> std::io::Result<ExitStatus> {
    step.terminate();
    if let Ok(status) = tokio::time::timeout(grace, step.child.wait()).await {
        return status;
    }
    logs.push(
        LogStream::System,
        format!(
            "imx: still running {} after SIGTERM; sending SIGKILL",
            human(grace)
        ),
    );
    step.kill();
    step.wait_killed().await
}

async fn sleep_or_never(d: Option<Duration>) {
    match d {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}

/// Wait for the readers to reach end of input, but not forever.
async fn drain(readers: Vec<JoinHandle<()>>) {
    let deadline = tokio::time::Instant::now() + DRAIN_LIMIT;
    for mut reader in readers {
        if tokio::time::timeout_at(deadline, &mut reader)
            .await
            .is_err()
        {
            reader.abort();
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::super::execute;
    use super::super::test_support::{ctx, lines, task};
    use super::*;
    use crate::model::StepKind;

    fn sh(command: &str) -> StepTask {
        task(StepKind::Run {
            command: command.into(),
        })
    }

    #[tokio::test]
    async fn captures_output_env_and_outputs() {
        let dir = tempfile::tempdir().unwrap();
        let mut t = sh(concat!(
            "echo out; echo err >&2; pwd; ",
            "echo \"$IMX_RUN_ID $IMX_STEP_ID $IMX_ATTEMPT $IMX_IDEMPOTENCY_KEY $IMX_WORKFLOW $GREETING\"; ",
            "printf 'a=1\\n\\nb=two\\na=3\\n' > \"$IMX_OUTPUT\""
        ));
        t.env.insert("GREETING".into(), "hi".into());
        t.workdir = Some(dir.path().to_string_lossy().into_owned());
        let (c, _tx) = ctx();
        let logs = c.logs.clone();
        let r = execute(&t, c).await;
        assert_eq!(r.outcome, StepOutcome::Succeeded, "{r:?}");
        assert_eq!(r.exit_code, Some(0));
        assert_eq!(r.outputs.get("a").map(String::as_str), Some("3"));
        assert_eq!(r.outputs.get("b").map(String::as_str), Some("two"));
        let mut got = lines(&logs);
        got.sort();
        let pwd = std::fs::canonicalize(dir.path()).unwrap();
        let mut want = vec![
            "out".to_string(),
            "err".into(),
            pwd.to_string_lossy().into_owned(),
            "run1 step1 2 idem-1 wf hi".into(),
        ];
        want.sort();
        assert_eq!(got, want);
    }

    #[tokio::test]
    async fn the_environment_is_clean() {
        // The test process has plenty (CARGO_*, RUST_*, ...): none of it reaches the step.
        let mut t = sh("env");
        t.env.insert("GREETING".into(), "hi".into());
        let (c, _tx) = ctx();
        let logs = c.logs.clone();
        let r = execute(&t, c).await;
        assert_eq!(r.outcome, StepOutcome::Succeeded, "{r:?}");
        let lines = lines(&logs);
        let mut names: Vec<&str> = lines
            .iter()
            .filter_map(|l| l.split_once('=').map(|(k, _)| k))
            .collect();
        names.sort_unstable();
        let want = [
            "GREETING",
            "HOME",
            "IMX_ATTEMPT",
            "IMX_IDEMPOTENCY_KEY",
            "IMX_OUTPUT",
            "IMX_RUN_ID",
            "IMX_STEP_ID",
            "IMX_WORKFLOW",
            "LANG",
            "PATH",
            "PWD",
            "TZ",
        ];
        assert_eq!(names, want, "{lines:?}");
    }

    #[tokio::test]
    async fn stderr_lines_are_marked() {
        let (c, _tx) = ctx();
        let logs = c.logs.clone();
        execute(&sh("echo oops >&2"), c).await;
        let lines: Vec<(LogStream, String)> = logs
            .take()
            .into_iter()
            .map(|l| (l.stream, l.line))
            .collect();
        assert_eq!(lines, [(LogStream::Stderr, "oops".to_string())]);
    }

    #[tokio::test]
    async fn non_zero_exit_fails_with_code() {
        let (c, _tx) = ctx();
        let r = execute(&sh("exit 3"), c).await;
        assert_eq!(r.outcome, StepOutcome::Failed);
        assert_eq!(r.exit_code, Some(3));
        assert_eq!(r.error.as_deref(), Some("exit code 3"));
    }

    #[tokio::test]
    async fn killed_by_signal_is_named() {
        let (c, _tx) = ctx();
        let r = execute(&sh("kill -KILL $$"), c).await;
        assert_eq!(r.error.as_deref(), Some("killed by SIGKILL"));
        assert_eq!(r.exit_code, None);
    }

    #[tokio::test]
    async fn missing_workdir_fails_clearly() {
        let mut t = sh("true");
        t.workdir = Some("/nonexistent/imx-test-dir".into());
        let (c, _tx) = ctx();
        let r = execute(&t, c).await;
        let err = r.error.unwrap();
        assert!(
            err.starts_with("cannot start /bin/sh in /nonexistent/imx-test-dir"),
            "{err}"
        );
    }

    /// Wait until `path` holds the pids the step wrote (one per line, `n` of them).
    async fn pids_from(path: &std::path::Path, n: usize) -> Vec<i32> {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(text) = std::fs::read_to_string(path) {
                let pids: Vec<i32> = text.lines().filter_map(|l| l.trim().parse().ok()).collect();
                if pids.len() >= n {
                    return pids;
                }
            }
            assert!(
                std::time::Instant::now() < deadline,
                "step never wrote its pids"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn alive(pid: i32) -> bool {
        // Zombies count as gone: read the state from /proc.
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Ok(stat) => !stat
                .rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
            Err(_) => false,
        }
    }

    /// Whether `pid` is gone within a few seconds: a SIGKILL is sent by the time the step
    /// returns, but on a loaded machine the process may take a moment to exit.
    async fn gone_soon(pid: i32) -> bool {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while alive(pid) {
            if std::time::Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        true
    }

    #[tokio::test]
    async fn timeout_kills_the_whole_group_even_if_sigterm_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let pids = dir.path().join("pids");
        // The shell ignores SIGTERM (and so do its children), so SIGKILL must follow.
        let mut t = sh(&format!(
            "trap '' TERM; sleep 300 & echo $! >> {p}; sleep 301 & echo $! >> {p}; wait",
            p = pids.display()
        ));
        t.timeout_ms = Some(500);
        let (c, _tx) = ctx();
        let logs = c.logs.clone();
        let started = std::time::Instant::now();
        let r = execute(&t, c).await;
        assert_eq!(r.error.as_deref(), Some("timed out after 500ms"));
        assert!(started.elapsed() < Duration::from_secs(5));
        for pid in pids_from(&pids, 2).await {
            assert!(gone_soon(pid).await, "grandchild {pid} survived");
        }
        let text = lines(&logs).join("\n");
        assert!(text.contains("SIGKILL"), "{text}");
    }

    #[tokio::test]
    async fn stop_request_kills_grandchildren() {
        let dir = tempfile::tempdir().unwrap();
        let pids = dir.path().join("pids");
        let t = sh(&format!(
            "sleep 300 & echo $! >> {p}; sleep 300; wait",
            p = pids.display()
        ));
        let (c, tx) = ctx();
        let run = tokio::spawn(async move { execute(&t, c).await });
        let grandchild = pids_from(&pids, 1).await[0];
        assert!(alive(grandchild));
        tx.send(Some(StopReason::Revoked)).unwrap();
        let r = run.await.unwrap();
        assert_eq!(r.error.as_deref(), Some("cancelled"));
        assert!(
            gone_soon(grandchild).await,
            "grandchild {grandchild} survived"
        );
    }

    #[tokio::test]
    async fn leftovers_are_killed_when_the_shell_exits() {
        let dir = tempfile::tempdir().unwrap();
        let pids = dir.path().join("pids");
        let t = sh(&format!("sleep 300 & echo $! >> {p}", p = pids.display()));
        let (c, _tx) = ctx();
        let r = execute(&t, c).await;
        assert_eq!(r.outcome, StepOutcome::Succeeded);
        let leftover = pids_from(&pids, 1).await[0];
        assert!(gone_soon(leftover).await, "{leftover} survived");
    }
}
