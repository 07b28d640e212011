//! `vouch import`, `resources`, `runs`, `accounts`, `integrations` and `collect` as real
//! processes on a temporary SQLite data folder: imports with history and deletions, bad files
//! refused with their place and nothing changed, the sample company's unowned accounts, and
//! integrations (made from the command line or the configuration file) run against loopback
//! fakes of GitHub and AWS (moto).
//!
//! The vouch CLI tests have no PostgreSQL pattern (the app-level tests in vouch-app cover both
//! backends), so these run on SQLite only.
use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_vouch");
/// The longest any single command may take (the machine may be busy).
const STEP: Duration = Duration::from_secs(120);

/// What a finished command left behind.
struct Out {
    what: String,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl std::fmt::Display for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` exited with {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.what, self.code, self.stdout, self.stderr
        )
    }
}

impl Out {
    #[track_caller]
    fn expect(self, code: i32) -> Out {
        assert_eq!(self.code, Some(code), "expected exit {code}:\n{self}");
        self
    }

    #[track_caller]
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{self}"))
    }

    /// Asserts that stderr holds every one of these.
    #[track_caller]
    fn says(&self, needles: &[&str]) -> &Out {
        for n in needles {
            assert!(self.stderr.contains(n), "stderr lacks {n:?}:\n{self}");
        }
        self
    }
}

/// `vouch --data-dir DATA ARGS` with none of the caller's `VOUCH_*`/`AWS_*` settings, plus
/// `env`, bounded in time. A panic in the binary fails the test.
fn vouch_env(data: &Path, env: &[(&str, &str)], args: &[&str]) -> Out {
    let mut c = Command::new(BIN);
    c.current_dir(data.parent().unwrap())
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_remove("RUST_LOG");
    for (k, _) in std::env::vars_os() {
        let k2 = k.to_string_lossy();
        if k2.starts_with("VOUCH_") || k2.starts_with("AWS_") {
            c.env_remove(k);
        }
    }
    for (k, v) in env {
        c.env(k, v);
    }
    let what = format!("vouch {}", args.join(" "));
    let mut child = c
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start `{what}`: {e}"));
    let read_all = |mut r: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = read_all(Box::new(child.stdout.take().unwrap()));
    let err = read_all(Box::new(child.stderr.take().unwrap()));
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait for vouch") {
            break s;
        }
        if start.elapsed() > STEP {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`{what}` did not finish within {STEP:?}");
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

fn vouch(data: &Path, args: &[&str]) -> Out {
    vouch_env(data, &[], args)
}

/// A temporary folder with `data` (the data folder, not yet created) and room for inputs.
struct Site {
    root: tempfile::TempDir,
}

impl Site {
    fn new() -> Site {
        Site {
            root: tempfile::tempdir().unwrap(),
        }
    }

    fn data(&self) -> PathBuf {
        self.root.path().join("data")
    }

    /// Writes an input file outside the data folder and returns its path as text.
    fn file(&self, name: &str, content: &str) -> String {
        let p = self.root.path().join("inputs").join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, content).unwrap();
        p.display().to_string()
    }

    fn run(&self, args: &[&str]) -> Out {
        vouch(&self.data(), args)
    }

    /// Every resource (deleted ones included), as `vouch resources --json` prints them.
    fn resources(&self) -> Value {
        self.run(&["--json", "resources", "--deleted", "--limit", "10000"])
            .expect(0)
            .json()
    }

    fn keys(&self, args: &[&str]) -> Vec<String> {
        let mut all = vec!["--json", "resources", "--limit", "10000"];
        all.extend_from_slice(args);
        let v = self.run(&all).expect(0).json();
        let mut keys: Vec<String> = v["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["key"].as_str().unwrap().to_string())
            .collect();
        keys.sort();
        keys
    }

    fn audit_actions(&self, prefix: &str) -> Vec<String> {
        self.run(&["--json", "audit-log", "list", "--action", prefix])
            .expect(0)
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap().to_string())
            .collect()
    }
}

const ROSTER_1: &str = "email,name,status,start_date\n\
    ana@lumen.example,Ana Lima,active,2025-01-06\n\
    ben@lumen.example,Ben Ode,active,2025-02-03\n\
    cy@lumen.example,Cy Park,active,2025-03-03\n";
/// Cy has left the export.
const ROSTER_2: &str = "email,name,status,start_date\n\
    ana@lumen.example,Ana Lima,active,2025-01-06\n\
    ben@lumen.example,Ben Ode,active,2025-02-03\n";

fn counts(run: &Value) -> [i64; 6] {
    [
        "total",
        "added",
        "changed",
        "unchanged",
        "deleted",
        "restored",
    ]
    .map(|k| run["counts"][k].as_i64().unwrap_or(-1))
}

#[test]
fn an_hr_roster_import_keeps_history_and_marks_the_missing_deleted() {
    let s = Site::new();
    let first = s.file("roster.csv", ROSTER_1);
    let run1 = s.run(&["--json", "import", &first]).expect(0).json();
    assert_eq!(run1["status"], "succeeded", "{run1}");
    assert_eq!(run1["kind"], "hr_roster_csv");
    assert_eq!(run1["source"], "import");
    assert_eq!(counts(&run1), [3, 3, 0, 0, 0, 0], "{run1}");
    assert!(run1["evidence_id"].is_string(), "the raw file is kept");

    let second = s.file("roster-2.csv", ROSTER_2);
    let run2 = s.run(&["--json", "import", &second]).expect(0).json();
    assert_eq!(counts(&run2), [2, 0, 0, 2, 1, 0], "{run2}");
    assert_eq!(
        run2["scope"], run1["scope"],
        "the same export replaces itself"
    );

    // Without --deleted Cy is gone; with it, Cy is there with the time of deletion.
    assert_eq!(
        s.keys(&["--kind", "person"]),
        ["ana@lumen.example", "ben@lumen.example"]
    );
    let people = s
        .run(&["--json", "resources", "--kind", "person", "--deleted"])
        .expect(0)
        .json();
    assert_eq!(people["total"], 3, "{people}");
    let list = people["resources"].as_array().unwrap();
    let cy = list
        .iter()
        .find(|r| r["key"] == "cy@lumen.example")
        .expect("cy listed with --deleted");
    assert!(cy["deleted_at"].is_string(), "{cy}");
    for r in list.iter().filter(|r| r["key"] != "cy@lumen.example") {
        assert!(r["deleted_at"].is_null(), "{r}");
    }

    // One resource with its history, as JSON and as text.
    let id = cy["id"].as_i64().unwrap().to_string();
    let one = s
        .run(&["--json", "resources", "--id", &id])
        .expect(0)
        .json();
    let changes: Vec<&str> = one["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["change"].as_str().unwrap())
        .collect();
    assert_eq!(changes, ["added", "deleted"], "{one}");
    assert_eq!(one["versions"][0]["run_id"], run1["id"]);
    assert_eq!(one["versions"][1]["run_id"], run2["id"]);
    let text = s.run(&["resources", "--id", &id]).expect(0).stdout;
    assert!(text.contains("cy@lumen.example"), "{text}");
    assert!(text.contains("  deleted    "), "{text}");
    assert!(text.contains("history:"), "{text}");
    let history: Vec<&str> = text
        .lines()
        .filter(|l| l.trim_start().starts_with('v'))
        .collect();
    assert_eq!(history.len(), 2, "{text}");
    assert!(history[0].contains("v1 added"), "{text}");
    assert!(
        history[1].contains("v2 deleted") && history[1].contains(run2["id"].as_str().unwrap()),
        "{text}"
    );

    // Both runs are listed, newest first.
    let runs = s.run(&["--json", "runs", "list"]).expect(0).json();
    let ids: Vec<&Value> = runs.as_array().unwrap().iter().map(|r| &r["id"]).collect();
    assert_eq!(ids, [&run2["id"], &run1["id"]]);
    let shown = s
        .run(&["runs", "show", run2["id"].as_str().unwrap()])
        .expect(0)
        .stdout;
    assert!(shown.contains("deleted 1"), "{shown}");
}

#[test]
fn bad_files_are_refused_with_their_place_and_change_nothing() {
    let s = Site::new();
    let good = s.file("roster.csv", ROSTER_1);
    s.run(&["import", &good]).expect(0);
    let before = s.resources();
    assert_eq!(before["total"], 3);

    // (file name, content, extra arguments, what stderr must say)
    let cases: Vec<(&str, &str, Vec<&str>, Vec<&str>)> = vec![
        (
            "trivy.json",
            "{\"SchemaVersion\": 2, \"Results\": [",
            vec!["--kind", "trivy_json"],
            vec![
                "trivy.json, line 1, column 33: not valid JSON",
                "is the file truncated?",
            ],
        ),
        (
            "hr-export.csv",
            "email,name,status,start_date\nana@lumen.example,Ana Lima,2025-01-06,active\n",
            vec![],
            vec!["hr-export.csv, row 2, column 'start_date'"],
        ),
        (
            "okta-users.json",
            r#"[{"id": "00u1", "status": "ACTIVE", "profile": {"login": "ana@lumen.example", "email": "ana@lumen.example"}},
                {"id": "00u2", "status": "ZOMBIE", "profile": {"login": "ben@lumen.example", "email": "ben@lumen.example"}}]"#,
            vec![],
            vec!["okta-users.json, $[1].status: 'ZOMBIE' is not an Okta user status (STAGED, "],
        ),
        (
            "dupes.csv",
            "email,name\nana@lumen.example,Ana\nben@lumen.example,Ben\nANA@lumen.example,Ana again\n",
            vec![],
            vec![
                "dupes.csv, row 4, column 'email'",
                "already at row 2, column 'email'",
            ],
        ),
        (
            "people.csv",
            ROSTER_1,
            vec!["--kind", "aws_credential_report"],
            vec!["people.csv, file: this is an HR roster CSV, not an AWS IAM credential report"],
        ),
    ];
    let mut failed_runs = 0;
    for (name, content, extra, needles) in &cases {
        let path = s.file(name, content);
        let mut args = vec!["--json", "import"];
        args.extend(extra.iter().copied());
        args.push(&path);
        let out = s.run(&args).expect(1);
        out.says(needles);
        out.says(&["nothing collected before was changed"]);
        let run = out.json();
        assert_eq!(run["status"], "failed", "{out}");
        failed_runs += 1;
        assert_eq!(s.resources(), before, "{name} changed the resources");
    }

    // An unknown --kind is a usage error: nothing is run.
    let path = s.file("whatever.csv", ROSTER_1);
    s.run(&["import", "--kind", "spreadsheet", &path])
        .expect(2)
        .says(&["--kind 'spreadsheet': use one of", "hr_roster_csv"]);

    // A file above the import limit (configured small here) is not read and not kept.
    let out = vouch_env(
        &s.data(),
        &[("VOUCH_COLLECT_IMPORT_MAX_BYTES", "100")],
        &["--json", "import", &good],
    )
    .expect(1);
    out.says(&[
        "roster.csv: the file is",
        "Vouch imports files up to 100 bytes (collect.import_max_bytes)",
    ]);
    let run = out.json();
    assert_eq!(run["status"], "failed");
    assert!(run["evidence_id"].is_null(), "the file is not kept: {run}");
    failed_runs += 1;
    assert_eq!(s.resources(), before);
    // The same file under the default limit imports (unchanged).
    let again = s.run(&["--json", "import", &good]).expect(0).json();
    assert_eq!(counts(&again), [3, 0, 0, 3, 0, 0], "{again}");

    // A limit that is not a number is a configuration error.
    vouch_env(
        &s.data(),
        &[("VOUCH_COLLECT_IMPORT_MAX_BYTES", "small")],
        &["import", &good],
    )
    .expect(2)
    .says(&[
        "VOUCH_COLLECT_IMPORT_MAX_BYTES: collect.import_max_bytes: 'small' is not a whole number",
    ]);

    let runs = s.run(&["--json", "runs", "list"]).expect(0).json();
    let statuses: Vec<&str> = runs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.len(), failed_runs + 2, "{statuses:?}");
    assert_eq!(
        statuses.iter().filter(|s| **s == "failed").count(),
        failed_runs
    );
}

#[test]
fn the_sample_company_imports_and_its_unowned_accounts_are_found() {
    let s = Site::new();
    let sample = s.root.path().join("sample");
    let today = time::macros::date!(2026 - 11 - 23);
    let manifest = vouch_sample::write(&sample, &vouch_sample::Size::demo(), 7, today).unwrap();
    assert!(manifest.files.len() >= 7, "{:?}", manifest.files);
    for f in &manifest.files {
        let path = sample.join(&f.name).display().to_string();
        let run = s.run(&["--json", "import", &path]).expect(0).json();
        assert_eq!(run["status"], "succeeded", "{}: {run}", f.name);
        assert!(
            run["counts"]["added"].as_i64().unwrap() > 0,
            "{}: {run}",
            f.name
        );
    }

    let out = s
        .run(&["--json", "accounts", "list", "--unlinked"])
        .expect(1);
    let list = out.json();
    let mut found: Vec<(String, String)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            assert_eq!(a["owner"]["type"], "unlinked", "{a}");
            let acc = &a["account"];
            let name = acc["attrs"]["username"]
                .as_str()
                .or(acc["attrs"]["user"].as_str())
                .or(acc["attrs"]["login"].as_str())
                .unwrap_or(acc["key"].as_str().unwrap())
                .to_string();
            (acc["system"].as_str().unwrap().to_string(), name)
        })
        .collect();
    found.sort();
    let mut expected: Vec<(String, String)> = manifest
        .problems
        .unowned_accounts
        .iter()
        .map(|u| (u.system.clone(), u.account.clone()))
        .collect();
    expected.sort();
    assert_eq!(
        expected,
        [
            ("aws".to_string(), "deploy-bot".to_string()),
            ("github".to_string(), "ci-bot".to_string())
        ]
    );
    assert_eq!(found, expected, "{list}");
    // The text form says the same and tells what to do.
    let text = s.run(&["accounts", "list", "--unlinked"]).expect(1).stdout;
    assert!(text.contains("2 unlinked account(s)"), "{text}");
    assert_eq!(text.matches("UNLINKED").count(), 2, "{text}");

    // Every other account has an owner: the planted leaver is still linked to the roster.
    let all = s.run(&["--json", "accounts", "list"]).expect(0).json();
    let all = all.as_array().unwrap();
    assert!(all.len() > 2);
    let leaver = &manifest.problems.leaver_still_active.email;
    assert!(
        all.iter()
            .any(|a| a["owner"]["type"] == "person" && a["owner"]["email"] == leaver.as_str()),
        "the leaver's accounts are linked to the leaver"
    );

    // A service account needs a note; with one, the list is empty and the exit code 0.
    let ids: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["account"]["id"].as_i64().unwrap().to_string())
        .collect();
    s.run(&["accounts", "service", &ids[0], "--note", "x"])
        .expect(2)
        .says(&["what the service account is for"]);
    for id in &ids {
        let link = s
            .run(&[
                "--json",
                "accounts",
                "service",
                id,
                "--note",
                "Deploys from CI; owned by the platform team",
            ])
            .expect(0)
            .json();
        assert_eq!(link["service"], true, "{link}");
    }
    let empty = s
        .run(&["--json", "accounts", "list", "--unlinked"])
        .expect(0)
        .json();
    assert_eq!(empty, serde_json::json!([]));
    assert_eq!(
        s.audit_actions("account."),
        ["account.mark_service", "account.mark_service"]
    );
}

/// A multi-threaded runtime (so the fake keeps answering while the test waits on a process)
/// and a fake GitHub on loopback.
fn fake_github() -> (tokio::runtime::Runtime, vouch_connect::testing::FakeGithub) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let fake = rt.block_on(vouch_connect::testing::FakeGithub::start(
        vouch_connect::testing::GithubState::sample(),
    ));
    (rt, fake)
}

#[test]
fn a_github_integration_from_the_command_line_runs_and_never_shows_its_token() {
    let (_rt, fake) = fake_github();
    let token = fake.state().token.clone();
    let s = Site::new();
    let token_file = s.file("token", &format!("{token}\n"));
    let settings = format!(r#"{{"org":"acme","api_url":"{}"}}"#, fake.url());

    // A credential in the settings is refused.
    let bad = format!(
        r#"{{"org":"acme","api_url":"{}","token":"{token}"}}"#,
        fake.url()
    );
    s.run(&[
        "integrations",
        "put",
        "github-acme",
        "--kind",
        "github",
        "--settings",
        &bad,
        "--secret-file",
        &token_file,
    ])
    .expect(2)
    .says(&["'token' is a credential"]);

    let put = s.run(&[
        "integrations",
        "put",
        "github-acme",
        "--kind",
        "github",
        "--settings",
        &settings,
        "--secret-file",
        &token_file,
    ]);
    let put = put.expect(0);
    assert!(
        put.stdout.contains("Integration github-acme saved"),
        "{put}"
    );
    for args in [
        &["integrations", "show", "github-acme"][..],
        &["--json", "integrations", "show", "github-acme"],
        &["integrations", "list"],
        &["--json", "integrations", "list"],
        &["--json", "audit-log", "list"],
    ] {
        let out = s.run(args).expect(0);
        assert!(
            !out.stdout.contains(&token) && !out.stderr.contains(&token),
            "the token was shown:\n{out}"
        );
    }
    let shown = s
        .run(&["integrations", "show", "github-acme"])
        .expect(0)
        .stdout;
    assert!(shown.contains("secret    set (never shown)"), "{shown}");
    let shown = s
        .run(&["--json", "integrations", "show", "github-acme"])
        .expect(0)
        .json();
    assert_eq!(shown["integration"]["has_secret"], true);
    assert_eq!(shown["integration"]["settings"]["org"], "acme");

    let runs = s
        .run(&["--json", "collect", "github-acme"])
        .expect(0)
        .json();
    assert_eq!(runs[0]["status"], "succeeded", "{runs}");
    assert_eq!(runs[0]["source"], "github-acme");
    let accounts = s.keys(&["--kind", "account", "--system", "github"]);
    assert_eq!(accounts, ["ana", "ben", "cara", "dev", "eve"]);
    let before = s.resources();

    // The token is revoked: the run fails with the credential error, nothing changes.
    fake.state().faults.revoked = true;
    let out = s.run(&["collect", "github-acme"]).expect(1);
    out.says(&[
        "github-acme (",
        "refused the credentials",
        "401",
        "nothing collected before was changed",
    ]);
    assert!(!out.stderr.contains(&token) && !out.stdout.contains(&token));
    assert_eq!(s.resources(), before);
    let shown = s
        .run(&["--json", "integrations", "show", "github-acme"])
        .expect(0)
        .json();
    let statuses: Vec<&str> = shown["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["failed", "succeeded"]);

    // Removed: its runs and resources stay.
    s.run(&["integrations", "remove", "github-acme"]).expect(0);
    s.run(&["integrations", "show", "github-acme"]).expect(2);
    assert_eq!(s.resources(), before);
}

#[test]
fn an_integration_from_the_configuration_file_is_written_once_and_checked() {
    let (_rt, fake) = fake_github();
    let s = Site::new();
    let token_file = s.file("token", &fake.state().token.clone());
    let data = s.data();
    std::fs::create_dir_all(&data).unwrap();
    let config = |extra: &str| {
        format!(
            "[integrations.github-file]\nkind = \"github\"\nsecret_file = \"{token_file}\"\n{extra}\n[integrations.github-file.settings]\norg = \"acme\"\napi_url = \"{}\"\n",
            fake.url()
        )
    };
    std::fs::write(data.join("vouch.toml"), config("")).unwrap();

    let list = s.run(&["integrations", "list"]).expect(0).stdout;
    assert!(
        list.contains("github-file") && list.contains("never run"),
        "{list}"
    );
    let runs = s
        .run(&["--json", "collect", "github-file"])
        .expect(0)
        .json();
    assert_eq!(runs[0]["status"], "succeeded", "{runs}");
    assert_eq!(
        s.keys(&["--kind", "account", "--system", "github"]),
        ["ana", "ben", "cara", "dev", "eve"]
    );
    // Read again and again: nothing new is written.
    s.run(&["collect", "github-file"]).expect(0);
    s.run(&["integrations", "list"]).expect(0);
    assert_eq!(s.audit_actions("integration."), ["integration.create"]);

    // A changed file is written once as an update.
    std::fs::write(data.join("vouch.toml"), config("schedule_minutes = 60")).unwrap();
    let shown = s
        .run(&["--json", "integrations", "show", "github-file"])
        .expect(0)
        .json();
    assert_eq!(shown["integration"]["schedule_minutes"], 60);
    s.run(&["integrations", "list"]).expect(0);
    assert_eq!(
        s.audit_actions("integration."),
        ["integration.update", "integration.create"]
    );

    // An unknown key in the table is a configuration error naming it; nothing runs.
    std::fs::write(data.join("vouch.toml"), config("colour = \"blue\"")).unwrap();
    for args in [&["integrations", "list"][..], &["collect", "github-file"]] {
        s.run(args).expect(2).says(&[
            "integrations.github-file: unknown key 'colour'",
            "vouch.toml",
        ]);
    }
    std::fs::write(data.join("vouch.toml"), config("schedule_minutes = 60")).unwrap();
    assert_eq!(
        s.run(&["--json", "runs", "list"])
            .expect(0)
            .json()
            .as_array()
            .unwrap()
            .len(),
        2,
        "the refused configuration ran nothing"
    );
    assert_eq!(
        s.audit_actions("integration."),
        ["integration.update", "integration.create"]
    );
}

#[test]
fn an_aws_integration_reads_moto_end_to_end() {
    let Some(moto) = vouch_connect_aws::testing::Moto::start() else {
        return;
    };
    let seed = moto.seed(&["--region", "us-east-1", "--auth"]);
    let s = Site::new();
    let secret = s.file("aws-secret", seed["secret_access_key"].as_str().unwrap());
    let settings = serde_json::json!({
        "region": "us-east-1",
        "access_key_id": seed["access_key_id"],
        "endpoint": moto.endpoint(),
    })
    .to_string();
    s.run(&[
        "integrations",
        "put",
        "aws-prod",
        "--kind",
        "aws",
        "--settings",
        &settings,
        "--secret-file",
        &secret,
    ])
    .expect(0);
    let runs = s.run(&["--json", "collect", "aws-prod"]).expect(0).json();
    assert_eq!(runs[0]["status"], "succeeded", "{runs}");
    assert_eq!(runs[0]["system"], "aws");

    let keys = s.keys(&["--kind", "cloud_resource", "--system", "aws"]);
    let account = seed["account_id"].as_str().unwrap();
    for bucket in ["vouch-secure", "vouch-logs", "vouch-plain"] {
        let arn = format!("arn:aws:s3:::{bucket}");
        assert!(keys.contains(&arn), "{arn} missing from {keys:?}");
    }
    for group in ["ssh-open", "web-internal", "all-v6", "default"] {
        let arn = format!(
            "arn:aws:ec2:us-east-1:{account}:security-group/{}",
            seed["groups"][group].as_str().unwrap()
        );
        assert!(keys.contains(&arn), "{group} ({arn}) missing from {keys:?}");
    }
    let v = s
        .run(&[
            "--json",
            "resources",
            "--kind",
            "cloud_resource",
            "--key",
            "arn:aws:s3:::vouch-plain",
        ])
        .expect(0)
        .json();
    assert_eq!(v["resources"][0]["attrs"]["encrypted"], false, "{v}");
    let users = s.keys(&["--kind", "account", "--system", "aws"]);
    for u in ["alice", "bob", "carol", "vouch-auditor"] {
        assert!(
            users.iter().any(|k| k.ends_with(&format!(":user/{u}"))),
            "{u} missing from {users:?}"
        );
    }
    // The secret access key is never shown back.
    let shown = s
        .run(&["--json", "integrations", "show", "aws-prod"])
        .expect(0);
    assert!(
        !shown
            .stdout
            .contains(seed["secret_access_key"].as_str().unwrap())
    );
}
