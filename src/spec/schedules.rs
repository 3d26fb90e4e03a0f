//! A workflow file's `schedules:` list (issue 12): each entry a schedule of this workflow,
//! checked the way `imx schedule create` checks one (cron expression, time zone, durations,
//! policies), every problem reported at its file:line:col.

use std::collections::{BTreeMap, BTreeSet};

use super::diag::Diagnostics;
use super::fields::{self, Fields};
use super::node::{Node, Value};
use crate::schedule::{Fold, Gap, Overlap, Schedule, ScheduleSpec};

pub(crate) const KEYS: &[&str] = &[
    "name",
    "cron",
    "every",
    "timezone",
    "dst",
    "jitter",
    "start",
    "end",
    "params",
    "labels",
    "limit",
    "overlap",
    "catchup_window",
    "max_catchup",
    "pause_on_failure",
];
/// The keys of a schedule's `dst:`.
pub(crate) const DST_KEYS: &[&str] = &["gap", "fold"];

/// Read the `schedules:` list of workflow `workflow`.
pub(crate) fn parse_schedules(
    node: &Node,
    workflow: &str,
    diags: &mut Diagnostics,
) -> Vec<ScheduleSpec> {
    let Value::Seq(items) = &node.value else {
        diags.error(
            node.pos,
            format!(
                "schedules: expected a list of schedules, got {}",
                node.kind()
            ),
        );
        return Vec::new();
    };
    let mut names = BTreeSet::new();
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if let Some(s) = parse_one(item, i + 1, workflow, diags) {
            if !names.insert(s.name.clone()) {
                diags.error(
                    item.pos,
                    format!("schedules: duplicate schedule name {:?}", s.name),
                );
                continue;
            }
            out.push(s);
        }
    }
    out
}

fn text(node: &Node, what: &str, diags: &mut Diagnostics) -> Option<String> {
    let t = node.scalar_text();
    if t.is_none() {
        diags.error(
            node.pos,
            format!("{what}: expected text, got {}", node.kind()),
        );
    }
    t
}

fn one_of<T: Copy>(
    node: &Node,
    what: &str,
    all: &[(&str, T)],
    diags: &mut Diagnostics,
) -> Option<T> {
    let t = text(node, what, diags)?;
    let found = all.iter().find(|(n, _)| *n == t).map(|(_, v)| *v);
    if found.is_none() {
        let names: Vec<&str> = all.iter().map(|(n, _)| *n).collect();
        diags.error(
            node.pos,
            format!("{what}: unknown value {t:?} (one of: {})", names.join(", ")),
        );
    }
    found
}

fn time(node: &Node, what: &str, diags: &mut Diagnostics) -> Option<i64> {
    let t = text(node, what, diags)?;
    let ms = crate::model::time::from_rfc3339(&t);
    if ms.is_none() {
        diags.error_hint(
            node.pos,
            format!("{what}: bad time {t:?}"),
            Some("write an RFC 3339 time such as 2026-01-01T00:00:00Z".into()),
        );
    }
    ms
}

/// A schedule's `labels:` (the labels of each run it makes), each key and value checked as
/// `imx workflow run -l` checks them (`model::labels`), at its own position.
fn labels(node: &Node, what: &str, diags: &mut Diagnostics) -> Option<BTreeMap<String, String>> {
    let key_ok = |k: &str| crate::model::labels::key_problem(k).map_or(Ok(()), Err);
    let before = diags.error_count();
    let map = fields::string_map(node, &format!("{what}.labels"), key_ok, diags);
    for (k, (v, pos)) in &map {
        if let Some(p) = crate::model::labels::value_problem(k, v) {
            diags.error(*pos, format!("{what}.labels: {p}"));
        }
    }
    if map.len() > crate::model::labels::MAX_LABELS {
        diags.error(
            node.pos,
            format!(
                "{what}.labels: a run may have at most {} labels; got {}",
                crate::model::labels::MAX_LABELS,
                map.len()
            ),
        );
    }
    (diags.error_count() == before).then(|| map.into_iter().map(|(k, (v, _))| (k, v)).collect())
}

fn parse_one(
    node: &Node,
    n: usize,
    workflow: &str,
    diags: &mut Diagnostics,
) -> Option<ScheduleSpec> {
    let what = format!("schedules[{n}]");
    let f = Fields::read(node, &what, KEYS, diags)?;
    let name = f
        .require("name", &what, diags)
        .and_then(|n| fields::identifier(n, "schedule name", diags));
    let mut spec = ScheduleSpec::new(name.clone().unwrap_or_default(), workflow);
    let mut ok = name.is_some();
    if let Some(c) = f.get("cron") {
        spec.cron = text(c, "cron", diags);
        ok &= spec.cron.is_some();
    }
    if let Some(e) = f.get("every") {
        spec.every_ms = fields::duration_ms(e, "every", diags);
        ok &= spec.every_ms.is_some();
    }
    if spec.cron.is_some() == spec.every_ms.is_some() && ok {
        diags.error(
            f.pos,
            format!("{what}: give exactly one of `cron` and `every`"),
        );
        ok = false;
    }
    if let Some(z) = f.get("timezone") {
        match text(z, "timezone", diags) {
            Some(t) => spec.timezone = t,
            None => ok = false,
        }
    }
    if let Some(d) = f.get("dst") {
        let dst = Fields::read(d, "dst", DST_KEYS, diags)?;
        if let Some(g) = dst.get("gap") {
            spec.dst.gap = one_of(
                g,
                "dst.gap",
                &[("shift", Gap::Shift), ("skip", Gap::Skip)],
                diags,
            )?;
        }
        if let Some(fo) = dst.get("fold") {
            let all = [
                ("first", Fold::First),
                ("last", Fold::Last),
                ("both", Fold::Both),
            ];
            spec.dst.fold = Some(one_of(fo, "dst.fold", &all, diags)?);
        }
    }
    if let Some(j) = f.get("jitter") {
        spec.jitter_ms = fields::duration_ms(j, "jitter", diags)?;
    }
    if let Some(s) = f.get("start") {
        spec.start = Some(time(s, "start", diags)?);
    }
    if let Some(e) = f.get("end") {
        spec.end = Some(time(e, "end", diags)?);
    }
    if let Some(p) = f.get("params") {
        spec.params = fields::string_map(p, "params", fields::any_key, diags)
            .into_iter()
            .map(|(k, (v, _))| (k, v))
            .collect();
    }
    if let Some(l) = f.get("labels") {
        match labels(l, &what, diags) {
            Some(map) => spec.labels = map,
            None => ok = false,
        }
    }
    if let Some(l) = f.get("limit") {
        spec.limit = Some(u64::from(fields::count(l, "limit", u32::MAX, diags)?));
    }
    if let Some(o) = f.get("overlap") {
        let all = Overlap::ALL.map(|o| (o.as_str(), o));
        spec.overlap = one_of(o, "overlap", &all, diags)?;
    }
    if let Some(w) = f.get("catchup_window") {
        spec.catchup_window_ms = fields::duration_ms(w, "catchup_window", diags)?;
    }
    if let Some(m) = f.get("max_catchup") {
        spec.max_catchup = Some(fields::count(m, "max_catchup", u32::MAX, diags)?);
    }
    if let Some(p) = f.get("pause_on_failure") {
        spec.pause_on_failure = fields::boolean(p, "pause_on_failure", diags)?;
    }
    // Each check at its own key, so one pass reports every problem.
    if let (Some(expr), Some(node)) = (&spec.cron, f.get("cron"))
        && let Err(e) = crate::schedule::parse_cron(expr)
    {
        diags.error(node.pos, format!("{what}: {e}"));
        ok = false;
    }
    if let Err(e) = crate::schedule::parse_tz(&spec.timezone) {
        let at = f.get("timezone").map_or(f.pos, |n| n.pos);
        diags.error(at, format!("{what}: {e}"));
        ok = false;
    }
    if !ok {
        return None;
    }
    // What only compiling tells: the cron expression, the zone, `every` too short, start/end.
    if let Err(e) = Schedule::compile(spec.clone()) {
        let at = match e {
            crate::schedule::ScheduleError::Cron { .. } => f.get("cron"),
            crate::schedule::ScheduleError::TimeZone(_) => f.get("timezone"),
            crate::schedule::ScheduleError::EveryTooShort => f.get("every"),
            _ => None,
        };
        diags.error(at.map_or(f.pos, |n| n.pos), format!("{what}: {e}"));
        return None;
    }
    Some(spec)
}
