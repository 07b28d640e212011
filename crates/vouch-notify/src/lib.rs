//! Alert delivery: Vouch tells people about failing controls, overdue evidence and the like by
//! plain-text email over SMTP and by Slack incoming webhooks.
//!
//! The crate is a leaf on purpose: it knows nothing about alerts, only how to get a message to a
//! mail server or a webhook and how to say clearly why that did not work. The caller decides what
//! to send, to whom, and whether to retry.
//!
//! Two rules hold for everything here:
//! - every network step is bounded by a timeout the caller chooses, so a dead server never
//!   stalls the alerting loop;
//! - errors and logs never carry a secret: SMTP passwords and Slack webhook paths (the path *is*
//!   the credential) are reduced to `scheme://host[:port]` by [`redact_url`].
//!
//! With the `test-servers` feature, [`testing`] offers real loopback SMTP and webhook servers
//! that record what arrives, so tests anywhere in the workspace can prove delivery end to end.
#![forbid(unsafe_code)]

mod email;
mod error;
mod slack;
#[cfg(feature = "test-servers")]
pub mod testing;

pub use email::{Email, SmtpSettings, send_email};
pub use error::NotifyError;
pub use slack::{SlackMessage, post_slack};

/// Reduces a URL to `scheme://host[:port]`, dropping user info, path, query and fragment.
///
/// Used for every URL that reaches a log line, an error or the UI: SMTP URLs may carry a
/// password and a Slack webhook's path is its secret token. A string that does not parse as a
/// URL is not echoed at all, since we cannot tell which part of it is secret.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url.trim()) {
        Ok(parsed) => match parsed.host_str() {
            Some(host) => match parsed.port() {
                Some(port) => format!("{}://{host}:{port}", parsed.scheme()),
                None => format!("{}://{host}", parsed.scheme()),
            },
            None => format!("{}:", parsed.scheme()),
        },
        Err(_) => "<unparseable URL>".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn redact_keeps_only_scheme_host_and_port() {
        assert_eq!(
            redact_url("https://hooks.slack.com/services/T1/B2/secret?x=1#f"),
            "https://hooks.slack.com"
        );
        assert_eq!(
            redact_url("smtp://user:pa%20ss@mail.example.com:587?tls=required"),
            "smtp://mail.example.com:587"
        );
        assert_eq!(redact_url("smtps://[::1]:465"), "smtps://[::1]:465");
        assert_eq!(redact_url("not a url with secret"), "<unparseable URL>");
        assert_eq!(redact_url("mailto:bob@example.com"), "mailto:");
    }
}
