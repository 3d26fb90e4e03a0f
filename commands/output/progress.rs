//! Live progress of a run (`run watch`, `run wait`, `workflow run --wait`, the demo).
//!
//! On a terminal: one indicatif line for the run and one per step (state symbol, step, status,
//! attempt, agent, duration, and why it waits when no agent can take it). Elsewhere: a plain
//! status line on stderr whenever a step or the run changes state, or a step's reason for
//! waiting changes. With `-q`: nothing.

use std::collections::BTreeMap;
use std::time::Duration;

use imx::control::step_symbol;
use imx::model::{RunDetail, RunStatus, StepState, StepStatus, now_ms, short_id};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{Printer, duration};

/// Follows one run's state and draws it.
pub struct RunProgress {
    printer: Printer,
    mode: Mode,
    /// What was last shown per step, to print changes only.
    seen: BTreeMap<String, (StepStatus, u32, Option<String>)>,
    run_status: Option<RunStatus>,
}

enum Mode {
    Bars {
        multi: MultiProgress,
        header: ProgressBar,
        steps: BTreeMap<String, ProgressBar>,
    },
    Lines,
    Silent,
}

impl RunProgress {
    /// A display suited to this terminal and these flags.
    pub fn new(printer: &Printer) -> Self {
        let mode = if printer.quiet() {
            Mode::Silent
        } else if printer.live_progress() {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let header = multi.add(ProgressBar::new_spinner());
            header.set_style(spinner_style("{spinner} {msg}"));
            header.enable_steady_tick(Duration::from_millis(120));
            Mode::Bars {
                multi,
                header,
                steps: BTreeMap::new(),
            }
        } else {
            Mode::Lines
        };
        RunProgress {
            printer: printer.clone(),
            mode,
            seen: BTreeMap::new(),
            run_status: None,
        }
    }

    /// Show the run's current state.
    pub fn update(&mut self, detail: &RunDetail) {
        let now = now_ms();
        let width = detail
            .steps
            .iter()
            .map(|s| s.step_id.chars().count())
            .max()
            .unwrap_or(0);
        let run = &detail.run;
        let done = detail
            .steps
            .iter()
            .filter(|s| s.status.is_terminal())
            .count();
        let header = format!(
            "run {} {} v{}  {}  {done}/{} steps  {}",
            short_id(&run.id),
            run.workflow,
            run.workflow_version,
            run.status,
            detail.steps.len(),
            run.duration_ms(now).map(duration).unwrap_or_default(),
        );
        match &mut self.mode {
            Mode::Silent => {}
            Mode::Bars {
                multi,
                header: bar,
                steps,
            } => {
                bar.set_message(header.clone());
                for step in &detail.steps {
                    let pb = steps.entry(step.step_id.clone()).or_insert_with(|| {
                        let pb = multi.add(ProgressBar::new_spinner());
                        pb.set_style(spinner_style("  {prefix} {msg}"));
                        pb
                    });
                    pb.set_prefix(step_symbol(step.status).to_string());
                    pb.set_message(step_line(step, waiting(detail, step), width, now));
                    let active = matches!(step.status, StepStatus::Leased | StepStatus::Running);
                    if active {
                        pb.enable_steady_tick(Duration::from_millis(120));
                    } else {
                        pb.disable_steady_tick();
                        pb.tick();
                    }
                }
                if run.status.is_terminal() {
                    for pb in steps.values() {
                        pb.finish();
                    }
                    bar.finish_with_message(header);
                }
            }
            Mode::Lines => {
                if self.run_status != Some(run.status) {
                    self.printer.status(format!(
                        "run {} ({}): {}",
                        short_id(&run.id),
                        run.workflow,
                        run.status
                    ));
                }
                for step in &detail.steps {
                    let why = waiting(detail, step);
                    let key = (step.status, step.attempt, why.map(str::to_string));
                    if self.seen.get(&step.step_id) != Some(&key) {
                        self.printer.status(format!(
                            "  {} {}",
                            step_symbol(step.status),
                            step_line(step, why, width, now)
                        ));
                        self.seen.insert(step.step_id.clone(), key);
                    }
                }
            }
        }
        self.run_status = Some(run.status);
    }

    /// Stop drawing (leaves the last frame on screen).
    pub fn finish(&mut self) {
        if let Mode::Bars { header, steps, .. } = &mut self.mode {
            for pb in steps.values() {
                pb.finish();
            }
            header.finish();
        }
    }
}

impl Drop for RunProgress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// Why `step` waits, if the control plane says it cannot start now.
fn waiting<'a>(detail: &'a RunDetail, step: &StepState) -> Option<&'a str> {
    detail
        .waiting
        .iter()
        .find(|w| w.step_id == step.step_id)
        .map(|w| w.message.as_str())
}

/// `build  running  attempt 2  agent a1  3.2s`, or `load  ready  waiting: no agent online`.
fn step_line(step: &StepState, waiting: Option<&str>, width: usize, now: i64) -> String {
    let mut line = format!("{:<width$}  {:<10}", step.step_id, step.status.as_str());
    if step.attempt > 1 {
        line.push_str(&format!("  attempt {}", step.attempt));
    }
    if let Some(agent) = &step.agent {
        line.push_str(&format!("  agent {agent}"));
    }
    if let Some(ms) = step.duration_ms(now) {
        line.push_str(&format!("  {}", duration(ms)));
    }
    if let (StepStatus::Failed, Some(err)) = (step.status, &step.error) {
        line.push_str(&format!("  {err}"));
    }
    if let Some(why) = waiting {
        line.push_str(&format!("  waiting: {why}"));
    }
    line.trim_end().to_string()
}

fn spinner_style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
        .tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ ")
}
