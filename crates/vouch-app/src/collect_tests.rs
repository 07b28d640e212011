//! Runs against a real database on both backends: history, deletion, restoration, failed runs
//! that change nothing, and account ownership.
use super::*;
use crate::accounts::{AccountFilter, LinkBasis, Owner};
use crate::clock::ManualClock;
use std::sync::Arc;
use time::macros::datetime;
use vouch_store::testing::TestDb;

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
        let app = App::new(
            db.store.clone(),
            crate::test_vault(),
            clock.clone(),
            crate::AppConfig::default(),
        );
        let dir = std::env::temp_dir().join(format!(
            "vouch-collect-test-{}-{}",
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
    async fn import(&self, name: &str, content: &str, kind: Option<ImportKind>) -> RunRecord {
        let path = self.dir.join(name);
        std::fs::write(&path, content).unwrap();
        let actor = Actor::cli();
        let file = self.app.stage_path(&actor, &path).await.unwrap();
        self.app
            .import_files(
                &actor,
                ImportRequest {
                    files: vec![file],
                    kind,
                    scope: None,
                    controls: vec![],
                },
            )
            .await
            .unwrap()
    }

    async fn people(&self, include_deleted: bool) -> Vec<ResourceRecord> {
        self.app
            .list_resources(
                &Actor::cli(),
                &ResourceFilter {
                    kind: Some("person".into()),
                    include_deleted,
                    ..ResourceFilter::default()
                },
            )
            .await
            .unwrap()
            .0
    }
}

const ROSTER_1: &str = "email,name,status,start_date\n\
    ana@lumen.example,Ana Lima,active,2025-01-06\n\
    ben@lumen.example,Ben Ode,active,2025-02-03\n\
    cy@lumen.example,Cy Park,active,2025-03-03\n";
const ROSTER_2: &str = "email,name,status,start_date,end_date\n\
    ana@lumen.example,Ana Lima,active,2025-01-06,\n\
    ben@lumen.example,Ben Ode,terminated,2025-02-03,2026-11-05\n\
    dee@lumen.example,Dee Roy,active,2026-11-09,\n";

#[tokio::test]
async fn a_full_sync_adds_changes_deletes_and_restores_with_history() {
    for f in fixtures().await {
        let run1 = f.import("roster.csv", ROSTER_1, None).await;
        assert_eq!(run1.status, "succeeded", "{:?}", run1.error);
        assert_eq!(run1.kind, "hr_roster_csv");
        assert_eq!(run1.scope, "import:hr_roster_csv:hr");
        assert_eq!(run1.counts["added"], 3);
        let evidence = run1.evidence_id.clone().expect("raw file kept as evidence");

        f.clock.advance(time::Duration::days(7));
        let run2 = f.import("roster.csv", ROSTER_2, None).await;
        assert_eq!(
            (
                run2.counts["added"].as_u64(),
                run2.counts["changed"].as_u64(),
                run2.counts["unchanged"].as_u64(),
                run2.counts["deleted"].as_u64()
            ),
            (Some(1), Some(1), Some(1), Some(1)),
            "{:?}",
            run2.counts
        );
        let current: Vec<String> = f.people(false).await.into_iter().map(|p| p.key).collect();
        assert_eq!(
            current,
            [
                "ana@lumen.example",
                "ben@lumen.example",
                "dee@lumen.example"
            ]
        );
        let all = f.people(true).await;
        let cy = all.iter().find(|p| p.key == "cy@lumen.example").unwrap();
        assert_eq!(
            cy.deleted_at.as_deref(),
            Some("2026-11-09T08:00:00.000000Z")
        );
        assert_eq!(
            cy.last_seen, "2026-11-02T08:00:00.000000Z",
            "last seen by the first run"
        );

        // Ben's history answers "when did his status change": the first version ended when
        // the second run saw him terminated.
        let ben = all.iter().find(|p| p.key == "ben@lumen.example").unwrap();
        let (_, versions) = f.app.resource(&Actor::cli(), ben.id).await.unwrap();
        assert_eq!(versions.len(), 2);
        assert_eq!(versions[0].attrs["status"], "active");
        assert_eq!(
            versions[0].valid_to.as_deref(),
            Some("2026-11-09T08:00:00.000000Z")
        );
        assert_eq!(versions[1].change, "changed");
        assert_eq!(versions[1].attrs["status"], "terminated");
        assert_eq!(versions[1].run_id, run2.id);
        assert_eq!(ben.first_seen, "2026-11-02T08:00:00.000000Z");
        assert_eq!(ben.last_seen, "2026-11-09T08:00:00.000000Z");

        // Cy comes back: restored, not a new resource.
        f.clock.advance(time::Duration::days(1));
        let back = format!("{ROSTER_2}cy@lumen.example,Cy Park,active,2025-03-03,\n");
        let run3 = f.import("roster.csv", &back, None).await;
        assert_eq!(run3.counts["restored"], 1, "{:?}", run3.counts);
        let (cy_again, versions) = f.app.resource(&Actor::cli(), cy.id).await.unwrap();
        assert_eq!(cy_again.deleted_at, None);
        let changes: Vec<&str> = versions.iter().map(|v| v.change.as_str()).collect();
        assert_eq!(changes, ["added", "deleted", "restored"]);

        // The raw file of the first run is still there, byte for byte.
        let history = f.app.evidence(&Actor::cli(), &evidence).await.unwrap();
        assert_eq!(history.evidence.current.source, EvidenceSource::Integration);
        assert_eq!(
            history.evidence.current.source_detail.as_deref(),
            Some(run1.id.as_str())
        );
        assert_eq!(
            history.evidence.current.files[0].size,
            ROSTER_1.len() as u64
        );
    }
}

#[tokio::test]
async fn a_failed_import_is_recorded_and_leaves_the_last_good_state() {
    for f in fixtures().await {
        f.import("roster.csv", ROSTER_1, None).await;
        let before = f.people(true).await;
        f.clock.advance(time::Duration::hours(3));

        // Shifted columns: the date lands in the status column.
        let shifted =
            "email,name,status,start_date\nana@lumen.example,Ana Lima,2025-01-06,active\n";
        let run = f.import("hr-export.csv", shifted, None).await;
        assert_eq!(run.status, "failed");
        let error = run.error.clone().unwrap();
        assert!(
            error.starts_with("hr-export.csv, row 2, column 'start_date'"),
            "{error}"
        );
        assert!(
            run.evidence_id.is_some(),
            "the file that failed is kept too"
        );

        // Truncated JSON, forced as Trivy.
        let run = f
            .import(
                "trivy.json",
                "{\"SchemaVersion\": 2, \"Results\": [",
                Some(ImportKind::TrivyJson),
            )
            .await;
        assert_eq!(run.status, "failed");
        assert!(
            run.error.as_deref().unwrap().contains("truncated"),
            "{:?}",
            run.error
        );

        // The wrong kind named.
        let run = f
            .import(
                "roster.csv",
                ROSTER_1,
                Some(ImportKind::AwsCredentialReport),
            )
            .await;
        assert!(
            run.error
                .as_deref()
                .unwrap()
                .contains("this is an HR roster CSV, not an AWS IAM credential report"),
            "{:?}",
            run.error
        );
        assert_eq!(
            f.people(true).await,
            before,
            "no failed run touched a resource"
        );
        let runs = f
            .app
            .list_runs(&Actor::cli(), Some("import"), 10)
            .await
            .unwrap();
        let statuses: Vec<&str> = runs.iter().map(|r| r.status.as_str()).collect();
        assert_eq!(statuses, ["failed", "failed", "failed", "succeeded"]);
    }
}

const CREDENTIAL_REPORT: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date\n\
    ana,arn:aws:iam::123456789012:user/ana,2025-01-06T09:00:00+00:00,true,2026-11-01T09:00:00+00:00,2025-01-06T09:00:00+00:00,N/A,true,false,N/A,N/A,false,N/A,N/A\n\
    deploy-bot,arn:aws:iam::123456789012:user/deploy-bot,2025-01-06T09:00:00+00:00,false,N/A,N/A,N/A,false,true,2025-01-06T09:00:00+00:00,2026-11-01T09:00:00+00:00,false,N/A,N/A\n\
    ben.ode,arn:aws:iam::123456789012:user/ben.ode,2025-01-06T09:00:00+00:00,true,N/A,2025-01-06T09:00:00+00:00,N/A,false,false,N/A,N/A,false,N/A,N/A\n";

#[tokio::test]
async fn accounts_link_by_username_and_by_hand_and_the_unowned_are_listed() {
    for f in fixtures().await {
        f.import("roster.csv", ROSTER_1, None).await;
        let run = f
            .import("credential-report.csv", CREDENTIAL_REPORT, None)
            .await;
        assert_eq!(run.status, "succeeded", "{:?}", run.error);
        let cli = Actor::cli();
        let all = f
            .app
            .accounts(&cli, &AccountFilter::default())
            .await
            .unwrap();
        let owner = |user: &str| {
            all.iter()
                .find(|a| a.account.attrs["user"] == user)
                .map(|a| a.owner.clone())
                .unwrap()
        };
        match owner("ana") {
            Owner::Person { email, basis, .. } => {
                assert_eq!(email, "ana@lumen.example");
                assert_eq!(basis, LinkBasis::Username);
            }
            other => panic!("ana should be linked: {other:?}"),
        }
        assert_eq!(owner("ben.ode"), Owner::Unlinked, "ben.ode is not ben@");
        let unlinked = f
            .app
            .accounts(
                &cli,
                &AccountFilter {
                    unlinked: true,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(unlinked.len(), 2);

        let bot = unlinked
            .iter()
            .find(|a| a.account.attrs["user"] == "deploy-bot")
            .unwrap();
        let ben = unlinked
            .iter()
            .find(|a| a.account.attrs["user"] == "ben.ode")
            .unwrap();
        let err = f
            .app
            .link_account(&cli, bot.account.id, None, "")
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("what the service account is for"),
            "{err}"
        );
        f.app
            .link_account(&cli, bot.account.id, None, "CI deploys to production")
            .await
            .unwrap();
        let err = f
            .app
            .link_account(&cli, ben.account.id, Some("nobody@lumen.example"), "")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("not on the HR roster"), "{err}");
        f.app
            .link_account(
                &cli,
                ben.account.id,
                Some("Ben@Lumen.example"),
                "renamed user",
            )
            .await
            .unwrap();
        let unlinked = f
            .app
            .accounts(
                &cli,
                &AccountFilter {
                    unlinked: true,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(unlinked.is_empty(), "{unlinked:?}");
        let events = f
            .app
            .audit_events(&cli, &vouch_store::AuditFilter::default())
            .await
            .unwrap();
        let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
        assert!(actions.contains(&"account.mark_service"), "{actions:?}");
        assert!(actions.contains(&"account.link"), "{actions:?}");
        // An employee may not change links.
        let employee = Actor {
            role: vouch_domain::Role::Employee,
            ..Actor::cli()
        };
        assert!(matches!(
            f.app
                .link_account(&employee, ben.account.id, None, "nope nope")
                .await,
            Err(AppError::Forbidden { .. })
        ));
    }
}
