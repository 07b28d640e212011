//! HTTP integration tests of collected resources: the real router served on loopback, driven
//! with real HTTP (multipart bodies built by hand), on SQLite and on PostgreSQL.
//!
//! Covered: importing an HR roster and then a changed one (counts, the deleted person listed
//! only on request, the changed person's history, paging and filters), failed imports that are
//! recorded and change nothing (shifted CSV columns named by file, row and column; a forced
//! kind that does not match; an unknown kind), accounts from an AWS credential report with
//! their owners (the unlinked listed, linked by hand, marked service accounts, unlinked again),
//! who may read and who may collect, and the OpenAPI document.
//!
//! The PostgreSQL half is skipped (with a message) when no server is reachable outside CI.

mod support;

use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;
use support::http::*;
use vouch_app::Backend;
use vouch_domain::Role;

const LIMITS: Limits = Limits {
    max_body: 64 * 1024,
    http_timeout: Duration::from_secs(60),
    evidence_max_bytes: 1024 * 1024,
};
/// Every test gives up after this long.
const TEST_LIMIT: Duration = Duration::from_secs(300);

on_both_backends!(
    TEST_LIMIT;
    a_changed_roster_adds_changes_and_deletes_with_history,
    a_failed_import_is_recorded_and_changes_nothing,
    accounts_are_linked_to_people_and_the_unowned_are_listed,
    auditors_read_and_only_collectors_change,
    the_openapi_document_lists_the_collection_endpoints,
    the_pages_page_through_resources_and_hide_forms_by_role,
);

const ROSTER_1: &str = "email,name,status,start_date\n\
    ana@lumen.example,Ana Lima,active,2025-01-06\n\
    ben@lumen.example,Ben Ode,active,2025-02-03\n\
    cy@lumen.example,Cy Park,active,2025-03-03\n";
const ROSTER_2: &str = "email,name,status,start_date,end_date\n\
    ana@lumen.example,Ana Lima,active,2025-01-06,\n\
    ben@lumen.example,Ben Ode,terminated,2025-02-03,2026-11-05\n\
    dee@lumen.example,Dee Roy,active,2026-11-09,\n";
/// The date and the status swapped: the date lands in the status column.
const SHIFTED: &str =
    "email,name,status,start_date\nana@lumen.example,Ana Lima,2025-01-06,active\n";
const CREDENTIAL_REPORT: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date\n\
    ana,arn:aws:iam::123456789012:user/ana,2025-01-06T09:00:00+00:00,true,2026-11-01T09:00:00+00:00,2025-01-06T09:00:00+00:00,N/A,true,false,N/A,N/A,false,N/A,N/A\n\
    deploy-bot,arn:aws:iam::123456789012:user/deploy-bot,2025-01-06T09:00:00+00:00,false,N/A,N/A,N/A,false,true,2025-01-06T09:00:00+00:00,2026-11-01T09:00:00+00:00,false,N/A,N/A\n\
    ben.ode,arn:aws:iam::123456789012:user/ben.ode,2025-01-06T09:00:00+00:00,true,N/A,2025-01-06T09:00:00+00:00,N/A,false,false,N/A,N/A,false,N/A,N/A\n";

impl Harness {
    /// A compliance lead with a token of that role: the usual caller of these tests.
    async fn lead(&self) -> String {
        holder_with_token(self, "lead@example.com", Role::ComplianceLead)
            .await
            .1
    }

    /// `POST /imports` of one file, with a forced kind when given.
    async fn import(&self, secret: &str, name: &str, content: &str, kind: Option<&str>) -> Resp {
        let mut parts = vec![];
        if let Some(k) = kind {
            parts.push(Part::text("kind", k));
        }
        parts.push(Part::file("file", name, content.as_bytes().to_vec()).typed("text/csv"));
        self.multipart(secret, Method::POST, "/imports", &parts)
            .await
    }

    /// An import that must succeed (201): the run.
    async fn imported(&self, secret: &str, name: &str, content: &str) -> Value {
        let r = self.import(secret, name, content, None).await;
        r.expect(201);
        let run = r.json();
        assert_eq!(run["status"], "succeeded", "{run}");
        run
    }

    /// The keys of a resource list answer, in order.
    async fn keys(&self, secret: &str, query: &str) -> Vec<String> {
        let list = self.get(secret, &format!("/resources?{query}")).await;
        list["resources"]
            .as_array()
            .unwrap_or_else(|| panic!("no resources in {list}"))
            .iter()
            .map(|r| r["key"].as_str().unwrap().to_string())
            .collect()
    }

    async fn resource_id(&self, secret: &str, kind: &str, key: &str) -> i64 {
        let list = self
            .get(
                secret,
                &format!("/resources?kind={kind}&include_deleted=true&q={key}"),
            )
            .await;
        list["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["key"] == key || r["attrs"]["username"] == key)
            .unwrap_or_else(|| panic!("no {kind} {key} in {list}"))["id"]
            .as_i64()
            .unwrap()
    }

    /// The AWS user names of the accounts `query` lists.
    async fn account_users(&self, secret: &str, query: &str) -> Vec<String> {
        let list = self.get(secret, &format!("/accounts{query}")).await;
        let mut users: Vec<String> = list
            .as_array()
            .unwrap_or_else(|| panic!("not a list: {list}"))
            .iter()
            .map(|a| a["account"]["attrs"]["user"].as_str().unwrap().to_string())
            .collect();
        users.sort();
        users
    }
}

// =====================================================================================

async fn a_changed_roster_adds_changes_and_deletes_with_history(backend: Backend) {
    let Some(h) = Harness::start(backend, LIMITS).await else {
        return;
    };
    let lead = h.lead().await;
    let run1 = h.imported(&lead, "roster.csv", ROSTER_1).await;
    assert_eq!(run1["kind"], "hr_roster_csv");
    assert_eq!(run1["system"], "hr");
    assert_eq!(run1["source"], "import");
    assert_eq!(run1["counts"]["added"], 3, "{run1}");
    let evidence = run1["evidence_id"].as_str().expect("the raw file is kept");

    h.advance(time::Duration::days(7));
    let run2 = h.imported(&lead, "roster.csv", ROSTER_2).await;
    let counts = &run2["counts"];
    assert_eq!(
        [
            &counts["total"],
            &counts["added"],
            &counts["changed"],
            &counts["unchanged"],
            &counts["deleted"]
        ],
        [&json!(3), &json!(1), &json!(1), &json!(1), &json!(1)],
        "{run2}"
    );

    // Counts per kind and system: current resources only.
    assert_eq!(
        h.get(&lead, "/resources/counts").await,
        json!([{"kind": "person", "system": "hr", "count": 3}])
    );

    // Cy left the roster: listed only when deleted resources are asked for.
    let current = h.keys(&lead, "kind=person").await;
    assert_eq!(
        current,
        [
            "ana@lumen.example",
            "ben@lumen.example",
            "dee@lumen.example"
        ]
    );
    let all = h
        .get(&lead, "/resources?kind=person&include_deleted=true")
        .await;
    assert_eq!(all["total"], 4, "{all}");
    let cy = all["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "cy@lumen.example")
        .expect("the deleted person is listed with include_deleted");
    assert!(cy["deleted_at"].is_string(), "{cy}");
    for r in all["resources"].as_array().unwrap() {
        if r["key"] != "cy@lumen.example" {
            assert!(r["deleted_at"].is_null(), "{r}");
        }
    }

    // Ben's history: active until the second run saw him terminated.
    let ben = h.resource_id(&lead, "person", "ben@lumen.example").await;
    let one = h.get(&lead, &format!("/resources/{ben}")).await;
    assert_eq!(one["resource"]["attrs"]["status"], "terminated", "{one}");
    let versions = one["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2, "{one}");
    assert_eq!(versions[0]["change"], "added");
    assert_eq!(versions[0]["attrs"]["status"], "active");
    assert_eq!(versions[0]["run_id"], run1["id"]);
    assert_eq!(versions[0]["valid_to"], versions[1]["valid_from"]);
    assert_eq!(versions[1]["change"], "changed");
    assert_eq!(versions[1]["attrs"]["status"], "terminated");
    assert_eq!(versions[1]["run_id"], run2["id"]);
    assert!(versions[1]["valid_to"].is_null());

    // Search, paging and the limits of a page.
    assert_eq!(h.keys(&lead, "q=BEN@").await, ["ben@lumen.example"]);
    assert_eq!(h.keys(&lead, "system=aws").await, Vec::<String>::new());
    let page = h
        .get(&lead, "/resources?include_deleted=true&limit=2&offset=2")
        .await;
    assert_eq!(
        (&page["total"], &page["limit"], &page["offset"]),
        (&json!(4), &json!(2), &json!(2))
    );
    let keys: Vec<&str> = page["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["cy@lumen.example", "dee@lumen.example"]);
    assert_eq!(
        h.get(&lead, "/resources").await["limit"],
        100,
        "the default page is 100"
    );
    for q in [
        "limit=1001",
        "limit=0",
        "offset=-1",
        "include_deleted=maybe",
    ] {
        assert_problem(
            &h.bearer(&lead, Method::GET, &format!("/resources?{q}"), None)
                .await,
            400,
        );
    }
    let p = assert_problem(
        &h.bearer(&lead, Method::GET, "/resources?kind=spaceship", None)
            .await,
        422,
    );
    assert!(p["detail"].as_str().unwrap().contains("person"), "{p}");
    for missing in ["/resources/999", "/resources/abc", "/runs/RUN-99"] {
        assert_problem(&h.bearer(&lead, Method::GET, missing, None).await, 404);
    }

    // The runs, newest first; each names the evidence record holding its raw file.
    let runs = h.get(&lead, "/runs?source=import").await;
    assert_eq!(
        ids_of(&runs),
        [run2["id"].as_str().unwrap(), run1["id"].as_str().unwrap()]
    );
    assert_eq!(
        h.get(&lead, "/runs?limit=1")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(
        h.get(&lead, "/runs?source=okta")
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );
    let one = h
        .get(&lead, &format!("/runs/{}", run1["id"].as_str().unwrap()))
        .await;
    assert_eq!(one, run1);
    let ev = h.get(&lead, &format!("/evidence/{evidence}")).await;
    assert_eq!(ev["current"]["files"][0]["size"], ROSTER_1.len(), "{ev}");
    assert_eq!(ev["current"]["source_detail"], run1["id"]);
    h.finish().await;
}

async fn a_failed_import_is_recorded_and_changes_nothing(backend: Backend) {
    let Some(h) = Harness::start(backend, LIMITS).await else {
        return;
    };
    let lead = h.lead().await;
    h.imported(&lead, "roster.csv", ROSTER_1).await;
    let before = h.get(&lead, "/resources?include_deleted=true").await;

    // Shifted columns: 422 with the recorded run, its error naming file, row and column.
    let r = h.import(&lead, "hr-export.csv", SHIFTED, None).await;
    r.expect(422);
    let body = r.json();
    let error = body["error"].as_str().unwrap_or_else(|| panic!("{body}"));
    assert!(
        error.starts_with("hr-export.csv, row 2, column 'start_date'"),
        "{error}"
    );
    assert_eq!(body["run"]["status"], "failed");
    assert_eq!(body["run"]["error"], body["error"]);
    assert!(
        body["run"]["evidence_id"].is_string(),
        "the failed file is kept: {body}"
    );
    let failed_id = body["run"]["id"].as_str().unwrap().to_string();

    // A forced kind the file is not: both kinds named.
    let r = h
        .import(&lead, "roster.csv", ROSTER_1, Some("aws_credential_report"))
        .await;
    r.expect(422);
    let error = r.json()["error"].as_str().unwrap().to_string();
    assert!(
        error.contains("HR roster CSV") && error.contains("AWS IAM credential report"),
        "{error}"
    );

    // Requests refused before any run: an unknown kind (the allowed ones named), the live
    // connector's kind, no file at all.
    for kind in ["spreadsheet", "aws_api"] {
        let r = h.import(&lead, "roster.csv", ROSTER_1, Some(kind)).await;
        let p = assert_invalid(&r, &["kind"], Some("hr_roster_csv"));
        let msg = p["errors"][0]["message"].as_str().unwrap();
        assert!(msg.contains(&format!("'{kind}'")), "{msg}");
        assert!(
            msg.contains("aws_credential_report") && msg.contains("fleet_json"),
            "{msg}"
        );
        assert!(
            !msg.contains("aws_api,"),
            "uploads cannot be AWS API captures: {msg}"
        );
    }
    let r = h
        .multipart(&lead, Method::POST, "/imports", &[Part::text("kind", "")])
        .await;
    assert_invalid(&r, &["files"], None);

    // Nothing changed; the failures are listed as runs.
    assert_eq!(
        h.get(&lead, "/resources?include_deleted=true").await,
        before
    );
    let runs = h.get(&lead, "/runs").await;
    let statuses: Vec<&str> = runs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["failed", "failed", "succeeded"], "{runs}");
    assert_eq!(runs[1]["id"], failed_id);
    let failed = h.get(&lead, &format!("/runs/{failed_id}")).await;
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["counts"]["total"], 0);
    h.finish().await;
}

async fn accounts_are_linked_to_people_and_the_unowned_are_listed(backend: Backend) {
    let Some(h) = Harness::start(backend, LIMITS).await else {
        return;
    };
    let lead = h.lead().await;
    h.imported(&lead, "roster.csv", ROSTER_1).await;
    let run = h
        .imported(&lead, "credential-report.csv", CREDENTIAL_REPORT)
        .await;
    assert_eq!(run["kind"], "aws_credential_report");
    assert_eq!(run["system"], "aws");

    let all = h.get(&lead, "/accounts").await;
    assert_eq!(all.as_array().unwrap().len(), 3, "{all}");
    let ana = all
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["account"]["attrs"]["user"] == "ana")
        .unwrap();
    assert_eq!(ana["owner"]["type"], "person", "{ana}");
    assert_eq!(ana["owner"]["email"], "ana@lumen.example");
    assert_eq!(ana["owner"]["basis"], "username");
    assert!(ana["link"].is_null());

    assert_eq!(
        h.account_users(&lead, "?unlinked=true").await,
        ["ben.ode", "deploy-bot"]
    );
    assert_eq!(h.account_users(&lead, "?system=aws").await.len(), 3);
    assert!(h.account_users(&lead, "?system=github").await.is_empty());
    let id_of = |user: &str| {
        all.as_array()
            .unwrap()
            .iter()
            .find(|a| a["account"]["attrs"]["user"] == user)
            .unwrap()["account"]["id"]
            .as_i64()
            .unwrap()
    };
    let bot = id_of("deploy-bot");
    let ben = id_of("ben.ode");
    let link = |id: i64, body: Value| {
        let h = &h;
        let lead = lead.clone();
        async move {
            h.bearer(
                &lead,
                Method::PUT,
                &format!("/accounts/{id}/link"),
                Some(&body),
            )
            .await
        }
    };

    // Refused decisions: a service account without a note, both or neither owner, someone
    // not on the roster, a resource that is not an account.
    assert_invalid(
        &link(bot, json!({"service": true})).await,
        &["note"],
        Some("what the service account is for"),
    );
    assert_invalid(
        &link(
            bot,
            json!({"service": true, "person_email": "ana@lumen.example", "note": "x"}),
        )
        .await,
        &["service"],
        None,
    );
    assert_invalid(
        &link(bot, json!({"note": "who?"})).await,
        &["person_email"],
        None,
    );
    assert_invalid(
        &link(ben, json!({"person_email": "nobody@lumen.example"})).await,
        &["person"],
        Some("not on the HR roster"),
    );
    let person = h.resource_id(&lead, "person", "ana@lumen.example").await;
    assert_invalid(
        &link(person, json!({"service": true, "note": "not an account"})).await,
        &["account"],
        None,
    );
    assert_problem(
        &link(9999, json!({"service": true, "note": "ghost"})).await,
        404,
    );
    assert_problem(&link(bot, json!({"service": true, "extra": 1})).await, 422);

    // Marked a service account: no longer unlinked, its note shown as the owner.
    let r = link(
        bot,
        json!({"service": true, "note": "CI deploys to production"}),
    )
    .await;
    r.expect(200);
    let saved = r.json();
    assert_eq!(saved["service"], true, "{saved}");
    assert_eq!(saved["account_id"], bot);
    assert_eq!(h.account_users(&lead, "?unlinked=true").await, ["ben.ode"]);
    let listed = h.get(&lead, "/accounts").await;
    let bot_view = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["account"]["id"] == bot)
        .unwrap();
    assert_eq!(
        bot_view["owner"],
        json!({"type": "service", "note": "CI deploys to production"})
    );
    let set_by = bot_view["link"]["set_by"].as_str().unwrap();
    assert!(set_by.starts_with("lead@example.com"), "{set_by}");

    // Linked to a person by hand.
    link(
        ben,
        json!({"person_email": "Ben@Lumen.example", "note": "renamed user"}),
    )
    .await
    .expect(200);
    assert!(h.account_users(&lead, "?unlinked=1").await.is_empty());

    // The manual decision removed: unowned again. Removing it twice is a 404.
    let del = |id: i64| {
        let h = &h;
        let lead = lead.clone();
        async move {
            h.bearer(&lead, Method::DELETE, &format!("/accounts/{id}/link"), None)
                .await
        }
    };
    del(bot).await.expect(204);
    assert_eq!(
        h.account_users(&lead, "?unlinked=true").await,
        ["deploy-bot"]
    );
    assert_problem(&del(bot).await, 404);
    assert_problem(
        &h.bearer(&lead, Method::GET, "/accounts?unlinked=perhaps", None)
            .await,
        400,
    );
    let actions: Vec<String> = h.events().await.into_iter().map(|e| e.action).collect();
    for a in [
        "account.mark_service",
        "account.link",
        "account.unlink",
        "collection.run",
    ] {
        assert!(
            actions.iter().any(|x| x == a),
            "no {a} event in {actions:?}"
        );
    }
    h.finish().await;
}

async fn auditors_read_and_only_collectors_change(backend: Backend) {
    let Some(h) = Harness::start(backend, LIMITS).await else {
        return;
    };
    let lead = h.lead().await;
    let (_, auditor) = holder_with_token(&h, "auditor@example.com", Role::Auditor).await;
    let (_, owner) = holder_with_token(&h, "owner@example.com", Role::ControlOwner).await;
    let (_, employee) = holder_with_token(&h, "emp@example.com", Role::Employee).await;
    let (_, admin) = holder_with_token(&h, "admin@example.com", Role::Admin).await;
    h.imported(&admin, "credential-report.csv", CREDENTIAL_REPORT)
        .await;
    let bot = h.resource_id(&lead, "account", "deploy-bot").await;
    let runs_before = h.get(&lead, "/runs").await;

    // Auditors and control owners read everything collected.
    for who in [&auditor, &owner] {
        assert_eq!(h.get(who, "/resources").await["total"], 3);
        h.get(who, "/resources/counts").await;
        h.get(who, &format!("/resources/{bot}")).await;
        assert_eq!(h.get(who, "/runs").await, runs_before);
        assert_eq!(
            h.get(who, "/accounts?unlinked=true")
                .await
                .as_array()
                .unwrap()
                .len(),
            3
        );
    }
    // …but may not import or decide owners.
    for who in [&auditor, &owner, &employee] {
        let p = assert_problem(&h.import(who, "roster.csv", ROSTER_1, None).await, 403);
        assert!(p["detail"].as_str().unwrap().contains("import"), "{p}");
        assert_problem(
            &h.bearer(
                who,
                Method::PUT,
                &format!("/accounts/{bot}/link"),
                Some(&json!({"service": true, "note": "CI deploys"})),
            )
            .await,
            403,
        );
        assert_problem(
            &h.bearer(who, Method::DELETE, &format!("/accounts/{bot}/link"), None)
                .await,
            403,
        );
    }
    // Employees read none of it.
    for path in [
        "/resources".to_string(),
        "/resources/counts".into(),
        format!("/resources/{bot}"),
        "/runs".into(),
        "/accounts".into(),
    ] {
        assert_problem(&h.bearer(&employee, Method::GET, &path, None).await, 403);
    }
    // Nothing the refused callers tried was recorded.
    assert_eq!(h.get(&lead, "/runs").await, runs_before);
    assert_eq!(
        h.get(&lead, "/accounts?unlinked=true")
            .await
            .as_array()
            .unwrap()
            .len(),
        3
    );

    // A browser session must send its CSRF token to import.
    h.user("browser@example.com", Role::ComplianceLead, Some(PASSWORD))
        .await;
    let b = h.signed_in("browser@example.com").await;
    let parts = [Part::file(
        "file",
        "roster.csv",
        ROSTER_1.as_bytes().to_vec(),
    )];
    assert_problem(
        &b.api_multipart(Method::POST, "/imports", &parts, None)
            .await,
        403,
    );
    let csrf = b.csrf().await;
    b.api_multipart(Method::POST, "/imports", &parts, Some(&csrf))
        .await
        .expect(201);
    h.finish().await;
}

async fn the_openapi_document_lists_the_collection_endpoints(backend: Backend) {
    let Some(h) = Harness::start(backend, LIMITS).await else {
        return;
    };
    let doc = send(h.http.get(h.url("/api/openapi.json"))).await;
    doc.expect(200);
    let doc = doc.json();
    let paths = doc["paths"].as_object().unwrap();
    for (p, methods) in [
        ("/imports", &["post"][..]),
        ("/runs", &["get"]),
        ("/runs/{id}", &["get"]),
        ("/resources", &["get"]),
        ("/resources/counts", &["get"]),
        ("/resources/{id}", &["get"]),
        ("/accounts", &["get"]),
        ("/accounts/{id}/link", &["put", "delete"]),
    ] {
        assert!(paths.contains_key(p), "OpenAPI lacks {p}");
        for m in methods {
            assert!(paths[p][m].is_object(), "OpenAPI lacks {m} {p}");
        }
    }
    let import = &paths["/imports"]["post"];
    assert!(
        import["requestBody"]["content"]["multipart/form-data"].is_object(),
        "{import}"
    );
    for status in ["201", "422", "403"] {
        assert!(
            import["responses"][status].is_object(),
            "{status}: {import}"
        );
    }
    let params: Vec<&str> = paths["/resources"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for p in ["kind", "system", "q", "include_deleted", "limit", "offset"] {
        assert!(
            params.contains(&p),
            "/resources lacks the {p} parameter: {params:?}"
        );
    }
    let schemas = &doc["components"]["schemas"];
    for schema in [
        "Run",
        "Resource",
        "ResourceVersion",
        "ResourceHistory",
        "ResourceList",
        "Account",
        "AccountOwner",
        "LinkRequest",
        "FailedImport",
    ] {
        assert!(
            schemas[schema].is_object(),
            "OpenAPI lacks the {schema} schema"
        );
    }
    // Every reference points at a schema the document holds.
    let text = doc.to_string();
    for part in text.split("\"#/components/schemas/").skip(1) {
        let name = &part[..part.find('"').unwrap()];
        assert!(schemas[name].is_object(), "dangling reference to {name}");
    }
    h.finish().await;
}

/// The UI over the same server (cookie-keeping HTTP, no browser): the resource list pages by
/// 100, forms are shown only to roles that may collect, and forms need their CSRF token.
async fn the_pages_page_through_resources_and_hide_forms_by_role(backend: Backend) {
    let Some(h) = Harness::start(backend, LIMITS).await else {
        return;
    };
    let lead = h.lead().await;
    let mut roster = String::from("email,name,status,start_date\n");
    for i in 0..150 {
        roster.push_str(&format!(
            "p{i:03}@lumen.example,Person {i},active,2025-01-06\n"
        ));
    }
    h.imported(&lead, "roster.csv", &roster).await;
    h.imported(&lead, "credential-report.csv", CREDENTIAL_REPORT)
        .await;

    h.user("lead.ui@example.com", Role::ComplianceLead, Some(PASSWORD))
        .await;
    let b = h.signed_in("lead.ui@example.com").await;
    let rows = |html: &str| html.matches("<tr id=\"resource-").count();
    let first = b.get("/resources?kind=person").await;
    first.expect(200);
    assert_eq!(rows(&first.body), 100, "a page holds 100");
    assert!(first.body.contains("1–100 of 150"), "{}", first.body);
    let next = between(&first.body, "href=\"", "\" id=\"next-page\"")
        .map(|s| {
            s.rsplit("href=\"")
                .next()
                .unwrap()
                .replace("&amp;", "&")
                .replace("&#x2f;", "/")
        })
        .expect("a next link");
    assert!(
        next.contains("kind=person") && next.contains("page=2"),
        "{next}"
    );
    assert!(!first.body.contains("id=\"prev-page\""));
    let second = b.get(&next).await;
    second.expect(200);
    assert_eq!(rows(&second.body), 50);
    assert!(second.body.contains("id=\"prev-page\""));
    assert!(!second.body.contains("id=\"next-page\""));
    assert!(second.body.contains("p149@lumen.example"));
    let counts = b.get("/resources").await;
    assert!(counts.body.contains("id=\"resource-counts\""));
    assert!(
        between(&counts.body, "id=\"resource-counts\"", "</table>")
            .unwrap()
            .contains(">150<")
    );

    // A collector sees the owner forms; a form without its CSRF token is refused.
    let accounts = b.get("/accounts?unlinked=1").await;
    accounts.expect(200);
    assert_eq!(
        accounts
            .body
            .matches("class=\"badge badge-red unlinked\"")
            .count(),
        3
    );
    let bot = h.resource_id(&lead, "account", "deploy-bot").await;
    assert!(
        accounts
            .body
            .contains(&format!("id=\"service-form-{bot}\""))
    );
    let r = b
        .post_form(
            &format!("/accounts/{bot}/link"),
            &[
                ("_csrf", "forged"),
                ("mode", "service"),
                ("note", "CI deploys"),
            ],
        )
        .await;
    assert_eq!(r.status.as_u16(), 403, "{}", r.body);
    let csrf = csrf_in(&accounts.body);
    let r = b
        .post_form(
            &format!("/accounts/{bot}/link"),
            &[
                ("_csrf", &csrf),
                ("mode", "service"),
                ("note", "x"),
                ("f_unlinked", "1"),
            ],
        )
        .await;
    r.expect(422);
    assert!(
        r.body.contains(&format!("id=\"account-error-{bot}\"")),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("value=\"x\""),
        "the note is kept: {}",
        r.body
    );
    let r = b
        .post_form(
            &format!("/accounts/{bot}/link"),
            &[
                ("_csrf", &csrf),
                ("mode", "service"),
                ("note", "CI deploys"),
                ("f_unlinked", "1"),
            ],
        )
        .await;
    assert_eq!(r.status.as_u16(), 303, "{}", r.body);
    assert_eq!(r.location(), "/accounts?unlinked=1&saved=1");
    let after = b.get("/accounts?unlinked=1").await;
    assert!(!after.body.contains(&format!("id=\"account-{bot}\"")));

    // An auditor reads the same pages without any form; the import form is refused.
    h.user("auditor.ui@example.com", Role::Auditor, Some(PASSWORD))
        .await;
    let a = h.signed_in("auditor.ui@example.com").await;
    let page = a.get("/accounts").await;
    page.expect(200);
    assert!(page.body.contains("service account"), "{}", page.body);
    for form in ["link-form-", "service-form-", "unlink-form-"] {
        assert!(!page.body.contains(form), "an auditor sees no {form}");
    }
    assert!(
        b.get("/resources")
            .await
            .body
            .contains("href=\"/imports/new\"")
    );
    assert!(
        !a.get("/resources")
            .await
            .body
            .contains("href=\"/imports/new\"")
    );
    a.get("/imports/new").await.expect(403);
    a.get(&format!("/resources/{bot}")).await.expect(200);
    a.get("/runs").await.expect(200);

    // An employee reads none of it, and the navigation does not offer it.
    h.user("emp.ui@example.com", Role::Employee, Some(PASSWORD))
        .await;
    let e = h.signed_in("emp.ui@example.com").await;
    for path in ["/resources", "/accounts", "/runs", "/runs/RUN-1"] {
        e.get(path).await.expect(403);
    }
    let nav = |html: &str| html.replace("&#x2f;", "/").contains("href=\"/resources\"");
    assert!(
        nav(&b.get("/").await.body),
        "a lead is offered the resources"
    );
    assert!(!nav(&e.get("/").await.body), "an employee is not");
    h.finish().await;
}
