//! The HTTP harness of `tests/api.rs` and `tests/controls_api.rs`: the real router served on
//! loopback (SQLite or PostgreSQL, optionally with single sign-on against the loopback identity
//! provider), driven with real HTTP (reqwest) by API callers and cookie-keeping browsers.
#![allow(dead_code)]

use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::{self, HeaderMap};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use vouch_app::clock::ManualClock;
use vouch_app::tokens::{NewToken, TokenView};
use vouch_app::users::{NewUser, UserPatch, UserView};
use vouch_app::{Actor, ActorKind, App, AppConfig, AuditFilter, Backend};
use vouch_domain::Role;
use vouch_domain::audit::AuditEvent;
use vouch_sso::testing::TestIdp;
use vouch_sso::{OidcClient, OidcConfig};
use vouch_store::testing::TestDb;
use vouch_web::{SsoSettings, WebConfig};

pub const PASSWORD: &str = "correct horse battery staple";
pub const SSO_CLIENT_ID: &str = "vouch-api-tests";
pub const SSO_CLIENT_SECRET: &str = "api-tests-secret";
pub const SSO_BUTTON: &str = "Sign in with Test IdP";

/// What a test file sets for its servers and clients.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// The largest request body the server accepts.
    pub max_body: usize,
    /// Every HTTP call gives up after this long.
    pub http_timeout: Duration,
    /// The largest evidence file accepted.
    pub evidence_max_bytes: u64,
}

/// Where a harness keeps its evidence blobs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VaultKind {
    /// A folder on local disk (the default deployment).
    Local,
    /// A real S3-compatible server on loopback.
    S3,
}

/// Runs each named test once per backend: `sqlite::name` and `postgres::name`, each given up
/// after `$limit` (a `Duration` constant of the calling file).
#[macro_export]
macro_rules! on_both_backends {
    ($limit:ident; $($name:ident),* $(,)?) => {
        $crate::on_both_backends!(@backend sqlite, Sqlite, $limit; $($name),*);
        $crate::on_both_backends!(@backend postgres, Postgres, $limit; $($name),*);
    };
    (@backend $module:ident, $backend:ident, $limit:ident; $($name:ident),*) => {
        mod $module {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                $crate::support::http::bounded(
                    super::$limit,
                    super::$name(vouch_app::Backend::$backend),
                )
                .await;
            })*
        }
    };
}

pub async fn bounded(limit: Duration, test: impl Future<Output = ()>) {
    tokio::time::timeout(limit, test)
        .await
        .expect("the test did not finish in time");
}

/// A running Vouch: the app (for setting up people and reading the audit log directly), its
/// clock, and the address it serves on.
pub struct Harness {
    pub app: App,
    pub clock: Arc<ManualClock>,
    pub base: String,
    pub http: reqwest::Client,
    pub http_timeout: Duration,
    pub db: TestDb,
    pub server: tokio::task::JoinHandle<()>,
    pub idp: Option<TestIdp>,
    /// The local vault's folder (and the staging folder in either case).
    pub vault_dir: tempfile::TempDir,
    pub s3: Option<vouch_evidence::testing::TestS3>,
}

impl Harness {
    pub async fn start(backend: Backend, limits: Limits) -> Option<Harness> {
        Self::launch(backend, limits, false).await
    }

    pub async fn start_with_sso(backend: Backend, limits: Limits) -> Option<Harness> {
        Self::launch(backend, limits, true).await
    }

    pub async fn start_with_vault(
        backend: Backend,
        limits: Limits,
        vault: VaultKind,
    ) -> Option<Harness> {
        Self::launch_with(backend, limits, false, vault).await
    }

    pub async fn launch(backend: Backend, limits: Limits, sso: bool) -> Option<Harness> {
        Self::launch_with(backend, limits, sso, VaultKind::Local).await
    }

    pub async fn launch_with(
        backend: Backend,
        limits: Limits,
        sso: bool,
        vault_kind: VaultKind,
    ) -> Option<Harness> {
        Self::launch_configured(backend, limits, sso, vault_kind, |_| {}).await
    }

    /// A harness whose app configuration `configure` adjusts after the limits are applied
    /// (for example an evidence retention).
    pub async fn start_with_config(
        backend: Backend,
        limits: Limits,
        vault: VaultKind,
        configure: impl FnOnce(&mut AppConfig),
    ) -> Option<Harness> {
        Self::launch_configured(backend, limits, false, vault, configure).await
    }

    pub async fn launch_configured(
        backend: Backend,
        limits: Limits,
        sso: bool,
        vault_kind: VaultKind,
        configure: impl FnOnce(&mut AppConfig),
    ) -> Option<Harness> {
        let db = TestDb::new(backend).await?;
        // Real time as the start, so ID tokens from the identity provider (which uses the
        // system clock) and the app agree until a test moves the clock.
        let clock = Arc::new(ManualClock::new(time::OffsetDateTime::now_utc()));
        let vault_dir = tempfile::tempdir().unwrap();
        let (vault_config, s3) = match vault_kind {
            VaultKind::Local => (
                vouch_evidence::VaultConfig {
                    url: vault_dir.path().join("blobs").display().to_string(),
                    s3: Default::default(),
                },
                None,
            ),
            VaultKind::S3 => {
                let s3 = vouch_evidence::testing::TestS3::start().await;
                (
                    vouch_evidence::VaultConfig {
                        url: s3.url("evidence"),
                        s3: s3.settings(),
                    },
                    Some(s3),
                )
            }
        };
        let vault = vouch_evidence::Vault::open(&vault_config, &vault_dir.path().join("staging"))
            .expect("the test vault opens");
        let mut app_config = AppConfig {
            evidence_max_bytes: limits.evidence_max_bytes,
            ..AppConfig::default()
        };
        configure(&mut app_config);
        let app = App::new(db.store.clone(), vault, clock.clone(), app_config);
        // Bound first, so the callback URL registered with the identity provider is known.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (idp, client, sso_settings) = if sso {
            let redirect = format!("{base}/auth/sso/callback");
            let idp = TestIdp::start(SSO_CLIENT_ID, SSO_CLIENT_SECRET, &redirect).await;
            let cfg = OidcConfig::new(
                idp.issuer_url(),
                SSO_CLIENT_ID,
                Some(SSO_CLIENT_SECRET.to_string()),
                redirect,
            );
            let client = OidcClient::discover(&cfg)
                .await
                .expect("discover the test identity provider");
            (
                Some(idp),
                Some(Arc::new(client)),
                Some(SsoSettings {
                    display_name: SSO_BUTTON.into(),
                }),
            )
        } else {
            (None, None, None)
        };
        let config = WebConfig {
            public_url: base.clone(),
            max_body_bytes: limits.max_body,
            sso: sso_settings,
        };
        let router = vouch_web::router(app.clone(), config, client);
        let server = tokio::spawn(async move {
            vouch_web::serve(listener, router, std::future::pending())
                .await
                .expect("server runs");
        });
        Some(Harness {
            app,
            clock,
            base,
            http: client_builder(limits.http_timeout).build().unwrap(),
            http_timeout: limits.http_timeout,
            db,
            server,
            idp,
            vault_dir,
            s3,
        })
    }

    pub async fn finish(self) {
        self.server.abort();
        let _ = self.server.await;
        drop(self.idp);
        self.db.cleanup().await;
    }

    pub fn idp(&self) -> &TestIdp {
        self.idp.as_ref().expect("started with single sign-on")
    }

    pub fn advance(&self, d: time::Duration) {
        self.clock.advance(d);
    }

    /// Moves the clock (forwards or backwards) to `at`.
    pub fn set_now(&self, at: time::OffsetDateTime) {
        use vouch_app::clock::Clock;
        self.clock.advance(at - self.clock.now());
    }

    /// A new browser pointed at this Vouch.
    pub fn browser(&self) -> Browser {
        Browser::new(&self.base, self.http_timeout)
    }

    /// A person created from the command line (the operator), optionally with a password.
    pub async fn user(&self, email: &str, role: Role, password: Option<&str>) -> UserView {
        self.app
            .create_user(
                &Actor::cli(),
                NewUser {
                    email: email.into(),
                    name: name_of(email),
                    role,
                    password: password.map(str::to_string),
                },
            )
            .await
            .unwrap_or_else(|e| panic!("create {email}: {e}"))
    }

    /// A token created by `u` in a signed-in session (as `POST /api/v1/tokens` would).
    pub async fn token(&self, u: &UserView, role: Role) -> (TokenView, String) {
        self.token_expiring(u, role, None).await
    }

    pub async fn token_expiring(
        &self,
        u: &UserView,
        role: Role,
        expires_at: Option<String>,
    ) -> (TokenView, String) {
        self.app
            .create_token(
                &user_actor(u),
                NewToken {
                    name: format!("{} token", role.as_str()),
                    role,
                    expires_at,
                },
            )
            .await
            .unwrap_or_else(|e| panic!("token for {}: {e}", u.email))
    }

    pub async fn set_role(&self, u: &UserView, role: Role) {
        self.update(
            u,
            UserPatch {
                role: Some(role),
                ..Default::default()
            },
        )
        .await;
    }

    pub async fn disable(&self, u: &UserView) {
        self.update(
            u,
            UserPatch {
                status: Some("disabled".into()),
                ..Default::default()
            },
        )
        .await;
    }

    /// Changes a person from the command line (the operator).
    pub async fn update(&self, u: &UserView, patch: UserPatch) {
        self.app
            .update_user(&Actor::cli(), &u.id, patch)
            .await
            .unwrap();
    }

    /// The number of audit events, after checking that the whole chain verifies.
    pub async fn event_count(&self) -> i64 {
        self.app
            .verify_audit_log(&Actor::cli())
            .await
            .expect("verify runs")
            .unwrap_or_else(|e| panic!("the audit chain is broken: {e}"))
    }

    /// All events, oldest first.
    pub async fn events(&self) -> Vec<AuditEvent> {
        let mut all = self
            .app
            .audit_events(
                &Actor::cli(),
                &AuditFilter {
                    limit: 1000,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        all.reverse();
        all
    }

    pub async fn last_event(&self) -> AuditEvent {
        self.events().await.pop().expect("an event")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// An API call with a bearer token (or with a raw Authorization header value).
    pub async fn api(&self, auth: &str, method: Method, path: &str, body: Option<&Value>) -> Resp {
        let mut rb = self
            .http
            .request(method, self.url(&format!("/api/v1{path}")))
            .header(header::AUTHORIZATION, auth);
        if let Some(b) = body {
            rb = rb.json(b);
        }
        send(rb).await
    }

    pub async fn bearer(
        &self,
        secret: &str,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Resp {
        self.api(&format!("Bearer {secret}"), method, path, body)
            .await
    }

    /// A GET with a bearer token that must answer 200; its JSON.
    pub async fn get(&self, secret: &str, path: &str) -> Value {
        let r = self.bearer(secret, Method::GET, path, None).await;
        r.expect(200);
        r.json()
    }

    /// A raw request with a body and content type of the test's choosing.
    pub async fn raw(
        &self,
        secret: &str,
        method: Method,
        path: &str,
        ctype: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> Resp {
        let mut rb = self
            .http
            .request(method, self.url(&format!("/api/v1{path}")))
            .bearer_auth(secret)
            .body(body);
        if let Some(ct) = ctype {
            rb = rb.header(header::CONTENT_TYPE, ct);
        }
        send(rb).await
    }

    /// A `multipart/form-data` request with a bearer token.
    pub async fn multipart(
        &self,
        secret: &str,
        method: Method,
        path: &str,
        parts: &[Part],
    ) -> Resp {
        let (ctype, body) = multipart_body(parts);
        self.raw(secret, method, path, Some(&ctype), body).await
    }

    /// A browser signed in with a password (no second factor).
    pub async fn signed_in(&self, email: &str) -> Browser {
        let b = self.browser();
        let r = b.sign_in(email, PASSWORD).await;
        assert_eq!(r.location(), "/");
        b
    }
}

pub fn name_of(email: &str) -> String {
    let local = email.split('@').next().unwrap();
    let mut c = local.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => "Someone".into(),
    }
}

/// The actor of a person in a browser session, as the web layer builds it.
pub fn user_actor(u: &UserView) -> Actor {
    Actor {
        kind: ActorKind::User,
        user_id: Some(u.id.clone()),
        label: u.email.clone(),
        role: u.role,
        request_id: None,
    }
}

pub fn client_builder(timeout: Duration) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(5))
}

/// A response, read whole: the bytes, and the same as text.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
    pub bytes: Vec<u8>,
}

pub async fn send(rb: reqwest::RequestBuilder) -> Resp {
    let r = rb.send().await.expect("the request gets an answer");
    let status = r.status();
    let headers = r.headers().clone();
    let bytes = r.bytes().await.expect("the body can be read").to_vec();
    Resp {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
        bytes,
    }
}

impl Resp {
    pub fn text(&self) -> String {
        self.body.clone()
    }

    #[track_caller]
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .unwrap_or_else(|| panic!("no Location in a {} answer: {}", self.status, self.body))
            .to_str()
            .unwrap()
    }

    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes)
            .unwrap_or_else(|e| panic!("not JSON ({e}), status {}: {}", self.status, self.body))
    }

    pub fn content_type(&self) -> &str {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The value a `Set-Cookie` in this answer gives `name`, if any.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|c| {
                let first = c.split(';').next()?;
                let (k, v) = first.split_once('=')?;
                (k.trim() == name).then(|| v.trim().to_string())
            })
    }

    #[track_caller]
    pub fn expect(&self, status: u16) -> &Resp {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.body
        );
        self
    }
}

/// Checks an RFC 9457 problem: the status, the media type and the four members.
#[track_caller]
pub fn assert_problem(r: &Resp, status: u16) -> Value {
    assert_eq!(
        r.status.as_u16(),
        status,
        "unexpected status; body: {}",
        r.body
    );
    assert!(
        r.content_type().starts_with("application/problem+json"),
        "a {status} must be application/problem+json, got '{}': {}",
        r.content_type(),
        r.body
    );
    let p = r.json();
    for member in ["type", "title", "detail"] {
        assert!(
            p[member].as_str().is_some_and(|s| !s.trim().is_empty()),
            "problem without '{member}': {p}"
        );
    }
    assert_eq!(p["status"], json!(status), "problem status member: {p}");
    p
}

/// The `field` names of a validation problem's `errors`.
#[track_caller]
pub fn error_fields(p: &Value) -> Vec<String> {
    p["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors[] in {p}"))
        .iter()
        .map(|e| {
            assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
            e["field"].as_str().unwrap().to_string()
        })
        .collect()
}

/// A 422 whose errors name exactly `fields`, one of whose messages mentions `mentions`.
#[track_caller]
pub fn assert_invalid(r: &Resp, fields: &[&str], mentions: Option<&str>) -> Value {
    let p = assert_problem(r, 422);
    let mut got = error_fields(&p);
    got.sort();
    let mut want: Vec<String> = fields.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(got, want, "{p}");
    if let Some(m) = mentions {
        let text = p.to_string();
        assert!(text.contains(m), "the problem should mention {m:?}: {p}");
    }
    p
}

/// A person's browser: keeps cookies, does not follow redirects.
pub struct Browser {
    pub http: reqwest::Client,
    pub jar: Arc<Jar>,
    pub base: String,
}

impl Browser {
    pub fn new(base: &str, timeout: Duration) -> Browser {
        let jar = Arc::new(Jar::default());
        Browser {
            http: client_builder(timeout)
                .cookie_provider(jar.clone())
                .build()
                .unwrap(),
            jar,
            base: base.to_string(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http://") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        }
    }

    pub async fn get(&self, path: &str) -> Resp {
        send(self.http.get(self.url(path))).await
    }

    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Resp {
        send(self.http.post(self.url(path)).form(form)).await
    }

    /// A cookie this browser holds for Vouch.
    pub fn cookie(&self, name: &str) -> Option<String> {
        let url: reqwest::Url = self.base.parse().unwrap();
        let all = self.jar.cookies(&url)?;
        all.to_str().ok()?.split("; ").find_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            (k == name).then(|| v.to_string())
        })
    }

    pub async fn login_with_next(&self, email: &str, password: &str, next: &str) -> Resp {
        let page = self.get("/login").await;
        page.expect(200);
        let csrf = csrf_in(&page.body);
        self.post_form(
            "/login",
            &[
                ("_csrf", &csrf),
                ("email", email),
                ("password", password),
                ("next", next),
            ],
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> Resp {
        self.login_with_next(email, password, "/").await
    }

    /// Signs in through the form, which must answer with a redirect.
    pub async fn sign_in(&self, email: &str, password: &str) -> Resp {
        let r = self.login(email, password).await;
        assert_eq!(
            r.status,
            StatusCode::SEE_OTHER,
            "sign-in of {email}: {}",
            r.body
        );
        r
    }

    /// The session's CSRF token, read from the account page.
    pub async fn csrf(&self) -> String {
        self.csrf_from("/account").await
    }

    /// The session's CSRF token, read from the signed-in page `path`.
    pub async fn csrf_from(&self, path: &str) -> String {
        let page = self.get(path).await;
        page.expect(200);
        csrf_in(&page.body)
    }

    pub async fn logout(&self) {
        let csrf = self.csrf().await;
        let r = self.post_form("/logout", &[("_csrf", &csrf)]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(r.location(), "/login");
        assert!(
            self.cookie("vouch_session").is_none(),
            "the session cookie is removed"
        );
    }

    /// An API call from this browser's session, with the CSRF header when given.
    pub async fn api(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        csrf: Option<&str>,
    ) -> Resp {
        let mut rb = self
            .http
            .request(method, self.url(&format!("/api/v1{path}")));
        if let Some(t) = csrf {
            rb = rb.header("X-CSRF-Token", t);
        }
        if let Some(b) = body {
            rb = rb.json(b);
        }
        send(rb).await
    }
}

impl Browser {
    /// A `multipart/form-data` API call from this browser's session, with the CSRF header when
    /// given.
    pub async fn api_multipart(
        &self,
        method: Method,
        path: &str,
        parts: &[Part],
        csrf: Option<&str>,
    ) -> Resp {
        let (ctype, body) = multipart_body(parts);
        let mut rb = self
            .http
            .request(method, self.url(&format!("/api/v1{path}")))
            .header(header::CONTENT_TYPE, ctype)
            .body(body);
        if let Some(t) = csrf {
            rb = rb.header("X-CSRF-Token", t);
        }
        send(rb).await
    }
}

/// One part of a `multipart/form-data` body: a text field, or a file (a part with a file name).
#[derive(Clone, Debug)]
pub struct Part {
    pub name: String,
    /// Sent as given (only `"` and line breaks are encoded), so tests can send hostile names.
    pub file_name: Option<String>,
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

impl Part {
    pub fn text(name: &str, value: &str) -> Part {
        Part {
            name: name.into(),
            file_name: None,
            content_type: None,
            bytes: value.as_bytes().to_vec(),
        }
    }

    /// A file part without a `Content-Type` of its own.
    pub fn file(name: &str, file_name: &str, bytes: impl Into<Vec<u8>>) -> Part {
        Part {
            name: name.into(),
            file_name: Some(file_name.into()),
            content_type: None,
            bytes: bytes.into(),
        }
    }

    pub fn typed(mut self, content_type: &str) -> Part {
        self.content_type = Some(content_type.into());
        self
    }
}

/// Builds a `multipart/form-data` body by hand: its `Content-Type` (with the boundary) and
/// its bytes.
pub fn multipart_body(parts: &[Part]) -> (String, Vec<u8>) {
    let boundary = format!("vouch-test-{}", uuid::Uuid::new_v4().simple());
    // As browsers do (WHATWG): only the quote and line breaks are encoded.
    let quote = |s: &str| {
        s.replace('"', "%22")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    };
    let mut body = Vec::new();
    for p in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let mut disposition = format!(
            "Content-Disposition: form-data; name=\"{}\"",
            quote(&p.name)
        );
        if let Some(f) = &p.file_name {
            disposition.push_str(&format!("; filename=\"{}\"", quote(f)));
        }
        body.extend_from_slice(disposition.as_bytes());
        body.extend_from_slice(b"\r\n");
        if let Some(ct) = &p.content_type {
            body.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(&p.bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// The text between `start` and the next `end` in `html`.
pub fn between<'a>(html: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let i = html.find(start)? + start.len();
    let rest = &html[i..];
    Some(&rest[..rest.find(end)?])
}

/// The value of the page's `_csrf` form field.
#[track_caller]
pub fn csrf_in(html: &str) -> String {
    between(html, r#"name="_csrf" value=""#, "\"")
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| panic!("no _csrf field in the page: {html}"))
        .to_string()
}

// ---------- helpers shared by the API test files ----------

/// The ids of a JSON list of objects, in order.
pub fn ids_of(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

/// An address for a person of `role` (`control.owner@example.com`).
pub fn role_email(role: Role) -> String {
    format!("{}@example.com", role.as_str().replace('_', "."))
}

/// The gaps of a readiness answer as (kind, subject) pairs.
pub fn gaps(r: &Value) -> std::collections::BTreeSet<(String, String)> {
    r["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let kind = g["kind"].as_str().unwrap().to_string();
            let subject = g["criterion"]
                .as_str()
                .or_else(|| g["control"].as_str())
                .unwrap_or_else(|| panic!("a gap names what it is about: {g}"))
                .to_string();
            (kind, subject)
        })
        .collect()
}

/// A person of `role` holding a token of the same role. Employees may not create tokens, so
/// the employee's token is created while they are a control owner, and kept by the demotion.
pub async fn holder_with_token(h: &Harness, email: &str, role: Role) -> (UserView, String) {
    if vouch_app::authz::permits(role, vouch_app::Action::ManageOwnTokens) {
        let u = h.user(email, role, None).await;
        let (_, s) = h.token(&u, role).await;
        (u, s)
    } else {
        let u = h.user(email, Role::ControlOwner, None).await;
        let (_, s) = h.token(&u, role).await;
        h.set_role(&u, role).await;
        (u, s)
    }
}
