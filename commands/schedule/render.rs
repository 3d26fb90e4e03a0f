//! How schedules, their upcoming ticks, missed ticks and backfills look in tables and details.

use imx::control::{BackfillTick, MissedTick, ScheduleDetail};
use imx::model::ScheduleInfo;
use imx::model::time::to_rfc3339;

use super::super::output::{Cells, Detail, Row};

fn exact(ms: Option<i64>) -> String {
    ms.and_then(to_rfc3339).unwrap_or_else(|| "-".into())
}

/// `cron EXPR` or `every D`, with the zone when not UTC.
pub fn timing(s: &ScheduleInfo) -> String {
    let t = match (&s.spec.cron, s.spec.every_ms) {
        (Some(c), _) => format!("cron {c}"),
        (None, Some(ms)) => format!("every {}", imx::model::duration_text(ms)),
        (None, None) => "-".into(),
    };
    if s.spec.timezone == "UTC" {
        t
    } else {
        format!("{t} ({})", s.spec.timezone)
    }
}

impl Row for ScheduleInfo {
    fn headers(cx: &Cells) -> Vec<&'static str> {
        let mut h = vec![
            "NAME", "WORKFLOW", "TIMING", "STATE", "NEXT", "FIRED", "MISSED",
        ];
        if cx.wide || cx.machine {
            h.extend(["SKIPPED", "DROPPED", "OVERLAP", "ORIGIN", "NOTE"]);
        }
        h
    }

    fn cells(&self, cx: &Cells) -> Vec<String> {
        let mut c = vec![
            self.name.clone(),
            self.workflow.clone(),
            timing(self),
            if self.paused { "paused" } else { "active" }.to_string(),
            exact(self.next_fire),
            self.fired.to_string(),
            self.missed.to_string(),
        ];
        if cx.wide || cx.machine {
            c.push(self.skipped.to_string());
            c.push(self.dropped.to_string());
            c.push(self.spec.overlap.as_str().to_string());
            c.push(self.origin.clone());
            c.push(cx.opt(self.note.as_deref()));
        }
        c
    }

    fn name(&self) -> String {
        self.name.clone()
    }
}

impl Detail for ScheduleInfo {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn fields(&self, cx: &Cells) -> Vec<(&'static str, String)> {
        info_fields(self, cx)
    }
}

fn info_fields(s: &ScheduleInfo, cx: &Cells) -> Vec<(&'static str, String)> {
    let mut f = vec![
        ("Schedule", s.name.clone()),
        ("Workflow", s.workflow.clone()),
        ("Timing", timing(s)),
        (
            "State",
            match (&s.paused, &s.note) {
                (true, Some(n)) => format!("paused: {n}"),
                (true, None) => "paused".into(),
                (false, _) => "active".into(),
            },
        ),
        ("Overlap", s.spec.overlap.as_str().to_string()),
        (
            "Catch-up",
            format!(
                "window {}{}",
                imx::model::duration_text(s.spec.catchup_window_ms),
                s.spec
                    .max_catchup
                    .map(|m| format!(", at most {m} at once"))
                    .unwrap_or_default()
            ),
        ),
        (
            "Ticks",
            format!(
                "{} fired, {} missed, {} skipped, {} dropped",
                s.fired, s.missed, s.skipped, s.dropped
            ),
        ),
        ("Last tick", exact(Some(s.last_nominal))),
        ("Origin", s.origin.clone()),
        ("Created", cx.time(Some(s.created_at))),
    ];
    if !s.spec.labels.is_empty() {
        f.push(("Run labels", cx.map(&s.spec.labels)));
    }
    if s.spec.jitter_ms > 0 {
        f.push(("Jitter", imx::model::duration_text(s.spec.jitter_ms)));
    }
    if let Some(l) = s.spec.limit {
        f.push(("Limit", format!("{l} runs")));
    }
    if s.spec.pause_on_failure {
        f.push(("On failure", "pause".into()));
    }
    f
}

impl Detail for ScheduleDetail {
    fn name(&self) -> String {
        self.schedule.name.clone()
    }

    fn fields(&self, cx: &Cells) -> Vec<(&'static str, String)> {
        let mut f = info_fields(&self.schedule, cx);
        if self.schedule.spec.cron.is_some() {
            f.push((
                "DST",
                format!(
                    "gap {}, fold {}",
                    self.schedule.spec.dst.gap.as_str(),
                    self.fold.as_str()
                ),
            ));
        }
        f
    }

    fn table(&self, _cx: &Cells) -> Option<(Vec<&'static str>, Vec<Vec<String>>)> {
        let rows = self
            .upcoming
            .iter()
            .map(|u| {
                vec![
                    u.local.clone(),
                    exact(Some(u.nominal_time)),
                    exact(Some(u.fire_at)),
                ]
            })
            .collect();
        Some((vec!["NEXT (LOCAL)", "NEXT (UTC)", "FIRES AT (UTC)"], rows))
    }
}

impl Row for MissedTick {
    fn headers(_cx: &Cells) -> Vec<&'static str> {
        vec!["NOMINAL TIME", "OUTCOME", "WHY"]
    }

    fn cells(&self, _cx: &Cells) -> Vec<String> {
        vec![
            exact(Some(self.nominal_time)),
            self.outcome.clone(),
            self.reason.clone(),
        ]
    }

    fn name(&self) -> String {
        exact(Some(self.nominal_time))
    }
}

impl Row for BackfillTick {
    fn headers(_cx: &Cells) -> Vec<&'static str> {
        vec!["NOMINAL TIME", "ACTION", "RUN"]
    }

    fn cells(&self, cx: &Cells) -> Vec<String> {
        vec![
            exact(Some(self.nominal_time)),
            self.action.clone(),
            self.run_id
                .as_deref()
                .map_or_else(|| "-".into(), |r| cx.id(r)),
        ]
    }

    fn name(&self) -> String {
        exact(Some(self.nominal_time))
    }
}
