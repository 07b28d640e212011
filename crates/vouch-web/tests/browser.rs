//! Real-browser tests: headless Chromium driven through chromedriver (WebDriver) with
//! fantoccini, against a Vouch served in-process on a fresh SQLite database.
//!
//! Needs Debian's `chromium` and `chromium-driver`. Without them the test prints
//! `SKIPPED: …` and passes, except under `CI=true`, where it fails.
//!
//! Screenshots of the main pages land in `target/screenshots/*.png` for people to look at.
#![cfg(unix)]
use fantoccini::elements::Element;
use fantoccini::error::CmdError;
use fantoccini::wd::TimeoutConfiguration;
use fantoccini::{Client, ClientBuilder, Locator};
use std::net::{SocketAddr, TcpListener as StdListener};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use totp_rs::{Algorithm, Secret, TOTP};
use vouch_app::{Actor, App, AppConfig, SystemClock};
use vouch_store::Backend;
use vouch_store::testing::TestDb;
use vouch_web::WebConfig;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// Longest any single wait (an element, a page, a URL) may take.
const WAIT: Duration = Duration::from_secs(10);
/// Longest the whole browser scenario may take.
const SCENARIO_LIMIT: Duration = Duration::from_secs(100);
/// Full-page screenshots are cut off below this height.
const SHOT_MAX_HEIGHT: u64 = 2000;

const ADMIN_EMAIL: &str = "ada@example.com";
const ADMIN_NAME: &str = "Ada Lovelace";
const ADMIN_PASSWORD: &str = "analytical-engine-1843";

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

// ---------- harness ----------

/// chromedriver in a process group of its own; dropping it kills the group (chromedriver
/// and any browser it started) and reaps chromedriver, whatever happened.
struct Driver {
    child: Child,
    port: u16,
    profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The group id is chromedriver's pid (see `process_group(0)`).
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free loopback port")
}

/// False (after saying so) when the browser is not installed and this is not CI; a panic
/// when it is not installed under `CI=true`.
fn browser_available() -> bool {
    let missing: Vec<&str> = [CHROMEDRIVER, CHROMIUM]
        .into_iter()
        .filter(|p| !Path::new(p).exists())
        .collect();
    if missing.is_empty() {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "CI=true but the browser tests cannot run: {} not installed (apt-get install chromium chromium-driver)",
            missing.join(" and ")
        );
    }
    eprintln!("SKIPPED: browser tests need chromium and chromium-driver");
    false
}

async fn start_chromedriver() -> Driver {
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let driver = Driver {
        child,
        port,
        profile: tempfile::tempdir().expect("profile dir"),
    };
    // Wait until it answers its status endpoint.
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let status = format!("http://127.0.0.1:{port}/status");
    let deadline = Instant::now() + WAIT;
    loop {
        if let Ok(r) = http.get(&status).send().await {
            if r.status().is_success() {
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "chromedriver did not answer on port {port} within {WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    driver
}

fn capabilities(profile: &Path) -> fantoccini::wd::Capabilities {
    let args = vec![
        "--headless".to_string(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--no-first-run".into(),
        "--disable-dev-shm-usage".into(),
        "--window-size=1400,1000".into(),
        format!("--user-data-dir={}", profile.display()),
    ];
    let caps = serde_json::json!({
        "browserName": "chrome",
        "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
    });
    match caps {
        serde_json::Value::Object(m) => m,
        _ => unreachable!(),
    }
}

/// Vouch on a fresh SQLite database, served on a loopback port until dropped.
struct Server {
    app: App,
    base: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    _db: TestDb,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

async fn start_vouch() -> Server {
    let db = TestDb::new(Backend::Sqlite).await.expect("sqlite test db");
    let app = App::new(
        db.store.clone(),
        Arc::new(SystemClock),
        AppConfig::default(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let base = format!("http://127.0.0.1:{}", addr.port());
    let router = vouch_web::router(
        app.clone(),
        WebConfig {
            public_url: base.clone(),
            max_body_bytes: 1 << 20,
            sso: None,
        },
        None,
    );
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = vouch_web::serve(listener, router, async {
            let _ = rx.await;
        })
        .await;
    });
    Server {
        app,
        base,
        shutdown: Some(tx),
        _db: db,
    }
}

// ---------- browser helpers ----------

/// A session on the browser and the Vouch it is pointed at.
#[derive(Clone)]
struct Ui {
    c: Client,
    base: String,
    shots: PathBuf,
}

/// Errors that mean "the page changed under us; look again": the element is gone or
/// belongs to the page before a navigation.
fn stale_or_missing(e: &CmdError) -> bool {
    use fantoccini::error::ErrorStatus;
    match e {
        CmdError::Standard(w) => match w.error {
            ErrorStatus::NoSuchElement | ErrorStatus::StaleElementReference => true,
            // chromedriver's wording when a node vanished mid-command.
            ErrorStatus::UnknownError => {
                let m = w.message.to_string();
                m.contains("does not belong to the document") || m.contains("No node with given id")
            }
            _ => false,
        },
        _ => false,
    }
}

impl Ui {
    async fn goto(&self, path: &str) -> TestResult {
        self.c.goto(&format!("{}{}", self.base, path)).await?;
        Ok(())
    }

    async fn el(&self, css: &str) -> TestResult<Element> {
        self.c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .map_err(|e| format!("no element `{css}` within {WAIT:?}: {e}").into())
    }

    async fn path(&self) -> TestResult<String> {
        Ok(self.c.current_url().await?.path().to_string())
    }

    /// Polls until `css` exists and its text satisfies `ok`; returns that text. Survives the
    /// page being replaced in between (stale elements).
    async fn text_where(
        &self,
        css: &str,
        what: &str,
        ok: impl Fn(&str) -> bool,
    ) -> TestResult<String> {
        let deadline = Instant::now() + WAIT;
        let mut last = String::from("<absent>");
        loop {
            match self.c.find(Locator::Css(css)).await {
                Ok(e) => match e.text().await {
                    Ok(t) if ok(&t) => return Ok(t),
                    Ok(t) => last = t,
                    Err(e) if stale_or_missing(&e) => {}
                    Err(e) => return Err(e.into()),
                },
                Err(e) if stale_or_missing(&e) => {}
                Err(e) => return Err(e.into()),
            }
            if Instant::now() >= deadline {
                let url = self
                    .c
                    .current_url()
                    .await
                    .map(|u| u.to_string())
                    .unwrap_or_default();
                return Err(format!(
                    "`{css}` on {url} never became {what} within {WAIT:?}; last text: {last:?}"
                )
                .into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn heading(&self, expected: &str) -> TestResult {
        self.text_where("main h1", &format!("the heading {expected:?}"), |t| {
            t.trim() == expected
        })
        .await
        .map(|_| ())
    }

    async fn wait_path(&self, expected: &str) -> TestResult {
        let deadline = Instant::now() + WAIT;
        loop {
            let now = self.path().await?;
            if now == expected {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "expected to reach {expected} within {WAIT:?}, still on {now}"
                )
                .into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Runs `op` on the element `css`, finding it again if the page replaced it meanwhile.
    async fn with_el<T, F, Fut>(&self, css: &str, op: F) -> TestResult<T>
    where
        F: Fn(Element) -> Fut,
        Fut: std::future::Future<Output = Result<T, CmdError>>,
    {
        let deadline = Instant::now() + WAIT;
        loop {
            let e = self.el(css).await?;
            match op(e).await {
                Ok(v) => return Ok(v),
                Err(e) if stale_or_missing(&e) && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => return Err(format!("`{css}`: {e}").into()),
            }
        }
    }

    async fn fill(&self, css: &str, value: &str) -> TestResult {
        self.with_el(css, |e| async move {
            e.clear().await?;
            e.send_keys(value).await
        })
        .await
    }

    async fn click(&self, css: &str) -> TestResult {
        self.with_el(css, |e| async move { e.click().await }).await
    }

    /// The dashboard's two-factor coverage bar, in percent.
    async fn coverage(&self) -> TestResult<String> {
        let v = self
            .with_el("#mfa-coverage", |e| async move { e.attr("value").await })
            .await?;
        Ok(v.unwrap_or_default())
    }

    /// Clicks the element among `css` whose text is exactly `text`.
    async fn click_link_text(&self, css: &str, text: &str) -> TestResult {
        for e in self.c.find_all(Locator::Css(css)).await? {
            if e.text().await?.trim() == text {
                e.click().await?;
                return Ok(());
            }
        }
        Err(format!("no `{css}` reads {text:?}").into())
    }

    async fn count(&self, css: &str) -> TestResult<usize> {
        Ok(self.c.find_all(Locator::Css(css)).await?.len())
    }

    /// The texts of all elements matching `css`, read in one go in the page.
    async fn texts(&self, css: &str) -> TestResult<Vec<String>> {
        let v = self
            .c
            .execute(
                "return [...document.querySelectorAll(arguments[0])].map(e => e.innerText);",
                vec![serde_json::Value::String(css.into())],
            )
            .await?;
        Ok(v.as_array()
            .map(|a| {
                a.iter()
                    .map(|x| x.as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Saves a PNG of the page (the window is stretched to show the whole page, up to
    /// `SHOT_MAX_HEIGHT` pixels, then put back).
    async fn screenshot(&self, name: &str) -> TestResult {
        let dims = self
            .c
            .execute(
                "return [document.documentElement.scrollHeight, window.innerHeight];",
                vec![],
            )
            .await?;
        let page_h = dims[0].as_u64().unwrap_or(0);
        let view_h = dims[1].as_u64().unwrap_or(0);
        let (w, h) = self.c.get_window_size().await?;
        let stretch = page_h > view_h && view_h > 0;
        if stretch {
            let chrome = h.saturating_sub(view_h);
            let want = (page_h.min(SHOT_MAX_HEIGHT) + chrome) as u32;
            self.c.set_window_size(w as u32, want).await?;
        }
        let png = self.c.screenshot().await;
        if stretch {
            self.c.set_window_size(w as u32, h as u32).await?;
        }
        let png = png?;
        assert!(
            png.starts_with(b"\x89PNG"),
            "screenshot {name} is not a PNG"
        );
        std::fs::write(self.shots.join(format!("{name}.png")), png)?;
        Ok(())
    }

    /// Layout checks every page must pass at the test window's width: nothing overflows
    /// sideways (neither the page nor a table inside its scroll box), and no element carries
    /// an inline `style` attribute, which the Content-Security-Policy (`style-src 'self'`)
    /// makes the browser ignore.
    async fn check_layout(&self, page: &str) -> TestResult {
        let v = self
            .c
            .execute(
                r#"
                const d = document.documentElement;
                const wraps = [...document.querySelectorAll('.table-wrap')]
                    .filter(w => w.scrollWidth > w.clientWidth + 1)
                    .map(w => (w.querySelector('table') || w).id || 'a table');
                const styled = [...document.querySelectorAll('[style]')]
                    .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + '[style="' + e.getAttribute('style') + '"]');
                return [d.scrollWidth, d.clientWidth, wraps, styled];
                "#,
                vec![],
            )
            .await?;
        let (sw, cw) = (v[0].as_u64().unwrap_or(0), v[1].as_u64().unwrap_or(0));
        if sw > cw {
            return Err(
                format!("{page} overflows horizontally: {sw}px of content in {cw}px").into(),
            );
        }
        if v[2].as_array().is_some_and(|a| !a.is_empty()) {
            return Err(format!("{page}: these tables scroll sideways at 1400px: {}", v[2]).into());
        }
        if v[3].as_array().is_some_and(|a| !a.is_empty()) {
            return Err(format!(
                "{page}: inline styles are blocked by the CSP and have no effect: {}",
                v[3]
            )
            .into());
        }
        Ok(())
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

fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).expect("create target/screenshots");
    dir
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

    let driver = start_chromedriver().await;
    let webdriver = format!("http://127.0.0.1:{}", driver.port);
    let client = tokio::time::timeout(
        Duration::from_secs(30),
        ClientBuilder::native()
            .capabilities(capabilities(driver.profile.path()))
            .connect(&webdriver),
    )
    .await
    .expect("chromedriver did not start a browser session within 30 s")
    .expect("start a browser session");
    let ui = Ui {
        c: client.clone(),
        base: server.base.clone(),
        shots: screenshot_dir(),
    };
    // Run the scenario in its own task so that a panic or an error there still lets us close
    // the browser and stop chromedriver before failing.
    let task = tokio::spawn(scenario(ui));
    let abort = task.abort_handle();
    let outcome = tokio::time::timeout(SCENARIO_LIMIT, task).await;
    if outcome.is_err() {
        abort.abort();
    }
    let _ = tokio::time::timeout(Duration::from_secs(10), client.close()).await;
    drop(driver);
    drop(server);
    match outcome {
        Err(_) => panic!("the browser scenario took longer than {SCENARIO_LIMIT:?}"),
        Ok(Err(join)) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
        Ok(Err(join)) => panic!("the browser scenario was cancelled: {join}"),
        Ok(Ok(Err(e))) => panic!("browser scenario failed: {e}"),
        Ok(Ok(Ok(()))) => {}
    }
    eprintln!("browser scenario passed in {:?}", started.elapsed());
}

async fn scenario(ui: Ui) -> TestResult {
    ui.c.update_timeouts(TimeoutConfiguration::new(
        Some(WAIT),
        Some(Duration::from_secs(15)),
        Some(Duration::ZERO),
    ))
    .await?;

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
