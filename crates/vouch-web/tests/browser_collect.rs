//! A real-browser test of collected resources: an administrator imports an HR roster on
//! `/imports/new`, lands on the run page, imports a changed roster, finds a person whose status
//! changed and reads their history; a file with shifted columns fails with the place named; a
//! credential report's unowned account is marked a service account and leaves the list of
//! unlinked accounts, and a link to someone not on the roster is refused beside its form.
//!
//! Needs Debian's `chromium` and `chromium-driver` (see `tests/browser.rs`). Screenshots land
//! in `/tmp/shots-collect-*.png`.
#![cfg(unix)]

mod support;

use std::path::PathBuf;
use std::time::{Duration, Instant};
use support::browser::*;
use vouch_app::Actor;

const SCENARIO_LIMIT: Duration = Duration::from_secs(150);
const SHOT_MAX_HEIGHT: u64 = 2400;

const ROSTER_1: &str = "email,name,status,start_date\n\
    ana@lumen.example,Ana Lima,active,2025-01-06\n\
    ben@lumen.example,Ben Ode,active,2025-02-03\n\
    cy@lumen.example,Cy Park,active,2025-03-03\n";
const ROSTER_2: &str = "email,name,status,start_date,end_date\n\
    ana@lumen.example,Ana Lima,active,2025-01-06,\n\
    ben@lumen.example,Ben Ode,terminated,2025-02-03,2026-11-05\n\
    dee@lumen.example,Dee Roy,active,2026-11-09,\n";
const SHIFTED: &str =
    "email,name,status,start_date\nana@lumen.example,Ana Lima,2025-01-06,active\n";
const CREDENTIAL_REPORT: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date\n\
    ana,arn:aws:iam::123456789012:user/ana,2025-01-06T09:00:00+00:00,true,2026-11-01T09:00:00+00:00,2025-01-06T09:00:00+00:00,N/A,true,false,N/A,N/A,false,N/A,N/A\n\
    deploy-bot,arn:aws:iam::123456789012:user/deploy-bot,2025-01-06T09:00:00+00:00,false,N/A,N/A,N/A,false,true,2025-01-06T09:00:00+00:00,2026-11-01T09:00:00+00:00,false,N/A,N/A\n\
    ben.ode,arn:aws:iam::123456789012:user/ben.ode,2025-01-06T09:00:00+00:00,true,N/A,2025-01-06T09:00:00+00:00,N/A,false,false,N/A,N/A,false,N/A,N/A\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_imports_files_reads_history_and_links_accounts_in_a_real_browser() {
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
    let files = tempfile::tempdir().expect("a folder for upload files");
    let dir = files.path().to_path_buf();
    for (name, content) in [
        ("roster.csv", ROSTER_1),
        ("roster-november.csv", ROSTER_2),
        ("hr-export.csv", SHIFTED),
        ("credential-report.csv", CREDENTIAL_REPORT),
    ] {
        std::fs::write(dir.join(name), content).unwrap();
    }
    run_scenario(
        server,
        started,
        Run {
            label: "collection browser scenario",
            limit: SCENARIO_LIMIT,
            shot_max_height: SHOT_MAX_HEIGHT,
        },
        |ui| {
            scenario(
                Ui {
                    shots: PathBuf::from("/tmp"),
                    ..ui
                },
                dir,
            )
        },
    )
    .await;
    drop(files);
}

impl Ui {
    /// Imports one file through the form, optionally forcing its kind; returns the run page's
    /// path once there.
    async fn import_file(&self, path: PathBuf, kind: Option<&str>) -> TestResult<String> {
        self.goto("/imports/new").await?;
        self.heading("Import files").await?;
        let p = path.display().to_string();
        self.with_el("#files", move |e| {
            let p = p.clone();
            async move { e.send_keys(&p).await }
        })
        .await?;
        if let Some(k) = kind {
            self.set_value("kind", k).await?;
        }
        self.click("#import-submit").await?;
        let deadline = Instant::now() + WAIT;
        loop {
            let now = self.path().await?;
            if now.starts_with("/runs/RUN-") {
                return Ok(now);
            }
            if Instant::now() >= deadline {
                return Err(format!("the import did not land on a run page; on {now}").into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The id attribute of the table row (among `rows`) whose text mentions `text`.
    async fn row_id(&self, rows: &str, text: &str) -> TestResult<String> {
        let v = self
            .c
            .execute(
                "const r = [...document.querySelectorAll(arguments[0])].find(r => r.innerText.includes(arguments[1])); return r ? r.id : null;",
                vec![rows.into(), text.into()],
            )
            .await?;
        v.as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("no `{rows}` mentions {text:?}").into())
    }
}

async fn scenario(ui: Ui, dir: PathBuf) -> TestResult {
    // 1. Sign in; the navigation offers the collected resources.
    ui.goto("/login").await?;
    ui.fill("#email", ADMIN_EMAIL).await?;
    ui.fill("#password", ADMIN_PASSWORD).await?;
    ui.click("#sign-in").await?;
    ui.heading("Dashboard").await?;
    let nav = ui.texts("nav a").await?;
    for item in ["Resources", "Accounts", "Evidence"] {
        assert!(nav.iter().any(|n| n.trim() == item), "no {item} in {nav:?}");
    }

    // 2. The first roster: the run page says it succeeded and what it added.
    ui.goto("/imports/new").await?;
    ui.heading("Import files").await?;
    let kinds = ui.texts("#kind option").await?;
    assert_eq!(kinds[0].trim(), "Auto-detect from the content");
    assert!(
        kinds.iter().any(|k| k.trim() == "HR roster CSV"),
        "{kinds:?}"
    );
    assert!(
        !kinds.iter().any(|k| k.trim() == "AWS API capture"),
        "{kinds:?}"
    );
    ui.check_layout("the import form").await?;
    ui.screenshot("shots-collect-import").await?;
    let run1 = ui.import_file(dir.join("roster.csv"), None).await?;
    ui.text_is("#run-status", "succeeded").await?;
    ui.text_has(".flash.flash-ok", "Imported 3 resources from hr")
        .await?;
    ui.text_has("#count-added", "3").await?;
    ui.text_has("#run-evidence", "EV-").await?;

    // 3. The changed roster: one added, one changed, one deleted.
    let run2 = ui
        .import_file(dir.join("roster-november.csv"), Some("hr_roster_csv"))
        .await?;
    assert_ne!(run1, run2);
    ui.text_is("#run-status", "succeeded").await?;
    ui.text_has("#count-changed", "1").await?;
    ui.text_has("#count-deleted", "1").await?;
    ui.text_has("#run-details", "HR roster CSV").await?;
    ui.check_layout("a run").await?;
    ui.screenshot("shots-collect-run").await?;

    // 4. The resources: counts, the list, the deleted person only on request.
    ui.goto("/resources").await?;
    ui.text_has("#resource-counts", "person").await?;
    let keys = ui.texts("#resources .resource-key").await?;
    assert_eq!(
        keys,
        [
            "ana@lumen.example",
            "ben@lumen.example",
            "dee@lumen.example"
        ],
        "current people"
    );
    ui.set_value("f-deleted", "1").await?;
    ui.click("#filter-resources").await?;
    ui.text_has("#resources", "cy@lumen.example").await?;
    ui.text_has("#resources", "deleted").await?;
    ui.check_layout("the resource list").await?;
    ui.screenshot("shots-collect-resources").await?;

    // 5. Ben's history answers when his status changed.
    ui.click_link_text("#resources .resource-key", "ben@lumen.example")
        .await?;
    ui.heading("ben@lumen.example").await?;
    ui.text_has("#resource-attrs", "terminated").await?;
    let changes = ui.texts("#resource-history .change-kind").await?;
    assert_eq!(changes, ["changed", "added"], "newest first");
    ui.text_has("#version-2", "active → terminated").await?;
    ui.text_has("#version-2", &run2.trim_start_matches("/runs/").to_string())
        .await?;
    ui.text_has("#version-1", "EV-").await?;
    ui.check_layout("a resource").await?;
    ui.screenshot("shots-collect-resource").await?;

    // 6. A file with shifted columns: the run failed, and says which file and where.
    let failed = ui.import_file(dir.join("hr-export.csv"), None).await?;
    ui.text_is("#run-status", "failed").await?;
    ui.text_has("#run-error", "hr-export.csv, row 2, column 'start_date'")
        .await?;
    assert_eq!(
        ui.count("#run-counts").await?,
        0,
        "a failed run shows no counts"
    );
    ui.screenshot("shots-collect-run-failed").await?;
    ui.goto("/runs").await?;
    ui.text_has(
        &format!("#run-{}", failed.trim_start_matches("/runs/")),
        "failed",
    )
    .await?;
    ui.check_layout("the runs").await?;

    // 7. Accounts: the unowned listed; one marked a service account leaves the list.
    ui.import_file(dir.join("credential-report.csv"), None)
        .await?;
    ui.text_is("#run-status", "succeeded").await?;
    ui.goto("/accounts?unlinked=1").await?;
    ui.heading("Accounts").await?;
    assert_eq!(ui.count("tr.account-row").await?, 2);
    assert_eq!(ui.count("tr.account-row .unlinked").await?, 2);
    let bot = ui.row_id("tr.account-row", "deploy-bot").await?;
    let bot_id = bot.trim_start_matches("account-").to_string();
    let ben = ui.row_id("tr.account-row", "ben.ode").await?;
    let ben_id = ben.trim_start_matches("account-").to_string();
    ui.check_layout("the unlinked accounts").await?;

    // A person who is not on the roster is refused beside the form, the email kept.
    ui.fill(&format!("#person-email-{ben_id}"), "nobody@lumen.example")
        .await?;
    ui.click(&format!("#link-form-{ben_id} button")).await?;
    ui.text_has(&format!("#account-error-{ben_id}"), "not on the HR roster")
        .await?;
    let kept = ui
        .with_el(&format!("#person-email-{ben_id}"), |e| async move {
            e.prop("value").await
        })
        .await?;
    assert_eq!(kept.as_deref(), Some("nobody@lumen.example"));

    ui.fill(
        &format!("#service-note-{bot_id}"),
        "CI deploys to production",
    )
    .await?;
    ui.click(&format!("#service-form-{bot_id} button")).await?;
    ui.text_has(".flash.flash-ok", "owner is saved").await?;
    assert_eq!(ui.path().await?, "/accounts");
    assert_eq!(ui.count("tr.account-row").await?, 1);
    assert_eq!(
        ui.count(&format!("#{bot}")).await?,
        0,
        "the service account left the list"
    );
    ui.text_has(&format!("#{ben}"), "ben.ode").await?;

    // All accounts: the owner column says who, or why nobody.
    ui.goto("/accounts").await?;
    ui.text_has(&format!("#{bot} .owner"), "service account")
        .await?;
    ui.text_has(&format!("#{bot} .owner"), "CI deploys to production")
        .await?;
    ui.text_has(&format!("#{ben} .owner"), "Unlinked").await?;
    let ana = ui.row_id("tr.account-row", "user/ana").await?;
    ui.text_has(&format!("#{ana} .owner"), "Ana Lima").await?;
    ui.check_layout("the accounts").await?;
    ui.screenshot("shots-collect-accounts").await?;

    // The manual decision can be taken back.
    ui.click(&format!("#unlink-form-{bot_id} button")).await?;
    ui.text_has(".flash.flash-ok", "manual link is removed")
        .await?;
    ui.text_has(&format!("#{bot} .owner"), "Unlinked").await?;
    Ok(())
}
