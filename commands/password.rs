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
        let mut raw = String::new();
        std::io::stdin()
            .read_to_string(&mut raw)
            .map_err(|e| CliError::other(format!("cannot read the password from stdin: {e}")))?;
        let secret = Secret::new(first_line(&raw));
        zeroize::Zeroize::zeroize(&mut raw);
        if secret.is_empty() {
            return Err(CliError::usage("--password-stdin: stdin was empty"));
        }
        return Ok(secret);
    }
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

/// The first line of `raw`, without its line ending.
fn first_line(raw: &str) -> String {
    raw.split(['\n'])
        .next()
        .unwrap_or_default()
        .trim_end_matches('\r')
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::first_line;

    #[test]
    fn stdin_password_is_the_first_line_without_its_ending() {
        assert_eq!(first_line("s3cret pass\n"), "s3cret pass");
        assert_eq!(first_line("s3cret pass\r\nextra"), "s3cret pass");
        assert_eq!(first_line(" spaces kept "), " spaces kept ");
        assert_eq!(first_line(""), "");
    }
}
