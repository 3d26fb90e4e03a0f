//! Reading a password: from stdin with `--password-stdin` (one line; the trailing newline is
//! dropped), else from a prompt on the terminal without echo. Never from a flag, so passwords
//! stay out of shell history and process listings.

use std::io::{IsTerminal, Read};

use imx::auth::Secret;

use super::error::CliError;

/// How to ask.
pub struct Ask<'a> {
    /// The prompt, e.g. `Password for alice: `.
    pub prompt: &'a str,
    /// Ask twice and compare (for new passwords).
    pub confirm: bool,
}

/// Read a password from stdin (`from_stdin`) or the terminal.
pub fn read(from_stdin: bool, ask: &Ask<'_>) -> Result<Secret, CliError> {
    if from_stdin {
        let mut lines = read_stdin(&["--password-stdin"])?;
        return lines
            .pop()
            .ok_or_else(|| CliError::usage("--password-stdin: stdin was empty"));
    }
    ask_terminal(ask)
}

/// One password per line of stdin, for each of `flags` in order (each names what its line is
/// for, in the message when it is missing or empty).
pub fn read_stdin(flags: &[&str]) -> Result<Vec<Secret>, CliError> {
    let mut raw = String::new();
    std::io::stdin()
        .read_to_string(&mut raw)
        .map_err(|e| CliError::other(format!("cannot read the password from stdin: {e}")))?;
    let mut out = Vec::with_capacity(flags.len());
    for (i, flag) in flags.iter().enumerate() {
        let line = line(&raw, i);
        if line.is_empty() {
            zeroize::Zeroize::zeroize(&mut raw);
            return Err(CliError::usage(if i == 0 {
                format!("{flag}: stdin was empty")
            } else {
                format!("{flag}: stdin has no line {} for it", i + 1)
            }));
        }
        out.push(Secret::new(line));
    }
    zeroize::Zeroize::zeroize(&mut raw);
    Ok(out)
}

/// Ask on the terminal, without echo.
pub fn ask_terminal(ask: &Ask<'_>) -> Result<Secret, CliError> {
    if !std::io::stdin().is_terminal() {
        return Err(
            CliError::usage("no terminal to ask for the password on")
                .with_hint("pipe it in with --password-stdin, e.g. `pass show imx | imx login ... --password-stdin`"),
        );
    }
    let first = prompt(ask.prompt)?;
    if ask.confirm {
        let again = prompt("Repeat it: ")?;
        if first != again {
            return Err(CliError::usage(
                "the two passwords differ; nothing was changed",
            ));
        }
    }
    Ok(first)
}

fn prompt(text: &str) -> Result<Secret, CliError> {
    rpassword::prompt_password(text)
        .map(Secret::new)
        .map_err(|e| CliError::other(format!("cannot read the password: {e}")))
}

/// Line `i` (from 0) of `raw`, without its line ending; empty past the end.
fn line(raw: &str, i: usize) -> &str {
    raw.split('\n')
        .nth(i)
        .unwrap_or_default()
        .trim_end_matches('\r')
}

#[cfg(test)]
mod tests {
    use super::line;

    #[test]
    fn stdin_password_is_the_first_line_without_its_ending() {
        assert_eq!(line("s3cret pass\n", 0), "s3cret pass");
        assert_eq!(line("s3cret pass\r\nextra", 0), "s3cret pass");
        assert_eq!(line("s3cret pass\r\nextra", 1), "extra");
        assert_eq!(line("s3cret pass\n", 1), "");
        assert_eq!(line(" spaces kept ", 0), " spaces kept ");
        assert_eq!(line("", 0), "");
    }
}
