//! How channels, rules and deliveries are shown (tables and details; JSON is the model's).

use imx::notify::{Channel, Delivery, Rule};

use super::super::output::{Cells, Detail, Row};

fn duration(ms: u64) -> String {
    humantime::format_duration(std::time::Duration::from_millis(ms)).to_string()
}

impl Row for Channel {
    fn headers(cx: &Cells) -> Vec<&'static str> {
        let mut h = vec!["NAME", "KIND", "TARGET", "SECRET"];
        if cx.wide || cx.machine {
            h.extend(["SMTP", "ID", "CREATED", "CREATED BY"]);
        }
        h
    }

    fn cells(&self, cx: &Cells) -> Vec<String> {
        let mut c = vec![
            self.name.clone(),
            self.kind.to_string(),
            self.target.clone(),
            if self.has_secret { "sealed" } else { "-" }.into(),
        ];
        if cx.wide || cx.machine {
            c.push(self.smtp.clone().unwrap_or_else(|| "-".into()));
            c.push(cx.id(&self.id));
            c.push(cx.time(Some(self.created_at)));
            c.push(self.created_by.clone());
        }
        c
    }

    fn name(&self) -> String {
        self.name.clone()
    }
}

impl Detail for Channel {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn fields(&self, cx: &Cells) -> Vec<(&'static str, String)> {
        vec![
            ("Name", self.name.clone()),
            ("ID", self.id.clone()),
            ("Kind", self.kind.to_string()),
            ("Target", self.target.clone()),
            ("SMTP", self.smtp.clone().unwrap_or_else(|| "-".into())),
            (
                "Secret",
                if self.has_secret { "sealed" } else { "none" }.into(),
            ),
            ("Created", cx.time(Some(self.created_at))),
            ("Created by", self.created_by.clone()),
        ]
    }
}

fn on(r: &Rule) -> String {
    match r.rule.threshold_ms {
        Some(t) => format!("{} {}", r.rule.on, duration(t)),
        None => r.rule.on.to_string(),
    }
}

impl Row for Rule {
    fn headers(cx: &Cells) -> Vec<&'static str> {
        let mut h = vec![
            "ID", "ON", "WORKFLOW", "CHANNEL", "AFTER", "COOLDOWN", "GROUP", "SOURCE",
        ];
        if cx.wide || cx.machine {
            h.extend(["LABELS", "CREATED", "CREATED BY"]);
        }
        h
    }

    fn cells(&self, cx: &Cells) -> Vec<String> {
        let mut c = vec![
            cx.id(&self.id),
            on(self),
            self.rule.workflow.clone().unwrap_or_else(|| "*".into()),
            self.rule.channel.clone(),
            self.rule.after.to_string(),
            duration(self.rule.cooldown_ms),
            duration(self.rule.group_ms),
            // `workflow`: from the workflow's file (`notify:`), replaced when it is applied.
            self.source.as_str().into(),
        ];
        if cx.wide || cx.machine {
            c.push(cx.map(&self.rule.labels));
            c.push(cx.time(Some(self.created_at)));
            c.push(self.created_by.clone());
        }
        c
    }

    fn name(&self) -> String {
        self.id.clone()
    }
}

impl Detail for Rule {
    fn name(&self) -> String {
        self.id.clone()
    }

    fn fields(&self, cx: &Cells) -> Vec<(&'static str, String)> {
        vec![
            ("ID", self.id.clone()),
            ("On", on(self)),
            (
                "Workflow",
                self.rule.workflow.clone().unwrap_or_else(|| "*".into()),
            ),
            ("Labels", cx.map(&self.rule.labels)),
            ("Channel", self.rule.channel.clone()),
            ("After", self.rule.after.to_string()),
            ("Cooldown", duration(self.rule.cooldown_ms)),
            ("Group", duration(self.rule.group_ms)),
            ("Source", self.source.as_str().into()),
            ("Created", cx.time(Some(self.created_at))),
            ("Created by", self.created_by.clone()),
        ]
    }
}

fn last(d: &Delivery) -> String {
    d.attempts
        .last()
        .map_or_else(|| "-".into(), |a| a.detail.clone())
}

impl Row for Delivery {
    fn headers(cx: &Cells) -> Vec<&'static str> {
        let mut h = vec![
            "ID",
            "CHANNEL",
            "KIND",
            "EVENTS",
            "STATE",
            "ATTEMPTS",
            "LAST RESULT",
            "CREATED",
        ];
        if cx.wide || cx.machine {
            h.extend(["RULE", "DUE", "DELIVERED"]);
        }
        h
    }

    fn cells(&self, cx: &Cells) -> Vec<String> {
        let mut c = vec![
            cx.id(&self.id),
            self.channel.clone(),
            self.kind.clone(),
            self.events.len().to_string(),
            self.state.as_str().into(),
            self.attempts.len().to_string(),
            last(self),
            cx.time(Some(self.created_at)),
        ];
        if cx.wide || cx.machine {
            c.push(
                self.rule_id
                    .as_deref()
                    .map_or_else(|| "-".into(), |r| cx.id(r)),
            );
            c.push(cx.time(Some(self.due_at)));
            c.push(cx.time(self.delivered_at));
        }
        c
    }

    fn name(&self) -> String {
        self.id.clone()
    }
}

impl Detail for Delivery {
    fn name(&self) -> String {
        self.id.clone()
    }

    fn fields(&self, cx: &Cells) -> Vec<(&'static str, String)> {
        let mut f = vec![
            ("ID", self.id.clone()),
            ("Channel", self.channel.clone()),
            ("Kind", self.kind.clone()),
            ("State", self.state.as_str().into()),
            ("Created", cx.time(Some(self.created_at))),
            ("Delivered", cx.time(self.delivered_at)),
        ];
        for a in &self.attempts {
            f.push((
                "Attempt",
                format!(
                    "{} at {}: {} ({} ms)",
                    a.attempt,
                    cx.time(Some(a.at)),
                    a.detail,
                    a.duration_ms
                ),
            ));
        }
        f
    }
}
