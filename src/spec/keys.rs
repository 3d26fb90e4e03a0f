//! Every key a workflow file may hold, section by section: the key lists the parser reads
//! mappings with ([`Fields::read`](super::fields::Fields::read)), gathered in one list so that
//! the reference (`imx help workflow`, `imx-workflow(5)`) can be checked against them.
//!
//! The rule (DESIGN §4): the parser accepts no key that the reference does not document.
//! `tests/cli/help_topics.rs` checks that each key below is named under its section's heading
//! in the reference; the test here checks that every `Fields::read` in `src/spec/` reads with
//! a key list named below. To add a key to a section, add it to the section's list and to the
//! reference under the section's heading; for a new section, add its list to [`SECTIONS`] too.

use super::{approval, concurrency, http, notify, on, params, retry, schedules, step, workflow};

/// The keys of one kind of mapping in a workflow file.
#[derive(Debug, Clone, Copy)]
pub struct KeySection {
    /// The heading the reference documents these keys under (`Step keys`: a line `Step keys:`
    /// or `Step keys (...):`, then one line per key, indented by two spaces).
    pub heading: &'static str,
    /// The constant the parser reads with, as `module::NAME` under `src/spec/`.
    pub source: &'static str,
    /// The keys.
    pub keys: &'static [&'static str],
}

macro_rules! sections {
    ($($heading:literal => $($path:ident)::+),* $(,)?) => {
        &[$(KeySection {
            heading: $heading,
            source: stringify!($($path)::+),
            keys: $($path)::+,
        }),*]
    };
}

/// Every key list the parser reads with. A new `Fields::read(.., LIST, ..)` needs its `LIST`
/// here (the test below fails until it is).
pub const SECTIONS: &[KeySection] = sections![
    "Top-level keys" => workflow::TOP_KEYS,
    "Step keys" => step::STEP_KEYS,
    "Defaults keys" => step::DEFAULT_KEYS,
    "Approval keys" => approval::APPROVAL_KEYS,
    "Approvers keys" => approval::APPROVER_KEYS,
    "Param keys" => params::PARAM_KEYS,
    "HTTP keys" => http::HTTP_KEYS,
    "Retry keys" => retry::RETRY_KEYS,
    "Agent keys" => retry::AGENT_KEYS,
    "Concurrency keys" => concurrency::KEYS,
    "On keys" => on::KEYS,
    "Schedule keys" => schedules::KEYS,
    "DST keys" => schedules::DST_KEYS,
    "Notify keys" => notify::KEYS,
];

/// Every key the parser accepts, by the heading the reference documents it under.
pub fn documented_keys() -> &'static [KeySection] {
    SECTIONS
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;

    /// The third argument of every `Fields::read(` call in the non-test code under `dir`,
    /// with the file, the line and the module path (`["schedules"]`) it stands in.
    fn reads(dir: &Path, module: &[String], out: &mut Vec<(PathBuf, usize, Vec<String>, String)>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                if name != "tests" {
                    let mut m = module.to_vec();
                    m.push(name);
                    reads(&path, &m, out);
                }
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") || name == "tests" || name == "keys" {
                continue;
            }
            let mut m = module.to_vec();
            if name != "mod" {
                m.push(name);
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            for (at, _) in code.match_indices("Fields::read(") {
                let line_start = code[..at].rfind('\n').map_or(0, |i| i + 1);
                if code[line_start..at].trim_start().starts_with("//") {
                    continue;
                }
                let line = code[..at].matches('\n').count() + 1;
                let args = arguments(&code[at + "Fields::read(".len()..]);
                let third = args.get(2).cloned().unwrap_or_default();
                out.push((path.clone(), line, m.clone(), third));
            }
        }
    }

    /// The top-level, comma-separated arguments of a call whose `(` has just been passed.
    fn arguments(rest: &str) -> Vec<String> {
        let mut args = Vec::new();
        let mut current = String::new();
        let mut depth = 0usize;
        let mut in_str = false;
        let mut escaped = false;
        for c in rest.chars() {
            if in_str {
                current.push(c);
                match c {
                    _ if escaped => escaped = false,
                    '\\' => escaped = true,
                    '"' => in_str = false,
                    _ => {}
                }
                continue;
            }
            match c {
                '"' => {
                    in_str = true;
                    current.push(c);
                }
                '(' | '[' | '{' => {
                    depth += 1;
                    current.push(c);
                }
                ')' | ']' | '}' if depth == 0 => break,
                ')' | ']' | '}' => {
                    depth -= 1;
                    current.push(c);
                }
                ',' if depth == 0 => args.push(std::mem::take(&mut current).trim().to_string()),
                _ => current.push(c),
            }
        }
        if !current.trim().is_empty() {
            args.push(current.trim().to_string());
        }
        args
    }

    /// `arg` (a key-list constant) as `module::NAME` relative to `spec`, if it is a path.
    fn resolve(arg: &str, module: &[String]) -> Option<String> {
        let arg = arg.trim_start_matches('&').trim();
        let ok = !arg.is_empty()
            && arg
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
            && arg.chars().next().is_some_and(|c| !c.is_ascii_digit());
        if !ok {
            return None;
        }
        let mut segments = module.to_vec();
        let mut rest = arg;
        loop {
            if let Some(r) = rest.strip_prefix("crate::spec::") {
                segments.clear();
                rest = r;
            } else if let Some(r) = rest.strip_prefix("super::") {
                segments.pop();
                rest = r;
            } else if let Some(r) = rest.strip_prefix("self::") {
                rest = r;
            } else {
                break;
            }
        }
        if rest.contains("::") {
            // A path into a sibling module (`schedules::KEYS` from the spec root).
            segments.truncate(
                segments
                    .len()
                    .saturating_sub(usize::from(!module.is_empty())),
            );
        }
        segments.push(rest.to_string());
        Some(segments.join("::"))
    }

    /// Every `Fields::read(node, what, LIST, diags)` in `src/spec/` reads with a `LIST` named in
    /// [`SECTIONS`]: a key the parser accepts is always one the reference must document.
    #[test]
    fn every_key_list_the_parser_reads_with_is_in_the_sections() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut found = Vec::new();
        reads(&root.join("src/spec"), &[], &mut found);
        assert!(
            found.len() >= SECTIONS.len(),
            "the scan found too few Fields::read calls: {found:?}"
        );
        let known: Vec<String> = SECTIONS
            .iter()
            .map(|s| s.source.chars().filter(|c| !c.is_whitespace()).collect())
            .collect();
        let mut problems = Vec::new();
        for (path, line, module, arg) in &found {
            let file = path.strip_prefix(root).unwrap_or(path).display();
            match resolve(arg, module) {
                Some(source) if known.contains(&source) => {}
                Some(source) => {
                    let (_, name) = source.rsplit_once("::").unwrap_or(("", &source));
                    problems.push(format!(
                        "{file}:{line}: `Fields::read(.., {arg}, ..)` reads keys that \
                         spec::documented_keys() does not list. Make `{name}` pub(crate) and add \
                         `\"<Section> keys\" => {source},` to SECTIONS in src/spec/keys.rs, then \
                         document each of its keys in the WORKFLOW text (commands/help_topics.rs) \
                         under a heading line `<Section> keys:`, one line per key indented by two \
                         spaces"
                    ));
                }
                None => problems.push(format!(
                    "{file}:{line}: `Fields::read(.., {arg}, ..)`: read with a named key-list \
                     constant (`const X_KEYS: &[&str] = &[...]`, pub(crate)) listed in SECTIONS in \
                     src/spec/keys.rs, so that the reference test can check its keys"
                )),
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
        // And every list in SECTIONS is read with somewhere (no stale entry).
        for (s, source) in SECTIONS.iter().zip(&known) {
            assert!(
                found
                    .iter()
                    .any(|(_, _, m, a)| resolve(a, m).as_ref() == Some(source)),
                "{} ({source}) is in SECTIONS but no Fields::read uses it",
                s.heading
            );
        }
    }

    #[test]
    fn headings_are_unique_and_keys_unique_within_a_section() {
        for (i, s) in SECTIONS.iter().enumerate() {
            assert!(
                SECTIONS[..i].iter().all(|t| t.heading != s.heading),
                "{} twice",
                s.heading
            );
            assert!(s.heading.ends_with(" keys"), "{}", s.heading);
            for (j, k) in s.keys.iter().enumerate() {
                assert!(!s.keys[..j].contains(k), "{}: {k} twice", s.heading);
            }
        }
    }

    #[test]
    fn arguments_and_paths_are_read_as_rust_reads_them() {
        assert_eq!(
            arguments(r#"node, &format!("a, {}", x), KEYS, diags)?;"#),
            ["node", r#"&format!("a, {}", x)"#, "KEYS", "diags"]
        );
        let m = vec!["schedules".to_string()];
        assert_eq!(resolve("KEYS", &m).as_deref(), Some("schedules::KEYS"));
        assert_eq!(resolve("&KEYS", &m).as_deref(), Some("schedules::KEYS"));
        assert_eq!(
            resolve("super::step::STEP_KEYS", &m).as_deref(),
            Some("step::STEP_KEYS")
        );
        assert_eq!(resolve(r#"&["gap", "fold"]"#, &m), None);
    }
}
