use std::fmt;
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::error::{chain, find_io, io_reason};
use crate::{NotifyError, redact_url};

/// Where and as whom to send email.
///
/// `url` is one of:
/// - `smtp://host:port` — plain SMTP, for a relay on loopback or a trusted network;
/// - `smtp://user:pass@host:587?tls=required` — STARTTLS, refusing to go on without it
///   (`tls=opportunistic` upgrades only when the server offers it);
/// - `smtps://user:pass@host:465` — implicit TLS.
///
/// User and password are percent-decoded. The default port is 25 for plain `smtp`, 587 with
/// `tls=…` and 465 for `smtps`. A path (`smtp://relay/vouch.example.com`) sets the EHLO name.
///
/// `from` is a mailbox such as `alerts@example.com` or `Vouch <alerts@example.com>`.
/// `timeout` bounds the whole delivery, connection and every SMTP step included.
#[derive(Clone)]
pub struct SmtpSettings {
    pub url: String,
    pub from: String,
    pub timeout: Duration,
}

// Hand-written so `{:?}` in a log line cannot print the password from the URL.
impl fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("url", &redact_url(&self.url))
            .field("from", &self.from)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A plain-text UTF-8 email. Each `to` entry is a mailbox (`bob@example.com` or
/// `Bob <bob@example.com>`); line breaks in `subject` become spaces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email {
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
}

/// Delivers `email` through the SMTP server in `settings`, over a fresh connection.
///
/// Addresses are checked before anything touches the network, so a typo never half-sends.
/// `Ok` means the server accepted the message for delivery (it answered 250 to the data).
pub async fn send_email(settings: &SmtpSettings, email: &Email) -> Result<(), NotifyError> {
    let server = check_url(&settings.url)?;
    let message = build_message(settings, email)?;

    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(settings.url.trim())
        .map_err(|err| NotifyError::InvalidSmtpUrl {
            url: redact_url(&settings.url),
            reason: chain(&err),
        })?
        .timeout(Some(settings.timeout))
        .build();

    tracing::debug!(%server, recipients = email.to.len(), "sending email");
    // lettre's timeout is per step; this one caps the whole dialogue so a server that answers
    // just slowly enough cannot hold an alert for minutes.
    match tokio::time::timeout(settings.timeout, transport.send(message)).await {
        Ok(Ok(_)) => {
            tracing::info!(%server, recipients = email.to.len(), "email accepted by SMTP server");
            Ok(())
        }
        Ok(Err(err)) => {
            let err = classify(server, settings.timeout, &err);
            tracing::warn!(error = %err, "email not delivered");
            Err(err)
        }
        Err(_) => {
            let err = NotifyError::SmtpTimeout {
                server,
                timeout: settings.timeout,
            };
            tracing::warn!(error = %err, "email not delivered");
            Err(err)
        }
    }
}

/// Checks what lettre would silently accept or ignore and returns `host:port` for messages.
fn check_url(raw: &str) -> Result<String, NotifyError> {
    let invalid = |reason: String| NotifyError::InvalidSmtpUrl {
        url: redact_url(raw),
        reason,
    };
    let url = url::Url::parse(raw.trim()).map_err(|err| invalid(err.to_string()))?;

    let mut tls = None;
    for (key, value) in url.query_pairs() {
        match key.as_ref() {
            "tls" => tls = Some(value.into_owned()),
            other => {
                return Err(invalid(format!(
                    "unknown parameter '{other}' (only 'tls' is understood)"
                )));
            }
        }
    }
    let default_port = match (url.scheme(), tls.as_deref()) {
        ("smtp", None) => 25,
        ("smtp", Some("required" | "opportunistic")) => 587,
        ("smtp", Some(other)) => {
            return Err(invalid(format!(
                "tls must be 'required' or 'opportunistic', not '{other}'"
            )));
        }
        ("smtps", None) => 465,
        ("smtps", Some(_)) => {
            return Err(invalid(
                "smtps always uses implicit TLS; drop the tls parameter".into(),
            ));
        }
        (other, _) => {
            return Err(invalid(format!(
                "scheme must be smtp or smtps, not '{other}'"
            )));
        }
    };
    let host = match url.host_str() {
        Some(host) if !host.is_empty() => host,
        _ => return Err(invalid("no host".into())),
    };

    let has_user = !url.username().is_empty();
    let has_password = url.password().is_some();
    if has_user != has_password {
        // lettre would quietly send without logging in, and the server's refusal would then
        // look like a policy problem instead of a configuration one.
        return Err(invalid(
            "credentials need both a user and a password".into(),
        ));
    }
    if has_password && url.scheme() == "smtp" && tls.as_deref() != Some("required") {
        let loopback = match url.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
            None => false,
        };
        if !loopback {
            return Err(invalid(
                "the password would travel unencrypted; use ?tls=required or smtps://".into(),
            ));
        }
    }

    Ok(format!("{host}:{}", url.port().unwrap_or(default_port)))
}

fn build_message(settings: &SmtpSettings, email: &Email) -> Result<Message, NotifyError> {
    let from = parse_mailbox("from", &settings.from)?;
    if email.to.is_empty() {
        return Err(NotifyError::NoRecipients);
    }
    // Alert titles are often built from data; a stray newline must not become a header break.
    let subject = email
        .subject
        .replace("\r\n", " ")
        .replace(['\r', '\n'], " ");

    let mut builder = Message::builder()
        .from(from)
        .subject(subject)
        .message_id(None);
    for to in &email.to {
        builder = builder.to(parse_mailbox("to", to)?);
    }
    builder
        .header(ContentType::TEXT_PLAIN)
        .body(email.text.clone())
        .map_err(|err| NotifyError::Message(chain(&err)))
}

fn parse_mailbox(field: &'static str, raw: &str) -> Result<Mailbox, NotifyError> {
    raw.trim()
        .parse::<Mailbox>()
        .map_err(|err| NotifyError::InvalidAddress {
            field,
            address: raw.to_owned(),
            reason: err.to_string(),
        })
}

fn classify(
    server: String,
    timeout: Duration,
    err: &lettre::transport::smtp::Error,
) -> NotifyError {
    if let Some(code) = err.status() {
        let text = std::error::Error::source(err)
            .map(ToString::to_string)
            .unwrap_or_default();
        let reply = if text.is_empty() {
            code.to_string()
        } else {
            format!("{code} {text}")
        };
        return NotifyError::SmtpRefused {
            server,
            code: code.into(),
            reply,
        };
    }
    if err.is_timeout() {
        return NotifyError::SmtpTimeout { server, timeout };
    }
    if err.is_tls() {
        return NotifyError::SmtpTls {
            server,
            reason: source_text(err),
        };
    }
    // lettre exposes no predicate for "could not connect", but names that kind first in its
    // Display; that is the one case that deserves the word "unreachable".
    if err.to_string().starts_with("Connection error") {
        let reason = find_io(err)
            .map(io_reason)
            .unwrap_or_else(|| source_text(err));
        return NotifyError::SmtpUnreachable { server, reason };
    }
    let reason = match find_io(err) {
        Some(io) => io_reason(io),
        None => chain(err),
    };
    NotifyError::Smtp { server, reason }
}

/// lettre's own text is a bare kind ("tls error"); the source says what actually happened.
fn source_text(err: &lettre::transport::smtp::Error) -> String {
    match std::error::Error::source(err) {
        Some(source) => chain(source),
        None => err.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_checks_name_the_problem_without_the_password() {
        let bad = [
            ("http://host", "scheme must be smtp or smtps"),
            ("smtp://host?tls=maybe", "tls must be"),
            ("smtp://host?tsl=required", "unknown parameter 'tsl'"),
            ("smtps://host?tls=required", "drop the tls parameter"),
            (
                "smtp://mailer@host:587?tls=required",
                "both a user and a password",
            ),
            ("smtp://mailer:hunter2@mail.example.com:25", "unencrypted"),
        ];
        for (url, expected) in bad {
            let err = check_url(url).unwrap_err().to_string();
            assert!(err.contains(expected), "{url}: {err}");
            assert!(err.starts_with("invalid SMTP URL '"), "{err}");
            assert!(!err.contains("hunter2") && !err.contains("mailer"), "{err}");
        }
    }

    #[test]
    fn url_checks_accept_the_documented_forms() {
        assert_eq!(
            check_url("smtp://127.0.0.1:2525").unwrap(),
            "127.0.0.1:2525"
        );
        assert_eq!(
            check_url("smtp://u:p@mail.example.com?tls=required").unwrap(),
            "mail.example.com:587"
        );
        assert_eq!(
            check_url("smtps://u:p@mail.example.com").unwrap(),
            "mail.example.com:465"
        );
        assert_eq!(
            check_url("smtp://u:p@localhost:2525").unwrap(),
            "localhost:2525"
        );
        assert_eq!(check_url("smtp://relay").unwrap(), "relay:25");
    }

    #[test]
    fn lettre_accepts_every_url_check_url_accepts() {
        for url in [
            "smtp://127.0.0.1:2525",
            "smtp://u:p%40ss@mail.example.com:587?tls=required",
            "smtp://mail.example.com?tls=opportunistic",
            "smtps://u:p@mail.example.com:465",
        ] {
            AsyncSmtpTransport::<Tokio1Executor>::from_url(url).unwrap();
        }
    }

    #[test]
    fn debug_hides_the_password() {
        let settings = SmtpSettings {
            url: "smtps://user:hunter2@mail.example.com".into(),
            from: "a@example.com".into(),
            timeout: Duration::from_secs(5),
        };
        let shown = format!("{settings:?}");
        assert!(
            !shown.contains("hunter2") && shown.contains("smtps://mail.example.com"),
            "{shown}"
        );
    }
}
