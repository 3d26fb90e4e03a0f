//! The one printer: everything the user sees goes through [`Printer`].
//!
//! - Data goes to stdout in the format chosen with `-o`: `table` and `wide` (comfy-table, sized
//!   to the terminal or `COLUMNS`), `json` and `yaml` (the model structs via serde; lists are
//!   arrays; times RFC 3339, durations `*_ms`), `csv` (a header and the table's columns, full
//!   ids, RFC 3339 times) and `name` (bare ids or names, one per line).
//! - Streams of records (`run logs`, `audit tail`, with or without `-f`) go through
//!   [`RecordStream`]: `-o json` is NDJSON, one object per line.
//! - Status, warnings, hints and errors go to stderr; `-q` silences status.
//! - Colour only on a terminal, and never with `--no-color` or `NO_COLOR`.
//!
//! Commands describe their data with [`Row`] (one line of a list) or [`Detail`] (one object
//! shown as fields plus a table); the rendering lives here, once.

mod human;
pub mod progress;
mod stream;
mod table;
pub mod template;
pub mod trace;

use std::io::{IsTerminal, Write};

use serde::Serialize;

pub use human::{Cells, DEFAULT_ID, MIN_ID, ago, count, duration, unique_prefix_len};
pub use stream::RecordStream;

use crate::commands::error::CliError;

/// What `-o` prints, for `imx help output` and the top of `imx --help` (and so the man page).
pub const OUTPUT_HELP: &str = "\
Output (-o FORMAT; data on stdout, status and errors on stderr):
  table, wide  columns for people: short ids, relative times (wide: more columns, full ids)
  json, yaml   the objects, a stable schema: times are RFC 3339 (UTC), durations are
               milliseconds in *_ms fields, counters are present when zero; lists are arrays;
               streams of records (run logs, audit tail), with or without -f, are one JSON
               object per line (NDJSON), or one YAML document per record
  csv          a header and the table's columns: full ids, RFC 3339 times, seconds
  name         bare ids or names, one per line
  template=T   fields picked without jq: T is a Jinja template rendered per record with its JSON
               fields as variables, e.g. -o template='{{ id }} {{ status }}'
";

/// The `-o/--output` formats.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for people (short ids, relative times).
    #[default]
    Table,
    /// The table with more columns (full ids, labels, ...).
    Wide,
    /// JSON: the model objects (times RFC 3339, durations in `*_ms`); lists are arrays, streams
    /// of records (run logs, audit tail) one object per line.
    Json,
    /// YAML: the same data as JSON.
    Yaml,
    /// CSV: a header and the table's columns (full ids, RFC 3339 times).
    Csv,
    /// Bare ids or names, one per line.
    Name,
    /// `template=TEXT`: each record through a template (see [`template`]).
    #[value(skip)]
    Template,
}

/// Parses `-o`: a [`Format`] name, or `template=TEXT` (which [`template::set`] keeps).
#[derive(Debug, Clone, Copy)]
pub struct FormatParser;

impl clap::builder::TypedValueParser for FormatParser {
    type Value = Format;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Format, clap::Error> {
        if let Some(text) = value
            .to_str()
            .and_then(|v| v.strip_prefix(template::PREFIX))
        {
            template::set(text.to_string());
            return Ok(Format::Template);
        }
        clap::builder::EnumValueParser::<Format>::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        use clap::ValueEnum;
        let formats = Format::value_variants()
            .iter()
            .filter_map(ValueEnum::to_possible_value);
        Some(Box::new(formats.chain(
            std::iter::once(
                clap::builder::PossibleValue::new(template::PREFIX).help(
                    "TEXT: a Jinja template per record, e.g. template='{{ id }} {{ status }}'",
                ),
            ),
        )))
    }
}

/// One line of a list: its columns, and its bare name for `-o name`.
pub trait Row: Serialize {
    /// Column headers (more when `cx.wide`).
    fn headers(cx: &Cells) -> Vec<&'static str>;
    /// This row's cells, in header order.
    fn cells(&self, cx: &Cells) -> Vec<String>;
    /// The id or name printed by `-o name`.
    fn name(&self) -> String;
    /// The row's id, if it has one that tables shorten (see [`Cells::id`]).
    fn id(&self) -> Option<&str> {
        None
    }
}

/// One object shown on its own: labelled fields, then an optional table (e.g. a run's steps).
pub trait Detail: Serialize {
    /// The id or name printed by `-o name`.
    fn name(&self) -> String;
    /// `Label: value` lines for people.
    fn fields(&self, cx: &Cells) -> Vec<(&'static str, String)>;
    /// The table under the fields; also what `-o csv` prints.
    fn table(&self, _cx: &Cells) -> Option<(Vec<&'static str>, Vec<Vec<String>>)> {
        None
    }
    /// Lines after the table (e.g. step errors).
    fn notes(&self, _cx: &Cells) -> Vec<String> {
        Vec::new()
    }
}

/// How data is rendered: format, width, colour and the clock.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub format: Format,
    /// Table width; `None` means do not wrap (output is not a terminal).
    pub width: Option<u16>,
    pub color: bool,
    pub now: i64,
}

impl Style {
    fn cells(&self) -> Cells {
        Cells {
            wide: self.format == Format::Wide,
            machine: self.format == Format::Csv,
            now: self.now,
            id_len: DEFAULT_ID,
        }
    }
}

/// Render a list in `style.format`.
pub fn render_list<T: Row>(items: &[T], style: &Style) -> Result<String, CliError> {
    let mut cx = style.cells();
    let ids: Vec<&str> = items.iter().filter_map(Row::id).collect();
    if !ids.is_empty() {
        cx.id_len = unique_prefix_len(&ids, MIN_ID);
    }
    match style.format {
        Format::Json => json(&items),
        Format::Yaml => yaml(&items),
        Format::Template => template::render(items),
        Format::Name => Ok(lines(items.iter().map(Row::name))),
        Format::Csv => Ok(table::csv(
            &T::headers(&cx),
            items.iter().map(|i| i.cells(&cx)),
        )),
        Format::Table | Format::Wide => Ok(table::render(
            &T::headers(&cx),
            items.iter().map(|i| i.cells(&cx)),
            style,
        )),
    }
}

/// Render one object in `style.format`.
pub fn render_detail<T: Detail>(item: &T, style: &Style) -> Result<String, CliError> {
    let cx = style.cells();
    match style.format {
        Format::Json => json(item),
        Format::Yaml => yaml(item),
        Format::Template => template::render([item]),
        Format::Name => Ok(lines([item.name()])),
        Format::Csv => Ok(match item.table(&cx) {
            Some((headers, rows)) => table::csv(&headers, rows),
            None => table::csv(
                &["field", "value"],
                item.fields(&cx)
                    .into_iter()
                    .map(|(k, v)| vec![k.to_lowercase(), v]),
            ),
        }),
        Format::Table | Format::Wide => {
            let fields = item.fields(&cx);
            let label_width = fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 1;
            let mut out = String::new();
            for (k, v) in &fields {
                out.push_str(&format!("{:<label_width$} {v}\n", format!("{k}:")));
            }
            if let Some((headers, rows)) = item.table(&cx) {
                if !fields.is_empty() {
                    out.push('\n');
                }
                out.push_str(&table::render(&headers, rows, style));
            }
            let notes = item.notes(&cx);
            if !notes.is_empty() {
                out.push('\n');
                out.push_str(&lines(notes));
            }
            Ok(out)
        }
    }
}

fn json<T: Serialize + ?Sized>(value: &T) -> Result<String, CliError> {
    let mut s = serde_json::to_string_pretty(value)
        .map_err(|e| CliError::other(format!("cannot encode JSON: {e}")))?;
    s.push('\n');
    Ok(s)
}

fn yaml<T: Serialize + ?Sized>(value: &T) -> Result<String, CliError> {
    serde_saphyr::to_string(&value).map_err(|e| CliError::other(format!("cannot encode YAML: {e}")))
}

fn lines(items: impl IntoIterator<Item = String>) -> String {
    items.into_iter().fold(String::new(), |mut s, l| {
        s.push_str(&l);
        s.push('\n');
        s
    })
}

/// Everything the user sees: data on stdout, the rest on stderr.
#[derive(Debug, Clone)]
pub struct Printer {
    format: Format,
    quiet: bool,
    verbose: u8,
    /// Colour on stdout / stderr.
    out_color: bool,
    err_color: bool,
    stderr_tty: bool,
    width: Option<u16>,
}

impl Printer {
    /// A printer for this process: detects terminals, `COLUMNS` and `NO_COLOR`.
    pub fn new(format: Format, quiet: bool, verbose: u8, no_color: bool) -> Self {
        let no_color = no_color || std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let stdout_tty = std::io::stdout().is_terminal();
        let stderr_tty = std::io::stderr().is_terminal();
        let width = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.trim().parse::<u16>().ok())
            .filter(|w| *w > 0)
            .or_else(|| {
                stdout_tty
                    .then(|| console::Term::stdout().size_checked().map(|(_, w)| w))
                    .flatten()
            });
        Printer {
            format,
            quiet,
            verbose,
            out_color: stdout_tty && !no_color,
            err_color: stderr_tty && !no_color,
            stderr_tty,
            width,
        }
    }

    /// The `-o` format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Whether the user asked for machine-readable output (json, yaml, csv, name, template).
    pub fn is_machine(&self) -> bool {
        !matches!(self.format, Format::Table | Format::Wide)
    }

    /// Whether live progress (bars, spinners) may be drawn: stderr is a terminal and not `-q`.
    pub fn live_progress(&self) -> bool {
        self.stderr_tty && !self.quiet
    }

    pub fn quiet(&self) -> bool {
        self.quiet
    }

    pub fn verbosity(&self) -> u8 {
        self.verbose
    }

    /// The rendering style for data written now.
    pub fn style(&self) -> Style {
        Style {
            format: self.format,
            width: self.width,
            color: self.out_color,
            now: imx::model::now_ms(),
        }
    }

    /// Print a list as data.
    pub fn list<T: Row>(&self, items: &[T]) -> Result<(), CliError> {
        self.data(&render_list(items, &self.style())?)
    }

    /// Print one object as data.
    pub fn detail<T: Detail>(&self, item: &T) -> Result<(), CliError> {
        self.data(&render_detail(item, &self.style())?)
    }

    /// The object a mutation returned, printed only for machine formats (`-o json|yaml|csv|name`);
    /// people get the status line the command prints.
    pub fn result<T: Detail>(&self, item: &T) -> Result<(), CliError> {
        if self.is_machine() {
            self.detail(item)?;
        }
        Ok(())
    }

    /// Write text to stdout as is.
    pub fn data(&self, text: &str) -> Result<(), CliError> {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())?;
        out.flush()?;
        Ok(())
    }

    /// One line of data on stdout.
    pub fn line(&self, text: &str) -> Result<(), CliError> {
        self.data(&format!("{text}\n"))
    }

    /// A status message on stderr (silenced by `-q`).
    pub fn status(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            self.err_line(msg.as_ref());
        }
    }

    /// A message shown only with `-v`.
    pub fn verbose(&self, msg: impl AsRef<str>) {
        if self.verbose > 0 && !self.quiet {
            self.err_line(msg.as_ref());
        }
    }

    /// A warning on stderr (never silenced).
    #[allow(dead_code)] // printer API for commands being added by other issues
    pub fn warn(&self, msg: impl AsRef<str>) {
        let label = self.paint_err("warning:", console::Style::new().yellow().bold());
        self.err_line(&format!("{label} {}", msg.as_ref()));
    }

    /// A hint on stderr (silenced by `-q`).
    pub fn hint(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            let label = self.paint_err("hint:", console::Style::new().cyan().bold());
            self.err_line(&format!("{label} {}", msg.as_ref()));
        }
    }

    /// The one place errors are printed.
    pub fn error(&self, err: &CliError) {
        if err.message.is_empty() {
            return;
        }
        let label = self.paint_err("error:", console::Style::new().red().bold());
        self.err_line(&format!("{label} {}", err.message));
        if let Some(hint) = &err.hint {
            let label = self.paint_err("hint:", console::Style::new().cyan().bold());
            self.err_line(&format!("{label} {hint}"));
        }
    }

    /// Text styled for stderr when colour is on.
    pub fn paint_err(&self, text: &str, style: console::Style) -> String {
        if self.err_color {
            style.force_styling(true).apply_to(text).to_string()
        } else {
            text.to_string()
        }
    }

    fn err_line(&self, line: &str) {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{line}");
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
