//! What one step attempt may produce: the control plane's limits on a step's outputs and on its
//! log, with the size arithmetic and messages shared by the control plane (which enforces them)
//! and the agent (which checks early, before sending anything).

use std::collections::BTreeMap;

use bytesize::ByteSize;

use std::borrow::Cow;

use crate::model::{CapturedLine, LogStream, StepOutcome, StepResult};

/// The default limit on one step's outputs (keys plus values): 1 MiB.
pub const DEFAULT_MAX_OUTPUT_BYTES: u64 = 1024 * 1024;

/// The default limit on one step attempt's log lines: 64 MiB.
pub const DEFAULT_MAX_LOG_BYTES: u64 = 64 * 1024 * 1024;

/// The control plane's limits on what one step attempt may produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepLimits {
    /// Outputs (keys plus values, in bytes) above this fail the step.
    pub max_output_bytes: u64,
    /// Log lines (bytes of text) above this are cut, with one line saying how much.
    pub max_log_bytes: u64,
}

impl Default for StepLimits {
    fn default() -> Self {
        StepLimits {
            max_output_bytes: DEFAULT_MAX_OUTPUT_BYTES,
            max_log_bytes: DEFAULT_MAX_LOG_BYTES,
        }
    }
}

/// The size of a step's outputs as the limit counts it: the bytes of every key and value.
pub fn outputs_size(outputs: &BTreeMap<String, String>) -> u64 {
    outputs
        .iter()
        .map(|(k, v)| (k.len() + v.len()) as u64)
        .sum()
}

/// A size for people: `5.0 MiB`, `812 B`.
pub fn human_size(bytes: u64) -> String {
    ByteSize::b(bytes).display().iec().to_string()
}

/// Why outputs of `size` bytes are refused under `max`.
pub fn outputs_too_large(size: u64, max: u64) -> String {
    format!(
        "the step's outputs are {} ({size} bytes), over the limit of {} ({max} bytes; \
         IMX_MAX_OUTPUT on the control plane sets it)",
        human_size(size),
        human_size(max)
    )
}

/// `result` if its outputs fit in `max` bytes; otherwise the same attempt as failed, without
/// its outputs, saying how large they were and what the limit is.
pub fn check_outputs(result: &StepResult, max: u64) -> Option<StepResult> {
    let size = outputs_size(&result.outputs);
    if size <= max {
        return None;
    }
    let why = outputs_too_large(size, max);
    let error = match (result.outcome, &result.error) {
        (StepOutcome::Failed, Some(error)) => format!("{error}; {why}"),
        _ => why,
    };
    Some(StepResult {
        outcome: StepOutcome::Failed,
        exit_code: result.exit_code,
        outputs: BTreeMap::new(),
        error: Some(error),
    })
}

/// The line that ends a log cut at `max` bytes: how much was not kept.
pub fn log_cut_line(cut_bytes: u64, cut_lines: u64, max: u64) -> String {
    format!(
        "imx: output truncated: {} ({cut_bytes} bytes, {cut_lines} lines) past the log limit of \
         {} were not kept (IMX_MAX_LOG on the control plane sets it)",
        human_size(cut_bytes),
        human_size(max)
    )
}

/// The line the control plane stores when an agent sends more than `max` bytes of log for one
/// attempt (an agent that does not cut its log itself).
pub fn log_limit_reached_line(max: u64) -> String {
    format!(
        "imx: output truncated: the log limit of {} was reached; later lines are not kept \
         (IMX_MAX_LOG on the control plane sets it)",
        human_size(max)
    )
}

/// A line to store: its stream, its text, and when it was captured (`None`: the agent gave no
/// time, or it is the control plane's own line).
pub type KeptLine<'a> = (LogStream, Cow<'a, str>, Option<i64>);

/// What to store of `lines`, sent for an attempt whose log already holds `stored` bytes of
/// output, under a limit of `max` bytes: output past the limit is cut (the log is truncated,
/// never left with gaps); imx's own lines (`system`) are always kept (an agent that cuts its log
/// itself says how much in one); the first time the limit is passed, one line says so. Returns
/// the lines to store, each with its capture time (`None`: the agent gave none, or it is the
/// control plane's own line), and the attempt's new byte count (past `max` once the limit was
/// reached).
pub fn cap_log(stored: u64, lines: &[CapturedLine], max: u64) -> (Vec<KeptLine<'_>>, u64) {
    let mut total = stored;
    let mut over = false;
    let mut keep = Vec::with_capacity(lines.len());
    for l in lines {
        if l.stream == LogStream::System {
            keep.push((l.stream, Cow::Borrowed(l.line.as_str()), l.at));
            continue;
        }
        let size = l.line.len() as u64;
        if over || total.saturating_add(size) > max {
            over = true;
            continue;
        }
        total += size;
        keep.push((l.stream, Cow::Borrowed(l.line.as_str()), l.at));
    }
    if over && stored <= max {
        // The first lines past the limit: say so once (the count moves past the limit).
        keep.push((
            LogStream::System,
            Cow::Owned(log_limit_reached_line(max)),
            None,
        ));
        total = max.saturating_add(1);
    }
    (keep, total)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn outputs(pairs: &[(&str, usize)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, n)| ((*k).to_string(), "x".repeat(*n)))
            .collect()
    }

    #[test]
    fn outputs_within_the_limit_pass_unchanged() {
        let r = StepResult::ok(outputs(&[("a", 9), ("bb", 8)]));
        assert_eq!(outputs_size(&r.outputs), 20);
        assert_eq!(check_outputs(&r, 20), None);
    }

    #[test]
    fn outputs_over_the_limit_fail_the_step_naming_size_and_limit() {
        let r = StepResult::ok(outputs(&[("big", 5 * 1024 * 1024)]));
        let failed = check_outputs(&r, DEFAULT_MAX_OUTPUT_BYTES).unwrap();
        assert_eq!(failed.outcome, StepOutcome::Failed);
        assert_eq!(failed.exit_code, Some(0));
        assert!(failed.outputs.is_empty());
        assert_eq!(
            failed.error.as_deref(),
            Some(
                "the step's outputs are 5.0 MiB (5242883 bytes), over the limit of 1.0 MiB \
                 (1048576 bytes; IMX_MAX_OUTPUT on the control plane sets it)"
            )
        );
        // A failed attempt keeps its own error first.
        let mut r = StepResult::failed("exit code 3", Some(3));
        r.outputs = outputs(&[("k", 10)]);
        let failed = check_outputs(&r, 5).unwrap();
        assert!(
            failed
                .error
                .as_deref()
                .unwrap()
                .starts_with("exit code 3; the step's outputs are 11 B"),
            "{failed:?}"
        );
    }

    #[test]
    fn cut_lines_say_how_much() {
        assert_eq!(
            log_cut_line(3 * 1024 * 1024, 30, 1024),
            "imx: output truncated: 3.0 MiB (3145728 bytes, 30 lines) past the log limit of \
             1.0 KiB were not kept (IMX_MAX_LOG on the control plane sets it)"
        );
    }

    #[test]
    fn a_log_is_cut_at_the_limit_once_and_system_lines_always_kept() {
        let line = |stream, text: &str| CapturedLine::new(stream, text);
        let lines = [
            line(LogStream::Stdout, "12345"),
            line(LogStream::Stdout, "678"),
            line(LogStream::System, "imx: note"),
            line(LogStream::Stderr, "9"),
        ];
        let texts = |kept: &[KeptLine<'_>]| {
            kept.iter()
                .map(|(_, l, _)| l.to_string())
                .collect::<Vec<_>>()
        };
        // Within the limit: everything, counted.
        let (kept, total) = cap_log(0, &lines, 100);
        assert_eq!(texts(&kept), ["12345", "678", "imx: note", "9"]);
        assert_eq!(total, 9);
        // Past it: cut from the first line that does not fit (no gaps), one line says so.
        let (kept, total) = cap_log(0, &lines, 7);
        assert_eq!(
            texts(&kept),
            ["12345", "imx: note", log_limit_reached_line(7).as_str()]
        );
        assert_eq!(total, 8);
        // Already past it: only imx's own lines, and no second notice.
        let (kept, total) = cap_log(8, &lines, 7);
        assert_eq!(texts(&kept), ["imx: note"]);
        assert_eq!(total, 8);
    }
}
