//! Real delivery over loopback: each test sends through `send_email` / `post_slack` to the
//! crate's own test servers and checks what actually arrived, or what the error says.

use std::time::{Duration, Instant};

use serde_json::json;
use vouch_notify::testing::{SmtpSink, WebhookSink};
use vouch_notify::{
    Email, NotifyError, SlackMessage, SmtpSettings, post_slack, redact_url, send_email,
};

const WAIT: Duration = Duration::from_secs(5);

fn settings(url: String) -> SmtpSettings {
    SmtpSettings {
        url,
        from: "Vouch Alerts <alerts@vouch.test>".into(),
        timeout: WAIT,
    }
}

/// A loopback port with nothing listening on it.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn email_arrives_with_sender_recipient_subject_and_body() {
    let sink = SmtpSink::start().await;
    let email = Email {
        to: vec!["bob@example.com".into()],
        subject: "Contrôle CC6.1 échoué — 3 évidences manquantes ✓".into(),
        text: "Prüfung fehlgeschlagen.\n.starts with a dot\n..two dots\n.\nlast line".into(),
    };
    send_email(&settings(sink.url()), &email).await.unwrap();

    let mails = sink.wait_for(1, WAIT).await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    let mail = &mails[0];
    assert_eq!(mail.from, "alerts@vouch.test");
    assert_eq!(mail.to, ["bob@example.com"]);
    assert_eq!(mail.subject, email.subject);
    assert_eq!(mail.body, email.text);
    assert!(
        mail.data
            .contains("From: \"Vouch Alerts\" <alerts@vouch.test>"),
        "{}",
        mail.data
    );
    assert!(mail.data.contains("To: bob@example.com"), "{}", mail.data);
    assert!(
        mail.data
            .contains("Content-Type: text/plain; charset=utf-8"),
        "{}",
        mail.data
    );
    // The raw subject must be encoded: a bare 8-bit header is what spam filters reject.
    let raw_subject = mail
        .data
        .lines()
        .find(|l| l.starts_with("Subject:"))
        .unwrap();
    assert!(raw_subject.is_ascii(), "{raw_subject}");
}

#[tokio::test]
async fn ascii_email_keeps_dot_lines_and_newlines_in_subject_are_flattened() {
    let sink = SmtpSink::start().await;
    let email = Email {
        to: vec!["ops@example.com".into()],
        subject: "Evidence overdue\r\nBcc: attacker@example.com".into(),
        text: ".\n..\n.leading dot\nplain".into(),
    };
    send_email(&settings(sink.url()), &email).await.unwrap();

    let mail = sink.wait_for(1, WAIT).await.remove(0);
    assert_eq!(mail.body, email.text);
    assert_eq!(mail.subject, "Evidence overdue Bcc: attacker@example.com");
    assert_eq!(mail.to, ["ops@example.com"]);
    assert!(
        !mail.data.lines().any(|l| l.starts_with("Bcc:")),
        "{}",
        mail.data
    );
}

#[tokio::test]
async fn email_reaches_several_recipients() {
    let sink = SmtpSink::start().await;
    let email = Email {
        to: vec![
            "alice@example.com".into(),
            "Bob Builder <bob@example.com>".into(),
            " carol@example.org ".into(),
        ],
        subject: "Weekly digest".into(),
        text: "3 controls need attention.".into(),
    };
    send_email(&settings(sink.url()), &email).await.unwrap();

    let mails = sink.wait_for(1, WAIT).await;
    assert_eq!(mails.len(), 1, "one message, three envelope recipients");
    assert_eq!(
        mails[0].to,
        ["alice@example.com", "bob@example.com", "carol@example.org"]
    );
    let to_header = mails[0]
        .data
        .lines()
        .find(|l| l.starts_with("To:"))
        .unwrap();
    for address in ["alice@example.com", "bob@example.com", "carol@example.org"] {
        assert!(to_header.contains(address), "{to_header}");
    }
    assert_eq!(mails[0].body, "3 controls need attention.");
}

#[tokio::test]
async fn refused_message_reports_the_servers_reply() {
    let sink = SmtpSink::start().await;
    sink.fail_with(Some("554 5.7.1 rejected"));
    let email = Email {
        to: vec!["bob@example.com".into()],
        subject: "s".into(),
        text: "t".into(),
    };
    let err = send_email(&settings(sink.url()), &email).await.unwrap_err();

    assert!(
        matches!(err, NotifyError::SmtpRefused { code: 554, .. }),
        "{err:?}"
    );
    let shown = err.to_string();
    assert!(
        shown.contains("refused the message: 554 5.7.1 rejected"),
        "{shown}"
    );
    assert!(
        shown.contains(&sink.url()["smtp://".len()..]),
        "names the server: {shown}"
    );
    assert!(sink.messages().is_empty());

    sink.fail_with(None);
    send_email(&settings(sink.url()), &email).await.unwrap();
    assert_eq!(sink.wait_for(1, WAIT).await.len(), 1);
}

#[tokio::test]
async fn unreachable_server_is_named_and_reported_within_the_timeout() {
    let port = closed_port();
    let timeout = Duration::from_secs(3);
    let settings = SmtpSettings {
        timeout,
        ..settings(format!("smtp://127.0.0.1:{port}"))
    };
    let email = Email {
        to: vec!["bob@example.com".into()],
        subject: "s".into(),
        text: "t".into(),
    };

    let started = Instant::now();
    let err = send_email(&settings, &email).await.unwrap_err();
    assert!(
        started.elapsed() < timeout + Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );

    assert!(
        matches!(err, NotifyError::SmtpUnreachable { .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!("SMTP server 127.0.0.1:{port} is unreachable: connection refused")
    );
}

#[tokio::test]
async fn silent_server_times_out_within_the_timeout() {
    // Accepts the connection but never sends the 220 greeting.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let timeout = Duration::from_millis(500);
    let settings = SmtpSettings {
        timeout,
        ..settings(format!("smtp://{addr}"))
    };
    let email = Email {
        to: vec!["bob@example.com".into()],
        subject: "s".into(),
        text: "t".into(),
    };

    let started = Instant::now();
    let err = send_email(&settings, &email).await.unwrap_err();
    assert!(
        started.elapsed() < timeout + Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(err, NotifyError::SmtpTimeout { .. }), "{err:?}");
    assert!(err.to_string().contains(&addr.to_string()), "{err}");
    hold.abort();
}

#[tokio::test]
async fn invalid_address_is_named_and_nothing_is_sent() {
    let sink = SmtpSink::start().await;
    let email = Email {
        to: vec!["alice@example.com".into(), "bob@".into()],
        subject: "s".into(),
        text: "t".into(),
    };
    let err = send_email(&settings(sink.url()), &email).await.unwrap_err();
    assert!(
        matches!(&err, NotifyError::InvalidAddress { field: "to", address, .. } if address == "bob@"),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("invalid address 'bob@' in 'to'"),
        "{err}"
    );

    let bad_from = SmtpSettings {
        from: "not an address".into(),
        ..settings(sink.url())
    };
    let err = send_email(
        &bad_from,
        &Email {
            to: vec!["a@example.com".into()],
            ..email.clone()
        },
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("invalid address 'not an address' in 'from'"),
        "{err}"
    );

    let err = send_email(
        &settings(sink.url()),
        &Email {
            to: vec![],
            ..email
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(err, NotifyError::NoRecipients), "{err:?}");

    assert!(
        sink.wait_for(1, Duration::from_millis(300))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn invalid_smtp_url_never_shows_the_password() {
    let email = Email {
        to: vec!["bob@example.com".into()],
        subject: "s".into(),
        text: "t".into(),
    };
    let url = "smtp://mailer:hunter2@mail.example.com:587?tls=sometimes".to_owned();
    let err = send_email(&settings(url), &email).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid SMTP URL 'smtp://mail.example.com:587': \
         tls must be 'required' or 'opportunistic', not 'sometimes'"
    );
    assert!(!format!("{err:?}").contains("hunter2"));
}

#[tokio::test]
async fn slack_post_arrives_as_text_json() {
    let sink = WebhookSink::start().await;
    let message = SlackMessage {
        text: "*CC6.1* failed: <https://vouch.test/c/1|details> ✗".into(),
    };
    post_slack(&sink.url(), &message, WAIT).await.unwrap();

    let requests = sink.wait_for(1, WAIT).await;
    assert_eq!(
        requests,
        [json!({ "text": "*CC6.1* failed: <https://vouch.test/c/1|details> ✗" })]
    );
}

#[tokio::test]
async fn slack_rejection_shows_status_and_reason_but_not_the_secret_path() {
    let sink = WebhookSink::start().await;
    sink.respond_with(404, "no_team");
    let err = post_slack(&sink.url(), &SlackMessage { text: "hi".into() }, WAIT)
        .await
        .unwrap_err();

    assert!(
        matches!(err, NotifyError::WebhookRejected { code: 404, .. }),
        "{err:?}"
    );
    let shown = err.to_string();
    assert!(
        shown.contains("404 Not Found") && shown.contains("no_team"),
        "{shown}"
    );
    assert!(shown.contains(&redact_url(&sink.url())), "{shown}");
    assert!(!shown.contains("/services/"), "{shown}");
    assert!(!format!("{err:?}").contains("/services/"), "{err:?}");
    assert_eq!(
        sink.requests(),
        [json!({ "text": "hi" })],
        "the post still arrived"
    );
}

#[tokio::test]
async fn slack_long_error_body_is_cut_to_200_chars() {
    let sink = WebhookSink::start().await;
    sink.respond_with(500, &"x".repeat(5000));
    let err = post_slack(&sink.url(), &SlackMessage { text: "hi".into() }, WAIT)
        .await
        .unwrap_err();
    match err {
        NotifyError::WebhookRejected { body, status, .. } => {
            assert_eq!(body.len(), 200);
            assert_eq!(status, "500 Internal Server Error");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn slack_unreachable_hides_the_path() {
    let port = closed_port();
    let url = format!("http://127.0.0.1:{port}/services/T1/B2/secret-token");
    let err = post_slack(&url, &SlackMessage { text: "hi".into() }, WAIT)
        .await
        .unwrap_err();

    assert!(
        matches!(err, NotifyError::WebhookUnreachable { .. }),
        "{err:?}"
    );
    let shown = err.to_string();
    assert!(
        shown.contains(&format!("http://127.0.0.1:{port}")),
        "{shown}"
    );
    assert!(
        !shown.contains("/services/") && !shown.contains("secret-token"),
        "{shown}"
    );
}

#[tokio::test]
async fn slack_silent_server_times_out() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let url = format!("http://{addr}/services/T1/B2/secret-token");
    let timeout = Duration::from_millis(500);

    let started = Instant::now();
    let err = post_slack(&url, &SlackMessage { text: "hi".into() }, timeout)
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < timeout + Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(err, NotifyError::WebhookTimeout { .. }), "{err:?}");
    assert!(!err.to_string().contains("secret-token"), "{err}");
    hold.abort();
}

#[test]
fn redact_url_hides_paths_userinfo_and_query() {
    assert_eq!(
        redact_url("https://hooks.slack.com/services/T000/B000/XXXX"), // not fetched
        "https://hooks.slack.com"                                      // not fetched
    );
    assert_eq!(
        redact_url("smtp://user:s3cret@mail.example.com:587?tls=required"),
        "smtp://mail.example.com:587"
    );
    assert_eq!(
        redact_url("smtps://mail.example.com/ehlo-name#frag"),
        "smtps://mail.example.com"
    );
    assert_eq!(
        redact_url("http://127.0.0.1:8080/a?token=abc"),
        "http://127.0.0.1:8080"
    );
}
