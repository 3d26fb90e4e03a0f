//! Fan-out of one step into instances (issue 13): `matrix:` makes one instance per combination
//! of its variables when a run is created (`test[region=eu,shard=1]`), `foreach:` one per item
//! of an upstream step's output (a JSON list) when that step has succeeded (`process[0]`,
//! `process[1]`, ...). Instances are steps of the run like any other; `needs: [test]` waits for
//! every instance. What an instance sees in its templates is its [`InstanceVars`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Instances a `matrix:` or `foreach:` step may have unless `max_instances` says otherwise.
pub const DEFAULT_MAX_INSTANCES: u32 = 1_000;
/// The most `max_instances` may be.
pub const MAX_INSTANCES_LIMIT: u32 = 10_000;

/// A step's `matrix:` or `foreach:` (exactly one of them), and how its instances run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FanOut {
    /// `matrix:` variables in the order written, each with its values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub matrix: Vec<MatrixAxis>,
    /// `foreach:` the upstream output whose JSON list gives the instances.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub foreach: Option<ForeachSource>,
    /// At most this many instances ready, leased or running at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_parallel: Option<u32>,
    /// Once an instance fails, its pending and ready siblings are skipped (default true).
    #[serde(default = "yes")]
    pub fail_fast: bool,
    /// The most instances (combinations or items); more is an error.
    #[serde(default = "default_max_instances")]
    pub max_instances: u32,
}

fn yes() -> bool {
    true
}

fn default_max_instances() -> u32 {
    DEFAULT_MAX_INSTANCES
}

/// One `matrix:` variable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatrixAxis {
    pub name: String,
    /// Scalars (strings, numbers, bools).
    pub values: Vec<serde_json::Value>,
}

/// `foreach: "{{ steps.STEP.outputs.OUTPUT }}"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForeachSource {
    pub step: String,
    pub output: String,
}

/// What one instance's templates see: `matrix.NAME` or `item`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InstanceVars {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matrix: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<serde_json::Value>,
}

impl InstanceVars {
    pub fn is_empty(&self) -> bool {
        self.matrix.is_none() && self.item.is_none()
    }
}

impl FanOut {
    /// A matrix of `axes` with the defaults (no `max_parallel`, fail-fast, 1,000 instances).
    pub fn matrix(axes: Vec<MatrixAxis>) -> Self {
        FanOut {
            matrix: axes,
            foreach: None,
            max_parallel: None,
            fail_fast: true,
            max_instances: DEFAULT_MAX_INSTANCES,
        }
    }

    /// A `foreach:` over `step`'s output `output`, with the defaults.
    pub fn foreach(step: &str, output: &str) -> Self {
        FanOut {
            foreach: Some(ForeachSource {
                step: step.to_string(),
                output: output.to_string(),
            }),
            ..FanOut::matrix(Vec::new())
        }
    }

    /// How many combinations the matrix has (`None` on overflow).
    pub fn combinations(&self) -> Option<u64> {
        self.matrix.iter().try_fold(1u64, |n, a| {
            n.checked_mul(u64::try_from(a.values.len()).unwrap_or(u64::MAX))
        })
    }

    /// The matrix's instances in order (the first variable varies slowest): each its id and
    /// its variables.
    pub fn matrix_instances(&self, base: &str) -> Vec<(String, InstanceVars)> {
        let mut combos: Vec<Vec<(&str, &serde_json::Value)>> = vec![Vec::new()];
        for axis in &self.matrix {
            combos = combos
                .into_iter()
                .flat_map(|c| {
                    axis.values.iter().map(move |v| {
                        let mut c = c.clone();
                        c.push((axis.name.as_str(), v));
                        c
                    })
                })
                .collect();
        }
        combos
            .into_iter()
            .map(|c| {
                let label: Vec<String> = c
                    .iter()
                    .map(|(k, v)| format!("{k}={}", value_text(v)))
                    .collect();
                let vars = InstanceVars {
                    matrix: Some(
                        c.iter()
                            .map(|(k, v)| ((*k).to_string(), (*v).clone()))
                            .collect(),
                    ),
                    item: None,
                };
                (format!("{base}[{}]", label.join(",")), vars)
            })
            .collect()
    }
}

/// A value as it appears in an instance id: strings as they are, others as JSON.
pub fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The id of a `foreach:` step's `n`-th instance (from 0).
pub fn foreach_instance_id(base: &str, n: usize) -> String {
    format!("{base}[{n}]")
}

/// The step an instance id belongs to (`test` for `test[region=eu]`); other ids as they are.
pub fn base_step_id(id: &str) -> &str {
    id.split_once('[').map_or(id, |(base, _)| base)
}

/// Whether `id` names an instance of a `matrix:` or `foreach:` step.
pub fn is_instance_id(id: &str) -> bool {
    id.contains('[')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instances_in_order_with_ids_in_key_order() {
        let m = FanOut::matrix(vec![
            MatrixAxis {
                name: "region".into(),
                values: vec!["eu".into(), "us".into()],
            },
            MatrixAxis {
                name: "shard".into(),
                values: vec![1.into(), 2.into(), 3.into()],
            },
        ]);
        assert_eq!(m.combinations(), Some(6));
        let ids: Vec<String> = m
            .matrix_instances("test")
            .into_iter()
            .map(|i| i.0)
            .collect();
        assert_eq!(
            ids,
            [
                "test[region=eu,shard=1]",
                "test[region=eu,shard=2]",
                "test[region=eu,shard=3]",
                "test[region=us,shard=1]",
                "test[region=us,shard=2]",
                "test[region=us,shard=3]",
            ]
        );
        assert_eq!(base_step_id("test[region=eu,shard=1]"), "test");
        assert_eq!(base_step_id("build"), "build");
        assert!(is_instance_id(&foreach_instance_id("p", 3)));
    }
}
