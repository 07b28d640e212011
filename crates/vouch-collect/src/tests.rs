//! Detection, forcing and whole-file errors across the formats.
use crate::{ImportKind, detect, import};

const HR: &str = "Work Email,Full Name,Hire Date\nana@example.com,Ana Lima,2021-03-01\n";
const AWS: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date\n\
<root_account>,arn:aws:iam::123456789012:root,2019-04-01T09:00:00+00:00,not_supported,N/A,not_supported,not_supported,true,false,N/A,N/A,false,N/A,N/A\n";
const TRIVY: &str = r#"{"SchemaVersion": 2, "ArtifactName": "app", "Results": []}"#;
const GRYPE: &str = r#"{"matches": [], "source": {"type": "directory", "target": "."}, "descriptor": {"name": "grype"}}"#;
const SARIF: &str = r#"{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "Semgrep OSS"}}, "results": []}]}"#;
const GJSON: &str = r#"{"system": "okta", "resources": []}"#;
const GCSV: &str = "kind,key\nperson,ana@example.com\n";

fn samples() -> [(ImportKind, &'static str); 7] {
    [
        (ImportKind::HrRosterCsv, HR),
        (ImportKind::AwsCredentialReport, AWS),
        (ImportKind::TrivyJson, TRIVY),
        (ImportKind::GrypeJson, GRYPE),
        (ImportKind::Sarif, SARIF),
        (ImportKind::GenericJson, GJSON),
        (ImportKind::GenericCsv, GCSV),
    ]
}

#[test]
fn detect_recognises_each_kind_by_content() {
    for (kind, text) in samples() {
        assert_eq!(detect(text.as_bytes()), Some(kind), "{}", kind.label());
        let c = import(text.as_bytes(), None).unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        assert_eq!(c.kind, kind);
        let c = import(text.as_bytes(), Some(kind)).unwrap();
        assert_eq!(c.kind, kind);
    }
    // With a byte-order mark, as Excel writes CSV.
    let bom = [b"\xEF\xBB\xBF".as_slice(), HR.as_bytes()].concat();
    assert_eq!(detect(&bom), Some(ImportKind::HrRosterCsv));
    assert_eq!(
        import(&bom, None).unwrap().resources[0].key,
        "ana@example.com"
    );
    assert_eq!(detect(b"name,colour\nx,red\n"), None);
    assert_eq!(detect(br#"{"hello": "world"}"#), None);
    assert_eq!(detect(b"{\"SchemaVersion\": 2,"), None);
    assert_eq!(detect(b""), None);
}

#[test]
fn labels_and_identifiers() {
    assert_eq!(ImportKind::HrRosterCsv.label(), "HR roster CSV");
    assert_eq!(
        ImportKind::AwsCredentialReport.label(),
        "AWS IAM credential report"
    );
    assert_eq!(ImportKind::TrivyJson.label(), "Trivy JSON report");
    assert_eq!(ImportKind::GrypeJson.label(), "Grype JSON report");
    assert_eq!(ImportKind::Sarif.label(), "SARIF 2.1.0 log");
    assert_eq!(ImportKind::GenericJson.label(), "Vouch generic JSON");
    assert_eq!(ImportKind::GenericCsv.label(), "Vouch generic CSV");
    for k in ImportKind::ALL {
        assert_eq!(ImportKind::parse(k.as_str()), Some(k));
        assert_eq!(
            serde_json::to_value(k).unwrap(),
            serde_json::Value::from(k.as_str())
        );
    }
}

#[test]
fn forcing_the_wrong_kind_names_both() {
    let e = import(GRYPE.as_bytes(), Some(ImportKind::TrivyJson)).unwrap_err();
    assert_eq!(e.place, "file");
    assert_eq!(
        e.message,
        "this is a Grype JSON report, not a Trivy JSON report"
    );
    assert_eq!(
        e.to_string(),
        "file: this is a Grype JSON report, not a Trivy JSON report"
    );
    let e = import(AWS.as_bytes(), Some(ImportKind::HrRosterCsv)).unwrap_err();
    assert_eq!(
        e.message,
        "this is an AWS IAM credential report, not an HR roster CSV"
    );
    let e = import(HR.as_bytes(), Some(ImportKind::Sarif)).unwrap_err();
    assert_eq!(e.message, "this is an HR roster CSV, not a SARIF 2.1.0 log");
    // Every wrong pairing is refused.
    for (kind, text) in samples() {
        for forced in ImportKind::ALL.into_iter().filter(|f| *f != kind) {
            let e = import(text.as_bytes(), Some(forced)).unwrap_err();
            assert!(e.message.contains(forced.label()), "{e}");
        }
    }
}

#[test]
fn forcing_a_kind_on_unrecognised_content_says_what_is_missing() {
    let e = import(br#"{"Results": []}"#, Some(ImportKind::TrivyJson)).unwrap_err();
    assert_eq!(e.place, "$.SchemaVersion");
    let e = import(b"name,colour\nx,red\n", Some(ImportKind::HrRosterCsv)).unwrap_err();
    assert_eq!(e.place, "row 1");
    assert!(e.message.contains("no email column"));
    let e = import(b"name,colour\nx,red\n", Some(ImportKind::GrypeJson)).unwrap_err();
    assert_eq!(e.message, "this is not JSON, so not a Grype JSON report");
    let e = import(br#"{"a": 1}"#, Some(ImportKind::GenericCsv)).unwrap_err();
    assert_eq!(e.message, "this is JSON, not a Vouch generic CSV");
    let e = import(b"name,colour\nx,red\n", None).unwrap_err();
    assert!(e.message.contains("not a format Vouch recognises"), "{e}");
}

#[test]
fn truncated_json_names_line_and_column() {
    let text = "{\n  \"SchemaVersion\": 2,\n  \"Results\": [\n    {\"Target\": \"x\", ";
    let e = import(text.as_bytes(), None).unwrap_err();
    assert_eq!(e.place, "line 4, column 20");
    assert!(e.message.contains("truncated"), "{e}");
    let e = import(b"{\"a\": 1,,}", None).unwrap_err();
    assert_eq!(e.place, "line 1, column 9");
    assert!(e.message.starts_with("not valid JSON"), "{e}");
}

#[test]
fn empty_and_non_text_files_are_clear_errors() {
    for empty in [&b""[..], b"   \n\r\n", b"\xEF\xBB\xBF"] {
        let e = import(empty, None).unwrap_err();
        assert_eq!(e.to_string(), "file: the file is empty", "{empty:?}");
    }
    let e = import(b"PK\x03\x04xl/workbook.xml", None).unwrap_err();
    assert!(e.message.contains("XLSX"));
    let e = import(b"\x1F\x8B\x08\x00", None).unwrap_err();
    assert!(e.message.contains("gzip"));
    let e = import(b"email\nan\xFFa@x.com\n", None).unwrap_err();
    assert_eq!(e.place, "line 2");
    let e = import(b"email,name\n", None).unwrap();
    assert!(e.resources.is_empty());
    assert_eq!(e.warnings, vec!["the roster has no rows"]);
}

/// A small deterministic generator (no dependency, no clock).
fn lcg(seed: &mut u64) -> u8 {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (*seed >> 33) as u8
}

#[test]
fn garbage_never_panics() {
    let mut inputs: Vec<Vec<u8>> = vec![
        b"\0\0\0".to_vec(),
        b"{".to_vec(),
        b"[".to_vec(),
        b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[".repeat(20),
        b"null".to_vec(),
        b"[1, \"a\", null, {}]".to_vec(),
        b"{\"runs\": 5, \"version\": \"2.1.0\"}".to_vec(),
        b"{\"runs\": [{\"tool\": 1}], \"version\": \"2.1.0\"}".to_vec(),
        b"{\"matches\": [1, {\"vulnerability\": []}], \"source\": {}}".to_vec(),
        b"{\"SchemaVersion\": \"2\", \"Results\": {}}".to_vec(),
        b"[{\"Target\": \"x\", \"Vulnerabilities\": [{}]}]".to_vec(),
        b"{\"system\": 3, \"resources\": [null]}".to_vec(),
        b"kind,key\n\"unterminated".to_vec(),
        b"email\n\xC3\n".to_vec(),
        "email,start_date\na@x.com,2024-0é-01\n".as_bytes().to_vec(),
        "user,arn,password_enabled,mfa_active\né,arn:aws:iam::1:user/x,true,true\n"
            .as_bytes()
            .to_vec(),
    ];
    let mut seed = 42;
    for len in [1, 7, 64, 512, 4096] {
        for _ in 0..20 {
            inputs.push((0..len).map(|_| lcg(&mut seed)).collect());
        }
    }
    // Printable noise that reaches the CSV and JSON readers.
    let alphabet = b"{}[]\":,;\n\r\t abc123-_.@#/\\\xC3\xA9";
    for len in [5, 50, 500] {
        for _ in 0..50 {
            inputs.push(
                (0..len)
                    .map(|_| alphabet[lcg(&mut seed) as usize % alphabet.len()])
                    .collect(),
            );
        }
    }
    // Each sample cut at every length: truncated files.
    for (_, text) in samples() {
        for n in 0..text.len() {
            inputs.push(text.as_bytes()[..n].to_vec());
        }
    }
    for input in &inputs {
        let _ = detect(input);
        for forced in std::iter::once(None).chain(ImportKind::ALL.map(Some)) {
            if let Err(e) = import(input, forced) {
                assert!(!e.place.is_empty() && !e.message.is_empty());
            }
        }
    }
}
