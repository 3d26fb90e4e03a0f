//! Params and upstream outputs as environment variables of a step, so that scripts need no
//! interpolation at all: `IMX_PARAM_<NAME>` for each param of the run and
//! `IMX_OUT_<STEP>_<KEY>` for each output of each step upstream of it (its `needs`, theirs, and
//! so on). Names are upper-cased with every character other than a letter or digit written as
//! `_` (`unit-tests` + `passed` → `IMX_OUT_UNIT_TESTS_PASSED`). Values are written the way the
//! CLI shows them (`true`, `1.0`, strings as they are).
//!
//! Rules, applied in this order: params first, then outputs by step id and key (both sorted);
//! when two of them map to one name the first keeps it and the others are not exported; a
//! value longer than [`MAX_VALUE`] bytes, or with a NUL byte, is not exported, nor anything
//! past [`MAX_TOTAL`] bytes in all (the kernel limits a process's environment); the step's own
//! `env:` wins over an export of the same name. Each value left out is named in a note, which
//! the control plane writes to the step's log.

use std::collections::BTreeMap;

/// The largest value exported (64 KiB); longer ones are read through templates instead.
pub const MAX_VALUE: usize = 64 * 1024;
/// The most bytes exported to one step in all (1 MiB).
pub const MAX_TOTAL: usize = 1024 * 1024;

/// `IMX_PARAM_<NAME>`.
pub fn param_var(name: &str) -> String {
    format!("IMX_PARAM_{}", upper(name))
}

/// `IMX_OUT_<STEP>_<KEY>`.
pub fn output_var(step: &str, key: &str) -> String {
    format!("IMX_OUT_{}_{}", upper(step), upper(key))
}

fn upper(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// What a step is given in its environment, and a note for each value left out.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Exports {
    pub env: BTreeMap<String, String>,
    pub notes: Vec<String>,
}

/// The exports of a step: `params` of the run and `upstream` step id → outputs.
pub fn exports(
    params: &BTreeMap<String, serde_json::Value>,
    upstream: &BTreeMap<String, BTreeMap<String, String>>,
) -> Exports {
    let mut out = Exports::default();
    let mut total = 0usize;
    let mut from: BTreeMap<String, String> = BTreeMap::new();
    let mut add = |name: String, what: String, value: String, out: &mut Exports| {
        if let Some(first) = from.get(&name) {
            out.notes.push(format!(
                "{what} is not exported: {first} already has the name {name}"
            ));
            return;
        }
        if value.len() > MAX_VALUE || value.contains('\0') || total + value.len() > MAX_TOTAL {
            let why = if value.contains('\0') {
                "it contains a NUL byte".to_string()
            } else if value.len() > MAX_VALUE {
                format!("{} bytes is over the {MAX_VALUE}-byte limit", value.len())
            } else {
                format!("the step's exports would pass {MAX_TOTAL} bytes")
            };
            out.notes
                .push(format!("{what} is not exported as {name}: {why}"));
            return;
        }
        total += value.len();
        from.insert(name.clone(), what);
        out.env.insert(name, value);
    };
    for (name, value) in params {
        let shown = match value {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        add(param_var(name), format!("param {name}"), shown, &mut out);
    }
    for (step, outputs) in upstream {
        for (key, value) in outputs {
            add(
                output_var(step, key),
                format!("output {key:?} of step {step:?}"),
                value.clone(),
                &mut out,
            );
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_are_upper_case_with_underscores() {
        assert_eq!(param_var("dry_run"), "IMX_PARAM_DRY_RUN");
        assert_eq!(
            output_var("unit-tests", "pass.rate"),
            "IMX_OUT_UNIT_TESTS_PASS_RATE"
        );
    }

    #[test]
    fn values_are_shown_as_the_cli_shows_them() {
        let params = BTreeMap::from([
            ("t".to_string(), json!(true)),
            ("r".to_string(), json!(1.0)),
            ("s".to_string(), json!("a b")),
        ]);
        let e = exports(&params, &BTreeMap::new());
        assert_eq!(e.env["IMX_PARAM_T"], "true");
        assert_eq!(e.env["IMX_PARAM_R"], "1.0");
        assert_eq!(e.env["IMX_PARAM_S"], "a b");
        assert!(e.notes.is_empty());
    }

    #[test]
    fn collisions_keep_the_first_and_say_so() {
        let up = BTreeMap::from([
            (
                "a".to_string(),
                BTreeMap::from([("b-c".to_string(), "1".to_string())]),
            ),
            (
                "a-b".to_string(),
                BTreeMap::from([("c".to_string(), "2".to_string())]),
            ),
        ]);
        let e = exports(&BTreeMap::new(), &up);
        assert_eq!(e.env["IMX_OUT_A_B_C"], "1");
        assert_eq!(e.notes.len(), 1);
        assert!(e.notes[0].contains("step \"a-b\""), "{:?}", e.notes);
    }

    #[test]
    fn oversized_values_are_left_out() {
        let up = BTreeMap::from([(
            "a".to_string(),
            BTreeMap::from([
                ("big".to_string(), "x".repeat(MAX_VALUE + 1)),
                ("nul".to_string(), "a\0b".to_string()),
                ("ok".to_string(), "y".to_string()),
            ]),
        )]);
        let e = exports(&BTreeMap::new(), &up);
        assert_eq!(e.env.len(), 1);
        assert_eq!(e.env["IMX_OUT_A_OK"], "y");
        assert_eq!(e.notes.len(), 2);
    }
}
