//! `vouch evidence …` and `vouch verify` as real processes: adding evidence from files,
//! listing it as JSON, getting a file back, refusing bad input without storing anything,
//! and `verify` exiting non-zero on a missing, altered or orphaned blob; on the local vault
//! and on a real S3-compatible server on loopback.
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_vouch");

fn run(dir: &Path, env: &[(&str, String)], args: &[&str]) -> Output {
    let mut c = Command::new(BIN);
    c.arg("--data-dir").arg(dir).args(args).stdin(Stdio::null());
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("VOUCH_") || k.starts_with("AWS_"))
    {
        c.env_remove(k);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("vouch runs")
}

fn ok_json(dir: &Path, env: &[(&str, String)], args: &[&str]) -> Value {
    let out = run(dir, env, args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?} is not JSON: {e}"))
}

fn sha256(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// A data folder with the library adopted, so evidence has controls to support.
fn prepared(env: &[(&str, String)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    ok_json(d.path(), env, &["--json", "controls", "adopt"]);
    d
}

/// The shared scenario: add, list, get, refuse, verify; `blob_path` finds a blob's bytes in
/// whichever vault is configured.
fn scenario(d: &Path, env: &[(&str, String)], blob_path: &dyn Fn(&str) -> PathBuf) {
    let inputs = tempfile::tempdir().unwrap();
    let review = inputs.path().join("access-review.csv");
    let signoff = inputs.path().join("sign-off.txt");
    std::fs::write(&review, "user,decision\nada,keep\n").unwrap();
    std::fs::write(&signoff, "Approved.\n").unwrap();

    let added = ok_json(
        d,
        env,
        &[
            "--json",
            "evidence",
            "add",
            "--control",
            "IAM-08",
            "--period-start",
            "2026-06-01",
            "--period-end",
            "2026-08-31",
            "--title",
            "Q3 access review",
            review.to_str().unwrap(),
            signoff.to_str().unwrap(),
        ],
    );
    assert_eq!(added["id"], "EV-1");
    let files = added["current"]["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(files[0]["name"], "access-review.csv");
    assert_eq!(
        files[0]["sha256"],
        sha256(&std::fs::read(&review).unwrap()).as_str()
    );
    assert_eq!(added["current"]["period_start"], "2026-06-01");
    assert_eq!(added["current"]["source"], "upload");

    let list = ok_json(
        d,
        env,
        &["--json", "evidence", "list", "--control", "iam-08"],
    );
    assert_eq!(list.as_array().unwrap().len(), 1);
    let none = ok_json(
        d,
        env,
        &["--json", "evidence", "list", "--control", "RSK-03"],
    );
    assert_eq!(none.as_array().unwrap().len(), 0);

    // The file comes back byte for byte, and the download is in the audit log.
    let out_path = inputs.path().join("back.csv");
    ok_json(
        d,
        env,
        &[
            "--json",
            "evidence",
            "get",
            "EV-1",
            "--file",
            "1",
            "--output",
            out_path.to_str().unwrap(),
        ],
    );
    assert_eq!(
        std::fs::read(&out_path).unwrap(),
        std::fs::read(&review).unwrap()
    );
    let events = ok_json(
        d,
        env,
        &["--json", "audit-log", "list", "--action", "evidence."],
    );
    let actions: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["evidence.download", "evidence.add"]);

    // Bad input: each refused with a clear message and exit 2; nothing stored.
    let empty = inputs.path().join("empty.txt");
    std::fs::write(&empty, "").unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "--control",
                "NOPE-99",
                "--period-start",
                "2026-06-01",
                review.to_str().unwrap(),
            ],
            "'NOPE-99' is not a control in the matrix",
        ),
        (
            vec![
                "--control",
                "IAM-08",
                "--period-start",
                "2026-06-01",
                empty.to_str().unwrap(),
            ],
            "'empty.txt' is empty",
        ),
        (
            vec![
                "--control",
                "IAM-08",
                "--period-start",
                "2026-06-01",
                "--period-end",
                "2026-05-01",
                review.to_str().unwrap(),
            ],
            "2026-05-01 is before the period start 2026-06-01",
        ),
        (
            vec![
                "--control",
                "IAM-08",
                "--period-start",
                "2026-06-01",
                "/no/such/file.pdf",
            ],
            "cannot read /no/such/file.pdf",
        ),
    ];
    for (extra, message) in cases {
        let mut args = vec!["evidence", "add"];
        args.extend(extra.iter().copied());
        let out = run(d, env, &args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
    let out = run(
        d,
        env,
        &[
            "evidence",
            "add",
            "--control",
            "IAM-08",
            "--period-start",
            "June",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("'June' is not a date"));
    let list = ok_json(d, env, &["--json", "evidence", "list"]);
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "nothing stored by refusals"
    );
    assert!(
        files_under(&d.join("staging")).is_empty(),
        "no staging files left: {:?}",
        files_under(&d.join("staging"))
    );

    // verify: all good, then each kind of damage makes it exit 1 and name the blob.
    let v = ok_json(d, env, &["--json", "verify"]);
    assert_eq!(v["ok"], true);
    assert_eq!(v["vault"]["checked"], 2);
    let hash = files[0]["sha256"].as_str().unwrap().to_string();
    let path = blob_path(&hash);
    let original = std::fs::read(&path).unwrap();
    let mut perms = std::fs::metadata(&path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&path, perms).unwrap();
    std::fs::write(&path, b"user,decision\nada,REMOVE\n").unwrap();
    let out = run(d, env, &["--json", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["vault"]["altered"][0]["sha256"], hash.as_str());
    std::fs::remove_file(&path).unwrap();
    let out = run(d, env, &["verify"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&format!("MISSING   {hash}")), "{text}");
    std::fs::write(&path, &original).unwrap();
    ok_json(d, env, &["--json", "verify"]);
}

#[test]
fn evidence_from_the_command_line_on_the_local_vault() {
    let d = prepared(&[]);
    let root = d.path().join("blobs");
    scenario(d.path(), &[], &|h| {
        root.join("sha256").join(&h[..2]).join(h)
    });
    // An orphan (a blob no record points at) also fails verification.
    let orphan = "ab".repeat(32);
    let dir = root.join("sha256").join("ab");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(&orphan), b"left by an interrupted upload").unwrap();
    let out = run(d.path(), &[], &["--json", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["vault"]["orphaned"][0], orphan.as_str());
}

#[test]
fn evidence_from_the_command_line_on_an_s3_vault() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s3 = rt.block_on(vouch_evidence::testing::TestS3::start());
    let settings = s3.settings();
    let env = vec![
        ("VOUCH_EVIDENCE_VAULT", s3.url("lumen")),
        ("VOUCH_EVIDENCE_S3_ALLOW_HTTP", "true".to_string()),
        // The usual AWS variables are honoured for what the configuration leaves out.
        ("AWS_ENDPOINT_URL", settings.endpoint.clone().unwrap()),
        ("AWS_ACCESS_KEY_ID", settings.access_key_id.clone().unwrap()),
        (
            "AWS_SECRET_ACCESS_KEY",
            settings.secret_access_key.clone().unwrap(),
        ),
        (
            "AWS_REGION",
            settings
                .region
                .clone()
                .unwrap_or_else(|| "us-east-1".into()),
        ),
    ];
    let d = prepared(&env);
    scenario(d.path(), &env, &|h| {
        s3.object_path(&format!("lumen/sha256/{}/{h}", &h[..2]))
    });
    assert!(
        !d.path().join("blobs").exists(),
        "nothing went to the local disk"
    );
    // Wrong credentials: a clear error, exit 3 (unavailable), nothing recorded.
    let mut bad = env.clone();
    bad[3] = ("AWS_SECRET_ACCESS_KEY", "not-the-secret".into());
    let f = d.path().join("x.txt");
    std::fs::write(&f, "x").unwrap();
    let out = run(
        d.path(),
        &bad,
        &[
            "evidence",
            "add",
            "--control",
            "IAM-08",
            f.to_str().unwrap(),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("evidence vault"));
    let list = ok_json(d.path(), &env, &["--json", "evidence", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 1);
    drop(s3);
}
