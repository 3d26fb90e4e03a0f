//! Workflow files: parse YAML/JSON into a validated [`WorkflowSpec`](crate::model::WorkflowSpec),
//! reporting every problem with file:line:col; type parameters; render `{{ ... }}` templates.
//!
//! Interface (used by the CLI and the engine):
//! - [`parse_str`] / [`load_file`] / [`load_path`]: source → validated spec(s) or
//!   [`Error::Invalid`](crate::Error::Invalid) whose message lists every problem as
//!   `file:line:col: message` (a lone problem's hint is the error's hint; with several, each hint
//!   follows its line in parentheses).
//! - [`resolve_params`]: raw `-p k=v` strings → typed values (defaults, enums, required).
//! - [`parse_params_file`]: a `--params-file` (YAML/JSON mapping) → the same raw strings, checked
//!   against a workflow's params with file:line:col.
//! - [`render`]: a template string with a [`TemplateContext`] → the rendered string (strict:
//!   undefined variables are errors).
//! - [`render_step`]: every template of a step rendered → (kind, env, workdir) for an agent.
//! - [`parse_str_with_warnings`] / [`load_path_with_warnings`]: the same, with the warnings
//!   about a valid file (`| raw` in a template).
//! - [`render_run`]: a `run:` command with every value quoted for the shell where it stands.
//! - [`exports`]: params and upstream outputs as `IMX_PARAM_*` / `IMX_OUT_*` variables.
//! - [`check_spec`]: the same structural rules for a spec that did not come from a file (an
//!   API body): identifiers, unique ids, known `needs`, no cycles.
//! - [`documented_keys`]: every key the parser accepts, by section, for the reference
//!   (`imx help workflow`) to be checked against; [`TEMPLATE_FILTERS`], [`TEMPLATE_TESTS`] and
//!   [`TEMPLATE_FUNCTIONS`]: what templates and expressions can call.
//!
//! How it works: `node` parses with `saphyr` into a tree whose every key and value has a
//! position; `workflow`, `step`, `http`, `retry` and `params` walk that tree into the model types,
//! recording problems in `diag` instead of stopping; `graph` checks `needs` (unknown, self,
//! duplicates, cycles) and `template_check` checks each template against the params and the
//! step's upstream steps. `defaults` apply per step: `timeout`, `retry` and `agent` when the step
//! sets none of its own; `env` is merged, the step's own keys winning.

mod approval;
pub mod artifacts;
mod check;
mod concurrency;
mod condition;
mod diag;
mod exports;
mod fields;
mod graph;
mod http;
mod keys;
mod load;
mod matrix;
mod node;
mod notify;
mod on;
mod params;
mod params_file;
mod resolve;
mod retry;
mod schedules;
mod secret_refs;
mod shell;
mod step;
mod suggest;
mod template;
mod template_check;
mod template_scan;
mod workflow;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;

pub use check::{check_source, check_spec};
pub use concurrency::render_key;
pub use condition::{
    ConditionContext, StepState, condition_steps, condition_variables, eval_condition,
};
pub use exports::{Exports, exports, output_var, param_var};
pub use fields::is_identifier;
pub use keys::{KeySection, documented_keys};
pub use load::{load_file, load_path, load_path_with_warnings};
pub use notify::channel_pos as notify_channel_pos;
pub use params_file::{ParamsFile, parse_params_file};
pub use resolve::resolve_params;
pub use secret_refs::{FillError, SecretSlots, fill as fill_secrets, secret_names};

/// Whether `s` is a valid name for a workflow, step, param or trigger: `[a-z0-9][a-z0-9_-]*`.
pub fn is_name(s: &str) -> bool {
    fields::is_identifier(s)
}
pub use template::{
    RunInfo, StepOutputs, TEMPLATE_FILTERS, TEMPLATE_FUNCTIONS, TEMPLATE_TESTS, TemplateContext,
    WorkflowInfo, render, render_run, render_step, render_step_slots,
};
pub use workflow::{parse_str, parse_str_with_warnings};
