//! Sending one message to one channel: a webhook POST signed the Standard Webhooks way
//! (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of
//! "id.timestamp.body">`; a `whsec_` secret is the base64 of the key, as Standard Webhooks
//! libraries read it), a Slack incoming-webhook POST (its URL is the secret), or an email over
//! SMTP: `smtp://` requires STARTTLS, `smtps://` is TLS from the start; the password is the
//! channel's secret. Errors come back as text for the attempt's record, never with a secret.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

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

/// The key a Standard Webhooks secret stands for: the base64 after `whsec_`, else the text.
fn signing_key(secret: &str) -> Vec<u8> {
    secret
        .strip_prefix("whsec_")
        .and_then(|b| STANDARD.decode(b).ok())
        .unwrap_or_else(|| secret.as_bytes().to_vec())
}

/// The `webhook-signature` header value for `body` sent as message `id` at `timestamp`
/// (seconds since the epoch).
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
    let key = zeroize::Zeroizing::new(signing_key(secret));
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
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
                    signature(secret.expose(), id, ts, &body),
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
        let user = percent_decode(url.username());
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

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification (and the Svix libraries' tests).
    #[test]
    fn signatures_match_the_standard_webhooks_example() {
        let sig = signature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        // A secret without the prefix is the key itself.
        assert_ne!(
            signature("plain", "id", 1, b"{}"),
            signature("other", "id", 1, b"{}")
        );
    }

    #[test]
    fn smtp_user_names_are_percent_decoded() {
        assert_eq!(percent_decode("ops%40example.com"), "ops@example.com");
        assert_eq!(percent_decode("plain"), "plain");
    }
}
