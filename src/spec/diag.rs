//! Diagnostics: every problem found in a workflow file, each with its `file:line:col`, gathered
//! so validation can report all of them at once in one [`Error::Invalid`].

use crate::Error;

/// A position in the source: 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub(crate) struct Pos {
    pub line: usize,
    pub col: usize,
}

impl Pos {
    pub(crate) fn new(line: usize, col: usize) -> Self {
        Pos { line, col }
    }
}

/// One problem: where, what, and optionally what to do about it.
#[derive(Debug, Clone)]
pub(crate) struct Diag {
    pub pos: Pos,
    pub message: String,
    pub hint: Option<String>,
}

/// The problems found in one file, and the warnings (things that work but deserve a look).
#[derive(Debug)]
pub(crate) struct Diagnostics {
    file: String,
    items: Vec<Diag>,
    warnings: Vec<Diag>,
}

impl Diagnostics {
    pub(crate) fn new(file: &str) -> Self {
        Diagnostics {
            file: file.to_string(),
            items: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// How many problems are recorded so far.
    pub(crate) fn error_count(&self) -> usize {
        self.items.len()
    }

    /// Record a problem at `pos`.
    pub(crate) fn error(&mut self, pos: Pos, message: impl Into<String>) {
        self.push(pos, message.into(), None);
    }

    /// Record a problem at `pos` with a hint (which may be absent).
    pub(crate) fn error_hint(
        &mut self,
        pos: Pos,
        message: impl Into<String>,
        hint: Option<String>,
    ) {
        self.push(pos, message.into(), hint);
    }

    /// Record a warning at `pos`: the file stays valid.
    pub(crate) fn warn(&mut self, pos: Pos, message: impl Into<String>, hint: Option<String>) {
        self.warnings.push(Diag {
            pos,
            message: message.into(),
            hint,
        });
    }

    /// The warnings, one line each (`file:line:col: message (hint)`), in source order.
    pub(crate) fn warning_lines(&self) -> Vec<String> {
        let mut w = self.warnings.clone();
        w.sort_by_key(|d| d.pos);
        w.iter().map(|d| line(&self.file, d)).collect()
    }

    fn push(&mut self, pos: Pos, message: String, hint: Option<String>) {
        self.items.push(Diag { pos, message, hint });
    }

    /// `value` if nothing was wrong, else every problem as one [`Error::Invalid`].
    pub(crate) fn finish<T>(self, value: T) -> Result<T, Error> {
        match combine(vec![self]) {
            Some(err) => Err(err),
            None => Ok(value),
        }
    }
}

/// Merge the problems of several files into one [`Error::Invalid`] (`None` when there are none).
///
/// Each problem is one line, `file:line:col: message`, in source order. A lone problem keeps its
/// hint as the error's hint; with several, each hint follows its line in parentheses.
pub(crate) fn combine(all: Vec<Diagnostics>) -> Option<Error> {
    let mut lines: Vec<(String, Diag)> = Vec::new();
    for mut d in all {
        d.items.sort_by_key(|i| i.pos);
        lines.extend(d.items.into_iter().map(|i| (d.file.clone(), i)));
    }
    match lines.len() {
        0 => None,
        1 => {
            let (file, d) = lines.remove(0);
            Some(Error::Invalid {
                message: format!("{file}:{}:{}: {}", d.pos.line, d.pos.col, d.message),
                hint: d.hint,
            })
        }
        _ => {
            let message = lines
                .iter()
                .map(|(file, d)| line(file, d))
                .collect::<Vec<_>>()
                .join("\n");
            Some(Error::Invalid {
                message,
                hint: None,
            })
        }
    }
}

/// `file:line:col: message (hint)`.
fn line(file: &str, d: &Diag) -> String {
    let mut line = format!("{file}:{}:{}: {}", d.pos.line, d.pos.col, d.message);
    if let Some(h) = &d.hint {
        line.push_str(&format!(" ({h})"));
    }
    line
}
