//! Monitoring against a real database on both backends: failures keep their first-failed time
//! and frozen deadline across rounds, turn overdue, recover; entities that leave are recorded;
//! a broken test is in error without touching the others; a stored run reproduces exactly.
use super::*;
use crate::clock::ManualClock;
use crate::collect::{ImportKind, ImportRequest};
use crate::monitoring::{MonitoringConfig, Trigger};
use std::sync::Arc;
use time::macros::datetime;
use vouch_domain::monitoring::TestStatus;
use vouch_store::testing::TestDb;

const MANIFEST: &str = r#"id = "ID"
version = 1
name = "Accounts have MFA"
description = "Every live account has MFA."
kind = "state"
reads = ["account"]
sla = "access"
empty = "not_applicable"
controls = ["IAM-03"]
remediation = "Enrol a second factor."
"#;

const POLICY: &str = r#"package vouch.tests.ID
import data.vouch.lib
import rego.v1
results contains {"entity": a.id, "status": "pass", "reason": sprintf("%s has MFA", [a.key])} if {
	some a in input.resources.account
	lib.live(a)
	a.attrs.mfa == true
}
results contains {"entity": a.id, "status": "fail", "reason": sprintf("%s has no MFA", [a.key])} if {
	some a in input.resources.account
	lib.live(a)
	a.attrs.mfa == false
}
"#;

fn custom_tests() -> Vec<(String, String)> {
    vec![
        (
            "org.mfa/test.toml".into(),
            MANIFEST.replace("ID", "org.mfa"),
        ),
        (
            "org.mfa/policy.rego".into(),
            POLICY.replace("ID", "org.mfa"),
        ),
        (
            "org.broken/test.toml".into(),
            MANIFEST.replace("ID", "org.broken"),
        ),
        (
            "org.broken/policy.rego".into(),
            "package vouch.tests.org.broken\nimport rego.v1\nresults contains r if {\n  r := \n}\n"
                .into(),
        ),
    ]
}

struct Fixture {
    app: App,
    clock: Arc<ManualClock>,
    dir: std::path::PathBuf,
    _db: TestDb,
}

async fn fixtures() -> Vec<Fixture> {
    let mut out = vec![];
    for backend in [vouch_store::Backend::Sqlite, vouch_store::Backend::Postgres] {
        let Some(db) = TestDb::new(backend).await else {
            continue;
        };
        let clock = Arc::new(ManualClock::new(datetime!(2026-11-02 08:00 UTC)));
        let config = crate::AppConfig {
            monitoring: MonitoringConfig {
                custom_tests: Some(("org-tests".into(), custom_tests())),
                ..MonitoringConfig::default()
            },
            ..crate::AppConfig::default()
        };
        let app = App::new(db.store.clone(), crate::test_vault(), clock.clone(), config);
        let dir = std::env::temp_dir().join(format!(
            "vouch-monitoring-test-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        out.push(Fixture {
            app,
            clock,
            dir,
            _db: db,
        });
    }
    out
}

impl Fixture {
    async fn accounts(&self, accounts: &[(&str, bool)]) {
        let items: Vec<serde_json::Value> = accounts
            .iter()
            .map(|(k, mfa)| {
                serde_json::json!({"kind": "account", "key": k, "attrs": {"username": k, "active": true, "mfa": mfa}})
            })
            .collect();
        let body = serde_json::json!({"system": "okta", "resources": items}).to_string();
        let path = self.dir.join("accounts.json");
        std::fs::write(&path, body).unwrap();
        let actor = Actor::cli();
        let file = self.app.stage_path(&actor, &path).await.unwrap();
        let run = self
            .app
            .import_files(
                &actor,
                ImportRequest {
                    files: vec![file],
                    kind: Some(ImportKind::GenericJson),
                    scope: None,
                    controls: vec![],
                },
            )
            .await
            .unwrap();
        assert_eq!(run.status, "succeeded", "{:?}", run.error);
    }

    async fn round(&self) -> crate::monitoring::RoundSummary {
        self.app
            .run_tests(&Actor::cli(), None, Trigger::Manual)
            .await
            .unwrap()
    }
}

fn outcome<'a>(
    r: &'a crate::monitoring::RoundSummary,
    id: &str,
) -> &'a crate::monitoring::TestOutcome {
    r.tests.iter().find(|t| t.test_id == id).unwrap()
}

#[tokio::test]
async fn failures_keep_their_deadline_turn_overdue_and_recover() {
    for f in fixtures().await {
        f.accounts(&[("ana", true), ("bob", false)]).await;
        let r1 = f.round().await;
        let t = outcome(&r1, "org.mfa");
        assert_eq!(t.status, TestStatus::NeedsAttention);
        assert_eq!(t.counts["fail"], 1);
        let bob = |es: &[vouch_store::TestEntityRecord]| {
            es.iter()
                .find(|e| e.reason.starts_with("bob"))
                .unwrap()
                .clone()
        };
        let e1 = bob(&f.app.test_entities(&Actor::cli(), "org.mfa").await.unwrap());
        assert_eq!(
            e1.first_failed_at.as_deref(),
            Some("2026-11-02T08:00:00.000000Z")
        );
        // The "access" SLA is 7 days, frozen at the first failure.
        assert_eq!(
            e1.remediate_by.as_deref(),
            Some("2026-11-09T08:00:00.000000Z")
        );
        assert_eq!(e1.sla.as_deref(), Some("7d"));

        f.clock.set(datetime!(2026-11-05 08:00 UTC));
        let r2 = f.round().await;
        assert_eq!(outcome(&r2, "org.mfa").status, TestStatus::NeedsAttention);
        let e2 = bob(&f.app.test_entities(&Actor::cli(), "org.mfa").await.unwrap());
        assert_eq!(e2.first_failed_at, e1.first_failed_at);
        assert_eq!(
            e2.last_changed_run, e1.last_changed_run,
            "unchanged rows are not rewritten"
        );

        f.clock.set(datetime!(2026-11-10 08:00 UTC));
        let r3 = f.round().await;
        assert_eq!(outcome(&r3, "org.mfa").status, TestStatus::Overdue);
        assert_eq!(outcome(&r3, "org.mfa").counts["overdue"], 1);

        // Bob enrols, ana's account goes away.
        f.clock.set(datetime!(2026-11-11 08:00 UTC));
        f.accounts(&[("bob", true)]).await;
        let r4 = f.round().await;
        assert_eq!(outcome(&r4, "org.mfa").status, TestStatus::Ok);
        let e4 = bob(&f.app.test_entities(&Actor::cli(), "org.mfa").await.unwrap());
        assert_eq!(e4.status, "pass");
        assert_eq!(e4.first_failed_at, None);
        let events = f
            .app
            .test_entity_events(&Actor::cli(), "org.mfa", None)
            .await
            .unwrap();
        let story: Vec<(Option<&str>, &str, &str)> = events
            .iter()
            .map(|e| {
                (
                    e.from_status.as_deref(),
                    e.to_status.as_str(),
                    e.at.as_str(),
                )
            })
            .collect();
        assert!(
            story.contains(&(Some("fail"), "pass", "2026-11-11T08:00:00.000000Z")),
            "{story:?}"
        );
        assert!(
            story.contains(&(Some("pass"), "gone", "2026-11-11T08:00:00.000000Z")),
            "{story:?}"
        );
        assert_eq!(
            story.iter().filter(|s| s.1 == "fail").count(),
            1,
            "{story:?}"
        );

        // The first run reads bob's old version (no MFA) and reproduces exactly, although bob
        // has MFA now and ana is gone.
        let rerun = f
            .app
            .rerun_test_run(&Actor::cli(), &outcome(&r1, "org.mfa").run_id)
            .await
            .unwrap();
        assert!(rerun.reproduced, "{rerun:?}");
        assert_eq!(rerun.results.len(), 2);
        std::fs::remove_dir_all(&f.dir).ok();
    }
}

#[tokio::test]
async fn a_broken_test_is_in_error_and_the_others_still_run() {
    for f in fixtures().await {
        f.accounts(&[("ana", true)]).await;
        let r = f.round().await;
        let broken = outcome(&r, "org.broken");
        assert_eq!(broken.status, TestStatus::Error);
        let e = broken.error.as_deref().unwrap();
        assert!(e.starts_with("org-tests/org.broken/policy.rego:4:"), "{e}");
        assert_eq!(outcome(&r, "org.mfa").status, TestStatus::Ok);
        // The shipped library ran too, and none of it failed to load.
        assert!(r.tests.len() >= 62);
        for t in &r.tests {
            if t.test_id != "org.broken" {
                assert!(
                    t.error.is_none(),
                    "{} is in error: {:?}",
                    t.test_id,
                    t.error
                );
            }
        }
        let views = f.app.test_views(&Actor::cli()).await.unwrap();
        let v = views.iter().find(|v| v.id == "org.broken").unwrap();
        assert!(v.load_error.is_some());
        assert_eq!(v.status, Some(TestStatus::Error));
        // An auditor may read results but not run tests.
        let auditor = Actor {
            role: vouch_domain::Role::Auditor,
            ..Actor::cli()
        };
        assert!(f.app.test_views(&auditor).await.is_ok());
        assert!(matches!(
            f.app.run_tests(&auditor, None, Trigger::Manual).await,
            Err(AppError::Forbidden { .. })
        ));
        std::fs::remove_dir_all(&f.dir).ok();
    }
}
