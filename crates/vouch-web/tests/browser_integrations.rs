//! A real-browser test of integrations: an administrator creates a GitHub integration through
//! the form against a loopback GitHub (`vouch_connect::testing::FakeGithub`), is shown the
//! errors beside the fields first, presses Run now and sees it succeed; the token is revoked
//! in the fake, Run now fails and the page shows the credential error in an alert; the edit
//! page never fills in the credential, and leaving it empty keeps the stored one. No page's
//! HTML ever holds the token.
//!
//! Needs Debian's `chromium` and `chromium-driver` (see `tests/browser.rs`). Screenshots land
//! in `/tmp/shots-integrations-*.png`.
#![cfg(unix)]

mod support;

use std::path::PathBuf;
use std::time::{Duration, Instant};
use support::browser::*;
use vouch_app::Actor;
use vouch_connect::testing::{FakeGithub, GithubState};

const SCENARIO_LIMIT: Duration = Duration::from_secs(150);
const SHOT_MAX_HEIGHT: u64 = 2400;
/// The fake GitHub's token: distinctive, so finding it in a page cannot be a coincidence.
const TOKEN: &str = "ghp_browser_5d0f3b7a91c2e846_never_shown";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_sets_up_and_runs_a_github_integration_in_a_real_browser() {
    if !browser_available() {
        return;
    }
    let started = Instant::now();
    let server = start_vouch().await;
    server
        .app
        .create_first_admin(&Actor::cli(), None, ADMIN_EMAIL, ADMIN_NAME, ADMIN_PASSWORD)
        .await
        .expect("create the first administrator");
    let mut state = GithubState::sample();
    state.token = TOKEN.into();
    let fake = FakeGithub::start(state).await;
    run_scenario(
        server,
        started,
        Run {
            label: "integrations browser scenario",
            limit: SCENARIO_LIMIT,
            shot_max_height: SHOT_MAX_HEIGHT,
        },
        |ui| scenario(ui, fake),
    )
    .await;
}

impl Ui {
    /// The page's HTML as the browser has it, which must not hold the token.
    async fn no_token(&self, page: &str) -> TestResult {
        let html = self.c.source().await?;
        if html.contains(TOKEN) {
            return Err(format!("{page} shows the token").into());
        }
        Ok(())
    }

    async fn displayed(&self, css: &str) -> TestResult<bool> {
        self.with_el(css, |e| async move { e.is_displayed().await })
            .await
    }

    /// The current value of an input (the property, not the attribute).
    async fn value_of(&self, id: &str) -> TestResult<String> {
        let v = self
            .c
            .execute(
                "return document.getElementById(arguments[0]).value;",
                vec![id.into()],
            )
            .await?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }
}

async fn scenario(ui: Ui, fake: FakeGithub) -> TestResult {
    let ui = Ui {
        shots: PathBuf::from("/tmp"),
        ..ui
    };
    // 1. Sign in; the navigation leads to the (empty) list.
    ui.goto("/login").await?;
    ui.fill("#email", ADMIN_EMAIL).await?;
    ui.fill("#password", ADMIN_PASSWORD).await?;
    ui.click("#sign-in").await?;
    ui.heading("Dashboard").await?;
    ui.click_link_text(".nav a", "Integrations").await?;
    ui.heading("Integrations").await?;
    ui.text_has("#integrations", "No integrations yet").await?;

    // 2. The form shows only the chosen kind's settings.
    ui.click("#new-integration").await?;
    ui.heading("New integration").await?;
    assert!(
        ui.displayed("#settings-github").await?,
        "GitHub is the default"
    );
    assert!(
        !ui.displayed("#settings-okta").await?,
        "Okta's settings hidden"
    );
    ui.click("#kind option[value='aws']").await?;
    assert!(
        ui.displayed("#settings-aws").await?,
        "AWS chosen: its settings"
    );
    assert!(!ui.displayed("#settings-github").await?, "GitHub's hidden");
    ui.click("#kind option[value='github']").await?;
    assert!(ui.displayed("#settings-github").await?);

    // 3. Without the organisation: refused beside the field, the input kept but the token.
    ui.fill("#name", "github-acme").await?;
    ui.fill("#github_api_url", &fake.url()).await?;
    ui.fill("#secret", TOKEN).await?;
    ui.fill("#controls", "").await?;
    ui.click("#save-integration").await?;
    ui.text_has(".flash.flash-error", "Nothing was saved")
        .await?;
    ui.text_has("#settings-github .field-error", "Organisation is required")
        .await?;
    assert_eq!(ui.value_of("name").await?, "github-acme", "input kept");
    assert_eq!(ui.value_of("github_api_url").await?, fake.url());
    assert_eq!(
        ui.value_of("secret").await?,
        "",
        "the token is not sent back"
    );
    ui.no_token("the refused form").await?;
    ui.check_layout("the integration form").await?;
    ui.screenshot("shots-integrations-form").await?;

    // 4. Created.
    ui.fill("#github_org", "acme").await?;
    ui.fill("#secret", TOKEN).await?;
    ui.click("#save-integration").await?;
    ui.wait_path("/integrations/github-acme").await?;
    ui.text_has(".flash.flash-ok", "Integration github-acme created")
        .await?;
    ui.text_has("#integration-credential", "credential set")
        .await?;
    ui.no_token("the new integration's page").await?;

    // 5. Run now: succeeded, five members read.
    ui.click("#run-now").await?;
    ui.text_has(".flash.flash-ok", "succeeded").await?;
    ui.text_has("#integration-runs tbody tr:first-child", "succeeded")
        .await?;
    assert_eq!(ui.count("#last-run-error").await?, 0, "no error shown");

    // 6. The token is revoked: Run now fails, and the page says why, prominently.
    fake.state().faults.revoked = true;
    ui.click("#run-now").await?;
    let alert = ui
        .text_has("#last-run-error", "GitHub refused the credentials")
        .await?;
    assert!(alert.contains("401"), "{alert}");
    assert!(alert.contains("The last run failed"), "{alert}");
    ui.text_has("#integration-runs tbody tr:first-child", "failed")
        .await?;
    ui.no_token("the failed run's page").await?;
    ui.check_layout("the integration page").await?;
    ui.screenshot("shots-integrations-failed").await?;

    // 7. The edit page never fills in the credential; empty keeps the stored one.
    ui.click("#edit-integration").await?;
    ui.heading("Change github-acme").await?;
    assert_eq!(ui.value_of("secret").await?, "");
    ui.text_has("#secret-hint", "Leave this empty to keep it")
        .await?;
    assert_eq!(ui.value_of("github_org").await?, "acme");
    ui.no_token("the edit page").await?;
    ui.check_layout("the edit form").await?;
    ui.fill("#schedule_minutes", "60").await?;
    ui.click("#save-integration").await?;
    ui.text_has(".flash.flash-ok", "saved").await?;
    ui.text_has("#integration-schedule", "every 60 min").await?;
    fake.state().faults.revoked = false;
    ui.click("#run-now").await?;
    ui.text_has(".flash.flash-ok", "succeeded").await?;
    assert_eq!(
        ui.count("#last-run-error").await?,
        0,
        "the alert goes once a run succeeds"
    );

    // 8. The list: schedule, enabled, the last run linked to its page.
    ui.goto("/integrations").await?;
    let row = ui
        .text_has("#integration-github-acme", "every 60 min")
        .await?;
    assert!(
        row.contains("GitHub") && row.contains("enabled") && row.contains("succeeded"),
        "{row}"
    );
    ui.no_token("the list").await?;
    ui.check_layout("the integrations list").await?;
    ui.screenshot("shots-integrations-list").await?;
    ui.click("#integration-github-acme a.mono[href^='/runs/']")
        .await?;
    ui.wait_path("/runs/RUN-3").await?;

    // 9. Outside the browser too, no page holds the token.
    for path in [
        "/integrations",
        "/integrations/github-acme",
        "/integrations/github-acme/edit",
        "/runs",
    ] {
        let (status, _, body) = ui.fetch(path).await?;
        assert_eq!(status, 200, "{path}");
        assert!(
            !String::from_utf8_lossy(&body).contains(TOKEN),
            "{path} shows the token"
        );
    }

    // 10. Removed after a confirming click; its runs stay.
    ui.goto("/integrations/github-acme").await?;
    ui.click("#remove-integration summary").await?;
    ui.click("#remove-confirm").await?;
    ui.wait_path("/integrations").await?;
    ui.text_has(".flash.flash-ok", "Integration github-acme removed")
        .await?;
    ui.text_has("#integrations", "No integrations yet").await?;
    let (status, _, _) = ui.fetch("/runs/RUN-3").await?;
    assert_eq!(status, 200, "the runs stay");
    Ok(())
}
