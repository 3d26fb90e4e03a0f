//! How the CLI's agents (`imx agent run`, and the embedded agents of `imx server` and `imx
//! demo`) start their steps: this `imx` binary as the step shim, the containment from
//! `IMX_CONTAINMENT` (`auto`, `cgroup` or `subreaper`; for tests and odd hosts), and the
//! `--pass-env` variables taken from this process's environment.

use imx::agent::{AgentEvent, Containment, StepLaunch};

use super::super::error::CliError;
use super::super::output::Printer;

/// The environment variable that chooses the containment.
const CONTAINMENT_ENV: &str = "IMX_CONTAINMENT";

/// The step launch of a CLI agent; `pass_env` names variables of this process to pass to
/// steps (a warning for each one that is not set).
pub fn launch(out: &Printer, pass_env: &[String]) -> Result<StepLaunch, CliError> {
    let containment = match std::env::var(CONTAINMENT_ENV) {
        Ok(v) => v
            .parse::<Containment>()
            .map_err(|e| CliError::usage(format!("{CONTAINMENT_ENV}: {e}")))?,
        Err(_) => Containment::Auto,
    };
    let mut pass = Vec::new();
    for name in pass_env {
        match std::env::var_os(name) {
            Some(value) => pass.push((name.clone(), value)),
            None => out.warn(format!(
                "--pass-env {name}: not set in this environment, so steps do not get it"
            )),
        }
    }
    Ok(StepLaunch {
        // This very binary, even if the file was replaced since it started.
        shim: Some("/proc/self/exe".into()),
        containment,
        pass_env: pass,
        run_as: None,
        private_workdir: false,
    })
}

/// The start-up line that says how steps are contained.
pub fn containment_line(how: &str) -> String {
    format!("Steps run with a clean environment, contained by {how}.")
}

/// For agents without their own event printer (embedded ones): print how steps are contained
/// (once) and every warning.
pub fn embedded_events(out: Printer) -> tokio::sync::mpsc::UnboundedSender<AgentEvent> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut told = false;
        while let Some(event) = rx.recv().await {
            match event {
                AgentEvent::Containment(how) if !told => {
                    told = true;
                    out.status(containment_line(&how));
                }
                AgentEvent::Warning(w) => out.warn(w),
                _ => {}
            }
        }
    });
    tx
}

/// The step launch of embedded agents (`imx server --agents N`): as `user` when given, each
/// step in a private temp directory, never beside the store. As root, a user is required:
/// steps of the server's own user could read the store (every password hash) and change it.
pub fn embedded(
    out: &Printer,
    agents: u32,
    user: Option<&str>,
    pass_env: &[String],
) -> Result<StepLaunch, CliError> {
    let root = nix::unistd::geteuid().is_root();
    if agents > 0 && root && user.is_none() {
        return Err(CliError::usage(
            "refusing to run embedded agents as root: their steps could read and change the store",
        )
        .with_hint(
            "add --agents-user USER (e.g. --agents-user nobody) to run their steps as that user, or run agents as separate `imx agent run` processes",
        ));
    }
    let mut launch = launch(out, pass_env)?;
    launch.private_workdir = true;
    if let Some(user) = user {
        let user = imx::agent::StepUser::lookup(user)?;
        if !root && user.uid != nix::unistd::geteuid().as_raw() {
            return Err(CliError::usage(format!(
                "--agents-user {}: only a server running as root can run steps as another user",
                user.name
            )));
        }
        launch.run_as = Some(user);
    }
    Ok(launch)
}

/// Warn when embedded agents' steps run as another user who could still read the store
/// (a world-readable store file in a directory others may enter).
pub fn warn_if_store_readable(out: &Printer, launch: &StepLaunch, store: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    let Some(user) = &launch.run_as else { return };
    let mode = |p: &std::path::Path| std::fs::metadata(p).map(|m| m.permissions().mode());
    let file_readable = mode(store).is_ok_and(|m| m & 0o004 != 0);
    let dir_open = store
        .parent()
        .is_none_or(|d| mode(d).is_ok_and(|m| m & 0o001 != 0));
    if file_readable && dir_open {
        out.warn(format!(
            "the store {} can be read by other users, {} included: make it private (chmod 600 the file, 700 its directory)",
            store.display(),
            user.name
        ));
    }
}
