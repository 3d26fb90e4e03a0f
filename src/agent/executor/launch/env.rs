//! A step's environment, built from nothing: `PATH`, `HOME`, `LANG` and `TZ` (the agent's, or
//! defaults when it has none), the variables the operator passes through (`--pass-env`), the
//! task's `env` map, and the `IMX_*` step variables. Nothing else of the agent's environment
//! reaches a step — in particular no `IMX_TOKEN` or other credential.

use std::ffi::{OsStr, OsString};
use std::path::Path;

use crate::model::StepTask;

/// `PATH` when the agent has none.
pub(crate) const DEFAULT_PATH: &str =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// `LANG` when the agent has none.
pub(crate) const DEFAULT_LANG: &str = "C.UTF-8";
/// `TZ` when the agent has none: the system's time zone, as if TZ were unset.
pub(crate) const DEFAULT_TZ: &str = ":/etc/localtime";

/// Whether `name` may be passed through from the agent's environment: a plain variable name
/// that does not start with `IMX_` (in any case), so no imx credential can be passed.
pub fn check_pass_env_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a variable name cannot be empty".into());
    }
    if name.contains(['=', '\0']) {
        return Err(format!("{name:?} is not a variable name"));
    }
    if name
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("IMX_"))
    {
        return Err(format!(
            "{name} cannot be passed to steps: IMX_* variables hold imx's own settings and credentials (steps get their IMX_* step variables anyway)"
        ));
    }
    Ok(())
}

/// The agent-wide part of every step's environment: the four base variables and the
/// passed-through ones, in that order. `home` replaces the agent's `HOME` (the step user's).
pub(crate) fn base(
    agent: impl Fn(&str) -> Option<OsString>,
    home: Option<&Path>,
    pass: &[(String, OsString)],
) -> Vec<(OsString, OsString)> {
    let or = |name: &str, default: &str| agent(name).unwrap_or_else(|| default.into());
    let mut env: Vec<(OsString, OsString)> = vec![
        ("PATH".into(), or("PATH", DEFAULT_PATH)),
        (
            "HOME".into(),
            home.map_or_else(|| or("HOME", "/"), |h| h.as_os_str().to_owned()),
        ),
        ("LANG".into(), or("LANG", DEFAULT_LANG)),
        ("TZ".into(), or("TZ", DEFAULT_TZ)),
    ];
    env.extend(pass.iter().map(|(k, v)| (OsString::from(k), v.clone())));
    env
}

/// One step's whole environment: `base`, then `HOME` = `home` if given (a private working
/// directory), the task's `env` map, and the `IMX_*` step variables (which nothing overrides).
pub(crate) fn for_step(
    base: &[(OsString, OsString)],
    home: Option<&Path>,
    task: &StepTask,
    output: &Path,
) -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> = base.to_vec();
    if let Some(home) = home {
        env.push(("HOME".into(), home.as_os_str().to_owned()));
    }
    env.extend(
        task.env
            .iter()
            .map(|(k, v)| (OsString::from(k), OsString::from(v))),
    );
    let lease = &task.lease;
    let attempt = lease.attempt.to_string();
    let vars: [(&str, &OsStr); 6] = [
        ("IMX_RUN_ID", lease.run_id.as_ref()),
        ("IMX_STEP_ID", lease.step_id.as_ref()),
        ("IMX_ATTEMPT", attempt.as_ref()),
        ("IMX_IDEMPOTENCY_KEY", task.idempotency_key.as_ref()),
        ("IMX_WORKFLOW", task.workflow.as_ref()),
        ("IMX_OUTPUT", output.as_os_str()),
    ];
    env.extend(vars.map(|(k, v)| (OsString::from(k), v.to_owned())));
    env
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn pass_env_names_are_checked() {
        assert!(check_pass_env_name("DB_HOST").is_ok());
        for bad in ["", "A=B", "IMX_TOKEN", "IMX_PASSWORD", "imx_token", "Imx_X"] {
            assert!(check_pass_env_name(bad).is_err(), "{bad}");
        }
        let msg = check_pass_env_name("IMX_TOKEN").unwrap_err();
        assert!(msg.contains("IMX_TOKEN"), "{msg}");
    }

    #[test]
    fn base_takes_the_agents_values_or_defaults() {
        let agent = |name: &str| (name == "PATH").then(|| OsString::from("/opt/bin"));
        let pass = vec![("DB_HOST".to_string(), OsString::from("db1"))];
        let env = base(agent, None, &pass);
        let get = |k: &str| {
            env.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.to_string_lossy().into_owned())
        };
        assert_eq!(get("PATH").as_deref(), Some("/opt/bin"));
        assert_eq!(get("HOME").as_deref(), Some("/"));
        assert_eq!(get("LANG").as_deref(), Some(DEFAULT_LANG));
        assert_eq!(get("TZ").as_deref(), Some(DEFAULT_TZ));
        assert_eq!(get("DB_HOST").as_deref(), Some("db1"));
        assert_eq!(env.len(), 5);
        let env = base(agent, Some(Path::new("/home/step")), &[]);
        assert_eq!(env[1].1, "/home/step");
    }
}
