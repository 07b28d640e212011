//! GitHub (github.com or GitHub Enterprise Server): an organisation's members, two-factor
//! status and admins, its repositories' default-branch protection, and the pull requests
//! merged into each default branch with their reviews.
//!
//! The requests, exactly as the importer reads them (`{b}` is the repository's default branch):
//!
//! | request | what it tells |
//! | --- | --- |
//! | `GET /orgs/{org}/members?per_page=100` | every member |
//! | `GET /orgs/{org}/members?role=admin&per_page=100` | the owners |
//! | `GET /orgs/{org}/members?filter=2fa_disabled&per_page=100` | members without 2FA |
//! | `GET /orgs/{org}/repos?per_page=100` | the repositories |
//! | `GET /repos/{o}/{r}/branches/{b}/protection` | 200: the rules; 404: unprotected |
//! | `GET /repos/{o}/{r}/pulls?state=closed&base={b}&sort=updated&direction=desc&per_page=100` | closed pull requests, newest update first, until the page older than `since` |
//! | `GET /repos/{o}/{r}/pulls/{n}/reviews?per_page=100` | the reviews of each merged pull request updated since `since` |
//!
//! Archived repositories are listed but not read further. Later pages are requested on the
//! same path with `&page=N` (see [`crate::paging`]).
//!
//! Authentication is either a token (a fine-grained or classic personal access token) or a
//! GitHub App installed on the organisation. Either needs read access to the organisation's
//! members and to the repositories' administration (branch protection), contents and pull
//! requests. For an App, Vouch signs a JWT with the App's private key (RS256, valid for ten
//! minutes, backdated one minute for clock drift), finds the App's installation on the
//! organisation (`GET /orgs/{org}/installation`) unless the settings name it, and trades the
//! JWT for an installation token (`POST /app/installations/{id}/access_tokens`). None of that
//! exchange is captured: the bundle holds only the organisation's data.
use crate::http::{Request, RetryPolicy, Session};
use crate::paging::{list_linked, query, segment, str_field};
use crate::{CaptureBundle, ConnectorError, ConnectorKind, Fetched, Secret};
use serde::Deserialize;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::{Date, Duration, OffsetDateTime};

const SYSTEM: &str = "github";

/// How long back pull requests are read when the settings do not say.
pub const DEFAULT_LOOKBACK_DAYS: i64 = 90;

/// A GitHub integration's settings, as the app stores them.
#[derive(Clone, Debug, Deserialize)]
pub struct Settings {
    /// The organisation's login (`acme`).
    pub org: String,
    /// The REST API root: `https://api.github.com/` (the default), or
    /// `https://github.example.com/api/v3/` for GitHub Enterprise Server.
    #[serde(default = "default_api_url")]
    pub api_url: String,
    pub auth: Auth,
    /// Pull requests updated before this day (UTC) are not read; by default, the last
    /// [`DEFAULT_LOOKBACK_DAYS`] days.
    #[serde(default)]
    pub since: Option<Date>,
}

/// How Vouch signs in to GitHub. Stored as `{"type": "token", "token": "…"}` or
/// `{"type": "app", "app_id": "123", "private_key": "-----BEGIN …"}`.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Auth {
    /// A personal access token (fine-grained or classic), sent as `Authorization: Bearer`.
    Token { token: Secret },
    /// A GitHub App installed on the organisation.
    App {
        /// The App's id (or its client id): the JWT's issuer.
        app_id: String,
        /// The App's private key, as GitHub downloads it (PEM).
        private_key: Secret,
        /// The installation on the organisation; found from the organisation when absent.
        #[serde(default)]
        installation_id: Option<u64>,
    },
}

pub fn default_api_url() -> String {
    "https://api.github.com/".to_string()
}

impl Settings {
    /// Settings with a token and the defaults.
    pub fn with_token(org: impl Into<String>, token: impl Into<String>) -> Settings {
        Settings {
            org: org.into(),
            api_url: default_api_url(),
            auth: Auth::Token {
                token: Secret::new(token),
            },
            since: None,
        }
    }

    fn validate(&self) -> Result<(), ConnectorError> {
        let org = self.org.trim();
        if org.is_empty() {
            return Err(ConnectorError::Config(
                "the GitHub organisation is missing".into(),
            ));
        }
        if org.contains('/') || org.contains(char::is_whitespace) {
            return Err(ConnectorError::Config(format!(
                "'{org}' is not an organisation login (use the name in github.com/<org>)"
            )));
        }
        match &self.auth {
            Auth::Token { token } if token.is_empty() => {
                Err(ConnectorError::Config("the GitHub token is missing".into()))
            }
            Auth::Token { .. } => Ok(()),
            Auth::App { app_id, .. } if app_id.trim().is_empty() => Err(ConnectorError::Config(
                "the GitHub App id is missing".into(),
            )),
            Auth::App { private_key, .. } if private_key.is_empty() => Err(ConnectorError::Config(
                "the GitHub App's private key is missing".into(),
            )),
            Auth::App { .. } => Ok(()),
        }
    }

    /// The first day whose pull requests are read.
    pub fn since_or_default(&self, today: Date) -> Date {
        self.since
            .unwrap_or_else(|| today - Duration::days(DEFAULT_LOOKBACK_DAYS))
    }
}

/// Reads the organisation and imports what was read.
pub async fn collect(settings: &Settings, policy: RetryPolicy) -> Result<Fetched, ConnectorError> {
    let bundle = fetch(settings, policy).await?;
    crate::import(ConnectorKind::Github, bundle)
}

/// Reads the organisation: every response, as read.
pub async fn fetch(
    settings: &Settings,
    policy: RetryPolicy,
) -> Result<CaptureBundle, ConnectorError> {
    fetch_inner(settings, policy)
        .await
        .map_err(|e| crate::relabel(e, ConnectorKind::Github))
}

async fn fetch_inner(
    settings: &Settings,
    policy: RetryPolicy,
) -> Result<CaptureBundle, ConnectorError> {
    settings.validate()?;
    let token = match &settings.auth {
        Auth::Token { token } => token.clone(),
        Auth::App {
            app_id,
            private_key,
            installation_id,
        } => {
            app_token(
                settings,
                app_id.trim(),
                private_key,
                *installation_id,
                policy.clone(),
            )
            .await?
        }
    };
    let mut s = Session::new(SYSTEM, settings.api_url.trim(), policy)?
        .with_header("authorization", format!("Bearer {}", token.expose().trim()))
        .with_header("accept", "application/vnd.github+json")
        .with_header("x-github-api-version", "2022-11-28");
    let since = settings.since_or_default(OffsetDateTime::now_utc().date());
    let since = since.midnight().assume_utc();
    let org = segment(settings.org.trim());

    // The first request says whether the token works and the organisation exists.
    let first = format!("orgs/{org}/members?per_page=100");
    match list_linked(&mut s, &first, |_| true).await {
        Err(ConnectorError::Status { status: 404, .. }) => {
            return Err(ConnectorError::Config(format!(
                "GitHub has no organisation '{}' that this token can see",
                settings.org.trim()
            )));
        }
        other => other?,
    };
    list_linked(
        &mut s,
        &format!("orgs/{org}/members?role=admin&per_page=100"),
        |_| true,
    )
    .await?;
    list_linked(
        &mut s,
        &format!("orgs/{org}/members?filter=2fa_disabled&per_page=100"),
        |_| true,
    )
    .await?;
    let repos_request = format!("orgs/{org}/repos?per_page=100");
    let repos = list_linked(&mut s, &repos_request, |_| true).await?;

    for repo in &repos {
        if repo.get("archived").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        let name = str_field(SYSTEM, &repos_request, repo, "name")?;
        let owner = repo
            .pointer("/owner/login")
            .and_then(Value::as_str)
            .unwrap_or(settings.org.trim());
        let Some(branch) = repo.get("default_branch").and_then(Value::as_str) else {
            // An empty repository has no branch to protect and no pull requests.
            continue;
        };
        let repo_path = format!("repos/{}/{}", segment(owner), segment(name));

        let resp = s
            .send(Request::get(format!(
                "{repo_path}/branches/{}/protection",
                segment(branch)
            )))
            .await?;
        match resp.status {
            200 => {
                resp.json(SYSTEM)?;
            }
            404 => {} // no classic protection on the branch: a finding, not a failure
            _ => s.check(&resp)?,
        }

        let pulls_request = format!(
            "{repo_path}/pulls?{}",
            query(&[
                ("state", "closed"),
                ("base", branch),
                ("sort", "updated"),
                ("direction", "desc"),
                ("per_page", "100"),
            ])
        );
        let pulls = list_linked(&mut s, &pulls_request, |page| {
            // Sorted by update, newest first: a page whose last item is older than the
            // period is the last page needed.
            page.last().and_then(updated_at).is_none_or(|t| t >= since)
        })
        .await?;
        for pull in &pulls {
            let merged = pull.get("merged_at").is_some_and(|m| !m.is_null());
            if !merged || updated_at(pull).is_none_or(|t| t < since) {
                continue;
            }
            let Some(number) = pull.get("number").and_then(Value::as_u64) else {
                return Err(ConnectorError::Garbage {
                    system: SYSTEM.into(),
                    request: pulls_request,
                    detail: "a pull request has no number".into(),
                });
            };
            list_linked(
                &mut s,
                &format!("{repo_path}/pulls/{number}/reviews?per_page=100"),
                |_| true,
            )
            .await?;
        }
    }
    Ok(s.into_bundle())
}

/// The installation token of a GitHub App, through a session whose record is dropped.
async fn app_token(
    settings: &Settings,
    app_id: &str,
    private_key: &Secret,
    installation_id: Option<u64>,
    policy: RetryPolicy,
) -> Result<Secret, ConnectorError> {
    #[derive(serde::Serialize)]
    struct Claims<'a> {
        iat: i64,
        exp: i64,
        iss: &'a str,
    }
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(private_key.expose().trim().as_bytes())
        .map_err(|_| {
            ConnectorError::Config(
                "the GitHub App's private key is not an RSA private key in PEM form (download a new one from the App's settings)".into(),
            )
        })?;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let jwt = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        &Claims {
            iat: now - 60,
            exp: now + 540,
            iss: app_id,
        },
        &key,
    )
    .map_err(|e| ConnectorError::Config(format!("could not sign the GitHub App's JWT: {e}")))?;
    let mut s = Session::new(SYSTEM, settings.api_url.trim(), policy)?
        .with_header("authorization", format!("Bearer {jwt}"))
        .with_header("accept", "application/vnd.github+json")
        .with_header("x-github-api-version", "2022-11-28");
    let org = settings.org.trim();
    let installation = match installation_id {
        Some(id) => id,
        None => {
            let resp = s
                .send(Request::get(format!("orgs/{}/installation", segment(org))))
                .await?;
            if resp.status == 404 {
                return Err(ConnectorError::Config(format!(
                    "the GitHub App {app_id} is not installed on the organisation '{org}'"
                )));
            }
            s.check(&resp)?;
            resp.json(SYSTEM)?
                .get("id")
                .and_then(Value::as_u64)
                .ok_or_else(|| ConnectorError::Garbage {
                    system: SYSTEM.into(),
                    request: resp.request.clone(),
                    detail: "the installation has no numeric id".into(),
                })?
        }
    };
    let resp = s
        .send(Request::post(
            format!("app/installations/{installation}/access_tokens"),
            Vec::new(),
        ))
        .await?;
    if resp.status == 404 {
        return Err(ConnectorError::Config(format!(
            "the GitHub App {app_id} has no installation {installation}"
        )));
    }
    s.check(&resp)?;
    let json: Value = serde_json::from_slice(&resp.body).map_err(|_| ConnectorError::Garbage {
        system: SYSTEM.into(),
        request: resp.request.clone(),
        detail: "the installation token answer is not JSON".into(),
    })?;
    match json.get("token").and_then(Value::as_str) {
        Some(t) if !t.is_empty() => Ok(Secret::new(t)),
        _ => Err(ConnectorError::Garbage {
            system: SYSTEM.into(),
            request: resp.request,
            detail: "the installation token answer has no token".into(),
        }),
    }
}

fn updated_at(item: &Value) -> Option<OffsetDateTime> {
    let s = item.get("updated_at")?.as_str()?;
    OffsetDateTime::parse(s, &Rfc3339).ok()
}
