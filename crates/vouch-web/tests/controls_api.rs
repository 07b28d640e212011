//! HTTP integration tests of the control matrix, the scope and readiness: the real router served
//! on loopback, driven with real HTTP (reqwest), on SQLite and on PostgreSQL.
//!
//! Covered: adopting the library (whole, twice, by ids), custom controls and their validation,
//! edits, mapping and unmapping criteria, owners and backups, applicability with a
//! justification, the computed status (and that it cannot be set), readiness against the scope
//! (out-of-scope categories drop out; the gap list), scope validation, the role matrix of every
//! endpoint with exactly one audit event per successful change and none for a refusal, the
//! session + CSRF path, and the matrix export/import when those routes exist.
//!
//! The harness (`tests/support/http.rs`) is shared with `tests/api.rs`. The PostgreSQL half
//! is skipped (with a message) when no server is reachable outside CI.

mod support;

use reqwest::Method;
use reqwest::header;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::Duration;
use support::http::*;
use support::{MATRIX_HEAD, parse_csv};
use vouch_app::authz::{Action, permits};
use vouch_app::{Actor, Backend};
use vouch_domain::Role;

const LIMITS: Limits = Limits {
    max_body: 64 * 1024,
    http_timeout: Duration::from_secs(30),
    evidence_max_bytes: 1 << 30,
};
/// Every test gives up after this long.
const TEST_LIMIT: Duration = Duration::from_secs(240);

/// The 61 criteria by category, as shipped.
const SECURITY_CRITERIA: usize = 33;
const ALL_CRITERIA: usize = 61;
const AVAILABILITY_CRITERIA: usize = 3;

on_both_backends!(
    TEST_LIMIT;
    adopting_the_whole_library_covers_every_criterion,
    adopting_by_ids_is_all_or_nothing,
    custom_controls_and_edits,
    mapping_and_unmapping_criteria,
    owners_backups_and_computed_status,
    not_applicable_needs_a_justification,
    readiness_follows_the_scope_and_lists_gaps,
    scope_validation_names_each_field,
    role_matrix_of_the_control_endpoints,
    browser_sessions_need_the_csrf_header,
    ui_pages_follow_the_permission_table,
    export_and_import_when_present,
);

// =====================================================================================
// Harness helpers of this file
// =====================================================================================

impl Harness {
    /// A compliance lead with a token of that role: the usual caller of these tests.
    async fn lead(&self) -> String {
        let u = self
            .user("lead@example.com", Role::ComplianceLead, None)
            .await;
        self.token(&u, Role::ComplianceLead).await.1
    }

    /// Adopts library controls through the API (as `secret`), returning the ids added.
    async fn adopt(&self, secret: &str, ids: Option<&[&str]>) -> Vec<String> {
        let body = match ids {
            Some(ids) => json!({ "ids": ids }),
            None => json!({}),
        };
        let r = self
            .bearer(secret, Method::POST, "/controls/adopt", Some(&body))
            .await;
        r.expect(200);
        serde_json::from_value(r.json()).unwrap()
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

fn gap(kind: &str, subject: &str) -> (String, String) {
    (kind.to_string(), subject.to_string())
}

fn scope_body(categories: &[&str]) -> Value {
    json!({
        "system_name": "Lumen Platform",
        "description": "Multi-tenant analytics SaaS",
        "services": ["Dashboards", "Data ingestion API"],
        "components": [{"name": "Production AWS account", "kind": "infrastructure"}],
        "categories": categories,
        "report_type": "type2",
        "period_start": "2026-01-01",
        "period_end": "2026-06-30",
        "subservices": [{"name": "AWS", "services": "hosting", "method": "carved_out",
                          "expected_controls": ["Physical security of data centres"]}],
        "customer_controls": ["Customers manage their own users"]
    })
}

const ALL_CATEGORIES: [&str; 5] = [
    "security",
    "availability",
    "confidentiality",
    "processing_integrity",
    "privacy",
];

fn custom(id: &str) -> Value {
    json!({
        "id": id,
        "name": "Badge access review",
        "description": "Quarterly review of who holds an office badge.",
        "frequencies": ["quarterly"],
        "nature": "manual",
        "evidence": ["badge system export"],
        "criteria": ["CC6.4"]
    })
}

// =====================================================================================
// Adopting the library
// =====================================================================================

async fn adopting_the_whole_library_covers_every_criterion(backend: Backend) {
    let Some(h) = Harness::start(backend, LIMITS).await else {
        return;
    };
    let lead = h.lead().await;
    let before = h.event_count().await;

    let added = h.adopt(&lead, None).await;
    assert!(added.len() >= 100, "at least 100 controls: {}", added.len());
    let unique: BTreeSet<_> = added.iter().collect();
    assert_eq!(unique.len(), added.len(), "no control adopted twice");
    assert_eq!(
        h.event_count().await,
        before + added.len() as i64,
        "one audit event per adopted control"
    );
    let events = h.events().await;
    let adopt_events: Vec<_> = events
        .iter()
        .filter(|e| e.action == "control.adopt")
        .collect();
    assert_eq!(adopt_events.len(), added.len());
    let evented: BTreeSet<_> = adopt_events.iter().map(|e| e.object_id.clone()).collect();
    assert_eq!(evented, added.iter().cloned().collect::<BTreeSet<_>>());
    assert!(adopt_events.iter().all(|e| e.object_type == "control"));

    // Twice adds nothing, and writes nothing.
    let count = h.event_count().await;
    assert!(
        h.adopt(&lead, None).await.is_empty(),
        "adopting twice adds nothing"
    );
    assert_eq!(h.event_count().await, count);

    let list = h.get(&lead, "/controls").await;
    let listed = ids_of(&list);
    assert_eq!(listed.len(), added.len());
    for c in list.as_array().unwrap() {
        assert_eq!(c["source"], "library", "{c}");
        assert_eq!(c["applicable"], true);
        assert_eq!(c["status"], "incomplete", "no owner yet: {c}");
        assert!(c["owner_id"].is_null());
        assert!(!c["criteria"].as_array().unwrap().is_empty(), "{c}");
        assert!(!c["frequencies"].as_array().unwrap().is_empty(), "{c}");
    }

    // Every one of the 61 criteria is covered once every category is in scope.
    let r = h
        .bearer(
            &lead,
            Method::PUT,
            "/scope",
            Some(&scope_body(&ALL_CATEGORIES)),
        )
        .await;
    r.expect(200);
    assert_eq!(
        h.event_count().await,
        count + 1,
        "saving the scope is one event"
    );
    let r = h.get(&lead, "/readiness").await;
    let criteria = r["criteria"].as_array().unwrap();
    assert_eq!(criteria.len(), ALL_CRITERIA);
    let uncovered: Vec<_> = criteria
        .iter()
        .filter(|c| c["covered"] != true)
        .map(|c| c["id"].clone())
        .collect();
    assert!(uncovered.is_empty(), "uncovered criteria: {uncovered:?}");
    assert_eq!(r["categories"].as_array().unwrap().len(), 5);
    assert_eq!(r["overall_pct"], 0, "nothing proves any control yet");
    assert!(
        !gaps(&r).iter().any(|(k, _)| k == "criterion_uncovered"),
        "no criterion without a control"
    );
    h.finish().await;
}

async fn adopting_by_ids_is_all_or_nothing(backend: Backend) {
    let Some(h) = Harness::start(backend, LIMITS).await else {
        return;
    };
    let lead = h.lead().await;
    let count = h.event_count().await;

    // An unknown id among known ones: 422 naming it, nothing adopted.
    let r = h
        .bearer(
            &lead,
            Method::POST,
            "/controls/adopt",
            Some(&json!({"ids": ["IAM-03", "NOPE-99", "HR-01"]})),
        )
        .await;
    let p = assert_invalid(&r, &["ids"], Some("NOPE-99"));
    assert!(
        !p.to_string().contains("IAM-03"),
        "only the unknown id is named: {p}"
    );
    assert!(
        h.get(&lead, "/controls")
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(h.event_count().await, count);

    // An unknown member of the body.
    let r = h
        .bearer(
            &lead,
            Method::POST,
            "/controls/adopt",
            Some(&json!({"ids": ["IAM-03"], "everything": true})),
        )
        .await;
    let p = assert_problem(&r, 422);
    assert!(p["detail"].as_str().unwrap().contains("everything"), "{p}");

    // Known ids, in any case.
    let added = h.adopt(&lead, Some(&["iam-03", "HR-01"])).await;
    assert_eq!(added, ["IAM-03", "HR-01"]);
    assert_eq!(h.event_count().await, count + 2);
    // Again, and with one new one: only the new one is added.
    let added = h.adopt(&lead, Some(&["IAM-03", "HR-01", "CHG-01"])).await;
    assert_eq!(added, ["CHG-01"]);
    assert_eq!(h.event_count().await, count + 3);
    assert!(h.adopt(&lead, Some(&["CHG-01"])).await.is_empty());
    assert!(h.adopt(&lead, Some(&[])).await.is_empty());
    assert_eq!(h.event_count().await, count + 3);
    let listed = ids_of(&h.get(&lead, "/controls").await);
    assert_eq!(listed.len(), 3, "{listed:?}");

    let c = h.get(&lead, "/controls/iam-03").await;
    assert_eq!(c["id"], "IAM-03", "ids are found in any case");
    assert_eq!(c["name"], "Multi-factor authentication");
    assert_eq!(strings(&c["criteria"]), ["CC6.1", "CC6.6"]);
    assert_eq!(c["frequencies"], json!(["continuous"]));
    assert_eq!(c["nature"], "automated");
    assert_problem(
        &h.bearer(&lead, Method::GET, "/controls/NOPE-99", None)
            .await,
        404,
    );
    h.finish().await;
}

// =====================================================================================
// Custom controls and edits
// =====================================================================================

async fn custom_controls_and_edits(backend: Backend) {
    let Some(h) = Harness::start(backend, LIMITS).await else {
        return;
    };
    let lead = h.lead().await;
    h.adopt(&lead, Some(&["IAM-03"])).await;
    let count = h.event_count().await;

    // Create: 201, id normalised, a custom control, status computed.
    let r = h
        .bearer(&lead, Method::POST, "/controls", Some(&custom(" cus-01 ")))
        .await;
    r.expect(201);
    let c = r.json();
    assert_eq!(c["id"], "CUS-01");
    assert_eq!(c["source"], "custom");
    assert_eq!(c["domain"], "Custom", "an empty domain becomes Custom");
    assert_eq!(c["status"], "incomplete");
    assert_eq!(strings(&c["criteria"]), ["CC6.4"]);
    assert_eq!(h.event_count().await, count + 1);
    let e = h.last_event().await;
    assert_eq!(
        (
            e.action.as_str(),
            e.object_type.as_str(),
            e.object_id.as_str()
        ),
        ("control.create", "control", "CUS-01")
    );
    let count = count + 1;

    // Duplicate ids (in another case, and a library control's id): 422 naming id.
    for dup in ["CUS-01", "cus-01", "IAM-03"] {
        let r = h
            .bearer(&lead, Method::POST, "/controls", Some(&custom(dup)))
            .await;
        assert_invalid(&r, &["id"], Some("already exists"));
    }
    // An unknown criterion: 422 naming it.
    let mut bad = custom("CUS-02");
    bad["criteria"] = json!(["CC6.1", "CC99.9"]);
    let r = h.bearer(&lead, Method::POST, "/controls", Some(&bad)).await;
    assert_invalid(&r, &["criteria"], Some("CC99.9"));
    // Bad ids.
    for id in [
        "9 lives",
        "",
        "has space",
        "ÜBER-01",
        "A-123456789012345678901",
    ] {
        let r = h
            .bearer(&lead, Method::POST, "/controls", Some(&custom(id)))
            .await;
        assert_invalid(&r, &["id"], None);
    }
    // Everything wrong at once, each named.
    let r = h
        .bearer(
            &lead,
            Method::POST,
            "/controls",
            Some(
                &json!({"id": "1x", "name": " ", "frequencies": [], "nature": "manual",
                         "criteria": ["ZZ1"]}),
            ),
        )
        .await;
    assert_invalid(&r, &["id", "name", "frequencies", "criteria"], Some("ZZ1"));
    // Wrong shapes: an unknown frequency, an unknown field (a status cannot be given).
    let mut bad = custom("CUS-03");
    bad["frequencies"] = json!(["hourly"]);
    assert_problem(
        &h.bearer(&lead, Method::POST, "/controls", Some(&bad)).await,
        422,
    );
    let mut bad = custom("CUS-03");
    bad["status"] = json!("ready");
    let p = assert_problem(
        &h.bearer(&lead, Method::POST, "/controls", Some(&bad)).await,
        422,
    );
    assert!(p["detail"].as_str().unwrap().contains("status"), "{p}");
    assert_eq!(h.event_count().await, count, "refusals write nothing");
    assert_eq!(h.get(&lead, "/controls").await.as_array().unwrap().len(), 2);

    // PATCH name, description, frequencies and criteria.
    let r = h
        .bearer(
            &lead,
            Method::PATCH,
            "/controls/cus-01",
            Some(&json!({
                "name": "  Office badge review  ",
                "description": "Monthly review of office badges against the HR roster.",
                "frequencies": ["monthly", "per_event", "monthly"],
                "criteria": ["cc6.4", "CC6.5"]
            })),
        )
        .await;
    r.expect(200);
    let c = r.json();
    assert_eq!(c["name"], "Office badge review");
    assert_eq!(
        c["description"],
        "Monthly review of office badges against the HR roster."
    );
    assert_eq!(c["frequencies"], json!(["monthly", "per_event"]));
    assert_eq!(strings(&c["criteria"]), ["CC6.4", "CC6.5"]);
    assert_eq!(c["nature"], "manual", "untouched fields stay");
    assert_eq!(c["evidence"], json!(["badge system export"]));
    assert_eq!(h.event_count().await, count + 1);
    let e = h.last_event().await;
    assert_eq!(e.action, "control.update");
    assert_eq!(e.object_id, "CUS-01");
    let before = e.before.as_ref().expect("the update records the before");
    let after = e.after.as_ref().expect("and the after");
    assert_eq!(before["name"], "Badge access review");
    assert_eq!(after["name"], "Office badge review");
    let count = count + 1;
    // Read back.
    let c = h.get(&lead, "/controls/CUS-01").await;
    assert_eq!(c["name"], "Office badge review");
    assert_eq!(strings(&c["criteria"]), ["CC6.4", "CC6.5"]);
    // A PATCH that changes nothing writes nothing.
    h.bearer(
        &lead,
        Method::PATCH,
        "/controls/CUS-01",
        Some(&json!({"name": "Office badge review"})),
    )
    .await
    .expect(200);
    assert_eq!(h.event_count().await, count, "no change, no event");
    // Nor does one that lists the same criteria in another order (or case).
    let r = h
        .bearer(
            &lead,
            Method::PATCH,
            "/controls/CUS-01",
            Some(&json!({"criteria": ["CC6.5", "cc6.4"]})),
        )
        .await;
    r.expect(200);
    assert_eq!(
        strings(&r.json()["criteria"]),
        ["CC6.4", "CC6.5"],
        "criteria come back in one order"
    );
    assert_eq!(h.event_count().await, count, "same criteria, no event");

    // Invalid patches: each named, nothing written.
    let r = h
        .bearer(
            &lead,
            Method::PATCH,
            "/controls/CUS-01",
            Some(&json!({"name": "", "frequencies": [], "criteria": ["CC6.4", "P9.9"]})),
        )
        .await;
    assert_invalid(&r, &["name", "frequencies", "criteria"], Some("P9.9"));
    // The status is computed: it cannot be set.
    let r = h
        .bearer(
            &lead,
            Method::PATCH,
            "/controls/CUS-01",
            Some(&json!({"status": "ready"})),
        )
        .await;
    let p = assert_problem(&r, 422);
    assert!(
        p["detail"].as_str().unwrap().contains("unknown field")
            && p["detail"].as_str().unwrap().contains("status"),
        "{p}"
    );
    // Nor can the id, the source or the applicability through a PATCH.
    for field in ["id", "source", "applicable", "owner_id"] {
        let r = h
            .bearer(
                &lead,
                Method::PATCH,
                "/controls/CUS-01",
                Some(&json!({ field: "x" })),
            )
            .await;
        let p = assert_problem(&r, 422);
        assert!(p["detail"].as_str().unwrap().contains(field), "{p}");
    }
    assert_problem(
        &h.bearer(
            &lead,
            Method::PATCH,
            "/controls/NOPE-1",
            Some(&json!({"name": "x"})),
        )
        .await,
        404,
    );
    assert_eq!(h.event_count().await, count);
    let c = h.get(&lead, "/controls/CUS-01").await;
    assert_eq!(
        c["name"], "Office badge review",
        "refused patches change nothing"
    );
    assert_eq!(c["status"], "incomplete");
    h.finish().await;
}

async fn mapping_and_unmapping_criteria(backend: Backend) {
    let Some(h) = Harness::start(backend, LIMITS).await else {
        return;
    };
    let lead = h.lead().await;
    h.adopt(&lead, Some(&["IAM-03"])).await;
    let count = h.event_count().await;

    // Map (any case): one event.
    let r = h
        .bearer(
            &lead,
            Method::POST,
            "/controls/IAM-03/criteria",
            Some(&json!({"criterion": " cc7.2 "})),
        )
        .await;
    r.expect(200);
    assert_eq!(strings(&r.json()["criteria"]), ["CC6.1", "CC6.6", "CC7.2"]);
    assert_eq!(h.event_count().await, count + 1);
    let e = h.last_event().await;
    assert_eq!(
        (e.action.as_str(), e.object_id.as_str()),
        ("control.map", "IAM-03")
    );
    // Mapping again changes nothing and writes nothing.
    h.bearer(
        &lead,
        Method::POST,
        "/controls/IAM-03/criteria",
        Some(&json!({"criterion": "CC7.2"})),
    )
    .await
    .expect(200);
    assert_eq!(h.event_count().await, count + 1);
    // An unknown criterion: 422 naming it.
    let r = h
        .bearer(
            &lead,
            Method::POST,
            "/controls/IAM-03/criteria",
            Some(&json!({"criterion": "CC42.1"})),
        )
        .await;
    assert_invalid(&r, &["criterion"], Some("CC42.1"));
    // On a control that does not exist: 404.
    assert_problem(
        &h.bearer(
            &lead,
            Method::POST,
            "/controls/NOPE-1/criteria",
            Some(&json!({"criterion": "CC7.2"})),
        )
        .await,
        404,
    );
    // The criterion page lists the control (criteria → controls).
    let c = h.get(&lead, "/controls/IAM-03").await;
    assert!(strings(&c["criteria"]).contains(&"CC7.2".to_string()));

    // Unmap: one event; unmapping what is not mapped is a 422 and writes nothing.
    let r = h
        .bearer(
            &lead,
            Method::DELETE,
            "/controls/IAM-03/criteria/cc7.2",
            None,
        )
        .await;
    r.expect(200);
    assert_eq!(strings(&r.json()["criteria"]), ["CC6.1", "CC6.6"]);
    assert_eq!(h.event_count().await, count + 2);
    assert_eq!(h.last_event().await.action, "control.unmap");
    for not_mapped in ["CC7.2", "CC1.1", "XX9.9"] {
        let r = h
            .bearer(
                &lead,
                Method::DELETE,
                &format!("/controls/IAM-03/criteria/{not_mapped}"),
                None,
            )
            .await;
        assert_invalid(&r, &["criterion"], Some(not_mapped));
    }
    assert_problem(
        &h.bearer(
            &lead,
            Method::DELETE,
            "/controls/NOPE-1/criteria/CC6.1",
            None,
        )
        .await,
        404,
    );
    assert_eq!(h.event_count().await, count + 2);
    // A control may end with no criterion at all (readiness then says nothing about it).
    for cr in ["CC6.1", "CC6.6"] {
        h.bearer(
            &lead,
            Method::DELETE,
            &format!("/controls/IAM-03/criteria/{cr}"),
            None,
        )
        .await
        .expect(200);
    }
    assert!(strings(&h.get(&lead, "/controls/IAM-03").await["criteria"]).is_empty());
    assert_eq!(h.event_count().await, count + 4);
    h.finish().await;
}

// =====================================================================================
// Owners, status, applicability
// =====================================================================================

async fn owners_backups_and_computed_status(backend: Backend) {
    let Some(h) = Harness::start(backend, LIMITS).await else {
        return;
    };
    let lead = h.lead().await;
    let alice = h.user("alice@example.com", Role::ControlOwner, None).await;
    let bob = h.user("bob@example.com", Role::Employee, None).await;
    let gone = h.user("gone@example.com", Role::ControlOwner, None).await;
    h.disable(&gone).await;
    let auditor = h.user("carol@example.com", Role::Auditor, None).await;
    h.adopt(&lead, Some(&["IAM-03"])).await;
    let count = h.event_count().await;

    let c = h.get(&lead, "/controls/IAM-03").await;
    assert_eq!(c["status"], "incomplete", "without an owner: {c}");

    let assign =
        |owner: Value, backup: Value| json!({"owner_id": owner, "backup_owner_id": backup});
    // Unknown person, disabled person, the same person twice: each a 422 naming the field.
    let r = h
        .bearer(
            &lead,
            Method::PUT,
            "/controls/IAM-03/owner",
            Some(&assign(json!("no-such-user"), Value::Null)),
        )
        .await;
    assert_invalid(&r, &["owner_id"], Some("no-such-user"));
    let r = h
        .bearer(
            &lead,
            Method::PUT,
            "/controls/IAM-03/owner",
            Some(&assign(json!(alice.id), json!("nobody-at-all"))),
        )
        .await;
    assert_invalid(&r, &["backup_owner_id"], Some("nobody-at-all"));
    let r = h
        .bearer(
            &lead,
            Method::PUT,
            "/controls/IAM-03/owner",
            Some(&assign(json!(gone.id), Value::Null)),
        )
        .await;
    assert_invalid(&r, &["owner_id"], Some("gone@example.com"));
    let r = h
        .bearer(
            &lead,
            Method::PUT,
            "/controls/IAM-03/owner",
            Some(&assign(json!(alice.id), json!(gone.id))),
        )
        .await;
    assert_invalid(&r, &["backup_owner_id"], Some("disabled"));
    let r = h
        .bearer(
            &lead,
            Method::PUT,
            "/controls/IAM-03/owner",
            Some(&assign(json!(alice.id), json!(alice.id))),
        )
        .await;
    assert_invalid(&r, &["backup_owner_id"], None);
    // An auditor cannot own a control (the UI does not offer them either).
    let r = h
        .bearer(
            &lead,
            Method::PUT,
            "/controls/IAM-03/owner",
            Some(&assign(json!(auditor.id), Value::Null)),
        )
        .await;
    assert_invalid(&r, &["owner_id"], Some("carol@example.com"));
    let r = h
        .bearer(
            &lead,
            Method::PUT,
            "/controls/IAM-03/owner",
            Some(&json!({"owner_id": alice.id, "status": "ready"})),
        )
        .await;
    assert_problem(&r, 422);
    assert_eq!(
        h.event_count().await,
        count,
        "refused assignments write nothing"
    );
    assert!(h.get(&lead, "/controls/IAM-03").await["owner_id"].is_null());

    // A good assignment: one event, the emails shown, the status moves on.
    let r = h
        .bearer(
            &lead,
            Method::PUT,
            "/controls/IAM-03/owner",
            Some(&assign(json!(alice.id), json!(bob.id))),
        )
        .await;
    r.expect(200);
    let c = r.json();
    assert_eq!(c["owner_id"], json!(alice.id));
    assert_eq!(c["backup_owner_id"], json!(bob.id));
    assert_eq!(c["owner_email"], "alice@example.com");
    assert_eq!(c["backup_owner_email"], "bob@example.com");
    assert_eq!(
        c["status"], "no_proof",
        "owner and description but no evidence: nothing proves it"
    );
    assert_eq!(h.event_count().await, count + 1);
    let e = h.last_event().await;
    assert_eq!(
        (e.action.as_str(), e.object_id.as_str()),
        ("control.assign", "IAM-03")
    );
    assert_eq!(e.after.as_ref().unwrap()["owner_id"], json!(alice.id));
    // On a control that does not exist: 404.
    assert_problem(
        &h.bearer(
            &lead,
            Method::PUT,
            "/controls/NOPE-1/owner",
            Some(&assign(json!(alice.id), Value::Null)),
        )
        .await,
        404,
    );

    // The description counts: without it the control is incomplete again.
    h.bearer(
        &lead,
        Method::PATCH,
        "/controls/IAM-03",
        Some(&json!({"description": "   "})),
    )
    .await
    .expect(200);
    let c = h.get(&lead, "/controls/IAM-03").await;
    assert_eq!(c["description"], "");
    assert_eq!(
        c["status"], "incomplete",
        "an owner but no description: {c}"
    );
    h.bearer(
        &lead,
        Method::PATCH,
        "/controls/IAM-03",
        Some(&json!({"description": "MFA everywhere that matters."})),
    )
    .await
    .expect(200);
    assert_eq!(h.get(&lead, "/controls/IAM-03").await["status"], "no_proof");
    // The list shows the same computed status.
    let list = h.get(&lead, "/controls").await;
    assert_eq!(list[0]["status"], "no_proof");
    assert_eq!(list[0]["owner_email"], "alice@example.com");

    // Clearing the owner (null) makes it incomplete again.
    h.bearer(
        &lead,
        Method::PUT,
        "/controls/IAM-03/owner",
        Some(&assign(Value::Null, Value::Null)),
    )
    .await
    .expect(200);
    let c = h.get(&lead, "/controls/IAM-03").await;
    assert!(
        c["owner_id"].is_null() && c["backup_owner_id"].is_null(),
        "{c}"
    );
    assert_eq!(c["status"], "incomplete");
    assert_eq!(h.event_count().await, count + 4);

    // A person disabled after being made owner: the control keeps its owner, and
    // reassigning the same disabled person is refused.
    h.bearer(
        &lead,
        Method::PUT,
        "/controls/IAM-03/owner",
        Some(&assign(json!(alice.id), Value::Null)),
    )
    .await
    .expect(200);
    h.disable(&alice).await;
    let n = h.event_count().await;
    let r = h
        .bearer(
            &lead,
            Method::PUT,
            "/controls/IAM-03/owner",
            Some(&assign(json!(alice.id), json!(bob.id))),
        )
        .await;
    assert_invalid(&r, &["owner_id"], Some("alice@example.com"));
    assert_eq!(h.event_count().await, n);
    h.finish().await;
}

async fn not_applicable_needs_a_justification(backend: Backend) {
    let Some(h) = Harness::start(backend, LIMITS).await else {
        return;
    };
    let lead = h.lead().await;
    h.adopt(&lead, Some(&["PHY-01", "IAM-03"])).await;
    let count = h.event_count().await;

    for body in [
        json!({"applicable": false}),
        json!({"applicable": false, "justification": null}),
        json!({"applicable": false, "justification": "   "}),
        json!({"applicable": false, "justification": "remote"}),
    ] {
        let r = h
            .bearer(
                &lead,
                Method::PUT,
                "/controls/PHY-01/applicability",
                Some(&body),
            )
            .await;
        assert_invalid(&r, &["justification"], None);
    }
    assert_problem(
        &h.bearer(
            &lead,
            Method::PUT,
            "/controls/PHY-01/applicability",
            Some(&json!({"justification": "no offices at all"})),
        )
        .await,
        422,
    );
    assert_eq!(h.event_count().await, count);
    assert_eq!(h.get(&lead, "/controls/PHY-01").await["applicable"], true);

    let why = "Fully remote company: no offices or data centres of our own.";
    let r = h
        .bearer(
            &lead,
            Method::PUT,
            "/controls/phy-01/applicability",
            Some(&json!({"applicable": false, "justification": format!("  {why} ")})),
        )
        .await;
    r.expect(200);
    let c = r.json();
    assert_eq!(c["status"], "not_applicable");
    assert_eq!(c["applicable"], false);
    assert_eq!(c["na_justification"], why);
    assert_eq!(h.event_count().await, count + 1);
    let e = h.last_event().await;
    assert_eq!(
        (e.action.as_str(), e.object_id.as_str()),
        ("control.applicability", "PHY-01")
    );
    // Readiness: a control that does not apply covers nothing and is no gap.
    let r = h.get(&lead, "/readiness").await;
    let g = gaps(&r);
    assert!(!g.iter().any(|(_, s)| s == "PHY-01"), "{g:?}");
    let statuses = r["controls"].as_array().unwrap();
    assert!(
        statuses.contains(&json!({"id": "PHY-01", "status": "not_applicable"})),
        "{statuses:?}"
    );
    for c in r["criteria"].as_array().unwrap() {
        assert!(
            !strings(&c["controls"]).contains(&"PHY-01".to_string()),
            "{c}"
        );
    }

    // Applicable again: the justification goes.
    let r = h
        .bearer(
            &lead,
            Method::PUT,
            "/controls/PHY-01/applicability",
            Some(&json!({"applicable": true})),
        )
        .await;
    r.expect(200);
    let c = r.json();
    assert_eq!(c["applicable"], true);
    assert!(c["na_justification"].is_null(), "{c}");
    assert_eq!(c["status"], "incomplete");
    assert_eq!(h.event_count().await, count + 2);
    assert_problem(
        &h.bearer(
            &lead,
            Method::PUT,
            "/controls/NOPE-1/applicability",
            Some(&json!({"applicable": false, "justification": why})),
        )
        .await,
        404,
    );
    assert_eq!(h.event_count().await, count + 2);
    h.finish().await;
}

// =====================================================================================
// Readiness and scope
// =====================================================================================

async fn readiness_follows_the_scope_and_lists_gaps(backend: Backend) {
    let Some(h) = Harness::start(backend, LIMITS).await else {
        return;
    };
    let lead = h.lead().await;
    let alice = h.user("alice@example.com", Role::ControlOwner, None).await;

    // Nothing adopted: every in-scope criterion is a gap; security only by default.
    let r = h.get(&lead, "/readiness").await;
    assert_eq!(r["criteria"].as_array().unwrap().len(), SECURITY_CRITERIA);
    assert_eq!(r["overall_pct"], 0);
    assert_eq!(gaps(&r).len(), SECURITY_CRITERIA);
    let cats = r["categories"].as_array().unwrap();
    assert_eq!(cats.len(), 1, "{cats:?}");
    assert_eq!(cats[0]["category"], "security");
    assert_eq!(cats[0]["criteria"], SECURITY_CRITERIA);
    assert_eq!(cats[0]["covered"], 0);

    // A few controls: an owned one, an unowned one, a privacy one and a custom one with no
    // description.
    h.adopt(&lead, Some(&["IAM-03", "HR-01", "PRV-01", "BCD-01"]))
        .await;
    let mut c = custom("CUS-01");
    c["description"] = json!("");
    c["criteria"] = json!(["CC6.4", "C1.1"]);
    h.bearer(&lead, Method::POST, "/controls", Some(&c))
        .await
        .expect(201);
    for id in ["IAM-03", "CUS-01"] {
        h.bearer(
            &lead,
            Method::PUT,
            &format!("/controls/{id}/owner"),
            Some(&json!({"owner_id": alice.id})),
        )
        .await
        .expect(200);
    }
    let lib = vouch_domain::controls::soc2_starter();
    let crit_of = |id: &str| lib.get(id).unwrap().criteria.clone();

    let r = h.get(&lead, "/readiness").await;
    let criteria = r["criteria"].as_array().unwrap();
    assert_eq!(criteria.len(), SECURITY_CRITERIA, "security only");
    assert!(
        criteria.iter().all(|c| c["category"] == "security"),
        "only security criteria: {criteria:?}"
    );
    assert!(
        !criteria
            .iter()
            .any(|c| c["id"].as_str().unwrap().starts_with('P')
                || c["id"].as_str().unwrap().starts_with('A')
                || c["id"].as_str().unwrap().starts_with("C1")),
        "no out-of-scope criterion listed"
    );
    let g = gaps(&r);
    // Controls without an owner, without a description, with nothing to prove them.
    assert!(g.contains(&gap("control_without_owner", "HR-01")), "{g:?}");
    assert!(
        !g.contains(&gap("control_without_owner", "IAM-03")),
        "{g:?}"
    );
    assert!(
        g.contains(&gap("control_without_description", "CUS-01")),
        "{g:?}"
    );
    for id in ["IAM-03", "HR-01", "CUS-01"] {
        assert!(g.contains(&gap("control_without_proof", id)), "{id}: {g:?}");
    }
    // A control that only addresses out-of-scope criteria (PRV-01: P1.1) is no gap.
    assert!(
        !g.iter().any(|(_, s)| s == "PRV-01"),
        "privacy is out of scope: {g:?}"
    );
    // Criteria without controls: exactly the security ones nobody maps.
    let mapped: BTreeSet<String> = ["IAM-03", "HR-01", "PRV-01", "BCD-01"]
        .iter()
        .flat_map(|id| crit_of(id))
        .chain(["CC6.4".to_string()])
        .collect();
    let catalog = vouch_domain::criteria::soc2();
    let expected_uncovered: BTreeSet<String> = catalog
        .in_category(vouch_domain::Category::Security)
        .map(|c| c.id.clone())
        .filter(|id| !mapped.contains(id))
        .collect();
    let uncovered: BTreeSet<String> = g
        .iter()
        .filter(|(k, _)| k == "criterion_uncovered")
        .map(|(_, s)| s.clone())
        .collect();
    assert_eq!(uncovered, expected_uncovered);
    assert!(uncovered.contains("CC1.1"), "{uncovered:?}");
    let covered = criteria.iter().filter(|c| c["covered"] == true).count();
    assert_eq!(covered, SECURITY_CRITERIA - expected_uncovered.len());
    let cc61 = criteria.iter().find(|c| c["id"] == "CC6.1").unwrap();
    assert!(strings(&cc61["controls"]).contains(&"IAM-03".to_string()));
    assert_eq!(cc61["ready_controls"], 0, "nothing is proven");
    // The security category counts the same.
    let cats = r["categories"].as_array().unwrap();
    assert_eq!(cats.len(), 1);
    assert_eq!(cats[0]["covered"], covered);
    assert_eq!(cats[0]["ready_pct"], 0);
    assert_eq!(r["overall_pct"], 0);
    // Statuses are computed per control.
    let statuses: Vec<Value> = r["controls"].as_array().unwrap().clone();
    for (id, status) in [
        ("IAM-03", "no_proof"),
        ("HR-01", "incomplete"),
        ("CUS-01", "incomplete"),
        ("PRV-01", "incomplete"),
    ] {
        assert!(
            statuses.contains(&json!({"id": id, "status": status})),
            "{id}: {statuses:?}"
        );
    }

    // Availability in scope: its three criteria join every count; privacy stays out.
    h.bearer(
        &lead,
        Method::PUT,
        "/scope",
        Some(&scope_body(&["availability"])),
    )
    .await
    .expect(200);
    let r = h.get(&lead, "/readiness").await;
    let criteria = r["criteria"].as_array().unwrap();
    assert_eq!(criteria.len(), SECURITY_CRITERIA + AVAILABILITY_CRITERIA);
    let cats: Vec<&str> = r["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["category"].as_str().unwrap())
        .collect();
    assert_eq!(cats, ["security", "availability"]);
    let avail = &r["categories"][1];
    assert_eq!(avail["criteria"], AVAILABILITY_CRITERIA);
    let bcd = crit_of("BCD-01");
    let avail_covered = bcd.iter().filter(|c| c.starts_with('A')).count();
    assert_eq!(avail["covered"], avail_covered, "BCD-01 maps {bcd:?}");
    let g = gaps(&r);
    for a in ["A1.1", "A1.2", "A1.3"] {
        let is_gap = g.contains(&gap("criterion_uncovered", a));
        assert_eq!(is_gap, !bcd.contains(&a.to_string()), "{a}: {g:?}");
    }
    assert!(
        !g.iter()
            .any(|(k, s)| k == "criterion_uncovered" && s.starts_with('P')),
        "privacy criteria are out of scope: {g:?}"
    );

    // Every category: 61.
    h.bearer(
        &lead,
        Method::PUT,
        "/scope",
        Some(&scope_body(&ALL_CATEGORIES)),
    )
    .await
    .expect(200);
    let r = h.get(&lead, "/readiness").await;
    assert_eq!(r["criteria"].as_array().unwrap().len(), ALL_CRITERIA);
    assert_eq!(r["categories"].as_array().unwrap().len(), 5);
    let g = gaps(&r);
    assert!(
        g.contains(&gap("control_without_owner", "PRV-01")),
        "with privacy in scope, PRV-01 counts: {g:?}"
    );
    let conf = r["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["category"] == "confidentiality")
        .unwrap()
        .clone();
    assert!(
        conf["covered"].as_u64().unwrap() >= 1,
        "CUS-01 maps C1.1: {conf}"
    );

    // Back to security only: the others drop out again.
    h.bearer(&lead, Method::PUT, "/scope", Some(&scope_body(&[])))
        .await
        .expect(200);
    let r = h.get(&lead, "/readiness").await;
    assert_eq!(r["criteria"].as_array().unwrap().len(), SECURITY_CRITERIA);
    assert_eq!(r["categories"].as_array().unwrap().len(), 1);
    h.finish().await;
}

async fn scope_validation_names_each_field(backend: Backend) {
    let Some(h) = Harness::start(backend, LIMITS).await else {
        return;
    };
    let lead = h.lead().await;
    let count = h.event_count().await;

    // A fresh deployment: security only, Type II.
    let s = h.get(&lead, "/scope").await;
    assert_eq!(s["categories"], json!(["security"]));
    assert_eq!(s["report_type"], "type2");

    // Period end before start.
    let mut b = scope_body(&["availability"]);
    b["period_start"] = json!("2026-06-30");
    b["period_end"] = json!("2026-01-01");
    let r = h.bearer(&lead, Method::PUT, "/scope", Some(&b)).await;
    assert_invalid(&r, &["period_end"], Some("2026-01-01"));
    // Equal dates are no period either.
    b["period_end"] = json!("2026-06-30");
    let r = h.bearer(&lead, Method::PUT, "/scope", Some(&b)).await;
    assert_invalid(&r, &["period_end"], None);
    // A start without an end and the other way round.
    let mut b = scope_body(&[]);
    b["period_end"] = Value::Null;
    assert_invalid(
        &h.bearer(&lead, Method::PUT, "/scope", Some(&b)).await,
        &["period_end"],
        None,
    );
    let mut b = scope_body(&[]);
    b["period_start"] = Value::Null;
    assert_invalid(
        &h.bearer(&lead, Method::PUT, "/scope", Some(&b)).await,
        &["period_start"],
        None,
    );
    // Type I without an as-of date.
    let mut b = scope_body(&[]);
    b["report_type"] = json!("type1");
    let r = h.bearer(&lead, Method::PUT, "/scope", Some(&b)).await;
    assert_invalid(&r, &["as_of"], None);
    // Unknown category, unknown report type, a date that is not one, an unknown field.
    for (field, value) in [
        ("categories", json!(["security", "resilience"])),
        ("report_type", json!("type3")),
        ("period_end", json!("2026-13-45")),
        ("colour", json!("blue")),
    ] {
        let mut b = scope_body(&[]);
        b[field] = value.clone();
        let r = h.bearer(&lead, Method::PUT, "/scope", Some(&b)).await;
        let p = assert_problem(&r, 422);
        let detail = p["detail"].as_str().unwrap();
        let named = match field {
            "categories" => "resilience",
            "report_type" => "type3",
            "colour" => "colour",
            _ => "",
        };
        assert!(detail.contains(named), "{field}: {p}");
    }
    // Several problems at once, each named.
    let mut b = scope_body(&[]);
    b["system_name"] = json!("  ");
    b["subservices"] = json!([{"name": "", "services": "x", "method": "excluded"}]);
    b["components"] = json!([{"name": " ", "kind": "software"}]);
    let r = h.bearer(&lead, Method::PUT, "/scope", Some(&b)).await;
    assert_invalid(
        &r,
        &[
            "system_name",
            "subservices[0].name",
            "subservices[0].method",
            "components[0].name",
        ],
        Some("excluded"),
    );
    assert_eq!(h.event_count().await, count, "refusals write nothing");
    assert_eq!(h.get(&lead, "/scope").await, s, "and change nothing");

    // A good one: saved whole, one event with before and after.
    let good = scope_body(&["availability", "confidentiality"]);
    let r = h.bearer(&lead, Method::PUT, "/scope", Some(&good)).await;
    r.expect(200);
    assert_eq!(h.event_count().await, count + 1);
    let e = h.last_event().await;
    assert_eq!(e.action, "scope.update");
    assert_eq!(e.after.as_ref().unwrap()["system_name"], "Lumen Platform");
    let back = h.get(&lead, "/scope").await;
    assert_eq!(back["system_name"], "Lumen Platform");
    assert_eq!(
        back["categories"],
        json!(["availability", "confidentiality"])
    );
    assert_eq!(back["period_start"], "2026-01-01");
    assert_eq!(back["period_end"], "2026-06-30");
    assert_eq!(back["subservices"][0]["method"], "carved_out");
    assert_eq!(
        back["customer_controls"],
        json!(["Customers manage their own users"])
    );
    // Type I with a date.
    let mut t1 = scope_body(&[]);
    t1["report_type"] = json!("type1");
    t1["as_of"] = json!("2026-09-30");
    t1["period_start"] = Value::Null;
    t1["period_end"] = Value::Null;
    h.bearer(&lead, Method::PUT, "/scope", Some(&t1))
        .await
        .expect(200);
    let back = h.get(&lead, "/scope").await;
    assert_eq!(back["report_type"], "type1");
    assert_eq!(back["as_of"], "2026-09-30");
    assert_eq!(h.event_count().await, count + 2);
    h.finish().await;
}

// =====================================================================================
// The role matrix
// =====================================================================================

struct Case {
    method: Method,
    path: String,
    body: Option<Value>,
    action: Action,
    ok: u16,
    /// The audit action a successful call appends; `None` for a read.
    event: Option<&'static str>,
}

fn case(
    method: Method,
    path: impl Into<String>,
    body: Option<Value>,
    action: Action,
    event: Option<&'static str>,
) -> Case {
    Case {
        ok: if method == Method::POST && event == Some("control.create") {
            201
        } else {
            200
        },
        method,
        path: path.into(),
        body,
        action,
        event,
    }
}

async fn role_matrix_of_the_control_endpoints(backend: Backend) {
    let Some(h) = Harness::start(backend, LIMITS).await else {
        return;
    };
    let person = h.user("person@example.com", Role::ControlOwner, None).await;
    h.app
        .adopt_library(&Actor::cli(), Some(vec!["IAM-03".into()]))
        .await
        .unwrap();
    let library: Vec<String> = vouch_domain::controls::soc2_starter()
        .controls
        .iter()
        .map(|c| c.id.clone())
        .collect();

    for (i, role) in Role::ALL.into_iter().enumerate() {
        let (_, secret) = holder_with_token(&h, &role_email(role), role).await;
        let lib_id = library[10 + i].clone();
        let custom_id = format!("R{i}-01");
        // Each write is a real change for whoever may make it, so a success must add one
        // event. The order matters: map before unmap, not applicable before applicable.
        let cases = vec![
            case(Method::GET, "/controls", None, Action::ViewControls, None),
            case(
                Method::GET,
                "/controls/IAM-03",
                None,
                Action::ViewControls,
                None,
            ),
            case(Method::GET, "/scope", None, Action::ViewControls, None),
            case(Method::GET, "/readiness", None, Action::ViewControls, None),
            case(
                Method::POST,
                "/controls/adopt",
                Some(json!({"ids": [lib_id]})),
                Action::ManageControls,
                Some("control.adopt"),
            ),
            case(
                Method::POST,
                "/controls",
                Some(custom(&custom_id)),
                Action::ManageControls,
                Some("control.create"),
            ),
            case(
                Method::PATCH,
                "/controls/IAM-03",
                Some(json!({"name": format!("MFA, edited as {}", role.as_str())})),
                Action::ManageControls,
                Some("control.update"),
            ),
            case(
                Method::POST,
                "/controls/IAM-03/criteria",
                Some(json!({"criterion": "CC7.2"})),
                Action::ManageControls,
                Some("control.map"),
            ),
            case(
                Method::DELETE,
                "/controls/IAM-03/criteria/CC7.2",
                None,
                Action::ManageControls,
                Some("control.unmap"),
            ),
            case(
                Method::PUT,
                "/controls/IAM-03/owner",
                Some(json!({"owner_id": person.id})),
                Action::ManageControls,
                Some("control.assign"),
            ),
            case(
                Method::PUT,
                "/controls/IAM-03/owner",
                Some(json!({"owner_id": null})),
                Action::ManageControls,
                Some("control.assign"),
            ),
            case(
                Method::PUT,
                "/controls/IAM-03/applicability",
                Some(json!({"applicable": false, "justification": "Tried by every role in turn."})),
                Action::ManageControls,
                Some("control.applicability"),
            ),
            case(
                Method::PUT,
                "/controls/IAM-03/applicability",
                Some(json!({"applicable": true})),
                Action::ManageControls,
                Some("control.applicability"),
            ),
            case(
                Method::PUT,
                "/scope",
                Some(scope_body(&[if i % 2 == 0 {
                    "availability"
                } else {
                    "privacy"
                }])),
                Action::ManageScope,
                Some("scope.update"),
            ),
        ];
        for c in cases {
            let allowed = permits(role, c.action);
            let before = h.event_count().await;
            let state_before = h.app.list_controls(&Actor::cli()).await.unwrap();
            let scope_before = h.app.scope(&Actor::cli()).await.unwrap();
            let r = h
                .bearer(&secret, c.method.clone(), &c.path, c.body.as_ref())
                .await;
            let what = format!(
                "{} {} {} as {}",
                c.method,
                c.path,
                c.body.clone().unwrap_or_default(),
                role.as_str()
            );
            if allowed {
                assert_eq!(r.status.as_u16(), c.ok, "{what}: {}", r.text());
                let after = h.event_count().await;
                match c.event {
                    Some(action) => {
                        assert_eq!(after, before + 1, "{what}: exactly one event");
                        let e = h.last_event().await;
                        assert_eq!(e.action, action, "{what}");
                        let email = format!("{}@example.com", role.as_str().replace('_', "."));
                        assert!(
                            e.actor_label.starts_with(&email),
                            "{what}: the event names who did it: {}",
                            e.actor_label
                        );
                    }
                    None => assert_eq!(after, before, "{what}: a read writes nothing"),
                }
            } else {
                let p = assert_problem(&r, 403);
                assert!(
                    p["detail"].as_str().unwrap().len() > 5,
                    "{what}: the refusal says why: {p}"
                );
                assert_eq!(
                    h.event_count().await,
                    before,
                    "{what}: a refusal writes nothing"
                );
                assert_eq!(
                    h.app.list_controls(&Actor::cli()).await.unwrap().len(),
                    state_before.len(),
                    "{what}: a refusal changes nothing"
                );
                let now = h.app.list_controls(&Actor::cli()).await.unwrap();
                assert_eq!(
                    now.iter().map(|v| &v.control).collect::<Vec<_>>(),
                    state_before.iter().map(|v| &v.control).collect::<Vec<_>>(),
                    "{what}: a refusal changes nothing"
                );
                assert_eq!(h.app.scope(&Actor::cli()).await.unwrap(), scope_before);
            }
        }
    }
    // The table itself, as the brief states it.
    for (role, read, write) in [
        (Role::Admin, true, true),
        (Role::ComplianceLead, true, true),
        (Role::ControlOwner, true, false),
        (Role::Auditor, true, false),
        (Role::Employee, false, false),
    ] {
        assert_eq!(permits(role, Action::ViewControls), read, "{role:?}");
        assert_eq!(permits(role, Action::ManageControls), write, "{role:?}");
        assert_eq!(permits(role, Action::ManageScope), write, "{role:?}");
    }
    // Without a token at all: 401.
    let r = send(h.http.get(h.url("/api/v1/controls"))).await;
    assert_problem(&r, 401);
    h.finish().await;
}

// =====================================================================================
// Browser sessions on the API: writes need the CSRF header
// =====================================================================================

async fn browser_sessions_need_the_csrf_header(backend: Backend) {
    let Some(h) = Harness::start(backend, LIMITS).await else {
        return;
    };
    h.user("lead@example.com", Role::ComplianceLead, Some(PASSWORD))
        .await;
    let b = h.browser();
    b.sign_in("lead@example.com", PASSWORD).await;
    let count = h.event_count().await;
    // Reads need no token.
    b.api(Method::GET, "/controls", None, None)
        .await
        .expect(200);
    // A write without the header, or with a wrong one, is refused and writes nothing.
    let body = json!({"ids": ["IAM-03"]});
    assert_problem(
        &b.api(Method::POST, "/controls/adopt", Some(&body), None)
            .await,
        403,
    );
    assert_problem(
        &b.api(Method::POST, "/controls/adopt", Some(&body), Some("forged"))
            .await,
        403,
    );
    assert_problem(
        &b.api(Method::PUT, "/scope", Some(&scope_body(&[])), None)
            .await,
        403,
    );
    assert_eq!(h.event_count().await, count);
    // With it, the write goes through.
    let csrf = b.csrf_from("/controls").await;
    let r = b
        .api(Method::POST, "/controls/adopt", Some(&body), Some(&csrf))
        .await;
    r.expect(200);
    assert_eq!(r.json(), json!(["IAM-03"]));
    assert_eq!(h.event_count().await, count + 1);
    assert_eq!(h.last_event().await.actor_label, "lead@example.com");
    h.finish().await;
}

// =====================================================================================
// The UI pages: the same permissions, forms that say what is wrong, escaped output
// =====================================================================================

async fn ui_pages_follow_the_permission_table(backend: Backend) {
    let Some(h) = Harness::start(backend, LIMITS).await else {
        return;
    };
    h.app
        .adopt_library(&Actor::cli(), Some(vec!["IAM-03".into(), "PHY-01".into()]))
        .await
        .unwrap();
    let reads = [
        "/controls",
        "/controls/IAM-03",
        "/scope",
        "/readiness",
        "/criteria/CC6.1",
    ];
    for role in Role::ALL {
        let email = format!("ui.{}@example.com", role.as_str().replace('_', "."));
        h.user(&email, role, Some(PASSWORD)).await;
        let b = h.browser();
        b.sign_in(&email, PASSWORD).await;
        let home = b.get("/").await;
        home.expect(200);
        let nav = home.text();
        let view = permits(role, Action::ViewControls);
        // The sidebar's links (minijinja writes the slash as &#x2f;).
        let nav = between(&nav, "<nav", "</nav>")
            .unwrap_or("")
            .replace("&#x2f;", "/");
        for link in [
            "href=\"/controls\"",
            "href=\"/readiness\"",
            "href=\"/scope\"",
        ] {
            assert_eq!(
                nav.contains(link),
                view,
                "{role:?}: the navigation offers {link} exactly when the role may view controls"
            );
        }
        for path in reads {
            let r = b.get(path).await;
            let ok = view || path.starts_with("/criteria");
            assert_eq!(
                r.status.as_u16(),
                if ok { 200 } else { 403 },
                "{role:?} GET {path}"
            );
        }
        let r = b.get("/controls/new").await;
        let manage = permits(role, Action::ManageControls);
        assert_eq!(
            r.status.as_u16(),
            if manage { 200 } else { 403 },
            "{role:?}"
        );
        if view {
            // Pages offer the forms only to those who may use them.
            let page = b.get("/controls/IAM-03").await.text();
            assert_eq!(page.contains("id=\"owner-form\""), manage, "{role:?}");
            assert_eq!(page.contains("id=\"edit-control\""), manage, "{role:?}");
            let scope = b.get("/scope").await.text();
            assert_eq!(
                scope.contains("id=\"save-scope\""),
                permits(role, Action::ManageScope),
                "{role:?}"
            );
        }
        if !manage && view {
            // Forms posted anyway are refused and write nothing.
            let csrf = b.csrf_from("/controls").await;
            let count = h.event_count().await;
            for (path, form) in [
                ("/controls/adopt", vec![("_csrf", csrf.as_str())]),
                (
                    "/controls/IAM-03/criteria",
                    vec![("_csrf", csrf.as_str()), ("criterion", "CC7.2")],
                ),
                (
                    "/controls/IAM-03/applicability",
                    vec![
                        ("_csrf", csrf.as_str()),
                        ("applicable", "no"),
                        ("justification", "Trying without the right"),
                    ],
                ),
                (
                    "/scope",
                    vec![
                        ("_csrf", csrf.as_str()),
                        ("system_name", "Hijacked"),
                        ("report_type", "type2"),
                    ],
                ),
            ] {
                let r = b.post_form(path, &form).await;
                assert_eq!(r.status.as_u16(), 403, "{role:?} POST {path}: {}", r.text());
            }
            assert_eq!(h.event_count().await, count, "{role:?}");
        }
    }

    // A lead's forms: errors shown on the page, output escaped, changes audited.
    let b = h.browser();
    b.sign_in("ui.compliance.lead@example.com", PASSWORD).await;
    let csrf = b.csrf_from("/controls").await;
    let count = h.event_count().await;
    let r = b
        .post_form(
            "/controls/new",
            &[
                ("_csrf", &csrf),
                ("id", "CUS-01"),
                ("name", "<script>alert(1)</script> review"),
                ("description", "Described & <b>bold</b>"),
                ("frequency", "quarterly"),
                ("frequency", "per_event"),
                ("nature", "manual"),
                ("criteria", "CC6.4, CC99.1"),
            ],
        )
        .await;
    assert_eq!(r.status.as_u16(), 422, "{}", r.text());
    assert!(
        r.text().contains("CC99.1"),
        "the form names the unknown criterion"
    );
    assert!(
        r.text().contains("per_event"),
        "the form keeps what was typed"
    );
    assert_eq!(h.event_count().await, count);
    let r = b
        .post_form(
            "/controls/new",
            &[
                ("_csrf", &csrf),
                ("id", "CUS-01"),
                ("name", "<script>alert(1)</script> review"),
                ("description", "Described & <b>bold</b>"),
                ("frequency", "quarterly"),
                ("frequency", "per_event"),
                ("nature", "manual"),
                ("criteria", "CC6.4; cc6.5"),
            ],
        )
        .await;
    assert_eq!(r.status.as_u16(), 303, "{}", r.text());
    assert_eq!(
        r.headers.get(header::LOCATION).unwrap().to_str().unwrap(),
        "/controls/CUS-01"
    );
    assert_eq!(h.event_count().await, count + 1);
    let c = h.app.get_control(&Actor::cli(), "CUS-01").await.unwrap();
    assert_eq!(c.control.criteria, ["CC6.4", "CC6.5"]);
    assert_eq!(c.control.frequencies.len(), 2);
    for path in ["/controls/CUS-01", "/controls", "/criteria/CC6.4"] {
        let page = b.get(path).await.text();
        assert!(
            !page.contains("<script>alert(1)"),
            "{path} escapes the name"
        );
        assert!(
            page.contains("&lt;script&gt;"),
            "{path} shows the name escaped"
        );
    }
    // A scope whose period ends before it starts: the page names the field, nothing saved.
    let r = b
        .post_form(
            "/scope",
            &[
                ("_csrf", &csrf),
                ("system_name", "Lumen"),
                ("report_type", "type2"),
                ("period_start", "2026-06-30"),
                ("period_end", "2026-01-01"),
                ("category", "availability"),
            ],
        )
        .await;
    assert_eq!(r.status.as_u16(), 422);
    assert!(r.text().contains("on or before it starts"), "{}", r.text());
    assert!(r.text().contains("field-error"));
    assert_eq!(h.event_count().await, count + 1);
    // A good one.
    let r = b
        .post_form(
            "/scope",
            &[
                ("_csrf", &csrf),
                ("system_name", "Lumen"),
                ("report_type", "type2"),
                ("period_start", "2026-01-01"),
                ("period_end", "2026-06-30"),
                ("category", "availability"),
                ("components", "Production AWS | infrastructure | eu-west-1"),
                (
                    "subservices",
                    "AWS | hosting | carved_out | Physical security; Backups",
                ),
            ],
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text());
    assert_eq!(h.event_count().await, count + 2);
    let sc = h.app.scope(&Actor::cli()).await.unwrap();
    assert_eq!(sc.system_name, "Lumen");
    assert_eq!(sc.categories, [vouch_domain::Category::Availability]);
    assert_eq!(
        sc.subservices[0].expected_controls,
        ["Physical security", "Backups"]
    );
    assert_eq!(sc.components[0].description, "eu-west-1");
    // A form without the CSRF token is refused.
    let r = b.post_form("/controls/adopt", &[("_csrf", "forged")]).await;
    assert_eq!(r.status.as_u16(), 403);
    assert_eq!(h.event_count().await, count + 2);
    h.finish().await;
}

// =====================================================================================
// Export and import of the matrix (only when the routes exist)
// =====================================================================================

/// Whether the router answers `path` with something other than 404/405.
async fn route_exists(h: &Harness, secret: &str, method: Method, path: &str) -> bool {
    let r = match method {
        Method::GET => h.bearer(secret, Method::GET, path, None).await,
        m => h.raw(secret, m, path, Some("text/csv"), "").await,
    };
    !matches!(r.status.as_u16(), 404 | 405)
}

async fn import(h: &Harness, secret: &str, file_name: &str, body: &[u8]) -> Resp {
    h.raw(
        secret,
        Method::POST,
        &format!("/controls/import?filename={file_name}"),
        Some("application/octet-stream"),
        body.to_vec(),
    )
    .await
}

async fn export_and_import_when_present(backend: Backend) {
    let Some(h) = Harness::start(backend, LIMITS).await else {
        return;
    };
    let lead = h.lead().await;
    let export = route_exists(&h, &lead, Method::GET, "/controls/export?format=csv").await;
    let import_route = route_exists(&h, &lead, Method::POST, "/controls/import").await;
    if !export && !import_route {
        eprintln!("SKIPPED: no /api/v1/controls/export or /controls/import route yet");
        h.finish().await;
        return;
    }
    let added = h.adopt(&lead, None).await;
    let alice = h.user("alice@example.com", Role::ControlOwner, None).await;
    let gone = h.user("gone@example.com", Role::ControlOwner, None).await;
    h.disable(&gone).await;
    h.bearer(
        &lead,
        Method::PUT,
        "/controls/IAM-03/owner",
        Some(&json!({"owner_id": alice.id})),
    )
    .await
    .expect(200);
    let (_, owner_tok) =
        holder_with_token(&h, &role_email(Role::ControlOwner), Role::ControlOwner).await;
    let (_, emp) = holder_with_token(&h, &role_email(Role::Employee), Role::Employee).await;
    let (_, aud) = holder_with_token(&h, &role_email(Role::Auditor), Role::Auditor).await;
    let mut exported_csv = Vec::new();
    if export {
        let count = h.event_count().await;
        let r = h
            .bearer(&lead, Method::GET, "/controls/export?format=csv", None)
            .await;
        r.expect(200);
        assert!(
            r.content_type().starts_with("text/csv"),
            "{}",
            r.content_type()
        );
        let disposition = r
            .headers
            .get(header::CONTENT_DISPOSITION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert!(
            disposition.contains("attachment") && disposition.contains(".csv"),
            "{disposition}"
        );
        exported_csv = r.bytes.clone();
        let rows = parse_csv(r.text().trim_start_matches('\u{feff}'));
        assert_eq!(
            rows[0][..8],
            MATRIX_HEAD,
            "the auditor's columns come first, in the issue's order: {:?}",
            rows[0]
        );
        assert_eq!(rows.len() - 1, added.len(), "one row per control");
        assert!(
            rows.iter().all(|r| r.len() == rows[0].len()),
            "every row is complete"
        );
        let iam = rows.iter().find(|r| r[0] == "IAM-03").expect("IAM-03 row");
        assert_eq!(iam[1], "Multi-factor authentication");
        assert_eq!(iam[3], "alice@example.com");
        assert_eq!(iam[4], "continuous");
        assert_eq!(iam[5], "automated");
        assert!(
            iam[6].contains("CC6.1") && iam[6].contains("CC6.6"),
            "{iam:?}"
        );
        assert_eq!(iam[7], "Nothing proves it");
        let hr = rows.iter().find(|r| r[0] == "HR-01").expect("HR-01 row");
        assert_eq!(hr[3], "");
        assert_eq!(hr[7], "Incomplete");

        let r = h
            .bearer(&lead, Method::GET, "/controls/export?format=xlsx", None)
            .await;
        r.expect(200);
        assert!(
            r.content_type().contains("spreadsheetml"),
            "{}",
            r.content_type()
        );
        assert!(r.bytes.starts_with(b"PK\x03\x04"), "an XLSX file is a ZIP");
        assert!(r.bytes.len() > 2000, "a workbook with {} rows", added.len());
        // Without a format, CSV; another format is a 400 problem naming it.
        let r = h.bearer(&lead, Method::GET, "/controls/export", None).await;
        r.expect(200);
        assert!(r.content_type().starts_with("text/csv"));
        let p = assert_problem(
            &h.bearer(&lead, Method::GET, "/controls/export?format=pdf", None)
                .await,
            400,
        );
        assert!(p["detail"].as_str().unwrap().contains("pdf"), "{p}");
        // Whoever may read controls may export them; an employee may not.
        for tok in [&owner_tok, &aud] {
            h.bearer(tok, Method::GET, "/controls/export?format=csv", None)
                .await
                .expect(200);
            h.bearer(tok, Method::GET, "/controls/export?format=xlsx", None)
                .await
                .expect(200);
        }
        assert_problem(
            &h.bearer(&emp, Method::GET, "/controls/export?format=csv", None)
                .await,
            403,
        );
        assert_eq!(h.event_count().await, count, "exporting changes nothing");
    }
    if import_route {
        let count = h.event_count().await;
        let head = "id,name,description,owner,frequency,nature,criteria,status";
        // Each kind of bad input: a clear message naming the place, nothing imported.
        let cases: Vec<(&str, String, Vec<&str>)> = vec![
            (
                "unknown criterion",
                format!(
                    "{head}\nIMP-01,Imported,From a sheet,,quarterly,manual,CC6.4,\nIMP-02,Two,Also,,annual,manual,CC99.1,\n"
                ),
                vec!["row 3", "criteria", "CC99.1"],
            ),
            (
                "missing column",
                "id,name,frequency,nature\nIMP-01,Imported,quarterly,manual\n".to_string(),
                vec!["criteria", "missing"],
            ),
            (
                "duplicate id",
                format!(
                    "{head}\nIMP-01,One,,,quarterly,manual,CC6.4,\nimp-01,Again,,,annual,manual,CC6.4,\n"
                ),
                vec!["row 3", "IMP-01"],
            ),
            (
                "unknown owner",
                format!("{head}\nIMP-01,One,,nobody@example.com,quarterly,manual,CC6.4,\n"),
                vec!["row 2", "owner", "nobody@example.com"],
            ),
            (
                "disabled owner",
                format!("{head}\nIMP-01,One,,gone@example.com,quarterly,manual,CC6.4,\n"),
                vec!["row 2", "owner", "disabled"],
            ),
        ];
        for (what, body, mentions) in cases {
            let r = import(&h, &lead, "controls.csv", body.as_bytes()).await;
            let p = assert_problem(&r, 422);
            let text = p.to_string();
            for m in mentions {
                assert!(text.contains(m), "{what}: should mention {m:?}: {p}");
            }
        }
        // Files that are not CSV at all.
        for (name, body) in [
            ("controls.csv", b"\x00\x01\x02\xff\xfe binary".to_vec()),
            ("controls.xlsx", b"PK\x03\x04 a workbook".to_vec()),
            ("controls", br#"[{"id": "IMP-01"}]"#.to_vec()),
            ("controls.csv", Vec::new()),
        ] {
            let r = import(&h, &lead, name, &body).await;
            assert_problem(&r, 422);
        }
        assert_eq!(
            h.event_count().await,
            count,
            "refused imports write nothing"
        );
        assert_problem(
            &h.bearer(&lead, Method::GET, "/controls/IMP-01", None).await,
            404,
        );
        // Only those who manage controls may import.
        let good = format!(
            "{head}\nIMP-01,Imported control,From a spreadsheet,alice@example.com,quarterly; per_event,manual,CC6.4; CC6.5,Ready\nIAM-03,MFA everywhere,MFA on every system,alice@example.com,continuous,automated,CC6.1; CC6.6,\n"
        );
        for tok in [&owner_tok, &aud, &emp] {
            assert_problem(&import(&h, tok, "controls.csv", good.as_bytes()).await, 403);
        }
        assert_eq!(h.event_count().await, count);
        // A good file: one created, one updated, one event each; the status column is ignored.
        let r = import(&h, &lead, "controls.csv", good.as_bytes()).await;
        r.expect(200);
        let s = r.json();
        assert_eq!(s["created"], json!(["IMP-01"]), "{s}");
        assert_eq!(s["updated"], json!(["IAM-03"]), "{s}");
        assert_eq!(h.event_count().await, count + 2);
        assert_eq!(h.last_event().await.action, "control.import");
        let c = h.get(&lead, "/controls/IMP-01").await;
        assert_eq!(c["owner_email"], "alice@example.com");
        assert_eq!(strings(&c["criteria"]), ["CC6.4", "CC6.5"]);
        assert_eq!(c["frequencies"], json!(["quarterly", "per_event"]));
        assert_eq!(c["status"], "no_proof", "computed, not the file's 'Ready'");
        assert_eq!(
            h.get(&lead, "/controls/IAM-03").await["name"],
            "MFA everywhere"
        );
        // Importing the same file again changes nothing.
        let r = import(&h, &lead, "controls.csv", good.as_bytes()).await;
        r.expect(200);
        assert_eq!(r.json()["created"], json!([]));
        assert_eq!(r.json()["updated"], json!([]));
        assert_eq!(h.event_count().await, count + 2);
        // YAML.
        let yaml = "- id: IMP-02\n  name: From YAML\n  frequencies: [annual]\n  nature: manual\n  criteria: [CC1.1]\n";
        let r = import(&h, &lead, "controls.yaml", yaml.as_bytes()).await;
        r.expect(200);
        assert_eq!(r.json()["created"], json!(["IMP-02"]));
        assert_eq!(h.event_count().await, count + 3);
        // An export imports back as it is.
        if export {
            let n = h.event_count().await;
            let r = import(&h, &lead, "controls.csv", &exported_csv).await;
            r.expect(200);
            let s = r.json();
            assert_eq!(s["created"], json!([]), "{s}");
            // IAM-03 was changed by the import above, so the older export changes it back.
            assert_eq!(s["updated"], json!(["IAM-03"]), "{s}");
            assert_eq!(h.event_count().await, n + 1);
            let now = h
                .bearer(&lead, Method::GET, "/controls/export?format=csv", None)
                .await;
            let r = import(&h, &lead, "controls.csv", &now.bytes).await;
            r.expect(200);
            assert_eq!(
                r.json()["updated"],
                json!([]),
                "a fresh export round-trips unchanged"
            );
            assert_eq!(h.event_count().await, n + 1);
        }
    }
    h.finish().await;
}
