//! The real-browser harness of `tests/browser.rs` and `tests/browser_controls.rs`: chromedriver
//! in a process group of its own, headless Chromium, a Vouch served in-process on a fresh SQLite
//! database, and the `Ui` helper that drives the page. Each test file starts its own chromedriver
//! on its own port.
#![allow(dead_code)]

use fantoccini::elements::Element;
use fantoccini::error::CmdError;
use fantoccini::wd::TimeoutConfiguration;
use fantoccini::{Client, ClientBuilder, Locator};
use std::future::Future;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use vouch_app::{App, AppConfig, SystemClock};
use vouch_store::Backend;
use vouch_store::testing::TestDb;
use vouch_web::WebConfig;

pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// Longest any single wait (an element, a page, a URL) may take.
pub const WAIT: Duration = Duration::from_secs(10);

pub const ADMIN_EMAIL: &str = "ada@example.com";
pub const ADMIN_NAME: &str = "Ada Lovelace";
pub const ADMIN_PASSWORD: &str = "analytical-engine-1843";

pub type TestResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

// ---------- harness ----------

/// chromedriver in a process group of its own; dropping it kills the group (chromedriver
/// and any browser it started) and reaps chromedriver, whatever happened.
pub struct Driver {
    pub child: Child,
    pub port: u16,
    pub profile: tempfile::TempDir,
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

pub fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free loopback port")
}

/// False (after saying so) when the browser is not installed and this is not CI; a panic
/// when it is not installed under `CI=true`.
pub fn browser_available() -> bool {
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

pub async fn start_chromedriver() -> Driver {
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
        if let Ok(r) = http.get(&status).send().await
            && r.status().is_success()
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "chromedriver did not answer on port {port} within {WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    driver
}

pub fn capabilities(profile: &Path) -> fantoccini::wd::Capabilities {
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
pub struct Server {
    pub app: App,
    pub base: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    _db: TestDb,
    _vault_dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub async fn start_vouch() -> Server {
    let db = TestDb::new(Backend::Sqlite).await.expect("sqlite test db");
    let vault_dir = tempfile::tempdir().unwrap();
    let vault = vouch_evidence::Vault::open(
        &vouch_evidence::VaultConfig {
            url: vault_dir.path().join("blobs").display().to_string(),
            s3: Default::default(),
        },
        &vault_dir.path().join("staging"),
    )
    .expect("the test vault opens");
    let app = App::new(
        db.store.clone(),
        vault,
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
        _vault_dir: vault_dir,
    }
}

// ---------- browser helpers ----------

/// A session on the browser and the Vouch it is pointed at.
#[derive(Clone)]
pub struct Ui {
    pub c: Client,
    pub base: String,
    pub shots: PathBuf,
    /// Full-page screenshots are cut off below this height.
    pub shot_max_height: u64,
}

/// Errors that mean "the page changed under us; look again": the element is gone or
/// belongs to the page before a navigation.
pub fn stale_or_missing(e: &CmdError) -> bool {
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
    pub async fn goto(&self, path: &str) -> TestResult {
        self.c.goto(&format!("{}{}", self.base, path)).await?;
        Ok(())
    }

    pub async fn el(&self, css: &str) -> TestResult<Element> {
        self.c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .map_err(|e| format!("no element `{css}` within {WAIT:?}: {e}").into())
    }

    pub async fn path(&self) -> TestResult<String> {
        Ok(self.c.current_url().await?.path().to_string())
    }

    /// Polls until `css` exists and its text satisfies `ok`; returns that text. Survives the
    /// page being replaced in between (stale elements).
    pub async fn text_where(
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

    /// Polls until `css` holds exactly `expected` (trimmed).
    pub async fn text_is(&self, css: &str, expected: &str) -> TestResult<String> {
        self.text_where(css, &format!("{expected:?}"), |t| t.trim() == expected)
            .await
    }

    pub async fn text_has(&self, css: &str, part: &str) -> TestResult<String> {
        self.text_where(css, &format!("containing {part:?}"), |t| t.contains(part))
            .await
    }

    pub async fn set_value(&self, id: &str, value: &str) -> TestResult {
        self.c
            .execute(
                "document.getElementById(arguments[0]).value = arguments[1];",
                vec![id.into(), value.into()],
            )
            .await?;
        Ok(())
    }

    /// A GET with the browser's cookies (the session), outside the browser.
    pub async fn fetch(&self, path: &str) -> TestResult<(u16, String, Vec<u8>)> {
        let cookies = self.c.get_all_cookies().await?;
        let header = cookies
            .iter()
            .map(|c| format!("{}={}", c.name(), c.value()))
            .collect::<Vec<_>>()
            .join("; ");
        let r = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(WAIT)
            .build()?
            .get(format!("{}{}", self.base, path))
            .header(reqwest::header::COOKIE, header)
            .send()
            .await?;
        let status = r.status().as_u16();
        let ct = r
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        Ok((status, ct, r.bytes().await?.to_vec()))
    }

    pub async fn heading(&self, expected: &str) -> TestResult {
        self.text_where("main h1", &format!("the heading {expected:?}"), |t| {
            t.trim() == expected
        })
        .await
        .map(|_| ())
    }

    pub async fn wait_path(&self, expected: &str) -> TestResult {
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
    pub async fn with_el<T, F, Fut>(&self, css: &str, op: F) -> TestResult<T>
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

    pub async fn fill(&self, css: &str, value: &str) -> TestResult {
        self.with_el(css, |e| async move {
            e.clear().await?;
            e.send_keys(value).await
        })
        .await
    }

    pub async fn click(&self, css: &str) -> TestResult {
        self.with_el(css, |e| async move { e.click().await }).await
    }

    /// Clicks the element among `css` whose text is exactly `text`.
    pub async fn click_link_text(&self, css: &str, text: &str) -> TestResult {
        for e in self.c.find_all(Locator::Css(css)).await? {
            if e.text().await?.trim() == text {
                e.click().await?;
                return Ok(());
            }
        }
        Err(format!("no `{css}` reads {text:?}").into())
    }

    pub async fn count(&self, css: &str) -> TestResult<usize> {
        Ok(self.c.find_all(Locator::Css(css)).await?.len())
    }

    /// The texts of all elements matching `css`, read in one go in the page.
    pub async fn texts(&self, css: &str) -> TestResult<Vec<String>> {
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
    /// `shot_max_height` pixels, then put back).
    pub async fn screenshot(&self, name: &str) -> TestResult {
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
            let want = (page_h.min(self.shot_max_height) + chrome) as u32;
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
    pub async fn check_layout(&self, page: &str) -> TestResult {
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

pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).expect("create target/screenshots");
    dir
}

/// How a test file runs its browser scenario.
pub struct Run {
    /// What the closing message calls the scenario ("… passed in 12s").
    pub label: &'static str,
    /// Longest the whole browser scenario may take.
    pub limit: Duration,
    /// Full-page screenshots are cut off below this height.
    pub shot_max_height: u64,
}

/// Starts chromedriver and a browser session against `server`, runs `scenario` on it, then
/// closes the browser, stops chromedriver and `server`, and fails the test if the scenario
/// failed, panicked or took longer than `run.limit`. `started` is when the test began.
pub async fn run_scenario<F, Fut>(server: Server, started: Instant, run: Run, scenario: F)
where
    F: FnOnce(Ui) -> Fut,
    Fut: Future<Output = TestResult> + Send + 'static,
{
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
        shot_max_height: run.shot_max_height,
    };
    let session = ui.c.clone();
    let scenario = scenario(ui);
    // Run the scenario in its own task so that a panic or an error there still lets us close
    // the browser and stop chromedriver before failing.
    let task = tokio::spawn(async move {
        session
            .update_timeouts(TimeoutConfiguration::new(
                Some(WAIT),
                Some(Duration::from_secs(15)),
                Some(Duration::ZERO),
            ))
            .await?;
        scenario.await
    });
    let limit = run.limit;
    let abort = task.abort_handle();
    let outcome = tokio::time::timeout(limit, task).await;
    if outcome.is_err() {
        abort.abort();
    }
    let _ = tokio::time::timeout(Duration::from_secs(10), client.close()).await;
    drop(driver);
    drop(server);
    match outcome {
        Err(_) => panic!("the browser scenario took longer than {limit:?}"),
        Ok(Err(join)) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
        Ok(Err(join)) => panic!("the browser scenario was cancelled: {join}"),
        Ok(Ok(Err(e))) => panic!("browser scenario failed: {e}"),
        Ok(Ok(Ok(()))) => {}
    }
    eprintln!("{} passed in {:?}", run.label, started.elapsed());
}
