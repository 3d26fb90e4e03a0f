//! Styles, in one place. With `NO_COLOR` (or `--no-color`) every style keeps only modifiers
//! (bold, reverse, dim), so state stays readable without colour.

use imx::model::{AgentState, RunStatus, StepStatus};
use ratatui::style::{Color, Modifier, Style};

/// The dashboard's styles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    /// Colour unless `no_color` or `NO_COLOR` is set (to anything but the empty string).
    pub fn from_env(no_color: bool) -> Self {
        let env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Theme {
            color: !(no_color || env),
        }
    }

    fn fg(self, c: Color) -> Style {
        if self.color {
            Style::default().fg(c)
        } else {
            Style::default()
        }
    }

    pub fn title(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn dim(self) -> Style {
        if self.color {
            Style::default().fg(Color::DarkGray)
        } else {
            Style::default().add_modifier(Modifier::DIM)
        }
    }

    pub fn key(self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }

    pub fn selected(self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED)
    }

    pub fn header_row(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn ok(self) -> Style {
        self.fg(Color::Green)
    }

    pub fn warn(self) -> Style {
        self.fg(Color::Yellow)
    }

    pub fn error(self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    pub fn active(self) -> Style {
        self.fg(Color::Blue).add_modifier(Modifier::BOLD)
    }

    pub fn run(self, s: RunStatus) -> Style {
        match s {
            RunStatus::Queued => self.dim(),
            RunStatus::Running => self.active(),
            RunStatus::Succeeded => self.ok(),
            RunStatus::Failed | RunStatus::TimedOut => self.error(),
            RunStatus::Cancelled => self.warn(),
        }
    }

    pub fn step(self, s: StepStatus) -> Style {
        match s {
            StepStatus::Pending | StepStatus::Ready => self.dim(),
            StepStatus::Waiting => self.warn(),
            StepStatus::Leased | StepStatus::Running => self.active(),
            StepStatus::Succeeded => self.ok(),
            StepStatus::Failed => self.error(),
            StepStatus::Skipped | StepStatus::Cancelled => self.warn(),
        }
    }

    pub fn agent(self, s: AgentState) -> Style {
        match s {
            AgentState::Online => self.ok(),
            AgentState::Busy => self.active(),
            AgentState::Draining => self.warn(),
            AgentState::Offline => self.dim(),
        }
    }

    pub fn outcome(self, outcome: &str) -> Style {
        match outcome {
            "ok" => self.ok(),
            "denied" => self.warn(),
            _ => self.error(),
        }
    }
}
