//! The GitHub capture bundle: members, admins, members without 2FA, repositories, branch
//! protection, closed pull requests and their reviews.
use crate::people::{Rank, World};
use crate::{Bundle, Ctx, Out, Size, fmt_z, hex};
use rand::Rng;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io;

/// The machine user that opens dependency bumps; nobody in HR owns it.
pub const BOT_LOGIN: &str = "ci-bot";
const BOT_ID: u64 = 98_765_432;

const REPO_NAMES: [&str; 24] = [
    "patient-portal",
    "care-api",
    "infra",
    "mobile-app",
    "scheduling-service",
    "billing-service",
    "fhir-gateway",
    "notifications",
    "design-system",
    "data-pipeline",
    "identity-service",
    "clinician-dashboard",
    "lab-results",
    "messaging",
    "analytics",
    "docs",
    "terraform-modules",
    "e2e-tests",
    "admin-console",
    "video-visits",
    "prescriptions",
    "insurance-eligibility",
    "search-service",
    "audit-log",
];

const LANGS: [&str; 6] = ["TypeScript", "Go", "Python", "Kotlin", "HCL", "Rust"];

const VERBS: [&str; 8] = [
    "Add", "Fix", "Refactor", "Update", "Remove", "Improve", "Handle", "Speed up",
];
const THINGS: [&str; 24] = [
    "appointment reminders",
    "patient search pagination",
    "FHIR export of encounters",
    "audit log retention",
    "login rate limiting",
    "billing webhook retries",
    "care plan editor",
    "lab results parser",
    "SSO session timeout",
    "Terraform state locking",
    "CI cache keys",
    "access logging for PHI reads",
    "timezone handling in scheduling",
    "error boundary in dashboard",
    "nightly backup job",
    "insurance eligibility check",
    "push notification opt-out",
    "clinician availability view",
    "database connection pool size",
    "feature flag for video visits",
    "PDF rendering of invoices",
    "input validation on intake form",
    "metrics for queue latency",
    "flaky end-to-end test",
];
const DEPS: [(&str, &str, &str); 8] = [
    ("axios", "1.6.8", "1.7.4"),
    ("express", "4.19.2", "4.21.1"),
    ("golang.org/x/net", "0.23.0", "0.33.0"),
    ("urllib3", "2.2.1", "2.2.3"),
    ("jsonwebtoken", "9.0.0", "9.0.2"),
    ("react-router-dom", "6.22.3", "6.26.2"),
    ("cryptography", "42.0.5", "43.0.1"),
    ("hashicorp/aws", "5.40.0", "5.72.1"),
];

fn b64(input: &[u8]) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in input.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for k in 0..4 {
            if k <= c.len() {
                s.push(T[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// What the connector appends for page `k` (from 0) when it follows `Link: rel="next"`.
fn next_page(k: usize) -> String {
    if k == 0 {
        String::new()
    } else {
        format!("&page={}", k + 1)
    }
}

/// Archived repositories: the connector reads no protection or pull requests for them.
fn archived(i: usize) -> bool {
    i >= 8 && i % 25 == 13
}

fn member(login: &str, id: u64) -> Value {
    json!({
        "login": login,
        "id": id,
        "node_id": b64(format!("04:User{id}").as_bytes()),
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{id}?v=4"),
        "gravatar_id": "",
        "url": format!("https://api.github.com/users/{login}"),
        "html_url": format!("https://github.com/{login}"),
        "type": "User",
        "site_admin": false,
    })
}

fn user(login: &str, id: u64) -> Value {
    json!({"login": login, "id": id, "type": "User", "site_admin": false})
}

struct Repo {
    id: u64,
    name: String,
    branch: &'static str,
    protected: bool,
    archived: bool,
    prs: usize,
}

/// Who may author and review: an index into people, or the bot.
#[derive(Clone, Copy, PartialEq)]
enum Who {
    P(usize),
    Bot,
}

struct Pr {
    number: u64,
    created: i64,
    closed: i64,
    updated: i64,
    merged: bool,
    author: Who,
    merged_by: Who,
    title: String,
    branch: String,
    head_sha: String,
    merge_sha: Option<String>,
    planted: bool,
}

/// Writes the bundle; returns the planted unreviewed merge, `org/repo#n`.
pub fn write_bundle(
    ctx: &Ctx,
    world: &World,
    size: &Size,
    out: &mut Out,
    counts: &mut BTreeMap<String, u64>,
) -> io::Result<String> {
    let org = ctx.company.github_org.clone();
    let people = &world.people;
    let mut b = Bundle::start(out, "github", ctx.now, 4)?;

    // Members, sorted by login as GitHub lists them.
    let mut members: Vec<(String, u64, Option<usize>)> = (0..people.len())
        .filter(|&i| world.github_member(i))
        .map(|i| (people[i].login.clone(), people[i].github_id, Some(i)))
        .collect();
    members.push((BOT_LOGIN.into(), BOT_ID, None));
    members.sort_by_key(|m| m.0.to_lowercase());
    let pages = |what: &[&(String, u64, Option<usize>)]| -> Vec<Value> {
        what.chunks(100)
            .map(|c| Value::Array(c.iter().map(|m| member(&m.0, m.1)).collect()))
            .collect()
    };
    let all: Vec<&(String, u64, Option<usize>)> = members.iter().collect();
    for (k, page) in pages(&all).iter().enumerate() {
        b.capture(
            &format!("GET /orgs/{org}/members?per_page=100{}", next_page(k)),
            200,
            page,
        )?;
    }
    let admins: Vec<&(String, u64, Option<usize>)> = members
        .iter()
        .filter(|m| m.2.is_some_and(|i| people[i].github_admin))
        .collect();
    let no_2fa: Vec<&(String, u64, Option<usize>)> = members
        .iter()
        .filter(|m| m.2.is_none_or(|i| !people[i].github_2fa))
        .collect();
    for (filter, list) in [("role=admin", &admins), ("filter=2fa_disabled", &no_2fa)] {
        let mut p = pages(list);
        if p.is_empty() {
            p.push(json!([]));
        }
        for (k, page) in p.iter().enumerate() {
            b.capture(
                &format!(
                    "GET /orgs/{org}/members?{filter}&per_page=100{}",
                    next_page(k)
                ),
                200,
                page,
            )?;
        }
    }
    counts.insert("github_members".into(), members.len() as u64);
    counts.insert("github_admins".into(), admins.len() as u64);
    counts.insert("github_2fa_disabled".into(), no_2fa.len() as u64);

    // Repositories.
    let n_repos = size.repositories.max(1);
    let mut rng = ctx.rng(30, 0);
    let weights: Vec<f64> = (0..n_repos)
        .map(|i| {
            if archived(i) {
                0.0
            } else if n_repos >= 2 && i == n_repos - 1 {
                0.35
            } else {
                1.0 / ((i + 1) as f64).powf(0.6) * rng.gen_range(0.6..1.4)
            }
        })
        .collect();
    let wsum: f64 = weights.iter().sum();
    let mut prs_per: Vec<usize> = weights
        .iter()
        .map(|w| (w / wsum * size.pull_requests as f64).floor() as usize)
        .collect();
    let mut left = size.pull_requests - prs_per.iter().sum::<usize>();
    let mut k = 0;
    while left > 0 {
        if archived(k % n_repos) {
            k += 1;
            continue;
        }
        prs_per[k % n_repos] += 1;
        left -= 1;
        k += 1;
    }
    let mut repos = Vec::with_capacity(n_repos);
    let mut repo_values = Vec::with_capacity(n_repos);
    for (i, &prs) in prs_per.iter().enumerate() {
        let mut r = ctx.rng(31, i as u64);
        let name = if i < REPO_NAMES.len() {
            REPO_NAMES[i].to_string()
        } else {
            format!(
                "{}-{}",
                REPO_NAMES[i % REPO_NAMES.len()],
                i / REPO_NAMES.len() + 1
            )
        };
        let id = 600_000_000 + i as u64 * 7919 + r.gen_range(0..7000);
        let branch = if i % 37 == 29 { "master" } else { "main" };
        let protected = if i == 0 {
            true
        } else if n_repos >= 2 && i == n_repos - 1 {
            false
        } else {
            !r.gen_bool(0.1)
        };
        let created = ctx.now - r.gen_range(400..5 * 365) * 86_400 - r.gen_range(0..86_400);
        let pushed = ctx.now - r.gen_range(600..3 * 86_400);
        let visibility = if name == "docs" || name.starts_with("design-system") {
            "public"
        } else if i % 11 == 5 {
            "internal"
        } else {
            "private"
        };
        let enabled = |b: bool| json!({"status": if b {"enabled"} else {"disabled"}});
        repo_values.push(json!({
            "id": id,
            "node_id": b64(format!("010:Repository{id}").as_bytes()),
            "name": name,
            "full_name": format!("{org}/{name}"),
            "private": visibility != "public",
            "owner": {"login": org, "id": 71_234_567, "type": "Organization", "site_admin": false},
            "html_url": format!("https://github.com/{org}/{name}"),
            "description": format!("{} — {}", ctx.company.name, name.replace('-', " ")),
            "fork": false,
            "url": format!("https://api.github.com/repos/{org}/{name}"),
            "created_at": fmt_z(created),
            "updated_at": fmt_z(pushed + 60),
            "pushed_at": fmt_z(pushed),
            "language": LANGS[r.gen_range(0..LANGS.len())],
            "archived": archived(i),
            "disabled": false,
            "visibility": visibility,
            "default_branch": branch,
            "security_and_analysis": {
                "secret_scanning": enabled(r.gen_bool(0.8)),
                "secret_scanning_push_protection": enabled(r.gen_bool(0.6)),
                "dependabot_security_updates": enabled(r.gen_bool(0.7)),
            },
        }));
        repos.push(Repo {
            id,
            name,
            branch,
            protected: protected && !archived(i),
            archived: archived(i),
            prs,
        });
    }
    for (k, chunk) in repo_values.chunks(100).enumerate() {
        b.capture(
            &format!("GET /orgs/{org}/repos?per_page=100{}", next_page(k)),
            200,
            &Value::Array(chunk.to_vec()),
        )?;
    }
    drop(repo_values);
    counts.insert("github_repos".into(), repos.len() as u64);
    counts.insert(
        "github_protected_repos".into(),
        repos.iter().filter(|r| r.protected).count() as u64,
    );

    // Who writes code: engineers, security and IT people with GitHub accounts (leavers too,
    // while they were there).
    let devs: Vec<usize> = (0..people.len())
        .filter(|&i| {
            people[i].github
                && matches!(people[i].dept, "Engineering" | "Security" | "IT")
                && people[i].rank != Rank::Ceo
        })
        .collect();
    let fallback = (0..people.len())
        .find(|&i| {
            people[i].github && !people[i].is_leaver() && people[i].start < ctx.days_ago(400)
        })
        .unwrap_or(world.planted_admin);
    let year_start = ctx.now - 365 * 86_400;
    let (mut n_prs, mut n_merged, mut n_reviews) = (0u64, 0u64, 0u64);
    let mut review_id: u64 = 1_700_000_000;
    let mut planted = String::new();

    for (ri, repo) in repos.iter().enumerate() {
        if repo.archived {
            continue;
        }
        let full = format!("{org}/{}", repo.name);
        let branch = repo.branch;
        // Branch protection.
        let mut r = ctx.rng(32, ri as u64);
        let prot_url = format!("https://api.github.com/repos/{full}/branches/{branch}/protection");
        let (status, body) = if repo.protected {
            let approvals = if r.gen_bool(0.2) { 2 } else { 1 };
            let checks = ["ci/build", "ci/test", "lint"];
            (
                200,
                json!({
                    "url": prot_url,
                    "required_status_checks": {
                        "url": format!("{prot_url}/required_status_checks"),
                        "strict": r.gen_bool(0.7),
                        "contexts": checks,
                        "contexts_url": format!("{prot_url}/required_status_checks/contexts"),
                        "checks": checks.iter().map(|c| json!({"context": c, "app_id": 15368})).collect::<Vec<_>>(),
                    },
                    "required_pull_request_reviews": {
                        "url": format!("{prot_url}/required_pull_request_reviews"),
                        "dismiss_stale_reviews": r.gen_bool(0.7),
                        "require_code_owner_reviews": r.gen_bool(0.4),
                        "required_approving_review_count": approvals,
                        "require_last_push_approval": r.gen_bool(0.3),
                    },
                    "enforce_admins": {"url": format!("{prot_url}/enforce_admins"), "enabled": ri != 0 && r.gen_bool(0.5)},
                    "required_signatures": {"url": format!("{prot_url}/required_signatures"), "enabled": false},
                    "required_linear_history": {"enabled": r.gen_bool(0.5)},
                    "allow_force_pushes": {"enabled": false},
                    "allow_deletions": {"enabled": false},
                    "block_creations": {"enabled": false},
                    "required_conversation_resolution": {"enabled": r.gen_bool(0.5)},
                    "lock_branch": {"enabled": false},
                    "allow_fork_syncing": {"enabled": false},
                }),
            )
        } else {
            (
                404,
                json!({
                    "message": "Branch not protected",
                    "documentation_url": "https://docs.github.com/rest/branches/branch-protection#get-branch-protection",
                    "status": "404",
                }),
            )
        };
        b.capture(
            &format!("GET /repos/{full}/branches/{branch}/protection"),
            status,
            &body,
        )?;

        // The repository's team: a window of the developers.
        let team: Vec<usize> = if devs.is_empty() {
            vec![fallback]
        } else {
            let len = devs.len().min(14);
            let off = (ri * 7) % devs.len();
            (0..len).map(|k| devs[(off + k) % devs.len()]).collect()
        };
        let present = |i: usize, t: i64| {
            let p = &people[i];
            crate::Ctx::date_secs(p.start) + 86_400 * 3 <= t
                && p.end.is_none_or(|e| crate::Ctx::date_secs(e) > t)
        };
        let pick = |r: &mut rand::rngs::StdRng, t: i64, not: Option<usize>| -> usize {
            for _ in 0..10 {
                let i = team[r.gen_range(0..team.len())];
                if present(i, t) && Some(i) != not {
                    return i;
                }
            }
            if Some(fallback) != not {
                fallback
            } else {
                world.planted_admin
            }
        };

        // Pull requests, in number order, then listed by update time.
        let n = repo.prs;
        let planted_k = (ri == 0 && n > 0).then(|| n * 2 / 3);
        let mut prs = Vec::with_capacity(n);
        let mut number = ctx.rng(33, ri as u64).gen_range(1..40u64);
        let span = (ctx.now - 7200 - year_start) as f64;
        for k in 0..n {
            let mut r = ctx.rng(34, (ri as u64) << 32 | k as u64);
            number += if r.gen_bool(0.7) {
                1
            } else {
                r.gen_range(2..5)
            };
            let created =
                year_start + ((k as f64 + r.gen_range(0.0..0.9)) / n as f64 * span) as i64;
            let is_planted = planted_k == Some(k);
            let bot = !is_planted && r.gen_bool(0.06);
            let merged = is_planted || r.gen_bool(0.92);
            let took = match r.gen_range(0..100) {
                0..=39 => r.gen_range(1200..4 * 3600),
                40..=84 => r.gen_range(4 * 3600..2 * 86_400),
                _ => r.gen_range(2 * 86_400..10 * 86_400),
            };
            let closed = (created + took).min(ctx.now - 600 - r.gen_range(0..3000));
            let closed = closed.max(created + 300);
            let updated = closed + r.gen_range(0..90);
            let author = if is_planted {
                Who::P(world.planted_admin)
            } else if bot {
                Who::Bot
            } else {
                Who::P(pick(&mut r, created, None))
            };
            let merged_by = if !merged || is_planted {
                author
            } else {
                match author {
                    Who::P(a) if r.gen_bool(0.7) => Who::P(a),
                    Who::P(a) => Who::P(pick(&mut r, closed, Some(a))),
                    Who::Bot => Who::P(pick(&mut r, closed, None)),
                }
            };
            let (title, branch_name) = if bot {
                let (dep, from, to) = DEPS[r.gen_range(0..DEPS.len())];
                (
                    format!("chore(deps): bump {dep} from {from} to {to}"),
                    format!("deps/{}-{to}", dep.replace('/', "-")),
                )
            } else {
                let verb = VERBS[r.gen_range(0..VERBS.len())];
                let thing = THINGS[r.gen_range(0..THINGS.len())];
                let prefix = match verb {
                    "Fix" | "Handle" => "fix",
                    "Refactor" | "Remove" => "chore",
                    _ => "feature",
                };
                (
                    format!("{verb} {thing}"),
                    format!(
                        "{prefix}/{}-{}",
                        thing.replace(' ', "-").to_lowercase(),
                        number
                    ),
                )
            };
            prs.push(Pr {
                number,
                created,
                closed,
                updated,
                merged,
                author,
                merged_by,
                title,
                branch: branch_name,
                head_sha: hex(&mut r, 40),
                merge_sha: merged.then(|| hex(&mut r, 40)),
                planted: is_planted,
            });
        }
        prs.sort_by(|a, b| b.updated.cmp(&a.updated).then(b.number.cmp(&a.number)));
        let who = |w: Who| match w {
            Who::P(i) => (people[i].login.as_str(), people[i].github_id),
            Who::Bot => (BOT_LOGIN, BOT_ID),
        };
        let base_repo =
            json!({"id": repo.id, "name": repo.name, "full_name": full, "private": true});
        for (pi, chunk) in prs.chunks(100).enumerate() {
            let items: Vec<Value> = chunk
                .iter()
                .map(|p| {
                    let (login, uid) = who(p.author);
                    let merged_by = p.merged.then(|| {
                        let (l, id) = who(p.merged_by);
                        user(l, id)
                    });
                    json!({
                        "url": format!("https://api.github.com/repos/{full}/pulls/{}", p.number),
                        "id": 1_400_000_000u64 + repo.id % 1000 * 100_000 + p.number,
                        "html_url": format!("https://github.com/{full}/pull/{}", p.number),
                        "number": p.number,
                        "state": "closed",
                        "locked": false,
                        "title": p.title,
                        "user": user(login, uid),
                        "labels": [],
                        "created_at": fmt_z(p.created),
                        "updated_at": fmt_z(p.updated),
                        "closed_at": fmt_z(p.closed),
                        "merged_at": p.merged.then(|| fmt_z(p.closed)),
                        "merge_commit_sha": p.merge_sha,
                        "merged_by": merged_by,
                        "draft": false,
                        "head": {"label": format!("{org}:{}", p.branch), "ref": p.branch, "sha": p.head_sha},
                        "base": {"label": format!("{org}:{branch}"), "ref": branch, "repo": base_repo},
                        "author_association": "MEMBER",
                    })
                })
                .collect();
            let page = Value::Array(items);
            b.capture(
                &format!(
                    "GET /repos/{full}/pulls?state=closed&base={branch}&sort=updated&direction=desc&per_page=100{}",
                    next_page(pi)
                ),
                200,
                &page,
            )?;
        }
        if prs.is_empty() {
            b.capture(
                &format!(
                    "GET /repos/{full}/pulls?state=closed&base={branch}&sort=updated&direction=desc&per_page=100"
                ),
                200,
                &json!([]),
            )?;
        }

        // Reviews of each merged pull request.
        for p in prs.iter().filter(|p| p.merged) {
            n_merged += 1;
            let mut r = ctx.rng(35, (ri as u64) << 32 | p.number);
            let author = match p.author {
                Who::P(i) => Some(i),
                Who::Bot => None,
            };
            let mut reviews: Vec<(usize, &str, i64, String)> = Vec::new();
            let window = (p.closed - p.created).max(120);
            let at = |r: &mut rand::rngs::StdRng, lo: f64, hi: f64| {
                p.created + (window as f64 * r.gen_range(lo..hi)) as i64
            };
            if p.planted {
                // Merged by its author with no review at all.
            } else if r.gen_bool(0.01) {
                // Merged without approval: at most the author's own comment.
                if let Some(a) = author
                    && r.gen_bool(0.5)
                {
                    reviews.push((a, "COMMENTED", at(&mut r, 0.2, 0.9), p.head_sha.clone()));
                }
            } else {
                let reviewer = pick(&mut r, p.created, author);
                if r.gen_bool(0.12) {
                    reviews.push((
                        reviewer,
                        "CHANGES_REQUESTED",
                        at(&mut r, 0.1, 0.4),
                        hex(&mut r, 40),
                    ));
                }
                if r.gen_bool(0.2) {
                    let other = pick(&mut r, p.created, author);
                    if other != reviewer {
                        reviews.push((other, "COMMENTED", at(&mut r, 0.3, 0.6), hex(&mut r, 40)));
                    }
                }
                reviews.push((
                    reviewer,
                    "APPROVED",
                    at(&mut r, 0.6, 0.98),
                    p.head_sha.clone(),
                ));
                if r.gen_bool(0.1) {
                    let other = pick(&mut r, p.created, author);
                    if other != reviewer {
                        reviews.push((
                            other,
                            "APPROVED",
                            at(&mut r, 0.6, 0.99),
                            p.head_sha.clone(),
                        ));
                    }
                }
                reviews.sort_by_key(|x| x.2);
            }
            let body: Vec<Value> = reviews
                .iter()
                .map(|(i, state, t, sha)| {
                    review_id += 1 + r.gen_range(0..50);
                    n_reviews += 1;
                    let rp = &people[*i];
                    json!({
                        "id": review_id,
                        "node_id": format!("PRR_kwDO{}", crate::alnum(&mut r, 10)),
                        "user": user(&rp.login, rp.github_id),
                        "body": if *state == "APPROVED" { "" } else { "Left a few comments." },
                        "state": state,
                        "html_url": format!("https://github.com/{full}/pull/{}#pullrequestreview-{review_id}", p.number),
                        "pull_request_url": format!("https://api.github.com/repos/{full}/pulls/{}", p.number),
                        "author_association": "MEMBER",
                        "submitted_at": fmt_z(*t),
                        "commit_id": sha,
                    })
                })
                .collect();
            b.capture(
                &format!("GET /repos/{full}/pulls/{}/reviews?per_page=100", p.number),
                200,
                &Value::Array(body),
            )?;
            if p.planted {
                planted = format!("{full}#{}", p.number);
            }
        }
        n_prs += prs.len() as u64;
    }
    counts.insert("pull_requests".into(), n_prs);
    counts.insert("merged_pull_requests".into(), n_merged);
    counts.insert("reviews".into(), n_reviews);
    counts.insert("github_captures".into(), b.captures);
    b.finish()?;
    Ok(planted)
}
