//! HTTP integration tests of integrations: the real router served on loopback, driven with
//! real HTTP against a loopback GitHub that speaks the real API's shapes
//! (`vouch_connect::testing::FakeGithub`), on SQLite and on PostgreSQL.
//!
//! Covered: creating a GitHub integration (201) and changing it (200) without its token ever
//! coming back in any answer; refused input naming every field at once; runs that add, then
//! track a deletion, then fail on a revoked token (502 with the run, the resources unchanged);
//! removal; who may read, change and run (auditors read, employees see nothing, browser
//! sessions need their CSRF token); the pages by role; and the OpenAPI document.
//!
//! The PostgreSQL half is skipped (with a message) when no server is reachable outside CI.

mod support;

use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;
use support::http::*;
use vouch_app::Backend;
use vouch_connect::http::RetryPolicy;
use vouch_connect::testing::{FakeGithub, GithubState};
use vouch_domain::Role;

const LIMITS: Limits = Limits {
    max_body: 64 * 1024,
    http_timeout: Duration::from_secs(60),
    evidence_max_bytes: 1024 * 1024,
};
/// Every test gives up after this long.
const TEST_LIMIT: Duration = Duration::from_secs(300);
/// The fake GitHub's token: distinctive, so finding it in an answer cannot be a coincidence.
const TOKEN: &str = "ghp_itest_0c7e51d2a9b84f63_never_shown";

on_both_backends!(
    TEST_LIMIT;
    a_github_integration_runs_tracks_deletions_and_never_shows_its_token,
    refused_input_names_every_field_and_stores_nothing,
    auditors_read_employees_see_nothing_and_sessions_need_csrf,
    the_pages_show_integrations_and_forms_by_role,
    the_openapi_document_lists_the_integration_endpoints,
);

/// A Vouch whose connectors retry quickly, and a fake GitHub with the sample organisation.
async fn start(backend: Backend) -> Option<(Harness, FakeGithub)> {
    let h = Harness::start_with_config(backend, LIMITS, VaultKind::Local, |c| {
        c.connector_retry = RetryPolicy {
            base_delay: Duration::from_millis(5),
            ..RetryPolicy::default()
        };
    })
    .await?;
    let mut state = GithubState::sample();
    state.token = TOKEN.into();
    let fake = FakeGithub::start(state).await;
    Some((h, fake))
}

fn github_body(fake: &FakeGithub) -> Value {
    json!({
        "kind": "github",
        "settings": {"org": "acme", "api_url": fake.url()},
        "secret": TOKEN,
    })
}

/// Fails when an answer holds the token.
#[track_caller]
fn no_token(r: &Resp) -> &Resp {
    assert!(
        !r.body.contains(TOKEN),
        "an answer ({}) shows the token: {}",
        r.status,
        r.body
    );
    r
}

impl Harness {
    /// A GET that must answer 200 and must not hold the token; its JSON.
    async fn read(&self, secret: &str, path: &str) -> Value {
        let r = self.bearer(secret, Method::GET, path, None).await;
        r.expect(200);
        no_token(&r).json()
    }

    /// The GitHub accounts the resources endpoint lists, by key.
    async fn github_accounts(&self, secret: &str) -> Vec<String> {
        let list = self
            .read(secret, "/resources?kind=account&system=github")
            .await;
        let mut keys: Vec<String> = list["resources"]
            .as_array()
            .unwrap_or_else(|| panic!("no resources in {list}"))
            .iter()
            .map(|r| r["key"].as_str().unwrap().to_string())
            .collect();
        keys.sort();
        keys
    }

    async fn run(&self, secret: &str, name: &str) -> Resp {
        let r = self
            .bearer(
                secret,
                Method::POST,
                &format!("/integrations/{name}/runs"),
                None,
            )
            .await;
        no_token(&r);
        r
    }
}

async fn a_github_integration_runs_tracks_deletions_and_never_shows_its_token(backend: Backend) {
    let Some((h, fake)) = start(backend).await else {
        return;
    };
    let (_, lead) = holder_with_token(&h, "lead@example.com", Role::ComplianceLead).await;

    // Created: 201, the credential set but not shown.
    let r = h
        .bearer(
            &lead,
            Method::PUT,
            "/integrations/github-acme",
            Some(&github_body(&fake)),
        )
        .await;
    r.expect(201);
    let created = no_token(&r).json();
    assert_eq!(created["name"], "github-acme");
    assert_eq!(created["kind"], "github");
    assert_eq!(created["label"], "GitHub");
    assert_eq!(created["has_secret"], true);
    assert_eq!(
        created["settings"],
        json!({"org": "acme", "api_url": fake.url()})
    );
    assert!(created.get("secret").is_none(), "{created}");
    assert!(created["last_run"].is_null(), "{created}");

    // Changed without a secret: 200, the stored credential kept (the run below signs in).
    let mut body = github_body(&fake);
    body.as_object_mut().unwrap().remove("secret");
    body["schedule_minutes"] = json!(60);
    let r = h
        .bearer(&lead, Method::PUT, "/integrations/github-acme", Some(&body))
        .await;
    r.expect(200);
    let changed = no_token(&r).json();
    assert_eq!(changed["schedule_minutes"], 60);
    assert_eq!(changed["has_secret"], true);
    assert!(changed["next_run_at"].is_string(), "{changed}");

    // The first run reads the five members.
    let r = h.run(&lead, "github-acme").await;
    r.expect(201);
    let run = r.json();
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["source"], "github-acme");
    assert_eq!(run["trigger"], "manual");
    assert_eq!(run["scope"], "integration:github-acme");
    assert!(run["counts"]["total"].as_i64().unwrap() >= 5, "{run}");
    assert!(run["counts"]["added"].as_i64().unwrap() >= 5, "{run}");
    assert_eq!(run["counts"]["deleted"], 0, "{run}");
    assert_eq!(
        h.github_accounts(&lead).await,
        ["ana", "ben", "cara", "dev", "eve"]
    );

    // Cara leaves the organisation: the next run deletes exactly her.
    fake.state().members.retain(|m| m.login != "cara");
    let r = h.run(&lead, "github-acme").await;
    r.expect(201);
    let run = r.json();
    assert_eq!(run["counts"]["deleted"], 1, "{run}");
    assert_eq!(run["counts"]["added"], 0, "{run}");
    let before = h.github_accounts(&lead).await;
    assert_eq!(before, ["ana", "ben", "dev", "eve"]);

    // The token is revoked: 502 with the recorded, failed run; nothing changed.
    fake.state().faults.revoked = true;
    let r = h.run(&lead, "github-acme").await;
    r.expect(502);
    let failed = r.json();
    let error = failed["error"]
        .as_str()
        .unwrap_or_else(|| panic!("{failed}"));
    assert!(
        error.contains("GitHub refused the credentials") && error.contains("401"),
        "{error}"
    );
    assert_eq!(failed["run"]["status"], "failed", "{failed}");
    assert_eq!(failed["run"]["error"], error);
    let failed_id = failed["run"]["id"].as_str().unwrap().to_string();
    assert_eq!(h.github_accounts(&lead).await, before);
    let recorded = h.read(&lead, &format!("/runs/{failed_id}")).await;
    assert_eq!(recorded["status"], "failed", "{recorded}");

    // The list and the integration show the last run; the runs newest first.
    let list = h.read(&lead, "/integrations").await;
    let all = list.as_array().unwrap();
    assert_eq!(all.len(), 1, "{list}");
    assert_eq!(all[0]["last_run"]["id"], failed_id.as_str());
    assert_eq!(all[0]["has_secret"], true);
    let one = h.read(&lead, "/integrations/github-acme").await;
    assert_eq!(one["last_run"]["status"], "failed");
    let statuses: Vec<&str> = one["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["failed", "succeeded", "succeeded"], "{one}");

    // Neither the runs nor the audit log hold the token.
    h.read(&lead, "/runs").await;
    let admin = h.user("admin@example.com", Role::Admin, None).await;
    let (_, admin_token) = h.token(&admin, Role::Admin).await;
    let log = h.read(&admin_token, "/audit-log?action=integration.").await;
    assert!(
        log.as_array().unwrap().len() >= 2,
        "create and update are audited: {log}"
    );

    // Removed: 204, then 404; the runs stay.
    h.bearer(&lead, Method::DELETE, "/integrations/github-acme", None)
        .await
        .expect(204);
    assert_problem(
        &h.bearer(&lead, Method::GET, "/integrations/github-acme", None)
            .await,
        404,
    );
    assert_problem(&h.run(&lead, "github-acme").await, 404);
    assert_eq!(h.read(&lead, "/integrations").await, json!([]));
    h.read(&lead, &format!("/runs/{failed_id}")).await;
    h.finish().await;
}

async fn refused_input_names_every_field_and_stores_nothing(backend: Backend) {
    let Some((h, fake)) = start(backend).await else {
        return;
    };
    let (_, lead) = holder_with_token(&h, "lead@example.com", Role::ComplianceLead).await;
    let events = h.event_count().await;

    // A bad name, a credential among the settings, no secret, a schedule too short.
    let bad = json!({
        "kind": "github",
        "settings": {"api_url": fake.url(), "token": TOKEN},
        "schedule_minutes": 1,
    });
    let r = h
        .bearer(
            &lead,
            Method::PUT,
            "/integrations/GitHub%20Acme",
            Some(&bad),
        )
        .await;
    no_token(&r);
    let p = assert_invalid(
        &r,
        &["name", "settings", "secret", "schedule_minutes"],
        Some("'token' is a credential"),
    );
    let text = p.to_string();
    assert!(text.contains("at most every 5 minutes"), "{p}");

    // The organisation is missing.
    let mut no_org = github_body(&fake);
    no_org["settings"] = json!({"api_url": fake.url()});
    let r = h
        .bearer(
            &lead,
            Method::PUT,
            "/integrations/github-acme",
            Some(&no_org),
        )
        .await;
    assert_invalid(&r, &["settings"], Some("missing field `org`"));

    // An unknown kind and an unknown control.
    let r = h
        .bearer(
            &lead,
            Method::PUT,
            "/integrations/jira",
            Some(&json!({"kind": "jira", "secret": "x", "controls": ["NOPE-1"]})),
        )
        .await;
    assert_invalid(&r, &["kind", "controls"], Some("NOPE-1"));

    // The name belongs in the path, not the body; unknown members are refused.
    let mut named = github_body(&fake);
    named["name"] = json!("github-acme");
    let r = h
        .bearer(
            &lead,
            Method::PUT,
            "/integrations/github-acme",
            Some(&named),
        )
        .await;
    assert_problem(&r, 422);
    no_token(&r);

    assert_eq!(h.read(&lead, "/integrations").await, json!([]));
    assert_eq!(h.event_count().await, events, "nothing was audited");
    h.finish().await;
}

async fn auditors_read_employees_see_nothing_and_sessions_need_csrf(backend: Backend) {
    let Some((h, fake)) = start(backend).await else {
        return;
    };
    let (_, lead) = holder_with_token(&h, "lead@example.com", Role::ComplianceLead).await;
    h.bearer(
        &lead,
        Method::PUT,
        "/integrations/github-acme",
        Some(&github_body(&fake)),
    )
    .await
    .expect(201);
    let (_, auditor) = holder_with_token(&h, "auditor@example.com", Role::Auditor).await;
    let (_, owner) = holder_with_token(&h, "owner@example.com", Role::ControlOwner).await;
    let (_, employee) = holder_with_token(&h, "employee@example.com", Role::Employee).await;

    // Auditors and control owners read; neither changes nor runs.
    for who in [&auditor, &owner] {
        h.read(who, "/integrations").await;
        h.read(who, "/integrations/github-acme").await;
        let mut body = github_body(&fake);
        body["schedule_minutes"] = json!(30);
        assert_problem(
            &h.bearer(who, Method::PUT, "/integrations/github-acme", Some(&body))
                .await,
            403,
        );
        assert_problem(&h.run(who, "github-acme").await, 403);
        assert_problem(
            &h.bearer(who, Method::DELETE, "/integrations/github-acme", None)
                .await,
            403,
        );
    }
    // Employees do not even see them.
    for path in ["/integrations", "/integrations/github-acme"] {
        assert_problem(&h.bearer(&employee, Method::GET, path, None).await, 403);
    }
    assert_problem(&h.run(&employee, "github-acme").await, 403);
    // Nothing ran, nothing changed.
    let one = h.read(&lead, "/integrations/github-acme").await;
    assert_eq!(one["runs"], json!([]), "{one}");
    assert!(one["schedule_minutes"].is_null(), "{one}");

    // A browser session must send its CSRF token to change or run.
    h.user("admin@example.com", Role::Admin, Some(PASSWORD))
        .await;
    let b = h.browser();
    b.sign_in("admin@example.com", PASSWORD).await;
    let r = b.api(Method::GET, "/integrations", None, None).await;
    r.expect(200);
    no_token(&r);
    let mut body = github_body(&fake);
    body.as_object_mut().unwrap().remove("secret");
    body["enabled"] = json!(false);
    assert_problem(
        &b.api(Method::PUT, "/integrations/github-acme", Some(&body), None)
            .await,
        403,
    );
    assert_problem(
        &b.api(Method::POST, "/integrations/github-acme/runs", None, None)
            .await,
        403,
    );
    let csrf = b.csrf().await;
    let r = b
        .api(
            Method::PUT,
            "/integrations/github-acme",
            Some(&body),
            Some(&csrf),
        )
        .await;
    r.expect(200);
    assert_eq!(no_token(&r).json()["enabled"], false);
    let r = b
        .api(
            Method::POST,
            "/integrations/github-acme/runs",
            None,
            Some(&csrf),
        )
        .await;
    r.expect(201);
    no_token(&r);
    h.finish().await;
}

async fn the_pages_show_integrations_and_forms_by_role(backend: Backend) {
    let Some((h, fake)) = start(backend).await else {
        return;
    };
    let (_, lead) = holder_with_token(&h, "lead@example.com", Role::ComplianceLead).await;
    h.bearer(
        &lead,
        Method::PUT,
        "/integrations/github-acme",
        Some(&github_body(&fake)),
    )
    .await
    .expect(201);
    h.run(&lead, "github-acme").await.expect(201);
    for (email, role) in [
        ("admin@example.com", Role::Admin),
        ("auditor@example.com", Role::Auditor),
        ("employee@example.com", Role::Employee),
    ] {
        h.user(email, role, Some(PASSWORD)).await;
    }

    // An administrator: the navigation entry, the list with the last run, every form.
    let admin = h.browser();
    admin.sign_in("admin@example.com", PASSWORD).await;
    let list = admin.get("/integrations").await;
    list.expect(200);
    assert!(
        list.body.contains(">Integrations</a>"),
        "the navigation entry: {}",
        list.body
    );
    assert!(list.body.contains(r#"id="new-integration""#));
    assert!(list.body.contains(r#"href="/runs/RUN-1""#), "{}", list.body);
    assert!(list.body.contains("on demand"));
    for path in [
        "/integrations",
        "/integrations/github-acme",
        "/integrations/github-acme/edit",
        "/integrations/new",
    ] {
        let r = admin.get(path).await;
        r.expect(200);
        no_token(&r);
    }
    let page = admin.get("/integrations/github-acme").await;
    assert!(page.body.contains("credential set"), "{}", page.body);
    assert!(page.body.contains(r#"id="run-now""#));
    assert!(page.body.contains(r#"id="remove-confirm""#));
    let edit = admin.get("/integrations/github-acme/edit").await;
    let secret_input = between(&edit.body, r#"id="secret""#, ">").unwrap();
    assert!(
        secret_input.contains(r#"type="password""#),
        "{secret_input}"
    );
    assert!(secret_input.contains(r#"value="""#), "{secret_input}");

    // The form refuses a bad integration with errors beside the fields, input kept.
    let csrf = csrf_in(&admin.get("/integrations/new").await.body);
    let r = admin
        .post_form(
            "/integrations/new",
            &[
                ("_csrf", &csrf),
                ("name", "Bad Name"),
                ("kind", "github"),
                ("github_org", ""),
                ("github_api_url", "https://github.example.com/api/v3/"),
                ("secret", TOKEN),
                ("schedule_minutes", "2"),
                ("controls", ""),
            ],
        )
        .await;
    r.expect(422);
    no_token(&r);
    assert!(r.body.contains("Organisation is required."), "{}", r.body);
    assert!(r.body.contains("use lower-case letters"), "{}", r.body);
    assert!(r.body.contains("at most every 5 minutes"), "{}", r.body);
    assert!(r.body.contains(r#"value="Bad Name""#), "input kept");
    let api_url = between(&r.body, r#"id="github_api_url""#, ">").unwrap();
    assert!(api_url.contains("github.example.com"), "{api_url}");
    // A form without its CSRF token is refused.
    let r = admin
        .post_form("/integrations/github-acme/run", &[("_csrf", "forged")])
        .await;
    r.expect(403);

    // An auditor sees the list and the page, without the buttons; the forms are refused.
    let auditor = h.browser();
    auditor.sign_in("auditor@example.com", PASSWORD).await;
    let list = auditor.get("/integrations").await;
    list.expect(200);
    assert!(!list.body.contains(r#"id="new-integration""#));
    let page = auditor.get("/integrations/github-acme").await;
    page.expect(200);
    for control in [
        r#"id="run-now""#,
        r#"id="remove-confirm""#,
        r#"id="edit-integration""#,
    ] {
        assert!(!page.body.contains(control), "an auditor sees {control}");
    }
    auditor.get("/integrations/new").await.expect(403);
    auditor
        .get("/integrations/github-acme/edit")
        .await
        .expect(403);
    let csrf = csrf_in(&page.body);
    auditor
        .post_form("/integrations/github-acme/run", &[("_csrf", &csrf)])
        .await
        .expect(403);

    // An employee has no entry and no page.
    let employee = h.browser();
    employee.sign_in("employee@example.com", PASSWORD).await;
    let home = employee.get("/").await;
    home.expect(200);
    assert!(home.body.contains(">Evidence</a>"), "{}", home.body);
    assert!(!home.body.contains(">Integrations</a>"), "{}", home.body);
    employee.get("/integrations").await.expect(403);
    h.finish().await;
}

async fn the_openapi_document_lists_the_integration_endpoints(backend: Backend) {
    let Some((h, _fake)) = start(backend).await else {
        return;
    };
    let doc = send(h.http.get(h.url("/api/openapi.json"))).await;
    doc.expect(200);
    let doc = doc.json();
    let paths = doc["paths"].as_object().unwrap();
    for (p, methods) in [
        ("/integrations", &["get"][..]),
        ("/integrations/{name}", &["get", "put", "delete"]),
        ("/integrations/{name}/runs", &["post"]),
    ] {
        assert!(paths.contains_key(p), "OpenAPI lacks {p}");
        for m in methods {
            assert!(paths[p][m].is_object(), "OpenAPI lacks {m} {p}");
        }
    }
    let put = &paths["/integrations/{name}"]["put"];
    for status in ["200", "201", "422", "403"] {
        assert!(put["responses"][status].is_object(), "{status}: {put}");
    }
    let run = &paths["/integrations/{name}/runs"]["post"];
    for status in ["201", "502"] {
        assert!(run["responses"][status].is_object(), "{status}: {run}");
    }
    let schemas = &doc["components"]["schemas"];
    for schema in [
        "Integration",
        "IntegrationDetail",
        "IntegrationRequest",
        "FailedRun",
        "Run",
    ] {
        assert!(
            schemas[schema].is_object(),
            "OpenAPI lacks the {schema} schema"
        );
    }
    let request = schemas["IntegrationRequest"]["properties"]
        .as_object()
        .unwrap();
    assert!(request.contains_key("secret") && !request.contains_key("name"));
    assert!(
        !schemas["Integration"]["properties"]
            .as_object()
            .unwrap()
            .contains_key("secret"),
        "an integration never has a secret to show"
    );
    // Every reference points at a schema the document holds.
    let text = doc.to_string();
    for part in text.split("\"#/components/schemas/").skip(1) {
        let name = &part[..part.find('"').unwrap()];
        assert!(schemas[name].is_object(), "dangling reference to {name}");
    }
    h.finish().await;
}
