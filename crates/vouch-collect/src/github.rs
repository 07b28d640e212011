//! GitHub: organisation members, repositories, branch protection and pull requests with their
//! reviews, from a capture bundle (or, for repositories and pull requests, a saved response).
//!
//! Detection: a capture bundle whose `system` is `github`; or a JSON array whose first item is
//! a repository (`full_name` and `default_branch`) or a pull request (`number`, a `merged_at`
//! member, and `base.repo.full_name`), as `gh api` saves them.
//!
//! In a bundle, each capture is read by its request path and query; pages of one endpoint are
//! separate captures and are merged:
//!
//! - `GET /orgs/{org}/members` (no filter, or `role=all`): `account`s in system `github`, keyed
//!   by login, with `username`, `org`, `admin`, `mfa` and `active: true`. The same path with
//!   `role=admin` says who is an admin, and with `filter=2fa_disabled` who has *no* two-factor
//!   authentication. Without a `role=admin` capture for the org, `admin` is null; without a
//!   `filter=2fa_disabled` capture, `mfa` is null: not knowing is not the same as "no".
//! - `GET /orgs/{org}/repos`: `repository`s keyed by `full_name`, with `private`,
//!   `visibility`, `fork`, `archived`, `default_branch`, `pushed_at`, and the status
//!   (`enabled`/`disabled`, null when GitHub does not show it) of `secret_scanning`,
//!   `secret_scanning_push_protection` and `dependabot_security_updates`.
//! - `GET /repos/{o}/{r}/branches/{b}/protection`: a `branch_protection` keyed `o/r:b`. A 200
//!   is `protected: true` with the settings; GitHub's 404 means the branch is unprotected
//!   (`protected: false`).
//! - `GET /repos/{o}/{r}/pulls`: `pull_request`s keyed `o/r#n`.
//! - `GET /repos/{o}/{r}/pulls/{n}/reviews`: the reviews of that pull request, with
//!   `approvals` (distinct reviewers other than the author whose latest decisive review is an
//!   approval), `approved_by` and `reviewed` (`approvals >= 1`). A pull request without a
//!   reviews capture has them all null (unknown): the connector captures the reviews of every
//!   pull request it reads them for, even an empty list, so a missing capture means "not read"
//!   (a pull request older than the run's look-back), never "no reviews".
//!
//! Other paths are reported in a warning. A status other than 200 (or 404 for branch
//! protection) is an error at the capture: the run did not get that response, and importing
//! the rest as if complete would hide it.
use crate::capture::{self, Captured};
use crate::text::J;
use crate::{Collection, ImportError, ImportKind, Out};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use vouch_domain::resource::{Resource, ResourceKind};

const SYSTEM: &str = "github";

const REVIEW_STATES: [&str; 5] = [
    "APPROVED",
    "CHANGES_REQUESTED",
    "COMMENTED",
    "DISMISSED",
    "PENDING",
];

pub(crate) fn is_repositories(v: &Value) -> bool {
    v.as_array()
        .and_then(|a| a.first())
        .is_some_and(|r| r.get("full_name").is_some() && r.get("default_branch").is_some())
}

pub(crate) fn is_pull_requests(v: &Value) -> bool {
    v.as_array().and_then(|a| a.first()).is_some_and(|p| {
        p.get("number").is_some()
            && p.as_object().is_some_and(|o| o.contains_key("merged_at"))
            && p.pointer("/base/repo/full_name").is_some()
    })
}

pub(crate) fn is_bundle(v: &Value) -> bool {
    capture::is_bundle(v) && v.get("system").and_then(Value::as_str) == Some(SYSTEM)
}

/// A member as the bundle's member lists describe them.
struct Member {
    login: String,
    org: String,
    place: String,
}

/// One review, kept as read.
struct Review {
    reviewer: Option<String>,
    state: &'static str,
    submitted_at: Option<String>,
}

/// What the captures say, gathered before any resource is made (admins, two-factor lists and
/// reviews can come in any order relative to the lists they qualify).
#[derive(Default)]
struct Read {
    members: Vec<Member>,
    /// (org, login), both lower case → index in `members`.
    member_index: HashMap<(String, String), usize>,
    /// (org, login) listed by an unfiltered member list → where, to refuse a repeat.
    listed: HashMap<(String, String), String>,
    admins: HashSet<(String, String)>,
    without_2fa: HashSet<(String, String)>,
    /// Orgs (lower case) with a `role=admin` capture, and with a `filter=2fa_disabled` one.
    orgs_with_admins: HashSet<String>,
    orgs_with_2fa: HashSet<String>,
    repos: Vec<(Resource, String)>,
    protections: Vec<(Resource, String)>,
    /// Pull requests with their author (lower case) and the place of their key.
    pulls: Vec<(Resource, Option<String>, String)>,
    /// `o/r#n` in lower case → the reviews read for it.
    reviews: HashMap<String, Vec<Review>>,
    /// Paths not read, with how many captures had them.
    unknown: BTreeMap<String, usize>,
}

pub(crate) fn import_github(v: &Value) -> Result<Collection, ImportError> {
    let mut read = Read::default();
    let raw_pulls;
    if capture::is_bundle(v) {
        raw_pulls = false;
        for c in capture::read_bundle(v, SYSTEM, "GitHub")? {
            read_capture(&mut read, &c)?;
        }
    } else if is_repositories(v) {
        raw_pulls = false;
        for item in J::root(v).items()? {
            read.repos.push(repository(&item)?);
        }
    } else if is_pull_requests(v) {
        raw_pulls = true;
        for item in J::root(v).items()? {
            read.pulls.push(pull_request(&item, None)?);
        }
    } else {
        return Err(ImportError::file(
            "expected a GitHub capture bundle (with \"vouch_capture\"), a JSON array of repositories or a JSON array of pull requests",
        ));
    }
    let mut out = Out::new(ImportKind::GithubJson);
    emit(read, &mut out)?;
    if raw_pulls {
        out.warnings.push(
            "a saved list of pull requests has no reviews: approvals are unknown (use a capture bundle with each pull request's reviews)"
                .into(),
        );
    }
    Ok(out.finish(SYSTEM))
}

fn read_capture(read: &mut Read, c: &Captured<'_>) -> Result<(), ImportError> {
    let seg = c.segments();
    let seg: Vec<&str> = seg.iter().map(String::as_str).collect();
    match seg.as_slice() {
        ["orgs", org, "members"] => {
            c.expect_status("GitHub", &[200])?;
            read_members(read, c, org)
        }
        ["orgs", _, "repos"] => {
            c.expect_status("GitHub", &[200])?;
            for item in c.body.items()? {
                read.repos.push(repository(&item)?);
            }
            Ok(())
        }
        ["repos", owner, repo, "branches", branch @ .., "protection"] if !branch.is_empty() => {
            c.expect_status("GitHub", &[200, 404])?;
            let full = format!("{owner}/{repo}");
            read.protections
                .push(protection(c, &full, &branch.join("/"))?);
            Ok(())
        }
        ["repos", owner, repo, "pulls"] => {
            c.expect_status("GitHub", &[200])?;
            let full = format!("{owner}/{repo}");
            for item in c.body.items()? {
                read.pulls.push(pull_request(&item, Some(&full))?);
            }
            Ok(())
        }
        ["repos", owner, repo, "pulls", number, "reviews"] => {
            c.expect_status("GitHub", &[200])?;
            let full = format!("{owner}/{repo}").to_lowercase();
            let list = read.reviews.entry(format!("{full}#{number}")).or_default();
            for item in c.body.items()? {
                item.expect_object()?;
                let state_j = item.req("state")?;
                let raw = state_j.str()?;
                let state = REVIEW_STATES
                    .into_iter()
                    .find(|s| *s == raw)
                    .ok_or_else(|| {
                        state_j.err(format!(
                            "'{raw}' is not a GitHub review state ({})",
                            REVIEW_STATES.join(", ")
                        ))
                    })?;
                let reviewer = match item.get("user") {
                    Some(u) => u.opt_str("login")?.map(str::to_string),
                    None => None,
                };
                list.push(Review {
                    reviewer,
                    state,
                    submitted_at: item.opt_instant("submitted_at")?,
                });
            }
            Ok(())
        }
        _ => {
            *read
                .unknown
                .entry(c.capture.path().to_string())
                .or_default() += 1;
            Ok(())
        }
    }
}

fn read_members(read: &mut Read, c: &Captured<'_>, org: &str) -> Result<(), ImportError> {
    let org_key = org.to_lowercase();
    let role = c.capture.query("role").unwrap_or("all");
    let filter = c.capture.query("filter").unwrap_or("all");
    let (is_admin_list, is_2fa_list) = (role == "admin", filter == "2fa_disabled");
    if !matches!(role, "all" | "admin" | "member") || !matches!(filter, "all" | "2fa_disabled") {
        return Err(c.err(format!(
            "'{}' asks for a member list Vouch does not read (role all, admin or member; filter all or 2fa_disabled)",
            c.capture.request
        )));
    }
    // An admin list or a two-factor list only qualifies the members it names if it is
    // complete for the org, which a role or filter of its own would stop it being.
    if is_admin_list && filter == "all" {
        read.orgs_with_admins.insert(org_key.clone());
    }
    if is_2fa_list && role == "all" {
        read.orgs_with_2fa.insert(org_key.clone());
    }
    for item in c.body.items()? {
        item.expect_object()?;
        let login = item.req_str("login")?;
        let place = item.req("login")?.path;
        let id = (org_key.clone(), login.to_lowercase());
        if role == "all" && filter == "all" {
            if let Some(first) = read.listed.get(&id) {
                return Err(ImportError::new(
                    place,
                    format!("duplicate account '{login}': the same key is already at {first}"),
                ));
            }
            read.listed.insert(id.clone(), place.clone());
        }
        if is_admin_list {
            read.admins.insert(id.clone());
        }
        if is_2fa_list {
            read.without_2fa.insert(id.clone());
        }
        if !read.member_index.contains_key(&id) {
            read.member_index.insert(id, read.members.len());
            read.members.push(Member {
                login: login.to_string(),
                org: org.to_string(),
                place,
            });
        }
    }
    Ok(())
}

/// The status of one `security_and_analysis` feature (`enabled`, `disabled`), if shown.
fn feature(r: &J<'_>, name: &str) -> Result<Option<String>, ImportError> {
    match r.at(&["security_and_analysis", name]) {
        Some(f) => Ok(f.opt_str("status")?.map(str::to_string)),
        None => Ok(None),
    }
}

fn repository(r: &J<'_>) -> Result<(Resource, String), ImportError> {
    r.expect_object()?;
    let full = r.req_str("full_name")?;
    let res = Resource::new(ResourceKind::Repository, SYSTEM, full)
        .with("full_name", full)
        .with_opt("private", r.opt_bool("private")?)
        .with_opt("visibility", r.opt_str("visibility")?)
        .with_opt("fork", r.opt_bool("fork")?)
        .with_opt("archived", r.opt_bool("archived")?)
        .with_opt("default_branch", r.opt_str("default_branch")?)
        .with("pushed_at", r.opt_instant("pushed_at")?)
        .with("secret_scanning", feature(r, "secret_scanning")?)
        .with(
            "secret_scanning_push_protection",
            feature(r, "secret_scanning_push_protection")?,
        )
        .with(
            "dependabot_security_updates",
            feature(r, "dependabot_security_updates")?,
        );
    Ok((res, r.req("full_name")?.path))
}

/// `{"enabled": true}` blocks; null when GitHub left the block out.
fn enabled(b: &J<'_>, name: &str) -> Result<Option<bool>, ImportError> {
    match b.get(name) {
        Some(block) => block.opt_bool("enabled"),
        None => Ok(None),
    }
}

fn protection(
    c: &Captured<'_>,
    repo: &str,
    branch: &str,
) -> Result<(Resource, String), ImportError> {
    let r = Resource::new(
        ResourceKind::BranchProtection,
        SYSTEM,
        format!("{repo}:{branch}"),
    )
    .with("repository", repo)
    .with("branch", branch);
    if c.capture.status == 404 {
        return Ok((r.with("protected", false), c.place.clone()));
    }
    let b = &c.body;
    b.expect_object()?;
    // GitHub leaves out the reviews and status-check blocks when they are not required, so
    // their absence is a definite "no", unlike a missing `{enabled}` block.
    let reviews = b.get("required_pull_request_reviews");
    let review_bool = |name: &str| -> Result<bool, ImportError> {
        match &reviews {
            Some(rv) => Ok(rv.opt_bool(name)?.unwrap_or(false)),
            None => Ok(false),
        }
    };
    let count = match &reviews {
        Some(rv) => match rv.get("required_approving_review_count") {
            Some(n) => {
                n.v.as_u64()
                    .ok_or_else(|| n.err("expected a whole number of reviews"))?
            }
            None => 0,
        },
        None => 0,
    };
    let mut contexts: Vec<Value> = Vec::new();
    if let Some(checks) = b.get("required_status_checks") {
        match checks.get("contexts") {
            Some(list) => {
                for ctx in list.items()? {
                    contexts.push(ctx.str()?.into());
                }
            }
            None => {
                for check in checks.opt_items("checks")? {
                    contexts.push(check.req_str("context")?.into());
                }
            }
        }
    }
    let r = r
        .with("protected", true)
        .with("required_approving_review_count", count)
        .with(
            "dismiss_stale_reviews",
            review_bool("dismiss_stale_reviews")?,
        )
        .with(
            "require_code_owner_reviews",
            review_bool("require_code_owner_reviews")?,
        )
        .with(
            "require_last_push_approval",
            review_bool("require_last_push_approval")?,
        )
        .with("enforce_admins", enabled(b, "enforce_admins")?)
        .with("allow_force_pushes", enabled(b, "allow_force_pushes")?)
        .with("allow_deletions", enabled(b, "allow_deletions")?)
        .with("required_status_checks", contexts)
        .with(
            "required_linear_history",
            enabled(b, "required_linear_history")?,
        )
        .with("required_signatures", enabled(b, "required_signatures")?);
    Ok((r, c.place.clone()))
}

/// A pull request; `repo` is the repository of the request path, used when the item does not
/// name its base repository.
fn pull_request(
    p: &J<'_>,
    repo: Option<&str>,
) -> Result<(Resource, Option<String>, String), ImportError> {
    p.expect_object()?;
    let number_j = p.req("number")?;
    let number = number_j
        .v
        .as_u64()
        .ok_or_else(|| number_j.err("expected a pull request number"))?;
    let repository = match (p.at(&["base", "repo"]), repo) {
        (Some(br), _) => br.req_str("full_name")?.to_string(),
        (None, Some(r)) => r.to_string(),
        (None, None) => return Err(p.req("base")?.req("repo")?.err("is missing")),
    };
    let author = match p.get("user") {
        Some(u) => u.opt_str("login")?,
        None => None,
    };
    let merged_by = match p.get("merged_by") {
        Some(u) => u.opt_str("login")?,
        None => None,
    };
    let merged_at = p.opt_instant("merged_at")?;
    let r = Resource::new(
        ResourceKind::PullRequest,
        SYSTEM,
        format!("{repository}#{number}"),
    )
    .with("number", number)
    .with("repository", repository.as_str())
    .with_opt("title", p.opt_str("title")?)
    .with_opt("state", p.opt_str("state")?)
    .with("author", author)
    .with("created_at", p.opt_instant("created_at")?)
    .with("merged", merged_at.is_some())
    .with("merged_at", merged_at)
    .with("merged_by", merged_by)
    .with(
        "base",
        match p.get("base") {
            Some(b) => b.opt_str("ref")?,
            None => None,
        },
    )
    .with(
        "head_sha",
        match p.get("head") {
            Some(h) => h.opt_str("sha")?,
            None => None,
        },
    );
    Ok((r, author.map(str::to_lowercase), number_j.path))
}

/// Adds the reviews to a pull request. A reviewer's latest *decisive* review counts: a
/// comment after an approval does not withdraw it on GitHub, a dismissal does (GitHub turns
/// the dismissed review's state into DISMISSED), and a pending review is not submitted.
fn with_reviews(r: Resource, author: Option<&str>, reviews: &mut [Review]) -> Resource {
    reviews.sort_by(|a, b| a.submitted_at.cmp(&b.submitted_at));
    let mut latest: HashMap<String, (&str, &'static str)> = HashMap::new();
    for rv in reviews.iter() {
        let Some(login) = &rv.reviewer else { continue };
        if !matches!(rv.state, "APPROVED" | "CHANGES_REQUESTED" | "DISMISSED") {
            continue;
        }
        let lower = login.to_lowercase();
        if Some(lower.as_str()) == author {
            continue;
        }
        latest.insert(lower, (login.as_str(), rv.state));
    }
    let mut approved_by: Vec<&str> = latest
        .values()
        .filter(|(_, s)| *s == "APPROVED")
        .map(|(l, _)| *l)
        .collect();
    approved_by.sort_unstable();
    let list: Vec<Value> = reviews
        .iter()
        .map(|rv| {
            serde_json::json!({
                "reviewer": rv.reviewer,
                "state": rv.state,
                "submitted_at": rv.submitted_at,
            })
        })
        .collect();
    r.with("reviews", list)
        .with("approvals", approved_by.len())
        .with("reviewed", !approved_by.is_empty())
        .with("approved_by", approved_by)
}

fn emit(mut read: Read, out: &mut Out) -> Result<(), ImportError> {
    for m in &read.members {
        let org = m.org.to_lowercase();
        let id = (org.clone(), m.login.to_lowercase());
        let admin = read
            .orgs_with_admins
            .contains(&org)
            .then(|| read.admins.contains(&id));
        let mfa = read
            .orgs_with_2fa
            .contains(&org)
            .then(|| !read.without_2fa.contains(&id));
        let r = Resource::new(ResourceKind::Account, SYSTEM, m.login.as_str())
            .with("username", m.login.as_str())
            .with("org", m.org.as_str())
            .with("admin", admin)
            .with("mfa", mfa)
            .with("active", true);
        out.push(r, m.place.clone())?;
    }
    for (r, place) in read.repos {
        out.push(r, place)?;
    }
    for (r, place) in read.protections {
        out.push(r, place)?;
    }
    for (r, author, place) in read.pulls {
        let key = r.key.to_lowercase();
        // Taken out, so what is left at the end is reviews of pull requests not listed.
        let r = match read.reviews.remove(&key) {
            Some(mut list) => with_reviews(r, author.as_deref(), &mut list),
            None => r
                .with("reviews", Value::Null)
                .with("approvals", Value::Null)
                .with("reviewed", Value::Null)
                .with("approved_by", Value::Null),
        };
        out.push(r, place)?;
    }
    let orphans = read.reviews.len();
    if orphans > 0 {
        out.warnings.push(format!(
            "reviews of {orphans} pull request(s) not listed in the bundle were not imported"
        ));
    }
    for (path, n) in &read.unknown {
        out.warnings.push(format!(
            "{n} capture(s) of {path} are not read by this importer"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::{ImportKind, detect, import};
    use serde_json::{Value, json};

    pub(crate) const BUNDLE: &str = r#"{"vouch_capture": 1, "system": "github", "captures": [
  {"request": "GET /orgs/acme/members?per_page=100&page=1", "fetched_at": "2026-11-23T06:00:00Z", "status": 200,
   "body": [{"login": "ana", "id": 1}, {"login": "Ben", "id": 2}]},
  {"request": "GET /orgs/acme/members?per_page=100&page=2", "fetched_at": "2026-11-23T06:00:01Z", "status": 200,
   "body": [{"login": "cy", "id": 3}]},
  {"request": "GET /orgs/acme/members?role=admin&per_page=100", "fetched_at": "2026-11-23T06:00:02Z", "status": 200,
   "body": [{"login": "ana"}]},
  {"request": "GET /orgs/acme/members?filter=2fa_disabled&per_page=100", "fetched_at": "2026-11-23T06:00:03Z", "status": 200,
   "body": [{"login": "ben"}]},
  {"request": "GET /orgs/acme/repos?type=all&per_page=100", "fetched_at": "2026-11-23T06:00:04Z", "status": 200,
   "body": [
     {"id": 10, "full_name": "acme/api", "private": true, "visibility": "private", "fork": false, "archived": false,
      "default_branch": "main", "pushed_at": "2026-11-20T10:00:00Z",
      "security_and_analysis": {"secret_scanning": {"status": "enabled"}, "secret_scanning_push_protection": {"status": "disabled"},
        "dependabot_security_updates": {"status": "enabled"}}},
     {"id": 11, "full_name": "acme/web", "private": false, "visibility": "public", "fork": false, "archived": true,
      "default_branch": "trunk", "pushed_at": "2025-01-02T03:04:05Z"}
   ]},
  {"request": "GET /repos/acme/api/branches/main/protection", "fetched_at": "2026-11-23T06:00:05Z", "status": 200,
   "body": {"required_status_checks": {"strict": true, "contexts": ["ci/test", "ci/lint"]},
     "enforce_admins": {"enabled": true},
     "required_pull_request_reviews": {"dismiss_stale_reviews": true, "require_code_owner_reviews": false, "required_approving_review_count": 2},
     "required_linear_history": {"enabled": false}, "allow_force_pushes": {"enabled": false},
     "allow_deletions": {"enabled": false}, "required_signatures": {"enabled": true}}},
  {"request": "GET /repos/acme/web/branches/trunk/protection", "fetched_at": "2026-11-23T06:00:06Z", "status": 404,
   "body": {"message": "Branch not protected"}},
  {"request": "GET /repos/acme/api/pulls?state=closed&base=main&per_page=100", "fetched_at": "2026-11-23T06:00:07Z", "status": 200,
   "body": [
     {"number": 1, "state": "closed", "title": "Add login", "user": {"login": "Ben"}, "created_at": "2026-11-01T09:00:00Z",
      "merged_at": "2026-11-02T09:00:00Z", "base": {"ref": "main", "repo": {"full_name": "acme/api"}}, "head": {"sha": "aaa1"}},
     {"number": 2, "state": "closed", "title": "Self-approved", "user": {"login": "ana"}, "created_at": "2026-11-03T09:00:00Z",
      "merged_at": "2026-11-03T10:00:00Z", "base": {"ref": "main", "repo": {"full_name": "acme/api"}}, "head": {"sha": "bbb2"}},
     {"number": 3, "state": "closed", "title": "Closed unmerged", "user": {"login": "cy"}, "created_at": "2026-11-04T09:00:00Z",
      "merged_at": null, "base": {"ref": "main", "repo": {"full_name": "acme/api"}}, "head": {"sha": "ccc3"}}
   ]},
  {"request": "GET /repos/acme/api/pulls/1/reviews?per_page=100", "fetched_at": "2026-11-23T06:00:08Z", "status": 200,
   "body": [
     {"id": 100, "user": {"login": "cy"}, "state": "CHANGES_REQUESTED", "submitted_at": "2026-11-01T10:00:00Z"},
     {"id": 101, "user": {"login": "ana"}, "state": "APPROVED", "submitted_at": "2026-11-01T11:00:00Z"},
     {"id": 102, "user": {"login": "ben"}, "state": "APPROVED", "submitted_at": "2026-11-01T12:00:00Z"},
     {"id": 103, "user": {"login": "ana"}, "state": "COMMENTED", "submitted_at": "2026-11-01T13:00:00Z"}
   ]},
  {"request": "GET /repos/acme/api/pulls/2/reviews?per_page=100", "fetched_at": "2026-11-23T06:00:09Z", "status": 200,
   "body": [{"id": 200, "user": {"login": "ana"}, "state": "APPROVED", "submitted_at": "2026-11-03T09:30:00Z"}]},
  {"request": "GET /repos/acme/web/pulls?state=closed&per_page=100", "fetched_at": "2026-11-23T06:00:10Z", "status": 200,
   "body": [{"number": 9, "title": "Docs", "user": {"login": "cy"}, "created_at": "2026-10-01T09:00:00Z",
     "merged_at": "2026-10-01T10:00:00Z", "merged_by": {"login": "ana"}, "base": {"ref": "trunk", "repo": {"full_name": "acme/web"}}, "head": {"sha": "ddd9"}}]},
  {"request": "GET /orgs/acme/teams?per_page=100", "fetched_at": "2026-11-23T06:00:11Z", "status": 200, "body": []}
]}"#;

    fn find<'a>(c: &'a crate::Collection, key: &str) -> &'a vouch_domain::resource::Resource {
        c.resources
            .iter()
            .find(|r| r.key == key)
            .unwrap_or_else(|| panic!("no resource {key}"))
    }

    #[test]
    fn github_bundle_members_merge_pages_admins_and_two_factor_lists() {
        assert_eq!(detect(BUNDLE.as_bytes()), Some(ImportKind::GithubJson));
        let c = import(BUNDLE.as_bytes(), None).unwrap();
        assert_eq!(c.kind, ImportKind::GithubJson);
        assert_eq!(c.system, "github");
        let accounts: Vec<&str> = c
            .resources
            .iter()
            .filter(|r| r.kind == vouch_domain::resource::ResourceKind::Account)
            .map(|r| r.key.as_str())
            .collect();
        assert_eq!(accounts, ["ana", "Ben", "cy"]);
        let ana = find(&c, "ana");
        assert_eq!(ana.attrs["username"], "ana");
        assert_eq!(ana.attrs["org"], "acme");
        assert_eq!(ana.attrs["admin"], true);
        assert_eq!(ana.attrs["mfa"], true);
        assert_eq!(ana.attrs["active"], true);
        // In the 2fa_disabled list (GitHub compares logins without case).
        let ben = find(&c, "Ben");
        assert_eq!(ben.attrs["mfa"], false);
        assert_eq!(ben.attrs["admin"], false);
        assert_eq!(find(&c, "cy").attrs["mfa"], true);
        assert_eq!(
            c.warnings,
            vec!["1 capture(s) of /orgs/acme/teams are not read by this importer"]
        );
    }

    #[test]
    fn github_bundle_without_admin_or_two_factor_lists_leaves_them_unknown() {
        let b = json!({"vouch_capture": 1, "system": "github", "captures": [
            {"request": "GET /orgs/acme/members", "fetched_at": "2026-11-23T06:00:00Z", "status": 200,
             "body": [{"login": "ana"}]}
        ]});
        let c = import(b.to_string().as_bytes(), None).unwrap();
        assert_eq!(c.resources.len(), 1);
        assert_eq!(c.resources[0].attrs["mfa"], Value::Null);
        assert_eq!(c.resources[0].attrs["admin"], Value::Null);
        assert_eq!(c.resources[0].attrs["active"], true);
    }

    #[test]
    fn github_repositories_and_branch_protection() {
        let c = import(BUNDLE.as_bytes(), None).unwrap();
        let api = find(&c, "acme/api");
        assert_eq!(api.kind, vouch_domain::resource::ResourceKind::Repository);
        assert_eq!(api.attrs["private"], true);
        assert_eq!(api.attrs["visibility"], "private");
        assert_eq!(api.attrs["fork"], false);
        assert_eq!(api.attrs["archived"], false);
        assert_eq!(api.attrs["default_branch"], "main");
        assert_eq!(api.attrs["pushed_at"], "2026-11-20T10:00:00Z");
        assert_eq!(api.attrs["secret_scanning"], "enabled");
        assert_eq!(api.attrs["secret_scanning_push_protection"], "disabled");
        assert_eq!(api.attrs["dependabot_security_updates"], "enabled");
        let web = find(&c, "acme/web");
        assert_eq!(web.attrs["archived"], true);
        assert_eq!(web.attrs["secret_scanning"], Value::Null);

        let p = find(&c, "acme/api:main");
        assert_eq!(
            p.kind,
            vouch_domain::resource::ResourceKind::BranchProtection
        );
        assert_eq!(p.attrs["protected"], true);
        assert_eq!(p.attrs["repository"], "acme/api");
        assert_eq!(p.attrs["branch"], "main");
        assert_eq!(p.attrs["required_approving_review_count"], 2);
        assert_eq!(p.attrs["dismiss_stale_reviews"], true);
        assert_eq!(p.attrs["require_code_owner_reviews"], false);
        assert_eq!(p.attrs["enforce_admins"], true);
        assert_eq!(p.attrs["allow_force_pushes"], false);
        assert_eq!(p.attrs["allow_deletions"], false);
        assert_eq!(
            p.attrs["required_status_checks"],
            json!(["ci/test", "ci/lint"])
        );
        assert_eq!(p.attrs["required_linear_history"], false);
        assert_eq!(p.attrs["required_signatures"], true);
        // GitHub's 404 for a branch without protection.
        let t = find(&c, "acme/web:trunk");
        assert_eq!(t.attrs["protected"], false);
        assert!(t.attrs.get("required_approving_review_count").is_none());
    }

    #[test]
    fn github_protection_without_review_block_requires_no_reviews_and_decodes_branch() {
        let b = json!({"vouch_capture": 1, "system": "github", "captures": [
            {"request": "GET /repos/acme/api/branches/release%2F2.0/protection", "fetched_at": "2026-11-23T06:00:00Z",
             "status": 200, "body": {"enforce_admins": {"enabled": false},
               "required_status_checks": {"checks": [{"context": "build", "app_id": 1}]}}}
        ]});
        let c = import(b.to_string().as_bytes(), None).unwrap();
        let p = &c.resources[0];
        assert_eq!(p.key, "acme/api:release/2.0");
        assert_eq!(p.attrs["required_approving_review_count"], 0);
        assert_eq!(p.attrs["dismiss_stale_reviews"], false);
        assert_eq!(p.attrs["required_status_checks"], json!(["build"]));
        // Left out by GitHub: unknown, not false.
        assert_eq!(p.attrs["required_signatures"], Value::Null);
    }

    #[test]
    fn github_pull_requests_count_approvals_from_reviewers_other_than_the_author() {
        let c = import(BUNDLE.as_bytes(), None).unwrap();
        let one = find(&c, "acme/api#1");
        assert_eq!(one.kind, vouch_domain::resource::ResourceKind::PullRequest);
        assert_eq!(one.attrs["number"], 1);
        assert_eq!(one.attrs["repository"], "acme/api");
        assert_eq!(one.attrs["title"], "Add login");
        assert_eq!(one.attrs["author"], "Ben");
        assert_eq!(one.attrs["created_at"], "2026-11-01T09:00:00Z");
        assert_eq!(one.attrs["merged_at"], "2026-11-02T09:00:00Z");
        assert_eq!(one.attrs["merged"], true);
        assert_eq!(one.attrs["merged_by"], Value::Null);
        assert_eq!(one.attrs["base"], "main");
        assert_eq!(one.attrs["head_sha"], "aaa1");
        // ana approved (a later comment does not withdraw it), cy asked for changes, and the
        // author's own approval does not count.
        assert_eq!(one.attrs["approvals"], 1);
        assert_eq!(one.attrs["approved_by"], json!(["ana"]));
        assert_eq!(one.attrs["reviewed"], true);
        assert_eq!(one.attrs["reviews"].as_array().unwrap().len(), 4);
        assert_eq!(
            one.attrs["reviews"][0],
            json!({"reviewer": "cy", "state": "CHANGES_REQUESTED", "submitted_at": "2026-11-01T10:00:00Z"})
        );
        // Approved only by its author.
        let two = find(&c, "acme/api#2");
        assert_eq!(two.attrs["approvals"], 0);
        assert_eq!(two.attrs["approved_by"], json!([]));
        assert_eq!(two.attrs["reviewed"], false);
        // No reviews capture, though the run read reviews of other pull requests of this
        // repository: not read, so unknown (a false "unreviewed" would be a false finding).
        let three = find(&c, "acme/api#3");
        assert_eq!(three.attrs["merged"], false);
        assert_eq!(three.attrs["merged_at"], Value::Null);
        assert_eq!(three.attrs["approvals"], Value::Null);
        assert_eq!(three.attrs["reviewed"], Value::Null);
        assert_eq!(three.attrs["reviews"], Value::Null);
        // No reviews captured for the repository at all: unknown.
        let nine = find(&c, "acme/web#9");
        assert_eq!(nine.attrs["merged_by"], "ana");
        assert_eq!(nine.attrs["approvals"], Value::Null);
        assert_eq!(nine.attrs["reviewed"], Value::Null);
        assert_eq!(nine.attrs["reviews"], Value::Null);
    }

    #[test]
    fn github_latest_decisive_review_counts() {
        let reviews = |list: Value| {
            let b = json!({"vouch_capture": 1, "system": "github", "captures": [
                {"request": "GET /repos/o/r/pulls/5/reviews", "fetched_at": "2026-11-23T06:00:00Z", "status": 200, "body": list},
                {"request": "GET /repos/o/r/pulls?state=closed", "fetched_at": "2026-11-23T06:00:00Z", "status": 200,
                 "body": [{"number": 5, "user": {"login": "au"}, "merged_at": "2026-11-02T09:00:00Z",
                           "base": {"ref": "main", "repo": {"full_name": "o/r"}}, "head": {"sha": "x"}}]}
            ]});
            let c = import(b.to_string().as_bytes(), None).unwrap();
            c.resources[0].attrs["approvals"].clone()
        };
        let at = |h: u32| format!("2026-11-01T{h:02}:00:00Z");
        // Approved, then asked for changes: no longer approving.
        assert_eq!(
            reviews(json!([
                {"user": {"login": "r1"}, "state": "APPROVED", "submitted_at": at(1)},
                {"user": {"login": "r1"}, "state": "CHANGES_REQUESTED", "submitted_at": at(2)}
            ])),
            0
        );
        // Listed out of order: the time decides.
        assert_eq!(
            reviews(json!([
                {"user": {"login": "r1"}, "state": "APPROVED", "submitted_at": at(3)},
                {"user": {"login": "r1"}, "state": "CHANGES_REQUESTED", "submitted_at": at(2)}
            ])),
            1
        );
        // A dismissed approval, a pending review and a deleted user do not count; two distinct
        // approvers do, once each.
        assert_eq!(
            reviews(json!([
                {"user": {"login": "r1"}, "state": "DISMISSED", "submitted_at": at(1)},
                {"user": {"login": "r2"}, "state": "PENDING"},
                {"user": null, "state": "APPROVED", "submitted_at": at(1)},
                {"user": {"login": "r3"}, "state": "APPROVED", "submitted_at": at(1)},
                {"user": {"login": "R3"}, "state": "APPROVED", "submitted_at": at(2)},
                {"user": {"login": "r4"}, "state": "APPROVED", "submitted_at": at(2)},
                {"user": {"login": "AU"}, "state": "APPROVED", "submitted_at": at(2)}
            ])),
            2
        );
    }

    #[test]
    fn github_saved_repository_and_pull_request_arrays() {
        let repos = r#"[{"full_name": "acme/api", "default_branch": "main", "private": true}]"#;
        assert_eq!(detect(repos.as_bytes()), Some(ImportKind::GithubJson));
        let c = import(repos.as_bytes(), None).unwrap();
        assert_eq!(c.resources[0].key, "acme/api");
        assert_eq!(c.resources[0].attrs["private"], true);
        let pulls = r#"[{"number": 7, "merged_at": null, "user": {"login": "ana"},
            "base": {"ref": "main", "repo": {"full_name": "acme/api"}}, "head": {"sha": "f00"}}]"#;
        assert_eq!(detect(pulls.as_bytes()), Some(ImportKind::GithubJson));
        let c = import(pulls.as_bytes(), None).unwrap();
        assert_eq!(c.resources[0].key, "acme/api#7");
        assert_eq!(c.resources[0].attrs["merged"], false);
        assert_eq!(c.resources[0].attrs["approvals"], Value::Null);
        assert!(c.warnings[0].contains("no reviews"), "{:?}", c.warnings);
    }

    #[test]
    fn github_errors_name_their_place() {
        // An error status where only 200 makes sense.
        let bad = BUNDLE.replacen("\"status\": 200", "\"status\": 500", 1);
        let e = import(bad.as_bytes(), None).unwrap_err();
        assert_eq!(e.place, "$.captures[0]");
        assert!(
            e.message.contains("500") && e.message.contains("GET /orgs/acme/members"),
            "{e}"
        );
        // 404 is fine for protection only.
        let bad = BUNDLE.replacen("\"status\": 404", "\"status\": 403", 1);
        let e = import(bad.as_bytes(), None).unwrap_err();
        assert_eq!(e.place, "$.captures[6]");
        // The same member twice in the unfiltered list, across pages.
        let bad = BUNDLE.replacen("[{\"login\": \"cy\"", "[{\"login\": \"ANA\"", 1);
        let e = import(bad.as_bytes(), None).unwrap_err();
        assert_eq!(e.place, "$.captures[1].body[0].login");
        assert!(
            e.message.contains("already at $.captures[0].body[0].login"),
            "{e}"
        );
        // The same pull request twice.
        let bad = BUNDLE.replacen("\"number\": 2,", "\"number\": 1,", 1);
        let e = import(bad.as_bytes(), None).unwrap_err();
        assert_eq!(e.place, "$.captures[7].body[1].number");
        assert!(e.message.contains("$.captures[7].body[0].number"), "{e}");
        // An unknown review state.
        let bad = BUNDLE.replacen("\"CHANGES_REQUESTED\"", "\"LGTM\"", 1);
        let e = import(bad.as_bytes(), None).unwrap_err();
        assert_eq!(e.place, "$.captures[8].body[0].state");
        assert!(
            e.message.contains("'LGTM' is not a GitHub review state"),
            "{e}"
        );
        // A bundle from another system, forced as GitHub.
        let bad = BUNDLE.replacen("\"system\": \"github\"", "\"system\": \"aws\"", 1);
        assert_eq!(detect(bad.as_bytes()), None);
        let e = import(bad.as_bytes(), Some(ImportKind::GithubJson)).unwrap_err();
        assert_eq!(e.place, "$.system");
        // A version Vouch does not read.
        let bad = BUNDLE.replacen("\"vouch_capture\": 1", "\"vouch_capture\": 2", 1);
        let e = import(bad.as_bytes(), None).unwrap_err();
        assert_eq!(e.place, "$.vouch_capture");
        // Cut off.
        let e = import(&BUNDLE.as_bytes()[..BUNDLE.len() / 2], None).unwrap_err();
        assert!(e.place.starts_with("line "), "{e}");
        assert!(e.message.contains("truncated"), "{e}");
        // Forced as something else.
        let e = import(BUNDLE.as_bytes(), Some(ImportKind::OktaJson)).unwrap_err();
        assert_eq!(e.message, "this is a GitHub export, not an Okta export");
    }
}
