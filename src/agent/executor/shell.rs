//! The `run` executor: `/bin/sh -c <command>` in its own process group, output captured line by
//! line, `$IMX_OUTPUT` parsed into outputs. On timeout or stop the whole group gets SIGTERM, then
//! SIGKILL after a grace period; when the shell exits, whatever it left running in its group is
//! killed too, so a step never leaks processes.

use std::os::unix::process::ExitStatusExt;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;

use super::lines::{MAX_LINE, next_line};
use super::output_file::OutputFile;
use super::{ExecContext, StopReason, human, stop_requested};
use crate::agent::logs::LogSink;
use crate::model::{LogStream, StepOutcome, StepResult, StepTask};

/// How long output pipes may stay open after the process group is gone (something that left
/// the group, e.g. via `setsid`, may still hold them).
const DRAIN_LIMIT: Duration = Duration::from_secs(2);

enum Ended {
    Exited(std::io::Result<ExitStatus>),
    TimedOut(Duration),
    Stopped(StopReason),
}

pub(super) async fn run(task: &StepTask, command: &str, mut ctx: ExecContext) -> StepResult {
    let output = match OutputFile::create() {
        Ok(f) => f,
        Err(e) => {
            return StepResult::failed(format!("cannot create the $IMX_OUTPUT file: {e}"), None);
        }
    };
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(command)
        .envs(&task.env)
        .env("IMX_RUN_ID", &task.lease.run_id)
        .env("IMX_STEP_ID", &task.lease.step_id)
        .env("IMX_ATTEMPT", task.lease.attempt.to_string())
        .env("IMX_IDEMPOTENCY_KEY", &task.idempotency_key)
        .env("IMX_WORKFLOW", &task.workflow)
        .env("IMX_OUTPUT", output.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    if let Some(dir) = &task.workdir {
        cmd.current_dir(dir);
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            let place = task
                .workdir
                .as_deref()
                .map(|d| format!(" in {d}"))
                .unwrap_or_default();
            return StepResult::failed(format!("cannot start /bin/sh{place}: {e}"), None);
        }
    };
    // The child leads its own group, so its pid is the group id.
    let group = child
        .id()
        .and_then(|id| i32::try_from(id).ok())
        .map(Pid::from_raw);
    let mut readers = Vec::with_capacity(2);
    if let Some(out) = child.stdout.take() {
        readers.push(tokio::spawn(pump(out, LogStream::Stdout, ctx.logs.clone())));
    }
    if let Some(err) = child.stderr.take() {
        readers.push(tokio::spawn(pump(err, LogStream::Stderr, ctx.logs.clone())));
    }

    let timeout = task.timeout_ms.map(Duration::from_millis);
    let ended = tokio::select! {
        status = child.wait() => Ended::Exited(status),
        () = sleep_or_never(timeout) => Ended::TimedOut(timeout.unwrap_or_default()),
        reason = stop_requested(&mut ctx.stop) => Ended::Stopped(reason),
    };
    let status = match &ended {
        Ended::Exited(_) => None,
        Ended::TimedOut(d) => {
            ctx.logs.push(
                LogStream::System,
                format!(
                    "imx: timed out after {}; stopping the process group",
                    human(*d)
                ),
            );
            Some(terminate(&mut child, group, ctx.kill_grace, &ctx.logs).await)
        }
        Ended::Stopped(reason) => {
            ctx.logs.push(
                LogStream::System,
                format!("imx: {}; stopping the process group", stop_text(*reason)),
            );
            Some(terminate(&mut child, group, ctx.kill_grace, &ctx.logs).await)
        }
    };
    // Anything the shell left running in its group goes with it.
    signal_group(group, Signal::SIGKILL);
    // What is left in the pipes is read without waiting for the control plane.
    ctx.logs.release();
    drain(readers).await;

    let (outputs, warnings) = output.read().await;
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

/// SIGTERM the group, wait up to `grace`, then SIGKILL it; returns how the shell ended.
async fn terminate(
    child: &mut Child,
    group: Option<Pid>,
    grace: Duration,
    logs: &LogSink,
) -> std::io::Result<ExitStatus> {
    signal_group(group, Signal::SIGTERM);
    if let Ok(status) = tokio::time::timeout(grace, child.wait()).await {
        return status;
    }
    logs.push(
        LogStream::System,
        format!(
            "imx: still running {} after SIGTERM; sending SIGKILL",
            human(grace)
        ),
    );
    signal_group(group, Signal::SIGKILL);
    if group.is_none() {
        // No group to signal: at least kill the shell itself.
        let _ = child.start_kill();
    }
    child.wait().await
}

fn signal_group(group: Option<Pid>, signal: Signal) {
    if let Some(pgid) = group {
        // ESRCH (nobody left in the group) is the usual, fine outcome.
        let _ = killpg(pgid, signal);
    }
}

async fn sleep_or_never(d: Option<Duration>) {
    match d {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}

/// Copy lines from a pipe into the sink until it closes, reading more slowly while the sink is
/// full (back-pressure: the step waits on its writes rather than lines being dropped).
async fn pump(pipe: impl AsyncRead + Unpin, stream: LogStream, logs: LogSink) {
    let mut reader = BufReader::new(pipe);
    loop {
        match next_line(&mut reader, MAX_LINE).await {
            Ok(Some(line)) => logs.send(stream, line).await,
            Ok(None) => break,
            Err(e) => {
                logs.push(
                    LogStream::System,
                    format!("imx: cannot read {}: {e}", stream.as_str()),
                );
                break;
            }
        }
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
    async fn stderr_lines_are_marked() {
        let (c, _tx) = ctx();
        let logs = c.logs.clone();
        execute(&sh("echo oops >&2"), c).await;
        assert_eq!(logs.take(), [(LogStream::Stderr, "oops".to_string())]);
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
            assert!(!alive(pid), "grandchild {pid} survived");
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
        assert!(!alive(grandchild), "grandchild {grandchild} survived");
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
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while alive(leftover) {
            assert!(std::time::Instant::now() < deadline, "{leftover} survived");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}
