//! Parsers for flag values (used as clap `value_parser`s, so mistakes are usage errors, exit 2):
//! `-p key=value`, `--labels k=v,k=v`, `-l key=value` (run labels), durations (`30s`, `5m`, `1h30m`) and `--since`.

use std::collections::BTreeMap;
use std::time::Duration;

/// A `key=value` pair (`-p version=1.2`). The value may contain `=`; the key may not be empty.
pub fn key_value(s: &str) -> Result<(String, String), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("expected KEY=VALUE, got {s:?}"))?;
    let k = k.trim();
    if k.is_empty() {
        return Err(format!(
            "expected KEY=VALUE with a non-empty key, got {s:?}"
        ));
    }
    Ok((k.to_string(), v.to_string()))
}

/// Labels: `k=v,k=v` (empty means none).
pub fn labels(s: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = key_value(part).map_err(|_| {
            format!("expected labels as key=value[,key=value...], got {part:?} in {s:?}")
        })?;
        if out.insert(k.clone(), v).is_some() {
            return Err(format!("label {k:?} is given twice"));
        }
    }
    Ok(out)
}

/// A run label, `-l key=value`: the key and value as `imx::model::labels` allows them.
pub fn label(s: &str) -> Result<(String, String), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("expected a label KEY=VALUE, got {s:?}"))?;
    if let Some(problem) =
        imx::model::labels::key_problem(k).or_else(|| imx::model::labels::value_problem(k, v))
    {
        return Err(problem);
    }
    Ok((k.to_string(), v.to_string()))
}

/// `--pass-env NAME`: a variable name that is not `IMX_*`.
pub fn pass_env_name(s: &str) -> Result<String, String> {
    imx::agent::check_pass_env_name(s)?;
    Ok(s.to_string())
}

/// A duration such as `30s`, `5m`, `1h30m`, `250ms`.
pub fn duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s.trim())
        .map_err(|e| format!("invalid duration {s:?} ({e}); try e.g. 30s, 5m, 1h30m"))
}

/// A size in bytes such as `1MiB`, `512 KiB`, `64MiB` or `1048576` (K, M, G are powers of
/// 1000; KiB, MiB, GiB powers of 1024).
pub fn size(s: &str) -> Result<u64, String> {
    match s.trim().parse::<bytesize::ByteSize>() {
        Ok(size) if size.as_u64() > 0 => Ok(size.as_u64()),
        Ok(_) => Err(format!("invalid size {s:?}: it must be more than 0 bytes")),
        Err(e) => Err(format!(
            "invalid size {s:?} ({e}); try e.g. 1MiB, 512KiB, 64MiB"
        )),
    }
}

/// `--since`: a duration ago (`1h`) or an RFC 3339 time; returns epoch milliseconds.
pub fn since(s: &str) -> Result<i64, String> {
    since_at(s, imx::model::now_ms())
}

fn since_at(s: &str, now: i64) -> Result<i64, String> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s.trim()) {
        return Ok(t.timestamp_millis());
    }
    match humantime::parse_duration(s.trim()) {
        Ok(d) => Ok(now.saturating_sub(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))),
        Err(_) => Err(format!(
            "expected a duration ago (e.g. 1h, 30m) or an RFC 3339 time (e.g. 2024-05-01T12:00:00Z), got {s:?}"
        )),
    }
}

/// One of `names` (an enum's values): a misspelt one gets a did-you-mean, any other the list.
pub fn one_of<T: Copy>(what: &str, s: &str, values: &[(&'static str, T)]) -> Result<T, String> {
    let s = s.trim();
    if let Some((_, v)) = values.iter().find(|(n, _)| *n == s) {
        return Ok(*v);
    }
    let names: Vec<&str> = values.iter().map(|(n, _)| *n).collect();
    match imx::suggest::nearest(s, &names) {
        Some(n) => Err(format!(
            "unknown {what} {s:?}: did you mean {n:?}? (one of: {})",
            names.join(", ")
        )),
        None => Err(format!(
            "unknown {what} {s:?} (expected one of: {})",
            names.join(", ")
        )),
    }
}

/// A `run list --status` value: a run status, or `waiting` (a run not ended with an approval
/// step waiting for a person; its status is `running`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListStatus {
    Is(imx::model::RunStatus),
    Waiting,
}

impl ListStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ListStatus::Is(s) => s.as_str(),
            ListStatus::Waiting => "waiting",
        }
    }
}

/// A run status or `waiting`, with a did-you-mean.
pub fn run_status(s: &str) -> Result<ListStatus, String> {
    let mut all: Vec<(&'static str, ListStatus)> = imx::model::RunStatus::ALL
        .map(|st| (st.as_str(), ListStatus::Is(st)))
        .to_vec();
    all.push(("waiting", ListStatus::Waiting));
    one_of("run status", s, &all)
}

/// An agent state, with a did-you-mean.
pub fn agent_state(s: &str) -> Result<imx::model::AgentState, String> {
    let all = imx::model::AgentState::ALL.map(|st| (st.as_str(), st));
    one_of("agent state", s, &all)
}

/// `-n/--limit`: at least 1 (`--all` is how to ask for everything).
pub fn limit(s: &str) -> Result<u32, String> {
    match s.trim().parse::<u32>() {
        Ok(0) => Err("must be at least 1 (use --all for everything)".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("expected a number of at least 1, got {s:?}")),
    }
}

/// Duration in whole milliseconds.
pub fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn key_values() {
        assert_eq!(key_value("a=b=c").unwrap(), ("a".into(), "b=c".into()));
        assert_eq!(key_value("a=").unwrap(), ("a".into(), String::new()));
        assert!(key_value("novalue").is_err());
        assert!(key_value("=x").is_err());
    }

    #[test]
    fn label_lists() {
        let l = labels("os=linux, gpu=true").unwrap();
        assert_eq!(l.get("os").map(String::as_str), Some("linux"));
        assert_eq!(l.len(), 2);
        assert!(labels("").unwrap().is_empty());
        assert!(labels("os").is_err());
        assert!(labels("a=1,a=2").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(size("1MiB").unwrap(), 1024 * 1024);
        assert_eq!(size("512 KiB").unwrap(), 512 * 1024);
        assert_eq!(size("2000").unwrap(), 2000);
        assert!(size("0").is_err());
        assert!(size("lots").unwrap_err().contains("try e.g."));
    }

    #[test]
    fn durations_and_since() {
        assert_eq!(duration("1m30s").unwrap(), Duration::from_secs(90));
        assert!(duration("soon").unwrap_err().contains("try e.g."));
        assert_eq!(since_at("1h", 7_200_000).unwrap(), 3_600_000);
        assert_eq!(since_at("1970-01-01T00:00:01Z", 0).unwrap(), 1_000);
        assert!(since_at("yesterday", 0).is_err());
    }
}
