//! A real-browser test of evidence: a control owner uploads several files at once from the
//! control's page, sees their hashes, downloads one, corrects the record with a new revision,
//! and watches the control's freshness change; a refused upload keeps nothing.
//!
//! Needs Debian's `chromium` and `chromium-driver` (see `tests/browser.rs`). Screenshots land
//! in `target/screenshots/evidence-*.png`.
#![cfg(unix)]

mod support;

use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use support::browser::*;
use vouch_app::Actor;
use vouch_app::users::NewUser;
use vouch_domain::Role;

const SCENARIO_LIMIT: Duration = Duration::from_secs(150);
const SHOT_MAX_HEIGHT: u64 = 2400;
const OWNER_EMAIL: &str = "grace@example.com";
const OWNER_PASSWORD: &str = "quarterly-review-2026";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_control_owner_uploads_and_corrects_evidence_in_a_real_browser() {
    if !browser_available() {
        return;
    }
    let started = Instant::now();
    let server = start_vouch().await;
    let cli = Actor::cli();
    server
        .app
        .create_first_admin(&cli, None, ADMIN_EMAIL, ADMIN_NAME, ADMIN_PASSWORD)
        .await
        .expect("create the first administrator");
    server
        .app
        .create_user(
            &cli,
            NewUser {
                email: OWNER_EMAIL.into(),
                name: "Grace Hopper".into(),
                role: Role::ControlOwner,
                password: Some(OWNER_PASSWORD.into()),
            },
        )
        .await
        .expect("create the control owner");
    server
        .app
        .adopt_library(&cli, Some(vec!["IAM-08".into(), "RSK-03".into()]))
        .await
        .expect("adopt two controls");

    let files = tempfile::tempdir().expect("a folder for upload files");
    let dir = files.path().to_path_buf();
    std::fs::write(
        dir.join("review.csv"),
        "user,decision\nada,keep\nbob,remove\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("sign-off.txt"),
        "Approved by Grace on 2026-09-08.\n",
    )
    .unwrap();
    std::fs::write(dir.join("empty.txt"), "").unwrap();
    std::fs::write(dir.join("review-v2.csv"), "user,decision\nada,keep\n").unwrap();
    run_scenario(
        server,
        started,
        Run {
            label: "evidence browser scenario",
            limit: SCENARIO_LIMIT,
            shot_max_height: SHOT_MAX_HEIGHT,
        },
        |ui| scenario(ui, dir),
    )
    .await;
    drop(files);
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl Ui {
    async fn attach(&self, css: &str, paths: &[PathBuf]) -> TestResult {
        // A multiple file input takes several paths separated by newlines.
        let joined = paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join("\n");
        self.with_el(css, move |e| {
            let j = joined.clone();
            async move { e.send_keys(&j).await }
        })
        .await
    }
}

async fn scenario(ui: Ui, dir: PathBuf) -> TestResult {
    // 1. Sign in as the owner; the control has no evidence yet.
    ui.goto("/login").await?;
    ui.fill("#email", OWNER_EMAIL).await?;
    ui.fill("#password", OWNER_PASSWORD).await?;
    ui.click("#sign-in").await?;
    ui.heading("Dashboard").await?;
    ui.goto("/controls/IAM-08").await?;
    ui.text_where("#evidence-freshness", "no evidence", |t| {
        t.trim() == "No evidence"
    })
    .await?;

    // 2. From the control page: the upload form comes with the control chosen.
    ui.click("#add-control-evidence").await?;
    ui.heading("Add evidence").await?;
    assert!(
        ui.with_el("#controls option[value='IAM-08']", |e| async move {
            e.is_selected().await
        })
        .await?,
        "the control the owner came from is preselected"
    );
    ui.check_layout("the upload form").await?;

    // 3. A refused upload: an empty file among good ones stores nothing and says which.
    ui.fill("#title", "Access review, June–August").await?;
    ui.set_value("period_start", "2026-06-01").await?;
    ui.set_value("period_end", "2026-08-31").await?;
    ui.attach("#files", &[dir.join("review.csv"), dir.join("empty.txt")])
        .await?;
    ui.click("#evidence-form button[type=submit]").await?;
    ui.text_where(".field-error", "the empty file named", |t| {
        t.contains("'empty.txt' is empty")
    })
    .await?;
    ui.text_has(".flash.flash-error", "Nothing was stored")
        .await?;
    ui.screenshot("evidence-refused").await?;

    // 4. Several files at once.
    ui.fill("#title", "Access review, June–August").await?;
    ui.set_value("period_start", "2026-06-01").await?;
    ui.set_value("period_end", "2026-08-31").await?;
    ui.attach(
        "#files",
        &[dir.join("review.csv"), dir.join("sign-off.txt")],
    )
    .await?;
    ui.click("#evidence-form button[type=submit]").await?;
    ui.text_has(".flash.flash-ok", "Evidence EV-1 added")
        .await?;
    let hashes = ui.texts("#evidence-files .hash").await?;
    let review = std::fs::read(dir.join("review.csv"))?;
    let signoff = std::fs::read(dir.join("sign-off.txt"))?;
    assert_eq!(
        hashes
            .iter()
            .map(|h| h.trim().to_string())
            .collect::<Vec<_>>(),
        vec![sha256(&review), sha256(&signoff)],
        "the page shows each file's SHA-256"
    );
    ui.text_is_period("2026-06-01 – 2026-08-31").await?;
    ui.check_layout("an evidence record").await?;
    ui.screenshot("evidence-record").await?;

    // 5. The download is the bytes uploaded.
    let (status, _, body) = ui.fetch("/evidence/EV-1/files/1").await?;
    assert_eq!((status, body), (200, review.clone()));

    // 6. A correction with a replacement file: a new revision, the old one still listed.
    ui.fill("#note", "The export was re-run without the leaver")
        .await?;
    ui.attach("#revise-form #files", &[dir.join("review-v2.csv")])
        .await?;
    ui.click("#revise-form button[type=submit]").await?;
    ui.text_has(".flash.flash-ok", "Revision 2 saved").await?;
    let v2 = std::fs::read(dir.join("review-v2.csv"))?;
    let hashes = ui.texts("#evidence-files .hash").await?;
    assert_eq!(hashes.len(), 1);
    assert_eq!(hashes[0].trim(), sha256(&v2));
    ui.text_has("#evidence-revisions", "Revision 1").await?;
    let (status, _, body) = ui.fetch("/evidence/EV-1/files/1?revision=1").await?;
    assert_eq!((status, body), (200, review), "revision 1 stays readable");
    ui.screenshot("evidence-revised").await?;

    // 7. The list and the control page show it.
    ui.goto("/evidence").await?;
    ui.text_has("#evidence-table", "revision 2").await?;
    ui.check_layout("the evidence list").await?;
    ui.screenshot("evidence-list").await?;
    ui.goto("/controls/IAM-08").await?;
    ui.text_has("#control-evidence", "EV-1").await?;
    ui.screenshot("evidence-control").await?;
    Ok(())
}

impl Ui {
    async fn text_is_period(&self, expected: &str) -> TestResult {
        self.text_where("#evidence-period", &format!("{expected:?}"), |t| {
            t.trim() == expected
        })
        .await?;
        Ok(())
    }
}
