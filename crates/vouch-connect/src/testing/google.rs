//! A fake Google: the OAuth token endpoint (`POST /token`, a JWT-bearer grant whose RS256
//! signature is checked against the test key pair's public key) and the Directory API's
//! `GET /admin/directory/v1/users` (paginated with `nextPageToken`).
//!
//! The key pair is the throwaway [`super::TEST_PRIVATE_KEY`].
use super::{
    Faults, Incoming, Server, Shared, TEST_PRIVATE_KEY, TEST_PUBLIC_KEY, json, not_found, page_of,
};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::MutexGuard;

/// The state a [`FakeGoogle`] serves. Change it between runs through [`FakeGoogle::state`].
#[derive(Clone, Debug)]
pub struct GoogleState {
    /// The service account's `client_email`, the assertion's required issuer.
    pub client_email: String,
    /// The admin the assertion must name as its subject.
    pub admin_email: String,
    pub customer_id: String,
    pub users: Vec<GoogleUser>,
    pub page_size: usize,
    pub faults: Faults,
    /// Access tokens handed out (a directory request must carry one of them).
    pub issued: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct GoogleUser {
    pub id: String,
    pub primary_email: String,
    pub full_name: String,
    pub is_admin: bool,
    pub enrolled_2sv: bool,
    pub enforced_2sv: bool,
    pub suspended: bool,
    pub archived: bool,
    pub last_login_time: String,
    pub creation_time: String,
    pub org_unit_path: String,
}

impl GoogleUser {
    pub fn new(id: &str, email: &str) -> GoogleUser {
        let name = email.split('@').next().unwrap_or(email);
        GoogleUser {
            id: id.into(),
            primary_email: email.into(),
            full_name: format!("{}{} Example", name[..1].to_uppercase(), &name[1..]),
            is_admin: false,
            enrolled_2sv: true,
            enforced_2sv: true,
            suspended: false,
            archived: false,
            last_login_time: "2026-11-20T08:30:00.000Z".into(),
            creation_time: "2025-03-01T09:00:00.000Z".into(),
            org_unit_path: "/".into(),
        }
    }
}

impl GoogleState {
    /// Service account `vouch-reader@acme-vouch.iam.gserviceaccount.com` acting as
    /// `admin@acme.com`; five users: `admin` (super admin), `ana`, `ben` (not enrolled in
    /// 2SV), `cara` (suspended), `dev` (enrolled, not enforced).
    pub fn sample() -> GoogleState {
        let mut admin = GoogleUser::new("100000000000000000001", "admin@acme.com");
        admin.is_admin = true;
        let mut ben = GoogleUser::new("100000000000000000003", "ben@acme.com");
        ben.enrolled_2sv = false;
        ben.enforced_2sv = false;
        let mut cara = GoogleUser::new("100000000000000000004", "cara@acme.com");
        cara.suspended = true;
        let mut dev = GoogleUser::new("100000000000000000005", "dev@acme.com");
        dev.enforced_2sv = false;
        dev.last_login_time = "1970-01-01T00:00:00.000Z".into();
        GoogleState {
            client_email: "vouch-reader@acme-vouch.iam.gserviceaccount.com".into(),
            admin_email: "admin@acme.com".into(),
            customer_id: "C01fake23".into(),
            users: vec![
                admin,
                GoogleUser::new("100000000000000000002", "ana@acme.com"),
                ben,
                cara,
                dev,
            ],
            page_size: super::DEFAULT_PAGE_SIZE,
            faults: Faults::default(),
            issued: Vec::new(),
        }
    }
}

/// A running fake Google; stops when dropped.
pub struct FakeGoogle {
    server: Server<GoogleState>,
}

impl FakeGoogle {
    pub async fn start(state: GoogleState) -> FakeGoogle {
        FakeGoogle {
            server: Server::start(state, handle).await,
        }
    }

    /// The server's root; the directory API is under it (configure it as the API URL).
    pub fn url(&self) -> String {
        self.server.url.clone()
    }

    /// The token endpoint, as the key file names it.
    pub fn token_uri(&self) -> String {
        format!("{}token", self.server.url)
    }

    /// A service account JSON key file for this server: the test key pair's private key,
    /// `token_uri` pointing here.
    pub fn service_account_key(&self) -> String {
        let client_email = self.state().client_email.clone();
        json!({
            "type": "service_account",
            "project_id": "acme-vouch",
            "private_key_id": "0123456789abcdef0123456789abcdef01234567",
            "private_key": TEST_PRIVATE_KEY,
            "client_email": client_email,
            "client_id": "100000000000000000099",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth", // not fetched: what the real API says
            "token_uri": self.token_uri(),
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs", // not fetched: what the real API says
            "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/vouch-reader", // not fetched: what the real API says
            "universe_domain": "googleapis.com"
        })
        .to_string()
    }

    /// Settings for the connector pointing at this server.
    pub fn settings(&self) -> crate::google::Settings {
        let admin = self.state().admin_email.clone();
        let mut s = crate::google::Settings::new(self.service_account_key(), admin);
        s.api_url = self.url();
        s
    }

    /// The state, to read or change (do not hold it across an `.await`).
    pub fn state(&self) -> MutexGuard<'_, GoogleState> {
        self.server.shared.state()
    }

    /// Every request received, as `GET /path?query`, in order (retried attempts included).
    pub fn requests(&self) -> Vec<String> {
        self.server.requests()
    }
}

#[derive(Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    scope: String,
    iat: i64,
    exp: i64,
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    json(
        status,
        json!({"error": error, "error_description": description}),
    )
}

fn handle(shared: &Shared<GoogleState>, st: &mut GoogleState, req: &Incoming) -> Response {
    if let Some(resp) = st.faults.answer(&req.path) {
        return resp;
    }
    let base = shared.url.as_str();
    match (req.method.as_str(), req.path.as_str()) {
        ("POST", "/token") => token(base, st, req),
        ("GET", "/admin/directory/v1/users") => users(st, req),
        _ => not_found(
            json!({"error": {"code": 404, "message": "Not Found", "status": "NOT_FOUND"}}),
        ),
    }
}

fn token(base: &str, st: &mut GoogleState, req: &Incoming) -> Response {
    if st.faults.revoked {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Invalid JWT Signature.",
        );
    }
    if req.header("content-type") != Some("application/x-www-form-urlencoded") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Invalid content type",
        );
    }
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&req.body)
        .into_owned()
        .collect();
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if field("grant_type") != Some("urn:ietf:params:oauth:grant-type:jwt-bearer") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Invalid grant_type",
        );
    }
    let Some(assertion) = field("assertion") else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing assertion",
        );
    };
    let key = match jsonwebtoken::DecodingKey::from_rsa_pem(TEST_PUBLIC_KEY.as_bytes()) {
        Ok(k) => k,
        Err(e) => {
            return oauth_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                &e.to_string(),
            );
        }
    };
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[format!("{base}token")]);
    validation.set_issuer(&[st.client_email.as_str()]);
    validation.set_required_spec_claims(&["exp", "iat", "aud", "iss", "sub"]);
    let claims = match jsonwebtoken::decode::<Claims>(assertion, &key, &validation) {
        Ok(data) => data.claims,
        Err(e) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                &format!("Invalid JWT: {e}"),
            );
        }
    };
    if claims.exp - claims.iat > 3600 || claims.exp <= claims.iat {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.",
        );
    }
    if claims.sub != st.admin_email || claims.iss != st.client_email {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Invalid email or User ID",
        );
    }
    if claims.scope.split(' ').all(|s| s != crate::google::SCOPE) {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized_client",
            "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.",
        );
    }
    let access = format!("ya29.fake-access-token-{}", st.issued.len() + 1);
    st.issued.push(access.clone());
    json(
        StatusCode::OK,
        json!({"access_token": access, "expires_in": 3599, "token_type": "Bearer"}),
    )
}

fn users(st: &GoogleState, req: &Incoming) -> Response {
    let bearer = req
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer "));
    if st.faults.revoked || !bearer.is_some_and(|b| st.issued.iter().any(|t| t == b)) {
        return json(
            StatusCode::UNAUTHORIZED,
            json!({"error": {
                "code": 401,
                "message": "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
                "errors": [{"message": "Invalid Credentials", "domain": "global", "reason": "authError", "location": "Authorization", "locationType": "header"}],
                "status": "UNAUTHENTICATED"
            }}),
        );
    }
    if req.param("customer") != Some("my_customer")
        && req.param("customer") != Some(&st.customer_id)
    {
        return json(
            StatusCode::BAD_REQUEST,
            json!({"error": {"code": 400, "message": "Bad Request", "status": "INVALID_ARGUMENT"}}),
        );
    }
    let max: usize = req
        .param("maxResults")
        .and_then(|m| m.parse().ok())
        .unwrap_or(100);
    let size = max.min(st.page_size);
    let from: usize = match req.param("pageToken") {
        None => 0,
        Some(t) => match t.strip_prefix("fake-page-").and_then(|n| n.parse().ok()) {
            Some(n) => n,
            None => {
                return json(
                    StatusCode::BAD_REQUEST,
                    json!({"error": {"code": 400, "message": "Invalid page token", "status": "INVALID_ARGUMENT"}}),
                );
            }
        },
    };
    let (page, more) = page_of(&st.users, from, size);
    let users: Vec<Value> = page.iter().map(|u| user_json(st, u)).collect();
    let mut body = json!({
        "kind": "admin#directory#users",
        "etag": "\"fake-etag\"",
        "users": users
    });
    if more {
        body["nextPageToken"] = json!(format!("fake-page-{}", from + page.len()));
    }
    json(StatusCode::OK, body)
}

fn user_json(st: &GoogleState, u: &GoogleUser) -> Value {
    let mut parts = u.full_name.splitn(2, ' ');
    let given = parts.next().unwrap_or("");
    let family = parts.next().unwrap_or("");
    json!({
        "kind": "admin#directory#user",
        "id": u.id,
        "etag": format!("\"etag-{}\"", u.id),
        "primaryEmail": u.primary_email,
        "name": {"givenName": given, "familyName": family, "fullName": u.full_name},
        "isAdmin": u.is_admin,
        "isDelegatedAdmin": false,
        "lastLoginTime": u.last_login_time,
        "creationTime": u.creation_time,
        "agreedToTerms": true,
        "suspended": u.suspended,
        "archived": u.archived,
        "changePasswordAtNextLogin": false,
        "ipWhitelisted": false,
        "emails": [{"address": u.primary_email, "primary": true}],
        "customerId": st.customer_id,
        "orgUnitPath": u.org_unit_path,
        "isMailboxSetup": true,
        "isEnrolledIn2Sv": u.enrolled_2sv,
        "isEnforcedIn2Sv": u.enforced_2sv,
        "includeInGlobalAddressList": true
    })
}
