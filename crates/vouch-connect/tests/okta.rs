//! The Okta connector against the fake Okta.
use std::time::Duration;
use vouch_connect::testing::{FakeOkta, OktaState, OktaUser};
use vouch_connect::{ConnectorError, RetryPolicy, okta};

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

const TOKEN: &str = "00fake_okta_token_for_tests";

#[tokio::test]
async fn reads_users_by_cursor_then_each_users_factors() {
    let fake = FakeOkta::start(OktaState::sample()).await;
    let bundle = okta::fetch(&fake.settings(), fast()).await.unwrap();
    assert_eq!(bundle.system, "okta");
    assert_eq!(
        lines(&bundle),
        [
            "GET /api/v1/users?limit=200",
            "GET /api/v1/users?limit=200&after=00u2ben",
            "GET /api/v1/users/00u1ana/factors",
            "GET /api/v1/users/00u2ben/factors",
            "GET /api/v1/users/00u3cara/factors",
            "GET /api/v1/users/00u4dev/factors",
        ]
    );
    let users: Vec<_> = bundle.captures[..2]
        .iter()
        .flat_map(|c| c.body.as_array().unwrap().clone())
        .collect();
    assert_eq!(
        users.len(),
        4,
        "Okta's listing leaves deprovisioned users out"
    );
    assert_eq!(users[3]["status"], "SUSPENDED");
    assert_eq!(users[0]["profile"]["login"], "ana@acme.com");
    let ana = &bundle.captures[2].body;
    assert_eq!(ana[1]["factorType"], "webauthn");
    assert_eq!(ana[1]["provider"], "FIDO");
    assert_eq!(bundle.captures[4].body, serde_json::json!([]));
}

#[tokio::test]
async fn rate_limits_and_outages_are_retried() {
    let fake = FakeOkta::start(OktaState::sample()).await;
    {
        let mut st = fake.state();
        st.faults.rate_limited = 1;
        st.faults.unavailable = 2;
    }
    let bundle = okta::fetch(&fake.settings(), fast()).await.unwrap();
    assert_eq!(bundle.captures.len(), 6);
    assert!(bundle.captures.iter().all(|c| c.status == 200));
    assert_eq!(fake.requests().len(), 9);
}

#[tokio::test]
async fn a_revoked_token_is_a_credentials_error_naming_okta() {
    let fake = FakeOkta::start(OktaState::sample()).await;
    fake.state().faults.revoked = true;
    let err = okta::fetch(&fake.settings(), fast()).await.unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(&err, ConnectorError::Credentials { system, status: 401, request, .. }
            if system == "Okta" && request == "GET /api/v1/users?limit=200"),
        "{msg}"
    );
    assert!(msg.contains("Invalid token provided"), "{msg}");
    assert!(!msg.contains(TOKEN) && !format!("{err:?}").contains(TOKEN));
}

#[tokio::test]
async fn an_html_page_on_a_factor_listing_is_garbage() {
    let fake = FakeOkta::start(OktaState::sample()).await;
    fake.state().faults.garbage_path = Some("/api/v1/users/00u2ben/factors".into());
    let err = okta::fetch(&fake.settings(), fast()).await.unwrap_err();
    assert!(
        matches!(&err, ConnectorError::Garbage { system, request, .. }
            if system == "Okta" && request == "GET /api/v1/users/00u2ben/factors"),
        "{err}"
    );
}

#[tokio::test]
async fn the_token_is_in_no_debug_output_nor_capture_and_state_changes_show() {
    let fake = FakeOkta::start(OktaState::sample()).await;
    let settings: okta::Settings = serde_json::from_value(serde_json::json!({
        "url": fake.url(),
        "api_token": TOKEN,
    }))
    .unwrap();
    assert!(!format!("{settings:?}").contains(TOKEN));
    let bundle = okta::fetch(&settings, fast()).await.unwrap();
    let bytes = String::from_utf8(bundle.to_bytes()).unwrap();
    assert!(bytes.contains("ana@acme.com"));
    assert!(!bytes.contains(TOKEN) && !bytes.contains("SSWS"));

    {
        let mut st = fake.state();
        st.users.retain(|u| u.id != "00u1ana");
        st.users
            .push(OktaUser::new("00u6finn", "finn@acme.com", "ACTIVE"));
    }
    let bundle = okta::fetch(&settings, fast()).await.unwrap();
    let factor_lines: Vec<_> = lines(&bundle)
        .into_iter()
        .filter(|l| l.ends_with("/factors"))
        .collect();
    assert_eq!(
        factor_lines,
        [
            "GET /api/v1/users/00u2ben/factors",
            "GET /api/v1/users/00u3cara/factors",
            "GET /api/v1/users/00u4dev/factors",
            "GET /api/v1/users/00u6finn/factors",
        ]
    );
}

#[test]
fn the_admin_console_url_is_refused() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let settings = okta::Settings::new("https://acme-admin.okta.com", TOKEN); // not fetched: what the real API says
    let err = rt.block_on(okta::fetch(&settings, fast())).unwrap_err();
    assert!(
        err.to_string()
            .contains("use the org URL (https://acme.okta.com)"), // not fetched: what the real API says
        "{err}"
    );
    let settings = okta::Settings::new("acme.okta.com", "");
    let err = rt.block_on(okta::fetch(&settings, fast())).unwrap_err();
    assert!(err.to_string().contains("token is missing"), "{err}");
}

#[tokio::test]
async fn collect_imports_what_was_read() {
    use vouch_domain::resource::ResourceKind;
    let fake = FakeOkta::start(OktaState::sample()).await;
    let fetched = okta::collect(&fake.settings(), fast()).await.unwrap();
    let c = &fetched.collection;
    assert_eq!(c.system, "okta");
    let accounts: Vec<_> = c
        .resources
        .iter()
        .filter(|r| r.kind == ResourceKind::Account)
        .collect();
    assert_eq!(accounts.len(), 4);
    let get = |key: &str| {
        accounts
            .iter()
            .find(|r| r.key == key)
            .unwrap_or_else(|| panic!("no account {key}: {accounts:#?}"))
            .attrs
            .clone()
    };
    assert_eq!(get("ana@acme.com")["mfa"], true);
    assert_eq!(
        get("ana@acme.com")["factors"],
        serde_json::json!(["push", "webauthn"])
    );
    assert_eq!(get("cara@acme.com")["mfa"], false);
    assert_eq!(get("dev@acme.com")["status"], "SUSPENDED");
    assert_eq!(get("dev@acme.com")["active"], false);
    assert_eq!(get("ben@acme.com")["okta_id"], "00u2ben");
}
