//! Raw HTTP against a real `imx server` (reqwest, async): what the API tests send when the CLI
//! would never send it (other roles' tokens, malformed bodies, odd query strings).

#![allow(dead_code)] // helpers shared by test modules; not every module uses every one

use std::time::Duration;

use serde_json::Value;

/// What `resp` answered: a JSON body parsed (an event stream's body is never read).
async fn reply(method: &str, path: &str, resp: reqwest::Response) -> Reply {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let content_type = headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let json = if content_type.starts_with("application/json") {
        let bytes = resp
            .bytes()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: reading the body: {e}"));
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("{method} {path}: the body is not JSON ({e})"))
    } else {
        // An event stream never ends; other bodies are not needed.
        drop(resp);
        Value::Null
    };
    Reply {
        status,
        content_type,
        json,
        headers,
    }
}

/// A client for one server.
pub struct Api {
    client: reqwest::Client,
    pub url: String,
}

/// What a request body is.
pub enum Body<'a> {
    None,
    Json(&'a Value),
    /// Bytes with this content type (or none).
    Raw(Option<&'a str>, Vec<u8>),
}

/// What the server answered. `json` is the parsed body when it is JSON, else `Null` (an event
/// stream's body is never read).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub json: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Reply {
    /// `error.code` of a JSON error body.
    pub fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or_default()
    }

    /// `error.message` of a JSON error body.
    pub fn message(&self) -> &str {
        self.json["error"]["message"].as_str().unwrap_or_default()
    }

    /// Panic unless this is an error with `status`, our JSON error shape, `code` and a message
    /// holding every one of `parts`.
    #[track_caller]
    pub fn expect_error(&self, status: u16, code: &str, parts: &[&str]) -> &Self {
        assert_eq!(self.status, status, "{self:?}");
        assert!(
            self.content_type.starts_with("application/json"),
            "not a JSON error: {self:?}"
        );
        assert_eq!(self.code(), code, "{self:?}");
        assert!(!self.message().is_empty(), "{self:?}");
        for part in parts {
            assert!(
                self.message().contains(part),
                "expected {part:?} in the message: {self:?}"
            );
        }
        self
    }
}

impl Api {
    pub fn new(url: &str) -> Self {
        Api {
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap_or_else(|e| panic!("cannot build an HTTP client: {e}")),
            url: url.trim_end_matches('/').to_string(),
        }
    }

    /// `METHOD path` with an optional bearer token and a body.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Body<'_>,
    ) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .unwrap_or_else(|e| panic!("bad method {method}: {e}"));
        let mut req = self
            .client
            .request(method.clone(), format!("{}{path}", self.url));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req = match body {
            Body::None => req,
            Body::Json(v) => req.json(v),
            Body::Raw(ct, bytes) => {
                let req = match ct {
                    Some(ct) => req.header(reqwest::header::CONTENT_TYPE, ct),
                    None => req,
                };
                req.body(bytes)
            }
        };
        let resp = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        reply(method.as_str(), path, resp).await
    }

    /// `POST path` with extra headers and a raw body, no bearer token (webhook calls).
    pub async fn post_signed(&self, path: &str, headers: &[(&str, String)], body: &[u8]) -> Reply {
        let mut req = self
            .client
            .post(format!("{}{path}", self.url))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_vec());
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        let resp = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        reply("POST", path, resp).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.send("GET", path, token, Body::None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Reply {
        self.send("POST", path, token, Body::Json(body)).await
    }
}
