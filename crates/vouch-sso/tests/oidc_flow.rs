//! End-to-end sign-in against the loopback test provider: every test drives the real HTTP flow
//! (discovery, authorize redirect, back-channel token exchange, JWKS) so that a regression in
//! any step, on either side, shows up here.

use std::collections::HashMap;

use url::Url;
use vouch_sso::testing::TestIdp;
use vouch_sso::{IdTokenProblem, Identity, OidcClient, OidcConfig, PendingLogin, SsoError};

const CLIENT_ID: &str = "vouch-test-client";
// Characters that Basic authentication must form-encode (RFC 6749 §2.3.1), so that a client
// which skipped the encoding would fail to authenticate.
const CLIENT_SECRET: &str = "s3cret with spaces&a:colon/+plus";
const REDIRECT_URL: &str = "http://127.0.0.1:9/auth/sso/callback";

async fn start() -> TestIdp {
    TestIdp::start(CLIENT_ID, CLIENT_SECRET, REDIRECT_URL).await
}

fn config(idp: &TestIdp) -> OidcConfig {
    OidcConfig::new(
        idp.issuer_url(),
        CLIENT_ID,
        Some(CLIENT_SECRET.to_owned()),
        REDIRECT_URL,
    )
}

async fn discover(idp: &TestIdp) -> OidcClient {
    OidcClient::discover(&config(idp))
        .await
        .expect("discovery succeeds")
}

/// Plays the browser: follows the authorize URL once and returns the callback's query
/// parameters from the Location header.
async fn browser_visit(authorize_url: &str) -> HashMap<String, String> {
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = browser.get(authorize_url).send().await.unwrap();
    assert_eq!(
        resp.status(),
        reqwest::StatusCode::FOUND,
        "authorize should redirect"
    );
    let location = resp
        .headers()
        .get(reqwest::header::LOCATION)
        .expect("Location header")
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        location.starts_with(&format!("{REDIRECT_URL}?")),
        "redirected to the registered callback, got {location}"
    );
    Url::parse(&location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

/// begin + browser visit, returning what the callback handler would have.
async fn login(client: &OidcClient) -> (PendingLogin, String, String) {
    let (url, pending) = client.begin();
    let cb = browser_visit(&url).await;
    assert!(!cb.contains_key("error"), "provider refused: {cb:?}");
    (pending, cb["code"].clone(), cb["state"].clone())
}

async fn login_error(idp: &TestIdp) -> SsoError {
    let client = discover(idp).await;
    let (pending, code, state) = login(&client).await;
    client
        .finish(&pending, &code, &state)
        .await
        .expect_err("sign-in must be refused")
}

#[tokio::test]
async fn happy_path_returns_the_providers_identity() {
    let idp = start().await;
    idp.set_user("alice-123", "alice@example.com", "Alice Example");
    let client = discover(&idp).await;

    let (url, pending) = client.begin();
    let params: HashMap<String, String> = Url::parse(&url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    assert!(
        url.starts_with(&format!("{}/authorize?", idp.issuer_url())),
        "{url}"
    );
    assert_eq!(params["response_type"], "code");
    assert_eq!(params["client_id"], CLIENT_ID);
    assert_eq!(params["redirect_uri"], REDIRECT_URL);
    assert_eq!(params["code_challenge_method"], "S256");
    assert_eq!(params["state"], pending.state);
    assert_eq!(params["nonce"], pending.nonce);
    let scopes: Vec<&str> = params["scope"].split(' ').collect();
    assert_eq!(scopes, ["openid", "email", "profile"]);
    assert!(
        !url.contains(&pending.pkce_verifier),
        "the verifier must never leave the server"
    );

    let cb = browser_visit(&url).await;
    assert_eq!(cb["state"], pending.state);
    let identity = client
        .finish(&pending, &cb["code"], &cb["state"])
        .await
        .unwrap();
    assert_eq!(
        identity,
        Identity {
            issuer: idp.issuer_url(),
            subject: "alice-123".into(),
            email: Some("alice@example.com".into()),
            email_verified: true,
            name: Some("Alice Example".into()),
        }
    );

    // The code is single-use: replaying the same callback fails at the provider.
    let err = client
        .finish(&pending, &cb["code"], &cb["state"])
        .await
        .unwrap_err();
    match &err {
        SsoError::TokenExchange { reason } => assert!(reason.contains("invalid_grant"), "{reason}"),
        other => panic!("expected TokenExchange, got {other:?}"),
    }
}

#[tokio::test]
async fn each_login_gets_fresh_secrets() {
    let idp = start().await;
    let client = discover(&idp).await;
    let (_, a) = client.begin();
    let (_, b) = client.begin();
    assert_ne!(a.state, b.state);
    assert_ne!(a.nonce, b.nonce);
    assert_ne!(a.pkce_verifier, b.pkce_verifier);
    assert!(a.pkce_verifier.len() >= 43);
}

#[tokio::test]
async fn state_mismatch_is_refused_without_spending_the_code() {
    let idp = start().await;
    let client = discover(&idp).await;
    let (pending, code, state) = login(&client).await;

    let err = client
        .finish(&pending, &code, "forged-state")
        .await
        .unwrap_err();
    assert!(matches!(err, SsoError::StateMismatch), "{err:?}");
    assert!(err.to_string().contains("state mismatch"), "{err}");
    assert_eq!(
        idp.token_requests(),
        0,
        "a forged callback must not reach the token endpoint"
    );

    // Empty state is a mismatch too, never a wildcard.
    let err = client.finish(&pending, &code, "").await.unwrap_err();
    assert!(matches!(err, SsoError::StateMismatch), "{err:?}");

    // The genuine callback still works afterwards.
    let identity = client.finish(&pending, &code, &state).await.unwrap();
    assert_eq!(identity.subject, "test-user");
    assert_eq!(idp.token_requests(), 1);
}

#[tokio::test]
async fn wrong_pkce_verifier_is_refused_by_the_provider() {
    let idp = start().await;
    let client = discover(&idp).await;
    let (mut pending, code, state) = login(&client).await;
    // Well-formed, but not the verifier the challenge was derived from (as with a stolen code).
    pending.pkce_verifier = "A".repeat(64);

    let err = client.finish(&pending, &code, &state).await.unwrap_err();
    match &err {
        SsoError::TokenExchange { reason } => {
            assert!(reason.contains("invalid_grant"), "{reason}");
            assert!(reason.contains("PKCE verification failed"), "{reason}");
        }
        other => panic!("expected TokenExchange, got {other:?}"),
    }
    assert!(
        err.to_string()
            .starts_with("the identity provider did not accept the sign-in code: invalid_grant"),
        "{err}"
    );
}

#[tokio::test]
async fn tampered_id_token_signature_is_refused() {
    let idp = start().await;
    idp.set_tamper_signature(true);
    let err = login_error(&idp).await;
    assert!(
        matches!(err, SsoError::IdTokenInvalid(IdTokenProblem::Signature(_))),
        "{err:?}"
    );
    assert!(err.to_string().contains("invalid signature"), "{err}");
}

#[tokio::test]
async fn wrong_nonce_is_refused() {
    let idp = start().await;
    idp.set_wrong_nonce(true);
    let err = login_error(&idp).await;
    assert!(
        matches!(err, SsoError::IdTokenInvalid(IdTokenProblem::Nonce(_))),
        "{err:?}"
    );
    assert!(err.to_string().contains("nonce"), "{err}");
}

#[tokio::test]
async fn wrong_audience_is_refused() {
    let idp = start().await;
    idp.set_wrong_audience(true);
    let err = login_error(&idp).await;
    assert!(
        matches!(err, SsoError::IdTokenInvalid(IdTokenProblem::Audience(_))),
        "{err:?}"
    );
}

#[tokio::test]
async fn expired_id_token_is_refused() {
    let idp = start().await;
    idp.set_expired_id_token(true);
    let err = login_error(&idp).await;
    assert!(
        matches!(err, SsoError::IdTokenInvalid(IdTokenProblem::Expired(_))),
        "{err:?}"
    );
    assert!(err.to_string().contains("expired"), "{err}");
}

#[tokio::test]
async fn unreachable_issuer_names_the_url() {
    // A port that was free a moment ago: connection refused, quickly and deterministically.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let issuer = format!("http://127.0.0.1:{port}");
    let cfg = OidcConfig::new(issuer.clone(), CLIENT_ID, None, REDIRECT_URL);
    let err = OidcClient::discover(&cfg).await.unwrap_err();
    match &err {
        SsoError::Discovery { issuer_url, reason } => {
            assert_eq!(issuer_url, &issuer);
            assert!(reason.to_lowercase().contains("refused"), "{reason}");
        }
        other => panic!("expected Discovery, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(
        msg.contains(&format!(
            "could not discover the OpenID provider at {issuer}"
        )),
        "{msg}"
    );
}

#[tokio::test]
async fn issuer_mismatch_is_a_discovery_error() {
    let idp = start().await;
    // Providers compare issuers exactly; a stray trailing slash is a common configuration slip.
    let mut cfg = config(&idp);
    cfg.issuer_url = format!("{}/", idp.issuer_url());
    let err = OidcClient::discover(&cfg).await.unwrap_err();
    match &err {
        SsoError::Discovery { issuer_url, reason } => {
            assert_eq!(issuer_url, &cfg.issuer_url);
            assert!(reason.contains("issuer"), "{reason}");
        }
        other => panic!("expected Discovery, got {other:?}"),
    }
}

#[tokio::test]
async fn invalid_issuer_url_is_a_config_error() {
    let cfg = OidcConfig::new("not a url", CLIENT_ID, None, REDIRECT_URL);
    let err = OidcClient::discover(&cfg).await.unwrap_err();
    assert!(matches!(err, SsoError::Config(_)), "{err:?}");
    assert!(err.to_string().contains("not a url"), "{err}");
}

#[tokio::test]
async fn rotated_signing_key_is_fetched_on_demand() {
    let idp = start().await;
    let client = discover(&idp).await; // knows only the first key
    idp.rotate_signing_key();
    idp.set_user("bob", "bob@example.com", "Bob");
    let (pending, code, state) = login(&client).await;
    let identity = client.finish(&pending, &code, &state).await.unwrap();
    assert_eq!(identity.subject, "bob");
}

#[tokio::test]
async fn email_is_taken_from_userinfo_when_the_id_token_lacks_it() {
    let idp = start().await;
    idp.set_email_only_in_userinfo(true);
    idp.set_user("carol-7", "carol@example.com", "Carol");
    let client = discover(&idp).await;
    let (pending, code, state) = login(&client).await;
    let identity = client.finish(&pending, &code, &state).await.unwrap();
    assert_eq!(identity.email.as_deref(), Some("carol@example.com"));
    assert!(identity.email_verified);
    assert_eq!(identity.name.as_deref(), Some("Carol"));
}

#[tokio::test]
async fn missing_email_is_refused() {
    let idp = start().await;
    idp.set_user_without_email("dave-9", "Dave");
    let err = login_error(&idp).await;
    match &err {
        SsoError::MissingEmail { subject } => assert_eq!(subject, "dave-9"),
        other => panic!("expected MissingEmail, got {other:?}"),
    }
    assert!(err.to_string().contains("email"), "{err}");
}

#[tokio::test]
async fn client_secret_post_is_used_when_basic_is_not_offered() {
    let idp = start().await;
    idp.set_only_client_secret_post(true);
    let client = discover(&idp).await;
    let (pending, code, state) = login(&client).await;
    let identity = client.finish(&pending, &code, &state).await.unwrap();
    assert_eq!(identity.subject, "test-user");
}

#[tokio::test]
async fn wrong_client_secret_is_refused() {
    let idp = start().await;
    let mut cfg = config(&idp);
    cfg.client_secret = Some("not-the-secret".into());
    let client = OidcClient::discover(&cfg).await.unwrap();
    let (pending, code, state) = login(&client).await;
    let err = client.finish(&pending, &code, &state).await.unwrap_err();
    match &err {
        SsoError::TokenExchange { reason } => {
            assert!(reason.contains("invalid_client"), "{reason}")
        }
        other => panic!("expected TokenExchange, got {other:?}"),
    }
}

#[tokio::test]
async fn provider_requires_s256_pkce() {
    // Guards the negative tests above: a provider that ignored PKCE would make the wrong-verifier
    // test pass for the wrong reason.
    let idp = start().await;
    let client = discover(&idp).await;
    let (url, _) = client.begin();
    let mut url = Url::parse(&url).unwrap();
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .into_owned()
        .filter(|(k, _)| k != "code_challenge_method")
        .chain([("code_challenge_method".to_owned(), "plain".to_owned())])
        .collect();
    url.query_pairs_mut().clear().extend_pairs(kept);
    let cb = browser_visit(url.as_str()).await;
    assert_eq!(cb.get("error").map(String::as_str), Some("invalid_request"));
    assert!(!cb.contains_key("code"));
}

#[tokio::test]
async fn pending_login_survives_a_session_round_trip() {
    let idp = start().await;
    let client = discover(&idp).await;
    let (pending, code, state) = login(&client).await;
    let stored = serde_json::to_string(&pending).unwrap();
    let restored: PendingLogin = serde_json::from_str(&stored).unwrap();
    let identity = client.finish(&restored, &code, &state).await.unwrap();
    assert_eq!(identity.email.as_deref(), Some("test.user@example.com"));
}

#[test]
fn client_and_futures_can_be_shared_by_a_web_server() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<OidcClient>();
    fn assert_send<T: Send>(_: &T) {}
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let cfg = OidcConfig::new("http://127.0.0.1:1", CLIENT_ID, None, REDIRECT_URL);
        assert_send(&OidcClient::discover(&cfg));
    });
    fn finish_is_send(client: &OidcClient, p: &PendingLogin) {
        assert_send(&client.finish(p, "c", "s"));
    }
    let _ = finish_is_send;
}
