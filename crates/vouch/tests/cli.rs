//! The `vouch` binary as operators and scripts use it: real processes, real temporary folders,
//! exit codes and `--json` output that scripts rely on.
//!
//! Every process is bounded in time, every server is killed when its guard drops, and nothing
//! listens beyond 127.0.0.1.
use std::fmt;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_vouch");
/// The longest any single command may take before the test fails (the machine may be busy).
const STEP: Duration = Duration::from_secs(120);

// ---------------------------------------------------------------------------------------------
// Running the binary

/// What a finished command left behind.
struct Out {
    what: String,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl fmt::Display for Out {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` exited with {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.what, self.code, self.stdout, self.stderr
        )
    }
}

impl Out {
    fn expect(self, code: i32) -> Out {
        assert_eq!(self.code, Some(code), "expected exit {code}:\n{self}");
        self
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{self}"))
    }
}

/// A `vouch` command run from `cwd`, with none of the caller's `VOUCH_*` settings.
fn vouch(cwd: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.current_dir(cwd)
        .stdin(Stdio::null())
        .env_remove("RUST_LOG");
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("VOUCH_") {
            c.env_remove(k);
        }
    }
    c
}

fn describe(c: &Command) -> String {
    let args: Vec<String> = c
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    format!("vouch {}", args.join(" "))
}

fn read_all(mut r: impl Read + Send + 'static) -> JoinHandle<String> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    })
}

/// Runs a command to completion, at most `limit`. A panic in the binary always fails the test:
/// whatever goes wrong, the operator must get a message and an exit code, never a backtrace.
fn run_for(c: &mut Command, limit: Duration) -> Out {
    let what = describe(c);
    let mut child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start `{what}`: {e}"));
    let out = read_all(child.stdout.take().unwrap());
    let err = read_all(child.stderr.take().unwrap());
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait for vouch") {
            break s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "`{what}` did not finish within {limit:?}\n--- stderr ---\n{}",
                err.join().unwrap_or_default()
            );
        }
        thread::sleep(Duration::from_millis(10));
    };
    let out = Out {
        what,
        code: status.code(),
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    };
    assert!(
        !out.stderr.contains("panicked at") && !out.stdout.contains("panicked at"),
        "vouch panicked:\n{out}"
    );
    out
}

fn run(c: &mut Command) -> Out {
    run_for(c, STEP)
}

/// `vouch --data-dir DATA <args>`, run from the folder above DATA.
fn in_data(data: &Path, args: &[&str]) -> Out {
    let mut c = vouch(data.parent().unwrap());
    c.arg("--data-dir").arg(data).args(args);
    run(&mut c)
}

fn demo(data: &Path) {
    let mut c = vouch(data.parent().unwrap());
    c.args(["demo", "--no-serve", "--data-dir"]).arg(data);
    run(&mut c).expect(0);
}

fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("vouch-cli-test-")
        .tempdir()
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// The demo

#[test]
fn demo_prepares_a_sample_company_that_the_cli_can_read() {
    let tmp = tempdir();
    let data = tmp.path().join("demo");
    let mut c = vouch(tmp.path());
    c.args(["--json", "demo", "--no-serve", "--data-dir"])
        .arg(&data);
    let ready = run(&mut c).expect(0).json();
    assert_eq!(ready["email"], "priya.raman@lumenhealth.example", "{ready}");
    assert!(
        data.join("vouch.db").is_file(),
        "the demo database is in the data folder"
    );

    let users = in_data(&data, &["user", "list", "--json"]).expect(0).json();
    let users = users.as_array().expect("user list --json is an array");
    assert_eq!(
        users.len(),
        12,
        "the demo company has 12 people: {users:#?}"
    );
    let mut emails: Vec<&str> = users.iter().map(|u| u["email"].as_str().unwrap()).collect();
    emails.sort();
    emails.dedup();
    assert_eq!(emails.len(), 12, "emails are unique");
    let disabled: Vec<&Value> = users.iter().filter(|u| u["status"] == "disabled").collect();
    assert_eq!(
        disabled.len(),
        1,
        "exactly one leaver is disabled: {users:#?}"
    );
    assert_eq!(disabled[0]["email"], "jordan.lee@lumenhealth.example");
    assert!(
        users
            .iter()
            .all(|u| u["status"] == "disabled" || u["status"] == "active"),
        "{users:#?}"
    );
    let role_of = |email: &str| {
        users
            .iter()
            .find(|u| u["email"] == email)
            .map(|u| u["role"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("{email} is missing"))
    };
    assert_eq!(role_of("priya.raman@lumenhealth.example"), "admin");
    assert_eq!(
        role_of("marcus.webb@lumenhealth.example"),
        "compliance_lead"
    );
    assert_eq!(role_of("dana.kim@brightcpa.example"), "auditor");

    let verified = in_data(&data, &["audit-log", "verify", "--json"])
        .expect(0)
        .json();
    assert_eq!(verified["ok"], true, "{verified}");
    // 12 people created, 2 tokens, 1 leaver disabled (and whatever comes with it).
    assert!(verified["events"].as_i64().unwrap() >= 15, "{verified}");

    let text = in_data(&data, &["audit-log", "verify"]).expect(0);
    assert!(text.stdout.contains("intact"), "{text}");
}

#[test]
fn demo_refuses_a_folder_that_is_not_a_demo_folder_and_leaves_it_untouched() {
    let tmp = tempdir();
    let data = tmp.path().join("precious");
    std::fs::create_dir_all(data.join("evidence")).unwrap();
    std::fs::write(data.join("board-minutes.txt"), "do not delete").unwrap();
    std::fs::write(data.join("evidence/scan.pdf"), [0u8, 1, 2, 3]).unwrap();
    let before = snapshot(&data);

    let mut c = vouch(tmp.path());
    c.args(["demo", "--no-serve", "--data-dir"]).arg(&data);
    let out = run(&mut c).expect(2);
    assert!(out.stderr.contains("not a demo folder"), "{out}");
    assert_eq!(snapshot(&data), before, "the folder was changed:\n{out}");
    assert!(!data.join("vouch.db").exists() && !data.join(".vouch-demo").exists());
}

/// Every file under `dir` with its content.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.push((p.clone(), Vec::new()));
                stack.push(p);
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

// ---------------------------------------------------------------------------------------------
// Criteria

#[test]
fn criteria_are_listed_as_json_and_by_category() {
    let tmp = tempdir();
    let all = run(vouch(tmp.path()).args(["criteria", "list", "--json"]))
        .expect(0)
        .json();
    let all = all.as_array().expect("an array");
    assert_eq!(all.len(), 61, "SOC 2 has 61 criteria");
    for c in all {
        for field in ["id", "category", "title"] {
            assert!(
                c[field].as_str().is_some_and(|s| !s.is_empty()),
                "criterion without {field}: {c}"
            );
        }
    }
    let mut ids: Vec<&str> = all.iter().map(|c| c["id"].as_str().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 61, "ids are unique");
    assert!(ids.contains(&"CC6.1") && ids.contains(&"P8.1"), "{ids:?}");

    let privacy =
        run(vouch(tmp.path()).args(["criteria", "list", "--category", "privacy", "--json"]))
            .expect(0)
            .json();
    let privacy = privacy.as_array().expect("an array");
    assert_eq!(privacy.len(), 18);
    assert!(
        privacy.iter().all(|c| c["category"] == "privacy"),
        "{privacy:#?}"
    );

    let text = run(vouch(tmp.path()).args(["criteria", "list"])).expect(0);
    assert!(text.stdout.contains("61 criteria"), "{text}");

    let bad = run(vouch(tmp.path()).args(["criteria", "list", "--category", "vibes"])).expect(2);
    assert!(bad.stderr.contains("unknown category 'vibes'"), "{bad}");
}

// ---------------------------------------------------------------------------------------------
// Configuration

const BAD_CONFIG: &str = r#"
listen = "nowhere"
max_body_bytes = 12
colour = "blue"

[log]
level = "loud"

[session]
idle_minutes = "soon"

[oidc]
trust_idp_mfa = "maybe"
"#;

#[test]
fn config_validate_reports_every_problem_at_once() {
    let tmp = tempdir();
    let file = tmp.path().join("bad.toml");
    std::fs::write(&file, BAD_CONFIG).unwrap();
    let data = tmp.path().join("data");
    let validate = |json: bool| {
        let mut c = vouch(tmp.path());
        c.arg("--data-dir").arg(&data).arg("--config").arg(&file);
        if json {
            c.arg("--json");
        }
        c.args(["config", "validate"]);
        run(&mut c)
    };

    let out = validate(false).expect(2);
    let problems = [
        "listen: 'nowhere' is not an address",
        "max_body_bytes: 12 is out of range",
        "log.level: 'loud' must be error, warn, info, debug or trace",
        "session.idle_minutes: 'soon' is not a whole number",
        "oidc.trust_idp_mfa: 'maybe' is not true or false",
    ];
    for p in problems {
        assert!(out.stdout.contains(p), "missing problem `{p}`:\n{out}");
    }
    assert_eq!(
        out.stdout
            .lines()
            .filter(|l| l.starts_with("error: "))
            .count(),
        problems.len(),
        "one line per problem:\n{out}"
    );
    assert!(out.stdout.contains("5 problem(s) found."), "{out}");
    let warning = out
        .stdout
        .lines()
        .find(|l| l.starts_with("warning: "))
        .unwrap_or_else(|| panic!("no warning:\n{out}"));
    assert!(warning.contains("unknown key 'colour'"), "{out}");
    assert!(!data.exists(), "validating must not create the data folder");

    let j = validate(true).expect(2).json();
    assert_eq!(j["ok"], false, "{j}");
    assert_eq!(j["errors"].as_array().unwrap().len(), problems.len(), "{j}");
    let warnings = j["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().contains("'colour'")),
        "{j}"
    );

    // Anything that loads the configuration refuses it the same way, with exit 2.
    let mut c = vouch(tmp.path());
    c.arg("--data-dir")
        .arg(&data)
        .arg("--config")
        .arg(&file)
        .args(["user", "list"]);
    let out = run(&mut c).expect(2);
    assert!(out.stderr.contains("5 problem(s)"), "{out}");
    assert!(
        !data.exists(),
        "a refused configuration must not create the data folder"
    );
}

#[test]
fn config_validate_accepts_a_good_file() {
    let tmp = tempdir();
    let file = tmp.path().join("good.toml");
    std::fs::write(
        &file,
        "listen = \"127.0.0.1:9999\"\npublic_url = \"https://vouch.acme.example\"\n\n[log]\nformat = \"json\"\n\n[session]\nidle_minutes = 30\n",
    )
    .unwrap();
    let mut c = vouch(tmp.path());
    c.arg("--config").arg(&file).args(["config", "validate"]);
    let out = run(&mut c).expect(0);
    assert!(out.stdout.contains("The configuration is valid."), "{out}");
    assert!(!out.stdout.contains("warning"), "{out}");

    let mut c = vouch(tmp.path());
    c.arg("--config")
        .arg(&file)
        .args(["--json", "config", "validate"]);
    let j = run(&mut c).expect(0).json();
    assert_eq!(j["ok"], true, "{j}");
    assert_eq!(j["errors"].as_array().map(Vec::len), Some(0), "{j}");

    let mut c = vouch(tmp.path());
    c.arg("--config")
        .arg(&file)
        .args(["--json", "config", "show"]);
    let j = run(&mut c).expect(0).json();
    assert_eq!(j["config"]["listen"], "127.0.0.1:9999", "{j}");
    assert_eq!(j["config"]["session_idle_minutes"], 30, "{j}");
    assert_eq!(j["config"]["log_format"], "json", "{j}");
}

#[test]
fn secrets_come_from_files_and_are_never_shown() {
    let tmp = tempdir();
    let secret = tmp.path().join("oidc-secret");
    std::fs::write(&secret, "s3cr3t-value\n").unwrap();
    let mut c = vouch(tmp.path());
    c.env("VOUCH_OIDC_ISSUER_URL", "https://idp.acme.example")
        .env("VOUCH_OIDC_CLIENT_ID", "vouch")
        .env("VOUCH_OIDC_CLIENT_SECRET_FILE", &secret)
        .args(["--json", "config", "show"]);
    let out = run(&mut c).expect(0);
    let j = out.json();
    assert_eq!(j["config"]["oidc"]["client_secret"], "(set)", "{j}");
    assert_eq!(
        j["sources"]["oidc.client_secret"], "VOUCH_OIDC_CLIENT_SECRET_FILE",
        "{j}"
    );
    assert!(
        !out.stdout.contains("s3cr3t-value"),
        "the secret was printed:\n{out}"
    );

    let missing = tmp.path().join("no-such-secret");
    let mut c = vouch(tmp.path());
    c.env("VOUCH_DATABASE_URL_FILE", &missing)
        .args(["config", "validate"]);
    let out = run(&mut c).expect(2);
    assert!(
        out.stdout.contains("cannot read secret file") && out.stdout.contains("no-such-secret"),
        "{out}"
    );
}

// ---------------------------------------------------------------------------------------------
// The audit log's hash chain, tampered with from outside Vouch

/// Runs SQL statements directly on a data folder's SQLite database, as an attacker with file
/// access would.
fn tamper(data: &Path, statements: &[&str]) {
    let url = format!("sqlite://{}", data.join("vouch.db").display());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
        for s in statements {
            let r = sqlx::query(s)
                .execute(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("{s}: {e}"));
            let changes = s.starts_with("UPDATE") || s.starts_with("DELETE");
            assert!(r.rows_affected() > 0 || !changes, "{s} changed nothing");
        }
        conn.close().await.unwrap();
    });
}

fn verify(data: &Path) -> (Out, Value) {
    let out = in_data(data, &["audit-log", "verify", "--json"]);
    let j = out.json();
    (out, j)
}

#[test]
fn tampering_with_the_audit_log_is_detected_and_named() {
    let tmp = tempdir();
    let data = tmp.path().join("demo");
    demo(&data);
    let (out, j) = verify(&data);
    assert_eq!(out.code, Some(0), "{out}");
    let events = j["events"].as_i64().unwrap();
    assert!(events >= 10, "{j}");

    // Alter one event's content: verification fails and names that event.
    tamper(
        &data,
        &[
            "CREATE TABLE saved AS SELECT * FROM audit_events WHERE seq = 3",
            r#"UPDATE audit_events SET after_json = '{"email":"mallory@evil.example","role":"admin"}' WHERE seq = 3"#,
        ],
    );
    let (out, j) = verify(&data);
    assert_eq!(
        out.code,
        Some(1),
        "an altered event must fail verification:\n{out}"
    );
    assert_eq!(j["ok"], false, "{j}");
    assert_eq!(
        j["detail"],
        serde_json::json!({"Altered": {"seq": 3}}),
        "{j}"
    );
    assert!(j["error"].as_str().unwrap().starts_with("event 3:"), "{j}");
    let text = in_data(&data, &["audit-log", "verify"]).expect(1);
    assert!(text.stdout.contains("NOT intact: event 3:"), "{text}");

    // Put it back: the chain is whole again (so the check above was about that one change).
    tamper(
        &data,
        &[
            "UPDATE audit_events SET after_json = (SELECT after_json FROM saved) WHERE seq = 3",
            "DROP TABLE saved",
        ],
    );
    let (out, _) = verify(&data);
    assert_eq!(out.code, Some(0), "{out}");

    // Remove an event from the middle: the next one is named.
    tamper(&data, &["DELETE FROM audit_events WHERE seq = 7"]);
    let (out, j) = verify(&data);
    assert_eq!(
        out.code,
        Some(1),
        "a removed event must fail verification:\n{out}"
    );
    assert_eq!(
        j["detail"],
        serde_json::json!({"Gap": {"seq": 8, "expected": 7}}),
        "{j}"
    );
    assert!(j["error"].as_str().unwrap().starts_with("event 8:"), "{j}");

    // Renumber the rest to hide the gap: the link to the event before still breaks at 7.
    tamper(
        &data,
        &["UPDATE audit_events SET seq = seq - 1 WHERE seq > 7"],
    );
    let (out, j) = verify(&data);
    assert_eq!(out.code, Some(1), "{out}");
    assert_eq!(
        j["detail"],
        serde_json::json!({"BrokenLink": {"seq": 7}}),
        "{j}"
    );
}

#[test]
fn removing_the_newest_events_is_detected_through_the_head() {
    let tmp = tempdir();
    let data = tmp.path().join("demo");
    demo(&data);
    let (out, j) = verify(&data);
    assert_eq!(out.code, Some(0), "{out}");
    let n = j["events"].as_i64().unwrap();

    let last = format!("DELETE FROM audit_events WHERE seq = {n}");
    tamper(&data, &[&last]);
    let (out, j) = verify(&data);
    assert_eq!(
        out.code,
        Some(1),
        "a truncated log must fail verification:\n{out}"
    );
    assert_eq!(
        j["detail"],
        serde_json::json!({"Truncated": {"last": n - 1, "head": n}}),
        "{j}"
    );
    assert!(
        j["error"]
            .as_str()
            .unwrap()
            .contains(&format!("head records event {n}")),
        "{j}"
    );
}

// ---------------------------------------------------------------------------------------------
// Serving, health, first-run setup

/// A `vouch serve` process that is killed when dropped.
struct Server {
    child: Child,
    port: u16,
    lines: Receiver<String>,
    stdout: Vec<String>,
    stderr: Arc<Mutex<String>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Server {
    /// Starts `vouch serve` on a free loopback port and waits until it listens.
    fn start(data: &Path) -> Server {
        for _ in 0..5 {
            let port = free_port();
            let mut c = vouch(data.parent().unwrap());
            c.arg("--data-dir")
                .arg(data)
                .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            let mut child = c.spawn().expect("start vouch serve");
            let (tx, lines) = mpsc::channel();
            let stdout = child.stdout.take().unwrap();
            thread::spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
            let stderr = Arc::new(Mutex::new(String::new()));
            let sink = stderr.clone();
            let mut err = child.stderr.take().unwrap();
            thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = err.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    sink.lock()
                        .unwrap()
                        .push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            });
            let mut s = Server {
                child,
                port,
                lines,
                stdout: Vec::new(),
                stderr,
            };
            match s.wait_for_line("Vouch is listening on", Duration::from_secs(60)) {
                Ok(_) => return s,
                // Another process took the port between our probe and the server's bind.
                Err(e) if e.contains("cannot listen") => continue,
                Err(e) => panic!("{e}"),
            }
        }
        panic!("could not find a free port for vouch serve");
    }

    fn wait_for_line(&mut self, needle: &str, limit: Duration) -> Result<String, String> {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self
                .lines
                .recv_timeout(left.min(Duration::from_millis(200)))
            {
                Ok(line) => {
                    self.stdout.push(line.clone());
                    if line.contains(needle) {
                        return Ok(line);
                    }
                }
                Err(RecvTimeoutError::Timeout) if Instant::now() < deadline => {}
                Err(_) => {
                    // Gone or too slow: say what it printed.
                    thread::sleep(Duration::from_millis(100));
                    let status = self.child.try_wait().ok().flatten();
                    return Err(format!(
                        "vouch serve never printed `{needle}` (exit: {status:?})\n--- stdout ---\n{}\n--- stderr ---\n{}",
                        self.stdout.join("\n"),
                        self.stderr.lock().unwrap()
                    ));
                }
            }
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn kill(mut self) -> u16 {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.port
    }
}

/// A plain HTTP/1.1 GET on loopback: the status code and the body.
fn http_get(port: u16, path: &str) -> (u16, String) {
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = String::new();
    let _ = s.read_to_string(&mut resp);
    let status = resp
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {resp:?}"));
    (status, resp)
}

fn healthcheck(cwd: &Path, url: &str) -> Out {
    run(vouch(cwd).args(["healthcheck", "--url", url]))
}

#[test]
fn first_start_prints_a_setup_link_that_create_admin_retires() {
    let tmp = tempdir();
    let data = tmp.path().join("fresh");
    let server = Server::start(&data);
    let link = server
        .stdout
        .iter()
        .find(|l| l.contains("/setup?token="))
        .cloned()
        .unwrap_or_else(|| panic!("no setup link on first start: {:#?}", server.stdout));
    let token = link
        .split("/setup?token=")
        .nth(1)
        .unwrap()
        .trim()
        .to_string();
    assert!(token.len() >= 32, "a long random token: {link}");
    assert!(
        link.contains(&format!("{}/setup?token=", server.url())),
        "the link points at this server: {link}"
    );
    let setup = format!("/setup?token={token}");
    let url = server.url();

    let out = healthcheck(tmp.path(), &url).expect(0);
    assert!(out.stdout.contains("ready"), "{out}");
    let j = run(vouch(tmp.path()).args(["--json", "healthcheck", "--url", &url]))
        .expect(0)
        .json();
    assert_eq!(j["ok"], true, "{j}");

    let (status, body) = http_get(server.port, &setup);
    assert_eq!(
        status, 200,
        "the printed link opens the setup page:\n{body}"
    );
    let (status, _) = http_get(server.port, "/setup?token=not-the-token");
    assert_eq!(status, 403, "a wrong token is refused");

    // The administrator is created from the command line instead, while the server runs.
    let pw = tmp.path().join("password");
    std::fs::write(&pw, "correct horse battery staple\n").unwrap();
    let mut c = vouch(tmp.path());
    c.arg("--data-dir").arg(&data).args([
        "user",
        "create-admin",
        "--email",
        "ada@acme.example",
        "--name",
        "Ada Admin",
        "--password-file",
    ]);
    c.arg(&pw);
    let out = run(&mut c).expect(0);
    assert!(
        out.stdout
            .contains("Created administrator ada@acme.example"),
        "{out}"
    );
    assert!(
        !out.stdout.contains("Generated password"),
        "the file's password was used:\n{out}"
    );

    let (status, body) = http_get(server.port, &setup);
    assert_eq!(
        status, 403,
        "the setup link must stop working once an administrator exists:\n{body}"
    );

    let port = server.kill();
    let out = healthcheck(tmp.path(), &format!("http://127.0.0.1:{port}")).expect(1);
    assert!(out.stdout.contains("unreachable"), "{out}");

    // A second start has users, so it prints no link, and the old one stays dead.
    let server = Server::start(&data);
    assert!(
        !server.stdout.iter().any(|l| l.contains("/setup?token=")),
        "no setup link once someone exists: {:#?}",
        server.stdout
    );
    let (status, _) = http_get(server.port, &setup);
    assert_eq!(status, 403);
    healthcheck(tmp.path(), &server.url()).expect(0);
    drop(server);

    let users = in_data(&data, &["user", "list", "--json"]).expect(0).json();
    let users = users.as_array().unwrap();
    assert_eq!(users.len(), 1, "{users:#?}");
    assert_eq!(users[0]["email"], "ada@acme.example");
    assert_eq!(users[0]["role"], "admin");
    in_data(&data, &["audit-log", "verify"]).expect(0);

    // The CLI's change is in the audit log, attributed to the command line.
    let events = in_data(&data, &["audit-log", "list", "--json", "--action", "user."])
        .expect(0)
        .json();
    let create = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "user.create")
        .unwrap_or_else(|| panic!("no user.create event: {events:#}"));
    assert_eq!(create["actor"], "cli", "{create}");
    assert_eq!(create["object_id"], users[0]["id"], "{create}");
}

// ---------------------------------------------------------------------------------------------
// Failures an operator meets

#[test]
fn an_unreachable_database_is_a_clear_error_with_exit_3() {
    let tmp = tempdir();
    let url = "postgres://nobody:hunter2@127.0.0.1:1/x";
    for args in [
        &["user", "list"][..],
        &["audit-log", "verify", "--json"],
        &["migrate"],
    ] {
        let mut c = vouch(tmp.path());
        c.args(["--database-url", url]).args(args);
        let out = run_for(&mut c, Duration::from_secs(90)).expect(3);
        assert!(
            out.stderr
                .contains("error: cannot open the database at postgres://nobody:***@127.0.0.1:1/x"),
            "{out}"
        );
        assert!(
            !out.stderr.contains("hunter2"),
            "the password was printed:\n{out}"
        );
    }
}

#[test]
fn exit_codes_for_wrong_commands() {
    let tmp = tempdir();
    let out = run(vouch(tmp.path()).arg("frobnicate")).expect(2);
    assert!(out.stderr.contains("frobnicate"), "{out}");
    run(&mut vouch(tmp.path())).expect(2);
    run(vouch(tmp.path()).args(["user", "create-admin", "--name", "No Email"])).expect(2);
    run(vouch(tmp.path()).args(["serve", "--no-such-flag"])).expect(2);
    run(vouch(tmp.path()).args(["--database-url", "mysql://db/x", "user", "list"])).expect(2);
    let help = run(vouch(tmp.path()).arg("--help")).expect(0);
    assert!(help.stdout.contains("serve"), "{help}");
    run(vouch(tmp.path()).arg("--version")).expect(0);
    assert!(
        std::fs::read_dir(tmp.path()).unwrap().next().is_none(),
        "refused commands must not create anything"
    );
}

// ---------------------------------------------------------------------------------------------
// A killed process leaves no half-written change

/// Kills `vouch demo --no-serve` with SIGKILL after `delay`, then checks the folder from a new
/// process: the chain verifies and users and `user.create` events match one to one. Returns
/// how many users were written (0..=12) and whether the demo had already finished.
fn kill_demo_and_check(root: &Path, name: &str, delay: Duration) -> (usize, bool) {
    let data = root.join(name);
    let mut child = vouch(root)
        .args(["demo", "--no-serve", "--data-dir"])
        .arg(&data)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start vouch demo");
    thread::sleep(delay);
    let _ = child.kill(); // SIGKILL: no destructor, no rollback code runs
    let status = child.wait().unwrap();
    let when = format!("killed after {delay:?} ({status})");

    let (out, _) = verify(&data);
    assert_eq!(
        out.code,
        Some(0),
        "{when}: the chain must be intact:\n{out}"
    );
    let users = in_data(&data, &["user", "list", "--json"]).expect(0).json();
    let users = users.as_array().unwrap().clone();
    let events = in_data(
        &data,
        &[
            "audit-log",
            "list",
            "--json",
            "--limit",
            "1000",
            "--action",
            "user.create",
        ],
    )
    .expect(0)
    .json();
    let created: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["object_id"].as_str().unwrap())
        .collect();
    for u in &users {
        let id = u["id"].as_str().unwrap();
        assert!(
            created.contains(&id),
            "{when}: {} exists without its user.create event",
            u["email"]
        );
    }
    assert_eq!(
        created.len(),
        users.len(),
        "{when}: a user.create event without its user"
    );
    (users.len(), status.success())
}

#[test]
fn a_killed_demo_leaves_no_half_written_change() {
    let tmp = tempdir();
    // How long a whole demo takes here, so kill points can fall inside the seeding.
    let start = Instant::now();
    demo(&tmp.path().join("timed"));
    let full = start.elapsed();

    let mut delays: Vec<Duration> = [20u64, 60, 120, 250].map(Duration::from_millis).to_vec();
    delays.extend([50u32, 60, 70, 75, 80, 85, 90, 95].map(|pct| full * pct / 100));
    let mut seen = Vec::new();
    let mut mid_seed = 0;
    for (i, d) in delays.iter().enumerate() {
        let (n, finished) = kill_demo_and_check(tmp.path(), &format!("killed-{i}"), *d);
        mid_seed += usize::from(n > 0 && n < 12);
        seen.push(format!(
            "{d:?}: {n} users{}",
            if finished { " (had finished)" } else { "" }
        ));
    }
    // A few more tries between 40% and 100% if no kill landed among the writes.
    for k in 0..6u32 {
        if mid_seed > 0 {
            break;
        }
        let d = full * (40 + 12 * k) / 100;
        let (n, _) = kill_demo_and_check(tmp.path(), &format!("retry-{k}"), d);
        mid_seed += usize::from(n > 0 && n < 12);
        seen.push(format!("{d:?}: {n} users (extra)"));
    }
    eprintln!(
        "a full demo took {full:?}; kill points:\n  {}\n{mid_seed} kill(s) landed among the writes",
        seen.join("\n  ")
    );
}
