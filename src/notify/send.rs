//! Sending one message to one channel: a webhook POST signed the Standard Webhooks way
//! (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of
//! "id.timestamp.body">`; a `whsec_` secret is the base64 of the key, as Standard Webhooks
//! libraries read it), a Slack incoming-webhook POST (its URL is the secret), or an email over
//! SMTP: `smtp://` requires STARTTLS, `smtps://` is TLS from the start; the password is the
//! channel's secret. Errors come back as text for the attempt's record, never with a secret.

use std::time::Duration;

use super::{ChannelKind, EventSummary, message};
use crate::auth::Secret;

/// How long one attempt may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Where one channel's messages go, its secret opened.
#[derive(Debug, Clone)]
pub struct Target {
    pub name: String,
    pub kind: ChannelKind,
    /// The webhook URL or email address.
    pub target: String,
    pub smtp: Option<String>,
    pub from: Option<String>,
    pub smtp_ca_pem: Option<String>,
    pub secret: Option<Secret>,
}

/// Send `events` as delivery `id` to `to`: `Ok` with what the receiver answered, or the error.
pub async fn send(
    client: &reqwest::Client,
    to: &Target,
    id: &str,
    events: &[EventSummary],
    now_ms: i64,
) -> Result<String, String> {
    match to.kind {
        ChannelKind::Webhook => {
            let body = serde_json::to_vec(&message::webhook_body(id, &to.name, events, now_ms))
                .map_err(|e| format!("cannot encode the message: {e}"))?;
            let ts = now_ms.div_euclid(1000);
            let mut req = client
                .post(&to.target)
                .timeout(TIMEOUT)
                .header("content-type", "application/json")
                .header("webhook-id", id)
                .header("webhook-timestamp", ts.to_string());
            if let Some(secret) = &to.secret {
                req = req.header(
                    "webhook-signature",
                    crate::auth::webhook::sign(secret, id, ts, &body),
                );
            }
            http(req.body(body)).await
        }
        ChannelKind::Slack => {
            let url = to
                .secret
                .as_ref()
                .ok_or_else(|| "the channel has no Slack URL".to_string())?;
            let req = client
                .post(url.expose())
                .timeout(TIMEOUT)
                .json(&message::slack_body(events));
            // The URL is the secret: errors that quote it are cut down to what went wrong.
            http(req).await.map_err(|e| redact(&e, url.expose()))
        }
        ChannelKind::Email => email(to, events).await,
    }
}

fn redact(text: &str, secret: &str) -> String {
    if secret.is_empty() {
        text.to_string()
    } else {
        text.replace(secret, "[slack url]")
    }
}

async fn http(req: reqwest::RequestBuilder) -> Result<String, String> {
    let resp = req
        .send()
        .await
        .map_err(|e| format!("{}", e.without_url()))?;
    let status = resp.status();
    if status.is_success() {
        Ok(format!("HTTP {}", status.as_u16()))
    } else {
        Err(format!("HTTP {}", status.as_u16()))
    }
}

async fn email(to: &Target, events: &[EventSummary]) -> Result<String, String> {
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

    let smtp = to
        .smtp
        .as_deref()
        .ok_or_else(|| "the channel has no SMTP server".to_string())?;
    let url = reqwest::Url::parse(smtp).map_err(|e| format!("bad SMTP URL: {e}"))?;
    let host = url
        .host_str()
        .ok_or_else(|| "the SMTP URL has no host".to_string())?
        .to_string();
    let implicit = match url.scheme() {
        "smtp" => false,
        "smtps" => true,
        other => return Err(format!("unknown SMTP scheme {other:?} (smtp or smtps)")),
    };
    let mut tls = TlsParameters::builder(host.clone());
    if let Some(pem) = &to.smtp_ca_pem {
        let cert = Certificate::from_pem(pem.as_bytes())
            .map_err(|e| format!("bad CA certificate: {e}"))?;
        tls = tls.add_root_certificate(cert);
    }
    let tls = tls
        .build_rustls()
        .map_err(|e| format!("TLS setup failed: {e}"))?;
    let port = url.port().unwrap_or(if implicit { 465 } else { 587 });
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.as_str())
        .port(port)
        .timeout(Some(TIMEOUT))
        .tls(if implicit {
            Tls::Wrapper(tls)
        } else {
            Tls::Required(tls)
        });
    if !url.username().is_empty() {
        let user = percent_encoding::percent_decode_str(url.username())
            .decode_utf8_lossy()
            .into_owned();
        let pass = to
            .secret
            .as_ref()
            .map(|s| s.expose().to_string())
            .unwrap_or_default();
        builder = builder.credentials(Credentials::new(user, pass));
    }
    let transport = builder.build();
    let from = to.from.clone().unwrap_or_else(|| format!("imx@{host}"));
    let (subject, body) = message::email(events);
    let msg = Message::builder()
        .from(
            from.parse()
                .map_err(|e| format!("bad sender {from:?}: {e}"))?,
        )
        .to(to
            .target
            .parse()
            .map_err(|e| format!("bad address {:?}: {e}", to.target))?)
        .subject(subject)
        .body(body)
        .map_err(|e| format!("cannot build the email: {e}"))?;
    let resp = transport
        .send(msg)
        .await
        .map_err(|e| format!("SMTP: {e}"))?;
    Ok(format!(
        "SMTP {} {}",
        resp.code(),
        resp.message().collect::<Vec<_>>().join(" ")
    ))
}
