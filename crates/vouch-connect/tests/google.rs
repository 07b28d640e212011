//! The Google Workspace connector against the fake Google.
use std::time::Duration;
use vouch_connect::testing::{FakeGoogle, GoogleState, TEST_PRIVATE_KEY};
use vouch_connect::{ConnectorError, RetryPolicy, google};

fn fast() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_secs(2),
        timeout: Duration::from_secs(10),
        max_pages: 50,
    }
}

fn lines(bundle: &vouch_connect::CaptureBundle) -> Vec<String> {
    bundle.captures.iter().map(|c| c.request.clone()).collect()
}

const FIRST: &str =
    "GET /admin/directory/v1/users?customer=my_customer&maxResults=500&projection=full";

/// A line of the PEM body, to look for in places the key must never reach.
fn key_fragment() -> &'static str {
    TEST_PRIVATE_KEY.lines().nth(3).unwrap()
}

#[tokio::test]
async fn signs_in_with_a_signed_assertion_and_reads_the_directory_page_by_page() {
    let fake = FakeGoogle::start(GoogleState::sample()).await;
    let bundle = google::fetch(&fake.settings(), fast()).await.unwrap();
    assert_eq!(bundle.system, "google_workspace");
    assert_eq!(
        lines(&bundle),
        [
            FIRST.to_string(),
            format!("{FIRST}&pageToken=fake-page-2"),
            format!("{FIRST}&pageToken=fake-page-4"),
        ],
        "the token exchange is not captured"
    );
    assert_eq!(fake.requests()[0], "POST /token");
    assert_eq!(fake.state().issued.len(), 1);
    let users: Vec<_> = bundle
        .captures
        .iter()
        .flat_map(|c| c.body["users"].as_array().unwrap().clone())
        .collect();
    assert_eq!(users.len(), 5);
    assert_eq!(users[0]["primaryEmail"], "admin@acme.com");
    assert_eq!(users[0]["isAdmin"], true);
    assert_eq!(users[2]["isEnrolledIn2Sv"], false);
    assert_eq!(users[3]["suspended"], true);
}

#[tokio::test]
async fn no_secret_reaches_debug_output_or_the_bundle() {
    let fake = FakeGoogle::start(GoogleState::sample()).await;
    let settings: google::Settings = serde_json::from_value(serde_json::json!({
        "service_account_key": fake.service_account_key(),
        "admin_email": "admin@acme.com",
        "api_url": fake.url(),
    }))
    .unwrap();
    let debug = format!("{settings:?}");
    assert!(
        !debug.contains(key_fragment()) && !debug.contains("PRIVATE KEY"),
        "{debug}"
    );
    let bundle = google::fetch(&settings, fast()).await.unwrap();
    let bytes = String::from_utf8(bundle.to_bytes()).unwrap();
    assert!(bytes.contains("ana@acme.com"));
    assert!(!bytes.contains(key_fragment()));
    assert!(!bytes.contains("ya29."), "the access token is not captured");
    assert!(!bytes.contains("assertion") && !bytes.contains("access_token"));
}

#[tokio::test]
async fn rate_limits_and_outages_are_retried_on_the_token_endpoint_and_the_directory() {
    let fake = FakeGoogle::start(GoogleState::sample()).await;
    {
        let mut st = fake.state();
        st.faults.rate_limited = 2;
        st.faults.unavailable = 1;
    }
    let bundle = google::fetch(&fake.settings(), fast()).await.unwrap();
    assert_eq!(bundle.captures.len(), 3);
    assert_eq!(fake.requests()[..4], ["POST /token"; 4]);
    // Faults on a directory page.
    fake.state().faults.unavailable = 2;
    let requests_before = fake.requests().len();
    let bundle = google::fetch(&fake.settings(), fast()).await.unwrap();
    assert!(bundle.captures.iter().all(|c| c.status == 200));
    assert_eq!(fake.requests().len() - requests_before, 1 + 3 + 2);
}

#[tokio::test]
async fn a_revoked_key_a_wrong_admin_or_a_foreign_key_are_credentials_errors() {
    let fake = FakeGoogle::start(GoogleState::sample()).await;
    fake.state().faults.revoked = true;
    let err = google::fetch(&fake.settings(), fast()).await.unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(&err, ConnectorError::Credentials { system, status: 400, request, .. }
            if system == "Google Workspace" && request == "POST /token"),
        "{msg}"
    );
    assert!(msg.contains("Invalid JWT Signature"), "{msg}");
    assert!(!msg.contains(key_fragment()) && !format!("{err:?}").contains(key_fragment()));
    fake.state().faults.revoked = false;

    let mut settings = fake.settings();
    settings.admin_email = "someone@acme.com".into();
    let err = google::fetch(&settings, fast()).await.unwrap_err();
    assert!(
        matches!(err, ConnectorError::Credentials { .. })
            && err.to_string().contains("Invalid email"),
        "{err}"
    );

    // Another key pair's signature does not verify.
    let other = include_str!("other-key.pem");
    let mut key: serde_json::Value = serde_json::from_str(&fake.service_account_key()).unwrap();
    key["private_key"] = other.into();
    let settings = google::Settings {
        service_account_key: vouch_connect::Secret::new(key.to_string()),
        ..fake.settings()
    };
    let err = google::fetch(&settings, fast()).await.unwrap_err();
    assert!(
        matches!(err, ConnectorError::Credentials { status: 400, .. })
            && err.to_string().contains("InvalidSignature"),
        "{err}"
    );
    assert!(fake.state().issued.is_empty());
}

#[tokio::test]
async fn an_html_page_from_the_directory_is_garbage() {
    let fake = FakeGoogle::start(GoogleState::sample()).await;
    fake.state().faults.garbage_path = Some("/admin/directory/v1/users".into());
    let err = google::fetch(&fake.settings(), fast()).await.unwrap_err();
    assert!(
        matches!(&err, ConnectorError::Garbage { system, request, .. } if system == "Google Workspace" && request == FIRST),
        "{err}"
    );
}

#[tokio::test]
async fn a_broken_key_file_is_a_settings_error_that_does_not_quote_it() {
    let fake = FakeGoogle::start(GoogleState::sample()).await;
    let key = fake.service_account_key();
    let cut = &key[..key.len() / 2];
    let settings = google::Settings {
        service_account_key: vouch_connect::Secret::new(cut),
        ..fake.settings()
    };
    let err = google::fetch(&settings, fast()).await.unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, ConnectorError::Config(_)), "{msg}");
    assert!(msg.contains("not a JSON key file"), "{msg}");
    assert!(
        !msg.contains("BEGIN") && !msg.contains(key_fragment()),
        "{msg}"
    );

    let mut v: serde_json::Value = serde_json::from_str(&key).unwrap();
    v["private_key"] = "not a key".into();
    let settings = google::Settings {
        service_account_key: vouch_connect::Secret::new(v.to_string()),
        ..fake.settings()
    };
    let err = google::fetch(&settings, fast()).await.unwrap_err();
    assert!(err.to_string().contains("not an RSA private key"), "{err}");
    assert!(fake.requests().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn collect_imports_what_was_read() {
    use vouch_domain::resource::ResourceKind;
    let fake = FakeGoogle::start(GoogleState::sample()).await;
    let fetched = google::collect(&fake.settings(), fast()).await.unwrap();
    let c = &fetched.collection;
    assert_eq!(c.system, "google_workspace");
    let accounts: Vec<_> = c
        .resources
        .iter()
        .filter(|r| r.kind == ResourceKind::Account)
        .collect();
    assert_eq!(accounts.len(), 5);
    let get = |key: &str| {
        accounts
            .iter()
            .find(|r| r.key == key)
            .unwrap_or_else(|| panic!("no account {key}: {accounts:#?}"))
            .attrs
            .clone()
    };
    assert_eq!(get("admin@acme.com")["admin"], true);
    assert_eq!(get("ana@acme.com")["admin"], false);
    assert_eq!(get("ben@acme.com")["mfa"], false);
    assert_eq!(get("cara@acme.com")["active"], false);
    assert_eq!(get("dev@acme.com")["mfa_enforced"], false);
    assert!(
        get("dev@acme.com")["last_login"].is_null(),
        "never signed in"
    );
}
