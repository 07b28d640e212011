//! A real OpenID provider on loopback, for tests only (feature `test-idp`).
//!
//! It exists so that sign-in can be tested end to end, against the same HTTP shapes a real
//! provider uses, without network access and without trusting mocks of the library under test.
//! The protocol side is written out by hand here (discovery document, JWKS, authorize and token
//! endpoints, JWT assembly, PKCE and client authentication checks); only RSA signing and the JWK
//! encoding of the public key come from `openidconnect`.
//!
//! It auto-approves every authorization request as the user set with [`TestIdp::set_user`]: no
//! login form. Switches such as [`TestIdp::set_tamper_signature`] make it misbehave so that the
//! client's refusals can be tested.
//!
//! The signing keys are fixed, public, test-only keys (see `tests/fixtures/README.md`): a key
//! generated per test would cost seconds in a debug build. Never use this module outside tests.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use openidconnect::core::{CoreJwsSigningAlgorithm, CoreRsaPrivateSigningKey};
use openidconnect::{JsonWebKeyId, PrivateSigningKey};
use rand::RngCore as _;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use url::Url;

/// TEST KEY ONLY: public, committed on purpose, signs nothing but test tokens.
const TEST_KEY_1_PEM: &str = include_str!("../tests/fixtures/test-idp-key-1.pem");
/// TEST KEY ONLY: the key [`TestIdp::rotate_signing_key`] switches to.
const TEST_KEY_2_PEM: &str = include_str!("../tests/fixtures/test-idp-key-2.pem");
const KEY_IDS: [&str; 2] = ["test-key-1", "test-key-2"];

/// How long an authorization code stays redeemable; real providers use a minute or less.
const CODE_TTL: Duration = Duration::from_secs(60);
const ID_TOKEN_TTL_SECS: u64 = 300;

/// An OpenID provider serving on `127.0.0.1`, stopped when dropped.
pub struct TestIdp {
    shared: Arc<Shared>,
    addr: SocketAddr,
    server: tokio::task::JoinHandle<()>,
}

struct Shared {
    issuer: String,
    client_id: String,
    client_secret: String,
    redirect_url: String,
    keys: [CoreRsaPrivateSigningKey; 2],
    inner: Mutex<Inner>,
}

#[derive(Clone, Debug)]
struct TestUser {
    subject: String,
    email: Option<String>,
    name: String,
}

struct Grant {
    redirect_uri: String,
    code_challenge: String,
    nonce: Option<String>,
    user: TestUser,
    issued: Instant,
}

#[derive(Default)]
struct Behaviour {
    tamper_signature: bool,
    wrong_nonce: bool,
    wrong_audience: bool,
    expired_id_token: bool,
    email_only_in_userinfo: bool,
    only_client_secret_post: bool,
}

struct Inner {
    user: TestUser,
    codes: HashMap<String, Grant>,
    access_tokens: HashMap<String, TestUser>,
    behaviour: Behaviour,
    active_key: usize,
    token_requests: usize,
}

impl TestIdp {
    /// Starts a provider that knows exactly one client.
    ///
    /// Panics if it cannot bind a loopback port: that is a broken test environment, not a case
    /// a test should handle.
    pub async fn start(client_id: &str, client_secret: &str, redirect_url: &str) -> TestIdp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("test IdP: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("test IdP: local address");
        let key = |pem: &str, kid: &str| {
            CoreRsaPrivateSigningKey::from_pem(pem, Some(JsonWebKeyId::new(kid.to_owned())))
                .expect("test IdP: fixture key parses")
        };
        let shared = Arc::new(Shared {
            issuer: format!("http://{addr}"),
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            redirect_url: redirect_url.to_owned(),
            keys: [
                key(TEST_KEY_1_PEM, KEY_IDS[0]),
                key(TEST_KEY_2_PEM, KEY_IDS[1]),
            ],
            inner: Mutex::new(Inner {
                user: TestUser {
                    subject: "test-user".to_owned(),
                    email: Some("test.user@example.com".to_owned()),
                    name: "Test User".to_owned(),
                },
                codes: HashMap::new(),
                access_tokens: HashMap::new(),
                behaviour: Behaviour::default(),
                active_key: 0,
                token_requests: 0,
            }),
        });
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize))
            .route("/token", axum::routing::post(token))
            .route("/userinfo", get(userinfo).post(userinfo))
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        TestIdp {
            shared,
            addr,
            server,
        }
    }

    /// The issuer identifier, `http://127.0.0.1:PORT` (no trailing slash).
    pub fn issuer_url(&self) -> String {
        self.shared.issuer.clone()
    }

    /// The socket the provider listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The identity the next authorization request will log in as (auto-approves, no login
    /// form).
    pub fn set_user(&self, subject: &str, email: &str, name: &str) {
        self.lock().user = TestUser {
            subject: subject.to_owned(),
            email: Some(email.to_owned()),
            name: name.to_owned(),
        };
    }

    /// Like [`set_user`](Self::set_user) for an account the provider releases no email for
    /// (neither in the ID token nor from user-info).
    pub fn set_user_without_email(&self, subject: &str, name: &str) {
        self.lock().user = TestUser {
            subject: subject.to_owned(),
            email: None,
            name: name.to_owned(),
        };
    }

    /// Corrupts the signature of every ID token issued from now on.
    pub fn set_tamper_signature(&self, on: bool) {
        self.lock().behaviour.tamper_signature = on;
    }

    /// Puts a nonce other than the one the client sent into ID tokens (a replayed token).
    pub fn set_wrong_nonce(&self, on: bool) {
        self.lock().behaviour.wrong_nonce = on;
    }

    /// Issues ID tokens for a different client ID.
    pub fn set_wrong_audience(&self, on: bool) {
        self.lock().behaviour.wrong_audience = on;
    }

    /// Issues ID tokens that expired a minute ago.
    pub fn set_expired_id_token(&self, on: bool) {
        self.lock().behaviour.expired_id_token = on;
    }

    /// Leaves email, email_verified and name out of the ID token, releasing them only from
    /// `/userinfo`, as some providers do.
    pub fn set_email_only_in_userinfo(&self, on: bool) {
        self.lock().behaviour.email_only_in_userinfo = on;
    }

    /// Advertises and accepts only `client_secret_post` at the token endpoint, rejecting Basic
    /// authentication. Set it before the client discovers the provider.
    pub fn set_only_client_secret_post(&self, on: bool) {
        self.lock().behaviour.only_client_secret_post = on;
    }

    /// Signs with the second fixture key from now on and publishes both keys, as a provider does
    /// during a key rotation.
    pub fn rotate_signing_key(&self) {
        self.lock().active_key = 1;
    }

    /// How many requests reached the token endpoint, so tests can check that a refused callback
    /// never spent the code.
    pub fn token_requests(&self) -> usize {
        self.lock().token_requests
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.shared.lock()
    }
}

impl Drop for TestIdp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panicking test must not poison the provider for the assertions that follow.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

async fn discovery(State(s): State<Arc<Shared>>) -> Json<Value> {
    let auth_methods = if s.lock().behaviour.only_client_secret_post {
        json!(["client_secret_post"])
    } else {
        json!(["client_secret_basic", "client_secret_post"])
    };
    let iss = &s.issuer;
    Json(json!({
        "issuer": iss,
        "authorization_endpoint": format!("{iss}/authorize"),
        "token_endpoint": format!("{iss}/token"),
        "userinfo_endpoint": format!("{iss}/userinfo"),
        "jwks_uri": format!("{iss}/jwks"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "profile"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "nonce", "at_hash",
                             "email", "email_verified", "name"],
    }))
}

async fn jwks(State(s): State<Arc<Shared>>) -> Json<Value> {
    let active = s.lock().active_key;
    // Before rotation only the first key is published; after it, both (new one first), as
    // providers keep the old key up while tokens signed with it may still be in flight.
    let keys: Vec<Value> = if active == 0 {
        vec![jwk(&s.keys[0])]
    } else {
        vec![jwk(&s.keys[1]), jwk(&s.keys[0])]
    };
    Json(json!({ "keys": keys }))
}

fn jwk(key: &CoreRsaPrivateSigningKey) -> Value {
    let mut v = serde_json::to_value(key.as_verification_key()).expect("JWK serializes");
    if let Some(obj) = v.as_object_mut() {
        obj.entry("use").or_insert(json!("sig"));
        obj.entry("alg").or_insert(json!("RS256"));
    }
    v
}

/// Errors the authorization endpoint must show rather than redirect (RFC 6749 §4.1.2.1): with a
/// bad client or redirect URI, redirecting would make the provider an open redirector.
fn authorize_page_error(msg: &str) -> Response {
    (StatusCode::BAD_REQUEST, format!("test IdP: {msg}")).into_response()
}

fn redirect_with(redirect_uri: &str, params: &[(&str, &str)]) -> Response {
    let mut url = Url::parse(redirect_uri).expect("redirect URI was validated");
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in params {
            q.append_pair(k, v);
        }
    }
    let mut resp = StatusCode::FOUND.into_response();
    resp.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_str(url.as_str()).expect("URL is a valid header value"),
    );
    resp
}

async fn authorize(
    State(s): State<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| q.get(k).map(String::as_str);
    if get("client_id") != Some(s.client_id.as_str()) {
        return authorize_page_error("unknown client_id");
    }
    let Some(redirect_uri) = get("redirect_uri") else {
        return authorize_page_error("missing redirect_uri");
    };
    if redirect_uri != s.redirect_url {
        return authorize_page_error("redirect_uri is not registered for this client");
    }
    let mut err_params: Vec<(&str, &str)> = Vec::new();
    if let Some(state) = get("state") {
        err_params.push(("state", state));
    }
    let fail = |error: &str, description: &str| {
        let mut p = vec![("error", error), ("error_description", description)];
        p.extend(err_params.iter().copied());
        redirect_with(redirect_uri, &p)
    };
    if get("response_type") != Some("code") {
        return fail(
            "unsupported_response_type",
            "only response_type=code is supported",
        );
    }
    if !get("scope")
        .unwrap_or("")
        .split(' ')
        .any(|sc| sc == "openid")
    {
        return fail("invalid_scope", "the openid scope is required");
    }
    let Some(code_challenge) = get("code_challenge") else {
        return fail("invalid_request", "code_challenge is required (PKCE)");
    };
    if get("code_challenge_method") != Some("S256") {
        return fail("invalid_request", "code_challenge_method must be S256");
    }
    // A S256 challenge is a base64url SHA-256: 43 characters.
    if code_challenge.len() != 43 || URL_SAFE_NO_PAD.decode(code_challenge).is_err() {
        return fail("invalid_request", "malformed code_challenge");
    }

    let code = random_token();
    {
        let mut inner = s.lock();
        let user = inner.user.clone();
        inner.codes.insert(
            code.clone(),
            Grant {
                redirect_uri: redirect_uri.to_owned(),
                code_challenge: code_challenge.to_owned(),
                nonce: get("nonce").map(str::to_owned),
                user,
                issued: Instant::now(),
            },
        );
    }
    let mut params = vec![("code", code.as_str())];
    params.extend(err_params.iter().copied());
    redirect_with(redirect_uri, &params)
}

fn token_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut resp = (
        status,
        Json(json!({ "error": error, "error_description": description })),
    )
        .into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"test-idp\""),
        );
    }
    resp
}

/// Decodes one `application/x-www-form-urlencoded` component, which is how RFC 6749 §2.3.1
/// says the client ID and secret are encoded before Basic authentication.
fn form_decode(s: &str) -> String {
    url::form_urlencoded::parse(s.as_bytes())
        .next()
        .map(|(k, _)| k.into_owned())
        .unwrap_or_default()
}

fn basic_credentials(headers: &HeaderMap) -> Option<Result<(String, String), ()>> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let parsed = STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            s.split_once(':')
                .map(|(id, secret)| (form_decode(id), form_decode(secret)))
        });
    Some(parsed.ok_or(()))
}

async fn token(State(s): State<Arc<Shared>>, headers: HeaderMap, body: String) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let get = |k: &str| form.get(k).map(String::as_str);
    let only_post = {
        let mut inner = s.lock();
        inner.token_requests += 1;
        inner.behaviour.only_client_secret_post
    };

    // Client authentication: exactly one method, and it must name our client.
    let (client_id, client_secret) = match basic_credentials(&headers) {
        Some(_) if only_post => {
            return token_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "client_secret_basic is not enabled for this client",
            );
        }
        Some(Err(())) => {
            return token_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "malformed Basic credentials",
            );
        }
        Some(Ok(_)) if get("client_secret").is_some() => {
            return token_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "more than one client authentication method used",
            );
        }
        Some(Ok((id, secret))) => {
            if get("client_id").is_some_and(|body_id| body_id != id) {
                return token_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "client_id mismatch",
                );
            }
            (id, secret)
        }
        None => match (get("client_id"), get("client_secret")) {
            (Some(id), Some(secret)) => (id.to_owned(), secret.to_owned()),
            _ => {
                return token_error(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    "client authentication required",
                );
            }
        },
    };
    if client_id != s.client_id || client_secret != s.client_secret {
        return token_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed",
        );
    }

    if get("grant_type") != Some("authorization_code") {
        return token_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only authorization_code is supported",
        );
    }
    let Some(code) = get("code") else {
        return token_error(StatusCode::BAD_REQUEST, "invalid_request", "missing code");
    };
    // Removed before any other check: a code is single-use even when the attempt fails.
    let Some(grant) = s.lock().codes.remove(code) else {
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "unknown, expired or already used authorization code",
        );
    };
    if grant.issued.elapsed() > CODE_TTL {
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "authorization code expired",
        );
    }
    if get("redirect_uri") != Some(grant.redirect_uri.as_str()) {
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "redirect_uri does not match the authorization request",
        );
    }
    let Some(verifier) = get("code_verifier") else {
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "code_verifier is required (PKCE)",
        );
    };
    let verifier_ok = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    if !verifier_ok {
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "malformed code_verifier",
        );
    }
    if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != grant.code_challenge {
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "PKCE verification failed: code_verifier does not match code_challenge",
        );
    }

    let access_token = random_token();
    let id_token = {
        let mut inner = s.lock();
        inner
            .access_tokens
            .insert(access_token.clone(), grant.user.clone());
        sign_id_token(&s, &inner, &grant, &access_token)
    };
    let mut resp = Json(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": 3600,
        "scope": "openid email profile",
        "id_token": id_token,
    }))
    .into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn sign_id_token(s: &Shared, inner: &Inner, grant: &Grant, access_token: &str) -> String {
    let b = &inner.behaviour;
    let now = now_secs();
    let (iat, exp) = if b.expired_id_token {
        (now - ID_TOKEN_TTL_SECS - 60, now - 60)
    } else {
        (now, now + ID_TOKEN_TTL_SECS)
    };
    let aud = if b.wrong_audience {
        "some-other-client"
    } else {
        s.client_id.as_str()
    };
    let at_hash = URL_SAFE_NO_PAD.encode(&Sha256::digest(access_token.as_bytes())[..16]);
    let mut claims = json!({
        "iss": s.issuer,
        "sub": grant.user.subject,
        "aud": aud,
        "exp": exp,
        "iat": iat,
        "at_hash": at_hash,
    });
    let obj = claims.as_object_mut().expect("claims are an object");
    if let Some(nonce) = &grant.nonce {
        let nonce = if b.wrong_nonce {
            "not-the-nonce-you-sent".to_owned()
        } else {
            nonce.clone()
        };
        obj.insert("nonce".into(), json!(nonce));
    }
    if !b.email_only_in_userinfo {
        if let Some(email) = &grant.user.email {
            obj.insert("email".into(), json!(email));
            obj.insert("email_verified".into(), json!(true));
        }
        obj.insert("name".into(), json!(grant.user.name));
    }

    let key_index = inner.active_key;
    let header = json!({ "alg": "RS256", "typ": "JWT", "kid": KEY_IDS[key_index] });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut signature = s.keys[key_index]
        .sign(
            &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            signing_input.as_bytes(),
        )
        .expect("RS256 signing with the fixture key");
    if b.tamper_signature {
        // Flip a bit of the decoded signature (not a base64 character, whose low bits may be
        // padding that decoders ignore), so the token is well-formed but unverifiable.
        signature[0] ^= 0x01;
    }
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

async fn userinfo(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let user = token.and_then(|t| s.lock().access_tokens.get(t).cloned());
    let Some(user) = user else {
        let mut resp = StatusCode::UNAUTHORIZED.into_response();
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer error=\"invalid_token\""),
        );
        return resp;
    };
    let mut body = json!({ "sub": user.subject, "name": user.name });
    if let Some(email) = user.email {
        let obj = body.as_object_mut().expect("object");
        obj.insert("email".into(), json!(email));
        obj.insert("email_verified".into(), json!(true));
    }
    Json(body).into_response()
}
