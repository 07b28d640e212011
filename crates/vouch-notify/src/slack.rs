use std::sync::OnceLock;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{chain, find_io, io_reason};
use crate::{NotifyError, redact_url};

/// A Slack incoming-webhook message: serialises as `{"text": "..."}`. Slack renders `text` as
/// mrkdwn (`*bold*`, `<https://…|link>`), and escapes are the caller's business.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlackMessage {
    pub text: String,
}

/// How much of a failed answer's body goes into the error: Slack's reasons (`no_team`,
/// `invalid_token`, `channel_is_archived`) are short, and a proxy's HTML page should not flood
/// the log.
const BODY_CHARS: usize = 200;

/// Posts `message` to a Slack incoming webhook (`https://hooks.slack.com/services/…`), bounded
/// by `timeout` for the whole request. Any 2xx answer is success; redirects are not followed,
/// so the secret URL is never re-sent somewhere else.
pub async fn post_slack(
    webhook_url: &str,
    message: &SlackMessage,
    timeout: Duration,
) -> Result<(), NotifyError> {
    let host = redact_url(webhook_url);
    let url =
        url::Url::parse(webhook_url.trim()).map_err(|err| NotifyError::InvalidWebhookUrl {
            url: host.clone(),
            reason: err.to_string(),
        })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(NotifyError::InvalidWebhookUrl {
            url: host,
            reason: "expected an http(s) URL with a host".into(),
        });
    }
    let scrub = |text: String| scrub(text, webhook_url.trim(), &url);

    let client = client().map_err(|reason| NotifyError::Webhook {
        host: host.clone(),
        reason,
    })?;
    tracing::debug!(%host, "posting to Slack webhook");
    let response = client
        .post(url.clone())
        .timeout(timeout)
        .json(message)
        .send()
        .await
        .map_err(|err| request_error(&host, timeout, err, &scrub))?;

    let status = response.status();
    if status.is_success() {
        tracing::info!(%host, status = status.as_u16(), "Slack webhook accepted the message");
        return Ok(());
    }
    let body = read_head(response).await;
    let err = NotifyError::WebhookRejected {
        host,
        code: status.as_u16(),
        status: match status.canonical_reason() {
            Some(reason) => format!("{} {reason}", status.as_u16()),
            None => status.as_u16().to_string(),
        },
        body: scrub(body),
    };
    tracing::warn!(error = %err, "Slack message not delivered");
    Err(err)
}

// One client for the process keeps the root store loaded once. Pooling is off because callers
// (tests above all) may run each post on a different runtime, and a pooled connection does not
// survive the runtime that opened it.
fn client() -> Result<reqwest::Client, String> {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    if let Some(client) = CLIENT.get() {
        return Ok(client.clone());
    }
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(0)
        .user_agent(concat!("vouch-notify/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|err| chain(&err.without_url()))?;
    Ok(CLIENT.get_or_init(|| client).clone())
}

fn request_error(
    host: &str,
    timeout: Duration,
    err: reqwest::Error,
    scrub: &dyn Fn(String) -> String,
) -> NotifyError {
    let host = host.to_owned();
    if err.is_timeout() {
        return NotifyError::WebhookTimeout { host, timeout };
    }
    let err = err.without_url();
    if err.is_connect() {
        let reason = match find_io(&err) {
            Some(io) => io_reason(io),
            None => scrub(chain(&err)),
        };
        return NotifyError::WebhookUnreachable { host, reason };
    }
    NotifyError::Webhook {
        host,
        reason: scrub(chain(&err)),
    }
}

/// The first [`BODY_CHARS`] characters of the body, reading no more than needed; a body that
/// cannot be read is reported as empty rather than hiding the status behind a second error.
async fn read_head(mut response: reqwest::Response) -> String {
    let mut bytes = Vec::new();
    while bytes.len() < BODY_CHARS * 4 {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    String::from_utf8_lossy(&bytes)
        .trim()
        .chars()
        .take(BODY_CHARS)
        .collect()
}

/// Belt and braces: reqwest's `without_url` drops the URL it knows about, but a server's body
/// or a nested error could still echo the path, which is the webhook's secret.
fn scrub(text: String, raw: &str, url: &url::Url) -> String {
    let mut text = text.replace(raw, &redact_url(raw));
    if url.path().len() > 1 {
        text = text.replace(url.path(), "/…");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_serialises_as_slack_expects() {
        let json = serde_json::to_value(SlackMessage {
            text: "*hi*".into(),
        })
        .unwrap();
        assert_eq!(json, serde_json::json!({ "text": "*hi*" }));
    }

    #[test]
    fn scrub_removes_the_path() {
        let raw = "https://hooks.slack.com/services/T1/B2/secret";
        let url = url::Url::parse(raw).unwrap();
        let text = scrub(format!("oops {raw} and /services/T1/B2/secret"), raw, &url);
        assert_eq!(text, "oops https://hooks.slack.com and /…");
    }

    #[tokio::test]
    async fn bad_urls_are_refused_without_echoing_them() {
        for url in [
            "ftp://host/services/T/B/X",
            "/services/T/B/X",
            "mailto:x@example.com",
        ] {
            let err = post_slack(
                url,
                &SlackMessage { text: "x".into() },
                Duration::from_secs(1),
            )
            .await
            .unwrap_err();
            assert!(
                matches!(err, NotifyError::InvalidWebhookUrl { .. }),
                "{err}"
            );
            assert!(!err.to_string().contains("/services/"), "{err}");
        }
    }
}
