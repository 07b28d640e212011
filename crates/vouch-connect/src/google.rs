//! Google Workspace: the directory's users (admin roles, 2-Step Verification, suspension).
//!
//! Vouch signs in as a service account with domain-wide delegation, impersonating an admin:
//! it signs a JWT assertion with the account's private key (RS256), trades it at the key's
//! `token_uri` for an access token, then reads
//! `GET /admin/directory/v1/users?customer=my_customer&maxResults=500&projection=full`,
//! following `nextPageToken` with `&pageToken=`. Only the directory responses are captured:
//! the token exchange (whose request carries the assertion and whose answer is the access
//! token) goes through a session whose record is thrown away.
//!
//! Setup: in Google Cloud, a service account with a JSON key; in the Admin console
//! (Security → API controls → Domain-wide delegation), its client id with the scope
//! `https://www.googleapis.com/auth/admin.directory.user.readonly`; an admin to impersonate.
use crate::http::{Request, RetryPolicy, Session};
use crate::paging::query;
use crate::{CaptureBundle, ConnectorError, ConnectorKind, Fetched, Secret};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

const SYSTEM: &str = "google_workspace";

/// The one scope Vouch asks for.
pub const SCOPE: &str = "https://www.googleapis.com/auth/admin.directory.user.readonly";

/// A Google Workspace integration's settings, as the app stores them.
#[derive(Clone, Debug, Deserialize)]
pub struct Settings {
    /// The service account's JSON key file, whole (as downloaded from Google Cloud).
    pub service_account_key: Secret,
    /// The admin the service account acts as (`it-admin@acme.com`).
    pub admin_email: String,
    /// The Admin SDK root: `https://admin.googleapis.com/` (the default).
    #[serde(default = "default_api_url")]
    pub api_url: String,
}

pub fn default_api_url() -> String {
    "https://admin.googleapis.com/".to_string()
}

impl Settings {
    pub fn new(service_account_key: impl Into<String>, admin_email: impl Into<String>) -> Settings {
        Settings {
            service_account_key: Secret::new(service_account_key),
            admin_email: admin_email.into(),
            api_url: default_api_url(),
        }
    }
}

/// The parts of a service-account key file Vouch uses.
struct ServiceAccount {
    client_email: String,
    private_key_id: Option<String>,
    private_key: Secret,
    token_uri: String,
}

impl ServiceAccount {
    /// Reads the key file. Messages never quote the file: it holds the private key.
    fn parse(key: &Secret) -> Result<ServiceAccount, ConnectorError> {
        let bad = |what: &str| ConnectorError::Config(format!("the service account key {what}"));
        if key.is_empty() {
            return Err(bad("is missing"));
        }
        let v: Value = serde_json::from_str(key.expose()).map_err(|e| {
            bad(&format!(
                "is not a JSON key file (line {}, column {}); download a JSON key for the service account",
                e.line(),
                e.column()
            ))
        })?;
        let field = |name: &str| v.get(name).and_then(Value::as_str).map(str::to_string);
        if let Some(t) = field("type")
            && t != "service_account"
        {
            return Err(bad(&format!("is of type '{t}', not 'service_account'")));
        }
        let client_email = field("client_email").ok_or_else(|| bad("has no client_email"))?;
        let private_key = field("private_key").ok_or_else(|| bad("has no private_key"))?;
        let token_uri =
            field("token_uri").unwrap_or_else(|| "https://oauth2.googleapis.com/token".to_string());
        Ok(ServiceAccount {
            client_email,
            private_key_id: field("private_key_id"),
            private_key: Secret::new(private_key),
            token_uri,
        })
    }

    /// The signed assertion for the token endpoint (RFC 7523).
    fn assertion(&self, admin_email: &str, now: i64) -> Result<Secret, ConnectorError> {
        #[derive(Serialize)]
        struct Claims<'a> {
            iss: &'a str,
            sub: &'a str,
            scope: &'a str,
            aud: &'a str,
            iat: i64,
            exp: i64,
        }
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(self.private_key.expose().as_bytes())
            .map_err(|_| {
                ConnectorError::Config(
                    "the service account key's private_key is not an RSA private key in PEM form"
                        .into(),
                )
            })?;
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = self.private_key_id.clone();
        let claims = Claims {
            iss: &self.client_email,
            sub: admin_email,
            scope: SCOPE,
            aud: &self.token_uri,
            iat: now,
            exp: now + 3600,
        };
        jsonwebtoken::encode(&header, &claims, &key)
            .map(Secret::new)
            .map_err(|e| ConnectorError::Config(format!("could not sign the assertion: {e}")))
    }
}

/// Reads the directory and imports what was read.
pub async fn collect(settings: &Settings, policy: RetryPolicy) -> Result<Fetched, ConnectorError> {
    let bundle = fetch(settings, policy).await?;
    crate::import(ConnectorKind::GoogleWorkspace, bundle)
}

/// Reads the directory: every directory response, as read.
pub async fn fetch(
    settings: &Settings,
    policy: RetryPolicy,
) -> Result<CaptureBundle, ConnectorError> {
    fetch_inner(settings, policy)
        .await
        .map_err(|e| crate::relabel(e, ConnectorKind::GoogleWorkspace))
}

async fn fetch_inner(
    settings: &Settings,
    policy: RetryPolicy,
) -> Result<CaptureBundle, ConnectorError> {
    let account = ServiceAccount::parse(&settings.service_account_key)?;
    let admin = settings.admin_email.trim();
    if !admin.contains('@') {
        return Err(ConnectorError::Config(
            "the admin email to act as is missing or not an email address".into(),
        ));
    }
    let token = access_token(&account, admin, policy.clone()).await?;
    let mut s = Session::new(SYSTEM, settings.api_url.trim(), policy)?
        .with_header("authorization", format!("Bearer {}", token.expose()))
        .with_header("accept", "application/json");
    let mut page_token: Option<String> = None;
    let mut pages = 0usize;
    loop {
        pages += 1;
        let mut params = vec![
            ("customer", "my_customer".to_string()),
            ("maxResults", "500".to_string()),
            ("projection", "full".to_string()),
        ];
        if let Some(t) = page_token.take() {
            params.push(("pageToken", t));
        }
        let request = format!("admin/directory/v1/users?{}", query(&params));
        if pages > s.policy().max_pages {
            return Err(ConnectorError::Garbage {
                system: SYSTEM.into(),
                request,
                detail: format!("more than {} pages of results", s.policy().max_pages),
            });
        }
        let (resp, json) = s.get_json(&request).await?;
        let users_ok = json.get("users").is_none_or(|u| u.is_array());
        if !json.is_object() || !users_ok {
            return Err(ConnectorError::Garbage {
                system: SYSTEM.into(),
                request: resp.request,
                detail: "expected an object with a 'users' array".into(),
            });
        }
        match json.get("nextPageToken").and_then(Value::as_str) {
            Some(t) if !t.is_empty() => page_token = Some(t.to_string()),
            _ => return Ok(s.into_bundle()),
        }
    }
}

/// Trades a signed assertion for an access token. Nothing of this exchange is kept.
async fn access_token(
    account: &ServiceAccount,
    admin: &str,
    policy: RetryPolicy,
) -> Result<Secret, ConnectorError> {
    let assertion = account.assertion(admin, OffsetDateTime::now_utc().unix_timestamp())?;
    let body = query(&[
        ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
        ("assertion", assertion.expose()),
    ]);
    // A session of its own, dropped at the end of this function with its record.
    // Rooted at the endpoint's origin, so an error names the request as `POST /token`.
    let root = url::Url::parse(&account.token_uri)
        .and_then(|u| u.join("/"))
        .map_err(|_| {
            ConnectorError::Config("the service account key's token_uri is not a URL".into())
        })?;
    let mut s = Session::new(SYSTEM, root.as_str(), policy)?;
    let resp = s
        .send(
            Request::post(account.token_uri.clone(), body.into_bytes())
                .header("content-type", "application/x-www-form-urlencoded")
                .header("accept", "application/json"),
        )
        .await?;
    if let Err(err) = s.check(&resp) {
        // invalid_grant (a deleted key, a wrong admin) comes as 400, unauthorized_client (no
        // domain-wide delegation for the scope) as 401: the credentials, whatever the status.
        return Err(match err {
            ConnectorError::Status {
                system,
                status: status @ 400,
                request,
                detail,
            } => ConnectorError::Credentials {
                system,
                status,
                request,
                detail,
            },
            other => other,
        });
    }
    let json: Value = serde_json::from_slice(&resp.body).map_err(|_| ConnectorError::Garbage {
        system: SYSTEM.into(),
        request: resp.request.clone(),
        detail: "the token endpoint's answer is not JSON".into(),
    })?;
    match json.get("access_token").and_then(Value::as_str) {
        Some(t) if !t.is_empty() => Ok(Secret::new(t)),
        _ => Err(ConnectorError::Garbage {
            system: SYSTEM.into(),
            request: resp.request,
            detail: "the token endpoint's answer has no access_token".into(),
        }),
    }
}
