//! Integrations against a loopback GitHub that speaks the real API's shapes, on both
//! backends: settings checks, runs that track deletions, failures that keep the last good
//! state, secrets that never come back, and scheduled runs claimed once across instances.
use super::*;
use crate::clock::ManualClock;
use std::sync::Arc;
use std::time::Duration;
use time::macros::datetime;
use vouch_connect::testing::{FakeGithub, GithubState};
use vouch_store::testing::TestDb;
use vouch_store::{ResourceFilter, Store};

fn fast() -> RetryPolicy {
    RetryPolicy {
        base_delay: Duration::from_millis(5),
        ..RetryPolicy::default()
    }
}

fn app_on(store: Store, clock: Arc<ManualClock>) -> App {
    App::new(
        store,
        crate::test_vault(),
        clock,
        crate::AppConfig {
            connector_retry: fast(),
            ..crate::AppConfig::default()
        },
    )
}

async fn dbs() -> Vec<TestDb> {
    let mut out = vec![];
    for backend in [vouch_store::Backend::Sqlite, vouch_store::Backend::Postgres] {
        if let Some(db) = TestDb::new(backend).await {
            out.push(db);
        }
    }
    out
}

fn github_input(fake: &FakeGithub, schedule: Option<i64>) -> IntegrationInput {
    IntegrationInput {
        name: "github-acme".into(),
        kind: "github".into(),
        settings: json!({"org": "acme", "api_url": fake.url()}),
        secret: Some(fake.state().token.clone()),
        schedule_minutes: schedule,
        enabled: true,
        controls: vec![],
    }
}

async fn accounts(app: &App) -> Vec<String> {
    let (list, _) = app
        .list_resources(
            &Actor::cli(),
            &ResourceFilter {
                kind: Some("account".into()),
                system: Some("github".into()),
                ..ResourceFilter::default()
            },
        )
        .await
        .unwrap();
    list.into_iter().map(|r| r.key).collect()
}

#[tokio::test]
async fn settings_are_checked_and_the_credential_is_never_given_back() {
    let fake = FakeGithub::start(GithubState::sample()).await;
    for db in dbs().await {
        let clock = Arc::new(ManualClock::new(datetime!(2026-11-23 06:00 UTC)));
        let app = app_on(db.store.clone(), clock);
        let cli = Actor::cli();
        let bad = IntegrationInput {
            name: "GitHub Acme".into(),
            settings: json!({"api_url": fake.url(), "token": "ghp_in_the_wrong_place"}),
            secret: None,
            schedule_minutes: Some(1),
            ..github_input(&fake, None)
        };
        let err = app
            .put_integration(&cli, bad)
            .await
            .unwrap_err()
            .to_string();
        for expected in [
            "name: use lower-case letters",
            "'token' is a credential",
            "secret: give the credential",
            "schedule_minutes: run at most every 5 minutes",
        ] {
            assert!(err.contains(expected), "{expected} missing from: {err}");
        }
        let err = app
            .put_integration(
                &cli,
                IntegrationInput {
                    settings: json!({"api_url": fake.url()}),
                    ..github_input(&fake, None)
                },
            )
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing field `org`"), "{err}");

        let created = app
            .put_integration(&cli, github_input(&fake, None))
            .await
            .unwrap();
        assert!(created.has_secret);
        let shown = serde_json::to_string(&app.integrations(&cli).await.unwrap()).unwrap();
        assert!(
            !shown.contains(&fake.state().token),
            "the list never shows the token"
        );
        // Changing the schedule without a secret keeps the stored one.
        app.put_integration(
            &cli,
            IntegrationInput {
                secret: None,
                ..github_input(&fake, Some(60))
            },
        )
        .await
        .unwrap();
        let run = app
            .run_integration(&cli, "github-acme", Trigger::Manual)
            .await
            .unwrap();
        assert_eq!(run.status, "succeeded", "{:?}", run.error);
        let log = serde_json::to_string(
            &app.audit_events(&cli, &vouch_store::AuditFilter::default())
                .await
                .unwrap(),
        )
        .unwrap();
        assert!(log.contains("integration.create") && log.contains("secret_changed"));
        assert!(
            !log.contains(&fake.state().token),
            "the audit log never holds the token"
        );
    }
}

#[tokio::test]
async fn runs_track_deletions_and_a_failed_run_keeps_the_last_good_state() {
    for db in dbs().await {
        let fake = FakeGithub::start(GithubState::sample()).await;
        let clock = Arc::new(ManualClock::new(datetime!(2026-11-23 06:00 UTC)));
        let app = app_on(db.store.clone(), clock.clone());
        let cli = Actor::cli();
        app.put_integration(&cli, github_input(&fake, None))
            .await
            .unwrap();

        let run = app
            .run_integration(&cli, "github-acme", Trigger::Manual)
            .await
            .unwrap();
        assert_eq!(run.status, "succeeded", "{:?}", run.error);
        assert_eq!(run.scope, "integration:github-acme");
        assert_eq!(run.system.as_deref(), Some("github"));
        assert_eq!(accounts(&app).await, ["ana", "ben", "cara", "dev", "eve"]);
        let raw = app
            .evidence(&cli, run.evidence_id.as_deref().unwrap())
            .await
            .unwrap();
        assert_eq!(
            raw.evidence.current.files.len(),
            1,
            "the capture bundle is kept"
        );

        // Cara leaves the organisation; Ben's 2FA is switched off.
        {
            let mut st = fake.state();
            st.members.retain(|m| m.login != "cara");
        }
        clock.advance(time::Duration::days(1));
        let run = app
            .run_integration(&cli, "github-acme", Trigger::Manual)
            .await
            .unwrap();
        assert_eq!(run.counts["deleted"], 1, "{:?}", run.counts);
        assert_eq!(accounts(&app).await, ["ana", "ben", "dev", "eve"]);
        let before = accounts(&app).await;

        // Rate limits and a short outage are ridden out.
        fake.state().faults.rate_limited = 2;
        fake.state().faults.unavailable = 1;
        clock.advance(time::Duration::hours(1));
        let run = app
            .run_integration(&cli, "github-acme", Trigger::Manual)
            .await
            .unwrap();
        assert_eq!(run.status, "succeeded", "{:?}", run.error);

        // A revoked token: failed, clear, nothing changed.
        fake.state().faults.revoked = true;
        clock.advance(time::Duration::hours(1));
        let run = app
            .run_integration(&cli, "github-acme", Trigger::Manual)
            .await
            .unwrap();
        assert_eq!(run.status, "failed");
        let error = run.error.clone().unwrap();
        assert!(
            error.contains("refused the credentials") && error.contains("401"),
            "{error}"
        );
        assert_eq!(accounts(&app).await, before);

        // Garbage where the members should be: failed, the responses kept, nothing changed.
        fake.state().faults.revoked = false;
        fake.state().faults.garbage_path = Some("/orgs/acme/members".into());
        let run = app
            .run_integration(&cli, "github-acme", Trigger::Manual)
            .await
            .unwrap();
        assert_eq!(run.status, "failed");
        assert!(
            run.error.as_deref().unwrap().contains("not JSON"),
            "{:?}",
            run.error
        );
        assert_eq!(accounts(&app).await, before);
        let (view, runs) = app.integration(&cli, "github-acme").await.unwrap();
        assert_eq!(view.last_run.unwrap().status, "failed");
        let statuses: Vec<&str> = runs.iter().map(|r| r.status.as_str()).collect();
        assert_eq!(
            statuses,
            ["failed", "failed", "succeeded", "succeeded", "succeeded"]
        );
    }
}

#[tokio::test]
async fn two_instances_run_each_scheduled_run_once() {
    let fake = FakeGithub::start(GithubState::sample()).await;
    for db in dbs().await {
        // Two apps with their own connection pools to one database, as two servers would be.
        let clock = Arc::new(ManualClock::new(datetime!(2026-11-23 06:00 UTC)));
        let one = app_on(db.store.clone(), clock.clone());
        let other_store = Store::connect(&db.url).await.unwrap();
        let two = app_on(other_store, clock.clone());
        one.put_integration(&Actor::cli(), github_input(&fake, Some(15)))
            .await
            .unwrap();
        for round in 0..3 {
            let (a, b) = tokio::join!(one.run_due_integrations(), two.run_due_integrations());
            let made = a.unwrap().len() + b.unwrap().len();
            assert_eq!(
                made, 1,
                "round {round}: exactly one instance runs the due run"
            );
            // Not due again until the schedule says so.
            let (a, b) = tokio::join!(one.run_due_integrations(), two.run_due_integrations());
            assert_eq!(a.unwrap().len() + b.unwrap().len(), 0, "round {round}");
            clock.advance(time::Duration::minutes(15));
        }
        let runs = one
            .list_runs(&Actor::cli(), Some("github-acme"), 10)
            .await
            .unwrap();
        assert_eq!(runs.len(), 3);
        assert!(
            runs.iter()
                .all(|r| r.trigger == "schedule" && r.status == "succeeded")
        );
    }
}
