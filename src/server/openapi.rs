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
workflows, runs, users, tokens, audit, backups) under /api/v1.\n\n\
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
        (name = "auth", description = "Login, logout, whoami"),
        (name = "dashboard", description = "What `imx dashboard` reads"),
        (name = "audit", description = "The hash-chained audit trail"),
        (name = "backups", description = "Backups in the server's backup folder"),
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
    pub fn render(doc: &OpenApi) -> Self {
        // Serializing plain data cannot fail; an empty object would still be valid JSON.
        Document(Arc::new(doc.to_json().unwrap_or_else(|_| "{}".into())))
    }
}

/// The whole document, as served (without starting a server).
pub fn document() -> OpenApi {
    let mut doc = super::routes::api().into_openapi();
    doc.merge(super::metrics::api().into_openapi());
    finish(doc)
}

/// Complete what the operations leave implicit: every operation's error responses, all of the
/// one [`ErrorBody`] shape.
pub fn finish(mut doc: OpenApi) -> OpenApi {
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
