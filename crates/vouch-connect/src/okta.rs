//! Okta: the org's users and each user's enrolled factors.
//!
//! The requests, exactly as the importer reads them:
//!
//! | request | what it tells |
//! | --- | --- |
//! | `GET /api/v1/users?limit=200` (then `&after=<cursor>` from `Link: rel="next"`) | the users (Okta leaves `DEPROVISIONED` users out of this list) |
//! | `GET /api/v1/users/{id}/factors` | the user's factors |
//!
//! Authentication is an API token (`Authorization: SSWS <token>`) of an admin with read access
//! to users (the read-only administrator role is enough).
use crate::http::{Request, RetryPolicy, Session};
use crate::paging::{list_linked, segment, str_field};
use crate::{CaptureBundle, ConnectorError, ConnectorKind, Fetched, Secret};
use serde::Deserialize;

const SYSTEM: &str = "okta";

/// An Okta integration's settings, as the app stores them.
#[derive(Clone, Debug, Deserialize)]
pub struct Settings {
    /// The org's URL: `https://acme.okta.com` (a custom domain works too).
    pub url: String,
    /// An API token, created under Security → API → Tokens.
    pub api_token: Secret,
}

impl Settings {
    pub fn new(url: impl Into<String>, api_token: impl Into<String>) -> Settings {
        Settings {
            url: url.into(),
            api_token: Secret::new(api_token),
        }
    }

    /// The API root, with `https://` added to a bare host name.
    fn base(&self) -> Result<String, ConnectorError> {
        let url = self.url.trim();
        if url.is_empty() {
            return Err(ConnectorError::Config("the Okta org URL is missing".into()));
        }
        if self.api_token.is_empty() {
            return Err(ConnectorError::Config(
                "the Okta API token is missing".into(),
            ));
        }
        let url = if url.contains("://") {
            url.to_string()
        } else {
            format!("https://{url}")
        };
        if let Ok(parsed) = url::Url::parse(&url)
            && let Some(host) = parsed.host_str()
            && let Some(org) = host
                .split('.')
                .next()
                .and_then(|h| h.strip_suffix("-admin"))
        {
            return Err(ConnectorError::Config(format!(
                "'{host}' is the admin console; use the org URL (https://{org}.{})",
                host.split_once('.').map_or("okta.com", |(_, rest)| rest)
            )));
        }
        Ok(url)
    }
}

/// Reads the org and imports what was read.
pub async fn collect(settings: &Settings, policy: RetryPolicy) -> Result<Fetched, ConnectorError> {
    let bundle = fetch(settings, policy).await?;
    crate::import(ConnectorKind::Okta, bundle)
}

/// Reads the org: every response, as read.
pub async fn fetch(
    settings: &Settings,
    policy: RetryPolicy,
) -> Result<CaptureBundle, ConnectorError> {
    fetch_inner(settings, policy)
        .await
        .map_err(|e| crate::relabel(e, ConnectorKind::Okta))
}

async fn fetch_inner(
    settings: &Settings,
    policy: RetryPolicy,
) -> Result<CaptureBundle, ConnectorError> {
    let base = settings.base()?;
    let mut s = Session::new(SYSTEM, &base, policy)?
        .with_header(
            "authorization",
            format!("SSWS {}", settings.api_token.expose().trim()),
        )
        .with_header("accept", "application/json");
    let users_request = "api/v1/users?limit=200";
    let users = list_linked(&mut s, users_request, |_| true).await?;
    for user in &users {
        let id = str_field(SYSTEM, users_request, user, "id")?;
        let resp = s
            .send(Request::get(format!(
                "api/v1/users/{}/factors",
                segment(id)
            )))
            .await?;
        if resp.status == 404 {
            // The user was deleted between the two requests: nothing to read.
            continue;
        }
        s.check(&resp)?;
        if !resp.json(SYSTEM)?.is_array() {
            return Err(ConnectorError::Garbage {
                system: SYSTEM.into(),
                request: resp.request,
                detail: "expected a JSON array of factors".into(),
            });
        }
    }
    Ok(s.into_bundle())
}
