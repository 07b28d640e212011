use std::time::Duration;

/// Why a notification was not delivered.
///
/// Every message names the step and the server (as `host:port` or `scheme://host[:port]`), and
/// none carries a password or a webhook path: these strings go to logs and to the UI.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NotifyError {
    /// The SMTP URL in the settings cannot be used. `url` is already redacted.
    #[error("invalid SMTP URL '{url}': {reason}")]
    InvalidSmtpUrl { url: String, reason: String },

    /// A sender or recipient is not a valid mailbox. `field` is `from` or `to`.
    #[error("invalid address '{address}' in '{field}': {reason}")]
    InvalidAddress {
        field: &'static str,
        address: String,
        reason: String,
    },

    #[error("no recipients in 'to'")]
    NoRecipients,

    /// lettre could not assemble the message (should not happen once the addresses parse).
    #[error("could not build the email: {0}")]
    Message(String),

    /// No SMTP session could be opened: refused, no route, name not resolved.
    #[error("SMTP server {server} is unreachable: {reason}")]
    SmtpUnreachable { server: String, reason: String },

    #[error("SMTP server {server} did not complete the delivery within {timeout:?}")]
    SmtpTimeout { server: String, timeout: Duration },

    /// The server answered a step with a 4xx/5xx reply; `reply` is its code and text.
    #[error("SMTP server {server} refused the message: {reply}")]
    SmtpRefused {
        server: String,
        code: u16,
        reply: String,
    },

    #[error("TLS with SMTP server {server} failed: {reason}")]
    SmtpTls { server: String, reason: String },

    /// Anything else in the SMTP dialogue (a dropped connection, a garbled reply).
    #[error("SMTP delivery via {server} failed: {reason}")]
    Smtp { server: String, reason: String },

    /// The webhook URL cannot be used. `url` is already redacted.
    #[error("invalid Slack webhook URL '{url}': {reason}")]
    InvalidWebhookUrl { url: String, reason: String },

    #[error("Slack webhook {host} is unreachable: {reason}")]
    WebhookUnreachable { host: String, reason: String },

    #[error("Slack webhook {host} did not answer within {timeout:?}")]
    WebhookTimeout { host: String, timeout: Duration },

    /// The webhook answered outside 2xx. `status` reads like `404 Not Found`; `body` is the
    /// first 200 characters of the answer (Slack puts its reason there, e.g. `no_team`).
    #[error("Slack webhook {host} answered {status}: {body}")]
    WebhookRejected {
        host: String,
        code: u16,
        status: String,
        body: String,
    },

    #[error("Slack webhook {host} failed: {reason}")]
    Webhook { host: String, reason: String },
}

/// Joins an error and its sources into one line, skipping a source whose text the previous
/// line already contains (many libraries repeat their source in their own `Display`).
pub(crate) fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(next) = source {
        let text = next.to_string();
        if !text.is_empty() && !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = next.source();
    }
    out
}

/// The first I/O error in a chain, which is where "connection refused" and friends live.
pub(crate) fn find_io<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a std::io::Error> {
    let mut current = Some(err);
    while let Some(e) = current {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return Some(io);
        }
        current = e.source();
    }
    None
}

/// A short, lowercase reason for the common socket failures; the OS text otherwise.
pub(crate) fn io_reason(io: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match io.kind() {
        K::ConnectionRefused => "connection refused".to_owned(),
        K::ConnectionReset => "connection reset".to_owned(),
        K::ConnectionAborted => "connection aborted".to_owned(),
        K::TimedOut => "connection timed out".to_owned(),
        K::HostUnreachable => "host unreachable".to_owned(),
        K::NetworkUnreachable => "network unreachable".to_owned(),
        K::AddrNotAvailable => "address not available".to_owned(),
        K::UnexpectedEof => "connection closed unexpectedly".to_owned(),
        _ => io.to_string(),
    }
}
