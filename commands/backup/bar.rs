//! A progress bar for backup operations (on a terminal only; silent otherwise): one bar per
//! phase — snapshot, compress, read, check — with bytes and throughput.

use std::sync::Mutex;

use imx::backup::{Phase, Progress};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::super::output::Printer;

/// Draws the current phase; does nothing when progress may not be drawn.
pub struct Bar {
    bar: Option<Mutex<ProgressBar>>,
}

impl Bar {
    pub fn new(printer: &Printer) -> Self {
        Bar {
            bar: printer.live_progress().then(|| {
                Mutex::new(ProgressBar::with_draw_target(
                    None,
                    ProgressDrawTarget::stderr(),
                ))
            }),
        }
    }

    /// Clear the bar.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.lock()
                .unwrap_or_else(|p| p.into_inner())
                .finish_and_clear();
        }
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.finish();
    }
}

impl Progress for Bar {
    fn start(&self, phase: Phase, total: u64) {
        let Some(b) = &self.bar else { return };
        let b = b.lock().unwrap_or_else(|p| p.into_inner());
        b.reset();
        let template = if total > 0 {
            "{prefix:>9} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}"
        } else {
            "{prefix:>9} {spinner} {bytes} {bytes_per_sec}"
        };
        b.set_style(
            ProgressStyle::with_template(template)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        b.set_length(total);
        b.set_position(0);
        b.set_prefix(phase.label());
    }

    fn advance(&self, n: u64) {
        if let Some(b) = &self.bar {
            b.lock().unwrap_or_else(|p| p.into_inner()).inc(n);
        }
    }
}
