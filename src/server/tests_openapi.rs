//! The OpenAPI document against the router: it is valid OpenAPI 3.1 JSON with a bearer scheme
//! and a schema for every body, and the server serves exactly the (path, method) pairs it lists.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::Limits;
use super::tests_limits::serve;

/// The methods a route could be served with.
const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn document() -> Value {
    super::openapi::document()
}

/// Every (METHOD, path) the document lists.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in METHODS {
            if item.get(m).is_some() {
                ops.insert((m.to_uppercase(), path.clone()));
            }
        }
    }
    ops
}

/// Every `$ref` in `v`.
fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[test]
fn the_document_is_openapi_3_1_with_a_schema_for_every_body() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert!(doc["info"]["title"].as_str().unwrap().contains("imx"));
    let scheme = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(
        (&scheme["type"], &scheme["scheme"]),
        (&"http".into(), &"bearer".into())
    );
    assert_eq!(doc["security"], serde_json::json!([{ "bearer": [] }]));

    let ops = operations(&doc);
    assert!(ops.len() >= 50, "{ops:?}");
    let public: BTreeSet<&str> = [
        "/api/v1/login",
        "/api/v1/hooks/{name}",
        "/api/v1/openapi.json",
        "/healthz",
        "/readyz",
        "/metrics",
    ]
    .into();
    for (method, path) in &ops {
        let op = &doc["paths"][path][method.to_lowercase()];
        let what = format!("{method} {path}");
        assert!(
            op["tags"].as_array().is_some_and(|t| !t.is_empty()),
            "{what}: no tag"
        );
        // Public operations say so; every other one needs the bearer token (401/403 listed).
        let is_public = op["security"] == serde_json::json!([{}]);
        assert_eq!(
            is_public,
            public.contains(path.as_str()),
            "{what}: security"
        );
        if !is_public {
            for status in ["401", "403"] {
                assert!(op["responses"].get(status).is_some(), "{what}: no {status}");
            }
        }
        assert!(
            op["responses"].get("default").is_some(),
            "{what}: no error response"
        );
        // Path parameters are declared, by name.
        for segment in path.split('/') {
            if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                let declared = op["parameters"]
                    .as_array()
                    .is_some_and(|ps| ps.iter().any(|p| p["name"] == name && p["in"] == "path"));
                assert!(declared, "{what}: path parameter {name} is not declared");
            }
        }
        // Request bodies are JSON with a schema, or (artifact uploads) raw bytes.
        if let Some(body) = op.get("requestBody") {
            let content = &body["content"];
            let schema = if content.get("application/octet-stream").is_some() {
                &content["application/octet-stream"]["schema"]
            } else {
                &content["application/json"]["schema"]
            };
            assert!(
                schema.is_object(),
                "{what}: request body without a JSON schema"
            );
        }
        // Every success response with content has a schema (204s have none).
        let responses = op["responses"].as_object().unwrap();
        let successes: Vec<_> = responses.keys().filter(|s| s.starts_with('2')).collect();
        assert_eq!(successes.len(), 1, "{what}: {successes:?}");
        for (status, response) in responses {
            match response.get("content") {
                Some(content) => {
                    for (media, c) in content.as_object().unwrap() {
                        assert!(
                            c["schema"].is_object(),
                            "{what} {status} {media}: no schema"
                        );
                    }
                }
                None => assert_eq!(status, "204", "{what}: {status} without content"),
            }
        }
    }

    // Every reference resolves; the error body is the shared one.
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    let unresolved: BTreeSet<&str> = all
        .iter()
        .map(|r| {
            r.strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("unexpected reference {r}"))
        })
        .filter(|name| doc["components"]["schemas"].get(name).is_none())
        .collect();
    assert!(
        unresolved.is_empty(),
        "references that do not resolve: {unresolved:?}"
    );
    let error = &doc["components"]["schemas"]["ErrorBody"];
    assert!(error["properties"]["error"].is_object(), "{error}");
    // Request bodies reject unknown fields; the schema says so.
    let spec = &doc["components"]["schemas"]["WorkflowSpec"];
    assert_eq!(spec["additionalProperties"], false, "{spec}");
}

#[tokio::test]
async fn the_server_serves_exactly_the_documented_routes() {
    // Many requests without a token: no per-address limit.
    let s = serve(Limits {
        per_token: 0,
        per_ip: 0,
        ..Limits::default()
    })
    .await;
    let http = reqwest::Client::new();
    // The document the server serves is the one the code builds, and needs no token.
    let served: Value = http
        .get(format!("{}/api/v1/openapi.json", s.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let doc = document();
    assert_eq!(served, doc);

    let ops = operations(&doc);
    for path in doc["paths"].as_object().unwrap().keys() {
        let concrete = path.replace("{seq}", "1").replace(['{', '}'], "");
        for m in METHODS {
            let method = Method::from_bytes(m.to_uppercase().as_bytes()).unwrap();
            let documented = ops.contains(&(m.to_uppercase(), path.clone()));
            // No token and a body that is not JSON: documented routes answer before doing
            // anything (401/403 for a missing token, 400 for the body), never 404 or 405.
            let resp = http
                .request(method.clone(), format!("{}{concrete}", s.url))
                .header("content-type", "application/json")
                .body("{")
                .send()
                .await
                .unwrap();
            let status = resp.status();
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            if documented {
                assert!(
                    status != StatusCode::NOT_FOUND && status != StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path} is documented but answers {status}: {body}"
                );
            } else {
                assert_eq!(
                    status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path} is served but not documented: {body}"
                );
                assert_eq!(body["error"]["code"], "invalid", "{method} {path}: {body}");
            }
        }
    }
    // A path the document does not list is not served.
    let resp = http
        .get(format!("{}/api/v1/not-a-route", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

/// Routes come only from `routes!` lists (`OpenApiRouter::routes`), which document them: a route
/// added any other way (`.route(`, `.nest(`, a fallback) would be served without being
/// documented.
#[test]
fn routes_are_only_added_through_documented_handlers() {
    let sources = [
        ("mod.rs", include_str!("mod.rs")),
        ("routes.rs", include_str!("routes.rs")),
        ("metrics.rs", include_str!("metrics.rs")),
        ("sse.rs", include_str!("sse.rs")),
        ("openapi.rs", include_str!("openapi.rs")),
    ];
    let banned = [
        concat!(".", "route("),
        concat!(".", "route_service("),
        concat!(".", "nest("),
        concat!(".", "nest_service("),
        concat!(".", "fallback("),
        concat!("Router::", "new()"),
    ];
    for (file, text) in sources {
        for b in banned {
            assert!(
                !text.contains(b),
                "src/server/{file} uses `{b}`: add routes with `routes!` in routes::api"
            );
        }
    }
}

#[test]
fn model_times_are_described_as_date_time_strings() {
    let doc = document();
    let schemas = &doc["components"]["schemas"];
    for (schema, field) in [
        ("Run", "created_at"),
        ("Run", "finished_at"),
        ("StepState", "started_at"),
        ("Agent", "last_heartbeat"),
        ("AuditRecord", "time"),
        ("LogLine", "time"),
        ("Event", "time"),
        ("User", "created_at"),
        ("Token", "expires_at"),
        ("WorkflowSummary", "created_at"),
        ("StepTask", "lease_until"),
    ] {
        let prop = &schemas[schema]["properties"][field];
        assert_eq!(prop["format"], "date-time", "{schema}.{field}: {prop}");
        let ty = prop["type"].to_string();
        assert!(ty.contains("string"), "{schema}.{field}: {prop}");
    }
    let duration = &schemas["Run"]["properties"]["duration_ms"];
    assert!(
        duration["type"].to_string().contains("integer"),
        "{duration}"
    );
}

#[test]
fn the_document_states_what_the_server_accepts() {
    let doc = document();
    let schemas = &doc["components"]["schemas"];
    // Every constraint names a property the document has, so none is silently lost when a
    // type changes.
    for (schema, property, patch) in super::openapi::CONSTRAINTS {
        let target = if property.is_empty() {
            &schemas[*schema]
        } else {
            &schemas[*schema]["properties"][*property]
        };
        assert!(
            target.is_object(),
            "{schema}.{property} is not in the document"
        );
        serde_json::from_str::<Value>(patch).unwrap_or_else(|e| panic!("{schema}.{property}: {e}"));
    }
    // A u32 takes up to 4294967295; a u64 in a body is int64; in a query, any u64.
    let limit = &schemas["RunQuery"]["properties"]["limit"];
    assert_eq!(
        (limit["format"].as_str(), limit["maximum"].as_u64()),
        (Some("int64"), Some(u64::from(u32::MAX))),
        "{limit}"
    );
    let wait = &schemas["ClaimBody"]["properties"]["wait_ms"];
    assert_eq!(wait["format"], "int64", "{wait}");
    let param = |path: &str, name: &str| -> Value {
        let op = doc["paths"][path]["get"]["parameters"].as_array().unwrap();
        op.iter().find(|p| p["name"] == name).unwrap()["schema"].clone()
    };
    assert_eq!(
        param("/api/v1/events", "wait_ms")["maximum"].as_u64(),
        Some(u64::MAX)
    );
    // A header is never null.
    assert_eq!(
        param("/api/v1/events/stream", "Last-Event-ID")["type"],
        "integer"
    );
    // Tuples have their length.
    let result = &schemas["CompleteBody"]["properties"]["results"]["items"];
    assert_eq!(
        (result["minItems"].as_u64(), result["maxItems"].as_u64()),
        (Some(2), Some(2))
    );
    // The event stream describes each event.
    let stream = &doc["paths"]["/api/v1/events/stream"]["get"]["responses"]["200"]["content"]["text/event-stream"]
        ["schema"];
    assert_eq!(
        stream["$ref"], "#/components/schemas/StreamEvent",
        "{stream}"
    );
    assert!(schemas["StreamEvent"]["properties"]["data"].is_object());
    // Names and ids as the server checks them.
    assert_eq!(
        schemas["WorkflowSpec"]["properties"]["name"]["pattern"],
        "^[a-z0-9][a-z0-9_-]*$"
    );
    assert_eq!(schemas["NewUser"]["properties"]["name"]["maxLength"], 64);
}

/// A path parameter is a `{name}` of its path, and every `{name}` is one: a query struct
/// without `#[into_params(parameter_in = Query)]` is documented as a path parameter.
#[test]
fn path_parameters_are_the_names_in_their_paths() {
    let doc = document();
    let mut wrong = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in METHODS {
            let Some(op) = item.get(m) else { continue };
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let in_path: BTreeSet<String> = params
                .iter()
                .filter(|p| p["in"] == "path")
                .filter_map(|p| p["name"].as_str().map(str::to_string))
                .collect();
            let named: BTreeSet<String> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                .map(str::to_string)
                .collect();
            if in_path != named {
                wrong.push(format!("{m} {path}: path parameters {in_path:?}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
