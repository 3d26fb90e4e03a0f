//! The exit-code contract and the one error type commands return.
//!
//! Every failure becomes a [`CliError`]: a message, an optional hint and an [`Exit`] code. The
//! library's [`imx::Error`] maps to a code through its `kind()`, here and nowhere else; `main`
//! prints the error once (`error: ...` / `hint: ...` on stderr) and exits with the code.

use std::fmt;

use imx::error::ErrorKind;
use imx::model::RunStatus;

/// The documented exit codes (`imx help exit-codes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Ok = 0,
    Error = 1,
    Usage = 2,
    NotFound = 3,
    Forbidden = 4,
    Conflict = 5,
    Unavailable = 6,
    RunFailed = 10,
    RunCancelled = 11,
    RunTimedOut = 12,
    WaitGaveUp = 13,
}

impl Exit {
    /// Every code with what it means, in order; the source of the help topic and the man page.
    pub const TABLE: [(Exit, &'static str); 11] = [
        (Exit::Ok, "success"),
        (
            Exit::Error,
            "error (something went wrong that is not covered below)",
        ),
        (
            Exit::Usage,
            "usage or invalid input: bad flags, params or workflow files",
        ),
        (Exit::NotFound, "not found: the named object does not exist"),
        (Exit::Forbidden, "unauthenticated or forbidden"),
        (
            Exit::Conflict,
            "conflict: the operation does not fit the object's current state",
        ),
        (Exit::Unavailable, "cannot reach or open the control plane"),
        (Exit::RunFailed, "the waited-for run failed"),
        (Exit::RunCancelled, "the waited-for run was cancelled"),
        (
            Exit::RunTimedOut,
            "the waited-for run timed out (its deadline: the workflow's timeout or --timeout)",
        ),
        (
            Exit::WaitGaveUp,
            "the wait gave up (--wait-timeout passed); the run goes on",
        ),
    ];

    /// The numeric code.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The exit code for a finished run that was waited for.
    pub fn for_run(status: RunStatus) -> Exit {
        match status {
            RunStatus::Failed => Exit::RunFailed,
            RunStatus::Cancelled => Exit::RunCancelled,
            RunStatus::TimedOut => Exit::RunTimedOut,
            RunStatus::Queued | RunStatus::Running | RunStatus::Succeeded => Exit::Ok,
        }
    }
}

/// The exit-code table as text, for `imx help exit-codes` and the top man page.
pub fn exit_codes_text() -> String {
    let mut s = String::from("Exit codes:\n");
    for (code, what) in Exit::TABLE {
        s.push_str(&format!("  {:>2}  {what}\n", code.code()));
    }
    s
}

/// An error as the user sees it.
#[derive(Debug)]
pub struct CliError {
    pub exit: Exit,
    pub message: String,
    pub hint: Option<String>,
}

impl CliError {
    /// An error with a code and a message.
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        CliError {
            exit,
            message: message.into(),
            hint: None,
        }
    }

    /// Invalid input (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        CliError::new(Exit::Usage, message)
    }

    /// Something went wrong (exit 1).
    pub fn other(message: impl Into<String>) -> Self {
        CliError::new(Exit::Error, message)
    }

    /// Attach a hint shown on its own line.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<imx::Error> for CliError {
    fn from(err: imx::Error) -> Self {
        let exit = match err.kind() {
            ErrorKind::Internal => Exit::Error,
            ErrorKind::Invalid => Exit::Usage,
            ErrorKind::NotFound => Exit::NotFound,
            ErrorKind::Forbidden | ErrorKind::Unauthenticated => Exit::Forbidden,
            ErrorKind::Conflict => Exit::Conflict,
            ErrorKind::Unavailable => Exit::Unavailable,
        };
        CliError {
            exit,
            hint: err.hint(),
            message: err.to_string(),
        }
    }
}

impl From<std::io::Error> for CliError {
    fn from(err: std::io::Error) -> Self {
        // A closed pipe (`imx run list | head`) is not worth an error message.
        if err.kind() == std::io::ErrorKind::BrokenPipe {
            return CliError::new(Exit::Ok, String::new());
        }
        CliError::other(format!("cannot write output: {err}"))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn library_kinds_map_to_documented_codes() {
        let cases = [
            (imx::Error::invalid("x"), 2),
            (imx::Error::not_found("run", "x"), 3),
            (
                imx::Error::Forbidden {
                    principal: "p".into(),
                    action: "a".into(),
                },
                4,
            ),
            (imx::Error::Unauthenticated("x".into()), 4),
            (imx::Error::LockedOut { until: 0 }, 4),
            (imx::Error::Conflict("x".into()), 5),
            (
                imx::Error::Unavailable {
                    path: "p".into(),
                    reason: "r".into(),
                },
                6,
            ),
            (imx::Error::Internal("x".into()), 1),
        ];
        for (err, code) in cases {
            assert_eq!(CliError::from(err).exit.code(), code);
        }
    }

    #[test]
    fn run_outcomes_map_to_wait_codes() {
        assert_eq!(Exit::for_run(RunStatus::Succeeded).code(), 0);
        assert_eq!(Exit::for_run(RunStatus::Failed).code(), 10);
        assert_eq!(Exit::for_run(RunStatus::Cancelled).code(), 11);
        assert_eq!(Exit::for_run(RunStatus::TimedOut).code(), 12);
        assert_eq!(
            Exit::WaitGaveUp.code(),
            13,
            "giving up the wait has its own code"
        );
    }
}
