//! HTTP integration tests: the real router served on loopback, driven with real HTTP (reqwest),
//! on SQLite and on PostgreSQL.
//!
//! Covered: the role matrix of the REST API against `authz::permits`, audit events for every
//! change (and none for a refusal), problem+json for bad input, the sign-in forms (errors, rate
//! limiting, CSRF, idle and absolute expiry, sign-out), TOTP enrolment and second factor with
//! recovery codes, required MFA, first-run setup, API token rules, single sign-on end to end
//! against the loopback identity provider, and the ops endpoints.
//!
//! Time moves with a `ManualClock`, so expiry is tested without sleeping. The PostgreSQL half is
//! skipped (with a message) when no server is reachable outside CI, like the store's suite.
//! The harness (`tests/support/http.rs`) is shared with `tests/controls_api.rs`.

mod support;

use reqwest::header;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;
use support::http::*;
use totp_rs::{Algorithm, Secret, TOTP};
use vouch_app::authz::{Action, permits};
use vouch_app::tokens::{NewToken, TokenView};
use vouch_app::users::{UserPatch, UserView};
use vouch_app::{Actor, Backend};
use vouch_domain::Role;
use vouch_domain::audit::AuditEvent;

/// Small, so the oversized-body test needs only a small body.
const MAX_BODY: usize = 16 * 1024;
const LIMITS: Limits = Limits {
    max_body: MAX_BODY,
    http_timeout: Duration::from_secs(20),
    evidence_max_bytes: 1 << 30,
};
/// Every test gives up after this long.
const TEST_LIMIT: Duration = Duration::from_secs(180);

on_both_backends!(
    TEST_LIMIT;
    role_matrix_follows_the_permission_table,
    bad_input_is_a_clear_problem,
    bad_credentials_are_401_problems,
    sign_in_form_errors_and_csrf,
    sign_in_is_rate_limited,
    sessions_expire_and_sign_out_ends_them,
    totp_second_factor_and_recovery_codes,
    required_mfa_sends_people_to_enrol,
    first_run_setup_works_once,
    token_rules,
    disabling_and_demoting_people_cuts_their_access,
    single_sign_on_end_to_end,
    ui_pages_follow_the_permission_table,
    ops_endpoints,
    a_tampered_audit_log_is_reported_on_its_page,
);

// =====================================================================================
// TOTP helpers
// =====================================================================================

#[track_caller]
fn totp_secret_in(html: &str) -> String {
    between(html, r#"id="totp-secret">"#, "<")
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| panic!("no #totp-secret in the page: {html}"))
        .to_string()
}

#[track_caller]
fn recovery_codes_in(html: &str) -> Vec<String> {
    let block = between(html, r#"id="recovery-codes">"#, "</div>")
        .unwrap_or_else(|| panic!("no #recovery-codes in the page: {html}"));
    block
        .split(r#"<span class="mono">"#)
        .skip(1)
        .map(|s| s.split('<').next().unwrap().trim().to_string())
        .collect()
}

fn totp_for(secret: &str, email: &str) -> TOTP {
    TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        30,
        Secret::Encoded(secret.to_string()).to_bytes().unwrap(),
        Some("Vouch".into()),
        email.to_string(),
    )
    .unwrap()
}

/// The current code at the app's (manual) time.
fn code_now(h: &Harness, t: &TOTP) -> String {
    t.generate(h.app.now().unix_timestamp() as u64)
}

/// A six-digit code that the verifier (one step of skew either way) does not accept now.
fn wrong_code(h: &Harness, t: &TOTP) -> String {
    let now = h.app.now().unix_timestamp() as u64;
    let valid: Vec<String> = [now - 30, now, now + 30]
        .iter()
        .map(|x| t.generate(*x))
        .collect();
    (0u32..)
        .map(|i| format!("{:06}", (123_457 + i * 7_919) % 1_000_000))
        .find(|c| !valid.contains(c))
        .unwrap()
}

/// Enrols the signed-in browser in TOTP and returns (secret, recovery codes).
async fn enrol_totp(h: &Harness, b: &Browser, email: &str) -> (String, Vec<String>) {
    let page = b.get("/account/mfa").await;
    page.expect(200);
    let secret = totp_secret_in(&page.body);
    let csrf = csrf_in(&page.body);
    let code = code_now(h, &totp_for(&secret, email));
    let r = b
        .post_form("/account/mfa", &[("_csrf", &csrf), ("code", &code)])
        .await;
    r.expect(200);
    let codes = recovery_codes_in(&r.body);
    assert_eq!(codes.len(), 10, "ten recovery codes: {codes:?}");
    (secret, codes)
}

// =====================================================================================
// 1 + 2. The role matrix, with audit events for every change and none for a refusal
// =====================================================================================

/// One API call of the matrix: `action` = `None` when every role may make it.
struct Case {
    method: Method,
    path: String,
    body: Option<Value>,
    action: Option<Action>,
    ok: u16,
    /// The audit action a successful call must append (a change), `None` for a read.
    event: Option<&'static str>,
    /// Whether it changes the organisation's state (not only one's own credentials).
    org_write: bool,
}

fn case(method: Method, path: impl Into<String>, action: Option<Action>, ok: u16) -> Case {
    Case {
        path: path.into(),
        body: None,
        action,
        ok,
        event: None,
        org_write: method != Method::GET,
        method,
    }
}

/// A person of `role` holding a token of the same role. Employees may not create tokens, so
/// the employee's token is created while they are a control owner, and kept by the demotion
/// (it gives nothing beyond the employee role).
async fn holder_with_token(h: &Harness, role: Role) -> (UserView, TokenView, String) {
    let email = format!("{}@example.com", role.as_str().replace('_', "."));
    if permits(role, Action::ManageOwnTokens) {
        let u = h.user(&email, role, None).await;
        let (t, s) = h.token(&u, role).await;
        (u, t, s)
    } else {
        let u = h.user(&email, Role::ControlOwner, None).await;
        let (t, s) = h.token(&u, role).await;
        h.set_role(&u, role).await;
        (u, t, s)
    }
}

async fn role_matrix_follows_the_permission_table(backend: Backend) {
    let Some(h) = Harness::start(backend, LIMITS).await else {
        return;
    };
    // Owns the tokens others try to revoke; the target is what others try to change.
    let owner = h.user("owner@example.com", Role::Admin, None).await;
    let target = h.user("target@example.com", Role::Employee, None).await;

    for role in Role::ALL {
        let (holder, own, secret) = holder_with_token(&h, role).await;
        let (victim, victim_secret) = h.token(&owner, Role::Employee).await;
        let mut cases = vec![
            case(Method::GET, "/me", None, 200),
            case(Method::GET, "/criteria", Some(Action::ViewCriteria), 200),
            case(
                Method::GET,
                "/criteria/CC6.1",
                Some(Action::ViewCriteria),
                200,
            ),
            case(Method::GET, "/users", Some(Action::ViewUsers), 200),
            case(
                Method::GET,
                format!("/users/{}", target.id),
                Some(Action::ViewUsers),
                200,
            ),
            case(Method::GET, format!("/users/{}", holder.id), None, 200),
            Case {
                body: Some(json!({
                    "email": format!("new.by.{}@example.com", role.as_str()),
                    "name": "New Person",
                    "role": "employee",
                })),
                event: Some("user.create"),
                ..case(Method::POST, "/users", Some(Action::ManageUsers), 201)
            },
            Case {
                body: Some(json!({"name": format!("Renamed by {}", role.as_str())})),
                event: Some("user.update"),
                ..case(
                    Method::PATCH,
                    format!("/users/{}", target.id),
                    Some(Action::ManageUsers),
                    200,
                )
            },
            case(Method::GET, "/roles", Some(Action::ViewRoles), 200),
            case(Method::GET, "/tokens", Some(Action::ManageOwnTokens), 200),
            case(
                Method::GET,
                "/tokens?all=true",
                Some(Action::ViewAllTokens),
                200,
            ),
            Case {
                event: Some("token.revoke"),
                ..case(
                    Method::DELETE,
                    format!("/tokens/{}", victim.id),
                    Some(Action::RevokeAnyToken),
                    204,
                )
            },
            Case {
                event: Some("user.mfa_reset"),
                ..case(
                    Method::POST,
                    format!("/users/{}/reset-mfa", target.id),
                    Some(Action::ManageUsers),
                    204,
                )
            },
            case(Method::GET, "/audit-log", Some(Action::ViewAuditLog), 200),
            case(
                Method::GET,
                "/audit-log/verify",
                Some(Action::ViewAuditLog),
                200,
            ),
            case(Method::GET, "/settings", Some(Action::ManageSettings), 200),
            Case {
                body: Some(json!({"require_mfa": false})),
                event: Some("settings.update"),
                ..case(Method::PUT, "/settings", Some(Action::ManageSettings), 200)
            },
        ];
        // Last, since it ends the token used for the calls above. Self-service: auditors may.
        cases.push(Case {
            event: Some("token.revoke"),
            org_write: false,
            ..case(
                Method::DELETE,
                format!("/tokens/{}", own.id),
                Some(Action::ManageOwnTokens),
                204,
            )
        });

        for c in &cases {
            let allowed = c.action.is_none_or(|a| permits(role, a));
            let before = h.event_count().await;
            let r = h
                .bearer(&secret, c.method.clone(), &c.path, c.body.as_ref())
                .await;
            let what = format!(
                "{} {} {} as {}",
                c.method,
                c.path,
                c.body.as_ref().map(|b| b.to_string()).unwrap_or_default(),
                role.as_str()
            );
            if allowed {
                assert_eq!(r.status.as_u16(), c.ok, "{what}: {}", r.body);
            } else {
                let p = assert_problem(&r, 403);
                assert!(
                    p["type"].as_str().unwrap().ends_with("/forbidden"),
                    "{what}: {p}"
                );
                assert!(
                    p["detail"].as_str().unwrap().contains("your role"),
                    "{what}: {p}"
                );
            }
            if role == Role::Auditor && c.org_write {
                assert!(
                    !r.status.is_success(),
                    "an auditor changed something: {what}"
                );
            }
            let after = h.event_count().await;
            match (allowed, c.event) {
                (true, Some(action)) => {
                    assert_eq!(after, before + 1, "{what} must append one audit event");
                    let e = h.last_event().await;
                    assert_eq!(e.action, action, "{what}");
                    assert_eq!(e.actor, format!("token:{}", own.id), "{what}");
                    assert!(
                        e.actor_label.contains(&holder.email),
                        "{what}: {}",
                        e.actor_label
                    );
                }
                _ => assert_eq!(after, before, "{what} must not append an audit event"),
            }
        }

        // What the successful calls returned.
        let me = h.bearer(&victim_secret, Method::GET, "/me", None).await;
        if permits(role, Action::RevokeAnyToken) {
            assert_problem(&me, 401);
        } else {
            me.expect(200);
        }
        let own_after = h.bearer(&secret, Method::GET, "/me", None).await;
        if permits(role, Action::ManageOwnTokens) {
            assert_problem(&own_after, 401);
        } else {
            // An employee may not revoke their own token; an administrator can.
            own_after.expect(200);
            h.app.revoke_token(&Actor::cli(), &own.id).await.unwrap();
            assert_problem(&h.bearer(&secret, Method::GET, "/me", None).await, 401);
        }
    }

    // What each endpoint returns, read with a fresh administrator token.
    let (_, admin) = h.token(&owner, Role::Admin).await;
    let me = h.bearer(&admin, Method::GET, "/me", None).await;
    me.expect(200);
    let me = me.json();
    assert_eq!(me["role"], "admin");
    assert_eq!(me["user"]["email"], "owner@example.com");
    assert_eq!(
        me["permissions"].as_array().unwrap().len(),
        Action::ALL.len()
    );
    let criteria = h
        .bearer(&admin, Method::GET, "/criteria", None)
        .await
        .json();
    assert_eq!(
        criteria.as_array().unwrap().len(),
        61,
        "the 61 SOC 2 criteria"
    );
    let roles = h.bearer(&admin, Method::GET, "/roles", None).await.json();
    let roles = roles.as_array().unwrap();
    assert_eq!(roles.len(), 5);
    for row in roles {
        let role: Role = serde_json::from_value(row["role"].clone()).unwrap();
        let listed: Vec<Action> = row["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                Action::ALL
                    .into_iter()
                    .find(|x| json!(x) == *a)
                    .expect("a known action")
            })
            .collect();
        let expected: Vec<Action> = Action::ALL
            .into_iter()
            .filter(|a| permits(role, *a))
            .collect();
        assert_eq!(
            listed, expected,
            "GET /roles for {role:?} matches authz::permits"
        );
    }
    let users = h.bearer(&admin, Method::GET, "/users", None).await.json();
    let t = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == json!(target.id))
        .unwrap();
    assert_eq!(
        t["name"], "Renamed by admin",
        "only the administrator's rename happened"
    );
    for u in users.as_array().unwrap() {
        assert!(
            u.get("password_hash").is_none() && u.get("totp_secret").is_none(),
            "{u}"
        );
    }
    let created: Vec<&str> = users
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u["email"].as_str())
        .filter(|e| e.starts_with("new.by."))
        .collect();
    assert_eq!(created, vec!["new.by.admin@example.com"]);

    // The chain verifies through the API too, and counts every event.
    let v = h
        .bearer(&admin, Method::GET, "/audit-log/verify", None)
        .await;
    v.expect(200);
    let v = v.json();
    assert_eq!(v["ok"], true);
    assert_eq!(v["events"], json!(h.event_count().await));
    let log = h
        .bearer(
            &admin,
            Method::GET,
            "/audit-log?action=user.update&limit=1000",
            None,
        )
        .await;
    let log = log.json();
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .all(|e| e["action"] == "user.update")
    );
    assert!(log
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["object_id"] == json!(target.id) && e["after"]["name"] == "Renamed by admin"));
    h.finish().await;
}

// =====================================================================================
// 3. Bad input
// =====================================================================================

async fn bad_input_is_a_clear_problem(backend: Backend) {
    let Some(h) = Harness::start(backend, LIMITS).await else {
        return;
    };
    let admin = h
        .user("admin@example.com", Role::Admin, Some(PASSWORD))
        .await;
    let (_, tok) = h.token(&admin, Role::Admin).await;
    let count = h.event_count().await;
    let ct_json = Some("application/json");

    // Malformed JSON.
    let p = assert_problem(
        &h.raw(&tok, Method::POST, "/users", ct_json, r#"{"email": "#)
            .await,
        400,
    );
    assert!(
        p["type"].as_str().unwrap().ends_with("malformed-json"),
        "{p}"
    );
    // An unknown field, named in the detail.
    let body = r#"{"email":"a@example.com","name":"A","role":"employee","is_admin":true}"#;
    let p = assert_problem(
        &h.raw(&tok, Method::POST, "/users", ct_json, body).await,
        422,
    );
    assert!(p["detail"].as_str().unwrap().contains("is_admin"), "{p}");
    // A wrong type, and a role that does not exist.
    let body = r#"{"email":5,"name":"A","role":"employee"}"#;
    assert_problem(
        &h.raw(&tok, Method::POST, "/users", ct_json, body).await,
        422,
    );
    let body = r#"{"email":"a@example.com","name":"A","role":"superuser"}"#;
    assert_problem(
        &h.raw(&tok, Method::POST, "/users", ct_json, body).await,
        422,
    );
    let body = r#"{"require_mfa":"yes"}"#;
    assert_problem(
        &h.raw(&tok, Method::PUT, "/settings", ct_json, body).await,
        422,
    );
    // Without a JSON content type.
    let body = r#"{"email":"a@example.com","name":"A","role":"employee"}"#;
    let p = assert_problem(
        &h.raw(&tok, Method::POST, "/users", Some("text/plain"), body)
            .await,
        415,
    );
    assert!(
        p["detail"].as_str().unwrap().contains("application/json"),
        "{p}"
    );
    assert_problem(&h.raw(&tok, Method::POST, "/users", None, body).await, 415);
    // Over the body limit.
    let big = json!({"email": "big@example.com", "name": "x".repeat(MAX_BODY), "role": "employee"});
    let big = serde_json::to_vec(&big).unwrap();
    assert!(big.len() > MAX_BODY);
    assert_problem(
        &h.raw(&tok, Method::POST, "/users", ct_json, big).await,
        413,
    );
    // Invalid values, each named.
    let r = h
        .bearer(
            &tok,
            Method::POST,
            "/users",
            Some(&json!({
                "email": "not-an-email", "name": "  ", "role": "employee", "password": "short"
            })),
        )
        .await;
    let p = assert_problem(&r, 422);
    let mut fields = error_fields(&p);
    fields.sort();
    assert_eq!(fields, ["email", "name", "password"], "{p}");
    // A duplicate email (in another case), named.
    let new = json!({"email": "dup@example.com", "name": "Dup", "role": "employee"});
    h.bearer(&tok, Method::POST, "/users", Some(&new))
        .await
        .expect(201);
    let count_after_create = h.event_count().await;
    assert_eq!(count_after_create, count + 1);
    let again = json!({"email": "DUP@example.com", "name": "Dup", "role": "auditor"});
    let p = assert_problem(
        &h.bearer(&tok, Method::POST, "/users", Some(&again)).await,
        422,
    );
    assert_eq!(error_fields(&p), ["email"], "{p}");
    // Invalid changes.
    let dup_id = h
        .app
        .list_users(&Actor::cli())
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.email == "dup@example.com")
        .unwrap()
        .id;
    let p = assert_problem(
        &h.bearer(
            &tok,
            Method::PATCH,
            &format!("/users/{dup_id}"),
            Some(&json!({"status": "asleep"})),
        )
        .await,
        422,
    );
    assert_eq!(error_fields(&p), ["status"]);
    let p = assert_problem(
        &h.bearer(
            &tok,
            Method::PATCH,
            &format!("/users/{dup_id}"),
            Some(&json!({"password": "tiny"})),
        )
        .await,
        422,
    );
    assert_eq!(error_fields(&p), ["password"]);
    assert_problem(
        &h.bearer(
            &tok,
            Method::PATCH,
            "/users/no-such-user",
            Some(&json!({"name": "X"})),
        )
        .await,
        404,
    );
    assert_problem(
        &h.bearer(&tok, Method::GET, "/users/no-such-user", None)
            .await,
        404,
    );
    assert_problem(
        &h.bearer(&tok, Method::DELETE, "/tokens/no-such-token", None)
            .await,
        404,
    );
    assert_problem(
        &h.bearer(&tok, Method::GET, "/criteria/XX9.9", None).await,
        404,
    );
    // The last administrator cannot be demoted.
    let p = assert_problem(
        &h.bearer(
            &tok,
            Method::PATCH,
            &format!("/users/{}", admin.id),
            Some(&json!({"role": "auditor"})),
        )
        .await,
        409,
    );
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("last active administrator"),
        "{p}"
    );
    // Unknown endpoints under /api.
    for path in ["/api/v1/nope", "/api/v2/users", "/api/"] {
        let r = send(h.http.get(h.url(path)).bearer_auth(&tok)).await;
        let p = assert_problem(&r, 404);
        assert!(p["type"].as_str().unwrap().ends_with("not-found"), "{p}");
    }
    // A method the endpoint does not have: 405, never a 500.
    let r = h.bearer(&tok, Method::PUT, "/me", None).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{}", r.body);
    // Bad queries.
    let p = assert_problem(
        &h.bearer(&tok, Method::GET, "/criteria?category=nope", None)
            .await,
        400,
    );
    assert!(p["detail"].as_str().unwrap().contains("nope"), "{p}");
    let sec = h
        .bearer(&tok, Method::GET, "/criteria?category=security", None)
        .await
        .json();
    assert!(!sec.as_array().unwrap().is_empty());
    assert!(
        sec.as_array()
            .unwrap()
            .iter()
            .all(|c| c["category"] == "security")
    );
    assert_problem(
        &h.bearer(&tok, Method::GET, "/audit-log?from=yesterday", None)
            .await,
        400,
    );
    for q in [
        "/criteria?colour=red",
        "/tokens?all=maybe",
        "/audit-log?limit=lots",
        "/audit-log?before=x",
    ] {
        assert_problem(&h.bearer(&tok, Method::GET, q, None).await, 400);
    }
    // None of the refusals changed anything.
    assert_eq!(h.event_count().await, count_after_create);
    assert_eq!(h.app.list_users(&Actor::cli()).await.unwrap().len(), 2);
    h.finish().await;
}

async fn bad_credentials_are_401_problems(backend: Backend) {
    let Some(h) = Harness::start(backend, LIMITS).await else {
        return;
    };
    let admin = h
        .user("admin@example.com", Role::Admin, Some(PASSWORD))
        .await;
    // No credentials, a malformed header, unknown tokens.
    let r = send(h.http.get(h.url("/api/v1/me"))).await;
    assert_problem(&r, 401);
    for auth in [
        "Basic YWRtaW46cGFzcw==",
        "Bearer",
        "Bearer vouch_not-a-real-token",
        "Bearer not-even-prefixed",
        "vouch_abc",
    ] {
        let p = assert_problem(&h.api(auth, Method::GET, "/me", None).await, 401);
        assert!(
            p["type"].as_str().unwrap().ends_with("unauthenticated"),
            "{auth}: {p}"
        );
    }
    // A revoked token.
    let (t, secret) = h.token(&admin, Role::Admin).await;
    h.bearer(&secret, Method::GET, "/me", None)
        .await
        .expect(200);
    h.app
        .revoke_token(&user_actor(&admin), &t.id)
        .await
        .unwrap();
    let p = assert_problem(&h.bearer(&secret, Method::GET, "/me", None).await, 401);
    assert!(p["detail"].as_str().unwrap().contains("revoked"), "{p}");
    // An expired token (the clock moves past its expiry).
    let expires = vouch_domain::time_fmt::format(h.app.now() + time::Duration::hours(1));
    let (_, secret) = h.token_expiring(&admin, Role::Auditor, Some(expires)).await;
    h.bearer(&secret, Method::GET, "/me", None)
        .await
        .expect(200);
    h.advance(time::Duration::minutes(59));
    h.bearer(&secret, Method::GET, "/criteria", None)
        .await
        .expect(200);
    h.advance(time::Duration::minutes(2));
    assert_problem(&h.bearer(&secret, Method::GET, "/me", None).await, 401);
    // A token whose expiry is in the past cannot be created.
    let past = vouch_domain::time_fmt::format(h.app.now() - time::Duration::minutes(1));
    let e = h
        .app
        .create_token(
            &user_actor(&admin),
            NewToken {
                name: "old".into(),
                role: Role::Auditor,
                expires_at: Some(past),
            },
        )
        .await;
    assert!(
        matches!(e, Err(vouch_app::AppError::Validation(_))),
        "{e:?}"
    );

    // A browser session: reads need no CSRF header, changes do.
    let b = h.signed_in("admin@example.com").await;
    b.api(Method::GET, "/me", None, None).await.expect(200);
    let other = h.signed_in("admin@example.com").await;
    let other_csrf = other.csrf().await;
    let count = h.event_count().await;
    let new = json!({"email": "csrf@example.com", "name": "Csrf", "role": "employee"});
    let p = assert_problem(&b.api(Method::POST, "/users", Some(&new), None).await, 403);
    assert!(p["type"].as_str().unwrap().ends_with("csrf"), "{p}");
    let forged = "A".repeat(32);
    assert_problem(
        &b.api(Method::POST, "/users", Some(&new), Some(&forged))
            .await,
        403,
    );
    assert_problem(
        &b.api(
            Method::PUT,
            "/settings",
            Some(&json!({"require_mfa": true})),
            Some(""),
        )
        .await,
        403,
    );
    // Another session's token does not pass either.
    assert_problem(
        &b.api(Method::POST, "/users", Some(&new), Some(&other_csrf))
            .await,
        403,
    );
    assert_eq!(
        h.event_count().await,
        count,
        "refused changes leave no event"
    );
    assert!(!h.app.require_mfa().await.unwrap());
    let csrf = b.csrf().await;
    b.api(Method::POST, "/users", Some(&new), Some(&csrf))
        .await
        .expect(201);
    assert_eq!(h.event_count().await, count + 1);
    let e = h.last_event().await;
    assert_eq!(
        (e.action.as_str(), e.actor.clone()),
        ("user.create", format!("user:{}", admin.id))
    );
    h.finish().await;
}

// =====================================================================================
// 4. Sign-in through the forms
// =====================================================================================

async fn sign_in_form_errors_and_csrf(backend: Backend) {
    let Some(h) = Harness::start(backend, LIMITS).await else {
        return;
    };
    let alice = h
        .user("alice@example.com", Role::ControlOwner, Some(PASSWORD))
        .await;
    let b = h.browser();

    // Not signed in: pages send you to sign in and come back.
    let r = b.get("/criteria?category=security").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        r.location(),
        "/login?next=%2Fcriteria%3Fcategory%3Dsecurity"
    );

    // A wrong password: the form again with a message, and no session.
    let before = h.event_count().await;
    let r = b
        .login("alice@example.com", "wrong password, quite long")
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    assert!(r.body.contains(r#"id="login-error""#), "{}", r.body);
    assert!(
        r.body.contains("the email or password is wrong"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains(r#"value="alice@example.com""#),
        "the email is kept"
    );
    assert!(r.set_cookie("vouch_session").is_none());
    assert!(b.cookie("vouch_session").is_none());
    assert_eq!(b.get("/").await.status, StatusCode::SEE_OTHER);
    // An unknown account reads the same.
    let r = b.login("nobody@example.com", PASSWORD).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.body.contains("the email or password is wrong"));
    assert_eq!(
        h.event_count().await,
        before,
        "failed sign-ins change nothing"
    );

    // Without the pre-sign-in cookie, or with a token that does not match it: refused.
    let stranger = h.browser();
    let token = "f".repeat(48);
    let r = stranger
        .post_form(
            "/login",
            &[
                ("_csrf", &token),
                ("email", "alice@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(r.body.contains("CSRF"), "{}", r.body);
    assert!(r.set_cookie("vouch_session").is_none());
    let c = h.browser();
    c.get("/login").await.expect(200);
    assert!(
        c.cookie("vouch_pre").is_some(),
        "the sign-in page sets the pre-session cookie"
    );
    let r = c
        .post_form(
            "/login",
            &[
                ("_csrf", &token),
                ("email", "alice@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(c.cookie("vouch_session").is_none());
    // Without the field at all: a readable 4xx page, not a 500.
    let r = c
        .post_form(
            "/login",
            &[("email", "alice@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert!(r.status.is_client_error(), "{} {}", r.status, r.body);
    assert!(c.cookie("vouch_session").is_none());
    assert_eq!(h.event_count().await, before);

    // The right password: a session cookie, back where you were going.
    let r = b
        .login_with_next("alice@example.com", PASSWORD, "/criteria")
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/criteria");
    let set = r
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("vouch_session="))
        .expect("a session cookie")
        .to_string();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Path=/"),
        "{set}"
    );
    let home = b.get("/").await;
    home.expect(200);
    assert!(
        home.body.contains("Alice"),
        "the dashboard shows who is signed in"
    );
    let e = h.last_event().await;
    assert_eq!(e.action, "session.login");
    assert_eq!(e.object_id, alice.id);
    assert_eq!(e.after.as_ref().unwrap()["method"], "password");
    // A link to another site is not followed after sign-in.
    let d = h.browser();
    let r = d
        .login_with_next("alice@example.com", PASSWORD, "//evil.example/")
        .await;
    assert_eq!(r.location(), "/");
    let r = d
        .login_with_next("alice@example.com", PASSWORD, "https://evil.example/")
        .await;
    assert_eq!(r.location(), "/");
    // A control owner sees the pages their role allows, and not the others.
    assert_eq!(b.get("/criteria").await.status, StatusCode::OK);
    assert_eq!(b.get("/users").await.status, StatusCode::FORBIDDEN);
    assert_eq!(b.get("/settings").await.status, StatusCode::FORBIDDEN);
    h.finish().await;
}

async fn sign_in_is_rate_limited(backend: Backend) {
    let Some(h) = Harness::start(backend, LIMITS).await else {
        return;
    };
    h.user("bob@example.com", Role::Employee, Some(PASSWORD))
        .await;
    h.user("carol@example.com", Role::Employee, Some(PASSWORD))
        .await;
    let b = h.browser();
    for i in 0..5 {
        let r = b
            .login("bob@example.com", &format!("wrong password number {i}"))
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "attempt {i}: {}",
            r.body
        );
    }
    // The sixth attempt is refused even with the right password.
    let r = b.login("bob@example.com", PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert!(r.body.contains("too many attempts"), "{}", r.body);
    let retry: u64 = r
        .headers
        .get(header::RETRY_AFTER)
        .expect("a 429 says when to retry (Retry-After)")
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=15 * 60).contains(&retry), "Retry-After {retry}");
    assert!(r.set_cookie("vouch_session").is_none());
    assert!(b.cookie("vouch_session").is_none());
    // Other people at the same address are not locked out by one account's failures...
    let r = h.browser().login("carol@example.com", PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // ...but one address guessing across many accounts is slowed down (ten times the
    // per-account limit).
    for i in 0..45 {
        let r = h
            .browser()
            .login(&format!("nobody{i}@example.com"), "wrong password!!")
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "attempt {i}: {}",
            r.body
        );
    }
    let r = h.browser().login("carol@example.com", PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    // Still refused a little later; allowed once the window has passed.
    h.advance(time::Duration::minutes(10));
    assert_eq!(
        b.login("bob@example.com", PASSWORD).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    h.advance(time::Duration::minutes(5) + time::Duration::seconds(1));
    let r = b.login("bob@example.com", PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    b.get("/").await.expect(200);
    h.finish().await;
}

async fn sessions_expire_and_sign_out_ends_them(backend: Backend) {
    let Some(h) = Harness::start(backend, LIMITS).await else {
        return;
    };
    let dave = h
        .user("dave@example.com", Role::ComplianceLead, Some(PASSWORD))
        .await;

    // Idle expiry: activity slides it; eight idle hours end it.
    let b = h.signed_in("dave@example.com").await;
    b.get("/").await.expect(200);
    h.advance(time::Duration::hours(7) + time::Duration::minutes(59));
    b.get("/").await.expect(200);
    h.advance(time::Duration::hours(7) + time::Duration::minutes(59));
    b.get("/").await.expect(200);
    h.advance(time::Duration::hours(8) + time::Duration::minutes(1));
    let r = b.get("/criteria").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/login?next=%2Fcriteria");
    assert_problem(&b.api(Method::GET, "/me", None, None).await, 401);

    // Absolute expiry: however active, a session ends 24 hours after sign-in.
    let b = h.signed_in("dave@example.com").await;
    for _ in 0..3 {
        h.advance(time::Duration::hours(7));
        b.get("/").await.expect(200);
    }
    h.advance(time::Duration::hours(3) + time::Duration::minutes(1));
    assert_eq!(b.get("/").await.status, StatusCode::SEE_OTHER);

    // Sign-out: needs the form's CSRF token, then the old cookie no longer works.
    let b = h.signed_in("dave@example.com").await;
    let cookie = b.cookie("vouch_session").expect("a session cookie");
    let r = b
        .post_form("/logout", &[("_csrf", "forged-token-value")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    b.get("/").await.expect(200);
    b.logout().await;
    let e = h.last_event().await;
    assert_eq!(
        (e.action.as_str(), e.object_id.as_str()),
        ("session.logout", dave.id.as_str())
    );
    assert_eq!(b.get("/").await.status, StatusCode::SEE_OTHER);
    let replay = send(
        h.http
            .get(h.url("/"))
            .header(header::COOKIE, format!("vouch_session={cookie}")),
    )
    .await;
    assert_eq!(replay.status, StatusCode::SEE_OTHER);
    assert!(replay.location().starts_with("/login"));
    let replay = send(
        h.http
            .get(h.url("/api/v1/me"))
            .header(header::COOKIE, format!("vouch_session={cookie}")),
    )
    .await;
    assert_problem(&replay, 401);
    h.finish().await;
}

// =====================================================================================
// 5. TOTP
// =====================================================================================

async fn totp_second_factor_and_recovery_codes(backend: Backend) {
    let Some(h) = Harness::start(backend, LIMITS).await else {
        return;
    };
    let email = "erin@example.com";
    let erin = h.user(email, Role::ControlOwner, Some(PASSWORD)).await;
    let b = h.signed_in(email).await;

    // A wrong code does not turn it on; the page offers the same secret again, so the person
    // does not have to scan a new QR code, and reloading it writes nothing.
    let page = b.get("/account/mfa").await;
    page.expect(200);
    let first = totp_secret_in(&page.body);
    let csrf = csrf_in(&page.body);
    let bad = wrong_code(&h, &totp_for(&first, email));
    let r = b
        .post_form("/account/mfa", &[("_csrf", &csrf), ("code", &bad)])
        .await;
    r.expect(422);
    assert!(r.body.contains("that code does not match"), "{}", r.body);
    assert!(
        !h.app
            .get_user(&Actor::cli(), &erin.id)
            .await
            .unwrap()
            .mfa_enabled
    );
    let secret = totp_secret_in(&r.body);
    assert_eq!(secret, first, "the pending secret is offered again");
    let events = h.event_count().await;
    let again = b.get("/account/mfa").await;
    assert_eq!(totp_secret_in(&again.body), first);
    assert_eq!(
        h.event_count().await,
        events,
        "showing the enrolment page again changes nothing"
    );
    let totp = totp_for(&secret, email);
    let r = b
        .post_form(
            "/account/mfa",
            &[("_csrf", &csrf), ("code", &code_now(&h, &totp))],
        )
        .await;
    r.expect(200);
    let codes = recovery_codes_in(&r.body);
    assert_eq!(codes.len(), 10);
    assert!(
        h.app
            .get_user(&Actor::cli(), &erin.id)
            .await
            .unwrap()
            .mfa_enabled
    );
    assert_eq!(h.last_event().await.action, "user.mfa_enabled");
    b.logout().await;

    // Signing in again asks for the code, and nothing else is reachable until it is given.
    // The code used to enrol is spent: a code works once, so move to the next time step.
    h.advance(time::Duration::seconds(30));
    let r = b.login(email, PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/login/mfa");
    for path in ["/", "/criteria", "/account"] {
        let r = b.get(path).await;
        assert_eq!(
            (r.status, r.location()),
            (StatusCode::SEE_OTHER, "/login/mfa"),
            "{path}"
        );
    }
    assert_problem(&b.api(Method::GET, "/me", None, None).await, 401);
    let form = b.get("/login/mfa").await;
    form.expect(200);
    let csrf = csrf_in(&form.body);
    let r = b
        .post_form(
            "/login/mfa",
            &[("_csrf", &csrf), ("code", &wrong_code(&h, &totp))],
        )
        .await;
    r.expect(422);
    assert!(r.body.contains("that code is not valid"), "{}", r.body);
    assert_eq!(b.get("/").await.location(), "/login/mfa");
    let r = b
        .post_form(
            "/login/mfa",
            &[("_csrf", "not-the-token"), ("code", &code_now(&h, &totp))],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = b
        .post_form(
            "/login/mfa",
            &[("_csrf", &csrf), ("code", &code_now(&h, &totp))],
        )
        .await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/"));
    b.get("/").await.expect(200);
    b.api(Method::GET, "/me", None, None).await.expect(200);
    let e = h.last_event().await;
    assert_eq!(e.action, "session.mfa_verified");
    assert_eq!(e.after.unwrap()["method"], "totp");
    let used = code_now(&h, &totp);
    b.logout().await;

    // The same code cannot be replayed within its window by someone who saw it.
    let r = b.login(email, PASSWORD).await;
    assert_eq!(r.location(), "/login/mfa");
    let csrf = csrf_in(&b.get("/login/mfa").await.body);
    let r = b
        .post_form("/login/mfa", &[("_csrf", &csrf), ("code", &used)])
        .await;
    r.expect(422);
    assert_eq!(b.get("/").await.location(), "/login/mfa");
    h.advance(time::Duration::seconds(30));
    let r = b
        .post_form(
            "/login/mfa",
            &[("_csrf", &csrf), ("code", &code_now(&h, &totp))],
        )
        .await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/"));
    b.logout().await;

    // A recovery code works once (in any case and spacing).
    let use_code = |code: String| {
        let b = &b;
        async move {
            let r = b.login(email, PASSWORD).await;
            assert_eq!(r.location(), "/login/mfa");
            let csrf = csrf_in(&b.get("/login/mfa").await.body);
            b.post_form("/login/mfa", &[("_csrf", &csrf), ("code", &code)])
                .await
        }
    };
    let r = use_code(codes[0].clone()).await;
    assert_eq!(
        (r.status, r.location()),
        (StatusCode::SEE_OTHER, "/"),
        "{}",
        r.body
    );
    assert_eq!(
        h.last_event().await.after.unwrap()["method"],
        "recovery_code"
    );
    b.logout().await;
    let r = use_code(codes[0].clone()).await;
    r.expect(422);
    assert_eq!(b.get("/").await.location(), "/login/mfa");
    let r = use_code(format!(" {} ", codes[1].to_uppercase())).await;
    assert_eq!(
        (r.status, r.location()),
        (StatusCode::SEE_OTHER, "/"),
        "{}",
        r.body
    );
    b.get("/").await.expect(200);
    b.logout().await;

    // Guessing codes is slowed down: after five wrong codes even the right one waits.
    assert_eq!(b.login(email, PASSWORD).await.location(), "/login/mfa");
    let csrf = csrf_in(&b.get("/login/mfa").await.body);
    for _ in 0..5 {
        let r = b
            .post_form(
                "/login/mfa",
                &[("_csrf", &csrf), ("code", &wrong_code(&h, &totp))],
            )
            .await;
        r.expect(422);
    }
    let r = b
        .post_form(
            "/login/mfa",
            &[("_csrf", &csrf), ("code", &code_now(&h, &totp))],
        )
        .await;
    r.expect(429);
    let retry: u64 = r
        .headers
        .get(header::RETRY_AFTER)
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=15 * 60).contains(&retry), "Retry-After {retry}");
    assert_eq!(b.get("/").await.location(), "/login/mfa");
    h.advance(time::Duration::minutes(15) + time::Duration::seconds(1));
    let r = b
        .post_form(
            "/login/mfa",
            &[("_csrf", &csrf), ("code", &code_now(&h, &totp))],
        )
        .await;
    assert_eq!(
        (r.status, r.location()),
        (StatusCode::SEE_OTHER, "/"),
        "{}",
        r.body
    );
    h.finish().await;
}

async fn required_mfa_sends_people_to_enrol(backend: Backend) {
    let Some(h) = Harness::start(backend, LIMITS).await else {
        return;
    };
    h.user("admin@example.com", Role::Admin, Some(PASSWORD))
        .await;
    let email = "frank@example.com";
    let frank = h.user(email, Role::Employee, Some(PASSWORD)).await;

    let admin = h.signed_in("admin@example.com").await;
    let csrf = admin.csrf().await;
    let r = admin
        .api(
            Method::PUT,
            "/settings",
            Some(&json!({"require_mfa": true})),
            Some(&csrf),
        )
        .await;
    r.expect(200);
    assert_eq!(r.json(), json!({"require_mfa": true}));
    assert!(h.app.require_mfa().await.unwrap());
    let e = h.last_event().await;
    assert_eq!(e.action, "settings.update");
    assert_eq!(e.after.unwrap(), json!({"require_mfa": true}));
    assert_eq!(
        admin.api(Method::GET, "/settings", None, None).await.json(),
        json!({"require_mfa": true})
    );

    // Frank has no second factor: he is sent to enrol and cannot go anywhere else.
    let b = h.browser();
    let r = b.login(email, PASSWORD).await;
    assert_eq!(
        (r.status, r.location()),
        (StatusCode::SEE_OTHER, "/account/mfa")
    );
    for path in ["/", "/criteria", "/account", "/roles"] {
        let r = b.get(path).await;
        assert_eq!(
            (r.status, r.location()),
            (StatusCode::SEE_OTHER, "/account/mfa"),
            "{path}"
        );
    }
    assert_problem(&b.api(Method::GET, "/me", None, None).await, 401);
    let (_, _) = enrol_totp(&h, &b, email).await;
    assert!(
        h.app
            .get_user(&Actor::cli(), &frank.id)
            .await
            .unwrap()
            .mfa_enabled
    );
    b.get("/").await.expect(200);
    b.api(Method::GET, "/me", None, None).await.expect(200);
    // From now on he signs in with the code.
    b.logout().await;
    assert_eq!(b.login(email, PASSWORD).await.location(), "/login/mfa");
    h.finish().await;
}

// =====================================================================================
// 6. First-run setup
// =====================================================================================

async fn first_run_setup_works_once(backend: Backend) {
    let Some(h) = Harness::start(backend, LIMITS).await else {
        return;
    };
    let token = h
        .app
        .issue_setup_token()
        .await
        .unwrap()
        .expect("a fresh install issues a token");
    let b = h.browser();
    assert_eq!(b.get("/setup").await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        b.get("/setup?token=wrong-token").await.status,
        StatusCode::FORBIDDEN
    );
    let form = b.get(&format!("/setup?token={token}")).await;
    form.expect(200);
    let csrf = csrf_in(&form.body);
    assert!(
        form.body
            .contains(&format!(r#"name="token" value="{token}""#))
    );

    let setup = |tok: String, email: &'static str, password: &'static str| {
        let (b, csrf) = (&b, csrf.clone());
        async move {
            b.post_form(
                "/setup",
                &[
                    ("_csrf", &csrf),
                    ("token", &tok),
                    ("email", email),
                    ("name", "Grace Admin"),
                    ("password", password),
                ],
            )
            .await
        }
    };
    // A wrong token, a short password, a bad CSRF token: nobody is created.
    let r = setup("wrong-token".into(), "grace@example.com", PASSWORD).await;
    assert!(r.status.is_client_error(), "{} {}", r.status, r.body);
    assert!(b.cookie("vouch_session").is_none());
    let r = setup(token.clone(), "grace@example.com", "short").await;
    r.expect(422);
    assert!(r.body.contains("at least 12 characters"), "{}", r.body);
    let r = b
        .post_form(
            "/setup",
            &[
                ("_csrf", "nope"),
                ("token", &token),
                ("email", "grace@example.com"),
                ("name", "Grace"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(h.app.list_users(&Actor::cli()).await.unwrap().is_empty());

    // The right token creates the administrator and signs them in.
    let r = setup(token.clone(), "grace@example.com", PASSWORD).await;
    assert_eq!(
        (r.status, r.location()),
        (StatusCode::SEE_OTHER, "/"),
        "{}",
        r.body
    );
    assert!(r.set_cookie("vouch_session").is_some());
    let home = b.get("/").await;
    home.expect(200);
    assert!(home.body.contains("Grace Admin"));
    let users = h.app.list_users(&Actor::cli()).await.unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(
        (users[0].email.as_str(), users[0].role),
        ("grace@example.com", Role::Admin)
    );
    let actions: Vec<String> = h.events().await.into_iter().map(|e| e.action).collect();
    assert_eq!(
        actions,
        ["setup.token_issued", "user.create", "session.login"]
    );
    // The administrator can use the API straight away.
    let csrf_session = b.csrf().await;
    let r = b
        .api(
            Method::POST,
            "/tokens",
            Some(&json!({"name": "ci", "role": "admin"})),
            Some(&csrf_session),
        )
        .await;
    r.expect(201);

    // The link works once.
    let other = h.browser();
    assert_eq!(
        other.get(&format!("/setup?token={token}")).await.status,
        StatusCode::FORBIDDEN
    );
    let csrf = csrf_in(&other.get("/login").await.body);
    let r = other
        .post_form(
            "/setup",
            &[
                ("_csrf", &csrf),
                ("token", &token),
                ("email", "mallory@example.com"),
                ("name", "Mallory"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert!(r.status.is_client_error(), "{} {}", r.status, r.body);
    assert!(other.cookie("vouch_session").is_none());
    assert_eq!(h.app.list_users(&Actor::cli()).await.unwrap().len(), 1);
    assert!(
        h.app.issue_setup_token().await.unwrap().is_none(),
        "no new token once set up"
    );
    h.finish().await;
}

// =====================================================================================
// 7. Tokens
// =====================================================================================

async fn token_rules(backend: Backend) {
    let Some(h) = Harness::start(backend, LIMITS).await else {
        return;
    };
    let lead = h
        .user("lead@example.com", Role::ComplianceLead, Some(PASSWORD))
        .await;
    h.user("emp@example.com", Role::Employee, Some(PASSWORD))
        .await;
    let b = h.signed_in("lead@example.com").await;
    let csrf = b.csrf().await;
    let count = h.event_count().await;

    // Never above the creator's role, even a role that looks lower but reads more.
    for role in ["admin", "auditor"] {
        let r = b
            .api(
                Method::POST,
                "/tokens",
                Some(&json!({"name": "ci", "role": role})),
                Some(&csrf),
            )
            .await;
        let p = assert_problem(&r, 422);
        assert_eq!(error_fields(&p), ["role"], "{p}");
    }
    let r = b
        .api(
            Method::POST,
            "/tokens",
            Some(&json!({"name": "ci", "role": "employee", "expires_at": "next tuesday"})),
            Some(&csrf),
        )
        .await;
    assert_eq!(error_fields(&assert_problem(&r, 422)), ["expires_at"]);
    let r = b
        .api(
            Method::POST,
            "/tokens",
            Some(&json!({"name": "", "role": "employee"})),
            Some(&csrf),
        )
        .await;
    assert_eq!(error_fields(&assert_problem(&r, 422)), ["name"]);
    assert_eq!(h.event_count().await, count);

    // Within it: created, shown once, works with its own role.
    let r = b
        .api(
            Method::POST,
            "/tokens",
            Some(&json!({"name": "ci", "role": "compliance_lead"})),
            Some(&csrf),
        )
        .await;
    r.expect(201);
    let created = r.json();
    let secret = created["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("vouch_"));
    assert_eq!(created["token"]["role"], "compliance_lead");
    assert!(secret.starts_with(created["token"]["prefix"].as_str().unwrap()));
    assert_eq!(h.event_count().await, count + 1);
    let e = h.last_event().await;
    assert_eq!(
        (e.action.as_str(), e.actor.clone()),
        ("token.create", format!("user:{}", lead.id))
    );
    assert!(
        !e.after.unwrap().to_string().contains(&secret),
        "the secret is not in the log"
    );
    let me = h.bearer(&secret, Method::GET, "/me", None).await.json();
    assert_eq!(me["role"], "compliance_lead");
    assert_eq!(
        me["actor"],
        format!("token:{}", created["token"]["id"].as_str().unwrap())
    );
    let listed = h.bearer(&secret, Method::GET, "/tokens", None).await.json();
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t.get("secret").is_none() && t.get("token_hash").is_none())
    );
    assert_eq!(listed.as_array().unwrap().len(), 1);

    // A token cannot create tokens.
    let r = h
        .bearer(
            &secret,
            Method::POST,
            "/tokens",
            Some(&json!({"name": "child", "role": "employee"})),
        )
        .await;
    let p = assert_problem(&r, 409);
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("not by another token"),
        "{p}"
    );
    assert_eq!(h.event_count().await, count + 1);
    // Employees may not create tokens at all.
    let emp = h.signed_in("emp@example.com").await;
    let emp_csrf = emp.csrf().await;
    let count = h.event_count().await;
    let r = emp
        .api(
            Method::POST,
            "/tokens",
            Some(&json!({"name": "mine", "role": "employee"})),
            Some(&emp_csrf),
        )
        .await;
    assert_problem(&r, 403);
    assert_eq!(h.event_count().await, count);

    // Revoking one's own token through the session.
    let id = created["token"]["id"].as_str().unwrap();
    b.api(Method::DELETE, &format!("/tokens/{id}"), None, Some(&csrf))
        .await
        .expect(204);
    assert_problem(&h.bearer(&secret, Method::GET, "/me", None).await, 401);
    let again = b
        .api(Method::DELETE, &format!("/tokens/{id}"), None, Some(&csrf))
        .await;
    assert_problem(&again, 409);
    let mine = b.api(Method::GET, "/tokens", None, None).await.json();
    assert!(mine[0]["revoked_at"].is_string(), "{mine}");
    h.finish().await;
}

async fn disabling_and_demoting_people_cuts_their_access(backend: Backend) {
    let Some(h) = Harness::start(backend, LIMITS).await else {
        return;
    };
    let admin = h.user("admin@example.com", Role::Admin, None).await;
    let (_, a) = h.token(&admin, Role::Admin).await;

    // Disabling: tokens revoked, sessions ended, no sign-in.
    let ivan = h
        .user("ivan@example.com", Role::ControlOwner, Some(PASSWORD))
        .await;
    let (ivan_tok, ivan_secret) = h.token(&ivan, Role::ControlOwner).await;
    let b = h.signed_in("ivan@example.com").await;
    h.bearer(&ivan_secret, Method::GET, "/me", None)
        .await
        .expect(200);
    let r = h
        .bearer(
            &a,
            Method::PATCH,
            &format!("/users/{}", ivan.id),
            Some(&json!({"status": "disabled"})),
        )
        .await;
    r.expect(200);
    assert_eq!(r.json()["status"], "disabled");
    let e = h.last_event().await;
    assert_eq!(e.action, "user.update");
    assert_eq!(e.before.unwrap()["status"], "active");
    assert_eq!(e.after.unwrap()["status"], "disabled");
    assert_problem(&h.bearer(&ivan_secret, Method::GET, "/me", None).await, 401);
    assert_eq!(b.get("/").await.location(), "/login?next=%2F");
    assert_problem(&b.api(Method::GET, "/me", None, None).await, 401);
    let all = h
        .bearer(&a, Method::GET, "/tokens?all=true", None)
        .await
        .json();
    let t = all
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == json!(ivan_tok.id))
        .unwrap();
    assert!(t["revoked_at"].is_string(), "{t}");
    let r = h.browser().login("ivan@example.com", PASSWORD).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.body.contains("disabled"), "{}", r.body);
    // Re-enabling does not bring the token back.
    h.bearer(
        &a,
        Method::PATCH,
        &format!("/users/{}", ivan.id),
        Some(&json!({"status": "active"})),
    )
    .await
    .expect(200);
    assert_problem(&h.bearer(&ivan_secret, Method::GET, "/me", None).await, 401);
    h.signed_in("ivan@example.com").await;

    // Demoting: the tokens the new role does not cover stop working; the others keep going.
    let judy = h
        .user("judy@example.com", Role::Admin, Some(PASSWORD))
        .await;
    let (t_admin, s_admin) = h.token(&judy, Role::Admin).await;
    let (t_auditor, s_auditor) = h.token(&judy, Role::Auditor).await;
    let (t_owner, s_owner) = h.token(&judy, Role::ControlOwner).await;
    let jb = h.signed_in("judy@example.com").await;
    for s in [&s_admin, &s_auditor, &s_owner] {
        h.bearer(s, Method::GET, "/me", None).await.expect(200);
    }
    let r = h
        .bearer(
            &a,
            Method::PATCH,
            &format!("/users/{}", judy.id),
            Some(&json!({"role": "compliance_lead"})),
        )
        .await;
    r.expect(200);
    assert_problem(&h.bearer(&s_admin, Method::GET, "/me", None).await, 401);
    assert_problem(
        &h.bearer(&s_auditor, Method::GET, "/audit-log", None).await,
        401,
    );
    let me = h.bearer(&s_owner, Method::GET, "/me", None).await;
    me.expect(200);
    assert_eq!(me.json()["role"], "control_owner");
    assert_eq!(
        jb.get("/").await.status,
        StatusCode::SEE_OTHER,
        "a role change ends sessions"
    );
    let all = h
        .bearer(&a, Method::GET, "/tokens?all=true", None)
        .await
        .json();
    let revoked = |id: &str| {
        all.as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == json!(id))
            .unwrap()["revoked_at"]
            .is_string()
    };
    assert!(revoked(&t_admin.id) && revoked(&t_auditor.id) && !revoked(&t_owner.id));
    // The demoted person signs in with the new role.
    let jb = h.signed_in("judy@example.com").await;
    let me = jb.api(Method::GET, "/me", None, None).await.json();
    assert_eq!(me["role"], "compliance_lead");
    assert_eq!(jb.get("/settings").await.status, StatusCode::FORBIDDEN);
    h.event_count().await;
    h.finish().await;
}

// =====================================================================================
// 8. Single sign-on
// =====================================================================================

/// Starts single sign-on in `b` and lets the identity provider approve it; returns the
/// callback URL the provider sent the browser to.
async fn sso_to_callback(h: &Harness, b: &Browser, next: &str) -> String {
    let r = b.get(&format!("/auth/sso/start?next={next}")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let authorize = r.location().to_string();
    assert!(
        authorize.starts_with(&format!("{}/authorize?", h.idp().issuer_url())),
        "{authorize}"
    );
    assert!(
        authorize.contains("code_challenge_method=S256") && authorize.contains("nonce="),
        "{authorize}"
    );
    assert!(
        b.cookie("vouch_sso").is_some(),
        "the start binds the attempt to this browser"
    );
    let r = b.get(&authorize).await;
    assert_eq!(r.status, StatusCode::FOUND, "{}", r.body);
    let callback = r.location().to_string();
    assert!(
        callback.starts_with(&format!("{}/auth/sso/callback?code=", h.base)),
        "{callback}"
    );
    callback
}

async fn single_sign_on_end_to_end(backend: Backend) {
    let Some(h) = Harness::start_with_sso(backend, LIMITS).await else {
        return;
    };
    let kim = h.user("kim@example.com", Role::ControlOwner, None).await;
    let login = h.browser().get("/login").await;
    assert!(
        login.body.contains(SSO_BUTTON),
        "the sign-in page offers single sign-on: {}",
        login.body
    );

    // The existing person with that verified email is signed in and linked.
    h.idp().set_user("kim-subject", "Kim@Example.com", "Kim");
    let b = h.browser();
    let callback = sso_to_callback(&h, &b, "/criteria").await;
    let before = h.event_count().await;
    let r = b.get(&callback).await;
    assert_eq!(
        (r.status, r.location()),
        (StatusCode::SEE_OTHER, "/criteria"),
        "{}",
        r.body
    );
    assert!(r.set_cookie("vouch_session").is_some());
    b.get("/criteria").await.expect(200);
    let me = b.api(Method::GET, "/me", None, None).await;
    me.expect(200);
    let me = me.json();
    assert_eq!(me["user"]["email"], "kim@example.com");
    assert_eq!(me["user"]["id"], json!(kim.id));
    assert_eq!(me["user"]["sso_linked"], true);
    let new: Vec<AuditEvent> = h.events().await.into_iter().skip(before as usize).collect();
    let actions: Vec<&str> = new.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["user.sso_link", "session.login"]);
    assert!(new.iter().all(|e| e.object_id == kim.id));
    assert_eq!(new[0].after.as_ref().unwrap()["subject"], "kim-subject");
    assert_eq!(new[1].after.as_ref().unwrap()["method"], "sso");

    // Replaying the same callback is refused, and signs nobody in.
    let tokens_before = h.idp().token_requests();
    let c = h.browser();
    let r = b.get(&callback).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        r.location().starts_with("/login?error="),
        "{}",
        r.location()
    );
    let page = b.get(r.location()).await;
    assert!(page.body.contains("already been used"), "{}", page.body);
    let r = c.get(&callback).await;
    assert!(
        r.location().starts_with("/login?error="),
        "{}",
        r.location()
    );
    assert!(c.cookie("vouch_session").is_none());
    assert_eq!(
        h.idp().token_requests(),
        tokens_before,
        "a replay never reaches the provider"
    );

    // A callback opened in another browser (without the binding cookie) is refused.
    let started = h.browser();
    let callback = sso_to_callback(&h, &started, "/").await;
    let thief = h.browser();
    let r = thief.get(&callback).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        r.location().starts_with("/login?error="),
        "{}",
        r.location()
    );
    assert!(
        thief
            .get(r.location())
            .await
            .body
            .contains("another browser")
    );
    assert!(thief.cookie("vouch_session").is_none());
    assert_eq!(
        h.idp().token_requests(),
        tokens_before,
        "the code was never spent"
    );

    // An unknown email is refused with a message on the sign-in page.
    h.idp().set_user("zed-subject", "zed@example.com", "Zed");
    let z = h.browser();
    let callback = sso_to_callback(&h, &z, "/").await;
    let before = h.event_count().await;
    let r = z.get(&callback).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let to = r.location().to_string();
    assert!(to.starts_with("/login?error="), "{to}");
    assert!(z.cookie("vouch_session").is_none());
    let page = z.get(&to).await;
    page.expect(200);
    assert!(
        page.body
            .contains("there is no Vouch account for zed@example.com"),
        "{}",
        page.body
    );
    assert_eq!(
        h.event_count().await,
        before,
        "nobody was created or signed in"
    );
    assert_eq!(h.app.list_users(&Actor::cli()).await.unwrap().len(), 1);

    // The linked person signs in again by subject, without a new link event.
    h.idp().set_user("kim-subject", "kim@example.com", "Kim");
    let again = h.browser();
    let callback = sso_to_callback(&h, &again, "/").await;
    let before = h.event_count().await;
    assert_eq!(again.get(&callback).await.location(), "/");
    let new: Vec<String> = h
        .events()
        .await
        .into_iter()
        .skip(before as usize)
        .map(|e| e.action)
        .collect();
    assert_eq!(new, ["session.login"]);
    // A disabled person is refused.
    h.app
        .update_user(
            &Actor::cli(),
            &kim.id,
            UserPatch {
                status: Some("disabled".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let d = h.browser();
    let callback = sso_to_callback(&h, &d, "/").await;
    let r = d.get(&callback).await;
    assert!(
        r.location().starts_with("/login?error="),
        "{}",
        r.location()
    );
    assert!(d.cookie("vouch_session").is_none());
    h.finish().await;
}

// =====================================================================================
// The UI's pages render (no template errors) and follow the same permission table
// =====================================================================================

async fn ui_pages_follow_the_permission_table(backend: Backend) {
    let Some(h) = Harness::start(backend, LIMITS).await else {
        return;
    };
    // Enough events for the audit log to page (50 a page), with before/after values to show.
    for i in 0..55 {
        h.user(&format!("filler{i}@example.com"), Role::Employee, None)
            .await;
    }
    for role in Role::ALL {
        let email = format!("{}@example.com", role.as_str().replace('_', "."));
        let u = h.user(&email, role, Some(PASSWORD)).await;
        if permits(role, Action::ManageOwnTokens) {
            h.token(&u, role).await;
        }
        let b = h.signed_in(&email).await;
        let pages: Vec<(String, Option<Action>)> = vec![
            ("/".into(), Some(Action::ViewDashboard)),
            ("/criteria".into(), Some(Action::ViewCriteria)),
            (
                "/criteria?category=availability&q=backup".into(),
                Some(Action::ViewCriteria),
            ),
            ("/criteria/CC6.1".into(), Some(Action::ViewCriteria)),
            ("/users".into(), Some(Action::ViewUsers)),
            (format!("/users/{}", u.id), None),
            ("/roles".into(), Some(Action::ViewRoles)),
            ("/tokens".into(), Some(Action::ManageOwnTokens)),
            ("/tokens?all=1".into(), Some(Action::ManageOwnTokens)),
            ("/audit-log".into(), Some(Action::ViewAuditLog)),
            (
                "/audit-log?action=user.&from=2000-01-01&to=2999-12-31".into(),
                Some(Action::ViewAuditLog),
            ),
            ("/account".into(), None),
            ("/settings".into(), Some(Action::ManageSettings)),
        ];
        for (path, action) in pages {
            let r = b.get(&path).await;
            let expected = if action.is_none_or(|a| permits(role, a)) {
                200
            } else {
                403
            };
            assert_eq!(
                r.status.as_u16(),
                expected,
                "GET {path} as {}: {}",
                role.as_str(),
                r.body
            );
            assert!(r.content_type().starts_with("text/html"), "GET {path}");
        }
        if permits(role, Action::ViewAuditLog) {
            let log = b.get("/audit-log").await;
            assert!(
                log.body.contains("/audit-log?before="),
                "the audit log pages: {}",
                log.body
            );
        }
    }
    // The sign-in page, with and without a return path.
    let b = h.browser();
    b.get("/login").await.expect(200);
    b.get("/login?next=%2Fusers%3Fx%3D1").await.expect(200);
    h.finish().await;
}

// =====================================================================================
// 9. Ops endpoints
// =====================================================================================

async fn ops_endpoints(backend: Backend) {
    let Some(h) = Harness::start(backend, LIMITS).await else {
        return;
    };
    let r = send(h.http.get(h.url("/healthz"))).await;
    r.expect(200);
    assert_eq!(r.body, "ok");
    assert_eq!(r.headers.get("x-content-type-options").unwrap(), "nosniff");
    assert_eq!(r.headers.get("x-frame-options").unwrap(), "DENY");
    assert!(r.headers.get("x-request-id").is_some());
    send(h.http.get(h.url("/readyz"))).await.expect(200);
    let m = send(h.http.get(h.url("/metrics"))).await;
    m.expect(200);
    assert!(m.body.contains("vouch_http_requests_total"), "{}", m.body);
    assert!(m.body.contains(r#"route="/healthz""#), "{}", m.body);

    let doc = send(h.http.get(h.url("/api/openapi.json"))).await;
    doc.expect(200);
    assert!(doc.content_type().starts_with("application/json"));
    let doc = doc.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/users",
        "/users/{id}",
        "/tokens",
        "/audit-log",
        "/audit-log/verify",
        "/settings",
        "/me",
    ] {
        assert!(paths.contains_key(p), "OpenAPI lacks {p}");
    }
    assert!(paths["/users"]["post"].is_object() && paths["/users"]["get"].is_object());
    let bearer = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(bearer["type"], "http", "{bearer}");
    assert_eq!(
        bearer["scheme"].as_str().map(str::to_lowercase).as_deref(),
        Some("bearer")
    );
    assert!(
        doc["security"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s.get("bearer").is_some())
    );
    // Unknown pages outside /api are a page, not a problem document.
    let r = send(h.http.get(h.url("/no-such-page"))).await;
    r.expect(404);
    assert!(r.content_type().starts_with("text/html"));
    h.finish().await;
}

/// Runs one statement on the harness's database, behind Vouch's back (as an attacker with
/// database access would), and returns the first column of the first row if any.
async fn behind_vouchs_back(h: &Harness, sql: &str) -> Option<String> {
    use sqlx::{Connection, Row};
    sqlx::any::install_default_drivers();
    let mut c = sqlx::AnyConnection::connect(&h.db.url).await.unwrap();
    let row = sqlx::query(sql).fetch_optional(&mut c).await.unwrap();
    let value = row.and_then(|r| r.try_get::<String, _>(0).ok());
    c.close().await.unwrap();
    value
}

async fn a_tampered_audit_log_is_reported_on_its_page(backend: Backend) {
    let Some(h) = Harness::start(backend, LIMITS).await else {
        return;
    };
    h.user("ada@example.com", Role::Admin, Some(PASSWORD)).await;
    let b = h.signed_in("ada@example.com").await;
    let page = b.get("/audit-log").await;
    page.expect(200);
    assert!(page.body.contains("Chain verified"), "{}", page.body);

    let label = behind_vouchs_back(&h, "SELECT actor_label FROM audit_events WHERE seq = 1")
        .await
        .expect("the first event exists");
    behind_vouchs_back(
        &h,
        "UPDATE audit_events SET actor_label = 'mallory' WHERE seq = 1",
    )
    .await;
    let page = b.get("/audit-log").await;
    page.expect(200);
    assert!(page.body.contains("Chain broken"), "{}", page.body);
    assert!(
        page.body.contains("event 1:"),
        "names the first bad event: {}",
        page.body
    );
    let r = b.api(Method::GET, "/audit-log/verify", None, None).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.json()["error"].as_str().unwrap().starts_with("event 1:"));

    // Put it back, so the harness's own closing check of the chain passes.
    let restore = format!("UPDATE audit_events SET actor_label = '{label}' WHERE seq = 1");
    behind_vouchs_back(&h, &restore).await;
    assert!(b.get("/audit-log").await.body.contains("Chain verified"));
    h.finish().await;
}
