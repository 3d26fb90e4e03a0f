//! Streams of records (`run logs`, `audit tail`): printed as they arrive, never collected, and
//! the same with or without `-f`. `-o json` is NDJSON (one object per line), `-o yaml` one
//! document per record (each starts with `---`), `-o csv` one header and then a row per record,
//! `-o name` a name per line; `table` and `wide` print the command's own text line per record.

use super::{Format, Printer, Row, lines, table};
use crate::commands::error::CliError;

/// Prints one stream of records (see the module doc).
pub struct RecordStream<'a> {
    printer: &'a Printer,
    header_done: bool,
}

impl<'a> RecordStream<'a> {
    pub fn new(printer: &'a Printer) -> Self {
        RecordStream {
            printer,
            header_done: false,
        }
    }

    /// Print `records`; `text` renders one for people (`table`, `wide`).
    pub fn write<T: Row>(
        &mut self,
        records: &[T],
        text: impl Fn(&T) -> String,
    ) -> Result<(), CliError> {
        if records.is_empty() {
            return Ok(());
        }
        let style = self.printer.style();
        let cx = style.cells();
        let mut out = String::new();
        match style.format {
            Format::Json => {
                for r in records {
                    let json = serde_json::to_string(r)
                        .map_err(|e| CliError::other(format!("cannot encode JSON: {e}")))?;
                    out.push_str(&json);
                    out.push('\n');
                }
            }
            Format::Yaml => {
                for r in records {
                    out.push_str("---\n");
                    out.push_str(&super::yaml(r)?);
                }
            }
            Format::Csv => {
                let headers = T::headers(&cx);
                if !self.header_done {
                    out = table::csv(&headers, std::iter::empty());
                    self.header_done = true;
                }
                let body = table::csv(&headers, records.iter().map(|r| r.cells(&cx)));
                // Drop the header line that `csv` always writes.
                out.push_str(body.split_once('\n').map_or("", |(_, rows)| rows));
            }
            Format::Name => out = lines(records.iter().map(Row::name)),
            Format::Template => out = super::template::render(records)?,
            Format::Table | Format::Wide => out = lines(records.iter().map(text)),
        }
        self.printer.data(&out)
    }
}
