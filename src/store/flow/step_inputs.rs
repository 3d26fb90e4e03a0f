//! What a claimed step is given: its templates rendered (values quoted for the shell in `run:`)
//! against the run's params and its upstream steps' outputs, and those params and outputs as
//! `IMX_PARAM_*` / `IMX_OUT_*` environment variables (see [`crate::spec::exports`]); the step's
//! own `env:` wins over an export of the same name.

use std::collections::{BTreeMap, BTreeSet};

use crate::engine::{RunRow as RunHead, SpecIndex};
use crate::model::{InstanceVars, StepKind, StepSpec, value_text};
use crate::spec::{RunInfo, StepOutputs, TemplateContext, WorkflowInfo};

/// A step ready to hand to an agent.
pub struct Inputs {
    pub kind: StepKind,
    pub env: BTreeMap<String, String>,
    pub workdir: Option<String>,
    /// Exports left out, for the step's log.
    pub notes: Vec<String>,
    /// Secret placeholders the control plane fills in (see `spec::secret_refs`).
    pub secret_slots: Option<crate::spec::SecretSlots>,
}

/// Render `step` of `run` and add its exports, given the outputs of its upstream steps (see
/// [`upstream_ids`]). `Err(message)` when its templates cannot be rendered (the step fails
/// with that message).
pub(crate) fn render(
    head: &RunHead,
    ix: &SpecIndex,
    params_json: &BTreeMap<String, serde_json::Value>,
    step: &StepSpec,
    upstream: BTreeMap<String, BTreeMap<String, String>>,
    vars: Option<&str>,
) -> std::result::Result<Inputs, String> {
    let mut exported = crate::spec::exports(params_json, &upstream);
    let instance: InstanceVars = match vars {
        Some(v) => serde_json::from_str(v)
            .map_err(|e| format!("cannot read the instance's variables: {e}"))?,
        None => InstanceVars::default(),
    };
    exported.env.extend(instance_env(&instance));
    let rendered = if ix.has_templates(&step.id) {
        let ctx = TemplateContext {
            params: params_json.clone(),
            steps: upstream
                .into_iter()
                .map(|(id, outputs)| (id, StepOutputs { outputs }))
                .collect(),
            run: RunInfo {
                id: head.id.clone(),
            },
            workflow: WorkflowInfo {
                name: ix.spec.name.clone(),
                version: head.version,
            },
            instance,
        };
        crate::spec::render_step_slots(step, &ctx)
    } else {
        Ok((
            step.kind.clone(),
            step.env.clone(),
            step.workdir.clone(),
            None,
        ))
    };
    let (kind, own_env, workdir, secret_slots) = match rendered {
        Ok(r) => r,
        Err(e) => return Err(format!("cannot render the step's templates: {e}")),
    };
    let mut env = exported.env;
    env.extend(own_env);
    Ok(Inputs {
        kind,
        env,
        workdir,
        notes: exported.notes,
        secret_slots,
    })
}

/// An instance's variables as environment variables: `IMX_MATRIX_<NAME>` (upper case) for each
/// matrix variable, `IMX_ITEM` for a `foreach:` item (strings as they are, other values as
/// JSON).
fn instance_env(vars: &InstanceVars) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    for (k, v) in vars.matrix.iter().flatten() {
        env.insert(
            format!("IMX_MATRIX_{}", k.to_ascii_uppercase()),
            value_text(v),
        );
    }
    if let Some(item) = &vars.item {
        env.insert("IMX_ITEM".into(), value_text(item));
    }
    env
}

/// The steps upstream of `step_id`: its needs, theirs, and so on.
pub(crate) fn upstream_ids<'a>(ix: &'a SpecIndex, step_id: &str) -> BTreeSet<&'a str> {
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut stack: Vec<&str> = ix
        .step(step_id)
        .map(|s| s.needs.iter().map(String::as_str).collect())
        .unwrap_or_default();
    while let Some(id) = stack.pop() {
        if seen.insert(id)
            && let Some(s) = ix.step(id)
        {
            stack.extend(s.needs.iter().map(String::as_str));
        }
    }
    seen
}
