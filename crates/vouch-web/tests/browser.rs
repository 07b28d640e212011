//! Real-browser tests: headless Chromium driven through chromedriver (WebDriver) with
//! fantoccini, against a Vouch served in-process on a fresh SQLite database.
//!
//! Needs Debian's `chromium` and `chromium-driver`. Without them the test prints
//! `SKIPPED: …` and passes, except under `CI=true`, where it fails.
//!
//! Screenshots of the main pages land in `target/screenshots/*.png` for people to look at.
#![cfg(unix)]

mod support;

use fantoccini::Locator;
use std::time::{Duration, Instant};
use support::browser::*;
use totp_rs::{Algorithm, Secret, TOTP};
use vouch_app::Actor;

/// Longest the whole browser scenario may take.
const SCENARIO_LIMIT: Duration = Duration::from_secs(100);
/// Full-page screenshots are cut off below this height.
const SHOT_MAX_HEIGHT: u64 = 2000;

// ---------- helpers of this file ----------

impl Ui {
    /// The dashboard's two-factor coverage bar, in percent.
    async fn coverage(&self) -> TestResult<String> {
        let v = self
            .with_el("#mfa-coverage", |e| async move { e.attr("value").await })
            .await?;
        Ok(v.unwrap_or_default())
    }
}

fn totp_step() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
        / 30
}

/// The authenticator's code now, and the 30-second step it belongs to.
fn current_code(secret_b32: &str) -> (String, u64) {
    let bytes = Secret::Encoded(secret_b32.trim().to_string())
        .to_bytes()
        .expect("the page shows a base32 secret");
    let totp = TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        30,
        bytes,
        Some("Vouch".into()),
        ADMIN_EMAIL.into(),
    )
    .expect("usable TOTP secret");
    loop {
        let step = totp_step();
        let code = totp.generate(step * 30);
        // Avoid a step boundary between computing the step and the code.
        if totp_step() == step {
            return (code, step);
        }
    }
}

// ---------- the test ----------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_works_through_the_ui_in_a_real_browser() {
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

    run_scenario(
        server,
        started,
        Run {
            label: "browser scenario",
            limit: SCENARIO_LIMIT,
            shot_max_height: SHOT_MAX_HEIGHT,
        },
        scenario,
    )
    .await;
}

async fn scenario(ui: Ui) -> TestResult {
    // 1. Sign in through the form; a wrong password is refused first.
    ui.goto("/").await?;
    ui.wait_path("/login").await?;
    ui.heading("Sign in").await?;
    ui.check_layout("the sign-in page").await?;
    ui.screenshot("login").await?;
    ui.fill("#email", ADMIN_EMAIL).await?;
    ui.fill("#password", "not-the-password").await?;
    ui.click("#sign-in").await?;
    ui.text_where("#login-error", "a sign-in error", |t| !t.trim().is_empty())
        .await?;
    ui.fill("#password", ADMIN_PASSWORD).await?;
    ui.click("#sign-in").await?;
    ui.heading("Dashboard").await?;
    ui.wait_path("/").await?;
    ui.text_where(".sidebar-footer .user-name", "the admin's name", |t| {
        t == ADMIN_NAME
    })
    .await?;

    // 2. Enrol two-factor authentication.
    ui.goto("/account").await?;
    ui.heading("My account").await?;
    ui.text_where("#mfa-status", "Not enrolled", |t| {
        t.contains("Not enrolled")
    })
    .await?;
    ui.click("#enrol-mfa").await?;
    ui.wait_path("/account/mfa").await?;
    ui.heading("Set up two-factor authentication").await?;
    let first_secret = ui
        .text_where("#totp-secret", "a base32 secret", |t| {
            let t = t.trim();
            t.len() >= 16
                && t.chars()
                    .all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c))
        })
        .await?;
    assert_eq!(
        ui.count(".qr svg").await?,
        1,
        "the enrolment page shows a QR code"
    );
    ui.check_layout("the enrolment page").await?;
    ui.screenshot("mfa-enrol").await?;
    // A wrong code is refused and the page says so. (000000 could, once in a million runs,
    // be the right code; then enrolment simply succeeds here.)
    ui.fill("#code", "000000").await?;
    ui.click("#confirm-mfa").await?;
    let after = ui
        .text_where("main h1", "the enrolment page again or the codes", |t| {
            t.trim() == "Two-factor authentication is on"
                || t.trim() == "Set up two-factor authentication"
        })
        .await?;
    let (secret, used_code, used_step) = if after.trim() == "Two-factor authentication is on" {
        (first_secret, "000000".to_string(), totp_step())
    } else {
        let err = ui
            .text_where("main .flash.flash-error", "an error about the code", |t| {
                t.contains("code")
            })
            .await?;
        assert!(!err.is_empty());
        // The page now shows a fresh secret; use it.
        let secret = ui
            .text_where("#totp-secret", "a base32 secret", |t| t.trim().len() >= 16)
            .await?;
        let (code, step) = current_code(&secret);
        ui.fill("#code", &code).await?;
        ui.click("#confirm-mfa").await?;
        (secret, code, step)
    };
    ui.heading("Two-factor authentication is on").await?;
    let codes = ui.texts("#recovery-codes > *").await?;
    assert_eq!(codes.len(), 10, "ten recovery codes, got {codes:?}");
    assert!(
        codes.iter().all(|c| c.trim().len() >= 8),
        "recovery codes look like codes: {codes:?}"
    );
    let unique: std::collections::HashSet<_> = codes.iter().collect();
    assert_eq!(unique.len(), 10, "recovery codes are distinct");
    ui.check_layout("the recovery codes page").await?;
    ui.screenshot("recovery-codes").await?;

    // Sign out with the sidebar button, sign in again: now a code is asked for.
    let sign_out = ".sidebar-footer form[action='/logout'] button";
    let label = ui
        .with_el(sign_out, |e| async move { e.text().await })
        .await?;
    assert_eq!(label.trim(), "Sign out");
    ui.click(sign_out).await?;
    ui.wait_path("/login").await?;
    ui.heading("Sign in").await?;
    ui.goto("/users").await?;
    ui.wait_path("/login").await?; // signed out for real
    ui.fill("#email", ADMIN_EMAIL).await?;
    ui.fill("#password", ADMIN_PASSWORD).await?;
    ui.click("#sign-in").await?;
    ui.wait_path("/login/mfa").await?;
    ui.heading("Two-factor authentication").await?;
    // Nothing else is reachable before the code.
    ui.goto("/users").await?;
    let p = ui.path().await?;
    assert_ne!(
        p, "/users",
        "a half-signed-in session must not reach /users"
    );
    ui.goto("/login/mfa").await?;
    ui.check_layout("the code page").await?;
    ui.screenshot("mfa-code").await?;
    // The code used to enrol was spent there: each code works once.
    ui.fill("#code", &used_code).await?;
    ui.click("#verify-code").await?;
    ui.text_where(
        "main .flash.flash-error",
        "a refusal of the spent code",
        |t| !t.trim().is_empty(),
    )
    .await?;
    assert_eq!(
        ui.path().await?,
        "/login/mfa",
        "a replayed code must not sign in"
    );
    // Wait for the authenticator's next code (at most one 30-second step).
    let deadline = Instant::now() + Duration::from_secs(35);
    while totp_step() <= used_step {
        assert!(Instant::now() < deadline, "the TOTP step never advanced");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let (fresh, _) = current_code(&secret);
    ui.fill("#code", &fresh).await?;
    ui.click("#verify-code").await?;
    ui.heading("Dashboard").await?;
    ui.wait_path("/").await?;
    ui.check_layout("the dashboard").await?;
    ui.screenshot("dashboard").await?;
    assert_eq!(ui.coverage().await?, "100", "the only user has two-factor");

    // 3. Create a user.
    ui.goto("/users").await?;
    ui.heading("Users").await?;
    ui.fill("#new-user #name", "Grace Hopper").await?;
    ui.fill("#new-user #email", "grace@example.com").await?;
    ui.with_el("#new-user #role", |e| async move {
        e.select_by_value("control_owner").await
    })
    .await?;
    ui.fill("#new-user #password", "cobol-compiler-1959")
        .await?;
    ui.click("#new-user button[type=submit]").await?;
    let flash = ui
        .text_where(".flash.flash-ok", "the success message", |t| {
            t.contains("grace@example.com")
        })
        .await?;
    assert!(
        flash.contains("Control owner"),
        "flash names the role: {flash:?}"
    );
    let rows = ui.texts("#users-table tbody tr").await?;
    assert_eq!(rows.len(), 2, "two users listed: {rows:?}");
    let grace = rows
        .iter()
        .find(|r| r.contains("grace@example.com"))
        .ok_or_else(|| format!("no row for the new user in {rows:?}"))?;
    assert!(
        grace.contains("Grace Hopper") && grace.contains("Control owner"),
        "{grace:?}"
    );
    assert!(
        grace.contains("Off") && grace.contains("Active") && grace.contains("never"),
        "{grace:?}"
    );
    let ada = rows
        .iter()
        .find(|r| r.contains(ADMIN_EMAIL))
        .ok_or("no admin row")?;
    assert!(
        ada.contains("On"),
        "the admin now has two-factor on: {ada:?}"
    );
    ui.check_layout("the users page").await?;
    ui.screenshot("users").await?;

    // The person's page: details and their history.
    ui.click_link_text("#users-table a", "Grace Hopper").await?;
    ui.heading("Grace Hopper").await?;
    let history = ui
        .text_where("#user-history", "the history", |t| {
            t.contains("user.create")
        })
        .await?;
    assert!(
        history.contains("control_owner"),
        "history shows what was set: {history:?}"
    );
    ui.check_layout("a user's page").await?;
    ui.screenshot("user").await?;

    // 4. The audit log.
    ui.goto("/audit-log").await?;
    ui.heading("Audit log").await?;
    ui.text_where("#chain-status", "a verified chain", |t| {
        t.contains("Chain verified")
    })
    .await?;
    let actions = ui.texts("#audit-table tbody tr td:nth-child(4)").await?;
    for wanted in ["user.create", "user.mfa_enabled", "session.login"] {
        assert!(
            actions.iter().any(|a| a.trim() == wanted),
            "audit log lacks {wanted}: {actions:?}"
        );
    }
    // Newest first.
    let seqs: Vec<u64> = ui
        .texts("#audit-table tbody tr td:nth-child(1)")
        .await?
        .iter()
        .map(|s| s.trim().parse().unwrap_or(0))
        .collect();
    assert!(
        seqs.windows(2).all(|w| w[0] > w[1]),
        "newest event first: {seqs:?}"
    );
    ui.check_layout("the audit log").await?;
    ui.screenshot("audit-log").await?;
    ui.fill("form.filters input[name=action]", "user.").await?;
    ui.click("form.filters button[type=submit]").await?;
    let deadline = Instant::now() + WAIT;
    while !ui
        .c
        .current_url()
        .await?
        .query()
        .unwrap_or("")
        .contains("action=user.")
    {
        assert!(Instant::now() < deadline, "the filter form did not submit");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    ui.heading("Audit log").await?;
    let filtered = ui.texts("#audit-table tbody tr td:nth-child(4)").await?;
    assert!(
        filtered.iter().any(|a| a.trim() == "user.create"),
        "user.create survives the filter: {filtered:?}"
    );
    assert!(
        filtered.iter().all(|a| a.trim().starts_with("user.")),
        "only user.* rows after filtering: {filtered:?}"
    );
    assert!(
        filtered.len() < actions.len(),
        "the filter removed something"
    );
    let kept = ui
        .with_el("form.filters input[name=action]", |e| async move {
            e.prop("value").await
        })
        .await?;
    assert_eq!(kept.as_deref(), Some("user."), "the filter keeps its value");

    // 5a. Criteria.
    ui.goto("/criteria").await?;
    ui.heading("Criteria").await?;
    assert_eq!(
        ui.count("#criteria-table tbody tr").await?,
        61,
        "61 criteria"
    );
    let first = ui
        .texts("#criteria-table tbody tr:first-child td:first-child")
        .await?;
    assert_eq!(
        first.first().map(|s| s.trim()),
        Some("CC1.1"),
        "ordered from CC1.1"
    );
    ui.check_layout("the criteria page").await?;
    ui.screenshot("criteria").await?;
    ui.fill("form.filters input[name=q]", "CC6.1").await?;
    ui.click("form.filters button[type=submit]").await?;
    ui.text_where("#criteria-table tbody", "filtered to CC6.1", |t| {
        t.contains("CC6.1") && !t.contains("CC1.1")
    })
    .await?;
    ui.click("#criteria-table tbody a.tag").await?;
    ui.text_where("main h1", "the criterion page", |t| t.contains("CC6.1"))
        .await?;
    ui.check_layout("the criterion page").await?;
    ui.screenshot("criterion").await?;

    // 5b. Roles.
    ui.goto("/roles").await?;
    ui.heading("Roles").await?;
    let header = ui.texts("#role-matrix thead th").await?;
    assert_eq!(
        header.len(),
        1 + vouch_domain::Role::ALL.len(),
        "{header:?}"
    );
    assert!(
        header.iter().any(|h| h.trim() == "Administrator"),
        "{header:?}"
    );
    assert_eq!(
        ui.count("#role-matrix tbody tr").await?,
        vouch_app::Action::ALL.len(),
        "one row per action"
    );
    assert!(
        ui.count("#role-matrix td.yes").await? > 0,
        "some permissions are granted"
    );
    ui.check_layout("the roles page").await?;
    ui.screenshot("roles").await?;

    // 5c. API tokens: create one and use it.
    ui.goto("/tokens").await?;
    ui.heading("API tokens").await?;
    ui.fill("#new-token-form #token-name", "CI evidence upload")
        .await?;
    ui.with_el("#new-token-form #token-role", |e| async move {
        e.select_by_value("auditor").await
    })
    .await?;
    ui.click("#new-token-form button[type=submit]").await?;
    let secret = ui
        .text_where("#new-token", "a new token", |t| {
            t.trim().starts_with("vouch_")
        })
        .await?;
    let secret = secret.trim().to_string();
    let listed = ui.texts("#tokens-table tbody tr").await?;
    assert!(
        listed
            .iter()
            .any(|r| r.contains("CI evidence upload") && r.contains("Auditor")),
        "the new token is listed: {listed:?}"
    );
    ui.check_layout("the tokens page").await?;
    ui.screenshot("tokens").await?;
    let me: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/api/v1/me", ui.base))
        .bearer_auth(&secret)
        .timeout(WAIT)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    assert!(
        me.to_string().contains(ADMIN_EMAIL),
        "the token shown in the browser works against the API: {me}"
    );

    // 5d. Settings: require two-factor for everyone.
    ui.goto("/settings").await?;
    ui.heading("Settings").await?;
    let checked = ui
        .with_el("#require-mfa", |e| async move { e.is_selected().await })
        .await?;
    assert!(!checked, "not required by default");
    ui.click("#require-mfa").await?;
    ui.click("main form[action='/settings'] button[type=submit]")
        .await?;
    let deadline = Instant::now() + WAIT;
    loop {
        ui.heading("Settings").await?;
        match ui.c.find(Locator::Css("#require-mfa")).await {
            Ok(e) if e.is_selected().await.unwrap_or(false) => break,
            _ => {}
        }
        assert!(Instant::now() < deadline, "the setting did not stick");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let kv = ui
        .text_where("dl.kv", "the deployment facts", |t| t.contains("127.0.0.1"))
        .await?;
    assert!(kv.to_lowercase().contains("sqlite"), "{kv:?}");
    ui.check_layout("the settings page").await?;
    ui.screenshot("settings").await?;
    ui.goto("/").await?;
    ui.text_where("main", "MFA required on the dashboard", |t| {
        t.contains("required for everyone")
    })
    .await?;
    assert_eq!(
        ui.coverage().await?,
        "50",
        "one of two active users has two-factor"
    );

    ui.goto("/account").await?;
    ui.text_where("#mfa-status", "Enrolled", |t| t.trim() == "Enrolled")
        .await?;
    ui.check_layout("the account page").await?;
    ui.screenshot("account").await?;

    // With two-factor required, someone without it must enrol before anything else.
    ui.click(".sidebar-footer form[action='/logout'] button")
        .await?;
    ui.wait_path("/login").await?;
    ui.fill("#email", "grace@example.com").await?;
    ui.fill("#password", "cobol-compiler-1959").await?;
    ui.click("#sign-in").await?;
    ui.wait_path("/account/mfa").await?;
    ui.heading("Set up two-factor authentication").await?;
    ui.text_where("main .flash.flash-warn", "the requirement", |t| {
        t.contains("requires")
    })
    .await?;
    assert_eq!(
        ui.count(".sidebar").await?,
        0,
        "no navigation before enrolling"
    );
    ui.check_layout("the required enrolment page").await?;
    ui.screenshot("mfa-enrol-required").await?;
    ui.goto("/criteria").await?;
    assert_ne!(
        ui.path().await?,
        "/criteria",
        "a session that must enrol cannot reach other pages"
    );
    // …but can back out.
    ui.goto("/account/mfa").await?;
    ui.click("#cancel-sign-in").await?;
    ui.wait_path("/login").await?;
    ui.goto("/").await?;
    ui.wait_path("/login").await?;
    Ok(())
}
