//! A fake GitHub REST API: org members (with `role=admin` and `filter=2fa_disabled`), org
//! repositories, classic branch protection, closed pull requests and their reviews.
use super::{
    Faults, Incoming, Server, Shared, TEST_PRIVATE_KEY, TEST_PUBLIC_KEY, json, not_found, page_of,
    with_link,
};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};
use std::sync::MutexGuard;

/// The state a [`FakeGithub`] serves. Change it between runs through [`FakeGithub::state`].
#[derive(Clone, Debug)]
pub struct GithubState {
    /// The token the server accepts (`Authorization: Bearer <token>`).
    pub token: String,
    pub org: String,
    /// The org's numeric id (GitHub's `Link` headers name the org by it).
    pub org_id: u64,
    pub members: Vec<GithubMember>,
    pub repos: Vec<GithubRepo>,
    pub page_size: usize,
    pub faults: Faults,
    /// A GitHub App installed on the org, signing with [`TEST_PRIVATE_KEY`].
    pub app: Option<GithubApp>,
    /// Installation tokens handed out to the App (accepted like `token`).
    pub installation_tokens: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct GithubApp {
    pub app_id: String,
    pub installation_id: u64,
}

#[derive(Clone, Debug)]
pub struct GithubMember {
    pub login: String,
    pub id: u64,
    /// An organisation owner (`role=admin`).
    pub admin: bool,
    /// Has two-factor authentication on (absent from `filter=2fa_disabled`).
    pub two_factor: bool,
}

#[derive(Clone, Debug)]
pub struct GithubRepo {
    pub id: u64,
    pub name: String,
    pub private: bool,
    pub archived: bool,
    pub default_branch: String,
    /// The classic protection of the default branch (the body of a 200), or `None` (404).
    pub protection: Option<Value>,
    pub pulls: Vec<GithubPull>,
}

#[derive(Clone, Debug)]
pub struct GithubPull {
    pub number: u64,
    pub author: String,
    pub base: String,
    pub created_at: String,
    pub updated_at: String,
    /// `None` for a pull request closed without merging.
    pub merged_at: Option<String>,
    pub reviews: Vec<GithubReview>,
}

#[derive(Clone, Debug)]
pub struct GithubReview {
    pub id: u64,
    pub user: String,
    /// `APPROVED`, `CHANGES_REQUESTED`, `COMMENTED`, `DISMISSED`, `PENDING`.
    pub state: String,
    pub submitted_at: String,
}

impl GithubMember {
    pub fn new(login: &str, id: u64, admin: bool, two_factor: bool) -> GithubMember {
        GithubMember {
            login: login.into(),
            id,
            admin,
            two_factor,
        }
    }
}

impl GithubPull {
    /// A merged pull request into `main`, updated when merged.
    pub fn merged(number: u64, author: &str, merged_at: &str) -> GithubPull {
        GithubPull {
            number,
            author: author.into(),
            base: "main".into(),
            created_at: merged_at.into(),
            updated_at: merged_at.into(),
            merged_at: Some(merged_at.into()),
            reviews: Vec::new(),
        }
    }

    pub fn approved_by(mut self, user: &str, at: &str) -> GithubPull {
        self.reviews.push(GithubReview {
            id: self.number * 1000 + self.reviews.len() as u64 + 1,
            user: user.into(),
            state: "APPROVED".into(),
            submitted_at: at.into(),
        });
        self
    }
}

/// A classic branch protection body (`GET …/branches/{b}/protection`) requiring `reviews`
/// approving reviews, a status check `ci`, and enforced for admins.
pub fn protection_requiring(reviews: u64) -> Value {
    json!({
        "required_status_checks": {"strict": true, "contexts": ["ci"], "checks": [{"context": "ci", "app_id": null}]},
        "required_pull_request_reviews": {
            "dismiss_stale_reviews": true,
            "require_code_owner_reviews": false,
            "required_approving_review_count": reviews,
            "require_last_push_approval": false
        },
        "required_signatures": {"enabled": false},
        "enforce_admins": {"enabled": true},
        "required_linear_history": {"enabled": false},
        "allow_force_pushes": {"enabled": false},
        "allow_deletions": {"enabled": false},
        "block_creations": {"enabled": false},
        "required_conversation_resolution": {"enabled": true},
        "lock_branch": {"enabled": false},
        "allow_fork_syncing": {"enabled": false}
    })
}

impl GithubState {
    /// Org `acme` (token `ghp_fake_token_for_tests`): five members (`ana` and `eve` owners;
    /// `cara` and `eve` without 2FA); repositories `api` (protected, one approving review
    /// required; pull requests 11 and 12 merged recently with approvals, 13 merged recently
    /// without a review, 14 closed unmerged, 9 merged in 2020), `web` (unprotected; pull
    /// request 3 merged recently, unreviewed) and `legacy` (archived).
    pub fn sample() -> GithubState {
        let now = time::OffsetDateTime::now_utc();
        let days_ago = |d: i64| {
            (now - time::Duration::days(d))
                .replace_nanosecond(0)
                .unwrap_or(now)
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default()
        };
        let mut closed = GithubPull::merged(14, "ben", &days_ago(3));
        closed.merged_at = None;
        GithubState {
            token: "ghp_fake_token_for_tests".into(),
            org: "acme".into(),
            org_id: 9001,
            members: vec![
                GithubMember::new("ana", 1, true, true),
                GithubMember::new("ben", 2, false, true),
                GithubMember::new("cara", 3, false, false),
                GithubMember::new("dev", 4, false, true),
                GithubMember::new("eve", 5, true, false),
            ],
            repos: vec![
                GithubRepo {
                    id: 101,
                    name: "api".into(),
                    private: true,
                    archived: false,
                    default_branch: "main".into(),
                    protection: Some(protection_requiring(1)),
                    pulls: vec![
                        GithubPull::merged(11, "ben", &days_ago(10))
                            .approved_by("ana", &days_ago(10)),
                        GithubPull::merged(12, "dev", &days_ago(5))
                            .approved_by("ben", &days_ago(5)),
                        GithubPull::merged(13, "cara", &days_ago(2)),
                        closed,
                        GithubPull::merged(9, "ana", "2020-01-15T10:00:00Z")
                            .approved_by("ben", "2020-01-15T09:00:00Z"),
                    ],
                },
                GithubRepo {
                    id: 102,
                    name: "web".into(),
                    private: false,
                    archived: false,
                    default_branch: "main".into(),
                    protection: None,
                    pulls: vec![GithubPull::merged(3, "eve", &days_ago(1))],
                },
                GithubRepo {
                    id: 103,
                    name: "legacy".into(),
                    private: true,
                    archived: true,
                    default_branch: "master".into(),
                    protection: None,
                    pulls: vec![],
                },
            ],
            page_size: super::DEFAULT_PAGE_SIZE,
            faults: Faults::default(),
            app: Some(GithubApp {
                app_id: "424242".into(),
                installation_id: 77,
            }),
            installation_tokens: Vec::new(),
        }
    }
}

/// A running fake GitHub; stops when dropped.
pub struct FakeGithub {
    server: Server<GithubState>,
}

impl FakeGithub {
    pub async fn start(state: GithubState) -> FakeGithub {
        let server = Server::start(state, handle).await;
        FakeGithub { server }
    }

    /// The API root to configure (`http://127.0.0.1:PORT/`).
    pub fn url(&self) -> String {
        self.server.url.clone()
    }

    /// Settings for the connector pointing at this server with its token.
    pub fn settings(&self) -> crate::github::Settings {
        let state = self.state();
        let mut s = crate::github::Settings::with_token(state.org.clone(), state.token.clone());
        s.api_url = self.url();
        s
    }

    /// Settings for the connector signing in as the state's GitHub App (installation found
    /// from the org).
    pub fn app_settings(&self) -> crate::github::Settings {
        let app_id = self
            .state()
            .app
            .as_ref()
            .map(|a| a.app_id.clone())
            .unwrap_or_default();
        let mut s = self.settings();
        s.auth = crate::github::Auth::App {
            app_id,
            private_key: crate::Secret::new(TEST_PRIVATE_KEY),
            installation_id: None,
        };
        s
    }

    /// The state, to read or change (do not hold it across an `.await`).
    pub fn state(&self) -> MutexGuard<'_, GithubState> {
        self.server.shared.state()
    }

    /// Every request received, as `GET /path?query`, in order (retried attempts included).
    pub fn requests(&self) -> Vec<String> {
        self.server.requests()
    }
}

fn handle(shared: &Shared<GithubState>, st: &mut GithubState, req: &Incoming) -> Response {
    if let Some(resp) = st.faults.answer(&req.path) {
        return resp;
    }
    let bearer = req
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer "));
    let parts: Vec<&str> = req.path.trim_matches('/').split('/').collect();
    let app_route = matches!(
        (req.method.as_str(), parts.as_slice()),
        ("GET", ["orgs", _, "installation"])
            | ("POST", ["app", "installations", _, "access_tokens"])
    );
    if app_route {
        return app(st, &parts, bearer);
    }
    let known =
        bearer.is_some_and(|b| b == st.token || st.installation_tokens.iter().any(|t| t == b));
    if st.faults.revoked || !known {
        return json(
            StatusCode::UNAUTHORIZED,
            json!({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest", "status": "401"}), // not fetched: what the real API says
        );
    }
    if req.method != "GET" {
        return not_found(gh_not_found());
    }
    let base = shared.url.as_str();
    let per_page: usize = req
        .param("per_page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(30);
    let size = per_page.min(st.page_size);
    let page: usize = req
        .param("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    match parts.as_slice() {
        ["orgs", org, "members"] if *org == st.org => {
            let members: Vec<Value> = st
                .members
                .iter()
                .filter(|m| match req.param("role") {
                    Some("admin") => m.admin,
                    Some("member") => !m.admin,
                    _ => true,
                })
                .filter(|m| req.param("filter") != Some("2fa_disabled") || !m.two_factor)
                .map(|m| member_json(base, m))
                .collect();
            let path = format!("organizations/{}/members", st.org_id);
            paged(base, &path, req, &members, page, size)
        }
        ["orgs", org, "repos"] if *org == st.org => {
            let repos: Vec<Value> = st.repos.iter().map(|r| repo_json(base, st, r)).collect();
            let path = format!("organizations/{}/repos", st.org_id);
            paged(base, &path, req, &repos, page, size)
        }
        ["repos", owner, name, "branches", branch, "protection"] if *owner == st.org => {
            match st
                .repos
                .iter()
                .find(|r| r.name == *name && r.default_branch == *branch)
            {
                Some(GithubRepo {
                    protection: Some(p),
                    ..
                }) => json(StatusCode::OK, p.clone()),
                Some(_) => not_found(json!({
                    "message": "Branch not protected",
                    "documentation_url": "https://docs.github.com/rest/branches/branch-protection#get-branch-protection", // not fetched: what the real API says
                    "status": "404"
                })),
                None => not_found(gh_not_found()),
            }
        }
        ["repos", owner, name, "pulls"] if *owner == st.org => {
            let Some(repo) = st.repos.iter().find(|r| r.name == *name) else {
                return not_found(gh_not_found());
            };
            let mut pulls: Vec<&GithubPull> = repo
                .pulls
                .iter()
                .filter(|_| req.param("state") != Some("open"))
                .filter(|p| req.param("base").is_none_or(|b| b == p.base))
                .collect();
            if req.param("sort") == Some("updated") {
                pulls.sort_by(|a, b| b.updated_at.cmp(&a.updated_at));
                if req.param("direction") == Some("asc") {
                    pulls.reverse();
                }
            } else {
                pulls.sort_by_key(|p| std::cmp::Reverse(p.number));
            }
            let pulls: Vec<Value> = pulls
                .into_iter()
                .map(|p| pull_json(base, st, repo, p))
                .collect();
            let path = format!("repositories/{}/pulls", repo.id);
            paged(base, &path, req, &pulls, page, size)
        }
        ["repos", owner, name, "pulls", number, "reviews"] if *owner == st.org => {
            let pull = st.repos.iter().find(|r| r.name == *name).and_then(|r| {
                r.pulls
                    .iter()
                    .find(|p| p.number.to_string() == *number)
                    .map(|p| (r, p))
            });
            let Some((repo, pull)) = pull else {
                return not_found(gh_not_found());
            };
            let reviews: Vec<Value> = pull
                .reviews
                .iter()
                .map(|r| {
                    json!({
                        "id": r.id,
                        "node_id": format!("PRR_{}", r.id),
                        "user": user_json(base, &r.user, 0),
                        "body": "",
                        "state": r.state,
                        "html_url": format!("https://github.com/{}/{}/pull/{}#pullrequestreview-{}", st.org, repo.name, pull.number, r.id), // not fetched: what the real API says
                        "submitted_at": r.submitted_at,
                        "commit_id": format!("{:040x}", pull.number),
                        "author_association": "MEMBER"
                    })
                })
                .collect();
            let path = format!("repositories/{}/pulls/{}/reviews", repo.id, pull.number);
            paged(base, &path, req, &reviews, page, size)
        }
        _ => not_found(gh_not_found()),
    }
}

/// The App endpoints, authenticated by the App's JWT.
fn app(st: &mut GithubState, parts: &[&str], jwt: Option<&str>) -> Response {
    #[derive(serde::Deserialize)]
    struct Claims {
        iat: i64,
        exp: i64,
    }
    let refuse = |message: &str| {
        json(
            StatusCode::UNAUTHORIZED,
            json!({"message": message, "documentation_url": "https://docs.github.com/rest", "status": "401"}), // not fetched: what the real API says
        )
    };
    let Some(app) = st.app.clone() else {
        return refuse("Integration not found");
    };
    if st.faults.revoked {
        return refuse("A JSON web token could not be decoded");
    }
    let Ok(key) = jsonwebtoken::DecodingKey::from_rsa_pem(TEST_PUBLIC_KEY.as_bytes()) else {
        return refuse("test key");
    };
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_issuer(&[app.app_id.as_str()]);
    validation.set_required_spec_claims(&["exp", "iat", "iss"]);
    validation.validate_aud = false;
    let claims = match jsonwebtoken::decode::<Claims>(jwt.unwrap_or(""), &key, &validation) {
        Ok(d) => d.claims,
        Err(_) => return refuse("A JSON web token could not be decoded"),
    };
    if claims.exp - claims.iat > 660 {
        return refuse("'Expiration time' claim ('exp') is too far in the future");
    }
    match parts {
        ["orgs", org, "installation"] if *org == st.org => json(
            StatusCode::OK,
            json!({
                "id": app.installation_id,
                "app_id": app.app_id.parse::<u64>().unwrap_or(0),
                "target_type": "Organization",
                "account": {"login": st.org, "id": st.org_id, "type": "Organization"},
                "permissions": {"members": "read", "administration": "read", "pull_requests": "read", "contents": "read"},
                "repository_selection": "all"
            }),
        ),
        ["app", "installations", id, "access_tokens"] if *id == app.installation_id.to_string() => {
            let token = format!(
                "ghs_fake_installation_token_{}",
                st.installation_tokens.len() + 1
            );
            st.installation_tokens.push(token.clone());
            json(
                StatusCode::CREATED,
                json!({
                    "token": token,
                    "expires_at": "2099-01-01T00:00:00Z",
                    "permissions": {"members": "read", "administration": "read", "pull_requests": "read"},
                    "repository_selection": "all"
                }),
            )
        }
        _ => not_found(gh_not_found()),
    }
}

fn gh_not_found() -> Value {
    json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404"}) // not fetched: what the real API says
}

/// One page, with GitHub's `Link` header (next and last, on the numeric-id path).
fn paged(
    base: &str,
    link_path: &str,
    req: &Incoming,
    items: &[Value],
    page: usize,
    size: usize,
) -> Response {
    let size = size.max(1);
    let (items_page, more) = page_of(items, (page - 1) * size, size);
    let last = items.len().div_ceil(size).max(1);
    let link_to = |n: usize| {
        let mut q: Vec<(String, String)> = req
            .query
            .iter()
            .filter(|(k, _)| k != "page")
            .cloned()
            .collect();
        q.push(("page".into(), n.to_string()));
        format!("<{base}{link_path}?{}>", crate::paging::query(&q))
    };
    let link = more.then(|| {
        format!(
            "{}; rel=\"next\", {}; rel=\"last\"",
            link_to(page + 1),
            link_to(last)
        )
    });
    with_link(json(StatusCode::OK, Value::Array(items_page)), link)
}

fn user_json(base: &str, login: &str, id: u64) -> Value {
    json!({
        "login": login,
        "id": id,
        "node_id": format!("MDQ6VXNlcj{id}"),
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{id}?v=4"), // not fetched: what the real API says
        "url": format!("{base}users/{login}"),
        "html_url": format!("https://github.com/{login}"), // not fetched: what the real API says
        "type": "User",
        "site_admin": false
    })
}

fn member_json(base: &str, m: &GithubMember) -> Value {
    user_json(base, &m.login, m.id)
}

fn repo_json(base: &str, st: &GithubState, r: &GithubRepo) -> Value {
    json!({
        "id": r.id,
        "node_id": format!("R_{}", r.id),
        "name": r.name,
        "full_name": format!("{}/{}", st.org, r.name),
        "owner": {"login": st.org, "id": st.org_id, "type": "Organization", "url": format!("{base}users/{}", st.org)},
        "private": r.private,
        "visibility": if r.private { "private" } else { "public" },
        "html_url": format!("https://github.com/{}/{}", st.org, r.name), // not fetched: what the real API says
        "url": format!("{base}repos/{}/{}", st.org, r.name),
        "fork": false,
        "archived": r.archived,
        "disabled": false,
        "default_branch": r.default_branch,
        "pushed_at": "2026-11-20T12:00:00Z",
        "created_at": "2024-02-01T09:00:00Z",
        "updated_at": "2026-11-20T12:00:00Z",
        "security_and_analysis": {
            "secret_scanning": {"status": "enabled"},
            "secret_scanning_push_protection": {"status": "enabled"},
            "dependabot_security_updates": {"status": "disabled"}
        }
    })
}

fn pull_json(base: &str, st: &GithubState, r: &GithubRepo, p: &GithubPull) -> Value {
    // The list endpoint has no `merged_by` (only a single pull request's endpoint does).
    json!({
        "url": format!("{base}repos/{}/{}/pulls/{}", st.org, r.name, p.number),
        "id": r.id * 100_000 + p.number,
        "number": p.number,
        "state": "closed",
        "locked": false,
        "title": format!("Change {}", p.number),
        "user": user_json(base, &p.author, 0),
        "body": null,
        "created_at": p.created_at,
        "updated_at": p.updated_at,
        "closed_at": p.updated_at,
        "merged_at": p.merged_at,
        "merge_commit_sha": p.merged_at.as_ref().map(|_| format!("{:040x}", r.id * 1000 + p.number)),
        "draft": false,
        "head": {"label": format!("{}:change-{}", st.org, p.number), "ref": format!("change-{}", p.number), "sha": format!("{:040x}", p.number)},
        "base": {"label": format!("{}:{}", st.org, p.base), "ref": p.base, "sha": format!("{:040x}", r.id)},
        "author_association": "MEMBER"
    })
}
