//! Templates: the [`TemplateContext`] they see, and rendering with `minijinja` in strict mode —
//! an undefined variable is an error, never an empty string. Values are written the way the CLI
//! shows them (`true`, not Python's `True`); in `run:` they are also quoted for the shell (see
//! [`shell`]), unless passed through `| raw`. Step ids with `-` work in references
//! (`steps.unit-tests.outputs.x`, see [`template_scan`]).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use minijinja::{Environment, ErrorKind, UndefinedBehavior, Value};

use super::secret_refs::{self, SecretSlots};
use super::{shell, template_scan};
use crate::model::{HttpSpec, StepKind, StepSpec};
use crate::{Error, Result};

/// What templates can see: `params.*`, `steps.<id>.outputs.*`, `run.id`, `workflow.name`, and
/// `secrets.NAME` (a placeholder filled in when the step is handed out, see [`secret_refs`]).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct TemplateContext {
    pub params: BTreeMap<String, serde_json::Value>,
    /// step id → its outputs.
    pub steps: BTreeMap<String, StepOutputs>,
    pub run: RunInfo,
    pub workflow: WorkflowInfo,
    /// `matrix.NAME` or `item`, in an instance of a `matrix:` or `foreach:` step.
    #[serde(flatten)]
    pub instance: crate::model::InstanceVars,
}

/// A finished upstream step's outputs.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct StepOutputs {
    pub outputs: BTreeMap<String, String>,
}

/// `run.*` in templates.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RunInfo {
    pub id: String,
}

/// `workflow.*` in templates.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct WorkflowInfo {
    pub name: String,
    pub version: u32,
}

/// The environment for every field but `run:`: values are written as the CLI shows them.
pub(crate) fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = base_environment();
        env.set_formatter(|out, _state, value| {
            out.write_str(&shown(value)).map_err(minijinja::Error::from)
        });
        env
    })
}

/// The environment for `run:`: each value is written as a marker, for [`shell::quote_markers`]
/// to quote for its spot; values passed through `| raw` are written as they are.
fn shell_environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = base_environment();
        // It marks its output safe, which would skip quoting.
        env.remove_filter("tojson");
        env.set_formatter(|out, _state, value| {
            let text = shown(value);
            if !value.is_safe() {
                return out
                    .write_str(&shell::marker(&text))
                    .map_err(minijinja::Error::from);
            }
            if shell::has_marker_chars(&text) {
                return Err(minijinja::Error::new(
                    ErrorKind::InvalidOperation,
                    "a raw value contains the reserved characters U+E000/U+E001",
                ));
            }
            out.write_str(&text).map_err(minijinja::Error::from)
        });
        env
    })
}

/// Filters that mark a value safe (and so would skip shell quoting): not available, so that
/// `| raw` is the one way to opt out.
pub(crate) const REMOVED_FILTERS: &[&str] = &["safe", "escape", "e"];

/// The filters templates can use (`{{ x | upper }}`): minijinja's built-ins but
/// [`REMOVED_FILTERS`], and `raw`. The reference (`imx help workflow`) documents each; a test
/// checks each is available, and that none is available that is not listed.
pub const TEMPLATE_FILTERS: &[&str] = &[
    "abs",
    "attr",
    "batch",
    "bool",
    "capitalize",
    "chain",
    "count",
    "d",
    "default",
    "dictsort",
    "first",
    "float",
    "format",
    "groupby",
    "indent",
    "int",
    "items",
    "join",
    "last",
    "length",
    "lines",
    "list",
    "lower",
    "map",
    "max",
    "min",
    "pprint",
    "raw",
    "reject",
    "rejectattr",
    "replace",
    "reverse",
    "round",
    "select",
    "selectattr",
    "slice",
    "sort",
    "split",
    "string",
    "sum",
    "title",
    "trim",
    "unique",
    "upper",
    "zip",
];

/// The tests templates and expressions can use (`x is defined`, `x is startingwith("v")`);
/// besides these, the comparison tests `==`, `!=`, `<`, `<=`, `>`, `>=` (as `eq`, ...).
pub const TEMPLATE_TESTS: &[&str] = &[
    "boolean",
    "defined",
    "divisibleby",
    "endingwith",
    "eq",
    "equalto",
    "escaped",
    "even",
    "false",
    "filter",
    "float",
    "ge",
    "greaterthan",
    "gt",
    "in",
    "int",
    "integer",
    "iterable",
    "le",
    "lessthan",
    "lower",
    "lt",
    "mapping",
    "ne",
    "none",
    "number",
    "odd",
    "safe",
    "sameas",
    "sequence",
    "startingwith",
    "string",
    "test",
    "true",
    "undefined",
    "upper",
];

/// The functions templates and expressions can call (`range(3)`).
pub const TEMPLATE_FUNCTIONS: &[&str] = &["debug", "dict", "namespace", "range"];

/// Strict undefined, trailing newlines kept, no auto-escaping; `raw` added and
/// [`REMOVED_FILTERS`] removed; `string` and `join` show values as the CLI does.
pub(crate) fn base_environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_keep_trailing_newline(true);
    for name in REMOVED_FILTERS {
        env.remove_filter(name);
    }
    env.add_filter("raw", |v: &Value| Value::from_safe_string(shown(v)));
    env.add_filter("string", |v: &Value| shown(v));
    env.add_filter(
        "join",
        |v: &Value, joiner: Option<String>| -> std::result::Result<String, minijinja::Error> {
            let items: Vec<String> = v.try_iter()?.map(|i| shown(&i)).collect();
            Ok(items.join(joiner.as_deref().unwrap_or("")))
        },
    );
    env
}

/// A value as the CLI shows it (`run show`, JSON): strings as they are, everything else as
/// JSON — `true`, `false`, `1`, `1.0`, `null`, `[1,"a"]`, `{"k":1}`.
pub(crate) fn shown(value: &Value) -> String {
    if let Some(s) = value.as_str() {
        return s.to_string();
    }
    if value.is_undefined() {
        return String::new();
    }
    serde_json::to_string(value).unwrap_or_else(|_| value.to_string())
}

/// Whether `s` holds any template syntax at all.
pub(crate) fn is_template(s: &str) -> bool {
    s.contains("{{") || s.contains("{%") || s.contains("{#")
}

/// A minijinja error as a short message: kind, detail and (for multi-line templates) the line.
pub(crate) fn describe(e: &minijinja::Error, template: &str) -> String {
    let mut out = e.kind().to_string();
    if let Some(d) = e.detail() {
        out.push_str(": ");
        out.push_str(d);
    }
    if template.lines().count() > 1
        && let Some(line) = e.line()
    {
        out.push_str(&format!(" (line {line} of the template)"));
    }
    out
}

/// The variables a template reads, as dotted paths (`params.version`, `steps.build.outputs.x`,
/// `steps.unit-tests.outputs.x`), sorted, without names the environment itself provides.
pub(crate) fn variables(template: &str) -> std::result::Result<Vec<String>, minijinja::Error> {
    Ok(mangled_variables(&template_scan::rewrite(template))?
        .iter()
        .map(|p| template_scan::unmangle_path(p))
        .collect())
}

/// [`variables`] of a template already rewritten, with step ids as minijinja sees them.
fn mangled_variables(rewritten: &str) -> std::result::Result<Vec<String>, minijinja::Error> {
    let env = environment();
    let tmpl = env.template_from_str(rewritten)?;
    let mut paths: Vec<String> = tmpl
        .undeclared_variables(true)
        .into_iter()
        .filter(|p| {
            let root = p.split('.').next().unwrap_or_default();
            env.globals().all(|(name, _)| name != root)
        })
        .collect();
    paths.sort();
    Ok(paths)
}

/// The context as templates see it: steps also under their mangled names (see
/// [`template_scan`]).
fn data(ctx: &TemplateContext) -> Result<serde_json::Value> {
    with_step_aliases(ctx).map_err(|e| Error::Internal(e.to_string()))
}

/// `ctx` as JSON with each step also under its mangled name (templates and conditions).
pub(crate) fn with_step_aliases(
    ctx: &impl serde::Serialize,
) -> serde_json::Result<serde_json::Value> {
    let mut data = serde_json::to_value(ctx)?;
    if let Some(serde_json::Value::Object(steps)) = data.get_mut("steps") {
        let aliases: Vec<(String, serde_json::Value)> = steps
            .iter()
            .filter_map(|(id, v)| {
                let m = template_scan::mangle(id);
                (m != *id).then(|| (m, v.clone()))
            })
            .collect();
        steps.extend(aliases);
    }
    Ok(data)
}

/// Render one template string (any field but `run:`). Plain strings without `{{` come back
/// unchanged.
pub fn render(template: &str, ctx: &TemplateContext) -> Result<String> {
    render_in(environment(), template, &data(ctx)?)
}

/// Render a `run:` command: each value quoted for the spot of the script where it stands (see
/// [`shell`]), `| raw` values as they are.
pub fn render_run(template: &str, ctx: &TemplateContext) -> Result<String> {
    render_run_in(template, &data(ctx)?)
}

fn render_run_in(template: &str, data: &serde_json::Value) -> Result<String> {
    if !is_template(template) {
        return Ok(template.to_string());
    }
    let bad = |detail: String| Error::invalid(format!("template {template:?}: {detail}"));
    if shell::has_marker_chars(template) {
        return Err(bad("contains the reserved characters U+E000/U+E001".into()));
    }
    let script = render_in(shell_environment(), template, data)?;
    shell::quote_markers(&script).map_err(bad)
}

fn render_in(
    env: &Environment<'static>,
    template: &str,
    data: &serde_json::Value,
) -> Result<String> {
    if !is_template(template) {
        return Ok(template.to_string());
    }
    let bad = |detail: String| Error::invalid(format!("template {template:?}: {detail}"));
    if secret_refs::has_placeholder_chars(template) {
        return Err(bad("contains the reserved characters U+E002/U+E003".into()));
    }
    let rewritten = template_scan::rewrite(template);
    let paths = mangled_variables(&rewritten).map_err(|e| bad(describe(&e, template)))?;
    for path in &paths {
        if !defined(data, path) {
            return Err(bad(format!(
                "undefined variable {:?}",
                template_scan::unmangle_path(path)
            )));
        }
    }
    env.render_str(&rewritten, data)
        .map_err(|e| bad(describe(&e, template)))
}

/// Whether every segment of `path` exists in `data` (as far as `data` is made of objects).
fn defined(data: &serde_json::Value, path: &str) -> bool {
    let mut cur = data;
    for seg in path.split('.') {
        match cur {
            serde_json::Value::Object(map) => match map.get(seg) {
                Some(next) => cur = next,
                None => return false,
            },
            _ => return true,
        }
    }
    true
}

/// Render every template in a step: the run command; the http url, header values, body and each
/// string leaf of `json`; env values; the workdir. All failures are reported together.
pub fn render_step(
    step: &StepSpec,
    ctx: &TemplateContext,
) -> Result<(StepKind, BTreeMap<String, String>, Option<String>)> {
    render_step_slots(step, ctx).map(|(kind, env, workdir, _)| (kind, env, workdir))
}

/// A step rendered with its secrets as placeholders: kind, env, workdir, and the slots.
pub type RenderedStep = (
    StepKind,
    BTreeMap<String, String>,
    Option<String>,
    Option<SecretSlots>,
);

/// [`render_step`], with `{{ secrets.NAME }}` rendered as placeholders: the slots to fill in
/// ([`secret_refs::fill`]) when the step uses any secret.
pub fn render_step_slots(step: &StepSpec, ctx: &TemplateContext) -> Result<RenderedStep> {
    let mut data = data(ctx)?;
    let names = secret_refs::secret_names(step);
    let slots = (!names.is_empty()).then(|| SecretSlots::new(names));
    if let (Some(slots), serde_json::Value::Object(map)) = (&slots, &mut data) {
        let secrets: serde_json::Map<String, serde_json::Value> = slots
            .names
            .iter()
            .map(|n| (n.clone(), slots.raw_placeholder(n).into()))
            .collect();
        map.insert("secrets".into(), secrets.into());
    }
    let data = data;
    let mut problems = Vec::new();
    let run = match &step.kind {
        StepKind::Run { command } => match render_run_in(command, &data) {
            Ok(command) => command,
            Err(e) => {
                problems.push(format!("step {:?} run: {e}", step.id));
                String::new()
            }
        },
        _ => String::new(),
    };
    let mut one = |field: &str, text: &str| match render_in(environment(), text, &data) {
        Ok(s) => s,
        Err(e) => {
            problems.push(format!("step {:?} {field}: {e}", step.id));
            String::new()
        }
    };
    let kind = match &step.kind {
        StepKind::Run { .. } => StepKind::Run { command: run },
        StepKind::Http(h) => StepKind::Http(HttpSpec {
            method: h.method.clone(),
            url: one("http url", &h.url),
            headers: h
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), one(&format!("http header {k}"), v)))
                .collect(),
            json: h.json.as_ref().map(|j| render_json(j, &mut one)),
            body: h.body.as_ref().map(|b| one("http body", b)),
            expect_status: h.expect_status.clone(),
        }),
        StepKind::Noop => StepKind::Noop,
        StepKind::Approval(a) => StepKind::Approval(a.clone()),
    };
    let env = step
        .env
        .iter()
        .map(|(k, v)| (k.clone(), one(&format!("env {k}"), v)))
        .collect();
    let workdir = step.workdir.as_ref().map(|w| one("workdir", w));
    if problems.is_empty() {
        Ok((kind, env, workdir, slots))
    } else {
        Err(Error::invalid(problems.join("\n")))
    }
}

fn render_json(
    value: &serde_json::Value,
    one: &mut impl FnMut(&str, &str) -> String,
) -> serde_json::Value {
    match value {
        serde_json::Value::String(s) => one("http json", s).into(),
        serde_json::Value::Array(items) => items.iter().map(|i| render_json(i, one)).collect(),
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(k, v)| (k.clone(), render_json(v, one)))
            .collect::<serde_json::Map<_, _>>()
            .into(),
        other => other.clone(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod reference_tests {
    use super::*;

    fn is(kind: &str, name: &str) -> bool {
        let out = environment()
            .render_str(&format!("{{{{ {name:?} is {kind} }}}}"), ())
            .unwrap();
        out == "true"
    }

    /// minijinja's built-in filters and tests (2.x, with `builtins`), and what imx adds.
    const BUILTIN_FILTERS: &[&str] = &[
        "safe",
        "escape",
        "e",
        "lower",
        "upper",
        "title",
        "capitalize",
        "replace",
        "length",
        "count",
        "dictsort",
        "items",
        "reverse",
        "trim",
        "join",
        "split",
        "lines",
        "default",
        "d",
        "round",
        "abs",
        "int",
        "float",
        "attr",
        "first",
        "last",
        "min",
        "max",
        "sort",
        "list",
        "string",
        "bool",
        "batch",
        "slice",
        "sum",
        "indent",
        "select",
        "reject",
        "selectattr",
        "rejectattr",
        "map",
        "groupby",
        "unique",
        "chain",
        "zip",
        "pprint",
        "format",
        "tojson",
        "urlencode",
        "raw",
    ];
    const BUILTIN_TESTS: &[&str] = &[
        "undefined",
        "defined",
        "none",
        "safe",
        "escaped",
        "boolean",
        "odd",
        "even",
        "divisibleby",
        "number",
        "integer",
        "int",
        "float",
        "string",
        "sequence",
        "iterable",
        "mapping",
        "startingwith",
        "endingwith",
        "lower",
        "upper",
        "sameas",
        "eq",
        "equalto",
        "ne",
        "lt",
        "lessthan",
        "le",
        "gt",
        "greaterthan",
        "ge",
        "in",
        "true",
        "false",
        "filter",
        "test",
    ];

    /// What the reference lists is what templates have: every listed filter, test and function
    /// works, and every built-in that works is listed.
    #[test]
    fn the_listed_filters_tests_and_functions_are_exactly_those_available() {
        for f in TEMPLATE_FILTERS {
            assert!(is("filter", f), "filter {f} is listed but not available");
        }
        for f in BUILTIN_FILTERS {
            assert_eq!(
                is("filter", f),
                TEMPLATE_FILTERS.contains(f),
                "filter {f}: available and listed in TEMPLATE_FILTERS must agree"
            );
        }
        for f in REMOVED_FILTERS {
            assert!(!is("filter", f), "{f}");
        }
        for t in TEMPLATE_TESTS {
            assert!(is("test", t), "test {t} is listed but not available");
        }
        for t in BUILTIN_TESTS {
            assert_eq!(is("test", t), TEMPLATE_TESTS.contains(t), "test {t}");
        }
        let globals: Vec<&str> = environment().globals().map(|(n, _)| n).collect();
        let mut listed = TEMPLATE_FUNCTIONS.to_vec();
        listed.sort_unstable();
        let mut globals = globals;
        globals.sort_unstable();
        assert_eq!(globals, listed);
    }

    /// The examples of the reference (`imx help workflow`) give what it says they give.
    #[test]
    fn the_reference_examples_render_as_documented() {
        let ctx = TemplateContext::default();
        for (template, want) in [
            ("{{ -3 | abs }}", "3"),
            ("{{ [1,2,3] | batch(2) }}", "[[1,2],[3]]"),
            ("{{ [1,2,3,4] | select(\"even\") }}", "[2,4]"),
            ("{{ \"a,b\" | split(\",\") }}", "[\"a\",\"b\"]"),
            ("{{ \"%s-%03d\" | format(\"prod\", 7) }}", "prod-007"),
            ("{{ [1, \"a\"] | join(\",\") }}", "1,a"),
            ("{{ \"1.5\" | float }}", "1.5"),
            ("{{ \"42\" | int }}", "42"),
            ("{{ \"1.2.3\" | replace(\".\", \"-\") }}", "1-2-3"),
            ("{{ none | default(\"x\", true) }}", "x"),
            ("{{ none | default(\"x\") }}", "null"),
            ("{{ \"staging\" is in([\"staging\", \"prod\"]) }}", "true"),
            ("{{ \"v1.2\" is startingwith(\"v\") }}", "true"),
            ("{{ 3 is eq(3) }}", "true"),
            ("{{ dict(a=1, b=2) }}", "{\"a\":1,\"b\":2}"),
            ("{% for i in range(3) %}{{ i }}{% endfor %}", "012"),
            ("{{ \"prod\" if 1 == 1 else \"test\" }}", "prod"),
            (
                "{% for r in [\"eu\", \"us\"] %}./ship {{ r }}; {% endfor %}",
                "./ship eu; ./ship us; ",
            ),
        ] {
            assert_eq!(render(template, &ctx).unwrap(), want, "{template}");
        }
    }

    /// A filter, test or function imx adds itself is in the lists too.
    #[test]
    fn the_filters_imx_adds_are_listed() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/spec");
        for entry in std::fs::read_dir(&root).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let text = text.split("#[cfg(test)]").next().unwrap_or_default();
            for (call, list) in [
                ("add_filter(\"", TEMPLATE_FILTERS),
                ("add_test(\"", TEMPLATE_TESTS),
                ("add_function(\"", TEMPLATE_FUNCTIONS),
                ("add_global(\"", TEMPLATE_FUNCTIONS),
            ] {
                for part in text.split(call).skip(1) {
                    let name = part.split('"').next().unwrap_or_default();
                    assert!(
                        list.contains(&name),
                        "{}: {call}{name}\" is not in the lists in src/spec/template.rs (nor, \
                         then, in the reference)",
                        path.display()
                    );
                }
            }
        }
    }
}
