//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 document of the API, generated from the code so
//! it cannot drift. Each handler carries its operation (`#[utoipa::path]`) and the router is
//! built from those same handlers (`utoipa_axum::routes!` in `routes::api` and
//! `metrics::api`), so a route is served if and only if it is documented. Bodies are the model
//! and wire types (`#[derive(ToSchema)]`); errors are [`ErrorBody`]; callers authenticate with
//! a bearer token (`imx_...`) unless an operation says `security: [{}]` (login, health, metrics
//! and this document).
//!
//! The document is served without a token: it describes the API's shape, never its data, and a
//! client needs it before it has a token (to find `/login`). Requests are still rate limited per
//! address.

use std::borrow::Cow;
use std::sync::Arc;

use utoipa::Modify;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, ObjectBuilder, OpenApi, Ref, RefOr, ResponseBuilder, Schema,
};

use super::error::{ErrorBody, ErrorDetail};

/// The name of the bearer-token security scheme.
pub const BEARER: &str = "bearer";

/// The document's fixed parts; `routes::api` adds every path to it.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "imx control plane API",
        description = "The imx control plane over HTTP: every ControlPlane operation (agents, \
workflows, runs, schedules, users, tokens, audit, backups) under /api/v1.\n\n\
- **Authentication**: `Authorization: Bearer imx_...` (a token from `imx token create` or \
`POST /api/v1/login`). Missing, unknown, revoked or expired tokens get 401; a role without the \
permission gets 403 (and the denial is audited).\n\
- **Errors** are JSON: `{\"error\": {\"code\", \"message\", \"details\"}}` with `code` one of \
`invalid` (400, 413, 415), `unauthenticated` (401), `forbidden` (403), `not_found` (404, also \
for unknown routes), `conflict` (409), `unavailable` (408, 429 with Retry-After, 503), \
`internal` (500).\n\
- **Request bodies** are JSON (`Content-Type: application/json`) of at most 4 MiB; unknown \
fields are rejected (400), as are values of the wrong type.\n\
- **Page sizes** are clamped, never an error: a `limit` above the largest page (1,000 for runs, \
logs and events; 10,000 for audit records; the dashboard's windows have their own cap) reads \
the largest page, and 0 reads one item (for audit records, 0 means a whole page). A `limit` \
that is not an integer in 0..=4294967295 is a 400.\n\
- **Long polls**: `wait_ms` (claim, events) is capped at 30 s."
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    // Schemas reached only through tuples, which utoipa does not follow.
    components(schemas(ErrorBody, ErrorDetail, crate::model::StepOutcome)),
    tags(
        (name = "status", description = "The control plane's state"),
        (name = "workflows", description = "Apply, read and delete workflows"),
        (name = "runs", description = "Start, read, cancel and retry runs; their logs"),
        (name = "events", description = "The change feed"),
        (name = "agents", description = "Agents as operators see them: list, drain, resume, remove"),
        (name = "work", description = "What agents do: register, claim, heartbeat, report"),
        (name = "users", description = "Users and passwords"),
        (name = "tokens", description = "API tokens"),
        (name = "notify", description = "Notification channels, rules and deliveries"),
        (name = "auth", description = "Login, logout, whoami"),
        (name = "dashboard", description = "What `imx dashboard` reads"),
        (name = "audit", description = "The hash-chained audit trail"),
        (name = "backups", description = "Backups in the server's backup folder"),
        (name = "schedules", description = "Schedules: when workflows run by themselves"),
        (name = "triggers", description = "Webhook and run-after triggers; the webhook endpoint"),
        (name = "secrets", description = "Workflow secrets: names and scopes (never values); setting, rotating and deleting them (admin); sealing them under a new store key"),
        (name = "operations", description = "Health, readiness, metrics and this document"),
    )
)]
pub struct ApiDoc;

/// Adds the bearer-token security scheme.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("imx_...")
                    .description(Some(
                        "An imx API token: `imx token create`, or `POST /api/v1/login`",
                    ))
                    .build(),
            ),
        );
    }
}

/// The rendered document, shared by the handler that serves it.
#[derive(Clone)]
pub struct Document(pub Arc<String>);

impl Document {
    /// Render `doc` once, at startup.
    pub fn render(doc: &serde_json::Value) -> Self {
        Document(Arc::new(doc.to_string()))
    }
}

/// The whole document, as served (without starting a server).
pub fn document() -> serde_json::Value {
    let mut doc = super::routes::api().into_openapi();
    doc.merge(super::metrics::api().into_openapi());
    finish(doc)
}

/// Complete what the operations leave implicit: every operation's error responses, all of the
/// one [`ErrorBody`] shape; and what the server accepts beyond the Rust types (see
/// [`accepted`]).
pub fn finish(doc: OpenApi) -> serde_json::Value {
    // Serializing plain data cannot fail; an empty object would still be valid JSON.
    let mut value = serde_json::to_value(with_errors(doc)).unwrap_or_default();
    accepted(&mut value);
    value
}

fn with_errors(mut doc: OpenApi) -> OpenApi {
    let error = |what: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(what)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(RefOr::Ref(Ref::from_schema_name("ErrorBody"))))
                        .build(),
                )
                .build(),
        )
    };
    for item in doc.paths.paths.values_mut() {
        let ops = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for op in ops.into_iter().flatten() {
            let public = is_public(op);
            let responses = &mut op.responses.responses;
            if !public {
                responses
                    .entry("401".into())
                    .or_insert_with(|| error("No token, or an unknown, revoked or expired one"));
                responses
                    .entry("403".into())
                    .or_insert_with(|| error("The caller's role does not allow this"));
            }
            responses.entry("default".into()).or_insert_with(|| {
                error("Any other error: invalid input (400), not found (404), conflict (409), too large (413), too many requests (429), ...")
            });
        }
    }
    doc
}

/// Identifiers in workflows: workflow names and step ids (`spec::fields::is_identifier`).
const IDENTIFIER: &str = r#"{"pattern": "^[a-z0-9][a-z0-9_-]*$"}"#;
/// User and token names (`control::local::users::check_name`).
const NAME: &str =
    r#"{"pattern": "^[A-Za-z0-9][A-Za-z0-9._-]*$", "minLength": 1, "maxLength": 64}"#;
/// A new password (`auth::password::check_policy`: 8 characters to 1024 bytes, not only
/// white space).
const PASSWORD: &str = r#"{"minLength": 8, "maxLength": 1024, "pattern": "\\S", "description": "8 characters to 1024 bytes (UTF-8), not only white space"}"#;
/// Text that must not be blank.
const NOT_BLANK: &str = r#"{"pattern": "\\S"}"#;

/// What the server checks beyond the Rust types, by schema and property (none: the schema
/// itself): merged into the property's schema (a `oneOf` with `null` gets it on its non-null
/// branch).
pub(super) const CONSTRAINTS: &[(&str, &str, &str)] = &[
    // control::local: register_agent.
    ("AgentRegistration", "name", NOT_BLANK),
    ("AgentRegistration", "slots", r#"{"minimum": 1}"#),
    // spec::check_spec.
    ("WorkflowSpec", "name", IDENTIFIER),
    ("WorkflowSpec", "steps", r#"{"minItems": 1}"#),
    ("StepSpec", "id", IDENTIFIER),
    (
        "StepSpec",
        "needs",
        r#"{"items": {"pattern": "^[a-z0-9][a-z0-9_-]*$"}}"#,
    ),
    (
        "ParamSpec",
        "name",
        r#"{"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}"#,
    ),
    ("RetrySpec", "jitter", r#"{"minimum": 0, "maximum": 1}"#),
    (
        "ConcurrencySpec",
        "limit",
        r#"{"minimum": 1, "maximum": 10000}"#,
    ),
    ("ConcurrencySpec", "key", NOT_BLANK),
    // spec::matrix::check_spec: a fan-out is a matrix or a foreach, never both.
    (
        "FanOut",
        "",
        r##"{"oneOf": [
            {"required": ["matrix"], "not": {"required": ["foreach"]},
             "properties": {"matrix": {"minItems": 1}}},
            {"required": ["foreach"], "not": {"required": ["matrix"]}}
        ]}"##,
    ),
    (
        "FanOut",
        "max_instances",
        r#"{"minimum": 1, "maximum": 10000}"#,
    ),
    ("FanOut", "max_parallel", r#"{"minimum": 1}"#),
    (
        "MatrixAxis",
        "name",
        r#"{"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}"#,
    ),
    (
        "MatrixAxis",
        "values",
        r#"{"minItems": 1, "uniqueItems": true, "items": {"type": ["string", "number", "boolean"], "pattern": "^[^\\[\\],=\\x00-\\x1f]*$"}}"#,
    ),
    ("ForeachSource", "step", IDENTIFIER),
    ("HttpSpec", "url", NOT_BLANK),
    (
        "HttpSpec",
        "expect_status",
        r#"{"items": {"maximum": 65535}}"#,
    ),
    // users and tokens; an update changes something; a token is a user's or has a role, not
    // both (control::local::users).
    (
        "UserUpdate",
        "",
        r##"{"anyOf": [
            {"required": ["role"], "properties": {"role": {"$ref": "#/components/schemas/Role"}}},
            {"required": ["disabled"], "properties": {"disabled": {"type": "boolean"}}}
        ]}"##,
    ),
    ("NewUser", "name", NAME),
    ("NewUser", "password", PASSWORD),
    ("PasswordBody", "password", PASSWORD),
    ("NewToken", "name", NAME),
    ("NewToken", "user", NAME),
    (
        "NewToken",
        "",
        r##"{"oneOf": [
            {"required": ["user"], "properties": {"user": {"type": "string"}}},
            {"required": ["role"], "properties": {"role": {"$ref": "#/components/schemas/Role"}}}
        ]}"##,
    ),
    ("NewToken", "expires_in_ms", r#"{"minimum": 1}"#),
    // routes::create_backup.
    (
        "BackupCreateBody",
        "level",
        r#"{"minimum": 1, "maximum": 19}"#,
    ),
    ("BackupCreateBody", "passphrase", r#"{"minLength": 1}"#),
    ("BackupVerifyBody", "passphrase", r#"{"minLength": 1}"#),
];

/// What the server accepts, in the document: integer ranges, tuple lengths, headers that are
/// never `null`, then [`CONSTRAINTS`]. utoipa writes a `u32` as `int32` with a minimum of 0,
/// but it takes up to 4294967295: `int64` with that maximum. A `u64` is `int64` with a minimum of
/// 0, which is what a body takes (`json` refuses integers above `int64`); a query parameter takes
/// any `u64` (a long poll's `wait_ms` is clamped), so its maximum is written out.
fn accepted(value: &mut serde_json::Value) {
    headers_are_never_null(value);
    unsigned_32(value);
    unsigned_64_parameters(value);
    tuples_have_their_length(value);
    if let Some(schemas) = value
        .pointer_mut("/components/schemas")
        .and_then(serde_json::Value::as_object_mut)
    {
        for (schema, property, patch) in CONSTRAINTS {
            let target = schemas.get_mut(*schema).and_then(|s| {
                if property.is_empty() {
                    Some(s)
                } else {
                    s.pointer_mut(&format!("/properties/{property}"))
                }
            });
            if let (Some(target), Ok(patch)) = (target, serde_json::from_str(patch)) {
                merge(non_null(target), &patch);
            }
        }
    }
}

/// State the longest token lifetime a request may ask for (`--max-token-ttl`, a server setting).
pub fn longest_token(doc: &mut serde_json::Value, ttl: std::time::Duration) {
    let max = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
    if let Some(expiry) = doc.pointer_mut("/components/schemas/NewToken/properties/expires_in_ms") {
        merge(expiry, &serde_json::json!({ "maximum": max }));
    }
}

/// A serde tuple is an array of exactly its elements; utoipa leaves out the length.
fn tuples_have_their_length(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            let fixed = map.get("items") == Some(&serde_json::Value::Bool(false));
            let len = map
                .get("prefixItems")
                .and_then(serde_json::Value::as_array)
                .map(Vec::len);
            if let (true, Some(len)) = (fixed, len) {
                map.insert("minItems".into(), len.into());
                map.insert("maxItems".into(), len.into());
            }
            map.values_mut().for_each(tuples_have_their_length);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(tuples_have_their_length),
        _ => {}
    }
}

/// A header is there or not; utoipa documents an optional one as nullable, which a client
/// could only send as the text `null`.
fn headers_are_never_null(value: &mut serde_json::Value) {
    let Some(paths) = value
        .get_mut("paths")
        .and_then(serde_json::Value::as_object_mut)
    else {
        return;
    };
    let parameters = paths
        .values_mut()
        .filter_map(serde_json::Value::as_object_mut)
        .flat_map(|item| item.values_mut())
        .filter_map(|op| op.get_mut("parameters"))
        .filter_map(serde_json::Value::as_array_mut)
        .flatten();
    for p in parameters {
        if p["in"] != "header" {
            continue;
        }
        if let Some(types) = p
            .pointer_mut("/schema/type")
            .and_then(serde_json::Value::as_array_mut)
        {
            types.retain(|t| t != "null");
            if types.len() == 1 {
                let only = types.remove(0);
                p["schema"]["type"] = only;
            }
        }
    }
}

/// The non-null branch of `{"oneOf": [{"type": "null"}, X]}`, else the schema itself.
fn non_null(schema: &mut serde_json::Value) -> &mut serde_json::Value {
    let is_nullable_one_of = schema
        .get("oneOf")
        .and_then(serde_json::Value::as_array)
        .is_some_and(|branches| branches.len() == 2 && branches[0]["type"] == "null");
    if is_nullable_one_of {
        return &mut schema["oneOf"][1];
    }
    schema
}

/// Merge `patch` into `target`, objects key by key.
fn merge(target: &mut serde_json::Value, patch: &serde_json::Value) {
    match (target, patch) {
        (serde_json::Value::Object(t), serde_json::Value::Object(p)) => {
            for (k, v) in p {
                merge(t.entry(k.clone()).or_insert(serde_json::Value::Null), v);
            }
        }
        (t, p) => *t = p.clone(),
    }
}

/// Whether `schema` is utoipa's unsigned integer of `format` with no maximum given.
fn unsigned(schema: &serde_json::Map<String, serde_json::Value>, format: &str) -> bool {
    let integer = match schema.get("type") {
        Some(serde_json::Value::String(t)) => t == "integer",
        Some(serde_json::Value::Array(ts)) => ts.iter().any(|t| t == "integer"),
        _ => false,
    };
    integer
        && schema.get("format").and_then(serde_json::Value::as_str) == Some(format)
        && schema.get("minimum").and_then(serde_json::Value::as_u64) == Some(0)
        && !schema.contains_key("maximum")
}

/// See [`accepted`]: every `u32` in `value`.
fn unsigned_32(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            if unsigned(map, "int32") {
                map.insert("format".into(), "int64".into());
                map.insert("maximum".into(), u32::MAX.into());
            }
            map.values_mut().for_each(unsigned_32);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(unsigned_32),
        _ => {}
    }
}

/// See [`accepted`]: every `u64` query or path parameter.
fn unsigned_64_parameters(value: &mut serde_json::Value) {
    let Some(paths) = value
        .get_mut("paths")
        .and_then(serde_json::Value::as_object_mut)
    else {
        return;
    };
    let schemas = paths
        .values_mut()
        .filter_map(serde_json::Value::as_object_mut)
        .flat_map(|item| item.values_mut())
        .filter_map(|op| op.get_mut("parameters"))
        .filter_map(serde_json::Value::as_array_mut)
        .flatten()
        .filter_map(|p| p.get_mut("schema"))
        .filter_map(serde_json::Value::as_object_mut);
    for schema in schemas {
        if unsigned(schema, "int64") {
            schema.remove("format");
            schema.insert("maximum".into(), u64::MAX.into());
        }
    }
}

/// Whether an operation needs no token (`security: [{}]`).
fn is_public(op: &Operation) -> bool {
    op.security
        .as_ref()
        .is_some_and(|reqs| reqs.iter().all(|r| *r == Default::default()))
}

/// Response types of the backup and audit modules, which do not derive `ToSchema` (their
/// shapes are documented with `imx backup|audit ... -o json`): named objects here, so the
/// document references them by name.
macro_rules! described_elsewhere {
    ($($ty:ty => $name:literal: $doc:literal;)*) => {$(
        impl utoipa::PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new().description(Some($doc)).into()
            }
        }
        impl utoipa::ToSchema for $ty {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }
        }
    )*};
}

described_elsewhere! {
    crate::backup::BackupInfo => "BackupInfo": "A backup: its file, size and manifest (as `imx backup show -o json`).";
    crate::backup::catalog::Catalog => "Catalog": "The backups of a folder, newest first (as `imx backup list -o json`).";
    crate::backup::VerifyReport => "VerifyReport": "What verifying a backup found (as `imx backup verify -o json`).";
    crate::audit::AuditReport => "AuditReport": "The auditor's report over a period (as `imx audit report -o json`).";
    crate::audit::ChainReport => "ChainReport": "The audit chain's verification (as `imx audit verify -o json`).";
    crate::audit::Checkpoint => "Checkpoint": "A signed checkpoint of the audit chain's head.";
}
