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
const GITHUB: &str = r#"{"vouch_capture": 1, "system": "github", "captures": [
  {"request": "GET /orgs/acme/members?per_page=100", "fetched_at": "2026-11-23T06:00:00Z", "status": 200, "body": [{"login": "ana"}]},
  {"request": "GET /orgs/acme/members?filter=2fa_disabled", "fetched_at": "2026-11-23T06:00:00Z", "status": 200, "body": []},
  {"request": "GET /repos/acme/api/pulls?state=closed", "fetched_at": "2026-11-23T06:00:00Z", "status": 200,
   "body": [{"number": 1, "user": {"login": "ana"}, "merged_at": null, "base": {"ref": "main", "repo": {"full_name": "acme/api"}}}]}
]}"#;
const OKTA: &str = r#"[{"id": "00u1", "status": "ACTIVE", "profile": {"login": "ana@example.com", "email": "ana@example.com"}}]"#;
const GOOGLE: &str = r#"{"kind": "admin#directory#users", "users": [{"primaryEmail": "ana@example.com", "isAdmin": false, "isEnrolledIn2Sv": true}]}"#;
const PROWLER: &str = r#"[{"class_uid": 2004, "status_code": "FAIL", "severity": "High", "finding_info": {"uid": "prowler-aws-x-1-eu-west-1-r"}, "metadata": {"event_code": "x", "product": {"name": "Prowler"}}}]"#;
const OSQUERY: &str = "{\"name\": \"pack/vouch/firewall\", \"hostIdentifier\": \"h1\", \"unixTime\": 1795413600, \"snapshot\": [{\"x\": 1}], \"action\": \"snapshot\"}\n{\"name\": \"disk\", \"hostIdentifier\": \"h1\", \"unixTime\": 1795413600, \"columns\": {}, \"action\": \"removed\"}\n";
const FLEET: &str = r#"{"host": {"hostname": "h1", "hardware_serial": "S1", "seen_time": "2026-11-23T06:00:00Z", "policies": [{"name": "p", "response": "pass"}]}}"#;

fn samples() -> [(ImportKind, &'static str); 13] {
    [
        (ImportKind::HrRosterCsv, HR),
        (ImportKind::AwsCredentialReport, AWS),
        (ImportKind::TrivyJson, TRIVY),
        (ImportKind::GrypeJson, GRYPE),
        (ImportKind::Sarif, SARIF),
        (ImportKind::GenericJson, GJSON),
        (ImportKind::GenericCsv, GCSV),
        (ImportKind::GithubJson, GITHUB),
        (ImportKind::OktaJson, OKTA),
        (ImportKind::GoogleWorkspaceJson, GOOGLE),
        (ImportKind::ProwlerOcsf, PROWLER),
        (ImportKind::OsqueryResults, OSQUERY),
        (ImportKind::FleetJson, FLEET),
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
    assert_eq!(ImportKind::GithubJson.label(), "GitHub export");
    assert_eq!(ImportKind::OktaJson.label(), "Okta export");
    assert_eq!(
        ImportKind::GoogleWorkspaceJson.label(),
        "Google Workspace directory export"
    );
    assert_eq!(ImportKind::ProwlerOcsf.label(), "Prowler OCSF JSON");
    assert_eq!(ImportKind::OsqueryResults.label(), "osquery results log");
    assert_eq!(ImportKind::FleetJson.label(), "Fleet host export");
    assert_eq!(ImportKind::OktaJson.with_article(), "an Okta export");
    assert_eq!(
        ImportKind::OsqueryResults.with_article(),
        "an osquery results log"
    );
    assert_eq!(ImportKind::GithubJson.with_article(), "a GitHub export");
    for (k, s) in [
        (ImportKind::GithubJson, "github_json"),
        (ImportKind::OktaJson, "okta_json"),
        (ImportKind::GoogleWorkspaceJson, "google_workspace_json"),
        (ImportKind::ProwlerOcsf, "prowler_ocsf"),
        (ImportKind::OsqueryResults, "osquery_results"),
        (ImportKind::FleetJson, "fleet_json"),
    ] {
        assert_eq!(k.as_str(), s);
        assert_eq!(
            ImportKind::parse(&s.replace('_', "-").to_uppercase()),
            Some(k)
        );
    }
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
    // Recognisably nothing, forced as one of the new formats: the importer says what it needs.
    let e = import(br#"{"a": 1}"#, Some(ImportKind::GithubJson)).unwrap_err();
    assert_eq!(e.place, "file");
    assert!(e.message.contains("GitHub capture bundle"), "{e}");
    let e = import(br#"{"a": 1}"#, Some(ImportKind::OktaJson)).unwrap_err();
    assert!(e.message.contains("Okta capture bundle"), "{e}");
    let e = import(br#"[{"a": 1}]"#, Some(ImportKind::OktaJson)).unwrap_err();
    assert_eq!(e.place, "$[0].profile");
    let e = import(br#"{"a": 1}"#, Some(ImportKind::ProwlerOcsf)).unwrap_err();
    assert_eq!(e.place, "file");
    let e = import(br#"{"a": 1}"#, Some(ImportKind::OsqueryResults)).unwrap_err();
    assert_eq!(e.place, "line 1, $.hostIdentifier");
    let e = import(b"name,colour\nx,red\n", Some(ImportKind::OsqueryResults)).unwrap_err();
    assert_eq!(e.message, "this is not JSON, so not an osquery results log");
    let e = import(br#"{"hosts": 5}"#, Some(ImportKind::FleetJson)).unwrap_err();
    assert_eq!(e.place, "$.hosts");
    // A capture bundle from a system without an uploaded-file importer.
    let aws = br#"{"vouch_capture": 1, "system": "aws", "captures": []}"#;
    assert_eq!(detect(aws), None);
}

#[test]
fn every_account_carries_the_linking_attributes() {
    for text in [GITHUB, OKTA, GOOGLE, AWS] {
        let c = import(text.as_bytes(), None).unwrap();
        let accounts: Vec<_> = c
            .resources
            .iter()
            .filter(|r| r.kind == vouch_domain::resource::ResourceKind::Account)
            .collect();
        assert!(!accounts.is_empty(), "{:?}", c.kind);
        for a in accounts {
            for name in ["username", "mfa"] {
                assert!(
                    a.attrs.contains_key(name),
                    "{:?} {} lacks {name}",
                    c.kind,
                    a.key
                );
            }
            if c.kind != ImportKind::AwsCredentialReport {
                for name in ["active", "admin"] {
                    assert!(
                        a.attrs.contains_key(name),
                        "{:?} {} lacks {name}",
                        c.kind,
                        a.key
                    );
                }
                assert!(a.attrs["active"].is_boolean());
            }
        }
    }
    let okta = import(OKTA.as_bytes(), None).unwrap();
    assert_eq!(okta.resources[0].attrs["email"], "ana@example.com");
    let google = import(GOOGLE.as_bytes(), None).unwrap();
    assert_eq!(google.resources[0].attrs["email"], "ana@example.com");
    assert_eq!(google.resources[0].attrs["admin"], false);
    assert_eq!(google.resources[0].attrs["mfa"], true);
    let github = import(GITHUB.as_bytes(), None).unwrap();
    assert_eq!(github.resources[0].attrs["mfa"], true);
    assert_eq!(github.resources[0].attrs["admin"], serde_json::Value::Null);
    let aws = import(AWS.as_bytes(), None).unwrap();
    assert_eq!(aws.resources[0].attrs["username"], "<root_account>");
    assert_eq!(aws.resources[0].attrs["mfa"], true);
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
        // Right shapes, wrong contents, for the bundle, API and log importers.
        br#"{"vouch_capture": 1, "system": "github", "captures": [{"request": "GET /orgs/a/members", "status": 200, "body": {}}]}"#.to_vec(),
        br#"{"vouch_capture": 1, "system": "github", "captures": [{"request": "GET /repos/a/b/pulls/x/reviews", "status": 200, "body": [{"state": 5}]}, {"request": "GET", "status": 99999}]}"#.to_vec(),
        br#"{"vouch_capture": 1, "system": "github", "captures": [{"request": "GET /repos/a/b/branches//protection", "status": 200, "body": [1]}, {"request": "GET /%ZZ%", "status": 404}]}"#.to_vec(),
        br#"{"vouch_capture": 1, "system": "github", "captures": [{"request": "GET /repos/a/b/branches/m/protection", "status": 200, "body": {"required_pull_request_reviews": {"required_approving_review_count": -1}}}]}"#.to_vec(),
        br#"{"vouch_capture": 1, "system": "okta", "captures": [{"request": "GET /api/v1/users/1/factors", "status": 200, "body": [{"status": null}]}, 3]}"#.to_vec(),
        br#"{"vouch_capture": 1, "system": "google_workspace", "captures": [{"request": "GET /admin/directory/v1/users", "status": 200, "body": {"users": [{"primaryEmail": ""}]}}]}"#.to_vec(),
        br#"{"vouch_capture": 18446744073709551615, "system": null, "captures": null}"#.to_vec(),
        br#"[{"full_name": 1, "default_branch": null}]"#.to_vec(),
        br#"[{"number": -1, "merged_at": 3, "base": {"repo": {"full_name": []}}}]"#.to_vec(),
        br#"[{"class_uid": 2004, "metadata": {"product": {"name": "Prowler"}}, "resources": 3}]"#.to_vec(),
        br#"{"host": {"hostname": "h", "seen_time": 1, "policies": [{"name": "p", "response": 1}]}}"#.to_vec(),
        b"{\"hostIdentifier\": \"h\", \"name\": \"q\"}\n{\"hostIdentifier\": \"h\", \"name\": \"q\", \"calendarTime\": \"Mon Xyz 99 99:99:99 2026 UTC\", \"snapshot\": 1}\n".to_vec(),
        "{\"hostIdentifier\": \"h\", \"name\": \"q\", \"unixTime\": 9223372036854775807, \"snapshot\": []}\n{\"hostIdentifier\": \"é\"\n".as_bytes().to_vec(),
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
