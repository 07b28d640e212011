//! HTTP integration tests of evidence: the real router served on loopback, driven with real
//! HTTP (reqwest, multipart bodies built by hand), on SQLite and on PostgreSQL, with the blob
//! vault on local disk (and once on a real S3 server on loopback).
//!
//! Covered: uploading several files at once (hashes, streamed downloads with their headers,
//! the audit trail of every download), content-addressed storage (the same bytes kept once),
//! refused uploads that leave nothing behind (too large, unknown control, empty file, bad
//! periods and dates, nothing attached, hostile file names), revisions that keep history,
//! who sees and may do what, freshness against the Type II period and its effect on readiness,
//! vault verification (altered, missing, orphaned and stray blobs), the retention purge, the
//! S3 vault end to end, and the OpenAPI document.
//!
//! The harness (`tests/support/http.rs`) is shared with `tests/api.rs` and
//! `tests/controls_api.rs`. The PostgreSQL half is skipped (with a message) when no server is
//! reachable outside CI.

mod support;

use reqwest::Method;
use reqwest::header;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;
use support::http::*;
use time::macros::datetime;
use vouch_app::users::UserView;
use vouch_app::{Actor, Backend};
use vouch_domain::Role;

/// The largest evidence file these servers accept.
const MAX_FILE: u64 = 1024 * 1024;

const LIMITS: Limits = Limits {
    max_body: 64 * 1024,
    http_timeout: Duration::from_secs(60),
    evidence_max_bytes: MAX_FILE,
};
/// Every test gives up after this long.
const TEST_LIMIT: Duration = Duration::from_secs(300);

on_both_backends!(
    TEST_LIMIT;
    several_files_upload_hash_and_download_with_an_audit_trail,
    the_same_bytes_are_stored_once,
    refused_uploads_leave_nothing_behind,
    hostile_file_names_are_made_safe,
    revisions_keep_every_earlier_revision_readable,
    who_sees_and_may_do_what,
    freshness_and_readiness_follow_the_audit_period,
    verify_reports_altered_missing_orphaned_and_stray_blobs,
    retention_purge_keeps_what_the_audit_needs,
    a_dry_run_reports_exactly_what_the_purge_does,
    the_openapi_document_lists_the_evidence_endpoints,
);

// =====================================================================================
// Helpers of this file
// =====================================================================================

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Deterministic pseudo-random bytes (xorshift), so files differ and do not compress.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// An upload (or revision) form: its text fields and files, in order.
#[derive(Clone, Debug)]
struct Ev(Vec<Part>);

impl Ev {
    /// Title, controls (as typed: may hold commas), period start and end ("" leaves it out).
    fn new(title: &str, controls: &str, start: &str, end: &str) -> Ev {
        let mut parts = vec![Part::text("title", title)];
        if !controls.is_empty() {
            parts.push(Part::text("controls", controls));
        }
        if !start.is_empty() {
            parts.push(Part::text("period_start", start));
        }
        if !end.is_empty() {
            parts.push(Part::text("period_end", end));
        }
        Ev(parts)
    }

    fn field(mut self, name: &str, value: &str) -> Ev {
        self.0.push(Part::text(name, value));
        self
    }

    fn file(mut self, name: &str, bytes: &[u8]) -> Ev {
        self.0.push(Part::file("file", name, bytes.to_vec()));
        self
    }

    fn typed_file(mut self, name: &str, content_type: &str, bytes: &[u8]) -> Ev {
        self.0
            .push(Part::file("file", name, bytes.to_vec()).typed(content_type));
        self
    }
}

/// What the server has stored: the records (as the app lists them, revisions included), the
/// blobs on disk, the staging folder's files and the number of audit events.
#[derive(Debug, PartialEq)]
struct Stored {
    records: Vec<Value>,
    blobs: BTreeSet<String>,
    staging: Vec<PathBuf>,
    events: i64,
}

/// Every file below `dir`, recursively (none if it does not exist).
fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries {
        let e = e.unwrap();
        let t = e.file_type().unwrap();
        if t.is_dir() {
            out.extend(files_below(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out.sort();
    out
}

/// Makes a read-only blob writable (the vault stores them 0o444).
fn make_writable(path: &Path) {
    let mut perm = std::fs::metadata(path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perm.set_readonly(false);
    std::fs::set_permissions(path, perm).unwrap();
}

fn file_shas(rev: &Value) -> Vec<String> {
    rev["files"]
        .as_array()
        .unwrap_or_else(|| panic!("no files in {rev}"))
        .iter()
        .map(|f| f["sha256"].as_str().unwrap().to_string())
        .collect()
}

fn header_of<'a>(r: &'a Resp, name: &str) -> &'a str {
    r.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no {name} header in a {} answer: {:?}", r.status, r.headers))
}

fn control_status(readiness: &Value, id: &str) -> String {
    readiness["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("{id} not in readiness: {readiness}"))["status"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A Type II scope over the given period, security only.
fn scope_type2(start: &str, end: &str) -> Value {
    json!({
        "system_name": "Lumen Platform",
        "description": "Multi-tenant analytics SaaS",
        "services": ["Dashboards"],
        "components": [],
        "categories": [],
        "report_type": "type2",
        "period_start": start,
        "period_end": end,
        "subservices": [],
        "customer_controls": []
    })
}

impl Harness {
    /// A compliance lead with a token of that role: the usual caller of these tests.
    async fn lead(&self) -> (UserView, String) {
        holder_with_token(self, "lead@example.com", Role::ComplianceLead).await
    }

    async fn adopt_controls(&self, ids: &[&str]) {
        self.app
            .adopt_library(
                &Actor::cli(),
                Some(ids.iter().map(|s| s.to_string()).collect()),
            )
            .await
            .unwrap();
    }

    async fn add(&self, secret: &str, ev: &Ev) -> Resp {
        self.multipart(secret, Method::POST, "/evidence", &ev.0)
            .await
    }

    /// An upload that must succeed (201): the record.
    async fn added(&self, secret: &str, ev: &Ev) -> Value {
        let r = self.add(secret, ev).await;
        r.expect(201);
        r.json()
    }

    async fn revise(&self, secret: &str, id: &str, ev: &Ev) -> Resp {
        self.multipart(
            secret,
            Method::POST,
            &format!("/evidence/{id}/revisions"),
            &ev.0,
        )
        .await
    }

    async fn download(&self, secret: &str, id: &str, position: i64, rev: Option<i64>) -> Resp {
        let q = rev.map(|n| format!("?revision={n}")).unwrap_or_default();
        self.bearer(
            secret,
            Method::GET,
            &format!("/evidence/{id}/files/{position}{q}"),
            None,
        )
        .await
    }

    async fn verify(&self, secret: &str) -> Resp {
        self.bearer(secret, Method::GET, "/evidence/verify", None)
            .await
    }

    fn blob_root(&self) -> PathBuf {
        self.vault_dir.path().join("blobs")
    }

    fn blob_path(&self, sha: &str) -> PathBuf {
        self.blob_root().join("sha256").join(&sha[..2]).join(sha)
    }

    /// The hash names of every blob file on disk (anything else in the vault is a failure).
    fn blobs_on_disk(&self) -> BTreeSet<String> {
        let area = self.blob_root().join("sha256");
        files_below(&area)
            .into_iter()
            .map(|p| {
                let rel = p.strip_prefix(&area).unwrap();
                let parts: Vec<_> = rel
                    .iter()
                    .map(|c| c.to_string_lossy().to_string())
                    .collect();
                assert!(
                    parts.len() == 2
                        && vouch_evidence::is_sha256_hex(&parts[1])
                        && parts[1].starts_with(&parts[0]),
                    "not a blob: {}",
                    p.display()
                );
                parts[1].clone()
            })
            .collect()
    }

    fn staging_files(&self) -> Vec<PathBuf> {
        files_below(&self.vault_dir.path().join("staging"))
    }

    async fn stored(&self) -> Stored {
        let mut records = Vec::new();
        for e in self.app.list_evidence(&Actor::cli(), None).await.unwrap() {
            let h = self.app.evidence(&Actor::cli(), &e.id).await.unwrap();
            records.push(serde_json::to_value(h).unwrap());
        }
        Stored {
            records,
            blobs: self.blobs_on_disk(),
            staging: self.staging_files(),
            events: self.event_count().await,
        }
    }

    async fn events_of(&self, action: &str) -> Vec<vouch_domain::audit::AuditEvent> {
        self.events()
            .await
            .into_iter()
            .filter(|e| e.action == action)
            .collect()
    }
}

// =====================================================================================
// 1. Several files at once
// =====================================================================================

async fn several_files_upload_hash_and_download_with_an_audit_trail(backend: Backend) {
    let Some(h) = Harness::start(backend, LIMITS).await else {
        return;
    };
    let (lead_user, lead) = h.lead().await;
    h.adopt_controls(&["IAM-08", "IAM-03"]).await;
    let before = h.event_count().await;

    let csv = b"user,role,reviewed\nalice,admin,yes\nbob,viewer,yes\n".to_vec();
    let pdf = [b"%PDF-1.4\n".as_slice(), &noise(1, 40_000)].concat();
    // Larger than the vault's I/O buffers, so it streams in several chunks.
    let big = noise(2, 700_000);
    let html = b"<html><script>alert(document.cookie)</script></html>".to_vec();
    let notes = b"Reviewed with the CTO on 2026-03-02.\n".to_vec();
    let files: Vec<(&str, &[u8])> = vec![
        ("access-review.csv", &csv),
        ("signed.pdf", &pdf),
        ("export.bin", &big),
        ("page.html", &html),
        ("notes.txt", &notes),
    ];
    let ev = Ev::new("Q1 access review", "iam-08", "2026-03-01", "2026-03-31")
        .field("controls", "IAM-03, iam-08")
        .field("description", "Quarterly review of production access.")
        .field("link", "https://tickets.example/ACC-12")
        .typed_file(files[0].0, "text/csv", files[0].1)
        .typed_file(files[1].0, "application/pdf", files[1].1)
        .typed_file(files[2].0, "application/octet-stream", files[2].1)
        .typed_file(files[3].0, "text/html", files[3].1)
        .file(files[4].0, files[4].1);
    let r = h.add(&lead, &ev).await;
    r.expect(201);
    let rec = r.json();
    assert_eq!(rec["id"], "EV-1", "{rec}");
    assert_eq!(rec["created_by"], json!(lead_user.id));
    assert!(rec["purged_at"].is_null());
    let cur = &rec["current"];
    assert_eq!(cur["revision"], 1);
    assert_eq!(cur["title"], "Q1 access review");
    assert_eq!(cur["description"], "Quarterly review of production access.");
    assert_eq!(cur["link"], "https://tickets.example/ACC-12");
    assert_eq!(cur["period_start"], "2026-03-01");
    assert_eq!(cur["period_end"], "2026-03-31");
    assert_eq!(cur["source"], "upload");
    assert_eq!(cur["note"], "");
    assert!(
        cur["created_by_label"]
            .as_str()
            .unwrap()
            .starts_with("lead@example.com"),
        "{cur}"
    );
    assert_eq!(
        cur["controls"],
        json!(["IAM-03", "IAM-08"]),
        "repeated and comma-separated, normalised, once each"
    );
    let listed = cur["files"].as_array().unwrap();
    assert_eq!(listed.len(), files.len(), "{cur}");
    for (i, ((name, bytes), f)) in files.iter().zip(listed).enumerate() {
        assert_eq!(f["position"], i as i64 + 1, "{f}");
        assert_eq!(f["name"], *name);
        assert_eq!(f["sha256"], sha256(bytes), "{name}: the hash of its bytes");
        assert_eq!(f["size"], bytes.len() as u64, "{name}");
    }
    assert_eq!(listed[0]["media_type"], "text/csv");
    assert_eq!(listed[1]["media_type"], "application/pdf");
    assert_eq!(listed[3]["media_type"], "text/html");
    assert_eq!(
        listed[4]["media_type"], "text/plain",
        "guessed from the name without a part type"
    );
    assert_eq!(rec["revisions"].as_array().unwrap().len(), 1);
    assert_eq!(rec["revisions"][0], rec["current"]);

    // Exactly one audit event, naming the record and its files.
    assert_eq!(h.event_count().await, before + 1);
    let e = h.last_event().await;
    assert_eq!(
        (
            e.action.as_str(),
            e.object_type.as_str(),
            e.object_id.as_str()
        ),
        ("evidence.add", "evidence", "EV-1")
    );
    assert_eq!(
        file_shas(e.after.as_ref().unwrap()),
        file_shas(cur),
        "the event records the hashes"
    );

    // Read back, listed, filtered by control.
    assert_eq!(h.get(&lead, "/evidence/ev-1").await, rec);
    assert_eq!(ids_of(&h.get(&lead, "/evidence").await), ["EV-1"]);
    assert_eq!(
        ids_of(&h.get(&lead, "/evidence?control=iam-03").await),
        ["EV-1"]
    );
    assert_eq!(
        ids_of(&h.get(&lead, "/evidence?control=IAM-08").await),
        ["EV-1"]
    );
    assert!(ids_of(&h.get(&lead, "/evidence?control=HR-01").await).is_empty());
    let ce = h.get(&lead, "/controls/IAM-08/evidence").await;
    assert_eq!(ce["control"], "IAM-08");
    assert_eq!(ids_of(&ce["evidence"]), ["EV-1"]);

    // Every file downloads as the same bytes, with its hash, as a sandboxed attachment.
    let count = h.event_count().await;
    for (i, (name, bytes)) in files.iter().enumerate() {
        let pos = i as i64 + 1;
        let d = h.download(&lead, "EV-1", pos, None).await;
        d.expect(200);
        assert!(d.bytes == *bytes, "{name}: the downloaded bytes differ");
        assert_eq!(header_of(&d, "x-content-sha256"), sha256(bytes), "{name}");
        assert_eq!(sha256(&d.bytes), sha256(bytes));
        let disposition = header_of(&d, "content-disposition");
        assert!(
            disposition.starts_with("attachment") && disposition.contains(name),
            "{name}: {disposition}"
        );
        assert!(
            header_of(&d, "content-security-policy").starts_with("sandbox"),
            "{name}"
        );
        assert_eq!(
            header_of(&d, "content-length"),
            bytes.len().to_string(),
            "{name}"
        );
        assert_eq!(
            h.event_count().await,
            count + pos,
            "{name}: one event per download"
        );
        let e = h.last_event().await;
        assert_eq!(
            (e.action.as_str(), e.object_id.as_str()),
            ("evidence.download", "EV-1")
        );
        let after = e.after.as_ref().unwrap();
        assert_eq!(after["position"], pos);
        assert_eq!(after["revision"], 1);
        assert_eq!(after["sha256"], sha256(bytes));
        assert_eq!(after["name"], *name);
        assert!(e.actor_label.starts_with("lead@example.com"), "{e:?}");
    }
    // An uploaded page is never served as HTML.
    let d = h.download(&lead, "EV-1", 4, None).await;
    assert_eq!(d.content_type(), "application/octet-stream");
    assert_eq!(
        h.download(&lead, "EV-1", 1, None).await.content_type(),
        "text/csv"
    );
    // The audit log over the API shows the downloads too.
    let log = h
        .get(&lead, "/audit-log?action=evidence.download&object_id=EV-1")
        .await;
    assert_eq!(
        log.as_array().unwrap().len(),
        files.len() + 2,
        "every download is in the audit log: {log}"
    );
    let log = h.get(&lead, "/audit-log?action=evidence.add").await;
    assert_eq!(log.as_array().unwrap().len(), 1, "{log}");
    assert_eq!(log[0]["object_id"], "EV-1");

    // What does not exist: 404, and nothing recorded.
    let count = h.event_count().await;
    for (id, pos, rev) in [
        ("EV-1", 99, None),
        ("EV-1", 1, Some(7)),
        ("EV-2", 1, None),
        ("NOPE", 1, None),
    ] {
        assert_problem(&h.download(&lead, id, pos, rev).await, 404);
    }
    assert_problem(
        &h.bearer(&lead, Method::GET, "/evidence/EV-99", None).await,
        404,
    );
    assert_eq!(
        h.event_count().await,
        count,
        "failed downloads record nothing"
    );

    // The vault holds exactly these blobs, intact.
    let want: BTreeSet<String> = files.iter().map(|(_, b)| sha256(b)).collect();
    assert_eq!(h.blobs_on_disk(), want);
    assert!(h.staging_files().is_empty(), "{:?}", h.staging_files());
    let v = h.verify(&lead).await;
    v.expect(200);
    let v = v.json();
    assert_eq!(v["checked"], files.len());
    assert_eq!(v["intact"], files.len());
    assert!(v["vault"].as_str().unwrap().starts_with("local:"), "{v}");
    h.finish().await;
}

// =====================================================================================
// 2. Content addressing
// =====================================================================================

async fn the_same_bytes_are_stored_once(backend: Backend) {
    let Some(h) = Harness::start(backend, LIMITS).await else {
        return;
    };
    let (_, lead) = h.lead().await;
    h.adopt_controls(&["IAM-08", "IAM-03"]).await;
    let same = noise(10, 300_000);
    let other = noise(11, 1000);

    let a = h
        .added(
            &lead,
            &Ev::new("Export", "IAM-08", "2026-01-10", "")
                .file("export.csv", &same)
                .file("other.csv", &other),
        )
        .await;
    // Another record, another name, the same bytes; and the same bytes twice in one upload.
    let b = h
        .added(
            &lead,
            &Ev::new("Same export", "IAM-03", "2026-02-10", "")
                .file("copy-of-export.csv", &same)
                .file("again.csv", &same),
        )
        .await;
    assert_eq!(a["id"], "EV-1");
    assert_eq!(b["id"], "EV-2");
    assert_eq!(a["current"]["period_end"], "2026-01-10", "a point in time");
    let sa = file_shas(&a["current"]);
    let sb = file_shas(&b["current"]);
    assert_eq!(sa[0], sha256(&same));
    assert_eq!(sb, [sha256(&same), sha256(&same)]);

    let on_disk = h.blobs_on_disk();
    assert_eq!(
        on_disk,
        BTreeSet::from([sha256(&same), sha256(&other)]),
        "one blob per distinct content"
    );
    let shard = files_below(h.blob_path(&sha256(&same)).parent().unwrap());
    assert_eq!(shard, [h.blob_path(&sha256(&same))]);
    assert_eq!(
        std::fs::read(h.blob_path(&sha256(&same))).unwrap(),
        same,
        "the blob holds the bytes"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(h.blob_path(&sha256(&same)))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o444, "blobs are read-only");
    }
    let v = h.verify(&lead).await;
    v.expect(200);
    let v = v.json();
    assert_eq!(v["checked"], 2, "the index lists each hash once: {v}");
    assert_eq!(v["intact"], 2);
    // Each record downloads its own copy under its own name.
    let d = h.download(&lead, "EV-2", 2, None).await;
    d.expect(200);
    assert!(d.bytes == same);
    assert!(header_of(&d, "content-disposition").contains("again.csv"));
    assert!(h.staging_files().is_empty());

    // The same new bytes uploaded three times at once: all accepted, still one blob.
    let racing = noise(12, 200_000);
    let ev = |i: usize| {
        Ev::new(&format!("Concurrent {i}"), "IAM-08", "2026-03-10", "")
            .file(&format!("race-{i}.bin"), &racing)
    };
    let (e1, e2, e3) = (ev(1), ev(2), ev(3));
    let (r1, r2, r3) = tokio::join!(h.add(&lead, &e1), h.add(&lead, &e2), h.add(&lead, &e3));
    for r in [&r1, &r2, &r3] {
        r.expect(201);
        assert_eq!(file_shas(&r.json()["current"]), [sha256(&racing)]);
    }
    assert_eq!(
        h.blobs_on_disk(),
        BTreeSet::from([sha256(&same), sha256(&other), sha256(&racing)])
    );
    let v = h.verify(&lead).await;
    v.expect(200);
    assert_eq!(v.json()["checked"], 3);
    assert!(h.staging_files().is_empty());
    h.finish().await;
}

// =====================================================================================
// 3. Refused uploads
// =====================================================================================

async fn refused_uploads_leave_nothing_behind(backend: Backend) {
    let Some(h) = Harness::start(backend, LIMITS).await else {
        return;
    };
    let (_, lead) = h.lead().await;
    let (_, auditor) = holder_with_token(&h, "auditor@example.com", Role::Auditor).await;
    h.user("emp@example.com", Role::Employee, Some(PASSWORD))
        .await;
    h.adopt_controls(&["IAM-08", "IAM-03"]).await;
    h.added(
        &lead,
        &Ev::new("Baseline", "IAM-08", "2026-01-10", "").file("baseline.txt", b"baseline"),
    )
    .await;
    let baseline = h.stored().await;
    assert_eq!(baseline.blobs.len(), 1);
    assert!(baseline.staging.is_empty());

    let good = || Ev::new("Refused", "IAM-08", "2026-02-01", "2026-02-28");
    let small = noise(20, 5000);
    let too_big = noise(21, MAX_FILE as usize + 1);

    // Too large: 413 problem, even after a good file in the same upload.
    let r = h
        .add(
            &lead,
            &good()
                .file("fine.txt", &small)
                .file("huge.bin", &too_big)
                .file("after.txt", b"never read"),
        )
        .await;
    let p = assert_problem(&r, 413);
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains(&MAX_FILE.to_string()),
        "the refusal names the limit: {p}"
    );
    assert_eq!(
        h.stored().await,
        baseline,
        "a too-large upload stores nothing"
    );

    // Each refused input: 422 naming the field (and the culprit), nothing stored.
    let cases: Vec<(&str, Ev, Vec<&str>, Option<&str>)> = vec![
        (
            "unknown control",
            good().field("controls", "NOPE-99").file("a.txt", &small),
            vec!["controls"],
            Some("NOPE-99"),
        ),
        (
            "empty file",
            good().file("a.txt", &small).file("empty.txt", b""),
            vec!["files"],
            Some("empty.txt"),
        ),
        (
            "period end before start",
            Ev::new("Refused", "IAM-08", "2026-03-31", "2026-03-01").file("a.txt", &small),
            vec!["period_end"],
            Some("2026-03-01"),
        ),
        (
            "not a date",
            Ev::new("Refused", "IAM-08", "2026-02-30", "").file("a.txt", &small),
            vec!["period_start"],
            Some("2026-02-30"),
        ),
        (
            "not a date at all",
            Ev::new("Refused", "IAM-08", "2026-02-01", "next tuesday").file("a.txt", &small),
            vec!["period_end"],
            Some("next tuesday"),
        ),
        (
            "no period",
            Ev::new("Refused", "IAM-08", "", "").file("a.txt", &small),
            vec!["period_start"],
            None,
        ),
        ("no files and no link", good(), vec!["files"], None),
        (
            "a link that is not http(s)",
            good().field("link", "javascript:alert(1)"),
            vec!["link"],
            Some("javascript:alert(1)"),
        ),
        (
            "no control",
            Ev::new("Refused", "", "2026-02-01", "").file("a.txt", &small),
            vec!["controls"],
            None,
        ),
        (
            "no title",
            Ev::new("  ", "IAM-08", "2026-02-01", "").file("a.txt", &small),
            vec!["title"],
            None,
        ),
        (
            "an unknown source",
            good().field("source", "scanner").file("a.txt", &small),
            vec!["source"],
            Some("scanner"),
        ),
        (
            "a control character in the title",
            Ev::new("Bad\u{7}title", "IAM-08", "2026-02-01", "").file("a.txt", &small),
            vec!["title"],
            None,
        ),
        (
            "a text field over 64 KiB",
            good()
                .field("description", &"x".repeat(70_000))
                .file("a.txt", &small),
            vec!["description"],
            None,
        ),
        (
            "more than 50 files",
            (0..51).fold(good(), |ev, i| {
                ev.file(&format!("f{i}.txt"), &noise(100 + i, 64))
            }),
            vec!["files"],
            Some("50"),
        ),
    ];
    for (what, ev, fields, mentions) in cases {
        let r = h.add(&lead, &ev).await;
        assert!(r.status.as_u16() == 422, "{what}: {} {}", r.status, r.body);
        assert_invalid(&r, &fields, mentions);
        assert_eq!(h.stored().await, baseline, "{what}: nothing stored");
    }

    // Someone who may not add evidence is refused before a byte is staged.
    let r = h.add(&auditor, &good().file("a.txt", &small)).await;
    assert_problem(&r, 403);
    assert_eq!(
        h.stored().await,
        baseline,
        "an auditor's upload stores nothing"
    );

    // A browser session: without the CSRF header refused; a person cannot claim an
    // integration as the source.
    let b = h.signed_in("emp@example.com").await;
    let csrf = b.csrf().await;
    let baseline = h.stored().await; // signing in is recorded
    let r = b
        .api_multipart(
            Method::POST,
            "/evidence",
            &good().file("a.txt", &small).0,
            None,
        )
        .await;
    assert_problem(&r, 403);
    let r = b
        .api_multipart(
            Method::POST,
            "/evidence",
            &good().file("a.txt", &small).0,
            Some("not-the-token"),
        )
        .await;
    assert_problem(&r, 403);
    let r = b
        .api_multipart(
            Method::POST,
            "/evidence",
            &good()
                .field("source", "integration")
                .file("a.txt", &small)
                .0,
            Some(&csrf),
        )
        .await;
    assert_invalid(&r, &["source"], None);
    assert_eq!(
        h.stored().await,
        baseline,
        "refused session uploads store nothing"
    );
    // With the header it works, recorded as uploaded.
    let r = b
        .api_multipart(
            Method::POST,
            "/evidence",
            &good().file("from-browser.txt", b"from a browser").0,
            Some(&csrf),
        )
        .await;
    r.expect(201);
    assert_eq!(r.json()["current"]["source"], "upload");

    // An API token may record an integration's evidence.
    let r = h
        .add(
            &lead,
            &good()
                .field("source", "integration")
                .field("source_detail", "github-collector run 42")
                .file("repos.json", b"{\"repos\": 3}"),
        )
        .await;
    r.expect(201);
    assert_eq!(r.json()["current"]["source"], "integration");
    assert_eq!(
        r.json()["current"]["source_detail"],
        "github-collector run 42"
    );

    // A link alone is enough, and stores no blob.
    let blobs = h.blobs_on_disk();
    let r = h
        .add(
            &lead,
            &good().field("link", "https://tickets.example/ACC-7"),
        )
        .await;
    r.expect(201);
    assert!(r.json()["current"]["files"].as_array().unwrap().is_empty());
    assert_eq!(h.blobs_on_disk(), blobs);
    // A file of exactly the limit is accepted.
    let exact = noise(22, MAX_FILE as usize);
    let r = h.add(&lead, &good().file("exact.bin", &exact)).await;
    r.expect(201);
    assert_eq!(r.json()["current"]["files"][0]["size"], MAX_FILE);
    assert!(h.blobs_on_disk().contains(&sha256(&exact)));
    assert!(h.staging_files().is_empty());
    h.finish().await;
}

async fn hostile_file_names_are_made_safe(backend: Backend) {
    let Some(h) = Harness::start(backend, LIMITS).await else {
        return;
    };
    let (_, lead) = h.lead().await;
    h.adopt_controls(&["IAM-08"]).await;
    let outside = h.vault_dir.path().join("etc");
    let names = [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system.ini", "system.ini"),
        // A tab and a C1 control character (NEL, U+0085) in the name.
        ("evil\t\u{85}name.txt", "evilname.txt"),
        ("/absolute/.hidden", "hidden"),
        ("..", "file"),
    ];
    let mut ev = Ev::new("Hostile names", "IAM-08", "2026-01-10", "");
    for (i, (raw, _)) in names.iter().enumerate() {
        ev = ev.file(raw, format!("content {i}").as_bytes());
    }
    let rec = h.added(&lead, &ev).await;
    let files = rec["current"]["files"].as_array().unwrap();
    for (i, (raw, safe)) in names.iter().enumerate() {
        assert_eq!(files[i]["name"], *safe, "{raw:?} is stored as {safe:?}");
        let d = h.download(&lead, "EV-1", i as i64 + 1, None).await;
        d.expect(200);
        assert_eq!(d.bytes, format!("content {i}").as_bytes());
        let disposition = header_of(&d, "content-disposition");
        assert!(
            disposition.contains(&format!("filename=\"{safe}\"")),
            "{raw:?}: {disposition}"
        );
        assert!(!disposition.contains(".."), "{disposition}");
    }
    // A name beyond ASCII is offered both ways: a plain fallback and the exact UTF-8 name.
    let r = h
        .added(
            &lead,
            &Ev::new("Non-ASCII name", "IAM-08", "2026-01-10", "")
                .file("résumé 2026.pdf", b"%PDF-1.4 resume"),
        )
        .await;
    assert_eq!(r["current"]["files"][0]["name"], "résumé 2026.pdf");
    let d = h.download(&lead, "EV-2", 1, None).await;
    let disposition = header_of(&d, "content-disposition");
    assert!(
        disposition.contains("filename=\"r_sum_ 2026.pdf\"")
            && disposition.contains("filename*=UTF-8''r%C3%A9sum%C3%A9%202026.pdf"),
        "{disposition}"
    );
    // Nothing was written anywhere but the vault's blob area: only blobs, named by hash.
    let everything = files_below(h.vault_dir.path());
    let blob_area = h.blob_root().join("sha256");
    for p in &everything {
        assert!(
            p.starts_with(&blob_area),
            "a file outside the blob area: {}",
            p.display()
        );
    }
    assert_eq!(everything.len(), names.len() + 1);
    assert_eq!(h.blobs_on_disk().len(), names.len() + 1);
    assert!(!outside.exists());
    assert!(!h.vault_dir.path().join("etc/passwd").exists());
    assert!(!h.blob_root().join("etc").exists());
    h.finish().await;
}

// =====================================================================================
// 4. Revisions
// =====================================================================================

async fn revisions_keep_every_earlier_revision_readable(backend: Backend) {
    let Some(h) = Harness::start(backend, LIMITS).await else {
        return;
    };
    let (_, lead) = h.lead().await;
    h.adopt_controls(&["IAM-08", "IAM-03"]).await;
    let first = noise(30, 10_000);
    let second = noise(31, 12_000);
    h.added(
        &lead,
        &Ev::new("Access review", "IAM-08", "2026-01-01", "2026-01-31").file("review.csv", &first),
    )
    .await;
    let count = h.event_count().await;

    // A new period, no files: revision 2 keeps revision 1's files.
    let r = h
        .revise(
            &lead,
            "ev-1",
            &Ev::new("Access review", "IAM-08", "2026-03-01", "2026-03-31")
                .field("note", "Wrong quarter: the review covered March."),
        )
        .await;
    r.expect(201);
    let rec = r.json();
    assert_eq!(rec["id"], "EV-1");
    let cur = &rec["current"];
    assert_eq!(cur["revision"], 2);
    assert_eq!(cur["period_start"], "2026-03-01");
    assert_eq!(cur["period_end"], "2026-03-31");
    assert_eq!(cur["note"], "Wrong quarter: the review covered March.");
    assert_eq!(cur["source"], "upload");
    let revs = rec["revisions"].as_array().unwrap();
    assert_eq!(revs.len(), 2);
    assert_eq!(revs[0]["revision"], 1);
    assert_eq!(
        revs[0]["period_start"], "2026-01-01",
        "revision 1 is unchanged"
    );
    assert_eq!(revs[0]["note"], "");
    assert_eq!(revs[1], *cur);
    assert_eq!(cur["files"], revs[0]["files"], "the files are kept");
    assert_eq!(file_shas(cur), [sha256(&first)]);
    assert_eq!(h.event_count().await, count + 1);
    let e = h.last_event().await;
    assert_eq!(
        (e.action.as_str(), e.object_id.as_str()),
        ("evidence.revise", "EV-1")
    );
    assert_eq!(e.before.as_ref().unwrap()["revision"], 1);
    assert_eq!(e.before.as_ref().unwrap()["period_start"], "2026-01-01");
    assert_eq!(e.after.as_ref().unwrap()["revision"], 2);
    assert_eq!(h.get(&lead, "/evidence/EV-1").await, rec);
    for rev in [None, Some(1), Some(2)] {
        let d = h.download(&lead, "EV-1", 1, rev).await;
        d.expect(200);
        assert!(d.bytes == first, "{rev:?}");
    }
    let e = h.last_event().await;
    assert_eq!(e.after.as_ref().unwrap()["revision"], 2);

    // A new file: the current file changes, the old one stays downloadable.
    let r = h
        .revise(
            &lead,
            "EV-1",
            &Ev::new(
                "Access review (signed)",
                "IAM-03",
                "2026-03-01",
                "2026-03-31",
            )
            .field("note", "Attach the signed export instead.")
            .file("review-signed.csv", &second),
        )
        .await;
    r.expect(201);
    let rec = r.json();
    let cur = &rec["current"];
    assert_eq!(cur["revision"], 3);
    assert_eq!(cur["title"], "Access review (signed)");
    assert_eq!(cur["controls"], json!(["IAM-03"]));
    assert_eq!(file_shas(cur), [sha256(&second)]);
    assert_ne!(file_shas(cur), file_shas(&rec["revisions"][0]));
    assert_eq!(rec["revisions"].as_array().unwrap().len(), 3);
    let d = h.download(&lead, "EV-1", 1, None).await;
    assert!(d.bytes == second);
    assert_eq!(header_of(&d, "x-content-sha256"), sha256(&second));
    assert!(header_of(&d, "content-disposition").contains("review-signed.csv"));
    for old in [1, 2] {
        let d = h.download(&lead, "EV-1", 1, Some(old)).await;
        d.expect(200);
        assert!(d.bytes == first, "revision {old}");
        assert_eq!(header_of(&d, "x-content-sha256"), sha256(&first));
        assert!(header_of(&d, "content-disposition").contains("review.csv"));
    }
    assert_eq!(
        h.last_event().await.after.unwrap()["revision"],
        2,
        "the download event names the revision"
    );
    // The list and the control filter follow the current revision.
    let list = h.get(&lead, "/evidence").await;
    assert_eq!(list[0]["current"]["revision"], 3);
    assert!(ids_of(&h.get(&lead, "/evidence?control=IAM-08").await).is_empty());
    assert_eq!(
        ids_of(&h.get(&lead, "/evidence?control=IAM-03").await),
        ["EV-1"]
    );
    // Both blobs stay in the vault, intact.
    assert_eq!(
        h.blobs_on_disk(),
        BTreeSet::from([sha256(&first), sha256(&second)])
    );
    h.verify(&lead).await.expect(200);

    // A note that says nothing: 422, and nothing stored (not even the attached file).
    let stored = h.stored().await;
    for note in ["typo", "  ab  ", ""] {
        let r = h
            .revise(
                &lead,
                "EV-1",
                &Ev::new("Access review", "IAM-03", "2026-03-01", "2026-03-31")
                    .field("note", note)
                    .file("third.csv", b"a third version"),
            )
            .await;
        assert_invalid(&r, &["note"], None);
    }
    // A revision is validated like an upload.
    let r = h
        .revise(
            &lead,
            "EV-1",
            &Ev::new("Access review", "NOPE-1", "2026-03-01", "")
                .field("note", "Try a broken correction."),
        )
        .await;
    assert_invalid(&r, &["controls"], Some("NOPE-1"));
    let r = h
        .revise(
            &lead,
            "EV-1",
            &Ev::new("Access review", "IAM-03", "2026-03-31", "2026-03-01")
                .field("note", "Try a broken correction."),
        )
        .await;
    assert_invalid(&r, &["period_end"], None);
    let r = h
        .revise(
            &lead,
            "EV-1",
            &Ev::new("Access review", "IAM-03", "2026-03-01", "")
                .field("note", "An empty replacement file.")
                .file("empty.csv", b""),
        )
        .await;
    assert_invalid(&r, &["files"], Some("empty.csv"));
    let r = h
        .revise(
            &lead,
            "EV-404",
            &Ev::new("Access review", "IAM-03", "2026-03-01", "")
                .field("note", "Revise what is not there."),
        )
        .await;
    assert_problem(&r, 404);
    assert_eq!(h.stored().await, stored, "refused revisions store nothing");
    h.finish().await;
}

// =====================================================================================
// 5. Who sees and may do what
// =====================================================================================

async fn who_sees_and_may_do_what(backend: Backend) {
    let Some(h) = Harness::start(backend, LIMITS).await else {
        return;
    };
    let (_, lead) = h.lead().await;
    let (owner_u, owner) = holder_with_token(&h, "owner@example.com", Role::ControlOwner).await;
    let (emp_u, emp) = holder_with_token(&h, "emp@example.com", Role::Employee).await;
    let (_, emp2) = holder_with_token(&h, "emp2@example.com", Role::Employee).await;
    let (_, auditor) = holder_with_token(&h, "auditor@example.com", Role::Auditor).await;
    let (_, admin) = holder_with_token(&h, "admin@example.com", Role::Admin).await;
    h.adopt_controls(&["IAM-08"]).await;
    let ev = |who: &str| {
        Ev::new(&format!("By {who}"), "IAM-08", "2026-01-10", "").file(
            &format!("{who}.txt"),
            format!("uploaded by {who}").as_bytes(),
        )
    };

    // Control owners and employees may upload.
    let r = h.added(&owner, &ev("owner")).await;
    assert_eq!(r["id"], "EV-1");
    assert_eq!(r["created_by"], json!(owner_u.id));
    let r = h.added(&emp, &ev("emp")).await;
    assert_eq!(r["id"], "EV-2");
    assert_eq!(r["created_by"], json!(emp_u.id));
    h.added(&emp2, &ev("emp2")).await;

    // An employee sees only their own, and nothing else exists for them.
    assert_eq!(ids_of(&h.get(&emp, "/evidence").await), ["EV-2"]);
    assert_eq!(
        ids_of(&h.get(&emp, "/evidence?control=IAM-08").await),
        ["EV-2"]
    );
    h.get(&emp, "/evidence/EV-2").await;
    let d = h.download(&emp, "EV-2", 1, None).await;
    d.expect(200);
    assert_eq!(d.bytes, b"uploaded by emp");
    let count = h.event_count().await;
    for id in ["EV-1", "EV-3"] {
        assert_problem(
            &h.bearer(&emp, Method::GET, &format!("/evidence/{id}"), None)
                .await,
            404,
        );
        assert_problem(&h.download(&emp, id, 1, None).await, 404);
        assert_problem(
            &h.revise(
                &emp,
                id,
                &ev("emp").field("note", "Correct someone else's record."),
            )
            .await,
            404,
        );
    }
    assert_eq!(
        h.event_count().await,
        count,
        "nothing recorded for refusals"
    );
    // Their own record they may correct.
    h.revise(&emp, "EV-2", &ev("emp").field("note", "Fix my own upload."))
        .await
        .expect(201);
    // The control's page, the vault check and the purge are not theirs.
    assert_problem(
        &h.bearer(&emp, Method::GET, "/controls/IAM-08/evidence", None)
            .await,
        403,
    );
    assert_problem(&h.verify(&emp).await, 403);
    let purge = json!({"dry_run": true});
    assert_problem(
        &h.bearer(&emp, Method::POST, "/evidence/purge", Some(&purge))
            .await,
        403,
    );

    // An auditor lists and downloads everything, and cannot upload or correct.
    assert_eq!(
        ids_of(&h.get(&auditor, "/evidence").await),
        ["EV-3", "EV-2", "EV-1"],
        "newest first"
    );
    for id in ["EV-1", "EV-2", "EV-3"] {
        h.get(&auditor, &format!("/evidence/{id}")).await;
        let before = h.event_count().await;
        h.download(&auditor, id, 1, None).await.expect(200);
        assert_eq!(h.event_count().await, before + 1);
        let e = h.last_event().await;
        assert_eq!(e.action, "evidence.download");
        assert!(e.actor_label.starts_with("auditor@example.com"), "{e:?}");
    }
    let stored = h.stored().await;
    assert_problem(&h.add(&auditor, &ev("auditor")).await, 403);
    assert_problem(
        &h.revise(
            &auditor,
            "EV-1",
            &ev("auditor").field("note", "Auditors do not correct."),
        )
        .await,
        403,
    );
    assert_eq!(h.stored().await, stored);
    let ce = h.get(&auditor, "/controls/IAM-08/evidence").await;
    assert_eq!(ids_of(&ce["evidence"]).len(), 3);
    h.verify(&auditor).await.expect(200);
    assert_problem(
        &h.bearer(&auditor, Method::POST, "/evidence/purge", Some(&purge))
            .await,
        403,
    );

    // A control owner reads everything, but neither verifies nor purges.
    assert_eq!(ids_of(&h.get(&owner, "/evidence").await).len(), 3);
    h.download(&owner, "EV-3", 1, None).await.expect(200);
    assert_problem(&h.verify(&owner).await, 403);
    assert_problem(
        &h.bearer(&owner, Method::POST, "/evidence/purge", Some(&purge))
            .await,
        403,
    );

    // Only an administrator may purge; the lead may verify.
    h.verify(&lead).await.expect(200);
    let count = h.event_count().await;
    for body in [
        json!({"dry_run": true}),
        json!({"dry_run": false}),
        json!({}),
    ] {
        assert_problem(
            &h.bearer(&lead, Method::POST, "/evidence/purge", Some(&body))
                .await,
            403,
        );
    }
    let r = h
        .bearer(&admin, Method::POST, "/evidence/purge", Some(&purge))
        .await;
    r.expect(200);
    let rep = r.json();
    assert!(
        rep["retention_days"].is_null(),
        "no retention configured: {rep}"
    );
    assert!(rep["purged"].as_array().unwrap().is_empty());
    let r = h
        .bearer(
            &admin,
            Method::POST,
            "/evidence/purge",
            Some(&json!({"dry_run": false})),
        )
        .await;
    r.expect(200);
    assert!(r.json()["purged"].as_array().unwrap().is_empty());
    assert_eq!(
        h.event_count().await,
        count,
        "without retention nothing is purged"
    );
    let p = assert_problem(
        &h.bearer(
            &admin,
            Method::POST,
            "/evidence/purge",
            Some(&json!({"everything": true})),
        )
        .await,
        422,
    );
    assert!(p["detail"].as_str().unwrap().contains("everything"), "{p}");

    // Without a token at all: 401.
    let r = send(h.http.get(h.url("/api/v1/evidence"))).await;
    assert_problem(&r, 401);
    let (ct, body) = multipart_body(&ev("nobody").0);
    let r = send(
        h.http
            .post(h.url("/api/v1/evidence"))
            .header(header::CONTENT_TYPE, ct)
            .body(body),
    )
    .await;
    assert_problem(&r, 401);
    assert!(h.staging_files().is_empty());
    h.finish().await;
}

// =====================================================================================
// 6. Freshness and readiness
// =====================================================================================

async fn freshness_and_readiness_follow_the_audit_period(backend: Backend) {
    let Some(h) = Harness::start(backend, LIMITS).await else {
        return;
    };
    h.set_now(datetime!(2026-11-23 12:00 UTC));
    let (_, lead) = h.lead().await;
    let alice = h.user("alice@example.com", Role::ControlOwner, None).await;
    h.adopt_controls(&["IAM-08", "IAM-11"]).await;
    for id in ["IAM-08", "IAM-11"] {
        let c = h.get(&lead, &format!("/controls/{id}")).await;
        assert_eq!(c["frequencies"], json!(["quarterly"]), "{id} is quarterly");
        assert!(!c["description"].as_str().unwrap().trim().is_empty());
        h.bearer(
            &lead,
            Method::PUT,
            &format!("/controls/{id}/owner"),
            Some(&json!({"owner_id": alice.id})),
        )
        .await
        .expect(200);
    }
    h.bearer(
        &lead,
        Method::PUT,
        "/scope",
        Some(&scope_type2("2025-12-01", "2026-11-30")),
    )
    .await
    .expect(200);

    // No evidence: missing, and nothing proves the control.
    let ce = h.get(&lead, "/controls/IAM-08/evidence").await;
    assert_eq!(ce["freshness"]["status"], "missing", "{ce}");
    assert_eq!(ce["freshness"]["cadence"], "quarterly");
    assert!(ce["freshness"]["latest"].is_null());
    assert!(ce["evidence"].as_array().unwrap().is_empty());
    let r = h.get(&lead, "/readiness").await;
    assert_eq!(control_status(&r, "IAM-08"), "no_proof");
    assert!(gaps(&r).contains(&("control_without_proof".into(), "IAM-08".into())));

    // The quarters of the period are Dec–Feb, Mar–May, Jun–Aug (due) and Sep–Nov (not yet).
    // Evidence for the first and third only: stale, with the spring quarter missing.
    for (title, day) in [
        ("Winter review", "2026-01-15"),
        ("Summer review", "2026-08-20"),
    ] {
        h.added(
            &lead,
            &Ev::new(title, "IAM-08", day, "").file(&format!("{day}.csv"), day.as_bytes()),
        )
        .await;
    }
    let ce = h.get(&lead, "/controls/IAM-08/evidence").await;
    let f = &ce["freshness"];
    assert_eq!(f["status"], "stale", "{ce}");
    assert_eq!(f["due"], 3);
    assert_eq!(f["latest"], "2026-08-20");
    assert_eq!(
        f["missing"],
        json!([{"start": "2026-03-01", "end": "2026-05-31", "due_by": "2026-06-14",
                "covered": false}])
    );
    assert_eq!(f["next_due_by"], "2026-12-14");
    assert_eq!(ids_of(&ce["evidence"]), ["EV-2", "EV-1"]);
    let r = h.get(&lead, "/readiness").await;
    assert_eq!(control_status(&r, "IAM-08"), "stale");
    assert_eq!(
        r["evidence"],
        json!({"controls": 2, "with_evidence": 1, "fresh": 0, "fresh_pct": 0}),
        "evidence exists for IAM-08 but is overdue"
    );
    let g = gaps(&r);
    assert!(
        g.contains(&("control_evidence_overdue".into(), "IAM-08".into())),
        "{g:?}"
    );
    assert!(!g.contains(&("control_without_proof".into(), "IAM-08".into())));
    assert_eq!(h.get(&lead, "/controls/IAM-08").await["status"], "stale");

    // Evidence whose period covers the missing quarter: fresh, and the control is ready.
    h.added(
        &lead,
        &Ev::new("Spring review", "IAM-08", "2026-03-01", "2026-05-31")
            .file("spring.csv", b"spring"),
    )
    .await;
    let f = h.get(&lead, "/controls/IAM-08/evidence").await["freshness"].clone();
    assert_eq!(f["status"], "fresh", "{f}");
    assert_eq!(f["due"], 3);
    assert_eq!(f["missing"], json!([]));
    let r = h.get(&lead, "/readiness").await;
    assert_eq!(control_status(&r, "IAM-08"), "ready");
    assert_eq!(
        r["evidence"],
        json!({"controls": 2, "with_evidence": 1, "fresh": 1, "fresh_pct": 50})
    );
    assert!(
        !gaps(&r).iter().any(|(_, s)| s == "IAM-08"),
        "{:?}",
        gaps(&r)
    );
    assert_eq!(h.get(&lead, "/controls/IAM-08").await["status"], "ready");

    // Evidence from before the period proves nothing of it.
    h.added(
        &lead,
        &Ev::new("Old review", "IAM-11", "2025-06-01", "2025-06-30").file("old.csv", b"old"),
    )
    .await;
    let f = h.get(&lead, "/controls/IAM-11/evidence").await["freshness"].clone();
    assert_eq!(f["status"], "stale", "{f}");
    assert_eq!(f["missing"].as_array().unwrap().len(), 3);
    let r = h.get(&lead, "/readiness").await;
    assert_eq!(control_status(&r, "IAM-11"), "stale");

    // Time moves on: once the autumn quarter's grace has passed, it is missing too.
    h.set_now(datetime!(2026-12-15 12:00 UTC));
    let f = h.get(&lead, "/controls/IAM-08/evidence").await["freshness"].clone();
    assert_eq!(f["status"], "stale", "{f}");
    assert_eq!(f["due"], 4);
    assert_eq!(f["missing"][0]["start"], "2026-09-01");
    assert_eq!(f["missing"][0]["end"], "2026-11-30");
    assert_eq!(
        control_status(&h.get(&lead, "/readiness").await, "IAM-08"),
        "stale"
    );
    // Freshness follows the current revision: moving the summer record into autumn covers
    // autumn and uncovers summer.
    h.revise(
        &lead,
        "EV-2",
        &Ev::new("Summer review", "IAM-08", "2026-09-05", "")
            .field("note", "The review was done in September."),
    )
    .await
    .expect(201);
    let f = h.get(&lead, "/controls/IAM-08/evidence").await["freshness"].clone();
    assert_eq!(f["status"], "stale", "{f}");
    assert_eq!(
        f["missing"],
        json!([{"start": "2026-06-01", "end": "2026-08-31", "due_by": "2026-09-14",
                "covered": false}])
    );
    // New evidence for the summer: every due quarter is covered again.
    h.added(
        &lead,
        &Ev::new("Summer review, redone", "IAM-08", "2026-07-15", "").file("summer.csv", b"summer"),
    )
    .await;
    let f = h.get(&lead, "/controls/IAM-08/evidence").await["freshness"].clone();
    assert_eq!(f["status"], "fresh", "{f}");
    assert_eq!(f["due"], 4);
    assert_eq!(
        control_status(&h.get(&lead, "/readiness").await, "IAM-08"),
        "ready"
    );
    // An unknown control: 404.
    assert_problem(
        &h.bearer(&lead, Method::GET, "/controls/NOPE-1/evidence", None)
            .await,
        404,
    );
    h.finish().await;
}

// =====================================================================================
// 7. Integrity
// =====================================================================================

async fn verify_reports_altered_missing_orphaned_and_stray_blobs(backend: Backend) {
    let Some(h) = Harness::start(backend, LIMITS).await else {
        return;
    };
    let (_, lead) = h.lead().await;
    h.adopt_controls(&["IAM-08"]).await;
    let a = noise(40, 20_000);
    let b = noise(41, 20_000);
    let c = noise(42, 20_000);
    h.added(
        &lead,
        &Ev::new("Two files", "IAM-08", "2026-01-10", "")
            .file("a.bin", &a)
            .file("b.bin", &b),
    )
    .await;
    h.added(
        &lead,
        &Ev::new("One file", "IAM-08", "2026-02-10", "").file("c.bin", &c),
    )
    .await;
    let v = h.verify(&lead).await;
    v.expect(200);
    let v = v.json();
    assert_eq!(
        (v["checked"].clone(), v["intact"].clone()),
        (json!(3), json!(3))
    );
    for list in ["missing", "altered", "orphaned", "stray"] {
        assert_eq!(v[list], json!([]), "{list}: {v}");
    }

    // Alter a's bytes behind Vouch's back.
    let path_a = h.blob_path(&sha256(&a));
    make_writable(&path_a);
    let mut tampered = a.clone();
    tampered[100] ^= 0xff;
    std::fs::write(&path_a, &tampered).unwrap();
    let r = h.verify(&lead).await;
    assert_eq!(r.status.as_u16(), 409, "{}", r.body);
    let v = r.json();
    assert_eq!(
        v["altered"],
        json!([{"sha256": sha256(&a), "actual_sha256": sha256(&tampered)}])
    );
    assert_eq!(v["checked"], 3);
    assert_eq!(v["intact"], 2);
    assert_eq!(v["missing"], json!([]));
    // A download still says which hash the record promises, so a client can tell.
    let d = h.download(&lead, "EV-1", 1, None).await;
    assert_eq!(header_of(&d, "x-content-sha256"), sha256(&a));
    assert_ne!(sha256(&d.bytes), sha256(&a), "served as stored");

    // Delete b.
    let path_b = h.blob_path(&sha256(&b));
    std::fs::remove_file(&path_b).unwrap();
    let r = h.verify(&lead).await;
    assert_eq!(r.status.as_u16(), 409);
    let v = r.json();
    assert_eq!(v["missing"], json!([sha256(&b)]));
    assert_eq!(v["altered"].as_array().unwrap().len(), 1);
    assert_eq!(v["intact"], 1);
    // Its download is a clear refusal, and recorded nowhere.
    let count = h.event_count().await;
    let p = assert_problem(&h.download(&lead, "EV-1", 2, None).await, 409);
    assert!(p["detail"].as_str().unwrap().contains(&sha256(&b)), "{p}");
    assert_eq!(h.event_count().await, count);

    // A well-formed blob nobody indexed: orphaned. A file that is no blob: stray.
    let o = noise(43, 500);
    let path_o = h.blob_path(&sha256(&o));
    std::fs::create_dir_all(path_o.parent().unwrap()).unwrap();
    std::fs::write(&path_o, &o).unwrap();
    std::fs::write(h.blob_root().join("sha256").join("leftover.tmp"), b"x").unwrap();
    let r = h.verify(&lead).await;
    assert_eq!(r.status.as_u16(), 409);
    assert!(r.content_type().starts_with("application/json"));
    let v = r.json();
    assert_eq!(v["orphaned"], json!([sha256(&o)]));
    assert_eq!(v["stray"], json!(["sha256/leftover.tmp"]));
    assert_eq!(v["checked"], 3, "orphans are not indexed");
    assert_eq!(v["missing"], json!([sha256(&b)]));
    assert_eq!(v["altered"][0]["sha256"], sha256(&a));
    // Verifying changes nothing and records nothing.
    assert_eq!(h.event_count().await, count);
    assert!(path_o.exists());
    h.finish().await;
}

// =====================================================================================
// 8. Retention
// =====================================================================================

const RETENTION_DAYS: u32 = 180;

async fn retention_harness(backend: Backend) -> Option<Harness> {
    let h = Harness::start_with_config(backend, LIMITS, VaultKind::Local, |c| {
        c.evidence_retention_days = Some(RETENTION_DAYS);
    })
    .await?;
    // Today 2026-11-23: the cutoff is 2026-05-27; the audit period started 2025-12-01.
    h.set_now(datetime!(2026-11-23 12:00 UTC));
    Some(h)
}

async fn retention_purge_keeps_what_the_audit_needs(backend: Backend) {
    let Some(h) = retention_harness(backend).await else {
        return;
    };
    let (_, lead) = h.lead().await;
    let (_, admin) = holder_with_token(&h, "admin@example.com", Role::Admin).await;
    h.adopt_controls(&["IAM-08"]).await;
    h.bearer(
        &lead,
        Method::PUT,
        "/scope",
        Some(&scope_type2("2025-12-01", "2026-11-30")),
    )
    .await
    .expect(200);
    let unique = noise(50, 3000);
    let shared = noise(51, 3000);
    let held = noise(52, 3000);
    let old_r1 = noise(53, 3000);
    let old_r2 = noise(54, 3000);
    // EV-1: long past retention, outside the audit period; one blob of its own, one shared.
    h.added(
        &lead,
        &Ev::new("2024 review", "IAM-08", "2024-01-01", "2024-03-31")
            .file("unique.bin", &unique)
            .file("shared.bin", &shared),
    )
    .await;
    // EV-2: recent, shares a blob with EV-1.
    h.added(
        &lead,
        &Ev::new("Recent review", "IAM-08", "2026-07-01", "2026-07-31")
            .file("shared-copy.bin", &shared),
    )
    .await;
    // EV-3: past retention, but its period overlaps the audit period: held.
    h.added(
        &lead,
        &Ev::new("Overlapping review", "IAM-08", "2025-11-01", "2025-12-31")
            .file("held.bin", &held),
    )
    .await;
    // EV-4: a link only, long past.
    h.added(
        &lead,
        &Ev::new("2023 ticket", "IAM-08", "2023-05-01", "").field("link", "https://t.example/1"),
    )
    .await;
    // EV-5: long past, with two revisions, each with its own file.
    h.added(
        &lead,
        &Ev::new("2023 export", "IAM-08", "2023-06-01", "").file("r1.bin", &old_r1),
    )
    .await;
    h.revise(
        &lead,
        "EV-5",
        &Ev::new("2023 export", "IAM-08", "2023-06-02", "")
            .field("note", "The right day, the right file.")
            .file("r2.bin", &old_r2),
    )
    .await
    .expect(201);

    // Only an administrator may purge.
    assert_problem(
        &h.bearer(
            &lead,
            Method::POST,
            "/evidence/purge",
            Some(&json!({"dry_run": true})),
        )
        .await,
        403,
    );

    // A dry run reports, and changes nothing.
    let before = h.stored().await;
    let r = h
        .bearer(
            &admin,
            Method::POST,
            "/evidence/purge",
            Some(&json!({"dry_run": true})),
        )
        .await;
    r.expect(200);
    let dry = r.json();
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["retention_days"], RETENTION_DAYS);
    assert_eq!(dry["cutoff"], "2026-05-27");
    assert_eq!(dry["purged"], json!(["EV-1", "EV-4", "EV-5"]), "{dry}");
    assert_eq!(dry["held"], json!(["EV-3"]), "{dry}");
    let to_delete: BTreeSet<String> = [&unique, &old_r1, &old_r2]
        .iter()
        .map(|b| sha256(b))
        .collect();
    let reported: BTreeSet<String> = serde_json::from_value(dry["blobs_deleted"].clone()).unwrap();
    assert_eq!(reported, to_delete, "not the shared blob: {dry}");
    assert_eq!(h.stored().await, before, "a dry run changes nothing");
    h.download(&lead, "EV-1", 1, None).await.expect(200);

    // The purge itself.
    let count = h.event_count().await;
    let r = h
        .bearer(
            &admin,
            Method::POST,
            "/evidence/purge",
            Some(&json!({"dry_run": false})),
        )
        .await;
    r.expect(200);
    let done = r.json();
    assert_eq!(done["dry_run"], false);
    for k in [
        "purged",
        "held",
        "cutoff",
        "retention_days",
        "blobs_deleted",
    ] {
        assert_eq!(done[k], dry[k], "{k}: the dry run said what happens");
    }
    // One event per purged record, naming the blobs it deleted.
    assert_eq!(h.event_count().await, count + 3);
    let purges = h.events_of("evidence.purge").await;
    assert_eq!(
        purges
            .iter()
            .map(|e| e.object_id.as_str())
            .collect::<Vec<_>>(),
        ["EV-1", "EV-4", "EV-5"]
    );
    assert_eq!(
        purges[0].after.as_ref().unwrap()["blobs_deleted"],
        json!([sha256(&unique)])
    );
    assert!(
        purges
            .iter()
            .all(|e| e.actor_label.starts_with("admin@example.com"))
    );

    // The records stay as tombstones; their files are gone (410), their own blobs deleted.
    for id in ["EV-1", "EV-4", "EV-5"] {
        let rec = h.get(&lead, &format!("/evidence/{id}")).await;
        assert!(rec["purged_at"].is_string(), "{rec}");
    }
    assert!(ids_of(&h.get(&lead, "/evidence").await).contains(&"EV-1".to_string()));
    let count = h.event_count().await;
    for (id, pos, rev) in [
        ("EV-1", 1, None),
        ("EV-1", 2, None),
        ("EV-5", 1, Some(1)),
        ("EV-5", 1, None),
    ] {
        assert_problem(&h.download(&lead, id, pos, rev).await, 410);
    }
    assert_eq!(
        h.event_count().await,
        count,
        "a refused download records nothing"
    );
    for gone in [&unique, &old_r1, &old_r2] {
        assert!(!h.blob_path(&sha256(gone)).exists());
    }
    assert_eq!(
        h.blobs_on_disk(),
        BTreeSet::from([sha256(&shared), sha256(&held)]),
        "the shared blob and the held record's stay"
    );
    // What is kept is untouched.
    let d = h.download(&lead, "EV-2", 1, None).await;
    d.expect(200);
    assert!(d.bytes == shared);
    let rec = h.get(&lead, "/evidence/EV-3").await;
    assert!(rec["purged_at"].is_null());
    assert!(h.download(&lead, "EV-3", 1, None).await.bytes == held);
    // The vault and the index agree afterwards.
    let v = h.verify(&lead).await;
    v.expect(200);
    assert_eq!(v.json()["checked"], 2);
    // A purged record cannot be revised.
    assert_problem(
        &h.revise(
            &lead,
            "EV-1",
            &Ev::new("2024 review", "IAM-08", "2024-01-01", "")
                .field("note", "Bring it back to life."),
        )
        .await,
        409,
    );
    // A second purge finds nothing more.
    let count = h.event_count().await;
    let r = h
        .bearer(&admin, Method::POST, "/evidence/purge", Some(&json!({})))
        .await;
    r.expect(200);
    let again = r.json();
    assert_eq!(
        again["dry_run"], false,
        "a purge is real unless asked otherwise"
    );
    assert_eq!(again["purged"], json!([]));
    assert_eq!(again["held"], json!(["EV-3"]));
    assert_eq!(h.event_count().await, count);
    h.finish().await;
}

/// Two records past retention that share a blob only with each other: the dry run must
/// report the blob the real purge deletes.
async fn a_dry_run_reports_exactly_what_the_purge_does(backend: Backend) {
    let Some(h) = retention_harness(backend).await else {
        return;
    };
    let (_, lead) = h.lead().await;
    let (_, admin) = holder_with_token(&h, "admin@example.com", Role::Admin).await;
    h.adopt_controls(&["IAM-08"]).await;
    let shared = noise(60, 2000);
    for (title, day) in [("First", "2023-01-10"), ("Second", "2023-02-10")] {
        h.added(
            &lead,
            &Ev::new(title, "IAM-08", day, "").file("shared.bin", &shared),
        )
        .await;
    }
    let r = h
        .bearer(
            &admin,
            Method::POST,
            "/evidence/purge",
            Some(&json!({"dry_run": true})),
        )
        .await;
    r.expect(200);
    let dry = r.json();
    let r = h
        .bearer(
            &admin,
            Method::POST,
            "/evidence/purge",
            Some(&json!({"dry_run": false})),
        )
        .await;
    r.expect(200);
    let done = r.json();
    assert_eq!(done["purged"], json!(["EV-1", "EV-2"]));
    assert_eq!(
        done["blobs_deleted"],
        json!([sha256(&shared)]),
        "the last record using the blob takes it along"
    );
    assert!(!h.blob_path(&sha256(&shared)).exists());
    h.verify(&lead).await.expect(200);
    assert_eq!(dry["purged"], done["purged"]);
    assert_eq!(
        dry["blobs_deleted"], done["blobs_deleted"],
        "the dry run must report the blobs the purge deletes: dry {dry}, real {done}"
    );
    h.finish().await;
}

// =====================================================================================
// 9. The S3 vault
// =====================================================================================

mod s3 {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn upload_download_verify_and_detect_tampering_on_s3() {
        crate::support::http::bounded(
            super::TEST_LIMIT,
            super::s3_vault_end_to_end(vouch_app::Backend::Sqlite),
        )
        .await;
    }
}

async fn s3_vault_end_to_end(backend: Backend) {
    let Some(h) = Harness::start_with_vault(backend, LIMITS, VaultKind::S3).await else {
        return;
    };
    let s3 = h.s3.as_ref().expect("an S3 harness");
    let key = |sha: &str| format!("evidence/sha256/{}/{sha}", &sha[..2]);
    let (_, lead) = h.lead().await;
    h.adopt_controls(&["IAM-08"]).await;
    // Larger than one multipart part is not needed; several I/O chunks are.
    let a = noise(70, 600_000);
    let b = noise(71, 5000);
    let rec = h
        .added(
            &lead,
            &Ev::new("On S3", "IAM-08", "2026-01-10", "")
                .file("a.bin", &a)
                .file("b.bin", &b)
                .file("a-again.bin", &a),
        )
        .await;
    assert_eq!(
        file_shas(&rec["current"]),
        [sha256(&a), sha256(&b), sha256(&a)]
    );
    assert!(
        h.blobs_on_disk().is_empty(),
        "nothing in the local blob folder"
    );
    for sha in [sha256(&a), sha256(&b)] {
        assert!(s3.object_path(&key(&sha)).is_file(), "object {sha} on S3");
    }
    for (pos, bytes) in [(1, &a), (2, &b), (3, &a)] {
        let d = h.download(&lead, "EV-1", pos, None).await;
        d.expect(200);
        assert!(d.bytes == *bytes, "file {pos}");
        assert_eq!(header_of(&d, "x-content-sha256"), sha256(bytes));
    }
    assert_eq!(h.events_of("evidence.download").await.len(), 3);
    let v = h.verify(&lead).await;
    v.expect(200);
    let v = v.json();
    assert_eq!(v["checked"], 2);
    assert_eq!(v["intact"], 2);
    assert!(v["vault"].as_str().unwrap().starts_with("s3://"), "{v}");
    assert!(
        !v.to_string().contains(&s3.secret_access_key),
        "no credential in the report"
    );

    // Alter an object behind the server's back.
    let mut tampered = b.clone();
    tampered[0] ^= 0xff;
    std::fs::write(s3.object_path(&key(&sha256(&b))), &tampered).unwrap();
    let r = h.verify(&lead).await;
    assert_eq!(r.status.as_u16(), 409, "{}", r.body);
    let v = r.json();
    assert_eq!(
        v["altered"],
        json!([{"sha256": sha256(&b), "actual_sha256": sha256(&tampered)}])
    );
    assert_eq!(v["intact"], 1);
    // Delete the other one.
    std::fs::remove_file(s3.object_path(&key(&sha256(&a)))).unwrap();
    let r = h.verify(&lead).await;
    assert_eq!(r.status.as_u16(), 409);
    let v = r.json();
    assert_eq!(v["missing"], json!([sha256(&a)]));
    assert_eq!(v["intact"], 0);
    assert_problem(&h.download(&lead, "EV-1", 1, None).await, 409);
    assert!(h.staging_files().is_empty());
    h.finish().await;
}

// =====================================================================================
// 10. OpenAPI
// =====================================================================================

async fn the_openapi_document_lists_the_evidence_endpoints(backend: Backend) {
    let Some(h) = Harness::start(backend, LIMITS).await else {
        return;
    };
    let doc = send(h.http.get(h.url("/api/openapi.json"))).await;
    doc.expect(200);
    let doc = doc.json();
    // Paths are relative to the server URL, which carries the /api/v1 prefix.
    assert_eq!(doc["servers"][0]["url"], "/api/v1", "{}", doc["servers"]);
    let paths = doc["paths"].as_object().unwrap();
    for (p, methods) in [
        ("/evidence", &["get", "post"][..]),
        ("/evidence/{id}", &["get"]),
        ("/evidence/{id}/revisions", &["post"]),
        ("/evidence/{id}/files/{position}", &["get"]),
        ("/evidence/verify", &["get"]),
        ("/evidence/purge", &["post"]),
        ("/controls/{id}/evidence", &["get"]),
    ] {
        assert!(paths.contains_key(p), "OpenAPI lacks {p}");
        for m in methods {
            assert!(paths[p][m].is_object(), "OpenAPI lacks {m} {p}");
        }
    }
    for p in ["/evidence", "/evidence/{id}/revisions"] {
        let body = &paths[p]["post"]["requestBody"]["content"];
        assert!(
            body.get("multipart/form-data").is_some(),
            "{p} takes multipart: {body}"
        );
        assert!(paths[p]["post"]["responses"]["201"].is_object(), "{p}");
    }
    assert!(
        paths["/evidence"]["post"]["responses"]["413"].is_object(),
        "the size limit is documented"
    );
    for schema in [
        "EvidenceHistory",
        "Evidence",
        "EvidenceFile",
        "VaultReport",
        "PurgeReport",
    ] {
        assert!(
            doc["components"]["schemas"][schema].is_object(),
            "OpenAPI lacks the {schema} schema"
        );
    }
    // The document's paths really are served under /api/v1.
    let (_, lead) = h.lead().await;
    h.bearer(&lead, Method::GET, "/evidence", None)
        .await
        .expect(200);
    h.finish().await;
}
