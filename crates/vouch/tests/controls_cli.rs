//! `vouch controls`, `vouch scope` and `vouch readiness` on the demo company: real processes in
//! temporary folders, exit codes and `--json` output.
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_vouch");

fn vouch(dir: &Path, args: &[&str]) -> Output {
    let mut c = Command::new(BIN);
    c.arg("--data-dir").arg(dir).args(args).stdin(Stdio::null());
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("VOUCH_")) {
        c.env_remove(k);
    }
    c.output().expect("vouch runs")
}

fn ok_json(dir: &Path, args: &[&str]) -> Value {
    let out = vouch(dir, args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?} is not JSON: {e}"))
}

fn demo() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let out = vouch(d.path(), &["demo", "--no-serve"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    d
}

fn events(dir: &Path) -> i64 {
    ok_json(dir, &["--json", "audit-log", "verify"])["events"]
        .as_i64()
        .unwrap()
}

#[test]
fn the_demo_matrix_lists_exports_and_imports_back_unchanged() {
    let d = demo();
    let list = ok_json(d.path(), &["--json", "controls", "list"]);
    let list = list.as_array().unwrap();
    assert!(list.len() >= 100, "{}", list.len());
    let phy = list.iter().find(|c| c["id"] == "PHY-01").unwrap();
    assert_eq!(phy["status"], "not_applicable");
    assert!(phy["na_justification"].as_str().unwrap().contains("remote"));

    let csv = d.path().join("matrix.csv");
    ok_json(
        d.path(),
        &[
            "--json",
            "controls",
            "export",
            "--format",
            "csv",
            "--output",
            csv.to_str().unwrap(),
        ],
    );
    let text = std::fs::read_to_string(&csv).unwrap();
    let header = text
        .trim_start_matches('\u{feff}')
        .lines()
        .next()
        .unwrap()
        .to_string();
    assert!(
        header.starts_with("id,name,description,owner,frequency,nature,criteria,status"),
        "{header}"
    );
    assert_eq!(
        text.trim_start_matches('\u{feff}')
            .lines()
            .filter(|l| l.starts_with("IAM-"))
            .count(),
        13
    );

    let xlsx = d.path().join("matrix.xlsx");
    ok_json(
        d.path(),
        &[
            "--json",
            "controls",
            "export",
            "--format",
            "xlsx",
            "--output",
            xlsx.to_str().unwrap(),
        ],
    );
    let bytes = std::fs::read(&xlsx).unwrap();
    assert_eq!(&bytes[..2], b"PK", "an XLSX workbook is a ZIP file");

    let before = events(d.path());
    let sum = ok_json(
        d.path(),
        &["--json", "controls", "import", csv.to_str().unwrap()],
    );
    assert_eq!(sum["created"].as_array().unwrap().len(), 0);
    assert_eq!(sum["unchanged"].as_array().unwrap().len(), list.len());
    assert_eq!(
        events(d.path()),
        before,
        "an unchanged import writes nothing"
    );

    // Edit one row in the "spreadsheet" and import it back.
    let edited = text.replacen(
        "Multi-factor authentication",
        "Multi-factor authentication everywhere",
        1,
    );
    std::fs::write(&csv, edited).unwrap();
    let sum = ok_json(
        d.path(),
        &["--json", "controls", "import", csv.to_str().unwrap()],
    );
    assert_eq!(sum["updated"], serde_json::json!(["IAM-03"]));
    assert_eq!(events(d.path()), before + 1);
}

#[test]
fn a_bad_import_names_every_problem_and_imports_nothing() {
    let d = demo();
    let before = events(d.path());
    let count = ok_json(d.path(), &["--json", "controls", "list"])
        .as_array()
        .unwrap()
        .len();
    let f = d.path().join("bad.csv");
    std::fs::write(
        &f,
        "id,name,description,owner,frequency,nature,criteria\n\
         NEW-01,Good row,Fine,marcus.webb@lumenhealth.example,monthly,manual,CC6.1\n\
         NEW-02,Unknown criterion,x,,monthly,manual,CC42.1\n\
         NEW-01,Duplicate id,x,,monthly,manual,CC6.1\n\
         NEW-03,Unknown owner,x,ghost@lumenhealth.example,monthly,manual,CC6.1\n",
    )
    .unwrap();
    let out = vouch(
        d.path(),
        &["--json", "controls", "import", f.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors: Vec<String> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}: {}",
                e["field"].as_str().unwrap(),
                e["message"].as_str().unwrap()
            )
        })
        .collect();
    let all = errors.join("\n");
    assert!(
        all.contains("row 3, column criteria") && all.contains("CC42.1"),
        "{all}"
    );
    assert!(
        all.contains("row 4") && all.contains("NEW-01"),
        "duplicate id named: {all}"
    );
    assert_eq!(events(d.path()), before);
    assert_eq!(
        ok_json(d.path(), &["--json", "controls", "list"])
            .as_array()
            .unwrap()
            .len(),
        count
    );

    // The owner check comes after the file is well-formed: fix the rows, keep the ghost.
    std::fs::write(
        &f,
        "id,name,description,owner,frequency,nature,criteria\n\
         NEW-01,Good row,Fine,marcus.webb@lumenhealth.example,monthly,manual,CC6.1\n\
         NEW-03,Unknown owner,x,ghost@lumenhealth.example,monthly,manual,CC6.1\n",
    )
    .unwrap();
    let out = vouch(d.path(), &["controls", "import", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("row 3, column owner: there is no user ghost@lumenhealth.example"),
        "{err}"
    );
    assert_eq!(events(d.path()), before);

    // Not CSV at all.
    let notes = d.path().join("notes.csv");
    std::fs::write(&notes, [0u8, 159, 146, 150, 0, 1, 2, 3]).unwrap();
    let out = vouch(d.path(), &["controls", "import", notes.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("file:"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn readiness_and_scope_follow_the_categories_in_scope() {
    let d = demo();
    let r = ok_json(d.path(), &["--json", "readiness"]);
    assert_eq!(
        r["criteria"].as_array().unwrap().len(),
        38,
        "security + availability + confidentiality"
    );
    assert!(
        r["gaps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["kind"] == "control_without_owner" && g["control"] == "CHG-08")
    );

    let mut scope = ok_json(d.path(), &["--json", "scope", "show"]);
    scope["categories"] = serde_json::json!([]);
    let f = d.path().join("scope.json");
    std::fs::write(&f, scope.to_string()).unwrap();
    ok_json(d.path(), &["--json", "scope", "set", f.to_str().unwrap()]);
    let r = ok_json(d.path(), &["--json", "readiness"]);
    assert_eq!(r["criteria"].as_array().unwrap().len(), 33, "security only");

    // A period that ends before it starts is refused, and the scope is unchanged.
    scope["period_end"] = serde_json::json!("2025-01-01");
    std::fs::write(&f, scope.to_string()).unwrap();
    let out = vouch(d.path(), &["scope", "set", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("period_end"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        ok_json(d.path(), &["--json", "scope", "show"])["period_end"],
        "2026-11-30"
    );
}

#[test]
fn adopting_from_the_library_by_id_refuses_unknown_ids() {
    let d = tempfile::tempdir().unwrap();
    let out = vouch(d.path(), &["controls", "adopt", "IAM-03", "NOPE-99"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("NOPE-99"));
    let v = ok_json(
        d.path(),
        &["--json", "controls", "adopt", "IAM-03", "CHG-01"],
    );
    assert_eq!(v["adopted"], serde_json::json!(["IAM-03", "CHG-01"]));
    let v = ok_json(d.path(), &["--json", "controls", "adopt"]);
    assert_eq!(v["adopted"].as_array().unwrap().len(), 118);
}
