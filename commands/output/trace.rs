//! `-v` / `-vv`: each request to a server on stderr — method, path, status and time; with `-vv`
//! also the request and response headers, the Authorization header's secret replaced.

use std::sync::Arc;

use imx::control::remote::{Trace, Tracer};

use super::Printer;

/// A tracer that prints through `out` (nothing with `-q`).
pub fn tracer(out: Printer) -> Tracer {
    Arc::new(move |t: &Trace<'_>| {
        for line in lines(t, out.verbosity()) {
            out.verbose(line);
        }
    })
}

/// What one request prints at `verbosity`.
pub fn lines(t: &Trace<'_>, verbosity: u8) -> Vec<String> {
    let path = match t.url.query() {
        Some(q) => format!("{}?{q}", t.url.path()),
        None => t.url.path().to_string(),
    };
    let status = match &t.response {
        Some((s, _)) => s.to_string(),
        None => "no response".to_string(),
    };
    let ms = t.elapsed.as_secs_f64() * 1000.0;
    let mut out = vec![format!("* {} {path} → {status} in {ms:.1}ms", t.method)];
    if verbosity >= 2 {
        out.push(format!("> {} {}", t.method, t.url));
        for (k, v) in t.request_headers {
            out.push(format!("> {k}: {}", shown(k.as_str(), v)));
        }
        if let Some((_, headers)) = &t.response {
            for (k, v) in *headers {
                out.push(format!("< {k}: {}", shown(k.as_str(), v)));
            }
        }
    }
    out
}

/// A header's value as shown: secrets (Authorization, cookies) replaced.
fn shown(name: &str, value: &reqwest::header::HeaderValue) -> String {
    match name.to_ascii_lowercase().as_str() {
        "authorization" | "proxy-authorization" => {
            let scheme = value
                .to_str()
                .ok()
                .and_then(|v| v.split_whitespace().next())
                .unwrap_or("");
            format!("{scheme} [redacted]").trim_start().to_string()
        }
        "cookie" | "set-cookie" => "[redacted]".to_string(),
        _ => value.to_str().unwrap_or("[binary]").to_string(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn one_line_then_headers_without_the_secret() {
        let url = reqwest::Url::parse("http://127.0.0.1:7/api/v1/runs?limit=20").unwrap();
        let mut req = reqwest::header::HeaderMap::new();
        req.insert("authorization", "Bearer imx_supersecret".parse().unwrap());
        req.insert("accept", "application/json".parse().unwrap());
        let resp = reqwest::header::HeaderMap::new();
        let t = Trace {
            method: &reqwest::Method::GET,
            url: &url,
            request_headers: &req,
            response: Some((reqwest::StatusCode::OK, &resp)),
            elapsed: std::time::Duration::from_micros(3_250),
        };
        assert_eq!(
            lines(&t, 1),
            ["* GET /api/v1/runs?limit=20 → 200 OK in 3.2ms"]
        );
        let all = lines(&t, 2).join("\n");
        assert!(all.contains("> authorization: Bearer [redacted]"), "{all}");
        assert!(all.contains("> accept: application/json"), "{all}");
        assert!(!all.contains("supersecret"), "{all}");
    }
}
